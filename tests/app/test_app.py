"""The Streamlit app, driven by Streamlit's AppTest (no browser): every page runs without an
exception for an SE and an SK model, uploads produce the expected charts, bad files get their
message while good ones are still shown."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import attnviz.serving.analyses as served_analyses
from attnviz.figures.literal import markdown_text
from apptest_kit import (SAMPLES, TIMEOUT, array_of, by_label, chart_keys, chart_titles, goto, no_trace, on_page,
                         text_of, upload)

ROOT = Path(__file__).resolve().parents[2]


def test_opens_on_the_home_page_with_pictures_and_three_ways_to_start(app):
    at = app.run()
    no_trace(at)
    assert at.title[0].value == "See what channel attention does"
    titles = chart_titles(at)
    assert any(t.startswith("An SE block") for t in titles) and any(t.startswith("An SK unit") for t in titles)
    assert {"Explore a photo", "Compare classes", "Learn step by step"} <= {e.proto.label for e in at.get("page_link")}
    assert "knows **10 classes**" in text_of(at.markdown)
    assert at.sidebar.selectbox(key="model").value == "test_se"
    assert "Device:** CPU" in text_of(at.sidebar.markdown)


def test_explore_starts_on_a_live_example_and_an_emptied_picker_gets_the_example_button(app):
    at = goto(app.run(), "Explore a photo")
    no_trace(at)
    titles = chart_titles(at)
    assert any(t.startswith("Top-5: tench") for t in titles), titles  # a sample photo is named by its class
    assert any(t.startswith("Excitation of every SE block") for t in titles)
    at.sidebar.multiselect(key="samples").set_value([]).run()
    assert "Upload photos" in text_of(at.info)
    at.button(key="example").click().run()
    no_trace(at)
    assert any(t.startswith("Top-5: tench") for t in chart_titles(at))


@pytest.mark.parametrize("page", ["explore", "learn"])
def test_a_first_visit_to_explore_or_learn_draws_the_example_in_one_run(app, monkeypatch, page):
    import streamlit as st

    reruns = []
    real = st.rerun
    monkeypatch.setattr(st, "rerun", lambda *a, **kw: reruns.append(1) or real(*a, **kw))
    at = app.switch_page(f"attnviz/app/pages/{page}.py").run()     # the visitor's first page: a link
    no_trace(at)
    assert at.get("plotly_chart") and reruns == []
    assert at.sidebar.multiselect(key="samples").value == [str(Path(os.environ["ATTNVIZ_SAMPLES"]) / SAMPLES[0])]


def test_a_page_without_a_live_example_does_not_choose_one(app):
    at = goto(app.run(), "Compare classes")
    no_trace(at)
    assert at.sidebar.multiselect(key="samples").value == []


def test_an_upload_replaces_the_live_example_which_can_be_picked_again(app, goldfish):
    at = goto(app.run(), "Explore a photo")
    example = at.sidebar.multiselect(key="samples").value
    assert len(example) == 1 and any(t.startswith("Top-5: tench") for t in chart_titles(at))
    at.sidebar.file_uploader(key="uploads").set_value([("goldfish.jpg", goldfish.read_bytes(), "image/jpeg")])
    at.run()
    no_trace(at)
    assert at.sidebar.multiselect(key="samples").value == []
    titles = chart_titles(at)
    assert titles[0] == "Top-5: goldfish.jpg" and "Excitation of every SE block — goldfish.jpg" in titles
    assert not any("tench" in t for t in titles), titles  # only the visitor's photo is drawn
    at.sidebar.multiselect(key="samples").set_value(example).run()  # the visitor picks it again: it stays
    at.sidebar.file_uploader(key="uploads").set_value(
        [("goldfish.jpg", goldfish.read_bytes(), "image/jpeg"), ("fish2.jpg", goldfish.read_bytes() + b"\0", "image/jpeg")])
    at.run()
    no_trace(at)
    assert at.sidebar.multiselect(key="samples").value == example
    assert any(t.startswith("Top-5: tench") for t in chart_titles(at))


def test_se_upload_shows_the_excitation_charts(app, goldfish):
    at = upload(app.run(), ("goldfish.jpg", goldfish.read_bytes()))
    no_trace(at)
    titles = chart_titles(at)
    assert titles[0] == "Top-5: goldfish.jpg"
    assert "Excitation of every SE block — goldfish.jpg" in titles
    assert "Excitation per block, over its channels" in titles
    assert "SE_5_2: excitation of its 256 channels" in titles
    # Every chart has its HTML and CSV downloads.
    labels = [b.proto.label for b in at.get("download_button")]
    assert labels.count("HTML: the chart") == labels.count("CSV: the numbers") == len(titles)


def test_bad_upload_gets_its_message_and_the_good_one_is_shown(app, goldfish):
    at = upload(app.run(), ("notes.txt", b"just some text\n"), ("goldfish.jpg", goldfish.read_bytes()),
                ("broken.jpg", goldfish.read_bytes()[:300]))
    no_trace(at)
    warnings = text_of(at.warning)
    assert "**notes.txt** was skipped: is a text file, not an image" in warnings
    assert "**broken.jpg** was skipped" in warnings
    assert "Excitation of every SE block — goldfish.jpg" in chart_titles(at)


def test_display_changes_run_no_new_forward_pass(app, goldfish, monkeypatch):
    calls = []
    real = served_analyses.analyse_images

    def counting(loaded, images, names=None, **kw):
        calls.append(len(images))
        return real(loaded, images, names, **kw)

    monkeypatch.setattr(served_analyses, "analyse_images", counting)
    # Content never seen before in this process, so the first run must compute it.
    data = goldfish.read_bytes() + b"\0fresh"
    at = upload(app.run(), ("fish.jpg", data))
    assert sum(calls) == 1
    at.selectbox(key="explore_block").set_value("SE_3_1").run()
    at.checkbox(key="sort_channels").check().run()
    goto(at, "Explore a photo")
    no_trace(at)
    assert sum(calls) == 1
    assert "SE_3_1: excitation of its 64 channels" in chart_titles(at)
    # The same bytes under another name are the same cache entry.
    at = upload(at, ("same_fish.jpg", data))
    assert sum(calls) == 1 and "Top-5: same_fish.jpg" in chart_titles(at)


def test_sk_model_shows_the_selection_charts(app, goldfish, samples_dir):
    at = app.run()
    at.sidebar.selectbox(key="model").set_value("test_sk").run()
    at = upload(at, ("goldfish.jpg", goldfish.read_bytes()),
                ("tench.jpg", (samples_dir / "n01440764_tench.JPEG").read_bytes()))
    no_trace(at)
    at.selectbox(key="explore_block").set_value("SK_5_2").run()
    keys = chart_keys(at)
    assert "chart_block_mean_difference" in keys
    # Each channel's split between the two kernels, per photo (the degenerate b-against-a scatter is gone).
    assert {"chart_block_b_split_SK_5_2_goldfish.jpg", "chart_block_b_split_SK_5_2_tench.jpg"} <= set(keys)
    assert "chart_selection_scatter" not in keys and not any("excitation" in k for k in keys)
    spec = json.loads(next(e for e in at.get("plotly_chart") if "b_split_SK_5_2_goldfish" in e.key).proto.spec)
    a, b = array_of(spec["data"][0]["y"]), array_of(spec["data"][1]["y"])
    assert all(abs(x + y - 1) < 1e-5 for x, y in zip(a, b, strict=True))  # stacked: a + b = 1 for every channel
    at.radio(key="layout").set_value("side by side").run()
    no_trace(at)
    assert [k.endswith("mean_difference") for k in chart_keys(at)].count(True) == 2


def test_model_that_needs_a_download_shows_the_remedies_and_offers_random_weights(app):
    import attnviz.models.zoo as zoo

    at = app.run()
    if zoo.weights_status("seresnet50") != "download":
        pytest.skip("seresnet50 weights are cached here")
    at.sidebar.selectbox(key="model").set_value("seresnet50").run()
    no_trace(at)
    # Marked unavailable in the sidebar, with the app's own remedies first (no command-line flags).
    assert "weights are not on this server" in text_of(at.sidebar.warning)
    assert at.sidebar.radio(key="weights_mode_seresnet50").options[0] == "local weights file"
    at.sidebar.radio(key="weights_mode_seresnet50").set_value("pretrained").run()
    assert "seresnet50 is not available on this server" in text_of(at.warning)
    assert "random weights (architecture only)" in text_of(at.info) and "--weights" not in text_of(at.info)
    at.sidebar.radio(key="weights_mode_seresnet50").set_value("random").run()
    no_trace(at)
    assert "Untrained" in text_of(at.sidebar.warning)


def test_bad_weights_file_is_explained(app):
    at = app.run()
    at.sidebar.selectbox(key="model").set_value("skresnet18").run()
    at.sidebar.radio(key="weights_mode_skresnet18").set_value("file").run()
    assert not at.sidebar.text_input, "no free-text path box by default"
    at.sidebar.file_uploader(key="weights_upload_skresnet18").set_value(
        [("weights.pth", b"not a checkpoint", "application/octet-stream")])
    at.run()
    no_trace(at)
    assert "skresnet18 could not be loaded" in text_of(at.error)
    assert "weights.pth" in text_of(at.error)


def test_starts_without_any_bundled_model(app, tmp_path, monkeypatch):
    monkeypatch.setenv("ATTNVIZ_ASSETS", str(tmp_path))
    monkeypatch.setenv("ATTNVIZ_SAMPLES", str(tmp_path / "no_samples_here"))
    monkeypatch.chdir(tmp_path)
    at = app.run()
    no_trace(at)
    assert "No bundled model is installed" in text_of(at.sidebar.info)
    # No samples folder: the photos scikit-image ships are offered instead.
    assert at.sidebar.multiselect(key="samples").options == ["tabby", "espresso", "astronaut", "rocket"]
    assert at.sidebar.file_uploader(key="uploads") is not None


# ---------------------------------------------------------------- pages 2-5

def test_compare_classes_without_a_saved_profile_explains_what_is_missing(app, assets, monkeypatch, tmp_path):
    # An assets folder holding the model but no profile.
    (tmp_path / "models").mkdir()
    for f in (assets / "models").glob("test_se.*"):
        (tmp_path / "models" / f.name).write_bytes(f.read_bytes())
    monkeypatch.setenv("ATTNVIZ_ASSETS", str(tmp_path))
    at = on_page(app, "Compare classes")
    no_trace(at)
    assert "No class profile ships with **test_se**" in text_of(at.info)
    assert not chart_titles(at)


@pytest.mark.parametrize("model,label", [("test_se", "excitation s"), ("test_sk", "b (5×5 weight)")])
def test_compare_classes_from_the_saved_profile(app, profiles, model, label):  # noqa: ARG001  fixture: writes the profiles the app reads
    at = on_page(app, "Compare classes", model)
    no_trace(at)
    titles = chart_titles(at)
    assert titles[0].startswith(f"Role of excitation: class-mean {label} per block")
    assert chart_keys(at)[1:] == ["chart_cmp_class_dependence", "chart_cmp_class_specificity",
                                  f"chart_cmp_class_similarity_{model[5:].upper()}_5_2"]
    similarity = json.loads(at.get("plotly_chart")[3].proto.spec)["data"][0]
    assert similarity["zmin"] == -1 and similarity["zmax"] == 1  # centred by default, on a diverging scale
    panel = text_of(at.markdown)
    assert ("The paper" in panel and "This model" in panel) if model == "test_se" else "about SE gates" in panel
    # The paper's default blocks: the last block of each stage and every block of the last stage.
    assert at.multiselect(key="compare_blocks").value == [f"{model[5:].upper()}_{s}" for s in
                                                          ("2_2", "3_2", "4_2", "5_1", "5_2")]
    at.selectbox(key="band").set_value(by_label(at.multiselect, "Classes").value[0]).run()
    no_trace(at)
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert any(t.get("fill") == "toself" for t in spec["data"])  # the ±std band


def _class_zip(nette_dir: Path, per_class: int = 1, classes: int = 3) -> bytes:
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for folder in sorted((nette_dir / "val").iterdir())[:classes]:
            for f in sorted(folder.iterdir())[:per_class]:
                zf.writestr(f"val/{folder.name}/{f.name}", f.read_bytes())
    return buf.getvalue()


def test_compare_classes_from_labelled_images_and_from_a_zip(app, nette_dir):
    at = on_page(app, "Compare classes")
    at.radio(key="class_source").set_value("images").run()
    no_trace(at)
    assert chart_titles(at)[0].startswith("Role of excitation")
    at.radio(key="class_source").set_value("folder").run()
    no_trace(at)
    assert not at.text_input, "no free-text path box by default"
    assert not at.get("radio") or "folder_origin" not in [r.key for r in at.radio], "no server folders by default"
    at.file_uploader(key="class_zip").set_value(("classes.zip", b"not a zip", "application/zip"))
    at.run()
    no_trace(at)
    assert "classes.zip is not a readable zip file" in text_of(at.error)
    at.file_uploader(key="class_zip").set_value(("classes.zip", _class_zip(nette_dir), "application/zip"))
    at.number_input(key="per_class").set_value(1).run()
    assert "3 images in 3 classes; on this server about" in text_of(at.caption)
    at.button(key="compute_profile").click().run()
    no_trace(at)
    assert chart_titles(at)[0].startswith("Role of excitation")
    assert len(by_label(at.multiselect, "Classes").value) == 3


def test_compare_classes_from_a_folder_under_the_data_root(app, nette_dir, monkeypatch):
    monkeypatch.setenv("ATTNVIZ_DATA_ROOT", str(nette_dir.parent))
    at = on_page(app, "Compare classes")
    at.radio(key="class_source").set_value("folder").run()
    at.radio(key="folder_origin").set_value("root").run()
    no_trace(at)
    folders = at.selectbox(key="root_folder").options
    assert folders == ["imagenette-224/train", "imagenette-224/val"], "relative names only, inside the root"
    at.selectbox(key="root_folder").set_value("imagenette-224/val")
    at.number_input(key="per_class").set_value(1).run()
    at.button(key="compute_profile").click().run()
    no_trace(at)
    assert chart_titles(at)[0].startswith("Role of excitation")
    assert len(by_label(at.multiselect, "Classes").value) == 10


def test_scale_experiment(app, profiles, monkeypatch):  # noqa: ARG001  fixture: writes the profiles the app reads
    at = on_page(app, "Scale experiment (from SKNet)")
    no_trace(at)
    assert "has no unit that weighs two or more paths" in text_of(at.info)
    calls = []
    real = served_analyses.analyse_images
    monkeypatch.setattr(served_analyses, "analyse_images",
                        lambda loaded, images, names=None, **kw: calls.append(len(images)) or real(loaded, images, names, **kw))
    at.sidebar.selectbox(key="model").set_value("test_sk").run()
    no_trace(at)
    titles = chart_titles(at)
    assert "b − a per unit at each zoom — these 2 photos (mean)" in titles
    assert "SK_2_1: b (5×5 weight) per channel, at each zoom — these 2 photos (mean)" in titles
    assert "chart_scale_scale_mean_difference_dataset" in chart_keys(at)  # beside the dataset's trend
    assert "On this photo" in text_of(at.caption) or "On this photo" in "".join(str(c.value) for c in at.caption)
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert [t["name"] for t in spec["data"]] == ["1×", "1.5×", "2×"]  # the slider starts at the paper's 1.5×
    # Every photo the chart averages, at every zoom, as the model sees it: the square centre crop.
    views = [im for e in at.get("image") for im in getattr(e.proto, "imgs", [e.proto])
             if "what the model sees" in getattr(im, "caption", "")]
    assert len(views) == 2 * 3, len(views)
    assert "a 3×3 with dilation 2" in text_of(at.caption)  # the SK kind's words for its paths
    before = sum(calls)
    at.slider(key="zoom").set_value(2.5).run()
    no_trace(at)
    assert sum(calls) - before == 2  # only the new zoom of the two images went through the model


@pytest.mark.parametrize("model", ["test_se", "test_sk"])
def test_attribution(app, model):
    at = on_page(app, "Attribution", model, samples=SAMPLES[:1])
    no_trace(at)
    unit = model[5:].upper() + "_5_2"
    titles = chart_titles(at)
    assert titles[0].startswith("Grad-CAM for '") and titles[0].endswith(f"at the block of {unit}")
    assert titles[1].startswith(f"{unit}: attribution vs")
    assert titles[2] == "Top-5 before and after the knock-out"
    spec = json.loads(at.get("plotly_chart")[2].proto.spec)
    assert spec["data"][1]["name"] == f"knocked out: {unit}"
    at.selectbox(key="attr_target").set_value(3).run()
    no_trace(at)
    assert chart_titles(at)[0].startswith("Grad-CAM for 'chain saw'")


@pytest.mark.parametrize("model,symbol", [("test_se", "s_5"), ("test_sk", "b_5")])
def test_learn(app, model, symbol):
    at = on_page(app, "Learn", model, samples=SAMPLES[:1])
    no_trace(at)
    at.number_input(key=f"learn_channel_{model[5:].upper()}_5_2").set_value(5).run()
    no_trace(at)
    assert chart_keys(at) == [f"chart_learn_walkthrough_{model[5:].upper()}_5_2",
                              f"chart_learn_feature_maps_{model[5:].upper()}_5_2_5"]
    # st.table (it wraps the long "meaning" column), its cells as literal Markdown
    numbers = at.table[0].value
    assert list(numbers.columns) == ["symbol", "value", "meaning"]
    assert markdown_text(symbol) in list(numbers["symbol"])
    checks = at.table[1].value
    assert all(float(e.replace("\\", "")) < 1e-4 for e in checks["largest error on this image"])


def test_compare_classes_from_an_uploaded_profile_and_a_bad_one(app, profiles):
    at = on_page(app, "Compare classes", "test_sk")
    at.file_uploader(key="profile_upload").set_value(
        ("other.profile.safetensors", (profiles / "test_se.profile.safetensors").read_bytes(), "application/octet-stream")).run()
    no_trace(at)
    assert "was made for model 'test_se', whose gates do not match test_sk's" in text_of(at.error)
    at.file_uploader(key="profile_upload").set_value(
        ("broken.safetensors", b"\x00" * 64, "application/octet-stream")).run()
    no_trace(at)
    assert text_of(at.error).startswith("broken.safetensors is not an attnviz profile")
    at.file_uploader(key="profile_upload").set_value(
        ("sk.safetensors", (profiles / "test_sk.profile.safetensors").read_bytes(), "application/octet-stream")).run()
    no_trace(at)
    assert chart_titles(at)[0].startswith("Role of excitation: class-mean b (5×5 weight) per block (scale 1×)")


def test_an_unexpected_error_is_a_short_message_not_a_traceback(app, goldfish, monkeypatch):
    import attnviz.views.explore as explore

    def broken(*_args, **_kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(explore, "overview_charts", broken)
    # A photo no earlier test showed: charts already built are shared from the cache, not built again.
    at = upload(app.run(), ("goldfish-unexpected-error.jpg", goldfish.read_bytes()))
    assert not at.exception
    assert "Something went wrong while drawing this page (RuntimeError: boom)" in text_of(at.error)
    assert "Traceback" not in text_of(at.error)
    assert at.sidebar.selectbox(key="model").value == "test_se"  # the sidebar still works


def test_the_shipped_models_and_profiles(samples_dir, monkeypatch):
    """The real assets/ folder: every bundled model runs page 1, and its shipped profile page 2."""
    from attnviz.models.zoo import bundled_models

    monkeypatch.delenv("ATTNVIZ_ASSETS", raising=False)
    monkeypatch.setenv("ATTNVIZ_SAMPLES", str(samples_dir))
    shipped = bundled_models()
    if not shipped:
        pytest.skip("no bundled model in assets/models yet")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT).run()
    for name in shipped:
        at.sidebar.selectbox(key="model").set_value(name)
        at.sidebar.multiselect(key="samples").set_value([str(samples_dir / SAMPLES[0])])
        at.run()
        goto(at, "Explore a photo")
        no_trace(at)
        assert chart_titles(at)[0] == "Top-5: tench"
        goto(at, "Compare classes")
        no_trace(at)
        if (ROOT / "assets" / "profiles" / f"{name}.profile.safetensors").is_file():
            assert chart_titles(at)[0].startswith("Role of excitation")



def test_attribution_runs_no_forward_pass_that_explore_ran(app, goldfish, monkeypatch):
    """Grad-CAM, channel attribution and the knock-out reuse Explore's analysis of the image:
    only passes that need more (gradients, or gates knocked out) run on the Attribution page."""
    import attnviz.analysis.attribution as attribution

    plain = []
    for module in (served_analyses, attribution):
        def counting(loaded, images, names=None, real=module.analyse_images, **kw):
            if not kw.get("neutralise"):
                plain.append(len(images))
            return real(loaded, images, names, **kw)
        monkeypatch.setattr(module, "analyse_images", counting)
    at = upload(app.run(), ("fish.jpg", goldfish.read_bytes() + b"\0attribution"))
    assert plain == [1]
    goto(at, "Attribution")
    no_trace(at)
    titles = chart_titles(at)
    assert any(t.startswith("Grad-CAM for") for t in titles) and any("Knock-out" in t or "knock" in t.lower() for t in titles)
    assert plain == [1]


def test_links_are_shareable_the_url_holds_the_model_and_the_gate(app, goldfish):
    at = app
    at.query_params["model"] = "test_sk"
    at.query_params["gate"] = "SK_3_1"
    at = upload(at.run(), ("goldfish.jpg", goldfish.read_bytes()))
    no_trace(at)
    assert at.sidebar.selectbox(key="model").value == "test_sk"
    assert at.selectbox(key="explore_block").value == "SK_3_1"
    # The block charts drawn are those of the gate in the URL: SK_3_1's split of each channel
    # between its two paths (one chart per photo), and no other unit's.
    split = [k for k in chart_keys(at) if k.startswith("chart_block_b_split_")]
    assert split and all(k.startswith("chart_block_b_split_SK_3_1_") for k in split), chart_keys(at)
    assert any(t.startswith("SK_3_1: ") for t in chart_titles(at))
    at.selectbox(key="explore_block").set_value("SK_4_2").run()
    split = [k for k in chart_keys(at) if k.startswith("chart_block_b_split_")]
    assert split and all(k.startswith("chart_block_b_split_SK_4_2_") for k in split), chart_keys(at)
    assert at.query_params["gate"] == ["SK_4_2"] or at.query_params["gate"] == "SK_4_2"
    assert at.query_params["model"] in ("test_sk", ["test_sk"])


def test_a_camera_photo_is_analysed_like_an_upload(app, goldfish):
    import io

    from PIL import Image

    at = goto(app.run(), "Explore a photo")
    at.sidebar.toggle(key="use_camera").set_value(True).run()
    buf = io.BytesIO()
    Image.open(goldfish).convert("RGB").resize((640, 480)).save(buf, "JPEG")
    at.sidebar.camera_input(key="camera").set_value(("photo.jpg", buf.getvalue(), "image/jpeg")).run()
    no_trace(at)
    assert "Top-5: camera photo" in chart_titles(at)
    assert "Excitation of every SE block — camera photo" in chart_titles(at)
