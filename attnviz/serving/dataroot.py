"""The operator's data root (``ATTNVIZ_DATA_ROOT``): the only server folders a visitor can use.

Visitors never type a path: they choose among the root's subfolders (and weights files), and
every path, symbolic links included, is resolved and must stay inside the root.
"""
from __future__ import annotations

from pathlib import Path

from ..errors import AttnvizError
from ..i18n import _
from ..images.loading import EXTENSIONS

WEIGHTS_SUFFIXES = (".safetensors", ".pth", ".pt")
_MAX_LISTED = 500  # entries offered in a picker; a root with more is cut, not walked forever


class DataRoot:
    """Folders and files under one root, offered by their path relative to it."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).resolve()
        if not self.root.is_dir():
            raise AttnvizError(_("ATTNVIZ_DATA_ROOT={root} is not a folder; set it to the folder "
                                 "that holds the data you offer to the class, or unset it").format(root=root))

    def resolve(self, relative: str | Path) -> Path:
        """``root/relative`` resolved; refused when it leaves the root (``..``, absolute paths, links)."""
        candidate = (self.root / relative).resolve()
        if candidate != self.root and not candidate.is_relative_to(self.root):
            raise AttnvizError(_("{folder} is outside the data root; choose one of the folders offered").format(
                folder=relative))
        return candidate

    def inside(self, path: Path) -> bool:
        resolved = Path(path).resolve()
        return resolved == self.root or resolved.is_relative_to(self.root)

    def class_folders(self) -> list[str]:
        """Folders (relative paths, up to two levels down) whose subfolders hold images: datasets
        such as ``imagenette-224/val`` that a class profile can be made from."""
        found: list[str] = []
        for depth in ("*", "*/*"):
            for folder in sorted(self.root.glob(depth)):
                if len(found) >= _MAX_LISTED:
                    return found
                if folder.name.startswith(".") or not folder.is_dir() or not self.inside(folder):
                    continue
                if any(self._has_images(sub) for sub in self._subfolders(folder)):
                    found.append(folder.relative_to(self.root).as_posix())
        return found

    def weights_files(self) -> list[str]:
        """Weights files (relative paths) anywhere under the root."""
        found: list[str] = []
        for path in sorted(self.root.rglob("*")):
            if len(found) >= _MAX_LISTED:
                break
            if path.suffix.lower() in WEIGHTS_SUFFIXES and path.is_file() and self.inside(path):
                found.append(path.relative_to(self.root).as_posix())
        return found

    def image_samples(self, relative: str, per_class: int) -> tuple[list[tuple[Path, int]], list[str], list[str]]:
        """(file, class index) pairs of a class folder, at most ``per_class`` per class, and the
        class folder names; files or folders whose links lead outside the root are left out
        and listed (third value). The same choice as ``images.sampling.first_per_class`` over
        every image (tested so), made while walking: a class folder is not read past its limit,
        since each file kept costs a link check and a class may hold thousands."""
        folder = self.resolve(relative)
        if not folder.is_dir():
            raise AttnvizError(_("{folder} is not a folder under the data root; choose one of the folders "
                                 "offered").format(folder=relative))
        classes: list[str] = []
        samples: list[tuple[Path, int]] = []
        refused: list[str] = []
        for sub in self._subfolders(folder):
            if not self.inside(sub):
                refused.append(_("{name}: leads outside the data root").format(name=sub.name))
                continue
            files: list[Path] = []
            for path in sorted(sub.iterdir()):
                if len(files) >= per_class:
                    break
                if not self._is_image(path):
                    continue
                if not self.inside(path):
                    refused.append(_("{name}: leads outside the data root").format(name=f"{sub.name}/{path.name}"))
                    continue
                files.append(path)
            if files:
                samples += [(p, len(classes)) for p in files]
                classes.append(sub.name)
        if not samples:
            raise AttnvizError(_("{folder} has no class subfolders with images ({extensions}); choose another "
                                 "folder").format(folder=relative, extensions=", ".join(EXTENSIONS)))
        return samples, classes, refused

    @staticmethod
    def _subfolders(folder: Path) -> list[Path]:
        try:
            return sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
        except OSError:
            return []

    @staticmethod
    def _is_image(path: Path) -> bool:
        return path.suffix.lower() in EXTENSIONS and not path.name.startswith(".") and path.is_file()

    def _has_images(self, folder: Path) -> bool:
        try:
            return any(self._is_image(p) for p in folder.iterdir())
        except OSError:
            return False
