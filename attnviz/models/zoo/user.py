"""A researcher's own network: ``load_model_file("my_net.py:build")``.

This imports the named Python file and runs the function in it, i.e. it executes that file's
code with the caller's rights. It is for the command line (``--model-file``) and for Python, on
files the person running attnviz wrote or trusts. The served app never offers it and must not:
there it would run visitors' code on the server.

Gates are found in two ways and merged: ``discover_gates`` finds the attention modules attnviz
knows by type (timm's, e.g. when the network is built from timm layers), and
``attnviz.gates.pattern`` finds the others by what they compute (a sigmoid multiplied onto the
channels, a softmax selecting between branches). The pattern search leaves the registered
modules whole, so no gate is found twice; the merged gates are named by depth in forward order.
"""
from __future__ import annotations

import dataclasses
import importlib.util
import sys
import warnings
from pathlib import Path

import torch
import torch.nn as nn
from timm.data import resolve_model_data_config

from ..classes import imagenet_class_names
from ...runtime.devices import resolve_device
from ...errors import ModelLoadError
from ...gates.pattern import find_pattern_gates, forward_order, renamed
from .loaded import LoadedModel
from .loading import wrap_model
from .weights import WeightsBlob, WeightsFile, check_specs, classes_from_sidecar, load_into, specs_of

USAGE = "pass it as FILE.py:FUNCTION, e.g. my_net.py:build (a function that returns an nn.Module)"


def _split(path_and_function: str | Path) -> tuple[Path, str]:
    text = str(path_and_function)
    file, sep, function = text.rpartition(":")
    if not sep or not function.isidentifier() or not file:
        raise ModelLoadError(f"model file {text!r} names no function; {USAGE}")
    return Path(file).expanduser(), function


def _import(file: Path):
    if not file.is_file():
        raise ModelLoadError(f"model file {file} does not exist; {USAGE}")
    if file.suffix != ".py":
        raise ModelLoadError(f"model file {file} is not a Python file (.py); {USAGE}")
    name = f"attnviz_model_file_{abs(hash(str(file.resolve())))}"
    spec = importlib.util.spec_from_file_location(name, file)
    if spec is None or spec.loader is None:
        raise ModelLoadError(f"model file {file} cannot be imported; {USAGE}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module          # dataclasses and pickling look the module up here
    sys.path.insert(0, str(file.parent.resolve()))  # so it can import the files beside it
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        sys.modules.pop(name, None)
        raise ModelLoadError(f"model file {file} failed to import: {type(exc).__name__}: {exc}") from exc
    finally:
        sys.path.remove(str(file.parent.resolve()))
    return module


def _build(file: Path, function: str) -> nn.Module:
    module = _import(file)
    builder = getattr(module, function, None)
    if builder is None or not callable(builder):
        public = sorted(n for n, v in vars(module).items()
                        if callable(v) and not n.startswith("_") and getattr(v, "__module__", None) == module.__name__)
        raise ModelLoadError(f"model file {file} has no function {function!r}"
                             + (f"; it defines {', '.join(public)}" if public else "") + f"; {USAGE}")
    sys.path.insert(0, str(file.parent.resolve()))
    try:
        model = builder()
    except Exception as exc:
        raise ModelLoadError(f"{file}:{function}() raised {type(exc).__name__}: {exc}") from exc
    finally:
        sys.path.remove(str(file.parent.resolve()))
    if not isinstance(model, nn.Module):
        raise ModelLoadError(f"{file}:{function}() returned {type(model).__name__}, not a torch.nn.Module; "
                             "the function must return the network")
    return model


def _outputs(model: nn.Module, example: torch.Tensor, label: str) -> int:
    try:
        with torch.no_grad():
            out = model(example)
    except Exception as exc:
        raise ModelLoadError(f"{label}: the network failed on a batch of shape {tuple(example.shape)}: "
                             f"{type(exc).__name__}: {exc}") from exc
    if not isinstance(out, torch.Tensor) or out.ndim != 2:
        raise ModelLoadError(f"{label}: the network must return class scores of shape (batch, classes), "
                             f"not {type(out).__name__}{tuple(out.shape) if isinstance(out, torch.Tensor) else ''}")
    return int(out.shape[1])


def load_model_file(path_and_function: str | Path, weights: str | Path | WeightsBlob | None = None,
                    class_names: list[str] | None = None, device: str | torch.device = "auto",
                    data_config: dict | None = None, amp: str | None = None) -> LoadedModel:
    """Build a network from your own Python file and load it for analysis.

    path_and_function: ``"my_net.py:build"`` — the file is imported and ``build()`` is called; it
        must return an ``nn.Module`` mapping images (B, 3, H, W) to class scores (B, classes).
    weights: optional state dict (.safetensors, or .pth/.pt read with ``weights_only=True``);
        every key must fit. Without it the builder's own (e.g. random) weights are used.
    class_names: one per output; default: the weights' JSON sidecar ``class_names``, ImageNet's
        for 1000 outputs, else 'class 0', 'class 1' ...
    data_config: preprocessing (input_size, mean, std ...); default timm's resolution for the model.

    The gates are those ``discover_gates`` knows by type merged with those found by what they
    compute (``attnviz.gates.pattern``); functional gates get a ``GateTap`` module, so the returned
    ``LoadedModel.model`` may be a traced copy of the network (same parameters and names).
    Modules that could not be traced are named in a warning.

    This runs the file's code: never offer it in the served app (it would run visitors' code).
    Raises ModelLoadError naming the file and function when anything is wrong.
    """
    file, function = _split(path_and_function)
    label = f"{file}:{function}"
    model = _build(file, function)
    if weights is not None:
        source = WeightsFile(weights)
        check_specs(specs_of(model.state_dict()), source.specs, label, source.label)
        load_into(model, source.state(), label, source.label)
    dev = resolve_device(device)
    model.eval().to(dev)
    config = dict(resolve_model_data_config(model) if data_config is None else data_config)
    in_chans, *size = config["input_size"]
    example = torch.zeros(2, in_chans, *size, device=dev)
    classes = _outputs(model, example, label)
    if class_names is None:
        if weights is not None:
            class_names = classes_from_sidecar(weights if isinstance(weights, WeightsBlob) else Path(weights), classes)
        elif classes == 1000:
            class_names = list(imagenet_class_names())
        else:
            class_names = [f"class {i}" for i in range(classes)]
    elif len(class_names) != classes:
        raise ModelLoadError(f"{label}: {len(class_names)} class names were given for a network with "
                             f"{classes} outputs; pass one name per output")

    try:
        found = find_pattern_gates(model, example=example)
    except Exception as exc:  # a failure here is ours, not the file's: keep the model, say so
        warnings.warn(f"{label}: searching for gates by what they compute failed "
                      f"({type(exc).__name__}: {exc}); only attention modules attnviz knows by type are shown", stacklevel=1)
        found = None
    if found is not None and found.untraced:
        warnings.warn(f"{label}: torch.fx could not trace {len(found.untraced)} module(s), so gates were "
                      f"looked for in their submodules instead: {'; '.join(found.untraced)}", stacklevel=1)
    analysed = found.model if found is not None else model
    loaded = wrap_model(analysed, f"{file.name}:{function}", class_names, config, dev)
    gates = loaded.gates + (found.gates if found is not None else [])
    return dataclasses.replace(
        loaded, gates=renamed(forward_order(loaded.model, gates, example[:1])),
        weights=None if weights is None else (weights.name if isinstance(weights, WeightsBlob) else str(weights)),
        amp=amp if amp and amp != "off" else None)
