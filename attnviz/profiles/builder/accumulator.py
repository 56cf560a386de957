"""Streaming sufficient statistics of gate values, kept on the model's device.

Per scale x class x gate x path x channel: the image count, the mean and Welford's M2 (sum of
squared deviations), all in float64; per scale x class x gate x path a fixed-bin histogram of the
values over channels and images; per scale x class the number of correct top-1 predictions.

For gates with two or more paths (SK units, split attention) it also keeps what a *paired* test of
a change between two scales needs: per image the gate's mean attention difference
x = mean_c(b - a) (path 1 minus path 0, SKNet's summary of a unit), and, for every pair of scales
(i, j) and every class, the count, sum and sum of squares of the per-image change x_j - x_i. Those
are plain sums, so shards and batches merge by addition, exactly.

Each batch is folded in with Chan et al.'s parallel update: the batch's own per-class count, mean
and M2 are computed with ``index_add_`` (one pass over the batch, no Python loop over classes) and
then merged into the running state of just the classes in the batch, so a batch costs the same
with 10 classes or 1000. Every operation is an on-device tensor op whose output size
is known in advance (``scatter_add_``/``index_add_`` rather than ``bincount``, which would ask the
host for the largest index), so an update never waits for the GPU: statistics cost no
device-to-host synchronisation until ``to_profile``.

Memory is fixed by the model and the number of classes, never by the number of images.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import torch

from ...gates import Gate
from ..file_format import (CHANNEL_HIST, COUNT, HIST, M2, MEAN, PAIR_COUNT, PAIR_SUM, PAIR_SUMSQ, TOP1_CORRECT,
                              per_gate, tensor_name)
from ..profile import DEFAULT_BINS, Profile
from ...analysis.statistics import mean_attention_difference  # per image: (N, P, C) -> (N,)


def merge_moments(n_a: torch.Tensor, mean_a: torch.Tensor, m2_a: torch.Tensor,
                  n_b: torch.Tensor, mean_b: torch.Tensor, m2_b: torch.Tensor
                  ) -> tuple[torch.Tensor, torch.Tensor]:
    """Chan et al.'s merge of two sets of (count, mean, M2) -> (mean, M2) of their union.

    Counts broadcast against the moments (e.g. n (K, 1, 1) with means (K, P, C)); float64.
    A group with no images on either side keeps the other side's moments unchanged.
    """
    n = n_a + n_b
    weight_b = n_b / n.clamp(min=1)
    delta = mean_b - mean_a
    mean = mean_a + delta * weight_b
    m2 = m2_a + m2_b + delta * delta * n_a * weight_b
    return mean, m2




class ProfileAccumulator:
    """Running statistics for ``gates`` over ``num_scales`` x ``num_classes``, on ``device``.

    ``channel_hist`` also keeps one histogram per channel, (S, K, P, C, B) int64. It is off by
    default because it is ``C`` times larger than the per-path histogram: about 1 GB for the
    1000 ImageNet classes on SE-ResNet-50 (~15k gate channels x 20 bins x 8 bytes x 1000).

    ``pair_count`` (S, S, K) int64 and, per gate with two or more paths (``paired_gates``),
    ``pair_sum`` / ``pair_sumsq`` (S, S, K) float64: entry [i, j, k] sums, over the images of
    class k, d = x_j - x_i and d * d, where x is the image's mean attention difference at a scale
    (``update_pairs``). None / empty when no gate has two paths.
    """

    def __init__(self, gates: Sequence[Gate], num_classes: int, num_scales: int = 1,
                 device: str | torch.device = "cpu", bins: int = DEFAULT_BINS,
                 channel_hist: bool = False) -> None:
        if bins < 1:
            raise ValueError(f"bins must be at least 1, got {bins}")
        self.gates = list(gates)
        self.num_classes = int(num_classes)
        self.num_scales = int(num_scales)
        self.device = torch.device(device)
        self.bins = int(bins)
        self.channel_hist = bool(channel_hist)
        self.bin_edges = torch.linspace(0.0, 1.0, self.bins + 1, dtype=torch.float64, device=self.device)
        S, K, B, dev = self.num_scales, self.num_classes, self.bins, self.device
        self.count = torch.zeros(S, K, dtype=torch.int64, device=dev)
        self.top1_correct = torch.zeros(S, K, dtype=torch.int64, device=dev)
        self.mean: dict[str, torch.Tensor] = {}
        self.m2: dict[str, torch.Tensor] = {}
        self.hist: dict[str, torch.Tensor] = {}
        self.channel_hists: dict[str, torch.Tensor] = {}
        for g in self.gates:
            self.mean[g.name] = torch.zeros(S, K, g.paths, g.channels, dtype=torch.float64, device=dev)
            self.m2[g.name] = torch.zeros_like(self.mean[g.name])
            self.hist[g.name] = torch.zeros(S, K, g.paths, B, dtype=torch.int64, device=dev)
            if self.channel_hist:
                self.channel_hists[g.name] = torch.zeros(S, K, g.paths, g.channels, B,
                                                         dtype=torch.int64, device=dev)
        self.paired_gates = [g for g in self.gates if g.compares_paths]
        self.pair_count = torch.zeros(S, S, K, dtype=torch.int64, device=dev) if self.paired_gates else None
        self.pair_sum: dict[str, torch.Tensor] = {}
        self.pair_sumsq: dict[str, torch.Tensor] = {}
        for g in self.paired_gates:
            self.pair_sum[g.name] = torch.zeros(S, S, K, dtype=torch.float64, device=dev)
            self.pair_sumsq[g.name] = torch.zeros_like(self.pair_sum[g.name])

    # ------------------------------------------------------------ streaming update

    def _bin_of(self, x: torch.Tensor) -> torch.Tensor:
        """Bin index of each value, as numpy.histogram over ``bin_edges`` assigns it (half-open
        bins, the last one closed); values outside [0, 1] (none for sigmoid or softmax gates)
        are counted in the end bins rather than dropped, so every histogram sums to the count."""
        index = torch.bucketize(x, self.bin_edges, right=True) - 1
        return index.clamp_(0, self.bins - 1)

    @staticmethod
    def _slots(labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Group a batch by class without asking the host how many classes it holds.

        Returns slot (N,): the slot of each image, one slot per distinct class, in [0, N);
        slot_class (N,): the class of each slot; slot_count (N,) float64: images per slot.
        Slots beyond the number of distinct classes have count 0 (and class 0).
        """
        n = labels.shape[0]
        order = torch.argsort(labels)
        ordered = labels[order]
        starts = torch.ones_like(ordered, dtype=torch.bool)
        starts[1:] = ordered[1:] != ordered[:-1]
        slot = torch.empty_like(labels).scatter_(0, order, torch.cumsum(starts, 0) - 1)
        slot_class = torch.zeros_like(labels).scatter_(0, slot, labels)  # same value per slot
        slot_count = torch.zeros(n, dtype=torch.float64, device=labels.device)
        slot_count.index_add_(0, slot, torch.ones_like(labels, dtype=torch.float64))
        return slot, slot_class, slot_count

    @torch.no_grad()
    def update(self, scale_index: int, labels: torch.Tensor, values: Mapping[str, torch.Tensor],
               correct: torch.Tensor | None = None) -> None:
        """Fold one batch in.

        labels: (N,) class indices; values: gate name -> (N, P, C) gate values of the same images;
        correct: (N,) bool, whether each image's top-1 prediction was its class (None: not known).
        All on this accumulator's device; nothing here waits for the device.

        The work is proportional to the batch, not to the number of classes: the batch is grouped
        into at most N class slots, each slot's running moments are gathered, merged with the
        slot's batch moments and added back as a difference (an empty slot's difference is exactly
        0, so it cannot disturb the class it points at).
        """
        labels = labels.to(self.device, dtype=torch.int64)
        s, n_images = scale_index, labels.shape[0]
        slot, slot_class, n_batch = self._slots(labels)
        n_run = self.count[s].to(torch.float64)[slot_class][:, None, None]         # (N, 1, 1)
        n_batch_ = n_batch[:, None, None]
        for g in self.gates:
            x = values[g.name].to(self.device, torch.float64).reshape(n_images, g.paths, g.channels)
            batch_sum = torch.zeros_like(x).index_add_(0, slot, x)
            batch_mean = batch_sum / n_batch_.clamp(min=1)
            deviation = x - batch_mean[slot]
            batch_m2 = torch.zeros_like(x).index_add_(0, slot, deviation * deviation)
            run_mean, run_m2 = self.mean[g.name][s], self.m2[g.name][s]
            old_mean, old_m2 = run_mean[slot_class], run_m2[slot_class]
            mean, m2 = merge_moments(n_run, old_mean, old_m2, n_batch_, batch_mean, batch_m2)
            run_mean.index_add_(0, slot_class, mean - old_mean)
            run_m2.index_add_(0, slot_class, m2 - old_m2)

            bins = self._bin_of(x)                                            # (N, P, C)
            path = torch.arange(g.paths, device=self.device)[None, :, None]
            flat = (labels[:, None, None] * g.paths + path) * self.bins + bins
            self.hist[g.name][s].view(-1).scatter_add_(0, flat.reshape(-1), torch.ones_like(flat).reshape(-1))
            if self.channel_hist:
                channel = torch.arange(g.channels, device=self.device)[None, None, :]
                flat = ((labels[:, None, None] * g.paths + path) * g.channels + channel) * self.bins + bins
                self.channel_hists[g.name][s].view(-1).scatter_add_(
                    0, flat.reshape(-1), torch.ones_like(flat).reshape(-1))
        self.count[s].index_add_(0, labels, torch.ones_like(labels))
        if correct is not None:
            self.top1_correct[s].index_add_(0, labels, correct.to(self.device, torch.int64))

    @torch.no_grad()
    def update_pairs(self, labels: torch.Tensor, values_by_scale: Sequence[Mapping[str, torch.Tensor]]) -> None:
        """Fold one batch's paired changes in: ``values_by_scale[s]`` holds the gate values
        (N, P, C) of the same N images (same order, classes ``labels``) at scale s, for every scale.

        Call it once per batch, next to the ``update`` of each scale. Nothing waits for the device.
        """
        if self.pair_count is None:  # no gate with two paths (``paired_gates`` is empty)
            return
        if len(values_by_scale) != self.num_scales:
            raise ValueError(f"update_pairs needs the values at all {self.num_scales} scales, "
                             f"got {len(values_by_scale)}")
        labels = labels.to(self.device, dtype=torch.int64)
        n_images = labels.shape[0]
        for g in self.paired_gates:
            x = torch.stack([mean_attention_difference(
                values[g.name].to(self.device, torch.float64).reshape(n_images, g.paths, g.channels))
                for values in values_by_scale])                                   # (S, N)
            d = x[None, :, :] - x[:, None, :]                                     # [i, j] = x_j - x_i
            self.pair_sum[g.name].index_add_(2, labels, d)
            self.pair_sumsq[g.name].index_add_(2, labels, d * d)
        ones = torch.ones(self.num_scales, self.num_scales, n_images, dtype=torch.int64, device=self.device)
        self.pair_count.index_add_(2, labels, ones)

    def paired_tensors(self) -> dict[str, torch.Tensor]:
        """The paired sums by flat name (empty when no gate has two paths): all plain sums, so
        they merge across processes by ``all_reduce`` with SUM."""
        if self.pair_count is None:  # no gate with two paths
            return {}
        out = {PAIR_COUNT: self.pair_count}
        for g in self.paired_gates:
            out[tensor_name(PAIR_SUM, g.name)] = self.pair_sum[g.name]
            out[tensor_name(PAIR_SUMSQ, g.name)] = self.pair_sumsq[g.name]
        return out

    # ------------------------------------------------------------ merging and state

    def tensors(self) -> dict[str, torch.Tensor]:
        """Every running tensor by a flat name, the profile file's (``profile_format.tensor_name``):
        the checkpoint's and the collectives' view."""
        out = {COUNT: self.count, TOP1_CORRECT: self.top1_correct}
        for g in self.gates:
            out[tensor_name(MEAN, g.name)] = self.mean[g.name]
            out[tensor_name(M2, g.name)] = self.m2[g.name]
            out[tensor_name(HIST, g.name)] = self.hist[g.name]
            if self.channel_hist:
                out[tensor_name(CHANNEL_HIST, g.name)] = self.channel_hists[g.name]
        out.update(self.paired_tensors())
        return out

    def state_dict(self) -> dict[str, torch.Tensor]:
        """A CPU copy of the running state (for checkpoints)."""
        return {k: v.detach().cpu().contiguous() for k, v in self.tensors().items()}

    def load_state_dict(self, state: Mapping[str, torch.Tensor]) -> None:
        """Replace the running state with a ``state_dict`` of an accumulator of the same shape."""
        for key, tensor in self.tensors().items():
            if key not in state:
                raise KeyError(f"checkpoint has no {key!r}")
            if tuple(state[key].shape) != tuple(tensor.shape):
                raise ValueError(f"checkpoint {key!r} has shape {tuple(state[key].shape)}, "
                                 f"expected {tuple(tensor.shape)}")
            tensor.copy_(state[key].to(tensor.dtype))

    def merge_(self, other: ProfileAccumulator) -> ProfileAccumulator:
        """Fold another accumulator's statistics (same gates, classes, scales, bins) into this one."""
        n_a = self.count.to(torch.float64)[:, :, None, None]
        n_b = other.count.to(self.device, torch.float64)[:, :, None, None]
        for g in self.gates:
            self.mean[g.name], self.m2[g.name] = merge_moments(
                n_a, self.mean[g.name], self.m2[g.name],
                n_b, other.mean[g.name].to(self.device), other.m2[g.name].to(self.device))
            self.hist[g.name] += other.hist[g.name].to(self.device)
            if self.channel_hist:
                self.channel_hists[g.name] += other.channel_hists[g.name].to(self.device)
        self.count += other.count.to(self.device)
        self.top1_correct += other.top1_correct.to(self.device)
        theirs = other.paired_tensors()
        for key, tensor in self.paired_tensors().items():
            tensor += theirs[key].to(self.device)
        return self

    # ------------------------------------------------------------ result

    def to_profile(self, model: str, class_names: Sequence[str], scales: Sequence[float],
                   **fields) -> Profile:
        """The statistics as a ``Profile`` (copied to the host once, here)."""
        arrays = {name: tensor.numpy() for name, tensor in self.state_dict().items()}
        names = [g.name for g in self.gates]
        return Profile(
            model=model, class_names=tuple(class_names), gates=tuple(self.gates),
            scales=tuple(float(s) for s in scales), count=arrays[COUNT],
            means=per_gate(arrays, MEAN, names), m2=per_gate(arrays, M2, names), hists=per_gate(arrays, HIST, names),
            bin_edges=np.linspace(0.0, 1.0, self.bins + 1), top1_correct=arrays[TOP1_CORRECT],
            channel_hists=per_gate(arrays, CHANNEL_HIST, names), pair_count=arrays.get(PAIR_COUNT),
            pair_sum=per_gate(arrays, PAIR_SUM, names), pair_sumsq=per_gate(arrays, PAIR_SUMSQ, names),
            **fields)
