"""attnviz: see channel attention (SE, SK, split attention) inside convolutional networks.

Data flows one way: load model -> preprocess -> forward with capture -> statistics -> figures.

>>> from attnviz import load_model, load_image, analyse_images
>>> m = load_model("se_resnet18_imagenette")
>>> [a] = analyse_images(m, [load_image("photo.jpg")])
>>> a.values["SE_5_2"]        # excitation s of block SE_5_2, shape (1, C)

The public API is ``__all__`` below (what the notebooks import), plus the figure builders of
``attnviz.figures.*``. The package is grouped by level, lowest first: ``runtime``, ``models``,
``images``, ``gates``, ``capture``, ``analysis``, ``profiles``, ``training``, ``figures``, ``views``,
``serving``, ``live``, ``app``, ``cli``; ``i18n`` and ``errors`` serve them all. Import paths from
before the levels (``attnviz.scale``, ``attnviz.zoo``, ...) still work (``attnviz._moved``).
"""
from __future__ import annotations

import importlib
import sys
from types import ModuleType
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
    # the analyses, statistics and profile tools the notebooks use
    "channel_attribution": "analysis.attribution",
    "gradcam": "analysis.attribution",
    "knockout": "analysis.attribution",
    "compare_models": "analysis.model_comparison",
    "scale_sweep": "analysis.scale",
    "zoom": "analysis.scale",
    "direction_verdicts": "analysis.statistics",
    "gate_summary": "analysis.statistics",
    "mcnemar_exact": "analysis.statistics",
    "paired_t_test": "analysis.statistics",
    "StepRecorder": "analysis.walkthrough",
    "walkthrough": "analysis.walkthrough",
    "SE": "gates.se",
    "SK": "gates.sk",
    "SPLAT": "gates.splat",
    "evenly_spaced": "images.sampling",
    "imagenet_class_names": "models.classes",
    "wrap_model": "models.zoo",
    "profile_dataset": "profiles.builder",
    "profile_images": "profiles.builder",
    "block_class_means": "profiles.class_stats",
    "class_dependence": "profiles.class_stats",
    "paper_default_blocks": "profiles.class_stats",
    "present_classes": "profiles.class_stats",
    "scale_shift_tests": "profiles.class_stats",
    "bundled_profile_path": "profiles.profile",
    "class_targets": "models.classes",
}

if TYPE_CHECKING:
    from .capture.attention import AttentionCapture, CaptureResult  # noqa: F401
    from .errors import AttnvizError, ImageLoadError, ModelLoadError  # noqa: F401
    from .gates import Gate, discover_gates  # noqa: F401
    from .images.loading import load_image, load_images  # noqa: F401
    from .analysis.inference import ImageAnalysis, analyse_images, forward_with_capture  # noqa: F401
    from .profiles.profile import Profile, load_profile  # noqa: F401
    from .models.zoo import LoadedModel, default_model_name, list_models, load_model, load_model_file  # noqa: F401
    from .analysis.attribution import channel_attribution, gradcam, knockout  # noqa: F401
    from .analysis.model_comparison import compare_models  # noqa: F401
    from .analysis.scale import scale_sweep, zoom  # noqa: F401
    from .analysis.statistics import direction_verdicts, gate_summary, mcnemar_exact, paired_t_test  # noqa: F401
    from .analysis.walkthrough import StepRecorder, walkthrough  # noqa: F401
    from .gates.se import SE  # noqa: F401
    from .gates.sk import SK  # noqa: F401
    from .gates.splat import SPLAT  # noqa: F401
    from .images.sampling import evenly_spaced  # noqa: F401
    from .models.classes import imagenet_class_names  # noqa: F401
    from .models.zoo import wrap_model  # noqa: F401
    from .profiles.builder import profile_dataset, profile_images  # noqa: F401
    from .profiles.class_stats import block_class_means, class_dependence, paper_default_blocks, present_classes, scale_shift_tests  # noqa: F401
    from .profiles.profile import bundled_profile_path  # noqa: F401
    from .models.classes import class_targets  # noqa: F401


class _Package(ModuleType):
    """The package module: an old module path (``attnviz.walkthrough``, attnviz._moved) that is
    imported binds the module as an attribute of its parent; where that name is also a public one
    (the function ``walkthrough``), the public object stays what ``attnviz.<name>`` means."""

    def __setattr__(self, name: str, value: object) -> None:
        if name in _PUBLIC and isinstance(value, ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


def __getattr__(name: str):
    if name in _PUBLIC:
        value = getattr(importlib.import_module(f".{_PUBLIC[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__version__ = "0.1.0"

__all__ = [
    "AttentionCapture", "AttnvizError", "CaptureResult", "Gate", "ImageAnalysis", "ImageLoadError",
    "LoadedModel", "ModelLoadError", "Profile", "SE", "SK", "SPLAT", "StepRecorder", "analyse_images",
    "block_class_means", "bundled_profile_path", "channel_attribution", "class_dependence", "class_targets",
    "compare_models", "default_model_name", "direction_verdicts", "discover_gates", "evenly_spaced",
    "forward_with_capture", "gate_summary", "gradcam", "imagenet_class_names", "knockout", "list_models",
    "load_image", "load_images", "load_model", "load_model_file", "load_profile", "mcnemar_exact",
    "paired_t_test", "paper_default_blocks", "present_classes", "profile_dataset", "profile_images",
    "scale_shift_tests", "scale_sweep", "walkthrough", "wrap_model", "zoom",
]
