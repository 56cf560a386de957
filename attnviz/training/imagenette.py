"""Imagenette for a machine that is online: ``attnviz fetch-imagenette`` downloads it through
torchvision's own ``datasets.Imagenette`` and makes it the app's sample folder and data root.

torchvision unpacks its archive into ``<root>/imagenette2[-160|-320]/{train,val}/<wnid>/*.JPEG``
(an ImageFolder tree, which the data root offers to Explore's channel view and to Compare's
profiles) and skips the download when that folder is there already. The sample folder is flat:
one val photo per class, named ``<wnid>_<class>.JPEG`` as the samples folder expects, so each is
labelled by its class. The app reads both folders from its environment (``ATTNVIZ_SAMPLES``,
``ATTNVIZ_DATA_ROOT``); the command writes those two lines to ``<root>/attnviz.env`` and prints them.
"""
from __future__ import annotations

import contextlib
import shlex
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import AttnvizError
from ..i18n import _

#: torchvision's sizes (``Imagenette(size=...)``), smallest first: the first is the default.
SIZES = ("160px", "320px", "full")
SPLITS = ("train", "val")
SAMPLES_FOLDER = "attnviz-samples"
ENV_FILE = "attnviz.env"
#: The folder, relative to the data root, that the bundled class profiles were made from (their
#: ``data`` is ``imagenette-224/val``: Imagenette's val photos, by the same file names). A link of
#: this name to the download lets Explore's channel view find the profiles' top photos.
PROFILE_FOLDER = "imagenette-224"


@dataclass(frozen=True)
class FetchedImagenette:
    """Where a fetched Imagenette lies and what the app needs to use it."""

    root: Path                      # the data root (ATTNVIZ_DATA_ROOT): holds the dataset folder
    dataset: Path                   # root/imagenette2-160 (train/ and val/ inside)
    samples: Path                   # root/attnviz-samples: one labelled photo per class
    images: dict[str, int] = field(default_factory=dict)   # split -> number of images
    classes: tuple[str, ...] = ()   # class names, in torchvision's (wnid) order

    def env(self) -> dict[str, str]:
        """The app's settings that make this the sample folder and the data root."""
        return {"ATTNVIZ_SAMPLES": str(self.samples), "ATTNVIZ_DATA_ROOT": str(self.root)}

    @property
    def env_file(self) -> Path:
        return self.root / ENV_FILE


def archive_url(size: str) -> str:
    """The address torchvision downloads ``size`` from (its own table, so the message names it)."""
    from torchvision.datasets import Imagenette

    return Imagenette._ARCHIVES[size][0]


def fetch_imagenette(root: str | Path, size: str = SIZES[0], download: bool = True) -> FetchedImagenette:
    """Imagenette of ``size`` under ``root`` (downloaded by torchvision when it is not there and
    ``download``), its sample folder made and ``attnviz.env`` written. A failed download or a
    missing copy is an AttnvizError that names the address and what to do."""
    if size not in SIZES:
        raise AttnvizError(_("unknown Imagenette size {size}; choose one of {sizes}").format(
            size=repr(size), sizes=", ".join(SIZES)))
    from torchvision.datasets import Imagenette

    root = Path(root).expanduser().resolve()
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise AttnvizError(_("cannot make the folder {root}: {error}").format(root=root, error=exc)) from None
    url = archive_url(size)
    datasets = {}
    for split in SPLITS:
        try:
            datasets[split] = Imagenette(root, split=split, size=size, download=download)
        except (OSError, RuntimeError, ValueError) as exc:  # URLError is an OSError; a bad archive a RuntimeError
            raise AttnvizError(_missing(root, size, url, exc, download)) from None
    val = datasets["val"]
    dataset = root / Path(url).stem   # where torchvision unpacks the archive (its _size_root)
    samples = _make_samples(root / SAMPLES_FOLDER, dataset / "val", val.wnids, [names[0] for names in val.classes])
    _link_profile_folder(root, dataset)
    fetched = FetchedImagenette(root=root, dataset=dataset, samples=samples,
                                images={split: len(d) for split, d in datasets.items()},
                                classes=tuple(names[0] for names in val.classes))
    _write_env(fetched)
    return fetched


def _missing(root: Path, size: str, url: str, exc: Exception, download: bool) -> str:
    folder = Path(url).stem  # imagenette2-160, as torchvision unpacks it
    if download:
        return _("could not download Imagenette ({size}) from {url} into {root}: {error}. "
                 "This needs an internet connection. On a machine without one, download {url} elsewhere and "
                 "put the file in {root} (the next `attnviz fetch-imagenette --root {root} --size {size}` "
                 "unpacks it without downloading), or unpack it there yourself so that {root}/{folder}/train "
                 "and {root}/{folder}/val exist.").format(
            size=size, url=url, root=root, error=exc, folder=folder)
    return _("no Imagenette ({size}) in {root}: {root}/{folder}/train and {root}/{folder}/val are needed "
             "({error}). Run without --no-download to download it from {url}, or unpack that archive "
             "there.").format(size=size, root=root, folder=folder, error=exc, url=url)


def _make_samples(folder: Path, val: Path, wnids: list[str], names: list[str]) -> Path:
    """One photo per class of the val split (the first of each class folder, by name), copied as
    ``<wnid>_<class>.JPEG``, so that the sidebar offers them and labels them by their class."""
    folder.mkdir(parents=True, exist_ok=True)
    for wnid, name in zip(wnids, names, strict=True):
        photos = sorted(p for p in (val / wnid).iterdir() if p.is_file() and p.suffix.lower() == ".jpeg")
        if not photos:
            continue
        target = folder / f"{wnid}_{name.replace(' ', '_')}{photos[0].suffix}"
        if not target.exists():
            shutil.copyfile(photos[0], target)
    return folder


def _link_profile_folder(root: Path, dataset: Path) -> None:
    """``root/imagenette-224`` -> the download (relative, so it stays inside the root), unless that
    name is taken; where links cannot be made the channel view lists file names instead."""
    link = root / PROFILE_FOLDER
    if link.exists() or link.is_symlink():
        return
    with contextlib.suppress(OSError):
        link.symlink_to(dataset.name, target_is_directory=True)


def _write_env(fetched: FetchedImagenette) -> None:
    lines = ["# attnviz fetch-imagenette: `set -a; . " + shlex.quote(str(fetched.env_file)) +
             "; set +a` before `streamlit run app.py`"]
    lines += [f"{key}={shlex.quote(value)}" for key, value in fetched.env().items()]
    fetched.env_file.write_text("\n".join(lines) + "\n", encoding="utf-8")


def report(fetched: FetchedImagenette) -> str:
    """What the command prints: where the data lies, and how to start the app on it."""
    env = " ".join(f"{key}={shlex.quote(value)}" for key, value in fetched.env().items())
    return "\n".join([
        _("Imagenette is in {dataset}: {train} training and {val} validation photos of {classes} classes.").format(
            dataset=fetched.dataset, train=fetched.images.get("train", 0), val=fetched.images.get("val", 0),
            classes=len(fetched.classes)),
        _("Sample photos (one per class, from val): {samples}").format(samples=fetched.samples),
        _("To make them the app's sample folder and data root, start it with these settings "
          "(also written to {file}):").format(file=fetched.env_file),
        f"  {env} streamlit run app.py",
        f"  set -a; . {shlex.quote(str(fetched.env_file))}; set +a; streamlit run app.py",
    ])
