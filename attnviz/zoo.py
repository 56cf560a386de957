"""The model zoo: a name becomes a loaded model + its preprocessing + its class names.

Three sources, looked up in this order:

* **bundled** models that we train ourselves and ship in ``assets/models`` (work offline);
* a **local weights file** for any timm architecture (``.safetensors``, or a state-dict
  ``.pth``/``.pt`` read with ``weights_only=True`` so that no arbitrary object is unpickled);
* timm's **pretrained** ImageNet weights, through timm's own download-and-cache mechanism
  (Hugging Face hub cache, or torch hub's for the few older url-only weights).

Without a network and without cached weights, loading fails with one ``ModelLoadError`` that
names the model and lists the remedies.
"""
from __future__ import annotations

import difflib
import io
import json
import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Sequence
from urllib.parse import urlparse

import timm
import torch
import torch.nn as nn
from PIL import Image
from timm.data import resolve_model_data_config

from .architectures import build_architecture
from .classes import imagenet_class_names
from .devices import autocast, describe_device, resolve_device
from .errors import ModelLoadError
from .gates import Gate, discover_gates
from .preprocess import eval_transform

#: timm ImageNet models with channel attention that the app offers, with a one-line description.
TIMM_ZOO: dict[str, str] = {
    "legacy_seresnet50": "SE-ResNet-50 as in the SENet paper (original Caffe weights)",
    "seresnet50": "SE-ResNet-50, timm's modern training recipe",
    "seresnext50_32x4d": "SE-ResNeXt-50 (32x4d)",
    "legacy_senet154": "SENet-154, the ILSVRC 2017 winner",
    "skresnet18": "SK-ResNet-18 (Selective Kernel, split input)",
    "skresnet34": "SK-ResNet-34 (Selective Kernel, split input)",
    "skresnext50_32x4d": "SK-ResNeXt-50 (32x4d), the SKNet-50 equivalent",
    "resnest50d": "ResNeSt-50d, split attention with radix 2",
    "efficientnet_b0": "EfficientNet-B0, SE in every MBConv block",
    "mobilenetv3_large_100": "MobileNetV3-Large, hard-sigmoid SE",
    "regnety_016": "RegNetY-1.6GF, SE in every block",
    "ecaresnet50d": "ECA-ResNet-50d, efficient channel attention (1-d conv gate)",
}

ASSETS_DIR = Path(os.environ.get("ATTNVIZ_ASSETS", Path(__file__).resolve().parent.parent / "assets"))


def bundled_dir() -> Path:
    return Path(os.environ.get("ATTNVIZ_ASSETS", ASSETS_DIR)) / "models"


def bundled_models() -> dict[str, dict]:
    """Metadata of every bundled model found in ``assets/models`` (name -> card data)."""
    found = {}
    folder = bundled_dir()
    if folder.is_dir():
        for meta_path in sorted(folder.glob("*.json")):
            weights = meta_path.with_suffix(".safetensors")
            if weights.exists():
                meta = json.loads(meta_path.read_text())
                meta["weights_file"] = str(weights)
                found[meta.get("name", meta_path.stem)] = meta
    return found


def default_model_name() -> str | None:
    """The app's and CLI's default: the bundled SE model, else the first bundled model."""
    bundled = bundled_models()
    for name, meta in bundled.items():
        if meta.get("default"):
            return name
    return next(iter(bundled), None)


