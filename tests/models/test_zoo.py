"""The zoo: local weights files, timm's cache (populated here with files we make), offline errors."""
from __future__ import annotations

import ast
import json
import os
from pathlib import Path

import pytest
import timm
import torch
from safetensors.torch import save_file

from attnviz.errors import AttnvizError, ModelLoadError
from attnviz.runtime.devices import resolve_device
from attnviz.models.zoo import (TIMM_ZOO, BundledModel, bundled_models, default_model_name, list_models, load_model,
                         read_state_dict, suggest, weights_status)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def sk18_state():
    torch.manual_seed(1)
    model = timm.create_model("skresnet18")
    return {k: v.clone() for k, v in model.state_dict().items()}


def _same_weights(loaded, state):
    got = loaded.model.state_dict()
    for key in ("conv1.weight", "fc.weight", "layer4.1.conv1.attn.fc_select.weight"):
        torch.testing.assert_close(got[key].float(), state[key].float())


def test_local_safetensors_file(sk18_state, tmp_path):
    path = tmp_path / "sk.safetensors"
    save_file(sk18_state, str(path))
    loaded = load_model("skresnet18", weights=path, device="cpu")
    assert loaded.source == "file" and loaded.weights == str(path)
    assert len(loaded.gates) == 8 and [k.name for k in loaded.kinds] == ["sk"]
    assert loaded.class_names[1] == "goldfish"
    _same_weights(loaded, sk18_state)


def test_local_pth_file_wrapped_and_prefixed(sk18_state, tmp_path):
    path = tmp_path / "sk.pth"
    torch.save({"epoch": 3, "state_dict": {f"module.{k}": v for k, v in sk18_state.items()}}, path)
    _same_weights(load_model("skresnet18", weights=path, device="cpu"), sk18_state)


class NotATensor:
    pass


def test_pickled_objects_are_refused(tmp_path):
    path = tmp_path / "evil.pth"
    torch.save({"state_dict": {"x": NotATensor()}}, path)
    with pytest.raises(ModelLoadError, match="pickled Python objects"):
        read_state_dict(path)


def test_weights_for_another_architecture_are_refused(sk18_state, tmp_path):
    path = tmp_path / "sk.safetensors"
    save_file(sk18_state, str(path))
    with pytest.raises(ModelLoadError, match="do not fit architecture seresnet50"):
        load_model("seresnet50", weights=path, device="cpu")


def test_missing_and_unknown_weight_files(tmp_path):
    with pytest.raises(ModelLoadError, match="does not exist"):
        load_model("skresnet18", weights=tmp_path / "nope.safetensors")
    (tmp_path / "w.txt").write_text("x")
    with pytest.raises(ModelLoadError, match="unknown extension"):
        load_model("skresnet18", weights=tmp_path / "w.txt")
    (tmp_path / "bad.safetensors").write_bytes(b"not safetensors")
    with pytest.raises(ModelLoadError, match="not a valid safetensors"):
        load_model("skresnet18", weights=tmp_path / "bad.safetensors")


def test_fine_tuned_head_size_and_sidecar_class_names(tmp_path):
    torch.manual_seed(0)
    state = timm.create_model("skresnet18", num_classes=3).state_dict()
    path = tmp_path / "ft.safetensors"
    save_file(state, str(path))
    (tmp_path / "ft.json").write_text(json.dumps({"class_names": ["cat", "dog", "owl"]}))
    loaded = load_model("skresnet18", weights=path, device="cpu")
    assert loaded.class_names == ["cat", "dog", "owl"]
    assert loaded.model.num_classes == 3


def test_unknown_name_suggests_close_matches():
    with pytest.raises(ModelLoadError) as info:
        load_model("seresnet5")
    assert "unknown model 'seresnet5'" in str(info.value) and "seresnet50" in str(info.value)
    assert "skresnet18" in suggest("skresnet81")


def test_offline_without_cache_is_one_clear_message(tmp_path, monkeypatch):
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    torch.hub.set_dir(str(tmp_path / "torch"))
    try:
        for name in ("seresnet50", "legacy_seresnet50"):
            assert weights_status(name) == "download"
            with pytest.raises(ModelLoadError) as info:
                load_model(name, device="cpu")
            message = str(info.value)
            assert name in message and "--weights" in message and "connect to the internet" in message
    finally:
        torch.hub.set_dir(os.path.join(os.path.expanduser("~"), ".cache", "torch", "hub"))


