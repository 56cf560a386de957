"""attnviz.profiles.builder: streaming class profiles against a direct computation, the paired moments
between scales and the tests made from them, CSV, resume, bad files, old profiles, the CLI and a
2-process torchrun run.

Small random networks at 64 px and ~20 Imagenette images keep this file to well under a minute.
"""
from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn as nn

from attnviz import load_profile
from attnviz.profiles.class_stats import mean_attention_difference, scale_shift_tests
from attnviz.models.architectures import build_architecture
from attnviz.models.classes import folder_class_name
from attnviz.cli import main
from attnviz.errors import AttnvizError
from attnviz.images.loading import load_image
from attnviz.analysis.inference import analyse_images
from attnviz.profiles.builder import (ProfileAccumulator, folder_with_csv, image_folder, profile_dataset,
                               profile_images)
from attnviz.profiles.builder.distributed import World, shard
from attnviz.profiles.builder.runner import checkpoint_path
from attnviz.analysis.scale import zoom
from attnviz.analysis.statistics import holm_adjust, mcnemar_exact, paired_t_from_moments, paired_t_test
from attnviz.models.zoo import wrap_model

ROOT = Path(__file__).resolve().parents[2]
CLASSES = ["n01440764", "n02102040", "n03888257"]          # tench, springer, parachute
PER_CLASS = 7
SCALES = (1.0, 1.5)
DATA_CONFIG = {"input_size": (3, 64, 64), "interpolation": "bilinear", "mean": (0.485, 0.456, 0.406),
               "std": (0.229, 0.224, 0.225), "crop_pct": 0.875, "crop_mode": "center"}


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """These tiny forwards are fastest on one thread; on a shared 2-core machine two threads
    contend with everything else running and are ~100x slower."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _tiny(arch: str, nette_dir: Path):
    """A random bundled architecture whose classes are Imagenette's (so accuracy is counted).

    BatchNorm scales are randomised: timm zero-initialises the last BN of each block, which would
    feed every SE gate a constant and make its statistics trivially equal."""
    torch.manual_seed(0)
    model = build_architecture(arch, 10)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            nn.init.uniform_(m.weight, 0.5, 1.5)
            nn.init.normal_(m.bias, 0.0, 0.2)
    folders = sorted(p.name for p in (nette_dir / "val").iterdir())
    return wrap_model(model, f"tiny-{arch}", [folder_class_name(f) for f in folders], DATA_CONFIG, "cpu")


@pytest.fixture(scope="module", params=["se_resnet18_half", "sk_resnet18_half"])
def tiny(request, nette_dir):
    return _tiny(request.param, nette_dir)


@pytest.fixture(scope="module")
def tiny_sk(nette_dir):
    return _tiny("sk_resnet18_half", nette_dir)


@pytest.fixture(scope="module")
def subset(tmp_path_factory, nette_dir) -> Path:
    """An ImageFolder of symlinks to the first PER_CLASS val images of three classes."""
    root = tmp_path_factory.mktemp("nette3")
    for wnid in CLASSES:
        (root / wnid).mkdir()
        for src in sorted((nette_dir / "val" / wnid).iterdir())[:PER_CLASS]:
            (root / wnid / src.name).symlink_to(src)
    return root


@pytest.fixture(scope="module")
def with_bad_files(tmp_path_factory, subset) -> Path:
    """The subset plus an empty file, a text file and a truncated JPEG (and a non-image name)."""
    root = tmp_path_factory.mktemp("nette3bad")
    for wnid in CLASSES:
        (root / wnid).mkdir()
        for src in sorted((subset / wnid).iterdir())[:3]:
            (root / wnid / src.name).symlink_to(src.resolve())
    (root / CLASSES[0] / "empty.jpg").write_bytes(b"")
    (root / CLASSES[1] / "notes.jpg").write_text("not a photo\n")
    real = sorted((subset / CLASSES[2]).iterdir())[0].resolve().read_bytes()
    (root / CLASSES[2] / "cut.jpg").write_bytes(real[:600])
    (root / CLASSES[2] / "README.txt").write_text("ignored: not an image extension\n")
    return root


def _direct(loaded, root: Path, scale: float):
    """Per image: class index and gate values, computed one by one without the profiler."""
    files, labels = [], []
    for k, wnid in enumerate(sorted(p.name for p in root.iterdir())):
        for f in sorted((root / wnid).iterdir()):
            files.append(f)
            labels.append(k)
    analyses = analyse_images(loaded, [zoom(load_image(f), scale) for f in files], batch_size=4)
    return np.array(labels), analyses


# ---------------------------------------------------------------- statistics


def test_statistics_equal_a_direct_computation(tiny, subset):
    profile = profile_dataset(tiny, subset, scales=SCALES, batch_size=4, workers=0, progress=False)
    names = [folder_class_name(w) for w in CLASSES]
    assert list(profile.class_names) == names and list(profile.class_folders) == CLASSES
    assert list(profile.scales) == list(SCALES) and profile.gate_names == [g.name for g in tiny.gates]
    assert profile.labels_match and profile.skipped == ()
    model_index = [tiny.class_names.index(n) for n in names]
    for si, scale in enumerate(SCALES):
        labels, analyses = _direct(tiny, subset, scale)
        assert profile.counts(si).tolist() == [PER_CLASS] * 3
        predicted = np.array([a.probs.argmax() for a in analyses])
        hits = [(predicted[labels == k] == model_index[k]).sum() for k in range(3)]
        assert profile.top1_correct[si].tolist() == hits
        for gate in tiny.gates:
            values = np.stack([a.values[gate.name] for a in analyses]).astype(np.float64)  # (N, P, C)
            for k in range(3):
                own = values[labels == k]
                np.testing.assert_allclose(profile.mean(gate.name, si)[k], own.mean(axis=0), rtol=1e-9, atol=1e-12)
                np.testing.assert_allclose(profile.std(gate.name, si)[k], own.std(axis=0), rtol=1e-6, atol=1e-9)
                hist = [np.histogram(own[:, p].ravel(), bins=profile.bin_edges)[0] for p in range(gate.paths)]
                np.testing.assert_array_equal(profile.hist(gate.name, si)[k], np.stack(hist))
            assert profile.hist(gate.name, si).sum() == 3 * PER_CLASS * gate.paths * gate.channels
    # SK selections are a softmax over the two paths: the class means sum to 1 per channel.
    if [k.name for k in tiny.kinds] == ["sk"]:
        m = profile.mean(tiny.gates[0].name)
        np.testing.assert_allclose(m.sum(axis=1), 1.0, atol=1e-6)


def test_paired_moments_equal_a_direct_computation(tiny_sk, subset):
    """Per class and pair of scales: count, sum and sum of squares of the per-image change of
    mean_c(b - a), and the paired t-test made from them equals scipy's on the per-image values."""
    from scipy.stats import ttest_rel

    profile = profile_dataset(tiny_sk, subset, scales=SCALES, batch_size=4, workers=0, progress=False)
    (labels, before), (_, after) = (_direct(tiny_sk, subset, s) for s in SCALES)
    assert profile.pair_count.shape == (2, 2, 3)
    assert profile.pair_count.tolist() == [[[PER_CLASS] * 3] * 2] * 2
    for gate in tiny_sk.gates:
        x0, x1 = (np.array([np.mean(np.float64(a.values[gate.name][1]) - a.values[gate.name][0])
                            for a in analyses]) for analyses in (before, after))
        for k in range(3):
            d = (x1 - x0)[labels == k]
            n, total, total_sq = profile.paired_moments(gate.name, 0, 1, [k])
            assert n == PER_CLASS
            assert total == pytest.approx(d.sum(), rel=1e-6, abs=1e-9)
            assert total_sq == pytest.approx((d * d).sum(), rel=1e-5, abs=1e-12)
            assert profile.paired_moments(gate.name, 1, 0, [k])[1] == pytest.approx(-total, abs=1e-12)
            assert profile.paired_moments(gate.name, 0, 0, [k])[1:] == (0.0, 0.0)
        # over all classes, as the notebook's verdict uses it
        [test] = scale_shift_tests(profile, [gate.name], SCALES[0], SCALES[1])
        reference = ttest_rel(x1, x0)
        assert test.n == len(x0) and test.mean == pytest.approx((x1 - x0).mean(), abs=1e-9)
        assert test.t == pytest.approx(reference.statistic, rel=1e-4)
        assert test.p == pytest.approx(reference.pvalue, rel=1e-4, abs=1e-12)
        # the mean of the changes is the change of the means
        rise = mean_attention_difference(profile, gate.name, 1) - mean_attention_difference(profile, gate.name, 0)
        assert test.mean == pytest.approx(rise, abs=1e-9)
        assert mean_attention_difference(profile, gate.name, 0) == pytest.approx(x0.mean(), abs=1e-7)


