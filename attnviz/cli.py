"""The ``attnviz`` command line."""
from __future__ import annotations

import argparse
import json
import sys
from typing import Any
from collections.abc import Sequence

from . import atomic
from .errors import AttnvizError
from .i18n import LANGUAGES


def _cmd_train(args: argparse.Namespace) -> int:
    from .train import TrainConfig, train

    cfg = TrainConfig(data=args.data, arch=args.arch, out=args.out, epochs=args.epochs,
                      batch_size=args.batch_size, lr=args.lr, weight_decay=args.weight_decay,
                      train_size=args.train_size, eval_size=args.eval_size, workers=args.workers,
                      threads=args.threads, seed=args.seed, device=args.device,
                      eval_every=args.eval_every, limit=args.limit)
    train(cfg)
    return 0


def _print_table(rows: list[dict], columns: list[str]) -> None:
    widths = {c: max([len(c), *(len(str(r.get(c, ""))) for r in rows)]) for c in columns}  # rows may be []
    print("  ".join(c.ljust(widths[c]) for c in columns))
    for r in rows:
        print("  ".join(str(r.get(c, "")).ljust(widths[c]) for c in columns))


def _cmd_models(args: argparse.Namespace) -> int:
    from .zoo import describe_zoo

    rows = describe_zoo(probe=not args.no_probe)
    if args.json:
        print(json.dumps(rows, indent=1))
        return 0
    table = []
    for r in rows:
        table.append({"name": r["name"], "attention": ",".join(r.get("kinds", [])) or "?",
                      "gates": r.get("gates", "?"),
                      "params": f"{r['params'] / 1e6:.1f}M" if r.get("params") else "?",
                      "weights": {"download": "needs download"}.get(r["weights"], r["weights"]),
                      "description": r["description"]})
    _print_table(table, ["name", "attention", "gates", "params", "weights", "description"])
    return 0


def _inspect_row(loaded, analysis, values: bool = False) -> dict:
    from .stats import gate_summary

    gates = [gate_summary(g, analysis.values[g.name]) for g in loaded.gates]
    if values:  # every value, so anyone can check a listed one against a fresh forward pass
        for row, g in zip(gates, loaded.gates, strict=True):
            row["values"] = [[round(float(v), 7) for v in path] for path in analysis.values[g.name]]
    return {"file": analysis.name, "ok": True, "top5": analysis.top(loaded.class_names, 5), "gates": gates}


def _load_model_arg(args: argparse.Namespace, device):
    """The model of --model (default: the bundled one) or --model-file FILE.py:FUNCTION."""
    from .zoo import default_model_name, load_model, load_model_file

    if getattr(args, "model_file", None):
        return load_model_file(args.model_file, weights=args.weights, device=device, amp=args.amp)
    name = args.model or default_model_name()
    if name is None:
        raise AttnvizError("no --model given and no bundled model is installed; pass --model NAME "
                           "(see `attnviz models`) or --model-file FILE.py:FUNCTION")
    return load_model(name, weights=args.weights, device=device, amp=args.amp, pretrained=not args.random_weights)


def _add_model_args(p: argparse.ArgumentParser) -> None:
    which = p.add_mutually_exclusive_group()
    which.add_argument("--model", help="model name (default: the bundled SE model)")
    which.add_argument("--model-file", metavar="FILE.py:FUNCTION",
                       help="your own network: imports FILE.py (runs its code) and calls FUNCTION(), "
                            "which returns an nn.Module; gates are found by what they compute")
    p.add_argument("--weights", help="local weights file (state dict) for a timm architecture or --model-file")