def _fake_hub_cache(root: Path, repo_id: str, state: dict) -> None:
    """Lay out a Hugging Face hub cache entry exactly as huggingface_hub writes one."""
    folder = root / ("models--" + repo_id.replace("/", "--"))
    commit = "0123456789abcdef0123456789abcdef01234567"
    snapshot = folder / "snapshots" / commit
    snapshot.mkdir(parents=True)
    (folder / "refs").mkdir()
    (folder / "refs" / "main").write_text(commit)
    save_file(state, str(snapshot / "model.safetensors"))


def test_timm_hub_cache_is_used_offline(sk18_state, tmp_path, monkeypatch):
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path))
    repo = timm.models.get_pretrained_cfg("skresnet18").hf_hub_id
    _fake_hub_cache(tmp_path, repo, sk18_state)
    assert weights_status("skresnet18") == "cached"
    loaded = load_model("skresnet18", device="cpu")
    assert loaded.source == "pretrained"
    _same_weights(loaded, sk18_state)


def test_timm_url_cache_is_used_offline(tmp_path):
    torch.manual_seed(2)
    state = timm.create_model("legacy_seresnet50").state_dict()
    url = timm.models.get_pretrained_cfg("legacy_seresnet50").url
    torch.hub.set_dir(str(tmp_path))
    try:
        target = tmp_path / "checkpoints" / Path(url).name
        target.parent.mkdir(parents=True)
        torch.save(state, target)
        assert weights_status("legacy_seresnet50") == "cached"
        loaded = load_model("legacy_seresnet50", device="cpu")
        torch.testing.assert_close(loaded.model.state_dict()["last_linear.weight"], state["last_linear.weight"])
        assert [g.name for g in loaded.gates][-1] == "SE_5_3"
    finally:
        torch.hub.set_dir(os.path.join(os.path.expanduser("~"), ".cache", "torch", "hub"))


def test_list_models_covers_the_zoo():
    rows = list_models()
    names = [r["name"] for r in rows]
    assert set(TIMM_ZOO) <= set(names)
    first_timm = next(i for i, r in enumerate(rows) if r["source"] == "timm")
    assert all(r["source"] == "bundled" for r in rows[:first_timm])


def test_random_weights_and_preprocessing():
    loaded = load_model("seresnet50", pretrained=False, device="cpu")
    assert loaded.source == "random" and loaded.input_size == 224
    from PIL import Image

    batch = loaded.preprocess([Image.new("RGB", (300, 200))])
    assert batch.shape == (1, 3, 224, 224)


def test_cuda_without_gpu_is_a_clear_error():
    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    with pytest.raises(AttnvizError, match="no CUDA GPU"):
        resolve_device("cuda")
    assert resolve_device("auto").type == "cpu"


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("amp", ["off", "bf16", "fp16"])
def test_cuda_amp_channels_last_values_are_float32_and_match_cpu(amp, goldfish):
    from attnviz.images.loading import load_image
    from attnviz.analysis.inference import analyse_images

    torch.manual_seed(0)
    state = timm.create_model("seresnet50").state_dict()
    cpu = load_model("seresnet50", pretrained=False, device="cpu")
    cpu.model.load_state_dict(state)
    gpu = load_model("seresnet50", pretrained=False, device="cuda", amp=amp)
    gpu.model.load_state_dict(state)
    assert gpu.channels_last
    image = load_image(goldfish)
    [a] = analyse_images(cpu, [image])
    [b] = analyse_images(gpu, [image])
    tol = 1e-3 if amp == "off" else 5e-2
    for name, values in a.values.items():
        assert b.values[name].dtype == values.dtype == "float32"
        assert abs(b.values[name] - values).max() < tol


