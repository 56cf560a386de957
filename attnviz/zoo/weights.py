"""Weights files: a ``.safetensors`` file or a state-dict checkpoint, on disk or in memory (an
upload), read into a state dict and loaded into an architecture with clear errors."""
from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn as nn

from ..classes import imagenet_class_names
from ..errors import ModelLoadError
from ..i18n import _


@dataclass(frozen=True)
class WeightsBlob:
    """A weights file held in memory (an upload): its name gives the format and names it in messages."""

    name: str
    data: bytes = field(repr=False)


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
            return load(data) if data is not None else load_file(str(path), device="cpu")
        except Exception as exc:  # safetensors raises its own error types
            raise ModelLoadError(_("weights file {file} is not a valid safetensors file ({error})").format(
                file=path, error=exc)) from None
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
    if all(k.startswith("module.") for k in obj):
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
        raise ModelLoadError(_(
            "weights {source} do not fit architecture {name}: {missing} missing keys "
            "(e.g. {missing_keys}), {unexpected} unexpected keys (e.g. {unexpected_keys}); "
            "check that the file was trained for this architecture").format(
            source=source, name=name, missing=len(missing), missing_keys=missing[:2],
            unexpected=len(unexpected), unexpected_keys=unexpected[:2]))


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
