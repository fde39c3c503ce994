"""Metrics of a classifier and running averages of them over an epoch.

``accuracy(logits, targets)`` is the fraction of samples whose highest score is the right class;
``AverageMeter`` keeps a sample-weighted running mean (an epoch's loss); ``EMAMeter`` an
exponential moving average (a smoothed loss that one noisy batch does not swing).
"""

from __future__ import annotations

import math

import numpy as np

from .. import backend
from ..autograd.tensor import Tensor

__all__ = ["AverageMeter", "EMAMeter", "accuracy"]


def _host(x, name: str) -> np.ndarray:
    a = x.array if isinstance(x, Tensor) else x
    if backend.get_array_module(a) is not np:  # pragma: no cover - GPU only
        a = a.get()
    try:
        return np.asarray(a)
    except Exception as e:  # pragma: no cover - defensive
        raise TypeError(f"accuracy: {name} must be a Tensor or an array, got "
                        f"{type(x).__name__}") from e


def accuracy(logits, targets, topk: int = 1) -> float:
    """The fraction of samples whose true class is among the ``topk`` highest scores.

    The class axis is axis 1, as in ``cross_entropy``: logits (N, C) with targets (N,), or
    logits (N, C, d1, ...) with targets (N, d1, ...). Targets of the same shape as the logits
    (one-hot or class probabilities) are reduced to their argmax first.

    Args:
        logits: Tensor or array of scores, (N, C) or (N, C, d1, ...).
        targets: integer class indices (N,) / (N, d1, ...), or one-hot scores like ``logits``.
        topk: count a sample right when its class is among the k best scores (default 1).

    Returns:
        a Python float in [0, 1] (0.0 for an empty batch).

    Raises:
        ValueError: shapes that do not match, or ``topk`` outside [1, C].

    Example:
        >>> import numpy as np
        >>> accuracy(np.array([[2.0, 1.0], [0.0, 3.0], [5.0, 1.0]]), np.array([0, 1, 1]))
        0.6666666666666666
    """
    s = _host(logits, "logits")
    y = _host(targets, "targets")
    if s.ndim < 2:
        raise ValueError(f"accuracy: logits must have shape (N, C, ...), got shape {s.shape}")
    if y.shape == s.shape:
        y = y.argmax(axis=1)
    expected = s.shape[:1] + s.shape[2:]
    if y.shape != expected:
        raise ValueError(
            f"accuracy: targets must have shape {expected} for logits of shape {s.shape} (class "
            f"axis 1), got shape {y.shape}"
        )
    if y.dtype.kind not in "iu":
        raise ValueError(f"accuracy: targets must be integer class indices, got dtype {y.dtype}")
    n_classes = s.shape[1]
    if not isinstance(topk, (int, np.integer)) or not 1 <= topk <= n_classes:
        raise ValueError(f"accuracy: topk must be an int in [1, {n_classes}], got {topk!r}")
    if y.size == 0:
        return 0.0
    if topk == 1:
        hit = s.argmax(axis=1) == y
    else:
        # the k best classes in any order: argpartition is O(C), a full sort is not needed
        best = np.argpartition(-s, topk - 1, axis=1)[:, :topk]
        hit = (best == np.expand_dims(y, 1)).any(axis=1)
    return float(hit.mean())


class AverageMeter:
    """A running mean weighted by counts: ``update(batch_mean, n=batch_size)``, then ``avg``.

    Attributes:
        val: the last value given.
        sum: the weighted sum of the values.
        count: the total weight.
        avg: ``sum / count`` (NaN before any update).

    Example:
        >>> m = AverageMeter()
        >>> m.update(1.0, n=3); m.update(3.0, n=1)
        >>> m.avg
        1.5
    """

    def __init__(self):
        self.reset()

    def reset(self) -> None:
        self.val = math.nan
        self.sum = 0.0
        self.count = 0

    def update(self, value: float, n: int = 1) -> None:
        value = float(value)
        self.val = value
        self.sum += value * n
        self.count += n

    @property
    def avg(self) -> float:
        return self.sum / self.count if self.count else math.nan

    def __repr__(self) -> str:
        return f"AverageMeter(avg={self.avg:.6g}, count={self.count})"


class EMAMeter:
    """An exponential moving average ``v <- beta * v + (1 - beta) * x``, started at the first x.

    Args:
        beta: how much of the previous average each update keeps, in [0, 1) (default 0.9: about
            the last 10 values count).
    """

    def __init__(self, beta: float = 0.9):
        if not 0.0 <= beta < 1.0:
            raise ValueError(f"EMAMeter: beta must be in [0, 1), got {beta!r}")
        self.beta = float(beta)
        self.value: float | None = None

    def update(self, x: float) -> float:
        x = float(x)
        self.value = x if self.value is None else self.beta * self.value + (1 - self.beta) * x
        return self.value

    def __repr__(self) -> str:
        return f"EMAMeter(beta={self.beta}, value={self.value})"
