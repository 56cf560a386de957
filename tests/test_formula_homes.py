"""One home per formula (issue 21): SKNet's mean attention difference, the per-class limit, zoom
validation and the "no gate" message, each checked against a definition written again here and
at every place that uses it."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from attnviz.errors import AttnvizError, GateNotFound, InvalidZoom
from attnviz.images.sampling import evenly_spaced, first_per_class
from attnviz.analysis.scale import zoom_factor, zoom_factors
from attnviz.analysis.statistics import mean_attention_difference


def _by_hand(values: np.ndarray) -> float:
    """mean over channels of b_c - a_c (SKNet, Sec. 4.3), written as a loop."""
    paths, channels = values.shape
    return sum(float(values[1, c]) - float(values[0, c]) for c in range(channels)) / channels


def test_mean_attention_difference_equals_the_definition():
    rng = np.random.default_rng(0)
    one = rng.random((2, 7))
    assert float(mean_attention_difference(one)) == pytest.approx(_by_hand(one))
    batch = rng.random((5, 3, 4))                                  # three paths: only 0 and 1 count
    per_image = mean_attention_difference(batch)
    assert per_image.shape == (5,)
    assert per_image == pytest.approx([_by_hand(v[:2]) for v in batch])
    tensor = torch.from_numpy(batch)
    assert mean_attention_difference(tensor).numpy() == pytest.approx(per_image)


def test_sk_summary_and_figure_use_the_same_difference():
    from attnviz.figures.selection import mean_difference
    from attnviz.gates import kind_named

    values = np.array([[0.9, 0.2, 0.4], [0.1, 0.8, 0.6]])
    expected = ((0.1 - 0.9) + (0.8 - 0.2) + (0.6 - 0.4)) / 3
    assert kind_named("sk").summary(values).mean_diff == pytest.approx(expected)
    assert mean_difference(values) == pytest.approx(expected)


def test_first_per_class_keeps_the_first_n_of_each_class_in_order():
    samples = [("a1", 0), ("b1", 1), ("a2", 0), ("a3", 0), ("b2", 1), ("c1", 2), ("b3", 1)]
    assert first_per_class(samples, 2) == [("a1", 0), ("b1", 1), ("a2", 0), ("b2", 1), ("c1", 2)]
    assert first_per_class(samples, 0) == samples
    assert first_per_class(iter(samples), 1) == [("a1", 0), ("b1", 1), ("c1", 2)]
    assert evenly_spaced(list(range(10)), 4) == [0, 2, 5, 7]
    assert evenly_spaced([1, 2], 0) == [1, 2]


def test_profile_data_and_evaluate_share_the_per_class_limit(tmp_path):
    from PIL import Image

    from attnviz.training import evaluate
    from attnviz.profiles.builder import image_folder

    for cls, n in (("n01", 3), ("n02", 1), ("n03", 4)):
        (tmp_path / cls).mkdir()
        for i in range(n):
            Image.new("RGB", (8, 8)).save(tmp_path / cls / f"{i}.png")
    data = image_folder(tmp_path).limit_per_class(2)
    counts = np.bincount([label for _path, label in data.samples])
    assert counts.tolist() == [2, 1, 2]
    assert evaluate.first_per_class is first_per_class      # the old import path still works


def test_zip_class_folders_keep_the_first_n_per_class():
    import io
    import zipfile

    from attnviz.serving.archive import read_zip_classes
    from attnviz.serving.limits import ServerLimits

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for cls, n in (("cats", 4), ("dogs", 2)):
            for i in range(n):
                zf.writestr(f"{cls}/{i}.jpg", b"x")
    folder = read_zip_classes(buffer.getvalue(), "pets.zip", ServerLimits(), 3)
    assert [(entry, k) for entry, k in folder.entries] == [
        ("cats/0.jpg", 0), ("cats/1.jpg", 0), ("cats/2.jpg", 0), ("dogs/0.jpg", 1), ("dogs/1.jpg", 1)]


@pytest.mark.parametrize("bad", [0.5, 0.0, -2.0, float("nan"), float("inf"), "big", None])
def test_zoom_factor_refuses_with_one_error_type(bad):
    with pytest.raises(InvalidZoom) as caught:
        zoom_factor(bad)
    assert isinstance(caught.value, AttnvizError) and isinstance(caught.value, ValueError)
    assert repr(bad)[:10] in str(caught.value)


def test_zoom_factors_and_every_caller_raise_invalid_zoom():
    from PIL import Image

    from attnviz.profiles.builder.runner import check_scales
    from attnviz.analysis.scale import zoom

    assert zoom_factors(["1", 1.5, 2]) == [1.0, 1.5, 2.0]
    with pytest.raises(InvalidZoom, match="listed twice"):
        zoom_factors([1.0, 1.5, 1.0])
    with pytest.raises(InvalidZoom, match="no zoom factor"):
        zoom_factors([])
    with pytest.raises(InvalidZoom, match="got 0.9"):
        check_scales([1.0, 0.9])
    with pytest.raises(InvalidZoom, match="got 0.5"):
        zoom(Image.new("RGB", (4, 4)), 0.5)


def test_gate_not_found_is_a_translated_key_error_with_a_readable_message():
    exc = GateNotFound("SE_9_9", "se_resnet18", ["SE_2_1", "SE_2_2"])
    assert isinstance(exc, KeyError) and isinstance(exc, AttnvizError)
    assert str(exc) == "se_resnet18 has no gate 'SE_9_9'; its gates are SE_2_1, SE_2_2"
    many = GateNotFound("x", "net", [f"G{i}" for i in range(100)])
    assert str(many).endswith(f"G{GateNotFound.LISTED - 1}, …") and "G99" not in str(many)


def test_every_gate_lookup_raises_gate_not_found():
    from pathlib import Path

    from attnviz.capture.attention import AttentionCapture
    from attnviz.profiles.profile import load_profile
    from attnviz.models.zoo import load_model

    root = Path(__file__).resolve().parent.parent / "assets" / "profiles"
    profile = load_profile(root / "se_resnet18_imagenette.profile.safetensors")
    with pytest.raises(GateNotFound, match="the profile of se_resnet18_imagenette has no gate 'nope'; its gates"):
        profile.gate_info("nope")
    with pytest.raises(GateNotFound):
        profile.channel_images("nope", 0)
    loaded = load_model("se_resnet18_imagenette", device="cpu")
    with pytest.raises(GateNotFound, match="se_resnet18_imagenette has no gate 'nope'; its gates are SE_2_1"):
        loaded.gate("nope")
    with pytest.raises(GateNotFound):
        AttentionCapture(loaded.model, loaded.gates, neutralise=["nope"])


def test_an_unknown_scale_is_a_translated_key_error_naming_the_scales():
    from pathlib import Path

    from attnviz.errors import ScaleNotFound
    from attnviz.profiles.profile import load_profile

    profile = load_profile(Path(__file__).resolve().parent.parent / "assets" / "profiles"
                           / "sk_resnet18_imagenette.profile.safetensors")
    with pytest.raises(ScaleNotFound) as caught:
        profile.scale_index(3.0)
    assert isinstance(caught.value, KeyError) and isinstance(caught.value, AttnvizError)
    assert str(caught.value) == "the profile of sk_resnet18_imagenette has no scale 3; it has 1, 1.5, 2"


def test_missing_optional_statistics_are_a_translated_key_error():
    from pathlib import Path

    from attnviz.errors import StatisticsMissing
    from attnviz.profiles.profile import load_profile

    profile = load_profile(Path(__file__).resolve().parent.parent / "assets" / "profiles"
                           / "se_resnet18_imagenette.profile.safetensors")
    with pytest.raises(StatisticsMissing, match="--channel-hist") as caught:
        profile.channel_hist("SE_2_1")
    assert isinstance(caught.value, KeyError) and isinstance(caught.value, AttnvizError)
    assert not str(caught.value).startswith("'")
    with pytest.raises(StatisticsMissing, match="paired scale statistics for 'SE_2_1'"):
        profile.paired_moments("SE_2_1", 0, 0)


def test_choices_and_empty_charts_are_translated_value_errors_naming_the_value():
    """The error policy for what a person picks: an unknown path, chart style or image format, no
    images, or a chart of units the model lacks is an AttnvizError (and still a ValueError)."""
    from PIL import Image

    from attnviz.errors import InvalidChoice, NothingToShow
    from attnviz.figures.excitation import excitation_distribution, excitation_heatmap
    from attnviz.figures.export import chart_config
    from attnviz.figures.selection import selection_scatter
    from attnviz.analysis.inference import analyse_images
    from attnviz.analysis.scale import scale_sweep
    from tiny import tiny

    se, sk = tiny("se_resnet18_half", size=64), tiny("sk_resnet18_half", size=64)
    photo = Image.new("RGB", (64, 64), (120, 30, 200))
    sweep = scale_sweep(sk, [photo], scales=(1.0,))
    unit = sweep.multi_path_gates[0].name
    cases = [
        (InvalidChoice, "path must be in 0..1, got 2", lambda: sweep.path_weights(1.0, unit, path=2)),
        (InvalidChoice, "at least one image", lambda: scale_sweep(sk, [], scales=(1.0,))),
        (InvalidChoice, "not 'pie'", lambda: excitation_distribution(se.gates, [], style="pie")),
        (InvalidChoice, "not 'gif'", lambda: chart_config("x", image_format="gif")),
        (NothingToShow, "no unit with two or more paths", lambda: selection_scatter(se.gates, analyse_images(se, [photo]))),
        (NothingToShow, "no SE-style gate", lambda: excitation_heatmap(sk.gates, analyse_images(sk, [photo])[0])),
    ]
    for error, words, call in cases:
        with pytest.raises(error, match=words) as caught:
            call()
        assert isinstance(caught.value, AttnvizError) and isinstance(caught.value, ValueError)


def test_refusals_of_the_profiler_folders_and_devices_are_translated(tmp_path):
    """A person's mistake is a translated AttnvizError: the Compare page's photo profile, a data
    folder and a device name speak the visitor's language (checked in Japanese and Chinese)."""
    from attnviz.errors import AttnvizError
    from attnviz.i18n import language
    from attnviz.profiles.builder import image_folder, profile_images
    from attnviz.runtime.devices import resolve_device

    with language("ja"), pytest.raises(AttnvizError, match="クラスが指定されていません"):
        profile_images(None, [], [], [])
    with language("zh"), pytest.raises(AttnvizError, match="张图像，却有 1 个标签"):
        profile_images(None, [], [0], ["tench"])
    with language("ja"), pytest.raises(AttnvizError, match="クラスのサブフォルダがありません"):
        image_folder(tmp_path)
    with language("zh"), pytest.raises(AttnvizError, match="未知设备 'tpu'"):
        resolve_device("tpu")
