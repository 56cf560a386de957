"""Weights files a visitor can upload: checked against the architecture before anything is built.

The issue's case: an 80-byte safetensors file whose ``fc.weight`` has shape (400000, 0) took the
server from 995 to 4329 MiB before it was refused. Memory is read from /proc (the peak, reset
before the call); nothing here needs a network.
"""
from __future__ import annotations

import io
import json
import struct
import sys
from pathlib import Path

import pytest
import timm
import torch
from safetensors.torch import save_file

from attnviz.errors import ModelLoadError
from attnviz.runtime.memory import peak_rss, reset_peak_rss, rss
from attnviz.models.zoo import WeightsBlob, load_model, load_model_file, read_state_dict
from attnviz.models.zoo.catalogue import timm_names
from attnviz.models.zoo.weights import MAX_CLASSES

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from hostile_inputs import safetensors_bytes  # noqa: E402

MiB = 2 ** 20
BUDGET = 64 * MiB   # what refusing a hostile weights file may cost (the classifier alone: 3.3 GB)


def peak_rise(call) -> tuple[int, BaseException | None]:
    """(growth of the peak resident size during ``call``, what it raised)."""
    if not reset_peak_rss():
        pytest.skip("needs Linux /proc/self/clear_refs to measure the peak")
    base = rss()
    error = None
    try:
        call()
    except BaseException as exc:  # noqa: BLE001 - returned to the test
        error = exc
    return peak_rss() - base, error


@pytest.fixture(scope="module", autouse=True)
def warm():
    timm_names()  # the model list, as on a running server (not part of what a file costs)
    with torch.device("meta"):
        timm.create_model("seresnet50")


@pytest.mark.parametrize("rows", [400_000, 3_000_000])
def test_a_huge_declared_classifier_is_refused_by_name_at_the_cost_of_its_header(tmp_path, rows):
    path = tmp_path / "w.safetensors"
    path.write_bytes(safetensors_bytes({"fc.weight": ("F32", [rows, 0])}))
    assert path.stat().st_size < 120
    rise, error = peak_rise(lambda: load_model("seresnet50", weights=path, device="cpu"))
    assert isinstance(error, ModelLoadError), error
    text = str(error)
    assert str(path) in text and "fc.weight" in text and f"{rows:,} classes" in text and f"{MAX_CLASSES:,}" in text
    assert rise < BUDGET, f"refusing it cost {rise / MiB:.0f} MiB"


def test_an_upload_under_the_class_bound_with_wrong_shapes_is_refused_before_building():
    # 50,000 classes is allowed, but a (50000, 0) head does not fit: built first it would be 390 MB.
    blob = WeightsBlob("head.safetensors", safetensors_bytes({"fc.weight": ("F32", [50_000, 0])}))
    rise, error = peak_rise(lambda: load_model("seresnet50", weights=blob, device="cpu"))
    assert isinstance(error, ModelLoadError), error
    assert "head.safetensors" in str(error) and "fc.weight" in str(error)
    assert "(50000, 0)" in str(error) and "(50000, 2048)" in str(error)
    assert rise < BUDGET, f"refusing it cost {rise / MiB:.0f} MiB"


def test_integers_where_floats_belong_are_refused_by_tensor(tmp_path):
    torch.manual_seed(0)
    state = timm.create_model("skresnet18", num_classes=3).state_dict()
    state["conv1.weight"] = state["conv1.weight"].to(torch.int32)
    path = tmp_path / "ints.safetensors"
    save_file(state, str(path))
    with pytest.raises(ModelLoadError, match=r"tensor conv1\.weight holds integers"):
        load_model("skresnet18", weights=path, device="cpu")


def test_a_model_over_the_byte_bound_is_refused_before_it_is_built(monkeypatch, tmp_path):
    import attnviz.models.zoo.weights as weights

    torch.manual_seed(0)
    state = timm.create_model("skresnet18", num_classes=3).state_dict()
    path = tmp_path / "ok.safetensors"
    save_file(state, str(path))
    params = sum(v.numel() for v in state.values())
    monkeypatch.setattr(weights, "MAX_MODEL_BYTES", params * 4 - 1)   # one byte short of this model
    with pytest.raises(ModelLoadError, match=r"ok\.safetensors: skresnet18 built for it would need"):
        load_model("skresnet18", weights=path, device="cpu")
    monkeypatch.setattr(weights, "MAX_MODEL_BYTES", params * 4)
    assert load_model("skresnet18", weights=path, device="cpu").model.num_classes == 3


def test_a_users_network_gets_the_same_check(tmp_path):
    (tmp_path / "net.py").write_text("import torch.nn as nn\n"
                                     "def build():\n    return nn.Sequential(nn.Flatten(), nn.Linear(3 * 8 * 8, 4))\n")
    path = tmp_path / "w.safetensors"
    path.write_bytes(safetensors_bytes({"1.weight": ("F32", [4, 0]), "1.bias": ("F32", [4])}))
    with pytest.raises(ModelLoadError, match=r"tensor 1\.weight has shape \(4, 0\).*expects \(4, 192\)"):
        load_model_file(f"{tmp_path / 'net.py'}:build", weights=path, device="cpu")


# ---------------------------------------------------------------- what held before, kept


class Payload:
    ran = False

    def __reduce__(self):
        return (exec, ("import attnviz; attnviz._payload_ran = True",))


def test_a_pickle_with_a_reduce_payload_is_refused_and_never_run():
    buf = io.BytesIO()
    torch.save({"state_dict": {"fc.weight": torch.zeros(2, 2), "x": Payload()}}, buf)
    blob = WeightsBlob("evil.pth", buf.getvalue())
    with pytest.raises(ModelLoadError, match="evil.pth cannot be read as a plain state dict"):
        load_model("skresnet18", weights=blob, device="cpu")
    import attnviz

    assert not getattr(attnviz, "_payload_ran", False)


def test_a_header_claiming_100_gb_is_refused_without_reading_it():
    data = struct.pack("<Q", 100 * 10 ** 9) + b"{}"
    rise, error = peak_rise(lambda: load_model("seresnet50", weights=WeightsBlob("big.safetensors", data)))
    assert isinstance(error, ModelLoadError) and "big.safetensors is not a valid safetensors file" in str(error)
    assert "header claims 100,000,000,000 bytes" in str(error)
    assert rise < BUDGET


def test_offsets_past_the_end_are_refused():
    header = json.dumps({"fc.weight": {"dtype": "F32", "shape": [1000, 1000], "data_offsets": [0, 4_000_000]}})
    data = struct.pack("<Q", len(header)) + header.encode() + b"\0" * 16
    with pytest.raises(ModelLoadError, match="past the end"):
        load_model("seresnet50", weights=WeightsBlob("short.safetensors", data))
    with pytest.raises(ModelLoadError, match="not a valid safetensors"):
        read_state_dict(WeightsBlob("short.safetensors", data))


def test_a_good_file_still_loads(tmp_path):
    torch.manual_seed(2)
    state = timm.create_model("skresnet18", num_classes=5).state_dict()
    path = tmp_path / "good.safetensors"
    save_file({f"module.{k}": v for k, v in state.items()}, str(path))
    loaded = load_model("skresnet18", weights=path, device="cpu")
    torch.testing.assert_close(loaded.model.state_dict()["fc.weight"], state["fc.weight"])
