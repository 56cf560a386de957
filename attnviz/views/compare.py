"""The Compare page's charts, from a class Profile: the role of excitation for the chosen blocks,
the class specificity of every block, the class similarity matrix of one block.

The numbers come from ``attnviz.class_stats``; the classes from a ``Profile`` (``attnviz.profiles``),
however it was made: a saved file (the bundled models ship one), labelled images, or folders of
class images.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..class_stats import PAPER_CHANNELS, block_class_means, similarity, specificity, value_label
from ..errors import AttnvizError
from ..figures import classes as class_figures
from ..profiles import Profile
from .chart import Chart


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
    label = value_label(first)
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
