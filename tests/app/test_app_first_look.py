"""A first look on a user's own machine: no ../shared beside the clone, no data root. The home page,
Explore and Learn open on the photos scikit-image ships, never on a grey gradient or an empty page;
and a labelled sample keeps its label through decoding and caching, so that the vocabulary note
appears (the goldfish is not one of Imagenette's classes)."""
from __future__ import annotations

import inspect
import re
from pathlib import Path

import skimage.data

from bundled_kit import CLASS_NAMES, app_test
from apptest_kit import TIMEOUT, chart_titles, no_trace, text_of


def test_every_packaged_photo_is_free_by_scikit_images_own_words():
    """Each photo offered is CC0 or public domain as scikit-image's loader for it says (read
    here from its docstring, not from our table)."""
    from attnviz.serving.samples import PACKAGED_PHOTOS, packaged_photos

    paths = packaged_photos()
    assert len(paths) == len(PACKAGED_PHOTOS)
    loaders = {Path(re.search(r'_load\("data/([^"]+)"\)', inspect.getsource(f)).group(1)).name: f
               for f in (skimage.data.chelsea, skimage.data.coffee, skimage.data.astronaut, skimage.data.rocket)}
    for photo in PACKAGED_PHOTOS:
        doc = loaders[photo.file].__doc__.lower()
        assert "cc0" in doc or "public domain" in doc, photo.file
        assert "imagenet" not in doc


def test_home_explore_and_learn_open_on_packaged_photos(clean_clone):
    at = clean_clone.run()
    no_trace(at)
    captions = text_of(at.caption)
    assert "grey gradient" not in captions
    assert "*tabby*" in captions  # the home pictures are drawn on a real photo
    # The photos are offered in the sidebar, labelled by what they show.
    samples = at.sidebar.multiselect(key="samples")
    assert samples.options == ["tabby", "espresso", "astronaut", "rocket"]

    at.switch_page("attnviz/app/pages/explore.py").run()
    no_trace(at)
    titles = chart_titles(at)
    assert any(t.startswith("Top-5: tabby") for t in titles), titles  # a live example, no click
    assert any(t.startswith("Excitation of every SE block") for t in titles), titles
    # The tabby is not one of the test model's 10 classes: the page says so.
    assert "'tabby' is not one of them" in text_of(at.warning)

    at.switch_page("attnviz/app/pages/learn.py").run()
    no_trace(at)
    assert at.get("plotly_chart"), "Learn shows the live walkthrough"
    assert "Upload photos" not in text_of(at.info)


def test_an_emptied_picker_is_respected(clean_clone):
    at = clean_clone.run()
    at.switch_page("attnviz/app/pages/explore.py").run()
    at.sidebar.multiselect(key="samples").set_value([]).run()
    no_trace(at)
    assert "Upload photos" in text_of(at.info)  # the live example started once, not again
    assert not [t for t in chart_titles(at) if t.startswith("Top-5")]


def test_the_detail_block_is_one_that_differs_between_the_photos(clean_clone):
    """With two photos, the block shown in detail is the one whose values differ most between
    them (computed here again from the analyses the page drew), not simply the deepest."""
    import numpy as np

    from attnviz.serving.samples import packaged_photos

    two = list(packaged_photos())[:2]
    at = clean_clone.run()  # the two photos chosen on the home page, then Explore opened
    at.sidebar.multiselect(key="samples").set_value(two).run()
    at.switch_page("attnviz/app/pages/explore.py").run()
    no_trace(at)
    from attnviz.analysis.inference import analyse_images
    from attnviz.serving.inputs import decode, read_files
    from attnviz.models.zoo import load_model

    model = load_model("test_se")
    images = [decode(i).image for i in read_files([Path(p) for p in two])]
    analyses = analyse_images(model, images)
    spread = {g.name: np.mean(np.std([a.values[g.name].reshape(-1) for a in analyses], axis=0)) for g in model.gates}
    assert at.selectbox(key="explore_block").value == max(spread, key=spread.get)


def test_a_labelled_sample_keeps_its_label_and_gets_the_vocabulary_note(se_assets, samples_dir, monkeypatch):
    at = app_test(monkeypatch, se_assets, samples_dir, TIMEOUT).run()
    at.switch_page("attnviz/app/pages/explore.py").run()
    goldfish, tench = str(samples_dir / "n01443537_goldfish.JPEG"), str(samples_dir / "n01440764_tench.JPEG")
    at.sidebar.multiselect(key="samples").set_value([goldfish, tench]).run()
    no_trace(at)
    assert "goldfish" not in CLASS_NAMES and "tench" in CLASS_NAMES
    warnings = text_of(at.warning)
    assert "- **goldfish**: " in warnings and "'goldfish' is not one of them" in warnings
    assert "'tench'" not in warnings
    # Decoded once and cached: a rerun (from the cache) still carries the label.
    at.run()
    assert "'goldfish' is not one of them" in text_of(at.warning)
    # Two unknown photos: one box below the photos, one line per photo, each led by its name.
    pug = str(samples_dir / "n02110958_pug.JPEG")
    at.sidebar.multiselect(key="samples").set_value([goldfish, tench, pug]).run()
    no_trace(at)
    [box] = [w.value for w in at.warning if "is not one of them" in w.value]
    lines = box.splitlines()
    assert len(lines) == 2 and lines[0].startswith("- **goldfish**: ") and lines[1].startswith("- **pug**: ")
    assert "'goldfish' is not one of them" in lines[0] and "'pug' is not one of them" in lines[1]