@dataclass
class LoadedModel:
    """A model ready for analysis: weights, preprocessing, class names and its gates."""

    name: str
    model: nn.Module
    device: torch.device
    data_config: dict
    class_names: list[str]
    gates: list[Gate]
    source: str  # 'bundled' | 'pretrained' | 'file' | 'random'
    weights: str | None = None
    amp: str | None = None
    channels_last: bool = False
    meta: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        # timm's evaluation transform, computed crop-first: memory follows the input size.
        self.transform = eval_transform(self.data_config)

    @property
    def input_size(self) -> int:
        return int(self.data_config["input_size"][-1])

    @property
    def kinds(self) -> list[str]:
        """Attention kinds present, in depth order of first appearance."""
        return list(dict.fromkeys(g.kind for g in self.gates))

    @property
    def num_params(self) -> int:
        return sum(p.numel() for p in self.model.parameters())

    @property
    def device_label(self) -> str:
        return describe_device(self.device)

    def gate(self, name: str) -> Gate:
        for g in self.gates:
            if g.name == name:
                return g
        raise KeyError(f"{self.name} has no gate {name!r}")

    def preprocess(self, images: Sequence[Image.Image]) -> torch.Tensor:
        """RGB PIL images -> normalised batch on the model's device (and memory format)."""
        batch = torch.stack([self.transform(img) for img in images])
        return self.to_device(batch)

    def to_device(self, batch: torch.Tensor) -> torch.Tensor:
        batch = batch.to(self.device, non_blocking=True)
        if self.channels_last:
            batch = batch.contiguous(memory_format=torch.channels_last)
        return batch

    def autocast(self):
        return autocast(self.device, self.amp)

    def info(self) -> dict:
        return {"name": self.name, "source": self.source, "weights": self.weights,
                "device": self.device_label, "params": self.num_params,
                "classes": len(self.class_names), "kinds": self.kinds, "gates": len(self.gates),
                "input_size": self.input_size}


# ---------------------------------------------------------------- weights availability


def _hub_cached(hf_hub_id: str) -> str | None:
    """Path of the weights file timm would use from the Hugging Face cache, if cached."""
    from huggingface_hub import try_to_load_from_cache

    repo, _, revision = hf_hub_id.partition("@")
    for filename in ("model.safetensors", "pytorch_model.bin"):
        hit = try_to_load_from_cache(repo, filename, revision=revision or None)
        if isinstance(hit, str):
            return hit
    return None


