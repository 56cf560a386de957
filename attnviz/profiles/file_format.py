"""The file format of a class profile (``attnviz.profiles.profile.Profile``): the one module that knows its
tensor names (``tensor_name``), writes it (``write_profile``) and reads it back, checked from
its header before any tensor is read (``read_profile_source``). ``profiles`` holds the type.

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
(path), ``class_names``, ``class_folders``, ``gates`` (list of ``Gate.info()`` dicts, depth order: name, kind, channels, paths, and
module, source, variant, stage, block, index, which older files may lack),
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
from pathlib import Path
from typing import TYPE_CHECKING
from collections.abc import Mapping

import numpy as np

from ..errors import AttnvizError
from ..gates import Gate, kind_named
from ..i18n import _

if TYPE_CHECKING:
    from .profile import Profile

#: Schema 2 adds the optional top images (``--top-images``); schema 1 profiles still load, and say
#: they lack them when asked.
SCHEMA_VERSION = 2
READABLE_SCHEMAS = (1, 2)
DEFAULT_BINS = 20

# ---------------------------------------------------------------- tensor names

COUNT, TOP1_CORRECT, BIN_EDGES, PAIR_COUNT = "count", "top1_correct", "bin_edges", "pair_count"
#: Per-gate quantities: their tensors are named ``tensor_name(quantity, gate)``.
MEAN, M2, HIST, CHANNEL_HIST, PAIR_SUM, PAIR_SUMSQ = "mean", "m2", "hist", "chist", "pair_sum", "pair_sumsq"
#: The two lists of top images (``--top-images``): the highest and the lowest values.
TOP_KINDS = ("top", "bottom")


def tensor_name(quantity: str, gate: str) -> str:
    """The name of one gate's tensor of ``quantity`` (MEAN, M2, ...): ``mean/SE_2_1``."""
    return f"{quantity}/{gate}"


def top_value_name(kind: str, gate: str) -> str:
    """The tensor of a gate's top (``kind`` "top") or bottom values: ``top_value/SE_2_1``."""
    return tensor_name(f"{kind}_value", gate)


def top_index_name(kind: str, gate: str) -> str:
    """The tensor of the image ids of a gate's top or bottom values: ``top_index/SE_2_1``."""
    return tensor_name(f"{kind}_index", gate)


# ---------------------------------------------------------------- gates


def gate_from_info(info: Mapping | Gate, index: int = 0) -> Gate:
    """A profile's gate from its ``Gate.info()`` dict (checked by the reader); the fields an older
    file lacks get neutral values (no module path, the kind's name as variant, no stage)."""
    if isinstance(info, Gate):
        return info
    return Gate(name=info["name"], module=info.get("module", ""), source=info.get("source", ""),
                kind=kind_named(info["kind"]), variant=info.get("variant") or info["kind"],
                channels=int(info["channels"]), paths=int(info["paths"]), stage=info.get("stage"),
                block=info.get("block"), index=int(info.get("index", index)))


# ---------------------------------------------------------------- writing


def profile_tensors(profile: Profile) -> dict[str, np.ndarray]:
    """Every tensor of the file, by name."""
    tensors = {COUNT: np.ascontiguousarray(profile.count, dtype=np.int64),
               TOP1_CORRECT: np.ascontiguousarray(profile.top1_correct, dtype=np.int64),
               BIN_EDGES: np.ascontiguousarray(profile.bin_edges, dtype=np.float64)}
    for name in profile.gate_names:
        tensors[tensor_name(MEAN, name)] = np.ascontiguousarray(profile.means[name], dtype=np.float64)
        tensors[tensor_name(M2, name)] = np.ascontiguousarray(profile.m2[name], dtype=np.float64)
        tensors[tensor_name(HIST, name)] = np.ascontiguousarray(profile.hists[name], dtype=np.int64)
        if name in profile.channel_hists:
            tensors[tensor_name(CHANNEL_HIST, name)] = np.ascontiguousarray(profile.channel_hists[name],
                                                                           dtype=np.int64)
    if profile.pair_count is not None:
        tensors[PAIR_COUNT] = np.ascontiguousarray(profile.pair_count, dtype=np.int64)
        for name, total in profile.pair_sum.items():
            tensors[tensor_name(PAIR_SUM, name)] = np.ascontiguousarray(total, dtype=np.float64)
            tensors[tensor_name(PAIR_SUMSQ, name)] = np.ascontiguousarray(profile.pair_sumsq[name], dtype=np.float64)
    for name, lists in profile.top_images.items():
        for kind, (values, ids) in lists.items():
            tensors[top_value_name(kind, name)] = np.ascontiguousarray(values, dtype=np.float32)
            tensors[top_index_name(kind, name)] = np.ascontiguousarray(ids, dtype=np.int64)
    return tensors


