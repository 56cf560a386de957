"""Profiling runs: images in, a ``Profile`` out.

``profile_images`` profiles a few PIL images in memory (the app's uploads). ``profile_dataset``
streams a whole dataset through the model: DataLoader workers decode and preprocess (pinned
memory, non-blocking copies), every batch is folded into the on-device ``ProfileAccumulator``,
and with an output file the state is checkpointed every few batches together with the set of
sample ids already counted, so ``resume=True`` continues an interrupted run without counting any
image twice. Started by ``torchrun``, each process profiles its shard and the statistics are
merged at the end (``distributed.py``).

Decoding stays in the CPU workers (``attnviz.images.loading.load_image`` + the model's transform,
``attnviz.models.preprocess``: timm's own eval transform, crop-first only for images over its pixel
budget; the profile's ``extra["preprocessing"]`` states the rule and lists the images that took
crop-first). So a profile sees the pixels that ``analyse_images`` sees for the same file. The
served app does not hand the model the file itself but its bounded copy (``attnviz.images.loading.
model_view``: the centre at most 2:1, short side at most 512 pixels, resampled bicubically), so
for photos larger than that the app's pixels, and its gate values, differ slightly from a
profile's. torchvision's CUDA
``decode_jpeg`` is not used: it is deprecated since torchvision 0.29, ignores EXIF orientation on
the GPU, and resizing tensors instead of PIL images would shift every value slightly.
"""
from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import sys
import time
from pathlib import Path
from collections.abc import Callable, Iterator, Sequence

import numpy as np
import torch
from PIL import Image
from torch.utils.data import DataLoader
from tqdm.auto import tqdm

from ...runtime.atomic import atomic_path
from ...capture.attention import AttentionCapture
from ...errors import AttnvizError
from ...i18n import _
from ...models.classes import class_targets
from ...images.loading import load_image
from ...models.preprocess import PATH_CROP_FIRST, preprocessing_path, preprocessing_rule
from ..file_format import TOP_KINDS
from ..profile import DEFAULT_BINS, SCHEMA_VERSION, Profile, dataset_name
from ...analysis.scale import zoom, zoom_factors
from ...models.zoo import LoadedModel
from . import distributed
from .accumulator import ProfileAccumulator
from .top_images import TopImages
from .datasets import ImageLoader, ProfileData, ProfileImages, collate, open_data

#: Called after every batch with (images done, images to do) of this process's share.
ProgressCallback = Callable[[int, int], None]


# ---------------------------------------------------------------- helpers


def check_scales(scales: Sequence[object]) -> list[float]:
    """Scales (numbers, or their text as the command line gives them) as floats, each a zoom
    factor >= 1 (1.0 = the image as it is), no duplicates
    (``scale.zoom_factors``)."""
    return zoom_factors(scales)


def model_targets(loaded: LoadedModel, class_folders: Sequence[str],
                  class_names: Sequence[str]) -> list[int] | None:
    """The model's output index for each profiled class, or None when the classes are not the
    model's (then top-1 accuracy cannot be counted)."""
    try:
        return class_targets(loaded, list(class_folders))
    except AttnvizError:
        pass
    if all(name in loaded.class_names for name in class_names):
        return [loaded.class_names.index(name) for name in class_names]
    return None


def file_sha256(path: str | Path | None) -> str | None:
    """sha256 of a weights file (None when the weights are not a local file)."""
    if not path or not Path(path).is_file():
        return None
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


@contextlib.contextmanager
def profiling_step(loaded: LoadedModel, acc: ProfileAccumulator, targets: Sequence[int] | None,
                   tops: TopImages | None = None) -> Iterator[Callable[..., None]]:
    """A function ``step(views, labels)`` that runs a batch at every scale and folds it into
    ``acc``: views (S, N, 3, H, W) on the host (pinned) or the device, labels (N,).

    One capture stays open for the whole run (hooks are registered once, not per batch), and
    nothing in a step waits for the device. The values of every scale are kept until the batch is
    done, for the paired changes between scales (``ProfileAccumulator.update_pairs``).
    ``tops``: also keep the images with the highest and lowest values (``step(views, labels, ids)``
    with the batch's sample ids), from the first scale.
    """
    device = loaded.device
    target_of = torch.tensor(targets, device=device) if targets is not None else None
    with torch.inference_mode(), AttentionCapture(loaded.model, loaded.gates) as capture:
        def step(views: torch.Tensor, labels: torch.Tensor, ids: torch.Tensor | None = None) -> None:
            labels = labels.to(device, non_blocking=True)
            by_scale = []
            for s in range(views.shape[0]):
                batch = loaded.to_device(views[s])
                capture.clear()
                with loaded.autocast():
                    logits = loaded.model(batch)
                correct = logits.argmax(dim=1) == target_of[labels] if target_of is not None else None
                by_scale.append(capture.result().values)
                acc.update(s, labels, by_scale[-1], correct)
                if s == 0 and tops is not None and ids is not None:
                    tops.update(by_scale[0], ids)
            acc.update_pairs(labels, by_scale)
        yield step


