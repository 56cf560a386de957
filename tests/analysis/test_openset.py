"""The open-set signal for unlabelled photos (maximum softmax probability): AUROC against scipy's
Mann-Whitney U, the threshold's rates counted by hand, the note worded as a likelihood, and the
shipped calibrations as BENCHMARKS.md reports them."""
from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import mannwhitneyu

from attnviz.analysis.openset import (OpenSetCalibration, auroc, bundled_calibration, calibrate, openset_note, photo_note)


def test_auroc_is_mann_whitney_u_over_the_pairs():
    rng = np.random.default_rng(0)
    known = np.round(rng.beta(5, 2, 300), 2)  # rounded: ties happen and count half
    unknown = np.round(rng.beta(2, 3, 80), 2)
    u = mannwhitneyu(known, unknown, alternative="greater").statistic
    assert auroc(known, unknown) == pytest.approx(u / (known.size * unknown.size))
    assert auroc([0.9, 0.8], [0.1, 0.2]) == 1.0 and auroc([0.1], [0.9]) == 0.0


def test_the_threshold_keeps_95_percent_of_the_known_and_its_rates_are_counted():
    known = np.arange(1, 101) / 100          # 0.01 … 1.00
    unknown = np.array([0.02, 0.03, 0.5, 0.9])
    cal = calibrate("m", known, unknown, 0.95)
    assert cal.threshold == pytest.approx(0.05)  # 96 of 100 known are >= 0.05; 0.06 would keep 95 -> hand count
    assert cal.tpr == pytest.approx(np.mean(known >= cal.threshold)) and cal.tpr >= 0.95
    assert cal.fpr == pytest.approx(0.5)     # 0.5 and 0.9 pass, 0.02 and 0.03 are flagged


def test_the_note_is_a_likelihood_and_only_for_unsure_photos():
    cal = OpenSetCalibration("m", threshold=0.6, tpr=0.95, fpr=0.3, auroc=0.9, known="k", unknown="u")
    assert openset_note(cal, np.array([0.9, 0.05, 0.05])) is None
    note = openset_note(cal, np.array([0.4, 0.35, 0.25]))
    assert "40%" in note and "60%" in note and "may not" in note
    assert "70%" in note and "5%" in note   # 1 − FPR of unknown photos, 1 − TPR of known ones
    assert openset_note(None, np.array([0.4, 0.6])) is None
    # A labelled photo gets the vocabulary fact instead, whatever its confidence.
    assert "'goldfish' is not" in photo_note(["tench", "church"], "goldfish", cal, np.array([0.99, 0.01]))
    assert photo_note(["tench", "church"], "tench", cal, np.array([0.5, 0.5])) is None


@pytest.mark.parametrize("model", ["se_resnet18_imagenette", "sk_resnet18_imagenette"])
def test_the_shipped_calibrations_separate_known_from_unknown(model):
    cal = bundled_calibration(model)
    assert cal is not None, "run bench/openset_threshold.py"
    assert cal.model == model and 0.0 < cal.threshold < 1.0
    assert cal.tpr >= 0.90 and 0.0 <= cal.fpr < 1.0 and 0.5 < cal.auroc <= 1.0


def test_an_upload_gets_the_note_exactly_when_its_confidence_is_under_the_threshold(monkeypatch, tmp_path):
    """Through the app: uploads carry no label; each is flagged iff its top probability, computed
    here by a separate forward pass, is under the shipped threshold."""
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    from attnviz.analysis.inference import analyse_images
    from attnviz.serving.inputs import decode, read_files
    from attnviz.serving.samples import packaged_photos
    from attnviz.models.zoo import load_model

    model = "se_resnet18_imagenette"
    cal = bundled_calibration(model)
    if cal is None:
        pytest.skip("the shipped models are not in assets/")
    monkeypatch.delenv("ATTNVIZ_ASSETS", raising=False)
    monkeypatch.setenv("ATTNVIZ_SAMPLES", str(tmp_path))  # empty: no sample photo besides the uploads
    paths = [Path(p) for p in packaged_photos()]
    root = Path(__file__).resolve().parents[2]
    at = AppTest.from_file(str(root / "app.py"), default_timeout=180).run()
    at.switch_page("attnviz/app/pages/explore.py")
    at.sidebar.file_uploader(key="uploads").set_value([(p.name, p.read_bytes(), "image/png") for p in paths])
    at.run()
    assert not at.exception
    import json

    tops = [json.loads(e.proto.spec)["layout"]["title"]["text"] for e in at.get("plotly_chart")]
    assert len([t for t in tops if t.startswith("Top-5")]) == len(paths)  # every upload was analysed
    warnings = [str(w.value) for w in at.warning]
    loaded = load_model(model)
    images = [decode(i).image for i in read_files(paths)]
    for path, analysis in zip(paths, analyse_images(loaded, images), strict=True):
        flagged = float(analysis.probs.max()) < cal.threshold
        said = [w for w in warnings if f"top class gets {float(analysis.probs.max()):.0%}" in w]
        assert bool(said) == flagged, (path.name, float(analysis.probs.max()), cal.threshold)
        print(f"{path.name}: top {float(analysis.probs.max()):.3f}, flagged {flagged}")
