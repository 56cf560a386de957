"""Calibrate the open-set signal (maximum softmax probability) of a bundled model.

Known classes: Imagenette val (every image of the 10 classes the bundled models know). Unknown
classes: the ImageNet sample photos (one per class) of the classes the model does not know (86 of
96). Prints the AUROC (the chance that a known image scores above an unknown one), the threshold
that keeps 95 % of the known images (the OOD literature's operating point) and the rates it
reaches, and writes them to ``assets/profiles/<model>.openset.json`` for the app's note on uploads.

    OMP_NUM_THREADS=1 python bench/openset_threshold.py --model se_resnet18_imagenette
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader
from torchvision.datasets import ImageFolder

from attnviz import forward_with_capture, load_model
from attnviz.images.loading import list_image_files, load_image
from attnviz.analysis.openset import calibrate, calibration_path
from attnviz.serving.inputs import knows, sample_label

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data"


def msp_of(loaded, images) -> np.ndarray:
    probs, _ = forward_with_capture(loaded, loaded.to_device(images))
    return probs.max(dim=1).values.cpu().numpy()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="se_resnet18_imagenette")
    ap.add_argument("--known", type=Path, default=SHARED / "imagenette-224" / "val")
    ap.add_argument("--unknown", type=Path, default=SHARED / "imagenet-samples")
    ap.add_argument("--tpr", type=float, default=0.90,
                    help="share of the known-class images kept as known (default 0.90)")
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--no-write", action="store_true")
    ap.add_argument("--scores", type=Path, default=None, help="also save the raw MSP scores (.npz)")
    args = ap.parse_args()
    torch.manual_seed(0)
    loaded = load_model(args.model, device="cpu")
    start = time.perf_counter()
    dataset = ImageFolder(args.known, transform=loaded.transform, loader=load_image)
    known = np.concatenate([msp_of(loaded, x) for x, _y in DataLoader(dataset, batch_size=args.batch_size)])
    others = [p for p in list_image_files(args.unknown) if not knows(loaded.class_names, sample_label(p))]
    unknown = np.concatenate([msp_of(loaded, torch.stack([loaded.transform(load_image(p)) for p in others[i:i + 32]]))
                              for i in range(0, len(others), 32)])
    seconds = time.perf_counter() - start
    cal = calibrate(args.model, known, unknown, args.tpr,
                    known_data=f"{args.known.parent.name}/{args.known.name} ({known.size:,} images)",
                    unknown_data=f"{args.unknown.name}, classes the model does not know ({unknown.size} images)")
    print(f"{args.model}: {known.size} known, {unknown.size} unknown images in {seconds:.0f} s")
    print(f"  MSP median: known {np.median(known):.3f}, unknown {np.median(unknown):.3f}")
    print(f"  AUROC {cal.auroc:.3f}; threshold {cal.threshold:.3f} at TPR {cal.tpr:.3f}: FPR {cal.fpr:.3f} "
          f"({int(round((1 - cal.fpr) * unknown.size))} of {unknown.size} unknown photos flagged)")
    print("  operating points (target TPR: threshold, TPR, FPR, flagged unknown / flagged known = likelihood ratio):")
    for target in (0.99, 0.95, 0.90, 0.80, 0.70):
        point = calibrate(args.model, known, unknown, target)
        ratio = (1 - point.fpr) / max(1 - point.tpr, 1e-9)
        print(f"    {target:.2f}: {point.threshold:.3f}, {point.tpr:.3f}, {point.fpr:.3f}, {ratio:.1f}")
    if args.scores is not None:
        np.savez(args.scores, known=known, unknown=unknown)
    if not args.no_write:
        out = calibration_path(args.model)
        cal.save(out)
        print(f"  -> {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
