"""Top-1 predictions of a bundled SE model on a whole val split under every knock-out of notebook 02.

Notebook 02 ("The role of excitation") knocks SE gates out and compares the predictions with the
intact model's, image by image (McNemar's exact test). Running all conditions on all 3,925
Imagenette val images takes minutes on a CPU, too long for the notebook's run in CI, so this script
runs them once and stores what the tests need:

* ``conditions``  the condition names, exactly as the notebook names them (str);
* ``predictions`` (images, conditions) int16, the top-1 output index of every image;
* ``labels``      (images,) int16, the model output index of each image's class folder;
* ``files``       (images,) relative paths (``<class folder>/<file>``), sorted as ImageFolder does;
* ``model``, ``data``, ``seconds`` and ``torch`` (version) as metadata.

The conditions (as in the notebook): intact; each stage's SE gates set to s = 1 (neutralised by
``forward_with_capture(..., neutralise=[...])``); the last stage's gates fixed at their all-class
mean excitation from the shipped profile (a forward hook on each gate); all gates -> 1; all gates ->
their mean. Deterministic: fixed file order, eval mode, no augmentation, float32 on the CPU.

    python bench/knockout_predictions.py            # -> assets/profiles/<model>.knockout.npz
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader
from torchvision.datasets import ImageFolder

from attnviz import forward_with_capture, load_model, load_profile
from attnviz.models.classes import class_targets
from attnviz.gates.se import SE
from attnviz.images.loading import load_image
from attnviz.profiles.profile import bundled_profile_path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data" / "imagenette-224" / "val"


def fixed_at_mean(profile, gate):
    """Forward hook: the gate outputs its all-class mean excitation (profile), whatever the image."""
    mean = torch.as_tensor(profile.overall_mean(gate.name)[0], dtype=torch.float32)
    return lambda _module, _inputs, out: mean.view(1, -1, *[1] * (out.dim() - 2)).expand_as(out).to(out.dtype)


def conditions(se_gates) -> dict:
    """Condition name -> (gates, "1" or "mean"), in the notebook's order and with its names."""
    stages = sorted({g.stage for g in se_gates})
    by_stage = {st: [g for g in se_gates if g.stage == st] for st in stages}
    out = {"intact": ([], "1")}
    out.update({f"stage {st} gates → 1": (by_stage[st], "1") for st in stages})
    out[f"stage {stages[-1]} gates → mean"] = (by_stage[stages[-1]], "mean")
    out["all gates → 1"] = (se_gates, "1")
    out["all gates → mean"] = (se_gates, "mean")
    return out


def predict(loaded, profile, batch, gates, value) -> np.ndarray:
    neutralise = [g.name for g in gates] if value == "1" else []
    hooks = [loaded.model.get_submodule(g.source).register_forward_hook(fixed_at_mean(profile, g))
             for g in gates] if value == "mean" else []
    try:
        probs, _ = forward_with_capture(loaded, batch, neutralise=neutralise)
    finally:
        for hook in hooks:
            hook.remove()
    return probs.argmax(1).cpu().numpy()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="se_resnet18_imagenette")
    ap.add_argument("--data", type=Path, default=DATA, help="ImageFolder split (default: Imagenette val)")
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    loaded = load_model(args.model, device="cpu")
    profile = load_profile(bundled_profile_path(args.model))
    se_gates = [g for g in loaded.gates if g.kind is SE]
    conds = conditions(se_gates)
    dataset = ImageFolder(args.data, transform=loaded.transform, loader=load_image)
    targets = np.array(class_targets(loaded, dataset.classes))
    loader = DataLoader(dataset, batch_size=args.batch_size, num_workers=args.workers, shuffle=False)
    preds, labels = [], []
    start = time.perf_counter()
    for i, (images, folder_idx) in enumerate(loader):
        batch = loaded.to_device(images)
        preds.append(np.stack([predict(loaded, profile, batch, g, v) for g, v in conds.values()], axis=1))
        labels.append(targets[folder_idx.numpy()])
        print(f"\r{min((i + 1) * args.batch_size, len(dataset))} / {len(dataset)} images, {time.perf_counter() - start:.0f} s",
              end="", flush=True)
    seconds = time.perf_counter() - start
    out = args.out or ROOT / "assets" / "profiles" / f"{args.model}.knockout.npz"
    files = np.array([Path(p).relative_to(args.data).as_posix() for p, _ in dataset.samples])
    np.savez_compressed(out, model=np.array(args.model), data=np.array(f"{args.data.parent.name}/{args.data.name}"),
                        conditions=np.array(list(conds)), predictions=np.concatenate(preds).astype(np.int16),
                        labels=np.concatenate(labels).astype(np.int16), files=files,
                        seconds=np.array(seconds), torch=np.array(torch.__version__))
    print(f"\n{len(dataset)} images x {len(conds)} conditions in {seconds:.0f} s -> {out} "
          f"({out.stat().st_size / 1024:.0f} KiB)")


if __name__ == "__main__":
    main()
