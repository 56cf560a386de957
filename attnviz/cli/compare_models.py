"""`attnviz compare-models`."""
from __future__ import annotations

import argparse
import json
import sys
from .common import print_table


def add_parser(sub: argparse._SubParsersAction) -> None:
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
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..runtime.devices import configure_cpu_threads
    from ..images.loading import load_images
    from ..analysis.model_comparison import check_model_names, compare_models
    from ..models.zoo import load_model

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
    print_table([{"image": image, **{m.name: f"{m.top[i][0].label} {m.top[i][0].prob:.1%}"
                                      for m in comparison.models}}
                  for i, image in enumerate(comparison.images)], ["image"] + [m.name for m in comparison.models])
    print()
    print("per stage: the compared value (s for SE/ECA, b for SK), mean over gates, channels and images")
    print_table([{"model": m.name, "stage": s.label, "depth": f"{s.depth:.2f}", "gates": len(s.gates),
                   "value": s.value, "mean": f"{s.mean:.4f}", "std": f"{s.std:.4f}"}
                  for m in comparison.models for s in m.stages],
                 ["model", "stage", "depth", "gates", "value", "mean", "std"])
    for (a, b), blocks in comparison.correlations.items():
        print()
        print(f"{a} vs {b}: Pearson r over channels of the excitation, per block")
        print_table([{"gate": c.gate, "depth": f"{c.depth:.2f}", "C": c.channels,
                       "r (image-mean s)": f"{c.r_mean_image:+.3f}", "mean r per image": f"{c.r_image_mean:+.3f}"}
                      for c in blocks], ["gate", "depth", "C", "r (image-mean s)", "mean r per image"])
    return 1 if refused else 0
