"""Class profiles: per scale x class x gate x path x channel statistics of gate values.

A profile answers "what does gate G do, on average, for class K?" - the SENet paper's
"role of excitation" figure and the SKNet paper's scale experiment are both views of one.
``Profile`` is the type (immutable: the app shares one profile between every session); its file
format, tensor names and the checks of a file are ``attnviz.profiles.file_format``'s. Arrays are
(S, K, P, C): S = scales, K = classes, P = paths (1 for SE), C = channels; B = histogram bins.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from collections.abc import Iterator, Mapping, Sequence
from typing import overload

import numpy as np

from ..errors import AttnvizError, GateNotFound, ScaleNotFound, StatisticsMissing
from ..gates import Gate
from ..i18n import _
from .file_format import (DEFAULT_BINS, MAX_BINS, MAX_CHANNELS, MAX_CLASS_NAME_CHARS,  # noqa: F401  (old homes)
                             MAX_CLASSES, MAX_GATES, MAX_HEADER_BYTES, MAX_NAME_CHARS, MAX_PATHS, MAX_SCALES,
                             READABLE_SCHEMAS, SCHEMA_VERSION, gate_from_info, read_profile_source, write_profile)


@overload
def read_only(array: np.ndarray) -> np.ndarray: ...
@overload
def read_only(array: None) -> None: ...
def read_only(array: np.ndarray | None) -> np.ndarray | None:
    """``array`` marked non-writeable (in place, no copy): a shared profile's numbers cannot be
    changed by one session under another's feet."""
    if array is not None:
        array.setflags(write=False)
    return array


def _frozen_arrays(arrays: Mapping[str, np.ndarray]) -> Mapping[str, np.ndarray]:
    return MappingProxyType({name: read_only(a) for name, a in arrays.items()})


