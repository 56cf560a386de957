"""The import paths of attnviz before its modules were grouped by level, kept working.

``import attnviz.scale`` or ``from attnviz.zoo import load_model`` (notebooks and scripts written
before the move) gets the module at its new path, the same module object, so patching one patches
the other. A finder on ``sys.meta_path`` maps the old name, or anything under an old package name,
to the new one; nothing else is imported.
"""
from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
from types import ModuleType

#: old module or package -> where it is now (a package maps everything under it too)
MOVED = {
    "attnviz.app.attribution": "attnviz.app.pages.attribution",
    "attnviz.app.compare": "attnviz.app.pages.compare",
    "attnviz.app.explore": "attnviz.app.pages.explore",
    "attnviz.app.home": "attnviz.app.pages.home",
    "attnviz.app.learn": "attnviz.app.pages.learn",
    "attnviz.app.live": "attnviz.app.pages.live",
    "attnviz.app.models": "attnviz.app.pages.models",
    "attnviz.app.scale": "attnviz.app.pages.scale",
    "attnviz.architectures": "attnviz.models.architectures",
    "attnviz.atomic": "attnviz.runtime.atomic",
    "attnviz.attribution": "attnviz.analysis.attribution",
    "attnviz.bundle": "attnviz.training.bundle",
    "attnviz.catalogues": "attnviz.i18n.catalogues",
    "attnviz.claims": "attnviz.analysis.claims",
    "attnviz.class_stats": "attnviz.profiles.class_stats",
    "attnviz.classes": "attnviz.models.classes",
    "attnviz.decode_worker": "attnviz.images.decode_worker",
    "attnviz.devices": "attnviz.runtime.devices",
    "attnviz.evaluate": "attnviz.training.evaluate",
    "attnviz.fetch": "attnviz.training.imagenette",
    "attnviz.hooks": "attnviz.capture.hooks",
    "attnviz.imagecost": "attnviz.images.decode_cost",
    "attnviz.inference": "attnviz.analysis.inference",
    "attnviz.literal": "attnviz.figures.literal",
    "attnviz.memory": "attnviz.runtime.memory",
    "attnviz.model_comparison": "attnviz.analysis.model_comparison",
    "attnviz.openset": "attnviz.analysis.openset",
    "attnviz.preprocess": "attnviz.models.preprocess",
    "attnviz.profile_format": "attnviz.profiles.file_format",
    "attnviz.profiling": "attnviz.profiles.builder",
    "attnviz.sampling": "attnviz.images.sampling",
    "attnviz.scale": "attnviz.analysis.scale",
    "attnviz.stats": "attnviz.analysis.statistics",
    "attnviz.tensorheader": "attnviz.runtime.tensorheader",
    "attnviz.train": "attnviz.training.train",
    "attnviz.train_gpu": "attnviz.training.train_gpu",
    "attnviz.walkthrough": "attnviz.analysis.walkthrough",
    "attnviz.zoo": "attnviz.models.zoo",
}


def new_name(name: str) -> str | None:
    """The module's name today, or None when ``name`` is not an old path."""
    for old in sorted(MOVED, key=len, reverse=True):
        if name == old or name.startswith(old + "."):
            return MOVED[old] + name[len(old):]
    return None


class _MovedModule(importlib.abc.Loader):
    """Loads an old name as the module at its new path (the import system returns whatever
    ``sys.modules`` holds under the name after ``exec_module``)."""

    def __init__(self, target: str) -> None:
        self.target = target

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        return ModuleType(spec.name)  # a placeholder, replaced in exec_module

    def exec_module(self, module: ModuleType) -> None:
        sys.modules[module.__name__] = importlib.import_module(self.target)


class MovedModuleFinder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname: str, path=None, target=None):  # noqa: ARG002  the MetaPathFinder signature
        moved = new_name(fullname)
        if moved is None:
            return None
        return importlib.machinery.ModuleSpec(fullname, _MovedModule(moved))


def install() -> None:
    """Put the finder first on ``sys.meta_path`` (once): before the path finder, which would load
    a moved package's files a second time under the old name."""
    if not any(isinstance(f, MovedModuleFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, MovedModuleFinder())
