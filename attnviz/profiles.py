"""Class profiles: per scale x class x gate x path x channel statistics of gate values.

A profile answers "what does gate G do, on average, for class K?" - the SENet paper's
"role of excitation" figure and the SKNet paper's scale experiment are both views of one.

File format (schema version 2; version 1 lacks only the top images): a single ``.safetensors`` file. Tensors, for every gate G:

* ``count``                 int64   (S, K)           images per scale x class
* ``mean/<G>``              float64 (S, K, P, C)     mean gate value per channel
* ``m2/<G>``                float64 (S, K, P, C)     sum of squared deviations (Welford's M2)
* ``hist/<G>``              int64   (S, K, P, B)     histogram of the values over channels and
                                                     images, with bins ``bin_edges`` over [0, 1]
* ``bin_edges``             float64 (B + 1,)
* ``top1_correct``          int64   (S, K)           images whose top-1 prediction was the class
                                                     (only meaningful when ``labels_match``)
* ``chist/<G>``  (optional) int64   (S, K, P, C, B)  per-channel histograms, only when the profile
                                                     was made with ``--channel-hist``: they are C
                                                     times larger (about 1 GB for ImageNet-1k on
                                                     SE-ResNet-50), so they are opt-in
* ``pair_count`` (optional) int64 (S, S, K)          images seen at both scales i and j, per
                                                     class; present when some gate has 2+ paths
* ``pair_sum/<G>``, ``pair_sumsq/<G>`` (optional)    float64 (S, S, K), for each gate with two or
                                                     more paths (SK, split attention): the sum and
                                                     sum of squares over the images of class k of
                                                     d = x_j - x_i, the change of the image's mean
                                                     attention difference x = mean_c(b - a) from
                                                     scale i to scale j - what a paired test of
                                                     the change needs (``paired_moments``).
                                                     Profiles made before attnviz stored them
                                                     load without them (``has_pairs`` is False)
* ``top_value/<G>``, ``top_index/<G>``, ``bottom_value/<G>``, ``bottom_index/<G>`` (optional,
  schema 2, ``--top-images K``): float32 / int64 (P, C, K), per path and channel the K highest
  (lowest) values at the first scale, best first, and the ids of their images (-1: empty slot)

and the header's ``__metadata__["attnviz_profile"]`` holds a JSON document with:
``schema`` (2), ``model``, ``weights_hash`` (sha256 of the weights file, or null), ``data``
(path), ``class_names``, ``class_folders``, ``gates`` (list of gate info dicts, depth order),
``scales``, ``labels_match`` (whether each class is also one of the model's outputs, so that
``top1_correct`` counts real hits),
``skipped`` (files that could not be read, with reasons), ``created``, free-form ``extra``, and
``samples`` (id -> [image path relative to the data, class index], for the ids the top images use).
S = scales, K = classes, P = paths (1 for SE), C = channels, B = bins.
Safetensors holds no pickled objects, so loading a profile from anywhere is safe.
"""
from __future__ import annotations

import datetime as _dt
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import AttnvizError, GateNotFound
from .i18n import _

#: Schema 2 adds the optional top images (``--top-images``); schema 1 profiles still load, and say
#: they lack them when asked.
SCHEMA_VERSION = 2
READABLE_SCHEMAS = (1, 2)
DEFAULT_BINS = 20


