"""Page 2, "Compare classes": blocks and channels to show, and the charts, from a class Profile.

The classes come from a ``Profile`` (``attnviz.profiles``), however it was made: from a saved
file (the bundled models ship one), from labelled images, or from a folder of class subfolders.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from ..errors import AttnvizError
from ..figures import classes as class_figures
from ..gates import Gate
from ..profiles import Profile, load_profile
from ..stats import class_specificity, cosine_similarity_matrix
from ..zoo import LoadedModel, bundled_dir
from .chart import Chart

#: The SENet paper plots 50 channels of each block, sampled uniformly.
PAPER_CHANNELS = 50


def bundled_profile_path(model_name: str) -> Path | None:
    """``assets/profiles/<model>.profile.safetensors`` when it ships with the model."""
    path = bundled_dir().parent / "profiles" / f"{model_name}.profile.safetensors"
    return path if path.is_file() else None


def check_profile(profile: Profile, loaded: LoadedModel, source: str) -> Profile:
    """The profile, if its gates are this model's; otherwise a message saying what to do."""
    model_gates = {g.name: g.channels for g in loaded.gates}
    profile_gates = {g["name"]: g["channels"] for g in profile.gates}
    if not profile_gates or any(model_gates.get(n) != c for n, c in profile_gates.items()):
        raise AttnvizError(
            f"{source} was made for model {profile.model!r}, whose gates do not match "
            f"{loaded.name}'s; choose that model, or make a profile for {loaded.name} with "
            f"`attnviz profile DATA --model {loaded.name}`")
    return profile


def read_profile(path: str | Path, loaded: LoadedModel) -> Profile:
    return check_profile(load_profile(path), loaded, Path(path).name)


def paper_default_blocks(gates: Sequence[Gate]) -> list[str]:
    """The SENet paper's choice: the last block of each stage, and every block of the last stage.

    Gates without a recognised stage fall back to the last gate.
    """
    staged = [g for g in gates if g.stage is not None]
    if not staged:
        return [gates[-1].name] if gates else []
    last_stage = max(g.stage for g in staged)
    chosen = []
    for g in staged:
        last_of_stage = g is [h for h in staged if h.stage == g.stage][-1]
        if last_of_stage or g.stage == last_stage:
            chosen.append(g.name)
    return chosen


def sampled_channels(channels: int, n: int = PAPER_CHANNELS) -> np.ndarray:
    """A fixed subset of n channels spread uniformly over 0..channels-1 (all when fewer)."""
    if channels <= n:
        return np.arange(channels)
    return np.unique(np.linspace(0, channels - 1, n).round().astype(int))


def default_path(gate: dict) -> int:
    """The value compared across classes: s for SE; b (the 5x5 path, or the last split) otherwise."""
    return gate["paths"] - 1


def value_label(gate: dict, path: int) -> str:
    if gate["paths"] == 1:
        return "excitation s"
    if gate["kind"] == "sk":
        return "b (5×5 weight)" if path == 1 else "a (3×3 weight)" if path == 0 else f"path {path + 1} weight"
    return f"split {path + 1} weight"


@dataclass
class CompareOptions:
    blocks: list[str]
    classes: list[int]               # indices into profile.class_names
    scale_index: int = 0
    band_class: int | None = None    # index into profile.class_names
    channels: int = PAPER_CHANNELS
    sort: bool = False               # order the sampled channels by their all-class mean
    similarity_block: str | None = None
    centred: bool = False            # similarity of class means minus the all-class mean


def present_classes(profile: Profile, scale_index: int = 0) -> list[int]:
    """Classes with at least one image at this scale."""
    return [k for k, n in enumerate(profile.counts(scale_index)) if n > 0]


def block_class_means(profile: Profile, gate: str, classes: Sequence[int], scale_index: int,
                      n_channels: int, sort: bool) -> class_figures.BlockClassMeans:
    info = profile.gate_info(gate)
    path = default_path(info)
    means = profile.mean(gate, scale_index)[list(classes), path]          # (K, C)
    stds = profile.std(gate, scale_index)[list(classes), path]
    overall = profile.overall_mean(gate, scale_index)[path]               # over every class
    channels = sampled_channels(means.shape[1], n_channels)
    if sort:
        channels = channels[np.argsort(-overall[channels], kind="stable")]
    return class_figures.BlockClassMeans(gate, channels, means[:, channels], stds[:, channels],
                                         overall[channels])


def specificity(profile: Profile, gate: str, classes: Sequence[int], scale_index: int) -> float:
    path = default_path(profile.gate_info(gate))
    means = profile.mean(gate, scale_index)[list(classes), path]
    return class_specificity(means, profile.counts(scale_index)[list(classes)])


def similarity(profile: Profile, gate: str, classes: Sequence[int], scale_index: int,
               centred: bool) -> np.ndarray:
    path = default_path(profile.gate_info(gate))
    means = profile.mean(gate, scale_index)[list(classes), path]
    if centred:
        means = means - profile.overall_mean(gate, scale_index)[path]
    return cosine_similarity_matrix(means)


def compare_charts(profile: Profile, options: CompareOptions) -> list[Chart]:
    """Role-of-excitation lines for the chosen blocks, specificity of every block, and the class
    similarity matrix of one block."""
    if not options.classes:
        raise AttnvizError("choose at least one class to compare")
    if not options.blocks:
        raise AttnvizError("choose at least one block")
    si = options.scale_index
    names = [profile.class_names[k] for k in options.classes]
    band = options.classes.index(options.band_class) if options.band_class in options.classes else None
    blocks = [block_class_means(profile, g, options.classes, si, options.channels, options.sort)
              for g in options.blocks]
    first = profile.gate_info(options.blocks[0])
    label = value_label(first, default_path(first))
    scale = f" (scale {profile.scales[si]:g}×)" if len(profile.scales) > 1 else ""
    charts = [Chart("role_of_excitation",
                    class_figures.role_of_excitation(blocks, names, band, label,
                                                     title=f"Role of excitation: class-mean {label} per block{scale}"),
                    f"Up to {options.channels} channels per block, sampled uniformly (the same for every "
                    "class); the dashed black line is the mean over all classes.")]
    gate_names = profile.gate_names
    scores = [specificity(profile, g, options.classes, si) for g in gate_names]
    charts.append(Chart("class_specificity", class_figures.specificity_bars(gate_names, scores),
                        "Share of the variance of the class means that lies between classes: near 0 "
                        "the block treats every class alike, higher values mean class-specific.",
                        wide=False))
    block = options.similarity_block or options.blocks[-1]
    matrix = similarity(profile, block, options.classes, si, options.centred)
    charts.append(Chart(f"class_similarity_{block}",
                        class_figures.similarity_matrix(names, matrix, block, options.centred), wide=False))
    return charts


def labelled_classes(labels: Sequence[str]) -> tuple[list[int], list[str]]:
    """Free-text labels (one per image) -> class indices and the sorted distinct class names."""
    cleaned = [str(label).strip() for label in labels]
    empty = [i for i, label in enumerate(cleaned) if not label]
    if empty:
        raise AttnvizError(f"image {empty[0] + 1} has no class label; give every image a label")
    names = sorted(set(cleaned))
    return [names.index(label) for label in cleaned], names


def profile_from_bytes(data: bytes, name: str, loaded: LoadedModel) -> Profile:
    """A profile uploaded through the browser (safetensors: no code is unpickled)."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / Path(name).name
        path.write_bytes(data)
        try:
            return read_profile(path, loaded)
        except AttnvizError as exc:  # name the upload, not the temporary copy
            raise AttnvizError(str(exc).replace(str(path), name)) from None
