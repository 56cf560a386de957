"""The training command: a tiny run writes weights + metadata, and resume continues exactly."""
from __future__ import annotations

import json

import pytest
import torch
from safetensors.torch import load_file

from attnviz.training.train import TrainConfig, train


def _cfg(nette_dir, out, epochs=2):
    return TrainConfig(data=str(nette_dir), arch="sk_resnet18_half", out=str(out), epochs=epochs,
                       batch_size=8, lr=0.05, train_size=48, eval_size=56, workers=0, limit=24,
                       eval_every=1, command="test")


class Interrupt(Exception):
    pass


def test_train_writes_fp16_weights_and_card_data(nette_dir, tmp_path):
    out = tmp_path / "tiny.safetensors"
    meta = train(_cfg(nette_dir, out, epochs=1), log=lambda _: None)
    weights = load_file(str(out))
    assert all(v.dtype == torch.float16 for k, v in weights.items() if "num_batches" not in k)
    saved = json.loads(out.with_suffix(".json").read_text())
    assert saved == json.loads(json.dumps(meta))
    assert saved["class_names"][0] == "tench" and saved["imagenet_indices"][0] == 0
    assert saved["num_classes"] == 10 and saved["preprocessing"]["input_size"] == [3, 56, 56]
    assert 0.0 <= saved["val"]["top1"] <= 1.0 and saved["val"]["images"] == 24
    assert len(saved["training"]["history"]) == 1


def test_resume_continues_exactly_where_it_stopped(nette_dir, tmp_path):
    straight = tmp_path / "a" / "m.safetensors"
    train(_cfg(nette_dir, straight), log=lambda _: None)

    resumed = tmp_path / "b" / "m.safetensors"

    def stop_after_first_epoch(line):
        if '"epoch": 1' in line:
            raise Interrupt
    with pytest.raises(Interrupt):
        train(_cfg(nette_dir, resumed), log=stop_after_first_epoch)
    assert resumed.with_suffix(".ckpt.pt").exists() and not resumed.exists()
    lines = []
    train(_cfg(nette_dir, resumed), log=lines.append)
    assert lines[0].startswith("resumed from")
    a, b = load_file(str(straight)), load_file(str(resumed))
    assert a.keys() == b.keys()
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=0, atol=0)
