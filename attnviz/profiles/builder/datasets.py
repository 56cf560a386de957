"""What to profile: a list of (image file, class) read from an ImageFolder tree or a CSV.

* **ImageFolder**: ``DATA/<class>/<image>``; ImageNet wnid folder names (``n01440764``) become
  their ImageNet class names ('tench').
* **Folder + CSV**: ``file,label`` rows, files relative to the folder (or absolute); a label is a
  class name or a wnid, and the classes are the distinct labels in sorted order.

Files are decoded by ``attnviz.images.loading.load_image`` in the DataLoader's workers. A file that cannot
be read (corrupt, truncated, not an image, missing) is never fatal: it comes out of the loader as
an error message, is counted and listed at the end, and the other images go on.
"""
from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from collections.abc import Callable, Sequence

import torch
from PIL import Image
from torch.utils.data import Dataset

from ...models.classes import folder_class_name
from ...errors import AttnvizError, ImageLoadError
from ...i18n import _
from ...images.loading import EXTENSIONS, load_image
from ...models.preprocess import PATH_CROP_FIRST, preprocessing_path
from ...images.sampling import first_per_class
from ...analysis.scale import zoom


@dataclass
class ProfileData:
    """The images of a profile run and their classes, in a fixed order (index = sample id)."""

    root: Path
    samples: list[tuple[Path, int]]           # (file, class index), sorted by class then name
    class_folders: list[str]                  # folder names or CSV labels, as found
    class_names: list[str]                    # readable names (wnids -> ImageNet names)
    csv: Path | None = None
    excluded: list[str] = field(default_factory=list)  # CSV rows that name no file, with reasons

    def __len__(self) -> int:
        return len(self.samples)

    def fingerprint(self) -> str:
        """sha256 of the sample list (relative paths and classes): a resumed run must see the same."""
        digest = hashlib.sha256()
        for path, label in self.samples:
            rel = path.relative_to(self.root) if path.is_relative_to(self.root) else path
            digest.update(f"{rel.as_posix()}\t{self.class_folders[label]}\n".encode())
        return digest.hexdigest()

    def limit_per_class(self, limit: int) -> ProfileData:
        """The first ``limit`` images of every class (0 keeps them all)."""
        if not limit:
            return self
        return ProfileData(self.root, first_per_class(self.samples, limit), self.class_folders, self.class_names,
                           self.csv, self.excluded)


def _is_image_file(path: Path) -> bool:
    return path.is_file() and path.suffix.lower() in EXTENSIONS and not path.name.startswith(".")


def image_folder(root: str | Path) -> ProfileData:
    """Samples of an ImageFolder tree ``root/<class>/<image>``."""
    root = Path(root)
    if not root.is_dir():
        raise AttnvizError(_("{folder} is not a folder; pass a folder of class subfolders "
                             "(or a folder and --csv FILE with file,label rows)").format(folder=root))
    folders = sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not folders:
        raise AttnvizError(_("{folder} has no class subfolders; pass a folder of class subfolders "
                             "(<class>/<image>), or a folder and --csv FILE with file,label rows").format(folder=root))
    samples = []
    for label, folder in enumerate(folders):
        samples += [(p, label) for p in sorted((root / folder).iterdir()) if _is_image_file(p)]
    if not samples:
        nested = [f for f in folders if any(p.is_dir() for p in (root / f).iterdir())]
        hint = _("; it looks like a dataset root with splits ({splits}): pass one of them, e.g. {example}").format(
            splits=", ".join(nested), example=root / nested[0]) if nested else ""
        raise AttnvizError(_("{folder} has class subfolders but no image files in them ({extensions}){hint}").format(
            folder=root, extensions=", ".join(EXTENSIONS), hint=hint))
    return ProfileData(root, samples, folders, [folder_class_name(f) for f in folders])