def _preprocessing(loaded: LoadedModel, crop_first: list[str]) -> dict:
    """What the profile records of its preprocessing: the rule, and the images that took crop-first."""
    return {"rule": preprocessing_rule(loaded.transform), "crop_first": list(crop_first)}


def _profile_fields(loaded: LoadedModel, weights_hash: str | None, **extra) -> dict:
    return {"weights_hash": weights_hash,
            "extra": {"weights": loaded.weights, "source": loaded.source, "amp": loaded.amp,
                      "input_size": loaded.input_size, "schema": SCHEMA_VERSION, **extra}}


# ---------------------------------------------------------------- in memory


def profile_images(loaded: LoadedModel, images: Sequence[Image.Image], labels: Sequence[int],
                   class_names: Sequence[str], scales: Sequence[float] = (1.0,),
                   names: Sequence[str] | None = None, batch_size: int = 16,
                   bins: int = DEFAULT_BINS) -> Profile:
    """Profile RGB images held in memory: image i belongs to class ``class_names[labels[i]]``.

    The same statistics as ``profile_dataset`` (no files, no workers, no checkpoints). When the
    class names are the model's own, top-1 accuracy is counted too (``labels_match``).
    """
    scales = check_scales(scales)
    class_names = [str(c) for c in class_names]
    if not class_names:
        raise AttnvizError(_("no classes given; name at least one class"))
    if len(images) != len(labels):
        raise AttnvizError(_("{images} images but {labels} labels; give one label per image").format(
            images=len(images), labels=len(labels)))
    if names is not None and len(names) != len(images):
        raise AttnvizError(_("{images} images but {names} names; give one name per image").format(
            images=len(images), names=len(names)))
    bad = [lab for lab in labels if not (isinstance(lab, (int, np.integer)) and 0 <= lab < len(class_names))]
    if bad:
        raise AttnvizError(_("label {label} is not a class index; labels go from 0 to {last} ({classes})").format(
            label=repr(bad[0]), last=len(class_names) - 1, classes=", ".join(class_names)))
    targets = model_targets(loaded, class_names, class_names)
    acc = ProfileAccumulator(loaded.gates, len(class_names), len(scales), loaded.device, bins)
    with profiling_step(loaded, acc, targets) as step:
        for start in range(0, len(images), batch_size):
            chunk = images[start:start + batch_size]
            views = torch.stack([torch.stack([loaded.transform(zoom(img, s)) for img in chunk])
                                 for s in scales])
            step(views, torch.tensor(labels[start:start + batch_size], dtype=torch.int64))
    return acc.to_profile(loaded.name, class_names, scales, data="(images in memory)",
                          class_folders=list(class_names), labels_match=targets is not None,
                          **_profile_fields(loaded, file_sha256(loaded.weights), images=list(names) if names is not None else None,
                                            preprocessing=_preprocessing(loaded, [
                                                (names[i] if names is not None else str(i)) for i, img in enumerate(images)
                                                if preprocessing_path(loaded.transform, img.size) == PATH_CROP_FIRST])))


# ---------------------------------------------------------------- checkpoints


def checkpoint_path(out: str | Path, world: distributed.World) -> Path:
    """Where a run writing ``out`` keeps its checkpoint (one per process)."""
    out = Path(out)
    suffix = ".partial" if not world.distributed else f".rank{world.rank}-of-{world.size}.partial"
    return out.with_name(out.name + suffix)


