"""App logic without Streamlit: inputs and cache keys, the paper's defaults, the analysis cache."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from tiny import tiny

from attnviz.errors import AttnvizError
from attnviz.ui import cache as ui_cache
from attnviz.ui.cache import AnalysisCache
from attnviz.ui.compare import labelled_classes, paper_default_blocks, sampled_channels
from attnviz.ui.explore import explore_charts
from attnviz.ui.inputs import (ImageInput, decode, image_digest, sample_label, samples_folder, session_caps,
                               unique_names)
from attnviz.ui.scale import cached_sweep, sweep_scales
from attnviz.scale import scale_sweep


def test_digest_is_the_content_not_the_name():
    assert ImageInput("a.jpg", b"xyz").digest == ImageInput("b.png", b"xyz").digest == image_digest(b"xyz")
    assert image_digest(b"xyz") != image_digest(b"xyz ")


def test_decode_keeps_going_with_a_message(goldfish):
    good = decode(ImageInput("fish.jpg", goldfish.read_bytes()))
    bad = decode(ImageInput("notes.txt", b"hello"))
    assert good.ok and good.image.mode == "RGB"
    assert not bad.ok and "text file" in bad.error


def test_samples_folder_env_default_and_absent(tmp_path, monkeypatch, samples_dir):
    monkeypatch.setenv("ATTNVIZ_SAMPLES", str(samples_dir))
    assert samples_folder(tmp_path) == samples_dir
    monkeypatch.setenv("ATTNVIZ_SAMPLES", str(tmp_path / "missing"))
    assert samples_folder(tmp_path) is None
    monkeypatch.delenv("ATTNVIZ_SAMPLES")
    app_dir = tmp_path / "project"
    (tmp_path / "shared" / "data" / "imagenet-samples").mkdir(parents=True)
    assert samples_folder(app_dir) is None  # exists but holds no image: hidden
    (tmp_path / "shared" / "data" / "imagenet-samples" / "x.png").write_bytes(b"")
    assert samples_folder(app_dir) == tmp_path / "shared" / "data" / "imagenet-samples"


def test_names():
    assert sample_label(Path("n01440764_tench.JPEG")) == "tench"
    assert sample_label(Path("my_cat.png")) == "my cat"
    assert unique_names(["a", "b", "a", "a"]) == ["a", "b", "a (2)", "a (3)"]


def test_paper_default_blocks_for_se_resnet50():
    from attnviz.zoo import describe_zoo  # noqa: F401  (keeps timm's registry warm)
    import timm
    import torch

    from attnviz.gates import discover_gates

    with torch.device("meta"):
        gates = discover_gates(timm.create_model("seresnet50", pretrained=False))
    assert paper_default_blocks(gates) == ["SE_2_3", "SE_3_4", "SE_4_6", "SE_5_1", "SE_5_2", "SE_5_3"]


def test_sampled_channels_are_fixed_and_uniform():
    idx = sampled_channels(2048)
    assert len(idx) == 50 and idx[0] == 0 and idx[-1] == 2047
    assert np.ptp(np.diff(idx)) <= 1
    np.testing.assert_array_equal(sampled_channels(2048), idx)
    np.testing.assert_array_equal(sampled_channels(32), np.arange(32))


def test_labelled_classes():
    assert labelled_classes(["tench", "church", "tench "]) == ([1, 0, 1], ["church", "tench"])
    with pytest.raises(AttnvizError, match="image 2 has no class label"):
        labelled_classes(["tench", " "])


@pytest.fixture(scope="module")
def sk_model():
    return tiny("sk_resnet18_half", size=64)


@pytest.fixture(scope="module")
def photos(samples_dir):
    from attnviz.ui.inputs import read_files

    files = [samples_dir / "n01440764_tench.JPEG", samples_dir / "n01443537_goldfish.JPEG"]
    return [decode(item) for item in read_files(files)]


def test_analysis_cache_runs_each_content_once(sk_model, photos, monkeypatch):
    calls = []
    real = ui_cache.analyse_images
    monkeypatch.setattr(ui_cache, "analyse_images",
                        lambda loaded, images, names=None, **kw: calls.append(len(images)) or real(loaded, images, names, **kw))
    cache = AnalysisCache(max_entries=8)
    progress = []
    first = cache.analyse(sk_model, "m", photos + photos[:1], progress=lambda d, t: progress.append((d, t)))
    assert calls == [2] and progress == [(2, 2)]  # the repeated photo is computed once
    again = cache.analyse(sk_model, "m", photos)
    assert calls == [2]
    np.testing.assert_array_equal(first[0].values["SK_5_2"], again[0].values["SK_5_2"])
    cache.analyse(sk_model, "other model", photos[:1])
    assert calls == [2, 1]  # the key includes the model


def test_cached_sweep_matches_scale_sweep(sk_model, photos):
    scales = sweep_scales(1.25)
    assert scales == [1.0, 1.25, 1.5, 2.0]
    sweep = cached_sweep(AnalysisCache(), sk_model, "m", photos, scales)
    direct = scale_sweep(sk_model, [p.image for p in photos], scales)
    for s in scales:
        assert sweep.mean_diff(s) == pytest.approx(direct.mean_diff(s), abs=1e-6)


def test_explore_charts_per_kind(sk_model, photos):
    from attnviz.inference import analyse_images

    analyses = analyse_images(sk_model, [p.image for p in photos], ["tench", "goldfish"])
    keys = [c.key for c in explore_charts(sk_model, analyses)]
    assert keys == ["selection_scatter", "mean_difference", "b_histogram_SK_5_2"]
    se = tiny("se_resnet18_half", size=64)
    keys = [c.key for c in explore_charts(se, analyse_images(se, [photos[0].image], ["tench"]))]
    assert keys == ["excitation_heatmap_tench", "excitation_distribution", "excitation_bars_SE_5_2"]
    splat = tiny("resnest_half", size=64)
    keys = [c.key for c in explore_charts(splat, analyse_images(splat, [photos[0].image], ["tench"]))]
    assert keys == ["split_balance", "split_weights_SPLAT_5_1_tench"]


def test_decode_keeps_bounded_copies_only(goldfish):
    """The app keeps the model's view (centre, short side <= 512) and a thumbnail, never the decode."""
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (4000, 3000), (10, 120, 200)).save(buf, "PNG")
    big = decode(ImageInput("big.png", buf.getvalue()))
    assert big.size == (4000, 3000)
    assert big.image.size == (683, 512) and max(big.display.size) == 512
    assert big.nbytes < 3 * 2**20
    strip = Image.new("RGB", (20000, 10), (200, 0, 0))
    buf = io.BytesIO()
    strip.save(buf, "PNG")
    thin = decode(ImageInput("strip.png", buf.getvalue()))
    assert thin.ok and thin.image.size == (20, 10)
    assert thin.display.size == (512, 128)  # letterboxed so that it can be shown