def _cmd_inspect(args: argparse.Namespace) -> int:
    from .devices import configure_cpu_threads
    from .images import load_images
    from .inference import analyse_images

    configure_cpu_threads()

    loaded = _load_model_arg(args, args.device)
    items = load_images((p, p) for p in args.images)
    good = [i for i in items if i.ok]
    analyses = iter(analyse_images(loaded, [i.require_image() for i in good], [i.name for i in good]))
    report: list[dict[str, Any]] = []
    for item in items:
        report.append({**_inspect_row(loaded, next(analyses), args.values),
                       **({"notes": list(item.notes)} if item.notes else {})} if item.ok
                      else {"file": item.name, "ok": False, "error": item.error})
    if args.json:
        print(json.dumps({"model": loaded.name, "device": loaded.device_label, "images": report}, indent=1))
    else:
        print(f"model {loaded.name} ({loaded.source}) on {loaded.device_label}, {len(loaded.gates)} gates")
        for row in report:
            print()
            if not row["ok"]:
                print(f"REFUSED {row['error']}")
                continue
            print(row["file"])
            for note in row.get("notes", ()):
                print(f"  note: {note}")
            for t in row["top5"]:
                print(f"  {t['prob']:7.2%}  {t['label']} ({t['index']})")
            table = []
            for g in row["gates"]:
                r = {"gate": g["name"], "kind": g["kind"], "C": g["channels"]}
                if g["paths"] == 1:
                    r.update(mean=f"{g['mean']:.3f}", std=f"{g['std']:.3f}", min=f"{g['min']:.3f}", max=f"{g['max']:.3f}")
                else:
                    r.update(mean_a=f"{g['mean_a']:.3f}", mean_b=f"{g['mean_b']:.3f}", **{"b-a": f"{g['mean_diff']:+.3f}"})
                table.append(r)
            cols = ["gate", "kind", "C"] + (["mean", "std", "min", "max"] if any("std" in r for r in table) else []) \
                + (["mean_a", "mean_b", "b-a"] if any("mean_a" in r for r in table) else [])
            _print_table(table, cols)
    bad = [r for r in report if not r["ok"]]
    for row in bad:
        if args.json:
            print(f"attnviz: {row['error']}", file=sys.stderr)
    return 1 if bad else 0


def _cmd_compare_models(args: argparse.Namespace) -> int:
    from .devices import configure_cpu_threads
    from .images import load_images
    from .model_comparison import check_model_names, compare_models
    from .zoo import load_model

    configure_cpu_threads()
    names = check_model_names(args.models.split(","))
    models = [load_model(name, device=args.device, pretrained=not args.random_weights) for name in names]
    items = load_images((p, p) for p in args.images)
    good = [i for i in items if i.ok]
    refused = [{"file": i.name, "ok": False, "error": i.error} for i in items if not i.ok]
    comparison = compare_models(models, [i.require_image() for i in good], [i.name for i in good]) if good else None
    if args.json:
        doc = comparison.to_json() if comparison is not None else {"images": [], "models": [], "correlations": []}
        print(json.dumps({**doc, "device": models[0].device_label, "refused": refused}, indent=1))
        for row in refused:
            print(f"attnviz: {row['error']}", file=sys.stderr)
        return 1 if refused else 0
    print("models " + ", ".join(f"{m.name} ({m.source}, {len(m.gates)} {'/'.join(k.name for k in m.kinds) or 'no'} "
                                f"gates)" for m in models) + f" on {models[0].device_label}")
    for row in refused:
        print(f"REFUSED {row['error']}")
    if comparison is None:
        return 1
    print()
    _print_table([{"image": image, **{m.name: f"{m.top[i][0]['label']} {m.top[i][0]['prob']:.1%}"
                                      for m in comparison.models}}
                  for i, image in enumerate(comparison.images)], ["image"] + [m.name for m in comparison.models])
    print()
    print("per stage: the compared value (s for SE/ECA, b for SK), mean over gates, channels and images")
    _print_table([{"model": m.name, "stage": s.label, "depth": f"{s.depth:.2f}", "gates": len(s.gates),
                   "value": s.value, "mean": f"{s.mean:.4f}", "std": f"{s.std:.4f}"}
                  for m in comparison.models for s in m.stages],
                 ["model", "stage", "depth", "gates", "value", "mean", "std"])
    for (a, b), blocks in comparison.correlations.items():
        print()
        print(f"{a} vs {b}: Pearson r over channels of the excitation, per block")
        _print_table([{"gate": c.gate, "depth": f"{c.depth:.2f}", "C": c.channels,
                       "r (image-mean s)": f"{c.r_mean_image:+.3f}", "mean r per image": f"{c.r_image_mean:+.3f}"}
                      for c in blocks], ["gate", "depth", "C", "r (image-mean s)", "mean r per image"])
    return 1 if refused else 0


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from .evaluate import evaluate_folder

    result = evaluate_folder(args.data, args.model, weights=args.weights, device=args.device,
                             batch_size=args.batch_size, workers=args.workers, limit=args.limit,
                             split=args.split)
    if args.json:
        print(json.dumps(result, indent=1))
        return 0
    print(f"{result['model']} on {result['data']} ({result['images']} images): "
          f"top-1 {result['top1']:.2%}  top-5 {result['top5']:.2%}")
    _print_table([{"class": c["class"], "images": c["images"], "top-1": f"{c['top1']:.2%}"}
                  for c in result["per_class"]], ["class", "images", "top-1"])
    return 0


