"""Subsampling helpers: smaller, class-balanced pieces of a dataset for quick experiments (the
course runs kNN on 5,000 of CIFAR-10's 50,000 training images)."""

from __future__ import annotations

import numpy as np

from .datasets import DatasetSplits, Split, stratified_split

__all__ = ["subsample", "subsample_splits"]


def subsample(split: Split, n: int | None, seed: int = 0, stratified: bool = True) -> Split:
    """``n`` samples of ``split`` (all of it when n is None or >= its size), in their original
    order, drawn by a generator seeded with ``seed`` (the global one is left alone).

    With ``stratified`` each class keeps its share (to within one sample); otherwise the
    samples are a uniform draw without replacement.

    Raises:
        ValueError: n is not a positive int.
    """
    if n is None or n >= len(split):
        return split
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n <= 0:
        raise ValueError(f"subsample: n must be a positive int or None, got {n!r}")
    if stratified:
        _, _, idx = stratified_split(split.y, 0.0, n / len(split), seed=seed)
        if len(idx) != n:  # rounding of n / N: fall back to the exact count
            idx = np.sort(np.random.default_rng(seed).choice(len(split), n, replace=False))
    else:
        idx = np.sort(np.random.default_rng(seed).choice(len(split), n, replace=False))
    return Split(split.X[idx], split.y[idx])


def subsample_splits(data: DatasetSplits, train: int | None = None, val: int | None = None,
                     test: int | None = None, seed: int = 0) -> DatasetSplits:
    """A copy of ``data`` with each split cut to at most the given size (None keeps it)."""
    return DatasetSplits(
        name=data.name,
        train=subsample(data.train, train, seed),
        val=subsample(data.val, val, seed + 1),
        test=subsample(data.test, test, seed + 2),
        classes=list(data.classes),
        input_shape=tuple(data.input_shape),
    )
