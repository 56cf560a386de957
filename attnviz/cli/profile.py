"""`attnviz profile`."""
from __future__ import annotations

import argparse
import sys
from .common import load_model_arg, add_model_args


def add_parser(sub: argparse._SubParsersAction) -> None:
    """`attnviz profile`."""
    p = sub.add_parser(
        "profile", help="class profiles: per-class statistics of every gate over a dataset",
        description="Stream a dataset through a model and write, per scale x class x gate x path x "
                    "channel, the count, mean and variance of the gate values, histograms and top-1 "
                    "accuracy. Unreadable images are skipped and listed. "
                    "Runs on many GPUs or machines with `torchrun --nproc_per_node N -m attnviz profile ...`. "
                    "Exit code: 0 when every image was profiled; 1 when some were skipped (the profile "
                    "holds the others); 2 for usage, model or data errors, including a dataset of which "
                    "no image can be read (then no file is written).")
    p.add_argument("data", help="folder of class subfolders (ImageNet wnid folders get ImageNet names), "
                                "or the folder that --labels' files are relative to")
    add_model_args(p)
    p.add_argument("--out", required=True, help="profile file to write (.safetensors)")
    p.add_argument("--labels", metavar="CSV", help="CSV with a file,label header instead of class subfolders")
    p.add_argument("--csv", metavar="FILE", help="also write a tidy table: scale,class,gate,kind,path,channel,count,mean,std")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--workers", type=int, default=2, help="DataLoader worker processes (decoding)")
    p.add_argument("--device", default="auto", help="auto, cpu or cuda")
    p.add_argument("--amp", default="off", choices=["off", "bf16", "fp16"], help="autocast on CUDA")
    p.add_argument("--scales", default="1.0", help="zoom factors, comma-separated, e.g. 1.0,1.5,2.0")
    p.add_argument("--per-class-limit", type=int, default=0, metavar="N", help="first N images of each class (0 = all)")
    p.add_argument("--resume", action="store_true", help="continue an interrupted run from its checkpoint")
    p.add_argument("--checkpoint-every", type=int, default=20, metavar="BATCHES", help="0 = no checkpoints")
    p.add_argument("--bins", type=int, default=20, help="histogram bins over [0, 1]")
    p.add_argument("--channel-hist", action="store_true",
                   help="also keep one histogram per channel (C times larger: ~1 GB for ImageNet-1k on SE-ResNet-50)")
    p.add_argument("--top-images", type=int, default=0, metavar="K",
                   help="also keep, per gate and channel, the K images with the highest and the K with the "
                        "lowest value (see `attnviz channel`)")
    p.add_argument("--random-weights", action="store_true", help="random weights (offline testing)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..runtime.devices import resolve_device
    from ..profiles.builder import distributed
    from ..profiles.builder.runner import check_scales, profile_dataset

    scales = check_scales([s for s in args.scales.split(",") if s.strip()])
    device = resolve_device(args.device)
    world = distributed.init_from_env(device)  # under torchrun: one process per GPU
    if args.random_weights or (args.model_file and not args.weights):
        import torch

        torch.manual_seed(0)  # every torchrun process (and every run) must build the same model
    try:
        loaded = load_model_arg(args, distributed.device_for(world, device))
        profile = profile_dataset(
            loaded, args.data, args.out, labels_csv=args.labels, scales=scales,
            batch_size=args.batch_size, workers=args.workers, per_class_limit=args.per_class_limit,
            resume=args.resume, checkpoint_every=args.checkpoint_every, bins=args.bins,
            channel_hist=args.channel_hist, csv_out=args.csv, progress=not args.no_progress,
            top_images=args.top_images)
    finally:
        distributed.shutdown(world)
    # When no image at all can be read, profile_dataset raises (exit 2) before writing anything.
    if not world.is_main:
        return 0
    images = int(profile.count[0].sum())
    print(f"profiled {images} images of {len(profile.class_names)} classes at scales "
          f"{', '.join(f'{s:g}' for s in profile.scales)} with {profile.model} "
          f"({len(profile.gates)} gates) -> {args.out}" + (f" and {args.csv}" if args.csv else ""))
    for si, scale in enumerate(profile.scales):
        accuracy = profile.accuracy(si)
        if accuracy is not None:
            print(f"  top-1 accuracy at scale {scale:g}: {accuracy:.2%}")
    if not profile.skipped:
        return 0
    skipped = len(profile.skipped)  # unreadable files, and --labels rows that name no file
    print(f"attnviz: skipped {skipped} unreadable file{'s' if skipped != 1 else ''} of {images + skipped}; "
          f"the profile counts the other {images}:", file=sys.stderr)
    for item in profile.skipped:
        print(f"  {item['file']}: {item['reason']}" if item["file"] else f"  {item['reason']}",
              file=sys.stderr)
    return 1  # like `inspect`: the readable images were processed, some were refused