def _cmd_profile(args: argparse.Namespace) -> int:
    from .devices import resolve_device
    from .profiling import distributed
    from .profiling.runner import check_scales, profile_dataset

    scales = check_scales([s for s in args.scales.split(",") if s.strip()])
    device = resolve_device(args.device)
    world = distributed.init_from_env(device)  # under torchrun: one process per GPU
    if args.random_weights or (args.model_file and not args.weights):
        import torch

        torch.manual_seed(0)  # every torchrun process (and every run) must build the same model
    try:
        loaded = _load_model_arg(args, distributed.device_for(world, device))
        profile = profile_dataset(
            loaded, args.data, args.out, labels_csv=args.labels, scales=scales,
            batch_size=args.batch_size, workers=args.workers, per_class_limit=args.per_class_limit,
            resume=args.resume, checkpoint_every=args.checkpoint_every, bins=args.bins,
            channel_hist=args.channel_hist, csv_out=args.csv, progress=not args.no_progress,
            top_images=args.top_images)
    finally:
        distributed.shutdown(world)
    # When no image at all can be read, profile_dataset raises (exit 2) before writing anything.
    if not world.is_main:
        return 0
    images = int(profile.count[0].sum())
    print(f"profiled {images} images of {len(profile.class_names)} classes at scales "
          f"{', '.join(f'{s:g}' for s in profile.scales)} with {profile.model} "
          f"({len(profile.gates)} gates) -> {args.out}" + (f" and {args.csv}" if args.csv else ""))
    for si, scale in enumerate(profile.scales):
        accuracy = profile.accuracy(si)
        if accuracy is not None:
            print(f"  top-1 accuracy at scale {scale:g}: {accuracy:.2%}")
    if not profile.skipped:
        return 0
    skipped = len(profile.skipped)  # unreadable files, and --labels rows that name no file
    print(f"attnviz: skipped {skipped} unreadable file{'s' if skipped != 1 else ''} of {images + skipped}; "
          f"the profile counts the other {images}:", file=sys.stderr)
    for item in profile.skipped:
        print(f"  {item['file']}: {item['reason']}" if item["file"] else f"  {item['reason']}",
              file=sys.stderr)
    return 1  # like `inspect`: the readable images were processed, some were refused


def _cmd_channel(args: argparse.Namespace) -> int:
    from .profiles import load_profile

    profile = load_profile(args.profile)
    listed = profile.channel_images(args.gate, args.channel, args.path)
    if args.json:
        print(json.dumps({"profile": profile.model, "data": profile.data, "gate": args.gate,
                          "channel": args.channel, **listed}, indent=1))
        return 0
    print(f"{args.gate} channel {args.channel} of {profile.model} over {profile.data}")
    for kind, title in (("top", "highest"), ("bottom", "lowest")):
        print(f"\n{title} values:")
        _print_table([{"value": f"{r['value']:.4f}", "class": r["class"], "image": r["image"]} for r in listed[kind]],
                     ["value", "class", "image"])
    return 0


