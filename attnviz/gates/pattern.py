"""Gates found in any ``nn.Module`` by what they compute, not by their class.

``discover_gates`` knows timm's attention modules by type and name. A researcher's own network
has its own classes, so ``find_pattern_gates`` reads the computation instead: it traces the model
with ``torch.fx``, propagates the shapes of a dummy batch (``ShapeProp``) and looks for

* **channel gates** — the output of a sigmoid-like op (``torch.sigmoid``, ``Tensor.sigmoid``,
  ``F.sigmoid``, ``nn.Sigmoid``, ``F.hardsigmoid``, ``nn.Hardsigmoid``, timm's ``Sigmoid`` and
  ``HardSigmoid`` modules) multiplied onto a feature
  map (B, C, H, W), where the gate holds one value per image and channel (it broadcasts over the
  spatial dims only, after any view/reshape/unsqueeze/indexing with ``None``). That covers SE,
  ECA, CBAM's channel half, gather-excite with a global extent, functional calls in a forward,
  any attribute names and nested containers. They become gates of the SE kind (``variant
  'pattern'``).
* **selection gates** — a softmax across a branch axis (dim 1, P >= 2 paths) whose weights
  multiply stacked branches (B, P, C, H, W), or, indexed per path, two or more branch feature
  maps (B, C, H, W) (SK, ResNeSt-like). They become gates of the SK kind (``variant 'pattern'``).

Not gates: a sigmoid that is returned or used otherwise, a spatial map (B, 1, H, W) multiplied
onto features, a sigmoid multiplied by a scalar, a learned per-channel scale that does not depend
on the image (its batch dimension is 1), a softmax over any other axis.

Capture hooks a gate's ``source`` submodule. A gate computed by an ``nn.Sigmoid``/``nn.Softmax``
module called once is captured there and the model is left as it is. A functional gate
(``torch.sigmoid(x)``) has no submodule, so the traced module is rewritten: a ``GateTap`` (an
identity module) is inserted right after the op, at ``<module>.gate_tap``, and the analysed model
is a copy in which the traced ``GraphModule`` stands for that module (for the whole model when it
traced as one). It shares the parameters, which keep their names, so the state dict is unchanged;
the given model is not modified.

Modules that ``torch.fx`` cannot trace (data-dependent control flow ...) are skipped gracefully:
their submodules are traced one by one instead, and ``PatternGates.untraced`` lists the modules
that could not be traced, with the reason. Registered attention modules (timm's) are left whole:
``discover_gates`` finds those.
"""
from __future__ import annotations

import copy
import operator
from dataclasses import dataclass, field
from typing import Any, cast
from collections.abc import Iterable

import torch
import torch.fx as fx
import torch.nn as nn
import torch.nn.functional as F
from timm.layers.activations import HardSigmoid as TimmHardSigmoid, Sigmoid as TimmSigmoid
from torch.fx.passes.shape_prop import ShapeProp

from .naming import paper_names
from .registry import Gate, gate_type_of
from .se import SE
from .sk import SK

VARIANT = "pattern"

_SIGMOID_FUNCTIONS = {torch.sigmoid, F.sigmoid, F.hardsigmoid, torch.special.expit}
_SIGMOID_METHODS = {"sigmoid", "sigmoid_"}
#: timm's own activation modules count as modules (kept whole), not as code to trace through.
_SIGMOID_MODULES = (nn.Sigmoid, nn.Hardsigmoid, TimmSigmoid, TimmHardSigmoid)
_SOFTMAX_FUNCTIONS = {torch.softmax, F.softmax}
_SOFTMAX_METHODS = {"softmax"}

#: Ops that only change a tensor's shape or type, not its values (or order within a channel).
_SHAPE_METHODS = {"view", "reshape", "unsqueeze", "squeeze", "expand", "expand_as", "view_as",
                  "reshape_as", "contiguous", "flatten", "unflatten", "to", "type", "float", "half",
                  "bfloat16", "type_as", "clone", "detach", "transpose", "permute"}
