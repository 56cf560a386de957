"""The model picker: which models to offer, how to label them, and how a choice is loaded."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from collections.abc import Iterator, Mapping

from ..i18n import N_, _
from ..models.zoo import LoadedModel, WeightsBlob, list_models, load_model


class Labels(Mapping[str, str]):
    """Labels of values the code compares, written in English (marked with ``N_``) and read in the
    reader's language: ``WEIGHT_MODES[mode]`` and ``WEIGHT_MODES.get`` (a picker's ``format_func``)
    give the translation; ``english(key)`` the label as written."""

    def __init__(self, labels: Mapping[str, str]) -> None:
        self._labels = dict(labels)

    def __getitem__(self, key: str) -> str:
        return _(self._labels[key])

    def __iter__(self) -> Iterator[str]:
        return iter(self._labels)

    def __len__(self) -> int:
        return len(self._labels)

    def english(self, key: str) -> str:
        return self._labels[key]


#: How a timm architecture gets its weights.
PRETRAINED, RANDOM, FILE = "pretrained", "random", "file"
WEIGHT_MODES = Labels({PRETRAINED: N_("pretrained ImageNet weights"),
                       RANDOM: N_("random weights (architecture only)"),
                       FILE: N_("local weights file")})
_STATUS = Labels({"bundled": N_("Bundled with attnviz: works offline."),
                  "cached": N_("ImageNet weights on this server."),
                  "download": N_("⊘ Its ImageNet weights are not on this server.")})


@dataclass(frozen=True)
class ModelChoice:
    """One entry of the model picker. The picker's choices are cached for every session, so the
    texts are kept in English and read in the reader's language (``description``, ``status_text``)."""

    name: str
    source: str          # 'bundled' | 'timm'
    status: str          # weights_status: 'bundled' | 'cached' | 'download'
    description_en: str  # the catalogue's (or the bundled card's) description, in English

    @property
    def description(self) -> str:
        """The model's one-line description in the reader's language (English when the catalogue
        has no translation, e.g. a card written after the catalogue)."""
        return _(self.description_en) if self.description_en else ""

    @property
    def label(self) -> str:
        """The picker's entry: the name, marked when the model cannot run here as it is."""
        return self.name if self.available_offline else f"{self.name} ⊘"

    @property
    def status_text(self) -> str:
        """Where the weights come from, in the reader's language."""
        return _STATUS.get(self.status, self.status)

    @property
    def available_offline(self) -> bool:
        return self.status != "download"


def model_choices() -> list[ModelChoice]:
    """Bundled models first, then the timm zoo with each one's weights status."""
    return [ModelChoice(r["name"], r["source"], r["weights"], r["description"]) for r in list_models()]


@dataclass(frozen=True)
class ModelRequest:
    """What the sidebar asks for; hashable, so it keys the process-wide model cache."""

    name: str
    mode: str = PRETRAINED          # ignored for bundled models
    weights: str | None = None      # mode FILE: a path under the data root, or "upload:<sha256>"
    device: str = "auto"

    @property
    def key(self) -> str:
        return f"{self.name}|{self.mode}|{self.weights or ''}|{self.device}"


def upload_key(blob: WeightsBlob) -> str:
    """The request's ``weights`` for an uploaded file: its content, not its name, keys the model."""
    return f"upload:{hashlib.sha256(blob.data).hexdigest()}"


def load_request(request: ModelRequest, blob: WeightsBlob | None = None) -> LoadedModel:
    """Load what the request names (``blob``: the uploaded weights that ``request.weights`` keys);
    raises ModelLoadError (with the remedies) when it cannot."""
    if request.mode == FILE:
        return load_model(request.name, weights=blob if blob is not None else request.weights,
                          device=request.device)
    return load_model(request.name, device=request.device, pretrained=request.mode != RANDOM)


def is_untrained(loaded: LoadedModel) -> bool:
    return loaded.source == "random"


@dataclass(frozen=True, eq=False)
class ServedModel:
    """A loaded model as the server shares it between sessions: the model and the request that
    named it, whose key keys every cache of results computed with it."""

    request: ModelRequest
    loaded: LoadedModel

    @property
    def key(self) -> str:
        return self.request.key

    @property
    def untrained(self) -> bool:
        return is_untrained(self.loaded)
