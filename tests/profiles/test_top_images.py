"""Top images per channel: streamed, exact, stored in the profile, and listed per channel."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from tiny import tiny

from attnviz.errors import AttnvizError
from attnviz.gates.registry import Gate
from attnviz.gates.se import SE
from attnviz.images.loading import load_image
from attnviz.analysis.inference import analyse_images
from attnviz.profiles.profile import load_profile
from attnviz.profiles.builder import profile_dataset
from attnviz.profiles.builder.top_images import TopImages

GATE = Gate("SE_2_1", "m", "m.gate", SE, "se", channels=3, paths=1)


def test_streaming_equals_sorting_everything_and_merging_is_exact():
    rng = np.random.default_rng(0)
    values = rng.random((50, 1, 3)).astype(np.float32)
    ids = np.arange(100, 150)
    whole = TopImages([GATE], k=4)
    for start in range(0, 50, 7):
        whole.update({"SE_2_1": torch.from_numpy(values[start:start + 7])}, torch.from_numpy(ids[start:start + 7]))
    for c in range(3):
        order = np.argsort(-values[:, 0, c], kind="stable")[:4]
        np.testing.assert_allclose(whole.value["top"]["SE_2_1"][0, c].numpy(), values[order, 0, c])
        assert whole.index["top"]["SE_2_1"][0, c].tolist() == ids[order].tolist()
        low = np.argsort(values[:, 0, c], kind="stable")[:4]
        assert whole.index["bottom"]["SE_2_1"][0, c].tolist() == ids[low].tolist()
    halves = [TopImages([GATE], k=4), TopImages([GATE], k=4)]
    for part, sl in zip(halves, (slice(0, 23), slice(23, 50)), strict=True):
        part.update({"SE_2_1": torch.from_numpy(values[sl])}, torch.from_numpy(ids[sl]))
    merged = TopImages([GATE], k=4).merge_(halves[0]).merge_(halves[1])
    for kind in ("top", "bottom"):
        assert torch.equal(merged.index[kind]["SE_2_1"], whole.index[kind]["SE_2_1"])


def test_profile_keeps_the_top_images_and_they_match_a_fresh_forward_pass(nette_dir, tmp_path):
    loaded = tiny("se_resnet18_half", size=64)
    out = tmp_path / "p.safetensors"
    profile_dataset(loaded, nette_dir / "val", out, per_class_limit=3, batch_size=4, workers=0,
                    progress=False, top_images=2)
    profile = load_profile(out)
    assert profile.extra["schema"] == 2 and profile.has_top_images and "/" not in profile.data.split("imagenette")[0]
    gate = loaded.gates[3]
    listed = profile.channel_images(gate.name, 5)
    assert len(listed["top"]) == len(listed["bottom"]) == 2
    # Every listed value is what a fresh forward pass of that image gives.
    for row in listed["top"] + listed["bottom"]:
        [analysis] = analyse_images(loaded, [load_image(nette_dir / "val" / row["image"])])
        assert analysis.values[gate.name][0, 5] == pytest.approx(row["value"], abs=1e-5)
    assert listed["top"][0]["value"] >= listed["top"][1]["value"] >= listed["bottom"][1]["value"]


def test_a_profile_without_top_images_says_what_it_lacks(tmp_path, goldfish):
    """Profiles made without --top-images (and schema-1 files) load and name the remedy."""
    from attnviz.profiles.builder import profile_images

    loaded = tiny("se_resnet18_half", size=64)
    profile = profile_images(loaded, [load_image(goldfish)], [0], ["goldfish"])
    profile.save(tmp_path / "p.safetensors")
    again = load_profile(tmp_path / "p.safetensors")
    assert not again.has_top_images
    with pytest.raises(AttnvizError, match="keeps no top images.*--top-images"):
        again.channel_images(loaded.gates[-1].name, 0)