def _plain(value):
    """A JSON-ready copy: read-only mappings and tuples as dicts and lists."""
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def profile_metadata(profile: Profile) -> dict:
    """The header's JSON document."""
    return {"schema": SCHEMA_VERSION, "model": profile.model, "weights_hash": profile.weights_hash,
            "data": profile.data, "class_names": list(profile.class_names), "class_folders": list(profile.class_folders),
            "gates": [g.info() for g in profile.gates], "scales": list(profile.scales),
            "labels_match": profile.labels_match, "skipped": _plain(profile.skipped),
            "created": profile.created or _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "extra": _plain(profile.extra), "samples": {str(k): list(v) for k, v in profile.samples.items()}}


def write_profile(profile: Profile, path: str | Path) -> None:
    """Write ``profile`` to ``path`` (atomically: a complete file or none)."""
    from safetensors.numpy import save_file

    from ..runtime.atomic import atomic_path

    tensors, meta = profile_tensors(profile), profile_metadata(profile)
    with atomic_path(path) as tmp:
        save_file(tensors, str(tmp), metadata={"attnviz_profile": json.dumps(meta)})


# ---------------------------------------------------------------- reading

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
    _check_class_names(meta["class_names"], source)
    _check_gates(meta["gates"], source)
    _check_scales(meta["scales"], source)
    _check_optional_fields(meta, source)
    return meta


def _check_class_names(names, source: str) -> None:
    if not isinstance(names, list) or not 1 <= len(names) <= MAX_CLASSES:
        raise _fail(source, _("it must name 1 to {limit:,} classes").format(limit=MAX_CLASSES))
    for k, n in enumerate(names):
        _name(n, _("class name {index}").format(index=k), source)
    chars = sum(len(n) for n in names)
    if chars > MAX_CLASS_NAME_CHARS:
        raise _fail(source, _("its class names have {chars:,} characters in all, over the limit of "
                              "{limit:,}").format(chars=chars, limit=MAX_CLASS_NAME_CHARS))


def _check_gates(gates, source: str) -> None:
    if not isinstance(gates, list) or not 1 <= len(gates) <= MAX_GATES:
        raise _fail(source, _("it must describe 1 to {limit:,} gates").format(limit=MAX_GATES))
    from ..gates import kinds

    known = {k.name for k in kinds()}
    for g in gates:
        _check_gate(g, known, source)
    if len({g["name"] for g in gates}) != len(gates):
        raise _fail(source, _("two gates have the same name"))


def _check_gate(g, known: set[str], source: str) -> None:
    if not isinstance(g, dict) or not all(k in g for k in ("name", "kind", "channels", "paths")):
        raise _fail(source, _("a gate lacks its name, kind, channels or paths"))
    _name(g["name"], _("a gate name"), source)
    if g["kind"] not in known:
        raise _fail(source, _("gate {gate} has an unknown kind").format(gate=repr(g["name"])))
    if not _whole(g["channels"], 1, MAX_CHANNELS) or not _whole(g["paths"], 1, MAX_PATHS):
        raise _fail(source, _("gate {gate} must have 1 to {channels:,} channels and 1 to {paths} paths").format(
            gate=repr(g["name"]), channels=MAX_CHANNELS, paths=MAX_PATHS))
    if (not all(isinstance(g.get(k, ""), str) and len(g.get(k, "")) <= 4096 for k in ("module", "source", "variant"))
            or not all(g.get(k) is None or _whole(g[k], 0, MAX_GATES) for k in ("stage", "block", "index"))):
        raise _fail(source, _("gate {gate} has a field of the wrong type").format(gate=repr(g["name"])))


def _check_scales(scales, source: str) -> None:
    if (not isinstance(scales, list) or not 1 <= len(scales) <= MAX_SCALES
            or not all(isinstance(x, (int, float)) and not isinstance(x, bool) and 0 < x < 100 for x in scales)):
        raise _fail(source, _("it must have 1 to {limit} scales, each a number above 0").format(limit=MAX_SCALES))


def _check_optional_fields(meta: dict, source: str) -> None:
    """The keys a profile may lack (older files): the right type where present."""
    for key, kind in (("data", str), ("weights_hash", (str, type(None))), ("class_folders", list),
                      ("skipped", list), ("created", str), ("extra", dict), ("samples", dict)):
        if key in meta and not isinstance(meta[key], kind):
            raise _fail(source, _("its {key} has the wrong type").format(key=key))
    if not all(isinstance(x, str) for x in meta.get("class_folders", [])):
        raise _fail(source, _("its class_folders are not text"))
    classes = len(meta["class_names"])
    for k, v in meta.get("samples", {}).items():
        if (not isinstance(v, list) or len(v) != 2 or not isinstance(v[0], str) or len(v[0]) > 4096
                or not _whole(v[1], 0, classes - 1) or not k.lstrip("-").isdigit()):
            raise _fail(source, _("its sample {sample} is not [image, class index]").format(sample=repr(k)[:40]))


