"""Attribution around a gate, with captum: where the block looks, which channels matter, and what
happens without the gate.

* ``gradcam``: Grad-CAM (captum ``LayerGradCam``) on the residual block that contains the gate.
  The gate rescales the block's features before the block's output, so that output is where the
  gate's effect lands, and its spatial map is the one to compare across gates.
* ``channel_attribution``: per channel of the gated feature map, how much it contributes to the
  target logit (captum ``LayerGradientXActivation``, summed over positions), beside the gate's own
  value for that channel, and the rank correlation between the two.
* ``knockout``: the top-k with a gate neutralised (s = 1, or 1/paths for SK) against the original.

Thread safety: the app shares one model between browser sessions. captum registers plain forward
hooks that would also fire on another thread's forward pass, so captum never sees the shared
model: it runs on a private replica that shares the same parameter and buffer tensors (no extra
memory, always the same weights) but has its own module objects and hooks. One lock per replica
serialises attribution calls on that model; other analyses on the shared model are not blocked.
Gradients are taken with ``torch.autograd.grad`` on the input and layer outputs, so parameters'
``.grad`` and ``requires_grad`` are left as they were.
"""
from __future__ import annotations

import copy
import itertools
import threading
import warnings
import weakref
from dataclasses import dataclass
from collections.abc import Iterable

import numpy as np
import torch
import torch.nn as nn
from captum.attr import LayerAttribution, LayerGradCam, LayerGradientXActivation
from PIL import Image
from scipy.stats import spearmanr

from ..errors import AttnvizError
from ..gates import Gate
from ..i18n import _
from .inference import ImageAnalysis, TopClass, analyse_images
from ..models.zoo import LoadedModel

# ---------------------------------------------------------------- layers


def gradcam_layer(model: nn.Module, gate: Gate) -> str:
    """Path of the block that contains ``gate``: the deepest ancestor of the attention module that
    is an item of a ``Sequential``/``ModuleList`` (ResNet's ``layer3.1``, EfficientNet's
    ``blocks.2.0``), else the attention module's parent (RegNet's ``s2.b1``)."""
    modules = dict(model.named_modules())
    parts = gate.module.split(".")
    for depth in range(len(parts) - 1, 0, -1):
        parent, child = ".".join(parts[:depth - 1]), ".".join(parts[:depth])
        if isinstance(modules.get(parent), (nn.Sequential, nn.ModuleList)):
            return child
    return ".".join(parts[:-1]) or gate.module


def gated_layer(gate: Gate) -> str:
    """Path of the module whose output is the gated feature map (B, C, H, W): the attention module
    itself for SE and split attention (x~ = s * u), its parent ``SelectiveKernel`` for SK, whose
    ``attn`` child only returns the weights (V = a * U1 + b * U2 is made by the parent)."""
    return gate.gated_layer


# ---------------------------------------------------------------- private replica

_REPLICAS: weakref.WeakKeyDictionary[nn.Module, tuple[nn.Module, threading.Lock]] = weakref.WeakKeyDictionary()
_REPLICAS_LOCK = threading.Lock()
_HOOK_DICTS = ("_forward_hooks", "_forward_pre_hooks", "_forward_hooks_with_kwargs",
               "_forward_hooks_always_called", "_forward_pre_hooks_with_kwargs",
               "_backward_hooks", "_backward_pre_hooks")


def _replica(model: nn.Module) -> tuple[nn.Module, threading.Lock]:
    """The model's private replica for captum (see the module docstring) and its lock."""
    with _REPLICAS_LOCK:
        found = _REPLICAS.get(model)
        if found is None:
            # deepcopy with every parameter and buffer pre-seeded in the memo copies the module
            # tree only: the replica's tensors are the shared model's tensors.
            tensors = {id(t): t for t in itertools.chain(model.parameters(), model.buffers())}
            for attempt in range(3):
                try:
                    replica = copy.deepcopy(model, memo=dict(tensors))
                    break
                except RuntimeError:  # another thread added a capture hook mid-copy; copy again
                    if attempt == 2:
                        raise
            for module in replica.modules():  # hooks copied from the shared model are not ours
                for name in _HOOK_DICTS:
                    getattr(module, name, {}).clear()
            found = (replica.eval(), threading.Lock())
            _REPLICAS[model] = found
    return found


# ---------------------------------------------------------------- helpers