def _relative(path: Path, root: Path) -> str:
    """An image's path as a profile records it: relative to the data folder when it lies inside."""
    return path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)


def _run_fingerprint(loaded: LoadedModel, data: ProfileData, scales: list[float], bins: int,
                     channel_hist: bool, weights_hash: str | None, top_images: int = 0) -> str:
    key = {"model": loaded.name, "weights": weights_hash, "data": data.fingerprint(),
           "scales": scales, "bins": bins, "channel_hist": channel_hist, "top_images": top_images,
           "preprocessing": {k: list(v) if isinstance(v, tuple) else v for k, v in loaded.data_config.items()}}
    return hashlib.sha256(json.dumps(key, sort_keys=True, default=str).encode()).hexdigest()


def _save_checkpoint(path: Path, acc: ProfileAccumulator, done: np.ndarray, skipped: list[dict],
                     fingerprint: str, tops: TopImages | None = None) -> None:
    from safetensors.torch import save_file

    tensors = acc.state_dict()
    if tops is not None:
        tensors.update({f"topimages:{k}": v for k, v in tops.state_dict().items()})
    tensors["done"] = torch.from_numpy(done.astype(np.uint8))
    meta = {"fingerprint": fingerprint, "skipped": skipped}
    with atomic_path(path) as tmp:  # a checkpoint is either the old one or the new one, never half
        save_file(tensors, str(tmp), metadata={"attnviz_checkpoint": json.dumps(meta)})


def _load_checkpoint(path: Path, acc: ProfileAccumulator, n_samples: int,
                     fingerprint: str, tops: TopImages | None = None) -> tuple[np.ndarray, list[dict]]:
    from safetensors import safe_open

    try:
        with safe_open(str(path), framework="pt") as fh:
            meta = json.loads((fh.metadata() or {}).get("attnviz_checkpoint", "{}"))
            state = {k: fh.get_tensor(k) for k in fh.keys()}  # noqa: SIM118 - safe_open is no mapping: keys() only
    except Exception as exc:  # safetensors raises its own error types
        raise AttnvizError(_("checkpoint {path} cannot be read ({error}); delete it and run without --resume").format(
            path=path, error=exc)) from None
    if meta.get("fingerprint") != fingerprint:
        raise AttnvizError(_(
            "checkpoint {path} belongs to a different run (model, weights, data, scales or bins "
            "differ), so resuming would mix two profiles; run the same command again, or delete "
            "the checkpoint and run without --resume").format(path=path))
    done = state.pop("done").numpy().astype(bool)
    kept = {k.split(":", 1)[1]: state.pop(k) for k in list(state) if k.startswith("topimages:")}
    if tops is not None:
        tops.load_state_dict(kept)  # the fingerprint guarantees they were kept with the same K
    if done.shape != (n_samples,):
        raise AttnvizError(_("checkpoint {path} does not match the data; delete it and run without --resume").format(
            path=path))
    try:
        acc.load_state_dict(state)
    except (KeyError, ValueError) as exc:  # e.g. made by an attnviz that kept fewer statistics
        raise AttnvizError(f"checkpoint {path} does not hold this run's statistics ({exc}); delete it "
                           "and run without --resume") from None
    return done, list(meta.get("skipped", []))


def _check_world_of_checkpoints(out: Path, world: distributed.World) -> None:
    """A resumed run must use as many processes as the interrupted one (each resumes its shard)."""
    others = [p for p in out.parent.glob(out.name + ".*partial") if p != checkpoint_path(out, world)]
    mine = checkpoint_path(out, world).exists()
    if others and not mine:
        raise AttnvizError(
            f"found checkpoints of an interrupted run with a different number of processes "
            f"({', '.join(p.name for p in others[:3])}); resume with the same number of processes, "
            "or delete them and run without --resume")