@dataclass(frozen=True, eq=False)
class Profile:
    """Sufficient statistics of gate values, per scale x class x gate x path x channel.

    Immutable, as one profile is shared by every session of the app: the fields cannot be
    reassigned (``dataclasses.replace`` makes a changed copy), sequences are tuples, mappings are
    read-only views and every array is non-writeable. The constructor takes lists, dicts and
    gates as ``Gate.info()`` dicts too, and freezes them (the arrays in place, without a copy).
    """

    model: str
    class_names: tuple[str, ...]
    gates: tuple[Gate, ...]                 # depth order; ``Gate.kind`` says which path is compared
    scales: tuple[float, ...]
    count: np.ndarray                       # (S, K) int64
    means: Mapping[str, np.ndarray]         # gate -> (S, K, P, C) float64
    m2: Mapping[str, np.ndarray]            # gate -> (S, K, P, C) float64
    hists: Mapping[str, np.ndarray]         # gate -> (S, K, P, B) int64
    bin_edges: np.ndarray                   # (B + 1,)
    top1_correct: np.ndarray                # (S, K) int64
    data: str = ""
    weights_hash: str | None = None
    class_folders: tuple[str, ...] = ()
    labels_match: bool = False
    skipped: tuple[Mapping, ...] = ()       # {"file", "reason"} of files that could not be read
    created: str = ""
    extra: Mapping = field(default_factory=dict)
    channel_hists: Mapping[str, np.ndarray] = field(default_factory=dict)  # gate -> (S, K, P, C, B)
    pair_count: np.ndarray | None = None                                    # (S, S, K) int64
    pair_sum: Mapping[str, np.ndarray] = field(default_factory=dict)        # gate -> (S, S, K) float64
    pair_sumsq: Mapping[str, np.ndarray] = field(default_factory=dict)      # gate -> (S, S, K) float64
    #: Schema 2 (``attnviz profile --top-images K``): per gate, "top"/"bottom" -> (values, ids), each
    #: (P, C, K) at the first scale, best first; ``samples`` maps an id to (image path, class index).
    top_images: Mapping[str, Mapping[str, tuple[np.ndarray, np.ndarray]]] = field(default_factory=dict)
    samples: Mapping[int, tuple[str, int]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        def put(name: str, value: object) -> None:
            object.__setattr__(self, name, value)

        put("class_names", tuple(self.class_names))
        put("gates", tuple(gate_from_info(g, i) for i, g in enumerate(self.gates)))
        put("scales", tuple(float(s) for s in self.scales))
        put("class_folders", tuple(self.class_folders))
        put("skipped", tuple(MappingProxyType(dict(row)) for row in self.skipped))
        put("extra", MappingProxyType(dict(self.extra)))
        for name in ("count", "bin_edges", "top1_correct", "pair_count"):
            read_only(getattr(self, name))
        for name in ("means", "m2", "hists", "channel_hists", "pair_sum", "pair_sumsq"):
            put(name, _frozen_arrays(getattr(self, name)))
        put("top_images", MappingProxyType({
            gate: MappingProxyType({kind: (read_only(values), read_only(ids)) for kind, (values, ids) in lists.items()})
            for gate, lists in self.top_images.items()}))
        put("samples", MappingProxyType({int(k): (str(v[0]), int(v[1])) for k, v in self.samples.items()}))

    # ------------------------------------------------------------ views

    @property
    def gate_names(self) -> list[str]:
        return [g.name for g in self.gates]

    def gate(self, name: str) -> Gate:
        """The profile's gate ``name``; GateNotFound (a KeyError) names the profile's gates."""
        for g in self.gates:
            if g.name == name:
                return g
        raise GateNotFound(name, _("the profile of {model}").format(model=self.model), self.gate_names)

    def gate_info(self, name: str) -> Gate:
        """The profile's gate ``name`` (its older name, from when gates were dicts)."""
        return self.gate(name)

    def scale_index(self, scale: float) -> int:
        for i, s in enumerate(self.scales):
            if abs(s - scale) < 1e-6:
                return i
        raise ScaleNotFound(scale, _("the profile of {model}").format(model=self.model), self.scales)

    def counts(self, scale_index: int = 0) -> np.ndarray:
        """Images per class at one scale, (K,)."""
        return self.count[scale_index]

    def mean(self, gate: str, scale_index: int = 0) -> np.ndarray:
        """Class-mean gate values, (K, P, C)."""
        return self.means[gate][scale_index]

    def var(self, gate: str, scale_index: int = 0) -> np.ndarray:
        """Per-class population variance of the values, (K, P, C)."""
        n = self.count[scale_index][:, None, None]
        return np.where(n > 0, self.m2[gate][scale_index] / np.maximum(n, 1), np.nan)

    def std(self, gate: str, scale_index: int = 0) -> np.ndarray:
        return np.sqrt(self.var(gate, scale_index))

    @property
    def has_top_images(self) -> bool:
        return bool(self.top_images)

    def channel_images(self, gate: str, channel: int, path: int | None = None) -> dict[str, list[dict]]:
        """The images that give ``channel`` of ``gate`` its highest and lowest values (the path
        compared across classes by default): {"top": [...], "bottom": [...]}, each a list of
        {"image", "class", "value"}, best first."""
        if not self.top_images:
            raise AttnvizError(_("this profile of {model} keeps no top images (schema {schema}); make one with "
                                 "`attnviz profile ... --top-images 9`").format(
                model=self.model, schema=self.extra.get("schema", 1)))
        info = self.gate(gate)  # GateNotFound names the profile's gates
        if path is None:
            path = info.kind.compared_path(info.paths)
        if not 0 <= channel < info.channels:
            raise AttnvizError(_("{gate} has {channels} channels; choose a channel from 0 to {last}").format(
                gate=gate, channels=info.channels, last=info.channels - 1))
        out = {}
        for kind, (values, ids) in self.top_images.get(gate, {}).items():
            rows = []
            for value, sample in zip(values[path, channel], ids[path, channel], strict=True):
                if sample < 0:
                    continue
                image, label = self.samples[int(sample)]
                rows.append({"image": image, "class": self.class_names[label], "value": float(value)})
            out[kind] = rows
        return out

    def overall_mean(self, gate: str, scale_index: int = 0, classes: Sequence[int] | None = None) -> np.ndarray:
        """Mean over all images of ``classes`` (default: every class), each image counted once:
        the class means weighted by their counts, (P, C)."""
        chosen = slice(None) if classes is None else list(classes)
        n = self.count[scale_index][chosen].astype(np.float64)
        return (self.means[gate][scale_index][chosen] * n[:, None, None]).sum(axis=0) / max(n.sum(), 1)

    def hist(self, gate: str, scale_index: int = 0) -> np.ndarray:
        """Histogram of values per class and path, (K, P, B)."""
        return self.hists[gate][scale_index]

    def channel_hist(self, gate: str, scale_index: int = 0) -> np.ndarray:
        """Histogram of values per class, path and channel, (K, P, C, B); needs ``--channel-hist``."""
        if gate not in self.channel_hists:
            raise StatisticsMissing(_("the profile of {model} has no per-channel histograms; recompute it "
                                      "with `attnviz profile --channel-hist`").format(model=self.model))
        return self.channel_hists[gate][scale_index]

    def has_pairs(self, gate: str) -> bool:
        """Whether the profile holds the paired per-image changes of ``gate`` between scales
        (gates with two or more paths, in profiles made since attnviz stores them)."""
        return self.pair_count is not None and gate in self.pair_sum

    def paired_moments(self, gate: str, from_index: int, to_index: int,
                       classes: Sequence[int] | None = None) -> tuple[int, float, float]:
        """(n, sum d, sum d^2) over the images of ``classes`` (default: all) of the per-image change
        d = x(scale ``to_index``) - x(scale ``from_index``) of ``gate``'s mean attention difference
        x = mean_c(b - a); ``attnviz.analysis.statistics.paired_t_from_moments`` turns them into a paired test."""
        if not self.has_pairs(gate):
            raise StatisticsMissing(
                _("the profile of {model} holds no paired scale statistics for {gate}: only gates with two or "
                  "more paths have them").format(model=self.model, gate=repr(gate)) if self.pair_count is not None
                else _("the profile of {model} holds no paired scale statistics for {gate}: it was made before "
                       "attnviz stored them; recompute it with `attnviz profile DATA --scales ...`").format(
                    model=self.model, gate=repr(gate)))
        assert self.pair_count is not None  # has_pairs checked it
        k = slice(None) if classes is None else list(classes)
        return (int(self.pair_count[from_index, to_index][k].sum()),
                float(self.pair_sum[gate][from_index, to_index][k].sum()),
                float(self.pair_sumsq[gate][from_index, to_index][k].sum()))

    def accuracy(self, scale_index: int = 0) -> float | None:
        """Top-1 accuracy over all images at one scale, when class indices match the model's."""
        if not self.labels_match:
            return None
        n = int(self.count[scale_index].sum())
        return float(self.top1_correct[scale_index].sum()) / n if n else None

    # ------------------------------------------------------------ tidy table

    def to_rows(self) -> Iterator[dict]:
        """Yield dicts with columns scale,class,gate,kind,path,channel,count,mean,std."""
        for si, scale in enumerate(self.scales):
            for gate in self.gates:
                name = gate.name
                mean, std = self.mean(name, si), self.std(name, si)
                for k, cls in enumerate(self.class_names):
                    n = int(self.count[si, k])
                    if n == 0:
                        continue
                    for p in range(mean.shape[1]):
                        for c in range(mean.shape[2]):
                            yield {"scale": scale, "class": cls, "gate": name, "kind": gate.kind.name,
                                   "path": p, "channel": c, "count": n,
                                   "mean": float(mean[k, p, c]), "std": float(std[k, p, c])}

    def write_csv(self, path: str | Path) -> None:
        import csv

        columns = ["scale", "class", "gate", "kind", "path", "channel", "count", "mean", "std"]
        from ..runtime.atomic import atomic_path

        with atomic_path(path) as tmp, open(tmp, "w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=columns)
            writer.writeheader()
            for row in self.to_rows():
                writer.writerow({**row, "mean": f"{row['mean']:.6g}", "std": f"{row['std']:.6g}"})

    # ------------------------------------------------------------ file

    def save(self, path: str | Path) -> None:
        """Write the profile file (``profile_format.write_profile``)."""
        write_profile(self, path)


def load_profile(path: str | Path) -> Profile:
    """Read a profile written by ``Profile.save`` / ``attnviz profile``; a file that is not a
    valid profile (or declares more than the bounds above) raises AttnvizError naming it."""
    path = Path(path)
    if not path.is_file():
        raise AttnvizError(_("profile {file} does not exist").format(file=path))
    return read_profile_source(path, str(path))


# ---------------------------------------------------------------- profiles of a model


def bundled_profile_path(model_name: str) -> Path | None:
    """``assets/profiles/<model>.profile.safetensors`` when it ships with the model."""
    from ..models.zoo import bundled_dir

    path = bundled_dir().parent / "profiles" / f"{model_name}.profile.safetensors"
    return path if path.is_file() else None


def check_profile(profile: Profile, loaded, source: str) -> Profile:
    """The profile, if its gates are this model's (a ``LoadedModel``); otherwise a message
    saying what to do."""
    model_gates = {g.name: g.channels for g in loaded.gates}
    profile_gates = {g.name: g.channels for g in profile.gates}
    if not profile_gates or any(model_gates.get(n) != c for n, c in profile_gates.items()):
        raise AttnvizError(_(
            "{source} was made for model {profile_model}, whose gates do not match "
            "{model}'s; choose that model, or make a profile for {model} with "
            "`attnviz profile DATA --model {model}`").format(
            source=source, profile_model=repr(profile.model), model=loaded.name))
    return profile


def read_profile(path: str | Path, loaded) -> Profile:
    """A profile file checked against a loaded model."""
    return check_profile(load_profile(path), loaded, Path(path).name)


def profile_from_bytes(data: bytes, name: str, loaded) -> Profile:
    """A profile uploaded through the browser (safetensors: no code is unpickled), validated from
    its header before use and checked against a loaded model; messages name the upload."""
    return check_profile(read_profile_source(data, name), loaded, name)


def dataset_name(data: str) -> str:
    """What a profile's ``data`` field should show a person: the dataset's name (the last two
    parts of a path, e.g. 'imagenette-224/val'), never the path of the machine that made it."""
    parts = [p for p in str(data).replace("\\", "/").split("/") if p]
    return "/".join(parts[-2:]) if parts else str(data)