def _gate(loaded: LoadedModel, gate_name: str) -> Gate:
    return loaded.gate(gate_name)  # GateNotFound names the model's gates


def _target(loaded: LoadedModel, target: int | None, probs: np.ndarray) -> int:
    if target is None:
        return int(np.argmax(probs))
    if not 0 <= int(target) < len(loaded.class_names):
        raise AttnvizError(_("target class {target} is out of range: {model} has {classes} classes "
                             "(0..{last})").format(target=target, model=loaded.name,
                                                   classes=len(loaded.class_names), last=len(loaded.class_names) - 1))
    return int(target)


def model_input_image(loaded: LoadedModel, batch: torch.Tensor) -> Image.Image:
    """The first image of a preprocessed batch as the model saw it (resized, cropped), as RGB."""
    mean = torch.tensor(loaded.data_config["mean"]).view(3, 1, 1)
    std = torch.tensor(loaded.data_config["std"]).view(3, 1, 1)
    pixels = (batch[0].detach().float().cpu() * std + mean).clamp(0, 1)
    return Image.fromarray((pixels.permute(1, 2, 0).numpy() * 255).round().astype(np.uint8))


# ---------------------------------------------------------------- Grad-CAM


@dataclass
class GradCamResult:
    """Grad-CAM of one image for one class at one gate's block.

    heatmap: (H, W) in [0, 1] at the preprocessed input's resolution (1 = most positive evidence).
    input_image: the image as the model saw it (after resize and crop), for the overlay.
    layer: path of the block whose output was used.
    """

    heatmap: np.ndarray
    target: int
    label: str
    prob: float
    input_image: Image.Image
    layer: str


def _analysed(loaded: LoadedModel, image: Image.Image, analysis: ImageAnalysis | None) -> ImageAnalysis:
    """The image's analysis: the one given (e.g. cached by the app), else a forward pass."""
    return analysis if analysis is not None else analyse_images(loaded, [image])[0]


def gradcam(loaded: LoadedModel, image: Image.Image, gate_name: str,
            target: int | None = None, analysis: ImageAnalysis | None = None) -> GradCamResult:
    """Grad-CAM (captum ``LayerGradCam``, ReLU applied) for ``target`` (default: the predicted
    class) on the output of the block containing ``gate_name``, upsampled bilinearly to the input
    size and scaled to [0, 1]. ``analysis``: the image's analysis when already made (saves a
    forward pass); the gradients always need one of their own."""
    gate = _gate(loaded, gate_name)
    analysis = _analysed(loaded, image, analysis)
    target = _target(loaded, target, analysis.probs)
    batch = loaded.preprocess([image]).float()
    replica, lock = _replica(loaded.model)
    layer = gradcam_layer(replica, gate)
    with lock, torch.inference_mode(False), torch.enable_grad():
        cam = LayerGradCam(replica, replica.get_submodule(layer))
        attr = cam.attribute(batch.clone(), target=target, relu_attributions=True)
        attr = LayerAttribution.interpolate(attr.detach(), tuple(batch.shape[-2:]), "bilinear")
    heat = attr[0, 0].float().cpu().numpy().clip(min=0)
    top = heat.max()
    heat = heat / top if top > 0 else np.zeros_like(heat)
    return GradCamResult(heatmap=heat, target=target, label=loaded.class_names[target],
                         prob=float(analysis.probs[target]), input_image=model_input_image(loaded, batch),
                         layer=layer)


# ---------------------------------------------------------------- channel attribution


@dataclass
class ChannelAttribution:
    """Per channel of one gate's gated feature map: attribution to the target logit vs the gate.

    attribution: (C,) gradient x activation of the target logit w.r.t. the gated feature map,
        summed over positions (captum ``LayerGradientXActivation``).
    excitation: (C,) the gate's value for this image: s for SE, b (the 5x5 path) for SK, the
        last split's weight for split attention.
    a: (C,) the 3x3 path's weight (SK) or first split's weight (split attention); None for SE.
    spearman: rank correlation between attribution and excitation (nan if either is constant).
    """

    gate: str
    target: int
    label: str
    attribution: np.ndarray
    excitation: np.ndarray
    a: np.ndarray | None
    spearman: float
    layer: str