def folder_with_csv(root: str | Path, csv_path: str | Path) -> ProfileData:
    """Samples named by a CSV with a ``file,label`` header; files relative to ``root``."""
    root, csv_path = Path(root), Path(csv_path)
    if not root.is_dir():
        raise AttnvizError(_("{folder} is not a folder; with --csv, DATA is the folder the CSV's "
                             "files are relative to").format(folder=root))
    if not csv_path.is_file():
        raise AttnvizError(_("CSV file {file} does not exist").format(file=csv_path))
    try:
        with open(csv_path, newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            header = [h.strip().lower() for h in reader.fieldnames or []]
            rows = list(reader)
    except (UnicodeDecodeError, csv.Error) as exc:
        raise AttnvizError(_("{file} is not a readable CSV file ({error}); write it as UTF-8 text "
                             "with a file,label header").format(file=csv_path, error=exc)) from None
    if not rows or not {"file", "label"} <= set(header):
        raise AttnvizError(_("{file} needs a header row 'file,label' and at least one row "
                             "(found columns: {columns})").format(file=csv_path, columns=", ".join(header) or "none"))
    rows = [{k.strip().lower(): (v or "").strip() for k, v in r.items() if k} for r in rows]
    excluded = [f"{csv_path.name} row {i + 2}: empty file or label"
                for i, r in enumerate(rows) if not r["file"] or not r["label"]]
    rows = [r for r in rows if r["file"] and r["label"]]
    folders = sorted({r["label"] for r in rows})
    index = {f: i for i, f in enumerate(folders)}
    samples = sorted(((root / r["file"], index[r["label"]]) for r in rows), key=lambda s: (s[1], str(s[0])))
    return ProfileData(root, samples, folders, [folder_class_name(f) for f in folders], csv_path, excluded)


def open_data(data: str | Path | ProfileData, csv_path: str | Path | None = None) -> ProfileData:
    """``data`` as ProfileData: an ImageFolder tree, or a folder plus a ``file,label`` CSV."""
    if isinstance(data, ProfileData):
        return data
    return folder_with_csv(data, csv_path) if csv_path else image_folder(data)


# ---------------------------------------------------------------- torch side

#: Reads sample ``path`` (named ``name`` in messages) as an RGB image; raises ImageLoadError.
ImageLoader = Callable[[Path, str], Image.Image]


class ProfileImages(Dataset):
    """Item i: the transformed views of sample i at every scale, or the reason it is unreadable."""

    def __init__(self, samples: Sequence[tuple[Path, int]], transform: Callable[[Image.Image], torch.Tensor],
                 scales: Sequence[float] = (1.0,), root: Path | None = None,
                 loader: ImageLoader = load_image) -> None:
        self.samples = list(samples)
        self.transform = transform
        self.scales = [float(s) for s in scales]
        self.root = root
        self.loader = loader

    def __len__(self) -> int:
        return len(self.samples)

    def _name(self, path: Path) -> str:
        if self.root is not None and path.is_relative_to(self.root):
            return path.relative_to(self.root).as_posix()
        return str(path)

    def __getitem__(self, index: int) -> dict:
        path, label = self.samples[index]
        name = self._name(path)
        try:
            image = self.loader(path, name)
            views = torch.stack([self.transform(zoom(image, s)) for s in self.scales])
            crop_first = preprocessing_path(self.transform, image.size) == PATH_CROP_FIRST
        except ImageLoadError as exc:
            return {"index": index, "file": name, "error": exc.reason}
        except (OSError, ValueError, RuntimeError) as exc:  # a decodable file the transform refuses
            return {"index": index, "file": name, "error": f"cannot be preprocessed ({exc})"}
        return {"index": index, "label": label, "views": views, "file": name, "crop_first": crop_first}


@dataclass
class Batch:
    """A collated batch: ``views`` (S, N, 3, H, W) of the readable images, and the unreadable ones."""

    index: torch.Tensor            # (N,) sample ids of the readable images
    labels: torch.Tensor           # (N,) class indices
    views: torch.Tensor | None     # (S, N, 3, H, W), each scale contiguous; None if N == 0
    failed: list[dict]             # {"index", "file", "error"} of the unreadable ones
    crop_first: list[str] = field(default_factory=list)  # readable images preprocessed crop-first

    def __len__(self) -> int:
        return int(self.index.shape[0])

    def pin_memory(self) -> Batch:
        # DataLoader(pin_memory=True) calls this on custom batch types.
        return Batch(self.index, self.labels,
                     self.views.pin_memory() if self.views is not None else None, self.failed, self.crop_first)


def collate(items: list[dict]) -> Batch:
    good = [it for it in items if "error" not in it]
    failed = [it for it in items if "error" in it]
    views = torch.stack([it["views"] for it in good], dim=1) if good else None
    return Batch(index=torch.tensor([it["index"] for it in good], dtype=torch.int64),
                 labels=torch.tensor([it["label"] for it in good], dtype=torch.int64),
                 views=views, failed=failed, crop_first=[it["file"] for it in good if it.get("crop_first")])