def _cmd_class_stats(args: argparse.Namespace) -> int:
    from . import claims
    from .class_stats import MIN_IMAGES_PER_CLASS, class_dependence, compared_path, value_label
    from .profiles import load_profile

    profile = load_profile(args.profile)
    if args.classes:
        wanted = [c.strip() for c in args.classes.split(",") if c.strip()]
        unknown = [c for c in wanted if c not in profile.class_names]
        if unknown:
            raise AttnvizError(f"{args.profile} has no class {unknown[0]!r}; its classes are "
                               + ", ".join(profile.class_names))
        classes = [profile.class_names.index(c) for c in wanted]
    else:
        classes = None
    try:
        scale_index = profile.scale_index(args.scale)
    except KeyError as exc:
        raise AttnvizError(str(exc.args[0])) from None
    gates = list(profile.gates)
    deps = [class_dependence(profile, g.name, classes, scale_index) for g in gates]
    reading = claims.excitation_reading(profile, gates, classes, scale_index, deps)
    rows: list[dict[str, Any]] = []
    for g, d, verdict in zip(gates, deps, reading.verdicts.values(), strict=True):
        rows.append({"gate": d.gate, "kind": g.kind.name, "path": compared_path(g), "value": value_label(g),
                     **d.as_dict(), "verdict": verdict})
    trends: dict[str, dict[str, Any]]
    trends = {name: {"blocks": list(t.blocks), "rho": t.test.rho, "p": t.test.p, "n": t.n,
                     "exact": t.test.exact, "verdict": t.verdict}
              for name, t in (("eta_squared", reading.eta_trend), ("specificity", reading.specificity_trend))}
    saturation = [{"gate": s.gate, "share_at_least_0.9": s.share_high, "mean": s.mean, "saturated": s.saturated}
                  for s in reading.last_stage]
    if args.json:
        print(json.dumps({"profile": profile.model, "data": profile.data, "scale": profile.scales[scale_index],
                          "min_images_per_class": MIN_IMAGES_PER_CLASS, "gates": rows, "depth_trend": trends,
                          "last_stage_saturation": saturation}, indent=1, allow_nan=False,
                         default=lambda _value: None))
        return 0
    print(f"class statistics of {profile.model} over {profile.data or args.profile} "
          f"({deps[0].images} images, {deps[0].classes} classes, scale {profile.scales[scale_index]:g})")

    def _pair(v: list | None) -> str:
        return "-" if v is None or v[0] is None else f"{v[0]:.3f}-{v[1]:.3f}"

    _print_table([{"gate": r["gate"], "eta2": f"{r['eta_squared']:.3f}", "95% interval": _pair(r["eta_squared_interval"]),
                   "null (mean/q95)": f"{r['eta_squared_null'] or float('nan'):.4f}/{r['eta_squared_null_q95'] or float('nan'):.4f}",
                   "omega2": f"{r['omega_squared'] or float('nan'):.3f}",
                   "p": f"{r['p'] if r['p'] is not None else float('nan'):.2g}",
                   "specificity": f"{r['specificity']:.3f}", "spec. null q95": f"{r['specificity_null_q95'] or float('nan'):.4f}",
                   "verdict": claims.VERDICTS[r["verdict"]]} for r in rows],
                 ["gate", "eta2", "95% interval", "null (mean/q95)", "omega2", "p", "specificity", "spec. null q95",
                  "verdict"])
    for name, t in trends.items():
        print(f"{name} with depth over {t['n']} blocks before the last stage: rho = {t['rho']:+.2f}, "
              f"p = {t['p']:.2g} -> {claims.TRENDS[t['verdict']]}")
    for s in saturation:
        print(f"{s['gate']}: {s['share_at_least_0.9']:.1%} of values >= 0.9 -> "
              f"{'saturated' if s['saturated'] else 'not saturated'}")
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    try:
        from .views.report import explore_report
    except ImportError as exc:
        raise AttnvizError(f"`attnviz report` draws plotly charts, which need the app extra "
                           f"(pip install 'attnviz[app]'): {exc}") from None
    from pathlib import Path

    from .devices import configure_cpu_threads
    from .images import load_images
    from .inference import analyse_images

    configure_cpu_threads()
    loaded = _load_model_arg(args, args.device)
    items = load_images((Path(p).name, p) for p in args.images)
    good = [i for i in items if i.ok]
    for item in items:
        if not item.ok:
            print(f"attnviz: {item.error}", file=sys.stderr)
    if not good:
        raise AttnvizError("no image could be read; no report was written")
    analyses = analyse_images(loaded, [i.require_image() for i in good], [i.name for i in good])
    from .i18n import language

    with language(args.lang):  # the report's texts; this command's own messages stay English
        page = explore_report(loaded, [(i.name, i.require_image(), a, None)
                                       for i, a in zip(good, analyses, strict=True)])
    atomic.write_text(args.out, page)
    print(f"wrote {args.out} ({len(page.encode()) / 1e6:.1f} MB): {len(good)} image(s), model {loaded.name}")
    return 1 if len(good) < len(items) else 0