def channel_attribution(loaded: LoadedModel, image: Image.Image, gate_name: str,
                        target: int | None = None, analysis: ImageAnalysis | None = None) -> ChannelAttribution:
    """How much each channel of ``gate_name``'s gated feature map adds to the ``target`` logit
    (default: the predicted class), beside the gate's value for that channel. ``analysis``: the
    image's analysis when already made (its gate values and prediction are reused)."""
    gate = _gate(loaded, gate_name)
    analysis = _analysed(loaded, image, analysis)
    target = _target(loaded, target, analysis.probs)
    batch = loaded.preprocess([image]).float()
    replica, lock = _replica(loaded.model)
    layer = gated_layer(gate)
    with lock, torch.inference_mode(False), torch.enable_grad():
        gxa = LayerGradientXActivation(replica, replica.get_submodule(layer))
        attr = gxa.attribute(batch.clone(), target=target)
    attribution = attr.detach()[0].float().sum(dim=(1, 2)).cpu().numpy()
    values = analysis.values[gate.name]
    excitation = values[gate.kind.compared_path(gate.paths)]
    with warnings.catch_warnings():  # constant input: spearmanr warns and returns nan, kept as nan
        warnings.simplefilter("ignore")
        rho = float(spearmanr(attribution, excitation).statistic)
    return ChannelAttribution(gate=gate.name, target=target, label=loaded.class_names[target],
                              attribution=attribution, excitation=excitation,
                              a=values[0] if gate.compares_paths else None, spearman=rho, layer=layer)


# ---------------------------------------------------------------- knock-out


@dataclass
class KnockoutResult:
    """Top-k before and after neutralising gates; prob_change is for the original top-1 class."""

    gates: list[str]
    before: list[TopClass]
    after: list[TopClass]
    prob_change: float


def knockout(loaded: LoadedModel, image: Image.Image, gate_names: str | Iterable[str],
             k: int = 5, analysis: ImageAnalysis | None = None) -> KnockoutResult:
    """Neutralise ``gate_names`` (each kind's neutral value: s = 1 for SE; 1/paths, i.e.
    0.5/0.5, for SK) and compare the top-``k`` classes with the intact model's (``analysis``,
    when already made). The capture hooks are removed afterwards."""
    names = [gate_names] if isinstance(gate_names, str) else list(gate_names)
    for name in names:
        _gate(loaded, name)
    k = max(1, min(int(k), len(loaded.class_names)))
    before = _analysed(loaded, image, analysis)
    [after] = analyse_images(loaded, [image], neutralise=names)
    top1 = int(np.argmax(before.probs))
    top_before = before.top(loaded.class_names, k)
    return KnockoutResult(gates=names, before=top_before, after=after.top(loaded.class_names, k),
                          prob_change=float(after.probs[top1] - before.probs[top1]))



# ---------------------------------------------------------------- one channel


def channel_map(loaded: LoadedModel, image: Image.Image, gate_name: str, channel: int) -> tuple[np.ndarray, Image.Image]:
    """Where channel ``channel`` of ``gate_name``'s gated feature map is active on ``image``: that
    channel's map (after the gate), upsampled bilinearly to the model's input and scaled to [0, 1]
    (0 where it is not positive), with the image as the model saw it. Hooks are scoped to this
    thread's forward pass and always removed."""
    from ..capture.hooks import ScopedHooks

    gate = _gate(loaded, gate_name)
    if not 0 <= channel < gate.channels:
        raise AttnvizError(_("{gate} has {channels} channels; choose a channel from 0 to {last}").format(
            gate=gate.name, channels=gate.channels, last=gate.channels - 1))
    seen: list[torch.Tensor] = []

    class _Grab(ScopedHooks):
        def _register_hooks(self) -> None:
            self._add_hook(self.model.get_submodule(gate.gated_layer),
                           lambda _m, _i, o: seen.append(o.detach()) if self.is_active else None)

    batch = loaded.preprocess([image])
    with torch.inference_mode(), _Grab(loaded.model):
        loaded.model(batch)
    fmap = seen[0][:1, channel:channel + 1].float()                      # (1, 1, h, w)
    up = torch.nn.functional.interpolate(fmap, size=tuple(batch.shape[-2:]), mode="bilinear", align_corners=False)
    heat = up[0, 0].cpu().numpy().clip(min=0)
    top = heat.max()
    return (heat / top if top > 0 else np.zeros_like(heat)), model_input_image(loaded, batch.float())