def test_bundled_cards_are_typed_records(tmp_path, monkeypatch):
    from bundled_kit import CLASS_NAMES, write_bundled

    monkeypatch.setenv("ATTNVIZ_ASSETS", str(tmp_path))
    write_bundled(tmp_path, "sk_resnet18_half", "b_sk", size=64)
    write_bundled(tmp_path, "se_resnet18_half", "a_se", default=True, size=80)
    bundled = bundled_models()
    assert list(bundled) == ["a_se", "b_sk"] and default_model_name() == "a_se"
    card = bundled["b_sk"]
    assert isinstance(card, BundledModel) and card.arch == "sk_resnet18_half" and not card.default
    assert card.num_classes == 10 and card.class_names == tuple(CLASS_NAMES) and card.class_folders == ()
    assert card.weights_file == str(tmp_path / "models" / "b_sk.safetensors")
    assert card.card_file == tmp_path / "models" / "b_sk.json"
    assert card.preprocessing.data_config()["input_size"] == (3, 64, 64)
    loaded = load_model("b_sk", device="cpu")
    assert loaded.source == "bundled" and loaded.meta == card and loaded.input_size == 64
    assert loaded.class_names == list(CLASS_NAMES) and loaded.weights == card.weights_file
    assert load_model("skresnet18", pretrained=False, device="cpu").meta is None
    row = next(r for r in list_models() if r["name"] == "b_sk")
    assert row == {"name": "b_sk", "source": "bundled", "description": card.description,
                   "weights": "bundled", "classes": 10, "top1": None}


def test_the_shipped_cards_read_as_records():
    shipped = bundled_models()
    if not shipped:
        pytest.skip("no bundled model in assets/models")
    for name, card in shipped.items():
        raw = json.loads(Path(card.card_file).read_text())
        assert card.name == name == raw["name"] and card.class_names == tuple(raw["class_names"])
        assert card.class_folders == tuple(raw["class_folders"]) and len(card.class_folders) == card.num_classes


def test_a_card_without_a_needed_field_is_named(tmp_path, monkeypatch):
    from bundled_kit import write_bundled

    monkeypatch.setenv("ATTNVIZ_ASSETS", str(tmp_path))
    card = write_bundled(tmp_path, "se_resnet18_half", "broken")
    data = json.loads(card.read_text())
    del data["arch"]
    card.write_text(json.dumps(data))
    with pytest.raises(ModelLoadError, match=r"broken\.json lacks the field 'arch'"):
        bundled_models()


def _private_timm_uses(source: str) -> list[str]:
    """Uses of private timm modules or names (a dotted part starting with '_', dunders aside) in
    Python ``source``: imports, and attribute chains such as ``timm.models._hub`` on ``timm``."""
    def private(dotted: str) -> bool:
        return any(part.startswith("_") and not part.endswith("__") for part in dotted.split("."))

    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [f"{node.lineno}: import {a.name}" for a in node.names
                      if a.name.split(".")[0] == "timm" and private(a.name)]
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module \
                and node.module.split(".")[0] == "timm":
            found += [f"{node.lineno}: from {node.module} import {a.name}" for a in node.names
                      if private(f"{node.module}.{a.name}")]
        elif isinstance(node, ast.Attribute) and private(node.attr):
            parts, inner = [node.attr], node.value
            while isinstance(inner, ast.Attribute):
                parts.append(inner.attr)
                inner = inner.value
            # the chain's first private part only: timm.models._hub, not also timm.models._hub.x
            if isinstance(inner, ast.Name) and inner.id == "timm" and not private(".".join(parts[1:])):
                found.append(f"{node.lineno}: timm.{'.'.join(reversed(parts))}")
    return found


def test_the_private_timm_scan_sees_private_uses():
    source = ("import timm\nimport timm.models._hub\nfrom timm.models._efficientnet_blocks import X\n"
              "from timm.models import _hub, get_pretrained_cfg\nfrom timm.layers import SEModule\n"
              "y = timm.models._hub.get_cache_dir()\nv = timm.__version__\nfrom ._private import z\n")
    assert _private_timm_uses(source) == [
        "2: import timm.models._hub", "3: from timm.models._efficientnet_blocks import X",
        "4: from timm.models import _hub", "6: timm.models._hub"]


@pytest.mark.parametrize("path", sorted((ROOT / "attnviz").rglob("*.py")) + [ROOT / "app.py"],
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_no_private_timm_module_is_imported(path):
    """timm's private modules (``timm.models._hub`` ...) change without notice between releases;
    attnviz uses timm's public API only."""
    assert not _private_timm_uses(path.read_text(encoding="utf-8")), f"{path.relative_to(ROOT)} uses private timm"