def test_paired_and_mcnemar_tests():
    rng = np.random.default_rng(1)
    d = rng.normal(0.3, 1.0, 40)
    from scipy.stats import binomtest, ttest_1samp

    mine, theirs = paired_t_test(d), ttest_1samp(d, 0.0)
    assert mine.t == pytest.approx(theirs.statistic) and mine.p == pytest.approx(theirs.pvalue)
    assert paired_t_from_moments(1, 0.5, 0.25).p != paired_t_from_moments(1, 0.5, 0.25).p  # nan: one pair
    assert paired_t_test([0.2, 0.2, 0.2]).p == 0.0 and paired_t_test([0.0, 0.0]).p == 1.0
    np.testing.assert_allclose(holm_adjust([0.01, 0.04, 0.03, 0.5]), [0.04, 0.09, 0.09, 0.5])
    before = np.array([True] * 10 + [False] * 5)
    after = before.copy()
    after[:4] = False                                                  # 4 lost
    after[12] = True                                                   # 1 gained
    test = mcnemar_exact(before, after)
    assert (test.n, test.lost, test.gained) == (15, 4, 1) and test.change == pytest.approx(-3 / 15)
    assert test.p == pytest.approx(binomtest(4, 5, 0.5).pvalue)
    assert mcnemar_exact(before, before).p == 1.0


