"""Packaging a trained model as a bundled, offline model: weights, card, class profile.

``attnviz bundle runs/x.safetensors --name NAME`` copies the weights and their metadata into
``assets/models``, measures the model on the val split with ``attnviz.evaluate``, computes its
class profile over the whole val split with ``attnviz.profiling`` (for SK models at the SKNet
paper's zooms 1.0x, 1.5x, 2.0x), summarises the attention (per-stage class specificity of SE
excitation, mean attention difference b - a of SK units per zoom) and writes a model card.
Everything in the card is measured here; nothing is typed in by hand.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from .evaluate import evaluate_folder
from .profiles import Profile
from .stats import class_specificity
from .zoo import bundled_dir, load_model


def stage_specificity(profile: Profile, scale_index: int = 0) -> dict[int, float]:
    """Mean class specificity (attnviz.stats.class_specificity) of the gates of each stage."""
    by_stage: dict[int, list[float]] = {}
    counts = profile.counts(scale_index)
    for gate in profile.gates:
        means = profile.mean(gate["name"], scale_index)[:, 0, :]  # (K, C) of path 0
        by_stage.setdefault(gate.get("stage") or 0, []).append(class_specificity(means, counts))
    return {stage: float(np.mean(v)) for stage, v in sorted(by_stage.items())}


def gate_specificity(profile: Profile, scale_index: int = 0) -> dict[str, float]:
    counts = profile.counts(scale_index)
    return {g["name"]: class_specificity(profile.mean(g["name"], scale_index)[:, 0, :], counts)
            for g in profile.gates}


def mean_attention_difference(profile: Profile) -> dict[str, dict[str, float]]:
    """Per multi-path gate and scale: mean over images and channels of b - a (path 1 - path 0)."""
    out: dict[str, dict[str, float]] = {}
    for gate in profile.gates:
        if gate["paths"] < 2:
            continue
        out[gate["name"]] = {}
        for si, scale in enumerate(profile.scales):
            overall = profile.overall_mean(gate["name"], si)  # (P, C)
            out[gate["name"]][f"{scale:g}"] = float((overall[1] - overall[0]).mean())
    return out


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
        f"- `{meta['arch']}` from `attnviz/architectures.py`: {meta.get('arch_doc', '')}",
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
    if "stage_specificity" in analysis:
        lines += ["- Class specificity per stage (share of the variance of class-mean excitations that lies "
                  "between classes; 0 = class-agnostic):",
                  "",
                  _table([[f"stage {s}", f"{v:.3f}"] for s, v in analysis["stage_specificity"].items()],
                         ["stage", "class specificity"])]
    if "mean_attention_difference" in analysis:
        diffs = analysis["mean_attention_difference"]
        scales = list(next(iter(diffs.values())).keys())
        lines += ["- Mean attention difference b − a (5×5 path minus 3×3 path) per unit, at each zoom "
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
    from .architectures import ARCHITECTURES
    from .profiling import profile_dataset

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
    meta_path.write_text(json.dumps(meta, indent=1))  # now loadable by name

    loaded = load_model(name, device=device)
    meta["gates"] = [g.info() for g in loaded.gates]
    log(f"evaluating {name} on {data}")
    ev = evaluate_folder(data, loaded, batch_size=batch_size, workers=workers,
                         per_class_limit=per_class_limit)
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
    analysis: dict = {"profile_accuracy": profile.accuracy(0)}
    if any(g["paths"] == 1 for g in profile.gates):
        analysis["stage_specificity"] = {str(k): v for k, v in stage_specificity(profile).items()}
        analysis["gate_specificity"] = gate_specificity(profile)
    if any(g["paths"] > 1 for g in profile.gates):
        analysis["mean_attention_difference"] = mean_attention_difference(profile)
    meta["analysis"] = analysis
    if command:
        meta["bundle_command"] = command
    meta_path.write_text(json.dumps(meta, indent=1))
    weights.with_suffix(".md").write_text(model_card(meta))
    log(f"wrote {weights}, {meta_path}, {weights.with_suffix('.md')} and {profile_path}")
    return meta
