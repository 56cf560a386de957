"""Bundled models: networks trained by attnviz and shipped in ``assets/models``; they work offline.

Each is ``<name>.safetensors`` beside ``<name>.json``, its card: what ``attnviz train`` recorded and
``attnviz bundle`` measured. ``BundledModel`` is the part of a card that the code uses; the rest of
the card (training history, evaluation, analysis) is for people and the model card ``<name>.md``.

The assets folder is ``assets/`` beside the package in a source checkout (or an editable install),
``attnviz/_assets`` in an installed wheel (pyproject maps it there); ``ATTNVIZ_ASSETS`` names another.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from collections.abc import Mapping

from ...errors import ModelLoadError
from ...i18n import N_, _

#: The descriptions of the cards that ship in ``assets/models``, marked so that the catalogue
#: translates them (``BundledModel.description_text``); a card written later reads in English.
SHIPPED_DESCRIPTIONS = (
    N_("SE-ResNet-18 at half width with timm's SEModule in every block, trained by attnviz on Imagenette's "
       "10 ImageNet classes. The default offline model."),
    N_("SK-ResNet-18 at half width with timm's SelectiveKernel units (3x3 and dilated-3x3 '5x5' paths), "
       "trained by attnviz on Imagenette's 10 ImageNet classes. Offline SK model."),
)


def _default_assets() -> Path:
    """``assets/`` of a source checkout (beside the package), else the copy an installed wheel
    carries as ``attnviz/_assets``."""
    package = Path(__file__).resolve().parents[2]  # attnviz/models/zoo/bundled.py -> attnviz/
    source = package.parent / "assets"
    return source if (source / "models").is_dir() else package / "_assets"


#: The assets folder, unless ``ATTNVIZ_ASSETS`` names another one.
ASSETS_DIR = Path(os.environ.get("ATTNVIZ_ASSETS", _default_assets()))


def bundled_dir() -> Path:
    """The folder of the bundled models, ``<assets>/models`` (``ATTNVIZ_ASSETS`` read on each call)."""
    return Path(os.environ.get("ATTNVIZ_ASSETS", ASSETS_DIR)) / "models"


@dataclass(frozen=True)
class Preprocessing:
    """The evaluation preprocessing a bundled model was trained for, as timm's data config has it."""

    input_size: tuple[int, ...]        # (3, H, W)
    interpolation: str                 # 'bilinear', 'bicubic' ...
    mean: tuple[float, ...]
    std: tuple[float, ...]
    crop_pct: float
    crop_mode: str = "center"

    @classmethod
    def from_card(cls, pre: Mapping[str, Any]) -> Preprocessing:
        return cls(input_size=tuple(pre["input_size"]), interpolation=pre["interpolation"],
                   mean=tuple(pre["mean"]), std=tuple(pre["std"]), crop_pct=pre["crop_pct"],
                   crop_mode=pre.get("crop_mode", "center"))

    def data_config(self) -> dict:
        """timm's data config dict (what ``timm.data.resolve_model_data_config`` returns)."""
        return {"input_size": self.input_size, "interpolation": self.interpolation, "mean": self.mean,
                "std": self.std, "crop_pct": self.crop_pct, "crop_mode": self.crop_mode}


@dataclass(frozen=True)
class BundledModel:
    """What attnviz reads from a bundled model's card (``assets/models/<name>.json``)."""

    name: str
    arch: str                                  # a name of attnviz.models.architectures.ARCHITECTURES
    num_classes: int
    class_names: tuple[str, ...]               # one per output, in output order
    preprocessing: Preprocessing
    weights_file: str                          # the .safetensors beside the card
    default: bool = False                      # the app's and the CLI's default model
    description: str = ""
    class_folders: tuple[str, ...] = ()        # the training data's class folders (wnids), in output order
    top1: float | None = None                  # validation top-1 recorded by `attnviz train` (card: val.top1)

    @property
    def description_text(self) -> str:
        """The card's description in the reader's language (English when the catalogue lacks it)."""
        return _(self.description) if self.description else ""

    @property
    def card_file(self) -> Path:
        return Path(self.weights_file).with_suffix(".json")

    @classmethod
    def from_card(cls, card: Mapping[str, Any], weights_file: str | Path, name: str | None = None) -> BundledModel:
        """The record of a card's data; ``name`` is used when the card has none (the file's stem)."""
        return cls(name=card.get("name", name), arch=card["arch"], num_classes=card["num_classes"],
                   class_names=tuple(card["class_names"]),
                   preprocessing=Preprocessing.from_card(card["preprocessing"]),
                   weights_file=str(weights_file), default=bool(card.get("default", False)),
                   description=card.get("description", ""),
                   class_folders=tuple(card.get("class_folders") or ()),
                   top1=(card.get("val") or {}).get("top1"))


def read_card(card_file: Path) -> BundledModel:
    """The bundled model that ``card_file`` describes (its weights: the .safetensors beside it)."""
    try:
        card = json.loads(card_file.read_text())
        return BundledModel.from_card(card, card_file.with_suffix(".safetensors"), name=card_file.stem)
    except json.JSONDecodeError as exc:
        raise ModelLoadError(_("model card {card} is not valid JSON ({error})").format(
            card=card_file, error=exc)) from None
    except KeyError as exc:
        raise ModelLoadError(_("model card {card} lacks the field {field}; `attnviz bundle` writes "
                               "complete cards").format(card=card_file, field=exc)) from None
    except (AttributeError, TypeError) as exc:
        raise ModelLoadError(_("model card {card} is not a bundled model's card ({error})").format(
            card=card_file, error=exc)) from None


def bundled_models() -> dict[str, BundledModel]:
    """Every bundled model in ``bundled_dir()`` with its weights file, by name, in file-name order."""
    found = {}
    folder = bundled_dir()
    if folder.is_dir():
        for card_file in sorted(folder.glob("*.json")):
            if card_file.with_suffix(".safetensors").exists():
                model = read_card(card_file)
                found[model.name] = model
    return found


def default_model_name() -> str | None:
    """The app's and CLI's default: the bundled model whose card says so, else the first bundled model."""
    bundled = bundled_models()
    for name, model in bundled.items():
        if model.default:
            return name
    return next(iter(bundled), None)
