"""The Explore page's report button writes the report in the page's language: Streamlit makes the
file after the run has ended, when the run's language is no longer set."""
from __future__ import annotations

import io

from PIL import Image

from attnviz.i18n import current_language
from attnviz.analysis.inference import analyse_images
from attnviz.serving.inputs import ImageInput, decode
from tiny import tiny


def test_the_report_is_in_the_language_it_was_asked_in():
    from attnviz.app.pages.explore import explore_report

    model = tiny("se_resnet18_half", size=64)
    buf = io.BytesIO()
    Image.linear_gradient("L").convert("RGB").save(buf, "PNG")
    image = decode(ImageInput("gradient.png", buf.getvalue()))
    [analysis] = analyse_images(model, [image.image], ["gradient.png"])
    assert current_language() == "en"  # as after a run: nothing set
    ja = explore_report(model, [(image, analysis)], None, None, "ja").decode("utf-8")
    en = explore_report(model, [(image, analysis)], None, None, "en").decode("utf-8")
    assert '<html lang="ja">' in ja and '<html lang="en">' in en
    assert "励起" in ja and "励起" not in en   # the glossary's word for excitation