def test_session_caps_name_the_limit():
    items = [ImageInput(f"{i}.jpg", bytes(100)) for i in range(5)]
    kept, refused = session_caps(items, max_images=3, max_bytes=10_000)
    assert [i.name for i in kept] == ["0.jpg", "1.jpg", "2.jpg"]
    assert [r.name for r in refused] == ["3.jpg", "4.jpg"]
    assert "at most 3 images" in refused[0].error
    kept, refused = session_caps(items, max_images=10, max_bytes=250)
    assert len(kept) == 2 and "add up to at most 0.2 KB" in refused[0].error


def test_one_failing_image_leaves_the_others_their_analyses(sk_model, photos, monkeypatch):
    real = ui_cache.analyse_images

    def flaky(loaded, images, names=None, **kw):
        if any(n == photos[1].name for n in names or []):
            raise RuntimeError("boom")
        return real(loaded, images, names, **kw)

    monkeypatch.setattr(ui_cache, "analyse_images", flaky)
    failures: dict[str, str] = {}
    out = AnalysisCache().analyse(sk_model, "m", photos, failures=failures)
    assert [a.name for a in out] == [p.name for p in photos if p.name != photos[1].name]
    assert list(failures) == [photos[1].digest] and "boom" in failures[photos[1].digest]
    with pytest.raises(RuntimeError):
        AnalysisCache().analyse(sk_model, "m", photos)