def _reachable(url: str, timeout: float = 3.0) -> bool:
    """Can we open a TCP connection to the host of ``url``? Answers in seconds, where the hub
    client would retry for most of a minute before giving up."""
    import socket

    if any(os.environ.get(v) for v in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy")):
        return True  # behind a proxy a direct connection says nothing; let the hub client try
    parts = urlparse(url)
    try:
        with socket.create_connection((parts.hostname, parts.port or 443), timeout=timeout):
            return True
    except OSError:
        return False


def _url_cached(url: str) -> bool:
    from timm.models._hub import get_cache_dir

    return (Path(get_cache_dir()) / os.path.basename(urlparse(url).path)).exists()


def weights_status(name: str) -> str:
    """'bundled', 'cached' (timm weights already downloaded), 'download' (needs the network)
    or 'unknown' (not a model name attnviz knows)."""
    if name in bundled_models():
        return "bundled"
    if name not in _timm_names():
        return "unknown"
    cfg = timm.models.get_pretrained_cfg(name)
    if cfg is None:
        return "download"
    if cfg.hf_hub_id and _hub_cached(cfg.hf_hub_id) is not None:
        return "cached"
    if cfg.url and _url_cached(cfg.url):
        return "cached"
    return "download"


@lru_cache(maxsize=1)
def _timm_names() -> frozenset[str]:
    return frozenset(timm.list_models())


def list_models() -> list[dict]:
    """The zoo: bundled models first, then the timm models, each with its weights status."""
    rows = []
    for name, meta in bundled_models().items():
        rows.append({"name": name, "source": "bundled", "description": meta.get("description", ""),
                     "weights": "bundled", "classes": meta.get("num_classes"),
                     "top1": meta.get("val", {}).get("top1")})
    for name, description in TIMM_ZOO.items():
        rows.append({"name": name, "source": "timm", "description": description,
                     "weights": weights_status(name), "classes": 1000, "top1": None})
    return rows


def suggest(name: str) -> list[str]:
    """Close matches among the zoo, the bundled models and all timm architectures."""
    candidates = list(bundled_models()) + list(TIMM_ZOO)
    close = difflib.get_close_matches(name, candidates, n=3, cutoff=0.6)
    close += [n for n in difflib.get_close_matches(name, sorted(_timm_names()), n=3, cutoff=0.75)
              if n not in close]
    return close[:4]


# ---------------------------------------------------------------- weights files


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


def _load_into(model: nn.Module, state: dict[str, torch.Tensor], name: str, source: str) -> None:
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


def _classes_from_sidecar(weights: Path | WeightsBlob, num_classes: int) -> list[str]:
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


# ---------------------------------------------------------------- loading


def _finish(name: str, model: nn.Module, device: torch.device, data_config: dict,
            class_names: list[str], source: str, weights: str | None, amp: str | None,
            channels_last: bool | None, meta: dict | None = None) -> LoadedModel:
    model.eval().to(device)
    use_cl = device.type == "cuda" if channels_last is None else channels_last
    if use_cl:
        model = model.to(memory_format=torch.channels_last)
    gates = discover_gates(model)
    return LoadedModel(name=name, model=model, device=device, data_config=dict(data_config),
                       class_names=class_names, gates=gates, source=source, weights=weights,
                       amp=amp if amp and amp != "off" else None, channels_last=use_cl,
                       meta=meta or {})


def _load_bundled(name: str, meta: dict, device, amp, channels_last) -> LoadedModel:
    model = build_architecture(meta["arch"], meta["num_classes"])
    state = read_state_dict(meta["weights_file"])
    _load_into(model, {k: v.float() if v.is_floating_point() else v for k, v in state.items()},
               name, meta["weights_file"])
    pre = meta["preprocessing"]
    data_config = {"input_size": tuple(pre["input_size"]), "interpolation": pre["interpolation"],
                   "mean": tuple(pre["mean"]), "std": tuple(pre["std"]), "crop_pct": pre["crop_pct"],
                   "crop_mode": pre.get("crop_mode", "center")}
    return _finish(name, model, device, data_config, list(meta["class_names"]), "bundled",
                   meta["weights_file"], amp, channels_last, meta)


def _remedies(name: str) -> str:
    bundled = list(bundled_models())
    use_bundled = (f"choose a bundled model that works offline ({', '.join(bundled)})" if bundled
                   else "train a bundled model with `attnviz train` (see README)")
    return (f"(1) connect to the internet once so timm downloads and caches the weights of {name}; "
            f"(2) pass a local weights file with --weights FILE (.safetensors or a state-dict .pth); "
            f"(3) {use_bundled}")


def load_model(name: str, weights: str | Path | WeightsBlob | None = None, device: str | torch.device = "auto",
               amp: str | None = None, channels_last: bool | None = None,
               pretrained: bool = True) -> LoadedModel:
    """Load a model by name, ready for analysis.

    name: a bundled model, or a timm architecture (the zoo's or any other).
    weights: a local weights file for a timm architecture (skips the download), or its bytes
        (``WeightsBlob``, e.g. an upload).
    device: 'auto' (CUDA when present), 'cpu', 'cuda', or a torch.device.
    amp: 'bf16' / 'fp16' autocast on CUDA; captured values are float32 regardless.
    channels_last: default on for CUDA.
    pretrained: False builds the architecture with random weights (tests, benchmarks).
    Raises ModelLoadError with the remedies when the model cannot be had.
    """
    dev = resolve_device(device)
    bundled = bundled_models()
    if name in bundled and weights is None:
        return _load_bundled(name, bundled[name], dev, amp, channels_last)
    if name not in _timm_names():
        close = suggest(name)
        hint = f" Did you mean: {', '.join(close)}?" if close else ""
        raise ModelLoadError(f"unknown model {name!r}.{hint} `attnviz models` lists the zoo.")

    if weights is not None:
        path = weights if isinstance(weights, WeightsBlob) else Path(weights)
        state = read_state_dict(path)
        model = timm.create_model(name, pretrained=False)
        classifier = model.pretrained_cfg.get("classifier")
        head = state.get(f"{classifier}.weight") if isinstance(classifier, str) else None
        num_classes = int(head.shape[0]) if head is not None else model.num_classes
        if num_classes != model.num_classes:
            model = timm.create_model(name, pretrained=False, num_classes=num_classes)
        label = path.name if isinstance(path, WeightsBlob) else str(path)
        _load_into(model, state, name, label)
        return _finish(name, model, dev, resolve_model_data_config(model),
                       _classes_from_sidecar(path, num_classes), "file", label, amp, channels_last)

    if not pretrained:
        model = timm.create_model(name, pretrained=False)
        return _finish(name, model, dev, resolve_model_data_config(model),
                       list(imagenet_class_names()), "random", None, amp, channels_last)

    cfg = timm.models.get_pretrained_cfg(name)
    overlay = {}
    if cfg is not None and cfg.hf_hub_id and (cached := _hub_cached(cfg.hf_hub_id)):
        # Already in timm's Hugging Face cache: load that file without asking the hub for updates.
        overlay = {"file": cached}
    elif weights_status(name) == "download":
        from huggingface_hub import constants

        source = constants.ENDPOINT if cfg is not None and cfg.hf_hub_id else (cfg.url if cfg else "")
        if not source or not _reachable(source):
            raise ModelLoadError(
                f"cannot load the pretrained weights of {name}: they are not in the local cache and "
                f"there is no network to download them. Remedies: {_remedies(name)}.")
    try:
        model = timm.create_model(name, pretrained=True, pretrained_cfg_overlay=overlay or None)
    except Exception as exc:  # network, cache and hub errors come in many types
        raise ModelLoadError(
            f"cannot load the pretrained weights of {name}: they are not in the local cache and "
            f"could not be downloaded ({type(exc).__name__}). Remedies: {_remedies(name)}.") from None
    return _finish(name, model, dev, resolve_model_data_config(model), list(imagenet_class_names()),
                   "pretrained", model.pretrained_cfg.get("hf_hub_id") or model.pretrained_cfg.get("url"),
                   amp, channels_last)


def describe_zoo(probe: bool = True) -> list[dict]:
    """``list_models`` plus, per model, its attention kinds, gate count and parameter count.

    timm architectures are built on the ``meta`` device: shapes only, no memory, no weights.
    """
    rows = list_models()
    if not probe:
        return rows
    bundled = bundled_models()
    for row in rows:
        with torch.device("meta"):
            if row["name"] in bundled:
                meta = bundled[row["name"]]
                model = build_architecture(meta["arch"], meta["num_classes"])
            else:
                model = timm.create_model(row["name"], pretrained=False)
        gates = discover_gates(model)
        row["kinds"] = list(dict.fromkeys(g.kind.name for g in gates))
        row["gates"] = len(gates)
        row["params"] = sum(p.numel() for p in model.parameters())
    return rows


def wrap_model(model: nn.Module, name: str, class_names: list[str], data_config: dict | None = None,
               device: str | torch.device = "cpu") -> LoadedModel:
    """Wrap any ``nn.Module`` as a LoadedModel, so every attnviz analysis can run on it.

    For models built in a notebook or a test (e.g. ``build_architecture('sk_resnet18_half', 10)``)
    rather than loaded by name. ``data_config`` is the preprocessing (input_size, mean, std,
    interpolation, crop_pct); by default timm's ``resolve_model_data_config(model)`` reads it from
    the model's pretrained config, falling back to timm's ImageNet defaults. The model is put in
    eval mode on ``device`` and its gates are discovered as for any loaded model.
    """
    if len(class_names) != getattr(model, "num_classes", len(class_names)):
        raise ModelLoadError(
            f"wrap_model({name!r}): {len(class_names)} class names were given for a model with "
            f"{model.num_classes} classes; pass one name per output")
    config = resolve_model_data_config(model) if data_config is None else data_config
    return _finish(name, model, resolve_device(device), config, list(class_names), "custom",
                   None, None, None)