def test_profiles_without_paired_moments_still_load(tiny_sk, subset, tmp_path):
    """A profile saved before the paired moments existed loads, and says what it lacks."""
    from safetensors import safe_open
    from safetensors.numpy import save_file

    new, old = tmp_path / "new.safetensors", tmp_path / "old.safetensors"
    profile = profile_dataset(tiny_sk, subset, new, scales=SCALES, batch_size=8, workers=0, progress=False)
    again = load_profile(new)
    assert again.has_pairs(tiny_sk.gates[0].name)
    np.testing.assert_array_equal(again.pair_count, profile.pair_count)
    for g in tiny_sk.gates:
        np.testing.assert_array_equal(again.pair_sum[g.name], profile.pair_sum[g.name])
    with safe_open(str(new), framework="numpy") as fh:
        save_file({k: fh.get_tensor(k) for k in fh.keys() if not k.startswith("pair_")}, str(old),  # noqa: SIM118  safe_open has keys() but no __iter__
                  metadata=fh.metadata())
    legacy = load_profile(old)
    np.testing.assert_array_equal(legacy.means[tiny_sk.gates[0].name], profile.means[tiny_sk.gates[0].name])
    assert legacy.pair_count is None and not legacy.has_pairs(tiny_sk.gates[0].name)
    with pytest.raises(KeyError, match="made before attnviz stored them; recompute it"):
        legacy.paired_moments(tiny_sk.gates[0].name, 0, 1)
    legacy.save(tmp_path / "resaved.safetensors")                 # and saves again without them
    assert load_profile(tmp_path / "resaved.safetensors").pair_count is None