_EXPAND_METHODS = {"expand", "expand_as"}
_SHAPE_FUNCTIONS = {torch.reshape, torch.unsqueeze, torch.squeeze, torch.flatten, torch.transpose,
                    torch.permute, torch.clone}
_SHAPE_MODULES = (nn.Identity, nn.Flatten, nn.Unflatten)
#: Ops that pick paths out of a selection's weights.
_INDEX_METHODS = {"unbind", "chunk", "split", "select", "narrow"}
_INDEX_FUNCTIONS = {torch.unbind, torch.chunk, torch.split, torch.select, torch.narrow}
_MUL_FUNCTIONS = {operator.mul, operator.imul, torch.mul}
_MUL_METHODS = {"mul", "mul_"}


class GateTap(nn.Module):
    """Identity: inserted after a functional gate op so that capture has a module to hook."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x


@dataclass
class PatternGates:
    """What ``find_pattern_gates`` found.

    model: the model to analyse — the one given, or, where ``GateTap`` modules were inserted, a
        copy with the traced parts replaced (sharing the parameters; the given model is unchanged).
    gates: the gates, in forward order, named by depth (``SE_1``, ``SK_1`` ...).
    untraced: "module path: reason" for each module ``torch.fx`` could not trace ('' is the
        model itself); gates inside those (outside their traceable submodules) were not looked for.
    """

    model: nn.Module
    gates: list[Gate]
    untraced: list[str] = field(default_factory=list)


@dataclass
class _Found:
    node: fx.Node
    kind: Any
    channels: int
    paths: int


class _Tracer(fx.Tracer):
    """torch.fx's tracer, keeping registered attention modules (timm's) whole."""

    def is_leaf_module(self, m: nn.Module, qualname: str) -> bool:
        return (gate_type_of(m) is not None or isinstance(m, _SIGMOID_MODULES)
                or super().is_leaf_module(m, qualname))


def _is_leaf(m: nn.Module) -> bool:
    return _Tracer().is_leaf_module(m, "")


def _shape(node: Any) -> tuple[int, ...] | None:
    meta = node.meta.get("tensor_meta") if isinstance(node, fx.Node) else None
    return tuple(meta.shape) if meta is not None and hasattr(meta, "shape") else None


def _module_path(node: fx.Node) -> str:
    """The target of a ``call_module`` node: always the called module's path (fx's contract)."""
    return cast(str, node.target)


def _module(gm: fx.GraphModule, node: fx.Node) -> nn.Module | None:
    return gm.get_submodule(_module_path(node)) if node.op == "call_module" else None


def _is_sigmoid(gm: fx.GraphModule, node: fx.Node) -> bool:
    return ((node.op == "call_function" and node.target in _SIGMOID_FUNCTIONS)
            or (node.op == "call_method" and node.target in _SIGMOID_METHODS)
            or isinstance(_module(gm, node), _SIGMOID_MODULES))


def _softmax_dim(gm: fx.GraphModule, node: fx.Node) -> int | None:
    """The softmax axis when ``node`` is a softmax, else None."""
    module = _module(gm, node)
    if node.op == "call_module" and isinstance(module, nn.Softmax):
        return module.dim
    if (node.op == "call_function" and node.target in _SOFTMAX_FUNCTIONS) or \
            (node.op == "call_method" and node.target in _SOFTMAX_METHODS):
        dim = node.kwargs.get("dim", node.args[1] if len(node.args) > 1 else None)
        return dim if isinstance(dim, int) else None
    return None


def _plain_getitem(index: Any) -> bool:
    """x[:, :, None, None], x[..., None]: adds axes, selects nothing."""
    items = index if isinstance(index, tuple) else (index,)
    return all(i is None or i is Ellipsis or i == slice(None) for i in items)


def _passes_shape(gm: fx.GraphModule, node: fx.Node, source: fx.Node) -> bool:
    if node.op == "call_method" and node.target in _SHAPE_METHODS:
        return node.args[0] is source
    if node.op == "call_function" and node.target in _SHAPE_FUNCTIONS:
        return node.args[0] is source
    if node.op == "call_function" and node.target is operator.getitem:
        return node.args[0] is source and _plain_getitem(node.args[1])
    return isinstance(_module(gm, node), _SHAPE_MODULES)


def _passes_index(node: fx.Node, source: fx.Node) -> bool:
    if node.op == "call_method" and node.target in _INDEX_METHODS:
        return node.args[0] is source
    if node.op == "call_function" and node.target in _INDEX_FUNCTIONS:
        return node.args[0] is source
    return node.op == "call_function" and node.target is operator.getitem and node.args[0] is source


def _multiplications(gm: fx.GraphModule, start: fx.Node, index: bool) -> list[tuple[fx.Node, fx.Node, Any]]:
    """(mul node, gate operand, other operand) for every multiplication that ``start``'s values
    reach through shape-only ops (and, with ``index``, ops that pick paths)."""
    found, frontier, seen = [], [(start, start)], {start}
    while frontier:
        node, shaped = frontier.pop()   # shaped: the node whose shape the gate has (before expand)
        for user in node.users:
            if user in seen:
                continue
            if (user.op == "call_function" and user.target in _MUL_FUNCTIONS) or \
                    (user.op == "call_method" and user.target in _MUL_METHODS):
                a, b = user.args[0], user.args[1] if len(user.args) > 1 else user.kwargs.get("other")
                if a is node or b is node:
                    found.append((user, shaped, b if a is node else a))
                continue
            if _passes_shape(gm, user, node) or (index and _passes_index(user, node)):
                seen.add(user)
                expands = user.op == "call_method" and user.target in _EXPAND_METHODS
                frontier.append((user, shaped if expands else user))
    return found


def _broadcasts_per_channel(gate: tuple[int, ...] | None, feature: tuple[int, ...] | None, batch: int,
                            channel_axis: int = 1) -> bool:
    """``gate`` has one value per image and channel of ``feature`` (B, [P,] C, H, W)."""
    if gate is None or feature is None or len(feature) < channel_axis + 3 or len(gate) > len(feature):
        return False
    gate = (1,) * (len(feature) - len(gate)) + gate
    head, spatial = gate[:channel_axis + 1], gate[channel_axis + 1:]
    return (gate[0] == batch == feature[0] and head[1:] == feature[1:channel_axis + 1]
            and feature[channel_axis] > 1 and all(s == 1 for s in spatial))


def _channel_gate(gm: fx.GraphModule, node: fx.Node, batch: int) -> _Found | None:
    out = _shape(node)
    if not out or out[0] != batch:
        return None
    per_image = 1
    for s in out[1:]:
        per_image *= s
    for _mul, gate, other in _multiplications(gm, node, index=False):
        feature = _shape(other)
        if _broadcasts_per_channel(_shape(gate), feature, batch) and feature is not None and feature[1] == per_image:
            return _Found(node, SE, per_image, 1)
    return None


def _selection_gate(gm: fx.GraphModule, node: fx.Node, batch: int) -> _Found | None:
    dim, out = _softmax_dim(gm, node), _shape(node)
    if dim is None or not out or out[0] != batch:
        return None
    if dim < 0:
        dim += len(out)
    if dim != 1 or out[1] < 2:
        return None  # values are read (paths, C): the paths must be the first axis after the batch
    paths = out[1]
    per_path = 1
    for s in out[2:]:
        per_path *= s
    stacked, per_branch = False, 0
    for _mul, gate, other in _multiplications(gm, node, index=True):
        g, f = _shape(gate), _shape(other)
        if f is not None and len(f) == 5 and f[1] == paths and f[2] == per_path \
                and _broadcasts_per_channel(g, f, batch, channel_axis=2):
            stacked = True
        elif f is not None and len(f) == 4 and f[1] == per_path and _broadcasts_per_channel(g, f, batch):
            per_branch += 1
    if stacked or per_branch >= 2:
        return _Found(node, SK, per_path, paths)
    return None


def _find(gm: fx.GraphModule, batch: int) -> list[_Found]:
    found = []
    for node in gm.graph.nodes:
        hit = _channel_gate(gm, node, batch) if _is_sigmoid(gm, node) else _selection_gate(gm, node, batch)
        if hit is not None:
            found.append(hit)
    return found


def _owner(node: fx.Node) -> str:
    """Path (relative to the traced module) of the innermost module that computed ``node``."""
    stack = [path for path, _type in node.meta.get("nn_module_stack", {}).values()]
    if node.op == "call_module":
        stack = [p for p in stack if p != node.target]
        if not stack:
            return _module_path(node).rpartition(".")[0]
    return stack[-1] if stack else ""


def _join(prefix: str, path: str) -> str:
    return ".".join(p for p in (prefix, path) if p)


def _tap(gm: fx.GraphModule, node: fx.Node, owner: str) -> str:
    """Insert a GateTap after ``node``; returns its path in ``gm``."""
    base = _join(owner, "gate_tap")
    target, k = base, 1
    while _has_path(gm, target):
        target, k = f"{base}_{k}", k + 1
    if not gm.add_submodule(target, GateTap()):
        target = f"gate_tap_{len(list(gm.modules()))}"
        gm.add_submodule(target, GateTap())
    with gm.graph.inserting_after(node):
        tap = gm.graph.call_module(target, (node,))
    node.replace_all_uses_with(tap, delete_user_cb=lambda user: user is not tap)
    return target


def _has_path(module: nn.Module, path: str) -> bool:
    for item in path.split("."):
        if not hasattr(module, item):
            return False
        module = getattr(module, item)
    return True


def _analyse(module: nn.Module, args: tuple, kwargs: dict, batch: int) -> tuple[fx.GraphModule, list[tuple[str, str, _Found]], bool]:
    """Trace ``module`` and find its gates: (graph module, [(owner, source, found)], rewritten)."""
    graph = _Tracer().trace(module)
    gm = fx.GraphModule(module, graph, type(module).__name__)
    ShapeProp(gm).propagate(*args, *kwargs.values())
    found = _find(gm, batch)
    calls: dict[str, int] = {}
    for node in gm.graph.nodes:
        if node.op == "call_module":
            calls[_module_path(node)] = calls.get(_module_path(node), 0) + 1
    entries: list[tuple[str, str, _Found]] = []
    rewritten = False
    for hit in found:
        owner = _owner(hit.node)
        if hit.node.op == "call_module" and calls[_module_path(hit.node)] == 1:
            entries.append((owner, _module_path(hit.node), hit))
        else:  # a functional op, or a module called more than once: tap its output
            entries.append((owner, _tap(gm, hit.node, owner), hit))
            rewritten = True
    if rewritten:
        gm.recompile()
    return gm, entries, rewritten


def _record_inputs(model: nn.Module, example: torch.Tensor) -> dict[nn.Module, tuple[tuple, dict]]:
    """The first inputs of every module in one forward pass of ``example``."""
    inputs: dict[nn.Module, tuple[tuple, dict]] = {}

    def hook(mod, args, kwargs):
        inputs.setdefault(mod, (args, kwargs))
    _run_hooked(model, example, [m.register_forward_pre_hook(hook, with_kwargs=True) for m in model.modules()])
    return inputs


def _reason(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0][:160]}" if text else type(exc).__name__


def find_pattern_gates(model: nn.Module, input_size: int | tuple[int, int] = 64, in_chans: int = 3,
                       example: torch.Tensor | None = None) -> PatternGates:
    """The channel and selection gates of any ``nn.Module``, found by what they compute.

    The model is put in eval mode and run on a dummy batch of two images (``example``, or zeros of
    ``in_chans`` x ``input_size``) to know every tensor's shape. Returns the model to analyse (the
    same object, or where functional gates needed a ``GateTap`` a traced copy sharing its parameters;
    the given model is not changed), the gates
    named ``SE_1``, ``SK_1`` ... by depth (or by stage and block for ResNet-like paths, see
    ``naming``), and the modules that could not be traced.
    """
    size = (input_size, input_size) if isinstance(input_size, int) else tuple(input_size)
    param = next(model.parameters(), None)
    device = param.device if param is not None else torch.device("cpu")
    if example is None:
        example = torch.zeros(2, in_chans, *size, device=device)
    batch = example.shape[0]
    model.eval()
    entries: list[tuple[str, str, _Found]] = []
    untraced: list[str] = []
    inputs: dict[nn.Module, tuple[tuple, dict]] | None = None

    def visit(module: nn.Module, path: str, parent: nn.Module | None) -> nn.Module:
        nonlocal inputs
        if _is_leaf(module):
            return module
        try:
            if parent is None:
                args: tuple = (example,)
                kwargs: dict = {}
            else:
                if inputs is None:
                    inputs = _record_inputs(model, example)
                if module not in inputs:
                    return module  # never called in a forward pass: nothing to analyse
                args, kwargs = inputs[module]
            with torch.no_grad():
                gm, found, rewritten = _analyse(module, args, kwargs, batch)
        except Exception as exc:  # tracing and shape propagation fail in many ways
            untraced.append(f"{path or '(the model)'}: {_reason(exc)}")
            children = {n: visit(c, _join(path, n), module) for n, c in module.named_children()}
            if all(children[n] is c for n, c in module.named_children()):
                return module
            # A shallow copy with the rewritten children: the given model stays as it was.
            copied = copy.copy(module)
            copied._modules = {**module._modules, **children}
            return copied
        entries.extend((_join(path, owner), _join(path, source), hit) for owner, source, hit in found)
        if rewritten:
            gm.train(module.training)
            return gm
        return module

    result = visit(model, "", None)
    names = paper_names([(owner, hit.kind.prefix) for owner, _, hit in entries])
    gates = [Gate(name=name, module=owner, source=source, kind=hit.kind, variant=VARIANT,
                  channels=hit.channels, paths=hit.paths, stage=stage, block=block, index=i)
             for i, ((owner, source, hit), (name, stage, block)) in enumerate(zip(entries, names, strict=True))]
    return PatternGates(result, gates, untraced)


def forward_order(model: nn.Module, gates: Iterable[Gate], example: torch.Tensor) -> list[Gate]:
    """``gates`` sorted by when their source first runs in a forward pass of ``example``."""
    gates = list(gates)
    modules = dict(model.named_modules())
    order: dict[str, int] = {}

    def seen(source: str):
        def hook(_m, _i, _o) -> None:  # returns None: the output is left as it is
            order.setdefault(source, len(order))
        return hook
    _run_hooked(model, example, [modules[g.source].register_forward_hook(seen(g.source)) for g in gates])
    return sorted(gates, key=lambda g: order.get(g.source, len(order)))


def renamed(gates: list[Gate]) -> list[Gate]:
    """Gates given in depth order, named and indexed afresh (after merging two discoveries)."""
    from dataclasses import replace

    names = paper_names([(g.module, g.kind.prefix) for g in gates])
    return [replace(g, name=name, stage=stage, block=block, index=i)
            for i, (g, (name, stage, block)) in enumerate(zip(gates, names, strict=True))]


__all__ = ["GateTap", "PatternGates", "VARIANT", "find_pattern_gates", "forward_order", "renamed"]


def _run_hooked(model: nn.Module, example: torch.Tensor, handles: list) -> None:
    """One forward pass of ``example`` with the given hooks, which are always removed."""
    try:
        with torch.no_grad():
            model(example)
    finally:
        for handle in handles:
            handle.remove()
