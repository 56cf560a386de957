"""Does a photo show one of the classes the model knows? An open-set signal for photos that carry no
label (uploads, the camera): the maximum softmax probability (MSP, Hendrycks & Gimpel, "A Baseline
for Detecting Misclassified and Out-of-Distribution Examples", ICLR 2017).

A closed-set classifier always names one of its classes; a photo of anything else still gets a
top-5. MSP is low on many such photos, but not on all, and it is low on some photos of known classes
too, so its verdict is a likelihood, never a fact. The threshold of a bundled model is calibrated
by ``bench/openset_threshold.py`` on Imagenette val (the classes the model knows) against the
ImageNet sample photos of the 86 other classes, and stored beside the model's class profile
(``assets/profiles/<model>.openset.json``) with the rates it was measured at.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from collections.abc import Sequence

import numpy as np

from ..i18n import _
from ..serving.inputs import vocabulary_note


def max_softmax(probs: np.ndarray) -> float:
    """The MSP score of one image: its top class's probability."""
    return float(np.max(np.asarray(probs, dtype=float)))


def auroc(known: np.ndarray, unknown: np.ndarray) -> float:
    """Area under the ROC curve of a score that should be higher on ``known`` than on ``unknown``:
    the probability that a random known image scores above a random unknown one (ties count half),
    the Mann-Whitney U statistic over the product of the sample sizes."""
    known, unknown = np.asarray(known, dtype=float), np.asarray(unknown, dtype=float)
    greater = (known[:, None] > unknown[None, :]).sum()
    ties = (known[:, None] == unknown[None, :]).sum()
    return float((greater + 0.5 * ties) / (known.size * unknown.size))


@dataclass(frozen=True)
class OpenSetCalibration:
    """A threshold on MSP and the rates it was measured at.

    ``tpr``: share of the known-class images at or above the threshold (kept as known);
    ``fpr``: share of the unknown-class images at or above it (missed)."""

    model: str
    threshold: float
    tpr: float
    fpr: float
    auroc: float
    known: str          # the in-distribution data, e.g. 'imagenette-224/val (3,925 images)'
    unknown: str        # the out-of-distribution data

    def flags(self, probs: np.ndarray) -> bool:
        """Whether this photo scores below the threshold (probably not a known class)."""
        return max_softmax(probs) < self.threshold

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(asdict(self), indent=1) + "\n")


def calibrate(model: str, known: np.ndarray, unknown: np.ndarray, target_tpr: float = 0.90,
              known_data: str = "", unknown_data: str = "") -> OpenSetCalibration:
    """The threshold that keeps ``target_tpr`` of the known-class images, with the rates it reaches
    on both sets. The OOD literature reports 'FPR at 95 % TPR'; the bundled models' MSP separates
    so weakly there (BENCHMARKS.md) that the app uses 90 %, where a flag is about 2.4 times as likely
    on a photo of another class as on a known one."""
    known, unknown = np.asarray(known, dtype=float), np.asarray(unknown, dtype=float)
    threshold = float(np.quantile(known, 1.0 - target_tpr, method="lower"))
    return OpenSetCalibration(model, threshold, float((known >= threshold).mean()),
                              float((unknown >= threshold).mean()), auroc(known, unknown),
                              known_data, unknown_data)


def calibration_path(model_name: str) -> Path:
    """Where a bundled model's calibration lies: beside its class profile,
    ``<assets>/profiles/<model>.openset.json``."""
    from ..models.zoo import bundled_dir

    return bundled_dir().parent / "profiles" / f"{model_name}.openset.json"


def bundled_calibration(model_name: str) -> OpenSetCalibration | None:
    """The calibration shipped for a bundled model; None for models without one (timm's, yours)."""
    path = calibration_path(model_name)
    if not path.is_file():
        return None
    return OpenSetCalibration(**json.loads(path.read_text()))


def photo_note(class_names: Sequence[str], label: str | None, calibration: OpenSetCalibration | None,
               probs: np.ndarray) -> str | None:
    """The one note beside a photo: for a labelled one (a sample), whether the model knows its class
    (a fact); for an unlabelled one (an upload), the open-set signal (a likelihood)."""
    if label is not None:
        return vocabulary_note(class_names, label)
    return openset_note(calibration, probs)


def openset_note(calibration: OpenSetCalibration | None, probs: np.ndarray) -> str | None:
    """What to say beside an unlabelled photo that the model is probably not made for; None when
    its confidence is ordinary (or nothing is calibrated). Worded as a likelihood: the rates are
    the ones measured when the threshold was chosen."""
    if calibration is None or not calibration.flags(probs):
        return None
    return _("The model is unsure about this photo (its top class gets {p:.0%}, under {t:.0%}): it may "
             "not show one of the classes the model knows. When this was calibrated, {caught:.0%} of the "
             "photos of other classes and {missed:.0%} of the photos of known classes were this unsure.").format(
        p=max_softmax(probs), t=calibration.threshold, caught=1.0 - calibration.fpr, missed=1.0 - calibration.tpr)
