"""Packaging a trained model as a bundled, offline model: weights, card, class profile.

``attnviz bundle runs/x.safetensors --name NAME`` copies the weights and their metadata into
``assets/models``, measures the model on the val split with ``attnviz.training.evaluate``, computes its
class profile over the whole val split with ``attnviz.profiles.builder`` (for SK models at the SKNet
paper's zooms 1.0x, 1.5x, 2.0x), summarises the attention (``attention_analysis``: every gate's
class dependence on the value its kind compares, from ``attnviz.profiles.class_stats.class_dependence`` -
the numbers the Compare page shows - with the verdicts of ``attnviz.analysis.claims``, and the mean
attention difference b - a of multi-path units per zoom) and writes a model card.
Everything in the card is measured here; nothing is typed in by hand. ``refresh_card`` redoes
the analysis and the card of a bundled model from its shipped profile.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path
from collections.abc import Callable, Sequence

import numpy as np

from ..analysis import claims
from ..profiles import class_stats
from ..runtime.atomic import write_text
from ..errors import AttnvizError
from .evaluate import evaluate_folder
from ..i18n import _
from ..profiles.profile import Profile
from ..models.zoo import bundled_dir, load_model


def mean_attention_difference(profile: Profile) -> dict[str, dict[str, float]]:
    """Per multi-path gate and scale: ``class_stats.mean_attention_difference`` over every image."""
    return {g.name: {f"{scale:g}": class_stats.mean_attention_difference(profile, g.name, si)
                     for si, scale in enumerate(profile.scales)}
            for g in class_stats.difference_gates(profile.gates)}


def attention_analysis(profile: Profile) -> dict:
    """The card's attention section: per gate, ``class_stats.class_dependence`` over every class
    at the first scale (on the compared path: s for SE and ECA, b for SK, the last split for split
    attention) with its verdict, the depth trends of eta squared and class specificity over the
    blocks before the last stage, the last stage's saturation, and the mean attention difference
    of multi-path gates."""
    deps = [class_stats.class_dependence(profile, g.name) for g in profile.gates]
    reading = claims.excitation_reading(profile, profile.gates, None, 0, deps)
    analysis: dict = {
        "profile_accuracy": profile.accuracy(0),
        "class_dependence": {d.gate: {**d.as_dict(), "path": class_stats.compared_path(g),
                                      "verdict": reading.verdicts[d.gate]}
                             for d, g in zip(deps, profile.gates, strict=True)},
        "depth_trend": {name: {"blocks": list(t.blocks), "rho": t.test.rho, "p": t.test.p, "n": t.n,
                               "exact": t.test.exact, "verdict": t.verdict}
                        for name, t in (("eta_squared", reading.eta_trend),
                                        ("specificity", reading.specificity_trend))},
        "last_stage_saturation": {x.gate: {"share_at_least_0.9": x.share_high, "mean": x.mean,
                                           "saturated": x.saturated} for x in reading.last_stage},
    }
    if class_stats.difference_gates(profile.gates):
        analysis["mean_attention_difference"] = mean_attention_difference(profile)
    return _finite(analysis)


def _finite(value):
    """The value with every nan or infinity replaced by None (JSON has neither)."""
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


#: The card's class-dependence section lies between these (invisible) lines, so that
#: ``refresh_card`` can replace it in a card that was edited by hand elsewhere.
DEPENDENCE_START, DEPENDENCE_END = "<!-- class dependence: attnviz.training.bundle -->", "<!-- /class dependence -->"


def _interval(pair) -> str:
    return "–" if not pair or pair[0] is None else f"{pair[0]:.3f}–{pair[1]:.3f}"


def _dependence_lines(analysis: dict) -> list[str]:
    deps = analysis["class_dependence"]
    lines = ["- How much each gate depends on the class (`attnviz class-stats`, the numbers of the Compare "
             "page), on the value its kind compares: η² is the mean over channels of the share of the "
             "image-to-image variation that the class explains (one-way ANOVA), with a 95 % basic bootstrap "
             "interval (parametric, from the class means and variances) and its noise floor (95th percentile "
             "by chance with these image counts); ω² is bias-corrected; p is the F-test of every channel, "
             "Bonferroni over the channels. Class specificity compares the class means only (the share of "
             "their spread over classes and channels that lies between classes; it ignores how single images "
             "vary). Verdicts as stated in `attnviz/analysis/claims.py`.",
             "",
             _table([[g, f"{d['eta_squared']:.3f}", _interval(d["eta_squared_interval"]),
                      f"{d['eta_squared_null_q95']:.4f}" if d["eta_squared_null_q95"] is not None else "–",
                      f"{d['omega_squared']:.3f}" if d["omega_squared"] is not None else "–",
                      f"{d['p']:.2g}" if d["p"] is not None else "–", f"{d['specificity']:.3f}",
                      f"{d['specificity_null_q95']:.4f}" if d["specificity_null_q95"] is not None else "–",
                      claims.VERDICTS[d["verdict"]]] for g, d in deps.items()],
                    ["gate", "η²", "95 % interval", "noise floor", "ω²", "p", "class specificity",
                     "its noise floor", "verdict"])]
    for name, label in (("eta_squared", "η²"), ("specificity", "Class specificity")):
        t = analysis["depth_trend"][name]
        if t["n"] >= 3 and t["rho"] is not None:
            lines += ["", f"- {label} with depth over the {t['n']} gates before the last stage "
                          f"({', '.join(t['blocks'])}): Spearman ρ = {t['rho']:+.2f}, p = {t['p']:.2g} "
                          f"({'exact' if t.get('exact') else 't approximation'}) — {claims.TRENDS[t['verdict']]}."]
    saturation = analysis.get("last_stage_saturation", {})
    if saturation:
        lines += ["", "- Last stage, share of values ≥ 0.9 (saturated when at least half): " + "; ".join(
            f"{g} {v['share_at_least_0.9']:.1%}{' (saturated)' if v['saturated'] else ''}"
            for g, v in saturation.items()) + "."]
    return lines


def _command(cmd: str) -> str:
    """Show a recorded command as a person would type it (argv[0] may be a path to __main__.py)."""
    head, _, rest = cmd.partition(" ")
    return f"attnviz {rest}" if head.endswith(("__main__.py", "/attnviz", "attnviz")) else cmd


def _table(rows: list[list], header: list[str]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def model_card(meta: dict) -> str:
    """Markdown model card from a bundled model's metadata (as written by ``package``)."""
    t = meta["training"]
    cfg = t["config"]
    ev = meta["evaluation"]
    lines = [
        f"# {meta['name']}",
        "",
        meta.get("description", ""),
        "",
        "## Architecture",
        f"- `{meta['arch']}` from `attnviz/models/architectures.py`: {meta.get('arch_doc', '')}",
        f"- Parameters: {meta['params']:,}; weights file: {meta['weights_bytes'] / 1e6:.1f} MB (fp16 safetensors).",
        f"- Attention gates: {len(meta['gates'])} ({', '.join(g['name'] for g in meta['gates'])}).",
        f"- Input: {meta['preprocessing']['input_size'][-1]} px, resize + centre crop (crop_pct "
        f"{meta['preprocessing']['crop_pct']}), ImageNet mean/std.",
        "",
        "## Data",
        f"- Imagenette (10 ImageNet-1k classes): {t['train_images']:,} training images, "
        f"{t['val_images']:,} validation images, from `{t['data']}`.",
        f"- Classes: {', '.join(meta['class_names'])}.",
        "- The images fall under ImageNet's terms (research and teaching only); they are not shipped.",
        "",
        "## Training",
        *[f"- Command{' (resumed)' if i else ''}: `{_command(c)}`"
          for i, c in enumerate(t.get("commands") or [t["command"]])],
        *[f"- The schedule was changed from {c['from_epochs']} to {c['to_epochs']} epochs when the run was "
          f"resumed after epoch {c['after_epoch']}; the cosine decay followed the new length from there."
          for c in t.get("schedule_changes", [])],
        f"- Recipe: {cfg['epochs']} epochs, batch {cfg['batch_size']}, SGD with Nesterov momentum 0.9, "
        f"peak lr {cfg['lr']} (linear warm-up {cfg['warmup_epochs']} epoch, cosine decay), weight decay "
        f"{cfg['weight_decay']} (not on BN/bias), label smoothing {cfg['label_smoothing']}, random-resized-crop "
        f"at {cfg['train_size']} px + flip + light colour jitter, seed {cfg['seed']}.",
        f"- Training epochs took {t['train_seconds'] / 60:.0f} minutes in all on {t['hardware']} with torch "
        f"{t['torch']} (evaluation passes not included).",
    ]
    if t.get("notes"):
        lines.append(f"- Notes: {t['notes']}")
    lines += ["", _table([[h["epoch"], f"{h['train_loss']:.3f}", f"{h['train_top1']:.1%}",
                           f"{h['val_top1']:.1%}" if "val_top1" in h else "", h["seconds"]]
                          for h in t["history"]],
                         ["epoch", "train loss", "train top-1", f"val top-1 ({cfg['eval_size']} px)", "seconds"]),
              "",
              "## Measured accuracy (validation split, the shipped fp16 weights)",
              f"- Command: `{ev['command']}`",
              f"- **Top-1 {ev['top1']:.2%}**, top-5 {ev['top5']:.2%} on {ev['images']:,} images.",
              "",
              _table([[c["class"], c["images"], f"{c['top1']:.1%}"] for c in ev["per_class"]],
                     ["class", "images", "top-1"]),
              "",
              "## Attention, measured on the whole validation split",
              f"- Class profile: `{meta['profile_file']}` (command: `{meta['profile_command']}`).",
              ]
    analysis = meta.get("analysis", {})
    if "class_dependence" in analysis:
        lines += [DEPENDENCE_START, *_dependence_lines(analysis), DEPENDENCE_END]
    if "mean_attention_difference" in analysis:
        diffs = analysis["mean_attention_difference"]
        scales = list(next(iter(diffs.values())).keys())
        lines += ["- Mean attention difference b − a (the unit's path b minus its path a, named as on the "
                  "Compare and Scale pages for its kind) per unit, at each zoom "
                  "(centre crop + resize):",
                  "",
                  _table([[g] + [f"{v[s]:+.4f}" for s in scales] for g, v in diffs.items()],
                         ["unit"] + [f"{s}×" for s in scales])]
    lines += ["", "## Intended use", "Teaching and exploring channel attention offline. Ten classes only: "
              "it is not an ImageNet classifier, and its attention is that of a small model trained briefly.", ""]
    return "\n".join(lines)