def _cmd_bundle(args: argparse.Namespace) -> int:
    import shlex

    from .bundle import package

    scales = [float(s) for s in args.scales.split(",")]
    package(args.run, args.name, args.description, args.data, default=args.default, scales=scales,
            batch_size=args.batch_size, workers=args.workers, device=args.device, notes=args.notes,
            per_class_limit=args.per_class_limit,
            command="attnviz " + " ".join(shlex.quote(a) for a in sys.argv[1:]))
    return 0


def _cmd_fetch_imagenette(args: argparse.Namespace) -> int:
    from .fetch import fetch_imagenette, report

    print(report(fetch_imagenette(args.root, args.size, download=not args.no_download)))
    return 0


def _add_train_parser(sub: argparse._SubParsersAction) -> None:
    """`attnviz train`."""
    p = sub.add_parser("train", help="train a bundled-size SE/SK/ResNeSt model on an ImageFolder dataset")
    p.add_argument("data", help="folder with train/ and val/ class subfolders")
    p.add_argument("--arch", required=True, help="se_resnet18_half, sk_resnet18_half or resnest_half")
    p.add_argument("--out", required=True, help="weights file to write (.safetensors)")
    p.add_argument("--epochs", type=int, default=16)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=0.1)
    p.add_argument("--weight-decay", type=float, default=5e-4)
    p.add_argument("--train-size", type=int, default=112)
    p.add_argument("--eval-size", type=int, default=128)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads (0 = torch's default)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="auto")
    p.add_argument("--eval-every", type=int, default=4)
    p.add_argument("--limit", type=int, default=0, help="train on only N images (smoke test)")
    p.set_defaults(func=_cmd_train)


def _add_models_parser(sub: argparse._SubParsersAction) -> None:
    """`attnviz models`."""
    p = sub.add_parser("models", help="list the zoo and whether each model's weights are available offline")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--no-probe", action="store_true",
                   help="skip building each architecture to count its gates and parameters")
    p.set_defaults(func=_cmd_models)


def _add_inspect_parser(sub: argparse._SubParsersAction) -> None:
    """`attnviz inspect`."""
    p = sub.add_parser("inspect", help="top-5 classes and per-gate attention summaries for images")
    p.add_argument("images", nargs="+", metavar="IMAGE")
    _add_model_args(p)
    p.add_argument("--device", default="auto", help="auto, cpu or cuda")
    p.add_argument("--amp", default="off", choices=["off", "bf16", "fp16"], help="autocast on CUDA")
    p.add_argument("--random-weights", action="store_true", help="random weights (offline testing)")
    p.add_argument("--json", action="store_true", help="print one JSON document")
    p.add_argument("--values", action="store_true",
                   help="with --json: every gate's full value vector per image (paths x channels)")
    p.set_defaults(func=_cmd_inspect)


def _add_channel_parser(sub: argparse._SubParsersAction) -> None:
    """`attnviz channel`."""
    p = sub.add_parser("channel", help="the images that excite one channel most and least (from a profile)",
                       description="List the images a profile made with --top-images kept for one gate and "
                                   "channel: the highest values first, then the lowest. Exit code 2 when "
                                   "the profile keeps no top images or the gate or channel does not exist.")
    p.add_argument("profile", help="a profile made with `attnviz profile ... --top-images K`")
    p.add_argument("--gate", required=True, help="gate name, e.g. SE_4_2")
    p.add_argument("--channel", required=True, type=int)
    p.add_argument("--path", type=int, default=None,
                   help="for SK / split attention: 0 = a (3x3), 1 = b (5x5; the default)")
    p.add_argument("--json", action="store_true", help="print one JSON document")
    p.set_defaults(func=_cmd_channel)


def _add_class_stats_parser(sub: argparse._SubParsersAction) -> None:
    """`attnviz class-stats`."""
    p = sub.add_parser("class-stats", help="how much every gate depends on the class (from a profile)",
                       description="Per gate of a profile, on the value compared across classes: eta squared "
                                   "(mean over channels of the one-way ANOVA's between-class share), its 95% "
                                   "parametric-bootstrap interval and its noise floor, omega squared, the "
                                   "F-test p-value (Bonferroni over channels), class specificity with its "
                                   "interval and noise floor, and the verdicts of attnviz.claims (class "
                                   "dependence, the depth trend, saturation).")
    p.add_argument("profile", help="a profile made with `attnviz profile`")
    p.add_argument("--classes", help="comma-separated class names (default: every class with images)")
    p.add_argument("--scale", type=float, default=1.0, help="zoom of the profile (default 1.0)")
    p.add_argument("--json", action="store_true", help="print one JSON document")
    p.set_defaults(func=_cmd_class_stats)


