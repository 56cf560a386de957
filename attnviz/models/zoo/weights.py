"""Weights files: a ``.safetensors`` file or a state-dict checkpoint, on disk or in memory (an
upload), read into a state dict and loaded into an architecture with clear errors.

A file is checked against the architecture before any module is built from it: the shape and
kind (float or integer) of every tensor, read from the safetensors header without reading the
tensors (a ``.pth`` must be unpickled, with ``weights_only``, to be seen), a bound on the class
count that the classifier's first dimension declares and a bound on the bytes the built model
would allocate. So an 80-byte file declaring ``fc.weight`` of shape (3000000, 0) is refused by
name at the cost of its header, not after a 24 GB classifier was built and initialised."""
from __future__ import annotations

import io
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from collections.abc import Mapping

import torch
import torch.nn as nn

from ..classes import imagenet_class_names
from ...errors import ModelLoadError
from ...i18n import _
from ...runtime.tensorheader import HeaderError, read_header

#: The most classes a weights file may declare (ImageNet-21k has 21,841): beyond it the classifier
#: alone would cost gigabytes, whatever the file holds.
MAX_CLASSES = 100_000
#: The most bytes a model built for a weights file may allocate (SENet-154: 460 MB in float32).
MAX_MODEL_BYTES = 2 * 1024 ** 3
#: The most a safetensors header of weights may be (SENet-154's: about 100 KB).
MAX_HEADER_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True)
class WeightsBlob:
    """A weights file held in memory (an upload): its name gives the format and names it in messages."""

    name: str
    data: bytes = field(repr=False)


@dataclass(frozen=True)
class TensorSpec:
    """What a tensor is without its values: its shape and whether it holds floats."""

    shape: tuple[int, ...]
    is_float: bool

    @property
    def numel(self) -> int:
        return math.prod(self.shape)


def specs_of(state: Mapping[str, torch.Tensor]) -> dict[str, TensorSpec]:
    """The specs of a state dict (a real one, or a model built on the ``meta`` device)."""
    return {k: TensorSpec(tuple(v.shape), v.is_floating_point()) for k, v in state.items()}


def _label(source: Path | WeightsBlob) -> str:
    return source.name if isinstance(source, WeightsBlob) else str(source)


def _unprefixed(names):
    return all(k.startswith("module.") for k in names) and len(names) > 0


class WeightsFile:
    """A weights file whose tensors are known (``specs``) before their values are read (``state``).

    For ``.safetensors`` the specs come from the header alone; a ``.pth`` is unpickled once (with
    ``weights_only``) and its state kept for ``state()``."""

    def __init__(self, source: str | Path | WeightsBlob) -> None:
        self.source = source if isinstance(source, WeightsBlob) else Path(source)
        self.label = _label(self.source)
        path = Path(self.source.name) if isinstance(self.source, WeightsBlob) else self.source
        if not isinstance(self.source, WeightsBlob) and not path.is_file():
            raise ModelLoadError(_("weights file {file} does not exist").format(file=path))
        self._state: dict[str, torch.Tensor] | None = None
        if path.suffix.lower() == ".safetensors":
            try:
                header = read_header(self.source.data if isinstance(self.source, WeightsBlob) else path,
                                     MAX_HEADER_BYTES)
            except (HeaderError, OSError) as exc:
                raise ModelLoadError(_("weights file {file} is not a valid safetensors file ({error})").format(
                    file=self.label, error=exc)) from None
            names = list(header.tensors)
            strip = len("module.") if _unprefixed(names) else 0
            self.specs = {k[strip:]: TensorSpec(t.shape, t.is_float) for k, t in header.tensors.items()}
        else:
            self._state = read_state_dict(self.source)
            self.specs = specs_of(self._state)

    def state(self) -> dict[str, torch.Tensor]:
        """The tensors (read now for a safetensors file; its size bounds what this costs)."""
        if self._state is None:
            self._state = read_state_dict(self.source)
        state, self._state = self._state, None   # handed over: the model keeps the only copy
        return state


def head_classes(specs: Mapping[str, TensorSpec], classifier: str | None, default: int, label: str) -> int:
    """The class count that the classifier's weight declares (its first dimension), ``default``
    when the file has none; over ``MAX_CLASSES`` is refused naming the file and the tensor."""
    head = specs.get(f"{classifier}.weight") if classifier else None
    if head is None or not head.shape:
        return default
    classes = int(head.shape[0])
    if classes > MAX_CLASSES or classes < 1:
        raise ModelLoadError(_(
            "weights file {file}: tensor {tensor} of shape {shape} declares {classes:,} classes; "
            "attnviz builds models of 1 to {limit:,} classes. Check that the file is a classifier's "
            "state dict").format(file=label, tensor=f"{classifier}.weight", shape=head.shape,
                                 classes=classes, limit=MAX_CLASSES))
    return classes


