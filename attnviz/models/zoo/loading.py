"""Loading by name: a bundled model, a timm architecture with a local weights file, with timm's
pretrained weights (from its caches without asking the network, or downloaded), or with random
weights; and ``wrap_model`` for any ``nn.Module``. Every failure is one ``ModelLoadError`` that
names the model and the remedies."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import timm
import torch
import torch.nn as nn
from timm.data import resolve_model_data_config

from ..architectures import build_architecture
from ..classes import imagenet_class_names
from ...runtime.devices import resolve_device
from ...errors import ModelLoadError
from ...gates import discover_gates
from ...i18n import _
from .bundled import BundledModel, bundled_models
from .catalogue import suggest, timm_names
from .hub import download_source, hub_cached, pretrained_status, reachable
from .loaded import LoadedModel
from .weights import (TensorSpec, WeightsBlob, WeightsFile, check_specs, classes_from_sidecar, head_classes,
                      load_into, specs_of)


def _finish(name: str, model: nn.Module, device: torch.device, data_config: dict,
            class_names: list[str], source: str, weights: str | None, amp: str | None,
            channels_last: bool | None, meta: BundledModel | None = None) -> LoadedModel:
    model.eval().to(device)
    use_cl = device.type == "cuda" if channels_last is None else channels_last
    if use_cl:
        model = model.to(memory_format=torch.channels_last)
    gates = discover_gates(model)
    return LoadedModel(name=name, model=model, device=device, data_config=dict(data_config),
                       class_names=class_names, gates=gates, source=source, weights=weights,
                       amp=amp if amp and amp != "off" else None, channels_last=use_cl, meta=meta)


def _load_bundled(bundled: BundledModel, device, amp, channels_last) -> LoadedModel:
    model = build_architecture(bundled.arch, bundled.num_classes)
    weights = WeightsFile(bundled.weights_file)
    check_specs(specs_of(model.state_dict()), weights.specs, bundled.name, weights.label)
    state = weights.state()
    load_into(model, {k: v.float() if v.is_floating_point() else v for k, v in state.items()},
              bundled.name, bundled.weights_file)
    return _finish(bundled.name, model, device, bundled.preprocessing.data_config(), list(bundled.class_names),
                   "bundled", bundled.weights_file, amp, channels_last, bundled)


def _pretrained_cfg(model: nn.Module) -> dict[str, Any]:
    """The ``pretrained_cfg`` dict that timm gives every model it creates."""
    cfg = getattr(model, "pretrained_cfg", None)
    if not isinstance(cfg, dict):
        raise TypeError(f"{type(model).__name__} has no timm pretrained_cfg dict (was it made by timm.create_model?)")
    return cfg


def _timm_classes(model: nn.Module) -> int:
    """The number of outputs of a model timm created (its ``num_classes``)."""
    num_classes = getattr(model, "num_classes", None)
    if not isinstance(num_classes, int):
        raise TypeError(f"{type(model).__name__} has no integer num_classes (was it made by timm.create_model?)")
    return num_classes


def _expected_specs(name: str, num_classes: int, default: nn.Module) -> dict[str, TensorSpec]:
    """The specs of architecture ``name`` with ``num_classes`` outputs, without allocating it: built
    on the ``meta`` device (shapes only, no memory); an architecture that cannot be built there
    is described from ``default`` (built with its own class count) with its classifier resized."""
    try:
        with torch.device("meta"):
            return specs_of(timm.create_model(name, pretrained=False, num_classes=num_classes).state_dict())
    except Exception:  # a module computing with tensors at construction: describe the default one
        specs = specs_of(default.state_dict())
        classifier = _pretrained_cfg(default).get("classifier")
        for key in (f"{classifier}.weight", f"{classifier}.bias") if isinstance(classifier, str) else ():
            if key in specs:
                specs[key] = TensorSpec((num_classes, *specs[key].shape[1:]), specs[key].is_float)
        return specs


def _load_file(name: str, weights: str | Path | WeightsBlob, device, amp, channels_last) -> LoadedModel:
    source = WeightsFile(weights)
    with torch.device("meta"):  # the default architecture, for its classifier's name: no memory
        default = timm.create_model(name, pretrained=False)
    classifier = _pretrained_cfg(default).get("classifier")
    num_classes = head_classes(source.specs, classifier if isinstance(classifier, str) else None,
                               _timm_classes(default), source.label)
    # Every tensor checked against the architecture before any module is built from the file.
    check_specs(_expected_specs(name, num_classes, default), source.specs, name, source.label)
    model = timm.create_model(name, pretrained=False, num_classes=num_classes)
    load_into(model, source.state(), name, source.label)
    return _finish(name, model, device, resolve_model_data_config(model),
                   classes_from_sidecar(source.source, num_classes), "file", source.label, amp, channels_last)


def _remedies(name: str) -> str:
    bundled = list(bundled_models())
    use_bundled = (_("choose a bundled model that works offline ({models})").format(models=", ".join(bundled))
                   if bundled else _("train a bundled model with `attnviz train` (see README)"))
    return _("(1) connect to the internet once so timm downloads and caches the weights of {name}; "
             "(2) pass a local weights file with --weights FILE (.safetensors or a state-dict .pth); "
             "(3) {bundled}").format(name=name, bundled=use_bundled)


def _load_pretrained(name: str, device, amp, channels_last) -> LoadedModel:
    cfg = timm.models.get_pretrained_cfg(name)
    overlay = {}
    if cfg is not None and cfg.hf_hub_id and (cached := hub_cached(cfg.hf_hub_id)):
        # Already in timm's Hugging Face cache: load that file without asking the hub for updates.
        overlay = {"file": cached}
    elif pretrained_status(name) == "download":
        source = download_source(name)
        if not source or not reachable(source):
            raise ModelLoadError(_(
                "cannot load the pretrained weights of {name}: they are not in the local cache and "
                "there is no network to download them. Remedies: {remedies}.").format(
                name=name, remedies=_remedies(name)))
    try:
        model = timm.create_model(name, pretrained=True, pretrained_cfg_overlay=overlay or None)
    except Exception as exc:  # network, cache and hub errors come in many types
        raise ModelLoadError(_(
            "cannot load the pretrained weights of {name}: they are not in the local cache and "
            "could not be downloaded ({error}). Remedies: {remedies}.").format(
            name=name, error=type(exc).__name__, remedies=_remedies(name))) from None
    return _finish(name, model, device, resolve_model_data_config(model), list(imagenet_class_names()),
                   "pretrained", _pretrained_cfg(model).get("hf_hub_id") or _pretrained_cfg(model).get("url"),
                   amp, channels_last)


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
        return _load_bundled(bundled[name], dev, amp, channels_last)
    if name not in timm_names():
        close = suggest(name)
        if close:
            raise ModelLoadError(_("unknown model {name}. Did you mean: {names}? `attnviz models` lists the "
                                   "zoo.").format(name=repr(name), names=", ".join(close)))
        raise ModelLoadError(_("unknown model {name}. `attnviz models` lists the zoo.").format(name=repr(name)))
    if weights is not None:
        return _load_file(name, weights, dev, amp, channels_last)
    if not pretrained:
        model = timm.create_model(name, pretrained=False)
        return _finish(name, model, dev, resolve_model_data_config(model),
                       list(imagenet_class_names()), "random", None, amp, channels_last)
    return _load_pretrained(name, dev, amp, channels_last)


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