def _add_report_parser(sub: argparse._SubParsersAction) -> None:
    """`attnviz report`."""
    p = sub.add_parser("report", help="one offline HTML file with the images, top-5 and every chart (needs the app extra)")
    p.add_argument("images", nargs="+", metavar="IMAGE")
    _add_model_args(p)
    p.add_argument("--out", required=True, help="the HTML file to write")
    p.add_argument("--device", default="auto", help="auto, cpu or cuda")
    p.add_argument("--amp", default="off", choices=["off", "bf16", "fp16"], help="autocast on CUDA")
    p.add_argument("--random-weights", action="store_true", help="random weights (offline testing)")
    p.add_argument("--lang", choices=sorted(LANGUAGES), default=None,
                   help="the report's language: en, zh (简体中文) or ja (日本語); default ATTNVIZ_LANG, else en")
    p.set_defaults(func=_cmd_report)


def _add_compare_models_parser(sub: argparse._SubParsersAction) -> None:
    """`attnviz compare-models`."""
    p = sub.add_parser("compare-models", help="the same images through 2 or 3 models, aligned by relative depth",
                       description="Top-1 of each model per image and each model's per-stage attention (s for "
                                   "SE/ECA, b for SK) on a relative-depth axis; for two SE-like models of the "
                                   "same layout, the channel-wise correlation per block. Exit code: 0 ok; 1 "
                                   "when some image was refused; 2 for usage or model errors.")
    p.add_argument("images", nargs="+", metavar="IMAGE")
    p.add_argument("--models", default="se_resnet18_imagenette,sk_resnet18_imagenette",
                   help="2 or 3 model names, comma-separated (default: the bundled SE and SK models)")
    p.add_argument("--device", default="auto", help="auto, cpu or cuda")
    p.add_argument("--random-weights", action="store_true",
                   help="random weights for the timm models (offline testing); bundled models keep theirs")
    p.add_argument("--json", action="store_true", help="print one JSON document")
    p.set_defaults(func=_cmd_compare_models)


def _add_evaluate_parser(sub: argparse._SubParsersAction) -> None:
    """`attnviz evaluate`."""
    p = sub.add_parser("evaluate", help="top-1/top-5 and per-class accuracy on an ImageFolder split")
    p.add_argument("data", help="ImageFolder root (with val/) or a split folder of class subfolders")
    p.add_argument("--model", required=True)
    p.add_argument("--weights")
    p.add_argument("--split", default="val", help="subfolder to use when DATA has one (default val)")
    p.add_argument("--device", default="auto")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--limit", type=int, default=0, help="evaluate a fixed, evenly spaced subset of N images")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_cmd_evaluate)


def _add_bundle_parser(sub: argparse._SubParsersAction) -> None:
    """`attnviz bundle`."""
    p = sub.add_parser("bundle", help="package a trained run as a bundled model: weights, card, class profile")
    p.add_argument("run", help="weights written by `attnviz train` (its .json must sit beside it)")
    p.add_argument("--name", required=True, help="name in the zoo, e.g. se_resnet18_imagenette")
    p.add_argument("--description", required=True)
    p.add_argument("--data", required=True, help="ImageFolder root with val/ (evaluation and profile)")
    p.add_argument("--default", action="store_true", help="make it the app's and CLI's default model")
    p.add_argument("--scales", default="1.0", help="zooms for the profile, e.g. 1.0,1.5,2.0")
    p.add_argument("--notes", default="", help="anything the card should say about the training run")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--device", default="auto")
    p.add_argument("--per-class-limit", type=int, default=0, help="smoke runs: first N val images per class")
    p.set_defaults(func=_cmd_bundle)


