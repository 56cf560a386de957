"""The shared analysis cache: each content once per model, zoomed copies, one failure isolated."""
from __future__ import annotations

import numpy as np
import pytest

from attnviz.analysis.scale import scale_sweep, sweep_scales
from attnviz.serving import analyses as served_analyses
from attnviz.serving.analyses import AnalysisCache, cached_sweep
from attnviz.serving.models import ModelRequest, ServedModel


def served(loaded, key: str) -> ServedModel:
    """A loaded model as the app shares it, under the request key ``key``."""
    return ServedModel(ModelRequest(key), loaded)


def test_analysis_cache_runs_each_content_once(sk_model, photos, monkeypatch):
    calls = []
    real = served_analyses.analyse_images
    monkeypatch.setattr(served_analyses, "analyse_images",
                        lambda loaded, images, names=None, **kw: calls.append(len(images)) or real(loaded, images, names, **kw))
    cache = AnalysisCache(max_entries=8)
    progress = []
    first = cache.analyse(served(sk_model, "m"), photos + photos[:1], progress=lambda d, t: progress.append((d, t)))
    assert calls == [2] and progress == [(2, 2)]  # the repeated photo is computed once
    again = cache.analyse(served(sk_model, "m"), photos)
    assert calls == [2]
    np.testing.assert_array_equal(first[0].values["SK_5_2"], again[0].values["SK_5_2"])
    cache.analyse(served(sk_model, "other model"), photos[:1])
    assert calls == [2, 1]  # the key includes the model


def test_cached_sweep_matches_scale_sweep(sk_model, photos):
    scales = sweep_scales(1.25)
    assert scales == [1.0, 1.25, 1.5, 2.0]
    sweep = cached_sweep(AnalysisCache(), served(sk_model, "m"), photos, scales)
    direct = scale_sweep(sk_model, [p.image for p in photos], scales)
    for s in scales:
        assert sweep.mean_diff(s) == pytest.approx(direct.mean_diff(s), abs=1e-6)


def test_one_failing_image_leaves_the_others_their_analyses(sk_model, photos, monkeypatch):
    real = served_analyses.analyse_images

    def flaky(loaded, images, names=None, **kw):
        if any(n == photos[1].name for n in names or []):
            raise RuntimeError("boom")
        return real(loaded, images, names, **kw)

    monkeypatch.setattr(served_analyses, "analyse_images", flaky)
    failures: dict[str, str] = {}
    out = AnalysisCache().analyse(served(sk_model, "m"), photos, failures=failures)
    assert [a.name for a in out] == [p.name for p in photos if p.name != photos[1].name]
    assert list(failures) == [photos[1].digest] and "boom" in failures[photos[1].digest]
    with pytest.raises(RuntimeError):
        AnalysisCache().analyse(served(sk_model, "m"), photos)
