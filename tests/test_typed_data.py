"""Typed, immutable data (issue 21): a profile's gates are ``Gate`` objects, the profile shared by
every session cannot be changed, one module owns the file format, and old files still load."""
from __future__ import annotations

import dataclasses
import json
import struct
from pathlib import Path

import numpy as np
import pytest

import attnviz.profiles.file_format as profile_format
from attnviz.gates import Gate
from attnviz.profiles.profile import Profile, load_profile

ROOT = Path(__file__).resolve().parent.parent
SK_PROFILE = ROOT / "assets" / "profiles" / "sk_resnet18_imagenette.profile.safetensors"


@pytest.fixture(scope="module")
def profile() -> Profile:
    return load_profile(SK_PROFILE)


def test_profile_gates_are_gates_whose_kind_names_the_compared_path(profile):
    assert isinstance(profile.gates, tuple) and all(isinstance(g, Gate) for g in profile.gates)
    first = profile.gates[0]
    assert (first.name, first.kind.name, first.paths, first.stage, first.block) == ("SK_2_1", "sk", 2, 2, 1)
    assert first.kind.compared_path(first.paths) == 1           # b, the 5x5 path
    assert profile.gate("SK_2_1") is first and profile.gate_info("SK_2_1") is first


def test_a_shared_profile_cannot_be_changed(profile):
    with pytest.raises(dataclasses.FrozenInstanceError):
        profile.model = "other"                                 # type: ignore[misc]
    with pytest.raises(ValueError, match="read-only"):
        profile.count[0, 0] = 99
    with pytest.raises(ValueError, match="read-only"):
        profile.means["SK_2_1"][0, 0, 0, 0] = 0.5
    with pytest.raises(ValueError, match="read-only"):
        profile.bin_edges[0] = -1.0
    with pytest.raises(TypeError):
        profile.means["SK_2_1"] = np.zeros(1)                   # type: ignore[index]
    with pytest.raises(TypeError):
        profile.extra["schema"] = 9                             # type: ignore[index]
    with pytest.raises(AttributeError):
        profile.class_names.append("x")                         # type: ignore[attr-defined]
    if profile.top_images:
        values, ids = profile.top_images["SK_2_1"]["top"]
        with pytest.raises(ValueError, match="read-only"):
            values[0, 0, 0] = 1.0
    changed = dataclasses.replace(profile, model="renamed")   # a changed copy instead
    assert changed.model == "renamed" and profile.model == "sk_resnet18_imagenette"


def test_save_and_load_round_trip_through_the_format_module(profile, tmp_path):
    out = tmp_path / "again.profile.safetensors"
    profile.save(out)
    again = load_profile(out)
    assert again.gates == profile.gates and again.class_names == profile.class_names
    for name in profile.gate_names:
        np.testing.assert_array_equal(again.means[name], profile.means[name])
    from safetensors.numpy import load_file

    names = set(load_file(str(out)))
    assert profile_format.tensor_name(profile_format.MEAN, "SK_2_1") == "mean/SK_2_1" and "mean/SK_2_1" in names
    assert {"count", "top1_correct", "bin_edges", "m2/SK_2_1", "hist/SK_2_1"} <= names


def _rewrite_gates(source: Path, target: Path, edit) -> None:
    """A copy of a profile file whose header's gate list is edited (what an older attnviz wrote)."""
    data = source.read_bytes()
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + length])
    meta = json.loads(header["__metadata__"]["attnviz_profile"])
    meta["gates"] = [edit(dict(g)) for g in meta["gates"]]
    header["__metadata__"]["attnviz_profile"] = json.dumps(meta)
    raw = json.dumps(header).encode()
    raw += b" " * (-len(raw) % 8)
    target.write_bytes(struct.pack("<Q", len(raw)) + raw + data[8 + length:])


def test_an_old_file_with_bare_gate_dicts_still_loads(tmp_path):
    old = tmp_path / "old.profile.safetensors"
    _rewrite_gates(SK_PROFILE, old, lambda g: {k: g[k] for k in ("name", "kind", "channels", "paths")})
    profile = load_profile(old)
    gate = profile.gates[0]
    assert (gate.name, gate.kind.name, gate.paths, gate.stage, gate.module, gate.variant) == ("SK_2_1", "sk", 2,
                                                                                              None, "", "sk")
    assert [g.index for g in profile.gates] == list(range(len(profile.gates)))


def test_a_gate_field_of_the_wrong_type_is_refused_with_the_file_named(tmp_path):
    from attnviz.errors import AttnvizError

    bad = tmp_path / "bad.profile.safetensors"
    _rewrite_gates(SK_PROFILE, bad, lambda g: {**g, "stage": "two"})
    with pytest.raises(AttnvizError, match=r"bad.profile.safetensors is not a valid attnviz profile: gate 'SK_2_1'"):
        load_profile(bad)


def test_the_shared_model_and_decoded_images_cannot_be_changed(tmp_path):
    """One LoadedModel and one DecodedImage per bytes are handed to every session (cached
    resources): rebinding a field must raise, and a variant is a new object."""
    from PIL import Image

    from attnviz.serving.inputs import ImageInput, decode
    from tiny import tiny

    loaded = tiny("se_resnet18_half", size=64, seed=0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        loaded.name = "other"
    renamed = dataclasses.replace(loaded, name="other")
    assert (renamed.name, loaded.name) == ("other", loaded.name) and renamed.model is loaded.model
    assert renamed.transform is not None                         # derived again by __post_init__

    path = tmp_path / "photo.png"
    Image.new("RGB", (40, 30), (200, 10, 10)).save(path)
    item = decode(ImageInput(name="photo.png", data=path.read_bytes()))
    assert item.ok
    for field_name in ("image", "error", "label", "digest"):
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(item, field_name, None)