def package(run_weights: str | Path, name: str, description: str, data: str | Path,
            default: bool = False, scales: Sequence[float] = (1.0,), batch_size: int = 64,
            workers: int = 2, device: str = "auto", notes: str = "", command: str = "",
            per_class_limit: int = 0, log: Callable[[str], None] = print) -> dict:
    """Copy a training run into assets/, evaluate and profile it, write its card. Returns metadata.

    per_class_limit: use only the first N val images per class (smoke tests; 0 = the whole split).
    """
    from ..models.architectures import ARCHITECTURES
    from ..profiles.builder import profile_dataset

    run_weights = Path(run_weights)
    meta = json.loads(run_weights.with_suffix(".json").read_text())
    models = bundled_dir()
    models.mkdir(parents=True, exist_ok=True)
    weights = models / f"{name}.safetensors"
    shutil.copyfile(run_weights, weights)
    meta.update(name=name, description=description, default=default,
                weights_bytes=weights.stat().st_size,
                arch_doc=" ".join((ARCHITECTURES[meta["arch"]].__doc__ or "").split()))
    if notes:
        meta["training"]["notes"] = notes
    meta_path = weights.with_suffix(".json")
    write_text(meta_path, json.dumps(meta, indent=1))  # now loadable by name

    loaded = load_model(name, device=device)
    meta["gates"] = [g.info() for g in loaded.gates]
    log(f"evaluating {name} on {data}")
    ev = evaluate_folder(data, loaded, batch_size=batch_size, workers=workers,
                         per_class_limit=per_class_limit).to_dict()
    ev["command"] = f"attnviz evaluate {data} --model {name}"
    meta["evaluation"] = ev

    profile_path = bundled_dir().parent / "profiles" / f"{name}.profile.safetensors"
    val = Path(data) / "val" if (Path(data) / "val").is_dir() else Path(data)
    scale_arg = ",".join(f"{s:g}" for s in scales)
    log(f"profiling {name} on {val} at scales {scale_arg}")
    profile = profile_dataset(loaded, val, out=profile_path, scales=list(scales), batch_size=batch_size,
                              workers=workers, per_class_limit=per_class_limit)
    meta["profile_file"] = str(profile_path.relative_to(bundled_dir().parent.parent))
    meta["profile_command"] = (f"attnviz profile {val} --model {name} --out {meta['profile_file']}"
                               + (f" --scales {scale_arg}" if len(scales) > 1 else ""))
    meta["analysis"] = attention_analysis(profile)
    if command:
        meta["bundle_command"] = command
    write_text(meta_path, json.dumps(meta, indent=1))
    write_text(weights.with_suffix(".md"), model_card(meta))
    log(f"wrote {weights}, {meta_path}, {weights.with_suffix('.md')} and {profile_path}")
    return meta


