"""attnviz: see channel attention (SE, SK, split attention) inside convolutional networks.

Data flows one way: load model -> preprocess -> forward with capture -> statistics -> figures.

>>> from attnviz import load_model, load_image, analyse_images
>>> m = load_model("se_resnet18_imagenette")
>>> [a] = analyse_images(m, [load_image("photo.jpg")])
>>> a.values["SE_5_2"]        # excitation s of block SE_5_2, shape (1, C)
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from . import _moved

_moved.install()  # the import paths from before the level packages (attnviz/_moved.py)

#: Public name -> the module that defines it. Imported on first use, so that a light module
#: (``attnviz.i18n``, read by the app before PyTorch has loaded) does not import torch with the package.
_PUBLIC = {
    "AttentionCapture": "capture.attention", "CaptureResult": "capture.attention",
    "AttnvizError": "errors", "ImageLoadError": "errors", "ModelLoadError": "errors",
    "Gate": "gates", "discover_gates": "gates",
    "load_image": "images.loading", "load_images": "images.loading",
    "ImageAnalysis": "analysis.inference", "analyse_images": "analysis.inference",
    "forward_with_capture": "analysis.inference",
    "Profile": "profiles.profile", "load_profile": "profiles.profile",
    "LoadedModel": "models.zoo", "default_model_name": "models.zoo", "list_models": "models.zoo",
    "load_model": "models.zoo", "load_model_file": "models.zoo",
}

if TYPE_CHECKING:
    from .capture.attention import AttentionCapture, CaptureResult  # noqa: F401
    from .errors import AttnvizError, ImageLoadError, ModelLoadError  # noqa: F401
    from .gates import Gate, discover_gates  # noqa: F401
    from .images.loading import load_image, load_images  # noqa: F401
    from .analysis.inference import ImageAnalysis, analyse_images, forward_with_capture  # noqa: F401
    from .profiles.profile import Profile, load_profile  # noqa: F401
    from .models.zoo import LoadedModel, default_model_name, list_models, load_model, load_model_file  # noqa: F401


def __getattr__(name: str):
    if name in _PUBLIC:
        value = getattr(importlib.import_module(f".{_PUBLIC[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__version__ = "0.1.0"

__all__ = [
    "AttentionCapture", "AttnvizError", "CaptureResult", "Gate", "ImageAnalysis", "ImageLoadError",
    "LoadedModel", "ModelLoadError", "Profile", "analyse_images", "default_model_name",
    "discover_gates", "forward_with_capture", "list_models", "load_image", "load_images",
    "load_model", "load_model_file", "load_profile",
]