def _check_tensors(meta: dict, tensors: dict, source: str) -> None:
    """Every tensor the profile needs, with the shape its gates and classes give it (``tensors``:
    name -> TensorInfo from the header, before any is read)."""
    from ..runtime.tensorheader import FLOAT_DTYPES

    S, K = len(meta["scales"]), len(meta["class_names"])
    edges = tensors.get(BIN_EDGES)
    if edges is None or len(edges.shape) != 1 or not 2 <= edges.shape[0] <= MAX_BINS + 1:
        raise _fail(source, _("its tensor {tensor} is missing or has the wrong shape").format(tensor=BIN_EDGES))
    B = edges.shape[0] - 1
    want = {COUNT: ((S, K), False), TOP1_CORRECT: ((S, K), False), BIN_EDGES: ((B + 1,), True)}
    optional = {}
    if PAIR_COUNT in tensors:
        want[PAIR_COUNT] = ((S, S, K), False)
    for g in meta["gates"]:
        n, P, C = g["name"], g["paths"], g["channels"]
        want.update({tensor_name(MEAN, n): ((S, K, P, C), True), tensor_name(M2, n): ((S, K, P, C), True),
                     tensor_name(HIST, n): ((S, K, P, B), False)})
        optional.update({tensor_name(CHANNEL_HIST, n): ((S, K, P, C, B), False),
                         tensor_name(PAIR_SUM, n): ((S, S, K), True), tensor_name(PAIR_SUMSQ, n): ((S, S, K), True)})
        if any(top_value_name(kind, n) in tensors for kind in TOP_KINDS):
            top = tensors.get(top_value_name(TOP_KINDS[0], n))
            depth = top.shape[-1] if top is not None and len(top.shape) == 3 else -1
            for kind in TOP_KINDS:
                want[top_value_name(kind, n)] = ((P, C, depth), True)
                want[top_index_name(kind, n)] = ((P, C, depth), False)
    for name, (shape, is_float) in want.items():
        info = tensors.get(name)
        if info is None or info.shape != shape or (info.dtype in FLOAT_DTYPES) != is_float:
            raise _fail(source, _("its tensor {tensor} is missing or has the wrong shape").format(tensor=name))
    for name, (shape, is_float) in optional.items():
        info = tensors.get(name)
        if info is not None and (info.shape != shape or (info.dtype in FLOAT_DTYPES) != is_float):
            raise _fail(source, _("its tensor {tensor} is missing or has the wrong shape").format(tensor=name))


def per_gate(tensors: Mapping[str, object], quantity: str, names) -> dict:
    """gate -> its tensor of ``quantity``, for the gates ``names`` that have one."""
    return {n: tensors[tensor_name(quantity, n)] for n in names if tensor_name(quantity, n) in tensors}


def top_images_of(tensors: Mapping[str, object], names) -> dict:
    """gate -> {"top" | "bottom": (values, ids)}, for the gates that have top images."""
    return {n: {kind: (tensors[top_value_name(kind, n)], tensors[top_index_name(kind, n)]) for kind in TOP_KINDS}
            for n in names if top_value_name(TOP_KINDS[0], n) in tensors}


def profile_from(meta: dict, tensors: dict, source: str) -> Profile:
    """The Profile of a checked header's document and its tensors (by name)."""
    from .profile import Profile

    names = [g["name"] for g in meta["gates"]]
    samples = {int(k): (v[0], int(v[1])) for k, v in meta.get("samples", {}).items()}
    top_images = top_images_of(tensors, names)
    for lists in top_images.values():
        for _values, ids in lists.values():
            if any(int(i) >= 0 and int(i) not in samples for i in np.unique(ids)):
                raise _fail(source, _("a top image refers to a sample it does not list"))
    return Profile(
        model=meta["model"], class_names=meta["class_names"],
        gates=tuple(gate_from_info(g, i) for i, g in enumerate(meta["gates"])),
        scales=tuple(float(s) for s in meta["scales"]), count=tensors[COUNT],
        means=per_gate(tensors, MEAN, names), m2=per_gate(tensors, M2, names), hists=per_gate(tensors, HIST, names),
        bin_edges=tensors[BIN_EDGES], top1_correct=tensors[TOP1_CORRECT], data=meta.get("data", ""),
        weights_hash=meta.get("weights_hash"), class_folders=meta.get("class_folders", []),
        labels_match=bool(meta.get("labels_match")), skipped=meta.get("skipped", []),
        created=meta.get("created", ""), extra=meta.get("extra", {}),
        channel_hists=per_gate(tensors, CHANNEL_HIST, names),
        pair_count=tensors.get(PAIR_COUNT),  # absent in profiles made before they were stored
        pair_sum=per_gate(tensors, PAIR_SUM, names), pair_sumsq=per_gate(tensors, PAIR_SUMSQ, names),
        top_images=top_images, samples=samples)


def read_profile_source(source: Path | bytes, label: str) -> Profile:
    """A profile from a file or its bytes: the header checked (schema, keys, sizes, every tensor's
    shape against the gates and classes) before any tensor is read."""
    from ..runtime.tensorheader import HeaderError, read_header

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
    return profile_from(meta, tensors, label)
