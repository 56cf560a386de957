"""Class statistics of profiles: the paper's default blocks and channels, labels to classes."""
from __future__ import annotations

import numpy as np
import pytest

from attnviz.class_stats import labelled_classes, paper_default_blocks, sampled_channels
from attnviz.errors import AttnvizError


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