def test_profile_images_equals_profile_dataset_and_per_channel_histograms(tiny_sk, subset):
    # Same batches on both sides: float32 convolutions differ in the last bits with the batch size.
    from_folder = profile_dataset(tiny_sk, subset, batch_size=5, workers=1, progress=False,
                                  channel_hist=True)
    data = image_folder(subset)
    images = [load_image(path) for path, _ in data.samples]
    in_memory = profile_images(tiny_sk, images, [label for _, label in data.samples], data.class_names,
                               batch_size=5)
    np.testing.assert_array_equal(in_memory.count, from_folder.count)
    np.testing.assert_array_equal(in_memory.top1_correct, from_folder.top1_correct)
    assert in_memory.labels_match  # the names are the model's own classes
    for g in tiny_sk.gates:
        np.testing.assert_allclose(in_memory.means[g.name], from_folder.means[g.name], rtol=1e-9)
        np.testing.assert_allclose(in_memory.m2[g.name], from_folder.m2[g.name], rtol=1e-6, atol=1e-12)
        np.testing.assert_array_equal(in_memory.hists[g.name], from_folder.hists[g.name])
        np.testing.assert_allclose(in_memory.pair_sumsq[g.name], from_folder.pair_sumsq[g.name], rtol=1e-9)
        per_channel = from_folder.channel_hist(g.name)                       # (K, P, C, B)
        np.testing.assert_array_equal(per_channel.sum(axis=2), from_folder.hist(g.name))
    gate = tiny_sk.gates[3]
    labels, analyses = _direct(tiny_sk, subset, 1.0)
    values = np.stack([a.values[gate.name] for a in analyses])[labels == 1]     # class 1, (N, P, C)
    expected = np.histogram(values[:, 1, 5], bins=from_folder.bin_edges)[0]    # path b, channel 5
    np.testing.assert_array_equal(from_folder.channel_hist(gate.name)[1, 1, 5], expected)
    with pytest.raises(KeyError, match="--channel-hist"):
        in_memory.channel_hist(gate.name)


def test_profile_images_refuses_bad_labels(tiny_sk):
    from PIL import Image

    grey = Image.new("RGB", (80, 80), (120, 120, 120))
    with pytest.raises(AttnvizError, match="2 images but 1 labels"):
        profile_images(tiny_sk, [grey, grey], [0], ["a", "b"])
    with pytest.raises(AttnvizError, match="label 5 is not a class index"):
        profile_images(tiny_sk, [grey], [5], ["a", "b"])
    with pytest.raises(AttnvizError, match="zoom factor must be a number >= 1.0"):
        profile_images(tiny_sk, [grey], [0], ["a", "b"], scales=(0.5,))
    user_classes = profile_images(tiny_sk, [grey], [1], ["cats", "dogs"])
    assert not user_classes.labels_match and user_classes.accuracy() is None
    assert user_classes.count.tolist() == [[0, 1]]


def test_accumulator_merge_equals_one_pass():
    from attnviz.gates import Gate
    from attnviz.gates.registry import kind_named

    gates = [Gate("SE_2_1", "a", "a.s", kind_named("se"), "se", 6, 1),
             Gate("SK_2_1", "b", "b.s", kind_named("sk"), "sk", 4, 2)]
    rng = np.random.default_rng(0)
    values = {"SE_2_1": torch.tensor(rng.random((30, 1, 6)), dtype=torch.float32),
              "SK_2_1": torch.tensor(rng.random((30, 2, 4)), dtype=torch.float32)}
    labels = torch.tensor(rng.integers(0, 3, 30))
    zoomed = {k: v.flip(0) for k, v in values.items()}                 # "the same images at scale 1"
    whole = ProfileAccumulator(gates, 3, num_scales=2)
    whole.update(0, labels, values)
    whole.update(1, labels, zoomed)
    whole.update_pairs(labels, [values, zoomed])
    first, second = ProfileAccumulator(gates, 3, num_scales=2), ProfileAccumulator(gates, 3, num_scales=2)
    for part, chosen in ((first, slice(0, 11)), (second, slice(11, 30))):
        by_scale = [{k: v[chosen] for k, v in vs.items()} for vs in (values, zoomed)]
        part.update(0, labels[chosen], by_scale[0])
        part.update(1, labels[chosen], by_scale[1])
        part.update_pairs(labels[chosen], by_scale)
    merged = first.merge_(second)
    assert set(whole.paired_tensors()) == {"pair_count", "pair_sum/SK_2_1", "pair_sumsq/SK_2_1"}
    for key, tensor in whole.tensors().items():
        torch.testing.assert_close(merged.tensors()[key], tensor, rtol=1e-12, atol=1e-12)
    x = [(v["SK_2_1"][:, 1].double() - v["SK_2_1"][:, 0].double()).mean(-1).numpy() for v in (values, zoomed)]
    for k in range(3):
        d = (x[1] - x[0])[labels.numpy() == k]
        assert whole.pair_sum["SK_2_1"][0, 1, k].item() == pytest.approx(d.sum(), abs=1e-12)
        assert whole.pair_sumsq["SK_2_1"][1, 0, k].item() == pytest.approx((d * d).sum(), rel=1e-12)
    with pytest.raises(ValueError, match="all 2 scales"):
        whole.update_pairs(labels, [values])

    # Streaming in uneven batches, one of which lacks class 0 (its empty class slots point at
    # class 0 and must leave it untouched), equals numpy over all images at once.
    streamed = ProfileAccumulator(gates, 3)
    for lo, hi in [(0, 4), (4, 5), (5, 19), (19, 30)]:
        streamed.update(0, labels[lo:hi], {k: v[lo:hi] for k, v in values.items()})
    before = streamed.mean["SK_2_1"][0, 0].clone()
    streamed.update(0, torch.tensor([2, 2, 1]), {k: v[:3] for k, v in values.items()})
    assert torch.equal(streamed.mean["SK_2_1"][0, 0], before)
    everything = {k: torch.cat([v, v[:3]]).double().numpy() for k, v in values.items()}
    all_labels = torch.cat([labels, torch.tensor([2, 2, 1])]).numpy()
    for k in range(3):
        for name, v in everything.items():
            own = v[all_labels == k]
            np.testing.assert_allclose(streamed.mean[name][0, k].numpy(), own.mean(axis=0), rtol=1e-12)
            np.testing.assert_allclose(streamed.m2[name][0, k].numpy(), own.var(axis=0) * len(own), rtol=1e-9)
    assert streamed.count[0].tolist() == np.bincount(all_labels, minlength=3).tolist()


