"""`attnviz train`."""
from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    """`attnviz train`."""
    p = sub.add_parser("train", help="train a bundled-size SE/SK/ResNeSt model on an ImageFolder dataset")
    p.add_argument("data", help="folder with train/ and val/ class subfolders")
    p.add_argument("--arch", required=True, help="se_resnet18_half, sk_resnet18_half or resnest_half")
    p.add_argument("--out", required=True, help="weights file to write (.safetensors)")
    p.add_argument("--epochs", type=int, default=16)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=0.1)
    p.add_argument("--weight-decay", type=float, default=5e-4)
    p.add_argument("--train-size", type=int, default=112)
    p.add_argument("--eval-size", type=int, default=128)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads (0 = torch's default)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="auto")
    p.add_argument("--eval-every", type=int, default=4)
    p.add_argument("--limit", type=int, default=0, help="train on only N images (smoke test)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..training.train import TrainConfig, train

    cfg = TrainConfig(data=args.data, arch=args.arch, out=args.out, epochs=args.epochs,
                      batch_size=args.batch_size, lr=args.lr, weight_decay=args.weight_decay,
                      train_size=args.train_size, eval_size=args.eval_size, workers=args.workers,
                      threads=args.threads, seed=args.seed, device=args.device,
                      eval_every=args.eval_every, limit=args.limit)
    train(cfg)
    return 0
