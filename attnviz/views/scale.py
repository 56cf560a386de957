"""Page 3, "Scale experiment": the SKNet analysis on the person's images, with cached analyses of
every zoomed copy, so moving the zoom slider computes only the new zoom."""
from __future__ import annotations

from typing import Sequence

from ..figures import scale as scale_figures
from ..profiles import Profile
from ..scale import ScaleSweep, zoom
from ..zoo import LoadedModel
from .cache import AnalysisCache, Progress
from .chart import Chart
from .inputs import DecodedImage

#: The SKNet paper's zoom factors.
FIXED_SCALES = (1.0, 1.5, 2.0)


def sweep_scales(extra: float | None) -> list[float]:
    """The fixed scales plus the slider's zoom, sorted, without duplicates."""
    scales = set(FIXED_SCALES)
    if extra is not None:
        scales.add(round(float(extra), 2))
    return sorted(scales)


def zoom_digest(digest: str, factor: float) -> str:
    """Cache key of an image enlarged by ``factor``."""
    return f"{digest}@zoom{factor:g}"


def cached_sweep(cache: AnalysisCache, loaded: LoadedModel, model_key: str,
                 images: Sequence[DecodedImage], scales: Sequence[float],
                 progress: Progress | None = None) -> ScaleSweep:
    """A ScaleSweep (as ``attnviz.scale.scale_sweep`` computes it) from cached analyses: only
    (image, zoom) pairs never seen before are zoomed and go through the model."""
    analyses = {}
    total = len(images) * len(scales)
    for i, s in enumerate(scales):
        keyed = [DecodedImage(name=im.name, digest=zoom_digest(im.digest, s), image=im.image) for im in images]
        # One bar over all zooms: this zoom's progress continues where the previous ones ended.
        report = (lambda done, _n, base=i * len(images): progress(base + done, total)) if progress else None
        analyses[s] = cache.analyse(loaded, model_key, keyed, progress=report,
                                    prepare=lambda image, s=s: zoom(image, s))
    return ScaleSweep(scales=list(scales), gates=list(loaded.gates), analyses=analyses)


def scale_charts(sweep: ScaleSweep, unit: str) -> list[Chart]:
    """b per channel of ``unit`` at each zoom, and the mean difference of every unit at each zoom."""
    n = len(next(iter(sweep.analyses.values())))
    over = "the image" if n == 1 else f"{n} images (mean)"
    weights = {s: sweep.path_weights(s, unit, 1) for s in sweep.scales}
    kind = next(g.kind for g in sweep.gates if g.name == unit)
    larger = "the 5×5 kernel" if kind == "sk" else "split 2"
    diffs = {s: sweep.mean_diff(s) for s in sweep.scales}
    return [
        Chart("scale_mean_difference", scale_figures.mean_difference_by_scale(
            diffs, title=f"Mean attention difference per unit at each zoom — {over}"),
            "SKNet (Sec. 4.3): as the object grows, the early and middle units move their attention "
            "toward the larger kernel, so their b − a rises with the zoom."),
        Chart(f"scale_channels_{unit}", scale_figures.channel_weights_by_scale(
            unit, weights, "b (5×5 weight)" if larger.endswith("kernel") else "split 2 weight",
            title=f"{unit}: attention on {larger} per channel, at each zoom — {over}")),
    ]


def profile_scale_chart(profile: Profile) -> Chart | None:
    """The same experiment over a whole dataset, from a profile computed at several scales."""
    multi = [g["name"] for g in profile.gates if g["paths"] >= 2]
    if len(profile.scales) < 2 or not multi:
        return None
    diffs = {}
    for si, scale in enumerate(profile.scales):
        diffs[scale] = {}
        for name in multi:
            overall = profile.overall_mean(name, si)
            diffs[scale][name] = float((overall[1] - overall[0]).mean())
    n = int(profile.counts(0).sum())
    return Chart("scale_mean_difference_dataset", scale_figures.mean_difference_by_scale(
        diffs, title=f"Mean attention difference per unit at each zoom — {n} images of "
                     f"{len(profile.class_names)} classes (saved profile)"))