# ---------------------------------------------------------------- files: CSV, save, resume


def test_saved_profile_and_tidy_csv(tiny_sk, subset, tmp_path):
    out, table = tmp_path / "p.safetensors", tmp_path / "p.csv"
    profile = profile_dataset(tiny_sk, subset, out, scales=SCALES, batch_size=8, workers=0,
                              csv_out=table, progress=False)
    again = load_profile(out)
    assert again.class_names == profile.class_names and list(again.scales) == list(SCALES)
    assert again.extra["model_targets"] == [tiny_sk.class_names.index(n) for n in profile.class_names]
    for g in profile.gate_names:
        np.testing.assert_array_equal(again.means[g], profile.means[g])
    assert not checkpoint_path(out, World()).exists()  # a finished run leaves no checkpoint

    with open(table, newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == ["scale", "class", "gate", "kind", "path", "channel", "count", "mean", "std"]
    expected_rows = len(SCALES) * 3 * sum(g.paths * g.channels for g in tiny_sk.gates)
    assert len(rows) == expected_rows
    gate = tiny_sk.gates[2]
    row = next(r for r in rows if r["scale"] == "1.5" and r["class"] == profile.class_names[2]
               and r["gate"] == gate.name and r["path"] == "1" and r["channel"] == "7")
    assert row["kind"] == "sk" and int(row["count"]) == PER_CLASS
    assert float(row["mean"]) == pytest.approx(profile.mean(gate.name, 1)[2, 1, 7], rel=1e-5)
    assert float(row["std"]) == pytest.approx(profile.std(gate.name, 1)[2, 1, 7], rel=1e-5)


class Interrupt(KeyboardInterrupt):
    pass


@pytest.mark.parametrize("stop, counted", [
    (Interrupt, 9),                 # Ctrl-C: the state after batch 3 is saved on the way out
    (RuntimeError, 6),              # a crash: only the periodic checkpoint (batch 2) survives
])
def test_resume_after_an_interruption_equals_an_uninterrupted_run(tiny_sk, subset, tmp_path, stop, counted):
    whole = profile_dataset(tiny_sk, subset, scales=SCALES, batch_size=3, workers=0, progress=False)
    out = tmp_path / "resumed.safetensors"
    seen = []

    def stop_after_three_batches(done: int, total: int) -> None:  # noqa: ARG001  on_progress(done, total) signature
        seen.append(done)
        if len(seen) == 3:
            raise stop("stopped")

    with pytest.raises(stop):
        profile_dataset(tiny_sk, subset, out, scales=SCALES, batch_size=3, workers=0, progress=False,
                        checkpoint_every=2, on_progress=stop_after_three_batches)
    assert checkpoint_path(out, World()).exists() and not out.exists()
    progress = []
    resumed = profile_dataset(tiny_sk, subset, out, scales=SCALES, batch_size=3, workers=0,
                              progress=False, resume=True, on_progress=lambda d, _t: progress.append(d))
    assert progress[0] == counted + 3 and progress[-1] == 21  # only the images not yet counted
    np.testing.assert_array_equal(resumed.count, whole.count)
    np.testing.assert_array_equal(resumed.top1_correct, whole.top1_correct)
    for g in tiny_sk.gates:
        np.testing.assert_allclose(resumed.means[g.name], whole.means[g.name], rtol=1e-9)
        np.testing.assert_allclose(resumed.m2[g.name], whole.m2[g.name], rtol=1e-6, atol=1e-12)
        np.testing.assert_array_equal(resumed.hists[g.name], whole.hists[g.name])
    assert load_profile(out).count.tolist() == whole.count.tolist()
    assert not checkpoint_path(out, World()).exists()


def test_resume_refuses_a_checkpoint_of_another_run(tiny_sk, subset, tmp_path):
    out = tmp_path / "p.safetensors"
    with pytest.raises(Interrupt):
        profile_dataset(tiny_sk, subset, out, batch_size=4, workers=0, progress=False, checkpoint_every=1,
                        on_progress=lambda _d, _t: (_ for _ in ()).throw(Interrupt()))
    with pytest.raises(AttnvizError, match="different run"):
        profile_dataset(tiny_sk, subset, out, scales=(1.0, 2.0), batch_size=4, workers=0,
                        progress=False, resume=True)


# ---------------------------------------------------------------- data


def test_bad_files_are_skipped_counted_and_listed(tiny_sk, with_bad_files):
    profile = profile_dataset(tiny_sk, with_bad_files, batch_size=4, workers=2, progress=False)
    assert profile.counts().tolist() == [3, 3, 3]
    skipped = {s["file"]: s["reason"] for s in profile.skipped}
    assert set(skipped) == {f"{CLASSES[0]}/empty.jpg", f"{CLASSES[1]}/notes.jpg", f"{CLASSES[2]}/cut.jpg"}
    assert "empty" in skipped[f"{CLASSES[0]}/empty.jpg"]
    assert "text file" in skipped[f"{CLASSES[1]}/notes.jpg"]
    assert "truncated" in skipped[f"{CLASSES[2]}/cut.jpg"] or "corrupt" in skipped[f"{CLASSES[2]}/cut.jpg"]


def test_folder_with_csv_labels(tmp_path, subset, tiny_sk):
    table = tmp_path / "labels.csv"
    files = sorted((subset / CLASSES[0]).iterdir())[:2] + sorted((subset / CLASSES[2]).iterdir())[:3]
    lines = ["file,label"] + [f"{f.parent.name}/{f.name},{'fish' if f.parent.name == CLASSES[0] else 'chute'}"
                              for f in files] + ["missing.jpg,fish", ",chute"]
    table.write_text("\n".join(lines) + "\n")
    data = folder_with_csv(subset, table)
    assert data.class_folders == ["chute", "fish"] and len(data) == 6 and len(data.excluded) == 1
    profile = profile_dataset(tiny_sk, subset, labels_csv=table, workers=0, progress=False)
    assert profile.counts().tolist() == [3, 2]
    assert [s["file"] for s in profile.skipped] == ["missing.jpg", ""]
    assert "no such file" in profile.skipped[0]["reason"] and "row 8" in profile.skipped[1]["reason"]
    assert not profile.labels_match  # 'fish' and 'chute' are not the model's classes

    (tmp_path / "bad.csv").write_text("path,class\na.jpg,x\n")
    with pytest.raises(AttnvizError, match="header row 'file,label'"):
        folder_with_csv(subset, tmp_path / "bad.csv")


def test_data_errors_say_what_to_do(tmp_path, nette_dir):
    with pytest.raises(AttnvizError, match="is not a folder"):
        image_folder(tmp_path / "nowhere")
    with pytest.raises(AttnvizError, match="no class subfolders"):
        image_folder(tmp_path)
    with pytest.raises(AttnvizError, match=r"dataset root with splits \(train, val\)"):
        image_folder(nette_dir)
    assert len(image_folder(nette_dir / "val").limit_per_class(2)) == 20


def test_bad_arguments_fail_before_any_work(tiny_sk, subset, tmp_path):
    with pytest.raises(AttnvizError, match="is a folder; --out and --csv name files"):
        profile_dataset(tiny_sk, subset, tmp_path, progress=False)
    with pytest.raises(AttnvizError, match="batch size must be at least 1"):
        profile_dataset(tiny_sk, subset, batch_size=0, progress=False)
    with pytest.raises(AttnvizError, match="resume needs the output file"):
        profile_dataset(tiny_sk, subset, resume=True, progress=False)
    (tmp_path / "empty.csv").write_text("file,label\n,x\n")
    with pytest.raises(AttnvizError, match="names no images to profile"):
        profile_dataset(tiny_sk, subset, labels_csv=tmp_path / "empty.csv", progress=False)


def test_shards_cover_every_sample_once_without_padding():
    shards = [shard(range(10), World(rank, 3)) for rank in range(3)]
    assert sorted(i for s in shards for i in s) == list(range(10))
    assert [len(s) for s in shards] == [4, 3, 3]


# ---------------------------------------------------------------- command line, torchrun


def _cli_args(data: Path, out: Path, *extra: str, model: str = "test_efficientnet") -> list[str]:
    return ["profile", str(data), "--model", model, "--random-weights", "--out", str(out),
            "--batch-size", "2", "--workers", "0", "--scales", "1.0,2.0", "--no-progress", *extra]


def test_cli_profile_writes_profile_and_csv_and_lists_skipped(with_bad_files, tmp_path, capsys):
    out, table = tmp_path / "cli.safetensors", tmp_path / "cli.csv"
    assert main(_cli_args(with_bad_files, out, "--csv", str(table))) == 1  # written, some skipped
    captured = capsys.readouterr()
    assert "profiled 9 images of 3 classes at scales 1, 2 with test_efficientnet" in captured.out
    assert "top-1 accuracy at scale 1:" in captured.out  # wnid folders map to ImageNet outputs
    assert "skipped 3 unreadable files" in captured.err and "notes.jpg" in captured.err
    profile = load_profile(out)
    assert profile.model == "test_efficientnet" and profile.counts(1).tolist() == [3, 3, 3]
    assert table.read_text().startswith("scale,class,gate,kind,path,channel,count,mean,std\n")
    assert main(_cli_args(with_bad_files, out, "--scales", "1.0,abc")) == 2
    assert "zoom factor 'abc' is not a number" in capsys.readouterr().err


@pytest.mark.slow
def test_torchrun_two_processes_equal_one(subset, tmp_path):
    """2 processes on the gloo backend, each profiling a shard of unequal size (21 = 11 + 10 images),
    merged with all_reduce: the result equals the single-process run. An SK network (random
    weights), so that the paired moments between the scales are merged too."""
    single, double = tmp_path / "one.safetensors", tmp_path / "two.safetensors"
    assert main(_cli_args(subset, single, model="skresnet18")) == 0
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    run = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone",
                          "--nproc_per_node", "2", "-m", "attnviz", *_cli_args(subset, double, model="skresnet18")],
                         capture_output=True, text=True, env=env, timeout=600, cwd=ROOT)
    assert run.returncode == 0, run.stderr[-2000:]
    one, two = load_profile(single), load_profile(double)
    assert two.extra["processes"] == 2 and one.extra["processes"] == 1
    np.testing.assert_array_equal(two.count, one.count)
    np.testing.assert_array_equal(two.top1_correct, one.top1_correct)
    for g in one.gate_names:
        np.testing.assert_allclose(two.means[g], one.means[g], rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(two.m2[g], one.m2[g], rtol=1e-6, atol=1e-12)
        np.testing.assert_array_equal(two.hists[g], one.hists[g])
        np.testing.assert_allclose(two.pair_sum[g], one.pair_sum[g], rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(two.pair_sumsq[g], one.pair_sumsq[g], rtol=1e-9, atol=1e-15)
    np.testing.assert_array_equal(two.pair_count, one.pair_count)
    assert one.pair_count.sum() == 4 * 21                         # 2 x 2 pairs of scales, 21 images
    assert run.stdout.count("profiled 21 images") == 1  # only rank 0 reports
