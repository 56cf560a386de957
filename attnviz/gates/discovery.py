"""Find every registered attention gate in a torch model, in depth order."""
from __future__ import annotations

import torch
import torch.nn as nn

from .naming import paper_names
from .registry import Gate, gate_type_of


def _probe_channels(model: nn.Module, sources: dict[str, nn.Module], input_size: int) -> dict[str, int]:
    """Channel counts of the named source modules, measured in one small forward pass."""
    found: dict[str, int] = {}
    handles = []
    for path, source in sources.items():
        def hook(_module, _inp, out, path=path):
            found[path] = int(out.reshape(out.shape[0], -1).shape[1])
        handles.append(source.register_forward_hook(hook))
    param = next(model.parameters(), None)
    device = param.device if param is not None else torch.device("cpu")
    was_training = model.training
    try:
        model.eval()
        with torch.no_grad():
            model(torch.zeros(1, 3, input_size, input_size, device=device))
    finally:
        model.train(was_training)
        for h in handles:
            h.remove()
    return found


def discover_gates(model: nn.Module, probe_size: int = 64) -> list[Gate]:
    """Every attention gate of ``model`` whose module type is registered, in depth order.

    Depth order is module registration order, which is forward order for timm's CNNs.
    """
    entries = []
    for path, module in model.named_modules():
        gate_type = gate_type_of(module)
        if gate_type is None:
            continue
        source = gate_type.source(module)
        source_path = next(p for p, m in module.named_modules(prefix=path) if m is source)
        entries.append((path, source_path, module, source, gate_type))

    unknown = {sp: src for _, sp, m, src, gt in entries if gt.channels(m) is None}
    measured = _probe_channels(model, unknown, probe_size) if unknown else {}

    names = paper_names([(path, gt.kind.prefix) for path, _, _, _, gt in entries])
    gates = []
    for index, ((path, source_path, module, _, gt), (name, stage, block)) in enumerate(zip(entries, names, strict=True)):
        paths = gt.paths(module)
        channels = gt.channels(module)
        if channels is None:
            channels = measured[source_path] // paths
        gates.append(Gate(name=name, module=path, source=source_path, kind=gt.kind,
                          variant=gt.variant, channels=channels, paths=paths, stage=stage,
                          block=block, index=index))
    return gates