def check_specs(expected: Mapping[str, TensorSpec], found: Mapping[str, TensorSpec], name: str,
                label: str, element_bytes: int = 4) -> None:
    """Refuse a file whose tensors do not fit the architecture ``name`` (``expected``: its state
    dict's specs, e.g. built on the ``meta`` device), naming the file and the first tensor that
    differs, or a model over ``MAX_MODEL_BYTES``; nothing has been allocated when this runs."""
    model_bytes = sum(s.numel for s in expected.values()) * element_bytes
    if model_bytes > MAX_MODEL_BYTES:
        raise ModelLoadError(_(
            "weights file {file}: {name} built for it would need {size:,.0f} MB, over the limit of "
            "{limit:,} MB").format(file=label, name=name, size=model_bytes / 2 ** 20,
                                   limit=MAX_MODEL_BYTES // 2 ** 20))
    wrong = [k for k in expected if k in found and found[k].shape != expected[k].shape]
    if wrong:
        k = wrong[0]
        raise ModelLoadError(_(
            "weights {source} do not fit architecture {name}: {count} tensors have other shapes "
            "(tensor {tensor} has shape {shape}, {name} expects {expected}); check that the file was "
            "trained for this architecture").format(
            source=label, name=name, count=len(wrong), tensor=k, shape=found[k].shape,
            expected=expected[k].shape))
    kinds = [k for k in expected if k in found and found[k].is_float != expected[k].is_float]
    if kinds:
        k = kinds[0]
        raise ModelLoadError(_(
            "weights {source} do not fit architecture {name}: tensor {tensor} holds {found} where "
            "{name} has {expected}; check that the file was trained for this architecture").format(
            source=label, name=name, tensor=k,
            found=_("floats") if found[k].is_float else _("integers"),
            expected=_("floats") if expected[k].is_float else _("integers")))
    missing = [k for k in expected if k not in found]
    unexpected = [k for k in found if k not in expected]
    if missing or unexpected:
        raise key_mismatch(label, name, missing, unexpected)



def key_mismatch(source: object, name: str, missing: list[str], unexpected: list[str]) -> ModelLoadError:
    """The one message for weights whose tensor names differ from the architecture's (read from the
    header before building, or reported by load_state_dict after)."""
    return ModelLoadError(_(
        "weights {source} do not fit architecture {name}: {missing} missing keys "
        "(e.g. {missing_keys}), {unexpected} unexpected keys (e.g. {unexpected_keys}); "
        "check that the file was trained for this architecture").format(
        source=source, name=name, missing=len(missing), missing_keys=missing[:2],
        unexpected=len(unexpected), unexpected_keys=unexpected[:2]))

def read_state_dict(source: str | Path | WeightsBlob) -> dict[str, torch.Tensor]:
    """Tensors of a ``.safetensors`` file or a state-dict ``.pth``/``.pt``/``.bin`` checkpoint,
    from a path or from bytes in memory (``WeightsBlob``).

    Pickled checkpoints are read with ``weights_only=True``: only tensors and plain containers,
    never arbitrary objects. Wrapped checkpoints ({'state_dict': ...}, {'model': ...}) and
    DataParallel's 'module.' prefix are unwrapped.
    """
    if isinstance(source, WeightsBlob):
        path, data = Path(source.name), source.data
    else:
        path, data = Path(source), None
        if not path.is_file():
            raise ModelLoadError(_("weights file {file} does not exist").format(file=path))
    suffix = path.suffix.lower()
    if suffix == ".safetensors":
        from safetensors.torch import load, load_file

        try:
            tensors = load(data) if data is not None else load_file(str(path), device="cpu")
        except Exception as exc:  # safetensors raises its own error types
            raise ModelLoadError(_("weights file {file} is not a valid safetensors file ({error})").format(
                file=path, error=exc)) from None
        if _unprefixed(list(tensors)):
            tensors = {k[len("module."):]: v for k, v in tensors.items()}
        return tensors
    if suffix not in (".pth", ".pt", ".bin", ".ckpt"):
        raise ModelLoadError(_("weights file {file} has an unknown extension; use .safetensors, .pth or .pt").format(
            file=path))
    try:
        obj = torch.load(io.BytesIO(data) if data is not None else path, map_location="cpu", weights_only=True)
    except Exception as exc:  # UnpicklingError for objects that are not plain tensors
        raise ModelLoadError(_(
            "weights file {file} cannot be read as a plain state dict ({error}); "
            "it may hold pickled Python objects, which attnviz refuses to load. Save "
            "model.state_dict() with torch.save, or convert it to .safetensors").format(
            file=path, error=type(exc).__name__)) from None
    for key in ("state_dict_ema", "state_dict", "model_ema", "model"):
        if isinstance(obj, dict) and isinstance(obj.get(key), dict):
            obj = obj[key]
            break
    if not isinstance(obj, dict) or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise ModelLoadError(_("weights file {file} does not hold a state dict of tensors").format(file=path))
    if _unprefixed(list(obj)):
        obj = {k[len("module."):]: v for k, v in obj.items()}
    return obj


def load_into(model: nn.Module, state: dict[str, torch.Tensor], name: str, source: str) -> None:
    """Load ``state`` into ``model`` (architecture ``name``); every key must fit, or ModelLoadError."""
    try:
        missing, unexpected = model.load_state_dict(state, strict=False)
    except RuntimeError as exc:  # shape mismatches are raised even when strict=False
        count = str(exc).count("size mismatch")
        raise ModelLoadError(_(
            "weights {source} do not fit architecture {name}: {count} tensors have other shapes; "
            "check that the file was trained for this architecture").format(
            source=source, name=name, count=count)) from None
    if missing or unexpected:
        raise key_mismatch(source, name, missing, unexpected)


def classes_from_sidecar(weights: Path | WeightsBlob, num_classes: int) -> list[str]:
    """Class names of a weights file: ``class_names`` of the JSON file beside it when it has one
    name per output, else ImageNet's (1000 outputs), else 'class 0', 'class 1' ..."""
    sidecar = None if isinstance(weights, WeightsBlob) else weights.with_suffix(".json")
    if sidecar is not None and sidecar.exists():
        try:
            names = json.loads(sidecar.read_text()).get("class_names")
            if isinstance(names, list) and len(names) == num_classes:
                return [str(n) for n in names]
        except (json.JSONDecodeError, AttributeError):
            pass
    if num_classes == 1000:
        return list(imagenet_class_names())
    return [f"class {i}" for i in range(num_classes)]
