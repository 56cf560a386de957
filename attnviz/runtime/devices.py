"""Device and precision choices: 'auto' means CUDA when present, else CPU."""
from __future__ import annotations

import contextlib

import torch

from ..errors import AttnvizError
from ..i18n import _

AMP_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """'auto' -> cuda if available else cpu; 'cuda' without a GPU is a clear error."""
    if isinstance(device, torch.device):
        return device
    name = (device or "auto").lower()
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise AttnvizError(_("device {device} was asked for, but no CUDA GPU is available here; "
                             "use --device cpu or auto").format(device=repr(device)))
    try:
        dev = torch.device(name)
    except RuntimeError:
        raise AttnvizError(_("unknown device {device}; use auto, cpu or cuda").format(device=repr(device))) from None
    if dev.type == "cuda" and dev.index is not None and dev.index >= torch.cuda.device_count():
        # Else the first tensor moved there fails with CUDA's "invalid device ordinal".
        raise AttnvizError(_("device {device} was asked for, but this machine has {count} CUDA GPU(s), "
                             "numbered from 0; use cuda or cuda:0").format(device=repr(device),
                                                                           count=torch.cuda.device_count()))
    return dev


def describe_device(device: torch.device) -> str:
    """Human description (the app's sidebar shows it): the GPU's name on CUDA, 'CPU' otherwise."""
    if device.type == "cuda":
        return _("GPU: {name}").format(name=torch.cuda.get_device_name(device))
    return "CPU"


def autocast(device: torch.device, amp: str | None) -> contextlib.AbstractContextManager:
    """Mixed-precision context for ``amp`` in {'bf16', 'fp16', 'off', None}.

    Autocast is only used on CUDA: on CPU it is slower than float32 for these convolutions.
    """
    if not amp or amp == "off" or device.type != "cuda":
        return contextlib.nullcontext()
    if amp not in AMP_DTYPES:
        raise AttnvizError(_("unknown --amp {amp}; use bf16, fp16 or off").format(amp=repr(amp)))
    return torch.autocast("cuda", dtype=AMP_DTYPES[amp])


def configure_cpu_threads() -> int:
    """Pick torch's CPU thread count for interactive use, and return it.

    torch defaults to one thread per core, which on small machines is slower than fewer threads
    (measured on our 2-core CI machine: a bundled model's forward pass takes 15 ms with 1 thread and
    59 ms with 2, see BENCHMARKS.md), and the app also needs a core for Streamlit and the browser.
    So: ``ATTNVIZ_THREADS`` or ``OMP_NUM_THREADS`` when set, else half the cores, at most 4.
    """
    import os

    for var in ("ATTNVIZ_THREADS", "OMP_NUM_THREADS"):
        value = os.environ.get(var, "").strip()
        if value.isdigit() and int(value) > 0:
            threads = int(value)
            break
    else:
        threads = max(1, min(4, (os.cpu_count() or 2) // 2))
    torch.set_num_threads(threads)
    return threads