def _add_profile_parser(sub: argparse._SubParsersAction) -> None:
    """`attnviz profile`."""
    p = sub.add_parser(
        "profile", help="class profiles: per-class statistics of every gate over a dataset",
        description="Stream a dataset through a model and write, per scale x class x gate x path x "
                    "channel, the count, mean and variance of the gate values, histograms and top-1 "
                    "accuracy. Unreadable images are skipped and listed. "
                    "Runs on many GPUs or machines with `torchrun --nproc_per_node N -m attnviz profile ...`. "
                    "Exit code: 0 when every image was profiled; 1 when some were skipped (the profile "
                    "holds the others); 2 for usage, model or data errors, including a dataset of which "
                    "no image can be read (then no file is written).")
    p.add_argument("data", help="folder of class subfolders (ImageNet wnid folders get ImageNet names), "
                                "or the folder that --labels' files are relative to")
    _add_model_args(p)
    p.add_argument("--out", required=True, help="profile file to write (.safetensors)")
    p.add_argument("--labels", metavar="CSV", help="CSV with a file,label header instead of class subfolders")
    p.add_argument("--csv", metavar="FILE", help="also write a tidy table: scale,class,gate,kind,path,channel,count,mean,std")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--workers", type=int, default=2, help="DataLoader worker processes (decoding)")
    p.add_argument("--device", default="auto", help="auto, cpu or cuda")
    p.add_argument("--amp", default="off", choices=["off", "bf16", "fp16"], help="autocast on CUDA")
    p.add_argument("--scales", default="1.0", help="zoom factors, comma-separated, e.g. 1.0,1.5,2.0")
    p.add_argument("--per-class-limit", type=int, default=0, metavar="N", help="first N images of each class (0 = all)")
    p.add_argument("--resume", action="store_true", help="continue an interrupted run from its checkpoint")
    p.add_argument("--checkpoint-every", type=int, default=20, metavar="BATCHES", help="0 = no checkpoints")
    p.add_argument("--bins", type=int, default=20, help="histogram bins over [0, 1]")
    p.add_argument("--channel-hist", action="store_true",
                   help="also keep one histogram per channel (C times larger: ~1 GB for ImageNet-1k on SE-ResNet-50)")
    p.add_argument("--top-images", type=int, default=0, metavar="K",
                   help="also keep, per gate and channel, the K images with the highest and the K with the "
                        "lowest value (see `attnviz channel`)")
    p.add_argument("--random-weights", action="store_true", help="random weights (offline testing)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_profile)


def _add_fetch_imagenette_parser(sub: argparse._SubParsersAction) -> None:
    """`attnviz fetch-imagenette`."""
    p = sub.add_parser(
        "fetch-imagenette", help="download Imagenette (torchvision) and make it the app's sample folder and data root",
        description="Download Imagenette through torchvision's datasets.Imagenette (skipped when ROOT already "
                    "holds it), copy one val photo per class into ROOT/attnviz-samples and write "
                    "ROOT/attnviz.env with ATTNVIZ_SAMPLES and ATTNVIZ_DATA_ROOT, the settings that make "
                    "them the app's sample folder and data root. Needs an internet connection unless ROOT "
                    "holds the archive or its unpacked folder.")
    p.add_argument("--root", default="~/attnviz-data", help="folder to download into (default: ~/attnviz-data)")
    p.add_argument("--size", default="160px", choices=["160px", "320px", "full"],
                   help="torchvision's image size (default: 160px, the smallest download)")
    p.add_argument("--no-download", action="store_true", help="use the copy in ROOT only; never download")
    p.set_defaults(func=_cmd_fetch_imagenette)


# One function per command, in the order `attnviz --help` lists them.
_COMMANDS = (
    _add_train_parser,
    _add_models_parser,
    _add_inspect_parser,
    _add_channel_parser,
    _add_class_stats_parser,
    _add_report_parser,
    _add_compare_models_parser,
    _add_evaluate_parser,
    _add_bundle_parser,
    _add_profile_parser,
    _add_fetch_imagenette_parser,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="attnviz", description="See channel attention (SE, SK, split attention) in CNNs.")
    sub = parser.add_subparsers(dest="command", required=True)
    for add_command in _COMMANDS:
        add_command(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)  # usage errors exit 2 with argparse's one-line message
    try:
        return args.func(args)
    except AttnvizError as exc:
        print(f"attnviz: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("attnviz: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `attnviz channel ... | head`: the reader left, nothing is wrong
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
        return 0


if __name__ == "__main__":
    sys.exit(main())