def refresh_card(name: str) -> dict:
    """Redo a bundled model's attention analysis from its shipped profile: its metadata, and the
    class-dependence section of its card (between ``DEPENDENCE_START`` and ``DEPENDENCE_END``; the
    whole card when it has none). The evaluation and training records are kept as measured."""
    from ..profiles.profile import bundled_profile_path, load_profile

    meta_path = bundled_dir() / f"{name}.json"
    meta = json.loads(meta_path.read_text())
    profile_path = bundled_profile_path(name)
    if profile_path is None:
        raise AttnvizError(_("profile {file} does not exist").format(file=f"{name}.profile.safetensors"))
    profile = load_profile(profile_path)
    meta["analysis"] = attention_analysis(profile)
    write_text(meta_path, json.dumps(meta, indent=1))
    card_path = meta_path.with_suffix(".md")
    card = card_path.read_text() if card_path.is_file() else ""
    section = "\n".join([DEPENDENCE_START, *_dependence_lines(meta["analysis"]), DEPENDENCE_END])
    if DEPENDENCE_START in card and DEPENDENCE_END in card:
        head, rest = card.split(DEPENDENCE_START, 1)
        card = head + section + rest.split(DEPENDENCE_END, 1)[1]
    else:
        card = model_card(meta)
    write_text(card_path, card)
    return meta
