"""The library's texts in the reader's language: messages are translated when they are made or
read, never when a module is imported or a cached object is built (the model picker's choices are
cached for every session, whatever their language)."""
from __future__ import annotations

import json

import pytest

from attnviz import i18n
from attnviz.errors import ImageLoadError
from attnviz.images.loading import load_image
from attnviz.serving.inputs import vocabulary_note
from attnviz.serving.models import FILE, PRETRAINED, RANDOM, WEIGHT_MODES, ModelChoice
from attnviz.models.zoo import TIMM_ZOO, list_models
from attnviz.models.zoo.bundled import SHIPPED_DESCRIPTIONS, BundledModel, Preprocessing, _default_assets


class Marked:
    """A catalogue that marks every message it translates."""

    def gettext(self, message: str) -> str:
        return f"«{message}»"

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return f"«{singular if n == 1 else plural}»"


@pytest.fixture
def marked(monkeypatch):
    monkeypatch.setattr(i18n, "translations", lambda _code: Marked())


def test_weight_modes_keep_english_values_and_show_labels_in_the_readers_language(marked):  # noqa: ARG001  fixture: patches the translations
    assert list(WEIGHT_MODES) == [PRETRAINED, RANDOM, FILE]  # the values the code compares
    assert WEIGHT_MODES.get(FILE) == WEIGHT_MODES[FILE] == dict(WEIGHT_MODES)[FILE] == "«local weights file»"
    assert WEIGHT_MODES.english(RANDOM) == "random weights (architecture only)"
    assert WEIGHT_MODES.get("nonsense") is None


def test_a_cached_model_choice_reads_its_texts_in_the_language_of_the_moment(marked, monkeypatch):  # noqa: ARG001  fixture: patches the translations
    choice = ModelChoice("skresnet18", "timm", "download", TIMM_ZOO["skresnet18"])
    assert choice.description == "«SK-ResNet-18 (Selective Kernel, split input)»"
    assert choice.status_text == "«⊘ Its ImageNet weights are not on this server.»"
    assert ModelChoice("x", "bundled", "bundled", "").description == ""  # never the catalogue's header
    monkeypatch.undo()
    assert choice.description == "SK-ResNet-18 (Selective Kernel, split input)"


def test_the_zoo_lists_english_data_for_the_cli(marked):  # noqa: ARG001  fixture: patches the translations
    rows = {r["name"]: r for r in list_models()}
    assert rows["skresnet18"]["description"] == "SK-ResNet-18 (Selective Kernel, split input)"


def test_a_bundled_cards_description_is_translated_where_it_is_read(marked):  # noqa: ARG001  fixture: patches the translations
    card = BundledModel("m", "se_resnet18_half", 10, tuple("abcdefghij"),
                        Preprocessing((3, 160, 160), "bilinear", (0.5,) * 3, (0.5,) * 3, 0.875),
                        "m.safetensors", description=SHIPPED_DESCRIPTIONS[0])
    assert card.description == SHIPPED_DESCRIPTIONS[0]
    assert card.description_text == f"«{SHIPPED_DESCRIPTIONS[0]}»"


def test_the_shipped_cards_descriptions_are_in_the_catalogue():
    cards = sorted((_default_assets() / "models").glob("*.json"))
    if not cards:
        pytest.skip("no bundled model in this checkout")
    for card in cards:
        assert json.loads(card.read_text())["description"] in SHIPPED_DESCRIPTIONS, (
            f"{card.name}: add its description to attnviz.models.zoo.bundled.SHIPPED_DESCRIPTIONS")


def test_messages_are_made_in_the_language_of_the_moment(marked):  # noqa: ARG001  fixture: patches the translations
    with pytest.raises(ImageLoadError) as caught:
        load_image(b"", "empty.jpg")
    assert caught.value.reason == "«the file is empty (0 bytes); {help}»".format(
        help="«use a JPEG, PNG, WebP, BMP, TIFF or GIF photo»")
    assert str(caught.value) == "«{name}: {reason}»".format(name="empty.jpg", reason=caught.value.reason)
    assert vocabulary_note(["tench", "goldfish"], "peacock").startswith("«This model knows 2 classes;")


def test_english_is_the_default_and_the_message_as_written(monkeypatch):
    monkeypatch.delenv("ATTNVIZ_LANG", raising=False)
    with pytest.raises(ImageLoadError, match=r"^empty\.jpg: the file is empty \(0 bytes\); use a JPEG"):
        load_image(b"", "empty.jpg")
    assert vocabulary_note(["tench"] * 10, "peacock") == (
        "This model knows 10 classes; 'peacock' is not one of them, so its top-5 can only name the "
        "closest of those it knows.")
    assert WEIGHT_MODES[PRETRAINED] == "pretrained ImageNet weights"


def _catalogues_present() -> bool:
    return all((i18n.LOCALE_DIR / locale / "LC_MESSAGES" / f"{i18n.DOMAIN}.po").exists()
               for locale in i18n.LOCALES.values())


@pytest.mark.skipif(not _catalogues_present(), reason="the message catalogues are not written yet")
@pytest.mark.parametrize("code,word", [("zh", "权重"), ("ja", "重み")])
def test_the_library_speaks_chinese_and_japanese(code, word):
    with i18n.language(code):
        assert word in WEIGHT_MODES[FILE]
        with pytest.raises(ImageLoadError) as caught:
            load_image(b"", "empty.jpg")
        note = vocabulary_note(["tench"] * 10, "peacock")
    assert "JPEG" in caught.value.reason and "empty" not in caught.value.reason
    assert "peacock" in note and "This model" not in note