@dataclass
class Profile:
    """Sufficient statistics of gate values, per scale x class x gate x path x channel."""

    model: str
    class_names: list[str]
    gates: list[dict]
    scales: list[float]
    count: np.ndarray                       # (S, K) int64
    means: dict[str, np.ndarray]            # gate -> (S, K, P, C) float64
    m2: dict[str, np.ndarray]               # gate -> (S, K, P, C) float64
    hists: dict[str, np.ndarray]            # gate -> (S, K, P, B) int64
    bin_edges: np.ndarray                   # (B + 1,)
    top1_correct: np.ndarray                # (S, K) int64
    data: str = ""
    weights_hash: str | None = None
    class_folders: list[str] = field(default_factory=list)
    labels_match: bool = False
    skipped: list[dict] = field(default_factory=list)
    created: str = ""
    extra: dict = field(default_factory=dict)
    channel_hists: dict[str, np.ndarray] = field(default_factory=dict)  # gate -> (S, K, P, C, B)
    pair_count: np.ndarray | None = None                                 # (S, S, K) int64
    pair_sum: dict[str, np.ndarray] = field(default_factory=dict)        # gate -> (S, S, K) float64
    pair_sumsq: dict[str, np.ndarray] = field(default_factory=dict)      # gate -> (S, S, K) float64
    #: Schema 2 (``attnviz profile --top-images K``): per gate, "top"/"bottom" -> (values, ids), each
    #: (P, C, K) at the first scale, best first; ``samples`` maps an id to (image path, class index).
    top_images: dict[str, dict[str, tuple[np.ndarray, np.ndarray]]] = field(default_factory=dict)
    samples: dict[int, tuple[str, int]] = field(default_factory=dict)

    # ------------------------------------------------------------ views

    @property
    def gate_names(self) -> list[str]:
        return [g["name"] for g in self.gates]

    def gate_info(self, name: str) -> dict:
        for g in self.gates:
            if g["name"] == name:
                return g
        raise GateNotFound(name, _("the profile of {model}").format(model=self.model), self.gate_names)

    def scale_index(self, scale: float) -> int:
        for i, s in enumerate(self.scales):
            if abs(s - scale) < 1e-6:
                return i
        raise KeyError(f"profile has no scale {scale}; it has {self.scales}")

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
        info = self.gate_info(gate)  # GateNotFound names the profile's gates
        if path is None:
            from .gates import kind_named

            path = kind_named(info["kind"]).compared_path(info["paths"])
        if not 0 <= channel < info["channels"]:
            raise AttnvizError(_("{gate} has {channels} channels; choose a channel from 0 to {last}").format(
                gate=gate, channels=info["channels"], last=info["channels"] - 1))
        out = {}
        for kind, (values, ids) in self.top_images.get(gate, {}).items():
            rows = []
            for value, sample in zip(values[path, channel], ids[path, channel]):
                if sample < 0:
                    continue
                image, label = self.samples[int(sample)]
                rows.append({"image": image, "class": self.class_names[label], "value": float(value)})
            out[kind] = rows
        return out

    def overall_mean(self, gate: str, scale_index: int = 0, classes: list[int] | None = None) -> np.ndarray:
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
            raise KeyError(f"profile of {self.model} has no per-channel histograms; recompute it "
                           "with `attnviz profile --channel-hist`")
        return self.channel_hists[gate][scale_index]

    def has_pairs(self, gate: str) -> bool:
        """Whether the profile holds the paired per-image changes of ``gate`` between scales
        (gates with two or more paths, in profiles made since attnviz stores them)."""
        return self.pair_count is not None and gate in self.pair_sum

    def paired_moments(self, gate: str, from_index: int, to_index: int,
                       classes: list[int] | None = None) -> tuple[int, float, float]:
        """(n, sum d, sum d^2) over the images of ``classes`` (default: all) of the per-image change
        d = x(scale ``to_index``) - x(scale ``from_index``) of ``gate``'s mean attention difference
        x = mean_c(b - a); ``attnviz.stats.paired_t_from_moments`` turns them into a paired test."""
        if not self.has_pairs(gate):
            raise KeyError(f"profile of {self.model} holds no paired scale statistics for {gate!r}: "
                           + ("only gates with two or more paths have them" if self.pair_count is not None
                              else "it was made before attnviz stored them; recompute it with "
                                   "`attnviz profile DATA --scales ...`"))
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

    def to_rows(self):
        """Yield dicts with columns scale,class,gate,kind,path,channel,count,mean,std."""
        for si, scale in enumerate(self.scales):
            for gate in self.gates:
                name = gate["name"]
                mean, std = self.mean(name, si), self.std(name, si)
                for k, cls in enumerate(self.class_names):
                    n = int(self.count[si, k])
                    if n == 0:
                        continue
                    for p in range(mean.shape[1]):
                        for c in range(mean.shape[2]):
                            yield {"scale": scale, "class": cls, "gate": name, "kind": gate["kind"],
                                   "path": p, "channel": c, "count": n,
                                   "mean": float(mean[k, p, c]), "std": float(std[k, p, c])}

    def write_csv(self, path: str | Path) -> None:
        import csv

        columns = ["scale", "class", "gate", "kind", "path", "channel", "count", "mean", "std"]
        from .atomic import atomic_path

        with atomic_path(path) as tmp, open(tmp, "w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=columns)
            writer.writeheader()
            for row in self.to_rows():
                writer.writerow({**row, "mean": f"{row['mean']:.6g}", "std": f"{row['std']:.6g}"})

    # ------------------------------------------------------------ file

    def save(self, path: str | Path) -> None:
        from safetensors.numpy import save_file

        tensors = {"count": np.ascontiguousarray(self.count, dtype=np.int64),
                   "top1_correct": np.ascontiguousarray(self.top1_correct, dtype=np.int64),
                   "bin_edges": np.ascontiguousarray(self.bin_edges, dtype=np.float64)}
        for name in self.gate_names:
            tensors[f"mean/{name}"] = np.ascontiguousarray(self.means[name], dtype=np.float64)
            tensors[f"m2/{name}"] = np.ascontiguousarray(self.m2[name], dtype=np.float64)
            tensors[f"hist/{name}"] = np.ascontiguousarray(self.hists[name], dtype=np.int64)
            if name in self.channel_hists:
                tensors[f"chist/{name}"] = np.ascontiguousarray(self.channel_hists[name], dtype=np.int64)
        if self.pair_count is not None:
            tensors["pair_count"] = np.ascontiguousarray(self.pair_count, dtype=np.int64)
            for name, total in self.pair_sum.items():
                tensors[f"pair_sum/{name}"] = np.ascontiguousarray(total, dtype=np.float64)
                tensors[f"pair_sumsq/{name}"] = np.ascontiguousarray(self.pair_sumsq[name], dtype=np.float64)
        for name, lists in self.top_images.items():
            for kind, (values, ids) in lists.items():
                tensors[f"{kind}_value/{name}"] = np.ascontiguousarray(values, dtype=np.float32)
                tensors[f"{kind}_index/{name}"] = np.ascontiguousarray(ids, dtype=np.int64)
        meta = {"schema": SCHEMA_VERSION, "model": self.model, "weights_hash": self.weights_hash,
                "data": self.data, "class_names": self.class_names, "class_folders": self.class_folders,
                "gates": self.gates, "scales": self.scales, "labels_match": self.labels_match,
                "skipped": self.skipped,
                "created": self.created or _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
                "extra": self.extra, "samples": {str(k): list(v) for k, v in self.samples.items()}}
        from .atomic import atomic_path

        with atomic_path(path) as tmp:
            save_file(tensors, str(tmp), metadata={"attnviz_profile": json.dumps(meta)})


#: Bounds on what a profile may declare, checked from its header before any tensor is read (an
#: upload of 32 MB with 30 MB of class names once cost the server 2.4 GB and sent 164 MB to the
#: browser). ImageNet-21k fits: 21,841 names of at most 150 characters, 470 KB in all.
MAX_CLASSES = 100_000
MAX_NAME_CHARS = 256                 # a class, gate or model name
MAX_CLASS_NAME_CHARS = 4_000_000     # all class names together
MAX_GATES = 4096
MAX_CHANNELS = 65_536
MAX_PATHS = 64
MAX_SCALES = 64
MAX_BINS = 10_000
#: The JSON header with the metadata (names, samples, skipped files), refused before it is parsed;
#: the shipped profiles' are 104 and 132 KB, an ImageNet-1k one with top images about 3 MB.
MAX_HEADER_BYTES = 16 * 1024 * 1024


def _fail(source: str, what: str) -> AttnvizError:
    return AttnvizError(_("{file} is not a valid attnviz profile: {problem}; make it again with "
                          "`attnviz profile`").format(file=source, problem=what))


def _name(value, what: str, source: str) -> str:
    if not isinstance(value, str):
        raise _fail(source, _("{what} is not text").format(what=what))
    if len(value) > MAX_NAME_CHARS:
        raise _fail(source, _("{what} has {chars:,} characters, over the limit of {limit}").format(
            what=what, chars=len(value), limit=MAX_NAME_CHARS))
    return value


def _whole(value, least: int, most: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and least <= value <= most


def _check_meta(meta, source: str) -> dict:
    """The profile's JSON document, checked: its keys, types and sizes (never a KeyError later)."""
    if not isinstance(meta, dict):
        raise _fail(source, _("its metadata is not a JSON object"))
    if meta.get("schema") not in READABLE_SCHEMAS:
        raise AttnvizError(_("{file} has profile schema {schema}, this attnviz reads schemas {schemas}; "
                             "recompute it with `attnviz profile`").format(
            file=source, schema=repr(meta.get("schema"))[:40], schemas=", ".join(map(str, READABLE_SCHEMAS))))
    missing = [k for k in ("model", "class_names", "gates", "scales") if k not in meta]
    if missing:
        raise _fail(source, _("its metadata lacks {keys}").format(keys=", ".join(missing)))
    _name(meta["model"], _("the model name"), source)
    names = meta["class_names"]
    if not isinstance(names, list) or not 1 <= len(names) <= MAX_CLASSES:
        raise _fail(source, _("it must name 1 to {limit:,} classes").format(limit=MAX_CLASSES))
    for k, n in enumerate(names):
        _name(n, _("class name {index}").format(index=k), source)
    chars = sum(len(n) for n in names)
    if chars > MAX_CLASS_NAME_CHARS:
        raise _fail(source, _("its class names have {chars:,} characters in all, over the limit of "
                              "{limit:,}").format(chars=chars, limit=MAX_CLASS_NAME_CHARS))
    gates = meta["gates"]
    if not isinstance(gates, list) or not 1 <= len(gates) <= MAX_GATES:
        raise _fail(source, _("it must describe 1 to {limit:,} gates").format(limit=MAX_GATES))
    from .gates import kinds

    known = {k.name for k in kinds()}
    for g in gates:
        if not isinstance(g, dict) or not all(k in g for k in ("name", "kind", "channels", "paths")):
            raise _fail(source, _("a gate lacks its name, kind, channels or paths"))
        _name(g["name"], _("a gate name"), source)
        if g["kind"] not in known:
            raise _fail(source, _("gate {gate} has an unknown kind").format(gate=repr(g["name"])))
        if not _whole(g["channels"], 1, MAX_CHANNELS) or not _whole(g["paths"], 1, MAX_PATHS):
            raise _fail(source, _("gate {gate} must have 1 to {channels:,} channels and 1 to {paths} paths").format(
                gate=repr(g["name"]), channels=MAX_CHANNELS, paths=MAX_PATHS))
    if len({g["name"] for g in gates}) != len(gates):
        raise _fail(source, _("two gates have the same name"))
    scales = meta["scales"]
    if (not isinstance(scales, list) or not 1 <= len(scales) <= MAX_SCALES
            or not all(isinstance(x, (int, float)) and not isinstance(x, bool) and 0 < x < 100 for x in scales)):
        raise _fail(source, _("it must have 1 to {limit} scales, each a number above 0").format(limit=MAX_SCALES))
    for key, kind in (("data", str), ("weights_hash", (str, type(None))), ("class_folders", list),
                      ("skipped", list), ("created", str), ("extra", dict), ("samples", dict)):
        if key in meta and not isinstance(meta[key], kind):
            raise _fail(source, _("its {key} has the wrong type").format(key=key))
    if not all(isinstance(x, str) for x in meta.get("class_folders", [])):
        raise _fail(source, _("its class_folders are not text"))
    for k, v in meta.get("samples", {}).items():
        if (not isinstance(v, list) or len(v) != 2 or not isinstance(v[0], str) or len(v[0]) > 4096
                or not _whole(v[1], 0, len(names) - 1) or not k.lstrip("-").isdigit()):
            raise _fail(source, _("its sample {sample} is not [image, class index]").format(sample=repr(k)[:40]))
    return meta


def _check_tensors(meta: dict, tensors: dict, source: str) -> None:
    """Every tensor the profile needs, with the shape its gates and classes give it (``tensors``:
    name -> TensorInfo from the header, before any is read)."""
    from .tensorheader import FLOAT_DTYPES

    S, K = len(meta["scales"]), len(meta["class_names"])
    edges = tensors.get("bin_edges")
    if edges is None or len(edges.shape) != 1 or not 2 <= edges.shape[0] <= MAX_BINS + 1:
        raise _fail(source, _("its tensor {tensor} is missing or has the wrong shape").format(tensor="bin_edges"))
    B = edges.shape[0] - 1
    want = {"count": ((S, K), False), "top1_correct": ((S, K), False), "bin_edges": ((B + 1,), True)}
    optional = {}
    has_pairs = "pair_count" in tensors
    if has_pairs:
        want["pair_count"] = ((S, S, K), False)
    for g in meta["gates"]:
        n, P, C = g["name"], g["paths"], g["channels"]
        want.update({f"mean/{n}": ((S, K, P, C), True), f"m2/{n}": ((S, K, P, C), True),
                     f"hist/{n}": ((S, K, P, B), False)})
        optional.update({f"chist/{n}": ((S, K, P, C, B), False), f"pair_sum/{n}": ((S, S, K), True),
                         f"pair_sumsq/{n}": ((S, S, K), True)})
        if f"top_value/{n}" in tensors or f"bottom_value/{n}" in tensors:
            top = tensors.get(f"top_value/{n}")
            depth = top.shape[-1] if top is not None and len(top.shape) == 3 else -1
            for kind in ("top", "bottom"):
                want[f"{kind}_value/{n}"] = ((P, C, depth), True)
                want[f"{kind}_index/{n}"] = ((P, C, depth), False)
    for name, (shape, is_float) in want.items():
        info = tensors.get(name)
        if info is None or info.shape != shape or (info.dtype in FLOAT_DTYPES) != is_float:
            raise _fail(source, _("its tensor {tensor} is missing or has the wrong shape").format(tensor=name))
    for name, (shape, is_float) in optional.items():
        info = tensors.get(name)
        if info is not None and (info.shape != shape or (info.dtype in FLOAT_DTYPES) != is_float):
            raise _fail(source, _("its tensor {tensor} is missing or has the wrong shape").format(tensor=name))


def _profile(meta: dict, tensors: dict, source: str) -> Profile:
    names = [g["name"] for g in meta["gates"]]
    samples = {int(k): (v[0], int(v[1])) for k, v in meta.get("samples", {}).items()}
    top_images = {n: {kind: (tensors[f"{kind}_value/{n}"], tensors[f"{kind}_index/{n}"]) for kind in ("top", "bottom")}
                  for n in names if f"top_value/{n}" in tensors}
    for lists in top_images.values():
        for _values, ids in lists.values():
            if any(int(i) >= 0 and int(i) not in samples for i in np.unique(ids)):
                raise _fail(source, _("a top image refers to a sample it does not list"))
    return Profile(
        model=meta["model"], class_names=meta["class_names"], gates=meta["gates"],
        scales=[float(s) for s in meta["scales"]], count=tensors["count"],
        means={n: tensors[f"mean/{n}"] for n in names}, m2={n: tensors[f"m2/{n}"] for n in names},
        hists={n: tensors[f"hist/{n}"] for n in names}, bin_edges=tensors["bin_edges"],
        top1_correct=tensors["top1_correct"], data=meta.get("data", ""),
        weights_hash=meta.get("weights_hash"), class_folders=meta.get("class_folders", []),
        labels_match=bool(meta.get("labels_match")), skipped=meta.get("skipped", []),
        created=meta.get("created", ""), extra=meta.get("extra", {}),
        channel_hists={n: tensors[f"chist/{n}"] for n in names if f"chist/{n}" in tensors},
        pair_count=tensors.get("pair_count"),  # absent in profiles made before they were stored
        pair_sum={n: tensors[f"pair_sum/{n}"] for n in names if f"pair_sum/{n}" in tensors},
        pair_sumsq={n: tensors[f"pair_sumsq/{n}"] for n in names if f"pair_sumsq/{n}" in tensors},
        top_images=top_images, samples=samples)


def _read(source: Path | bytes, label: str) -> Profile:
    """A profile from a file or its bytes: the header checked (schema, keys, sizes, every tensor's
    shape against the gates and classes) before any tensor is read."""
    from .tensorheader import HeaderError, read_header

    try:
        header = read_header(source, MAX_HEADER_BYTES)
    except (HeaderError, OSError) as exc:
        raise AttnvizError(_("{file} is not an attnviz profile ({error})").format(file=label, error=exc)) from None
    if "attnviz_profile" not in header.metadata:
        raise AttnvizError(_("{file} is a safetensors file but not an attnviz profile").format(file=label))
    try:
        meta = json.loads(header.metadata["attnviz_profile"])
    except json.JSONDecodeError:
        raise _fail(label, _("its metadata is not valid JSON")) from None
    _check_tensors(_check_meta(meta, label), header.tensors, label)
    try:
        if isinstance(source, Path):
            from safetensors.numpy import load_file

            tensors = load_file(str(source))
        else:
            from safetensors.numpy import load

            tensors = load(bytes(source))
    except Exception as exc:  # safetensors raises its own error types
        raise AttnvizError(_("{file} is not an attnviz profile ({error})").format(file=label, error=exc)) from None
    return _profile(meta, tensors, label)


def load_profile(path: str | Path) -> Profile:
    """Read a profile written by ``Profile.save`` / ``attnviz profile``; a file that is not a
    valid profile (or declares more than the bounds above) raises AttnvizError naming it."""
    path = Path(path)
    if not path.is_file():
        raise AttnvizError(_("profile {file} does not exist").format(file=path))
    return _read(path, str(path))


# ---------------------------------------------------------------- profiles of a model


def bundled_profile_path(model_name: str) -> Path | None:
    """``assets/profiles/<model>.profile.safetensors`` when it ships with the model."""
    from .zoo import bundled_dir

    path = bundled_dir().parent / "profiles" / f"{model_name}.profile.safetensors"
    return path if path.is_file() else None


def check_profile(profile: Profile, loaded, source: str) -> Profile:
    """The profile, if its gates are this model's (a ``LoadedModel``); otherwise a message
    saying what to do."""
    model_gates = {g.name: g.channels for g in loaded.gates}
    profile_gates = {g["name"]: g["channels"] for g in profile.gates}
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
    return check_profile(_read(data, name), loaded, name)


def dataset_name(data: str) -> str:
    """What a profile's ``data`` field should show a person: the dataset's name (the last two
    parts of a path, e.g. 'imagenette-224/val'), never the path of the machine that made it."""
    parts = [p for p in str(data).replace("\\", "/").split("/") if p]
    return "/".join(parts[-2:]) if parts else str(data)
