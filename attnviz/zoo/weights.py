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
            raise ModelLoadError(f"weights file {path} does not exist")
    suffix = path.suffix.lower()
    if suffix == ".safetensors":
        from safetensors.torch import load, load_file

        try:
            return load(data) if data is not None else load_file(str(path), device="cpu")
        except Exception as exc:  # safetensors raises its own error types
            raise ModelLoadError(f"weights file {path} is not a valid safetensors file ({exc})") from None
    if suffix not in (".pth", ".pt", ".bin", ".ckpt"):
        raise ModelLoadError(f"weights file {path} has an unknown extension; use .safetensors, .pth or .pt")
    try:
        obj = torch.load(io.BytesIO(data) if data is not None else path, map_location="cpu", weights_only=True)
    except Exception as exc:  # UnpicklingError for objects that are not plain tensors
        raise ModelLoadError(
            f"weights file {path} cannot be read as a plain state dict ({type(exc).__name__}); "
            "it may hold pickled Python objects, which attnviz refuses to load. Save "
            "model.state_dict() with torch.save, or convert it to .safetensors") from None
    for key in ("state_dict_ema", "state_dict", "model_ema", "model"):
        if isinstance(obj, dict) and isinstance(obj.get(key), dict):
            obj = obj[key]
            break
    if not isinstance(obj, dict) or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise ModelLoadError(f"weights file {path} does not hold a state dict of tensors")
    if all(k.startswith("module.") for k in obj):
        obj = {k[len("module."):]: v for k, v in obj.items()}
    return obj


def load_into(model: nn.Module, state: dict[str, torch.Tensor], name: str, source: str) -> None:
    """Load ``state`` into ``model`` (architecture ``name``); every key must fit, or ModelLoadError."""
    try:
        missing, unexpected = model.load_state_dict(state, strict=False)
    except RuntimeError as exc:  # shape mismatches are raised even when strict=False
        count = str(exc).count("size mismatch")
        raise ModelLoadError(
            f"weights {source} do not fit architecture {name}: {count} tensors have other shapes; "
            "check that the file was trained for this architecture") from None
    if missing or unexpected:
        raise ModelLoadError(
            f"weights {source} do not fit architecture {name}: {len(missing)} missing keys "
            f"(e.g. {missing[:2]}), {len(unexpected)} unexpected keys (e.g. {unexpected[:2]}); "
            "check that the file was trained for this architecture")


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