def _check_writable(path: Path) -> None:
    """Fail before hours of work, not after: the output's folder must exist (or be creatable)
    and accept files."""
    if path.is_dir():
        raise AttnvizError(f"{path} is a folder; --out and --csv name files, e.g. {path / 'profile.safetensors'}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        probe = path.with_name(f"{path.name}.{os.getpid()}.probe")
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise AttnvizError(f"cannot write {path} ({exc.strerror or exc}); choose another output path") from None


# ---------------------------------------------------------------- datasets


_RESUME_NEEDS_OUT = "resume needs the output file (--out) whose checkpoint it continues"


@dataclasses.dataclass
class _Run:
    """One process's profiling run as it goes: the statistics, the images counted or refused, and
    where it checkpoints. Private to the run (never shared), so mutable."""

    acc: ProfileAccumulator
    tops: TopImages | None
    done: np.ndarray
    fingerprint: str
    checkpoint: Path | None
    skipped: list[dict] = dataclasses.field(default_factory=list)
    crop_first: list[str] = dataclasses.field(default_factory=list)

    def save_checkpoint(self) -> None:
        if self.checkpoint is not None:
            _save_checkpoint(self.checkpoint, self.acc, self.done, self.skipped, self.fingerprint, self.tops)


def profile_dataset(loaded: LoadedModel, data: str | Path | ProfileData, out: str | Path | None = None, *,
                    labels_csv: str | Path | None = None, scales: Sequence[float] = (1.0,),
                    batch_size: int = 64, workers: int = 2, per_class_limit: int = 0,
                    resume: bool = False, checkpoint_every: int = 20, bins: int = DEFAULT_BINS,
                    channel_hist: bool = False, csv_out: str | Path | None = None,
                    progress: bool = True, on_progress: ProgressCallback | None = None,
                    loader: ImageLoader = load_image, data_name: str | None = None,
                    top_images: int = 0) -> Profile:
    """Profile every image of ``data`` (an ImageFolder tree, or a folder with ``labels_csv``).

    out: the profile file to write (and, next to it, the checkpoint ``<out>.partial`` that
        ``resume=True`` continues from; it is removed when the run completes).
    scales: zoom factors; each image is also profiled centre-zoomed by each factor.
    per_class_limit: profile only the first N images of each class (0 = all).
    checkpoint_every: batches between checkpoints (0 = none).
    channel_hist: also keep per-channel histograms (C times larger; see ProfileAccumulator).
    csv_out: also write the tidy table (scale,class,gate,kind,path,channel,count,mean,std).
    on_progress: called after each batch with (images done, images to do), e.g. for the app.
    loader: reads one sample as an RGB image (default: the file, ``attnviz.images.loading.load_image``);
        the app passes one that reads zip entries and keeps bounded copies.
    data_name: what the profile records as its data (default: the data folder's last two path
        parts, e.g. 'imagenette-224/val', never the machine's absolute path).
    top_images: also keep, per gate, path and channel, the K images with the highest and the K
        with the lowest value (at the first scale), exact under torchrun (schema 2).
    Unreadable images are skipped and listed in ``Profile.skipped``. Under torchrun, each process
    profiles its shard and every process returns the merged profile; rank 0 writes the files.
    """
    scales = check_scales(scales)
    _check_arguments(batch_size=batch_size, workers=workers, per_class_limit=per_class_limit, bins=bins,
                     resume=resume, out=out, csv_out=csv_out)
    dataset = open_data(data, labels_csv).limit_per_class(per_class_limit)
    if not len(dataset):
        raise AttnvizError(f"{dataset.csv or dataset.root} names no images to profile")
    world = _join_world(loaded)
    weights_hash = file_sha256(loaded.weights)
    targets = model_targets(loaded, dataset.class_folders, dataset.class_names)
    run = _start_run(loaded, dataset, scales, world, out, bins=bins, channel_hist=channel_hist,
                     weights_hash=weights_hash, top_images=top_images)
    if resume:
        _resume(run, out, world, len(dataset))
    seconds = _stream(run, loaded, dataset, scales, world, targets, batch_size=batch_size, workers=workers,
                      checkpoint_every=checkpoint_every, progress=progress, on_progress=on_progress, read=loader)
    _merge_processes(run, loaded, world, top_images)
    run.skipped += [{"file": "", "reason": reason} for reason in dataset.excluded]
    _refuse_if_nothing_read(run, dataset, data_name)
    profile = _profile_of(run, loaded, dataset, scales, world, targets, data_name=data_name,
                          per_class_limit=per_class_limit, bins=bins, seconds=seconds, weights_hash=weights_hash,
                          top_images=top_images)
    _write(profile, world, out, csv_out, run.checkpoint)
    return profile


def _check_arguments(*, batch_size: int, workers: int, per_class_limit: int, bins: int, resume: bool,
                     out: str | Path | None, csv_out: str | Path | None) -> None:
    """Refuse bad settings before any image is read, and outputs that could not be written before
    hours of work."""
    for what, value, least in [("batch size", batch_size, 1), ("workers", workers, 0),
                               ("per-class limit", per_class_limit, 0), ("bins", bins, 1)]:
        if value < least:
            raise AttnvizError(f"{what} must be at least {least}, got {value}")
    if resume and out is None:
        raise AttnvizError(_RESUME_NEEDS_OUT)
    for path in (out, csv_out):
        if path is not None:
            _check_writable(Path(path))


def _join_world(loaded: LoadedModel) -> distributed.World:
    """This process's place among torchrun's (a world of one without it)."""
    world = distributed.init_from_env(loaded.device)
    if world.distributed and loaded.device.type == "cuda" and loaded.device.index is not None:
        torch.cuda.set_device(loaded.device)  # NCCL's object collectives use the current device
    return world


def _start_run(loaded: LoadedModel, dataset: ProfileData, scales: list[float], world: distributed.World,
               out: str | Path | None, *, bins: int, channel_hist: bool, weights_hash: str | None,
               top_images: int) -> _Run:
    """Empty statistics, no image counted yet."""
    return _Run(
        acc=ProfileAccumulator(loaded.gates, len(dataset.class_names), len(scales), loaded.device,
                               bins, channel_hist),
        tops=TopImages(loaded.gates, top_images, loaded.device) if top_images else None,
        done=np.zeros(len(dataset), dtype=bool),
        fingerprint=_run_fingerprint(loaded, dataset, scales, bins, channel_hist, weights_hash, top_images),
        checkpoint=checkpoint_path(out, world) if out is not None else None)


def _resume(run: _Run, out: str | Path | None, world: distributed.World, n_samples: int) -> None:
    """Continue from this process's checkpoint, when there is one (a fresh start when not)."""
    if out is None or run.checkpoint is None:
        raise AttnvizError(_RESUME_NEEDS_OUT)
    _check_world_of_checkpoints(Path(out), world)
    if run.checkpoint.exists():
        run.done, run.skipped = _load_checkpoint(run.checkpoint, run.acc, n_samples, run.fingerprint, run.tops)
    elif world.is_main:
        print(f"attnviz: no checkpoint {run.checkpoint.name} to resume from; starting from the beginning",
              file=sys.stderr)


def _stream(run: _Run, loaded: LoadedModel, dataset: ProfileData, scales: list[float], world: distributed.World,
            targets: Sequence[int] | None, *, batch_size: int, workers: int, checkpoint_every: int,
            progress: bool, on_progress: ProgressCallback | None, read: ImageLoader) -> float:
    """Every image of this process's share not yet counted, through the model in batches (decoded
    by DataLoader workers), checkpointed every ``checkpoint_every`` batches and on Ctrl-C; returns
    the seconds it took."""
    todo = [i for i in distributed.shard(range(len(dataset)), world) if not run.done[i]]
    share = len(distributed.shard(range(len(dataset)), world))
    images = DataLoader(
        ProfileImages(dataset.samples, loaded.transform, scales, dataset.root, read), batch_size=batch_size,
        sampler=todo, num_workers=workers, collate_fn=collate,
        pin_memory=loaded.device.type == "cuda", prefetch_factor=4 if workers > 0 else None)
    bar = tqdm(total=share, initial=share - len(todo), unit="img", dynamic_ncols=True,
               desc=f"profile rank {world.rank}/{world.size}" if world.distributed else "profile",
               disable=not (progress and world.is_main), file=sys.stderr)
    counted = share - len(todo)
    consistent = True  # the statistics and ``done`` describe the same images
    started = time.perf_counter()
    batches = iter(images)
    try:
        with profiling_step(loaded, run.acc, targets, run.tops) as step:
            for number, batch in enumerate(batches, start=1):
                consistent = False
                if len(batch):
                    step(batch.views, batch.labels, batch.index)
                run.done[batch.index.numpy()] = True
                run.crop_first += batch.crop_first
                for failure in batch.failed:
                    run.done[failure["index"]] = True
                    run.skipped.append({"file": failure["file"], "reason": failure["error"]})
                consistent = True
                counted += len(batch) + len(batch.failed)
                bar.update(len(batch) + len(batch.failed))
                if checkpoint_every and number % checkpoint_every == 0:
                    run.save_checkpoint()
                if on_progress is not None:
                    on_progress(counted, share)
    except KeyboardInterrupt:
        # Between two batches the state is whole: keep it, so --resume loses nothing.
        if consistent:
            run.save_checkpoint()
        raise
    finally:
        bar.close()
        del batches  # stops the DataLoader workers now, not at interpreter exit
    return time.perf_counter() - started


def _merge_processes(run: _Run, loaded: LoadedModel, world: distributed.World, top_images: int) -> None:
    """Under torchrun, every process's statistics, kept images and lists become the whole run's."""
    distributed.all_reduce_(run.acc, world)
    if world.distributed:  # the paired sums are plain sums: adding the shards' is exact
        for tensor in run.acc.paired_tensors().values():
            torch.distributed.all_reduce(tensor)
    if run.tops is not None and world.distributed:  # the K best of the union = the K best of the ranks' K best
        merged = TopImages(loaded.gates, top_images, loaded.device)
        for state in distributed.gather_lists([run.tops.state_dict()], world):  # every rank's, its own included
            part = TopImages(loaded.gates, top_images, loaded.device)
            part.load_state_dict(state)
            merged.merge_(part)
        run.tops = merged
    run.skipped = sorted(distributed.gather_lists(run.skipped, world), key=lambda s: s["file"])
    run.crop_first = sorted(distributed.gather_lists(run.crop_first, world))


def _refuse_if_nothing_read(run: _Run, dataset: ProfileData, data_name: str | None) -> None:
    """No profile of a dataset of which no image could be read (and nothing left to resume)."""
    if int(run.acc.count[0].sum()):  # every image counts once at each scale
        return
    if run.checkpoint is not None and run.checkpoint.exists():
        run.checkpoint.unlink()  # every image was tried and refused: nothing to resume
    skipped = run.skipped
    first = f"; the first, {skipped[0]['file']}: {skipped[0]['reason']}" if skipped else ""
    raise AttnvizError(f"no image of {data_name or dataset.root} could be read ({len(skipped)} of "
                       f"{len(dataset)} skipped{first}); no profile was written")


def _profile_of(run: _Run, loaded: LoadedModel, dataset: ProfileData, scales: list[float],
                world: distributed.World, targets: list[int] | None, *, data_name: str | None,
                per_class_limit: int, bins: int, seconds: float, weights_hash: str | None,
                top_images: int) -> Profile:
    """The merged statistics as a ``Profile``, with the run's settings and the kept images."""
    profile = run.acc.to_profile(
        loaded.name, dataset.class_names, scales, data=data_name or dataset_name(str(dataset.root.resolve())),
        class_folders=dataset.class_folders, labels_match=targets is not None, skipped=run.skipped,
        **_profile_fields(loaded, weights_hash, labels_csv=str(dataset.csv) if dataset.csv else None,
                          per_class_limit=per_class_limit, bins=bins, processes=world.size,
                          seconds=round(seconds, 3), model_targets=targets, top_images=top_images,
                          preprocessing=_preprocessing(loaded, run.crop_first)))
    tops = run.tops
    if tops is not None:
        profile = dataclasses.replace(profile, top_images={
            name: {kind: (tops.value[kind][name].cpu().numpy(), tops.index[kind][name].cpu().numpy())
                   for kind in TOP_KINDS} for name in tops.value[TOP_KINDS[0]]},
            samples={i: (_relative(dataset.samples[i][0], dataset.root), int(dataset.samples[i][1]))
                     for i in tops.referenced()})
    return profile


def _write(profile: Profile, world: distributed.World, out: str | Path | None, csv_out: str | Path | None,
           checkpoint: Path | None) -> None:
    """Rank 0 writes the files; then, on every rank, the checkpoint goes."""
    if world.is_main:
        if out is not None:
            profile.save(out)           # whole or not at all (attnviz.runtime.atomic), as the CSV
        if csv_out is not None:
            profile.write_csv(csv_out)
    distributed.barrier(world)
    if checkpoint is not None and checkpoint.exists():
        checkpoint.unlink()
