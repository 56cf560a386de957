"""Statistics of gate values: per-gate summaries and comparisons across classes."""
from __future__ import annotations

import numpy as np

from .gates import Gate


def gate_summary(gate: Gate, values: np.ndarray) -> dict:
    """One gate's values (paths, C) for one image, summarised by its kind.

    Every kind: mean, std, min, max. SE: of the excitation s; ECA adds how strongly neighbouring
    channels agree; SK and split attention add mean_a (3x3 path), mean_b (5x5 path) and
    mean_diff = mean(b - a), the SKNet paper's "mean attention difference".
    """
    row = {"name": gate.name, "kind": gate.kind.name, "module": gate.module,
           "channels": gate.channels, "paths": gate.paths}
    row.update(gate.kind.summary(np.asarray(values, dtype=np.float64).reshape(gate.paths, -1)))
    return row


def class_specificity(class_means: np.ndarray, counts: np.ndarray | None = None) -> float:
    """Share of the variance of class-mean gate values that lies between classes.

    class_means: (classes, channels) - each class's mean value per channel.
    Per channel, the between-class variance of the class means is compared with its total across
    channels and classes: 0 when every class has the same profile (class-agnostic, as the SENet
    paper saw in early blocks), up to 1 when profiles differ only between classes.
    Concretely: sum_c Var_k(m_kc) / Var_{k,c}(m_kc), weighted by class counts when given.
    """
    m = np.asarray(class_means, dtype=np.float64)
    w = np.ones(m.shape[0]) if counts is None else np.asarray(counts, dtype=np.float64)
    w = w / w.sum()
    channel_mean = (w[:, None] * m).sum(axis=0)                      # (C,)
    between = (w[:, None] * (m - channel_mean) ** 2).sum(axis=0)     # per-channel variance across classes
    grand = (w[:, None] * m).sum() / m.shape[1]
    total = (w[:, None] * (m - grand) ** 2).sum(axis=0)              # includes variance across channels
    return float(between.sum() / total.sum()) if total.sum() > 0 else 0.0


def cosine_similarity_matrix(vectors: np.ndarray) -> np.ndarray:
    """Cosine similarity between rows (classes x features)."""
    v = np.asarray(vectors, dtype=np.float64)
    norm = np.linalg.norm(v, axis=1, keepdims=True)
    v = v / np.where(norm == 0, 1, norm)
    return v @ v.T
