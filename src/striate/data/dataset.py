"""Datasets: the indexable collections a ``DataLoader`` draws batches from.

A dataset is anything with ``__len__`` and ``__getitem__(i)`` for ``0 <= i < len``. The
``TensorDataset`` keeps whole arrays, so the loader can gather a batch with one fancy-index per
array instead of a Python loop over samples; ``Subset`` and ``random_split`` keep that fast path
(the loader composes their indices with the parent's arrays).
"""

from __future__ import annotations

import abc
import numbers
from collections.abc import Sequence

import numpy as np

from .. import backend
from ..autograd.tensor import Tensor

__all__ = ["Dataset", "Subset", "TensorDataset", "random_split"]


class Dataset(abc.ABC):
    """An indexable collection of samples: subclasses define ``__getitem__`` and ``__len__``."""

    @abc.abstractmethod
    def __getitem__(self, index: int):
        """The sample at ``index`` (an array, a Tensor, a number, or a tuple/dict of those)."""

    @abc.abstractmethod
    def __len__(self) -> int:
        """The number of samples."""


def _as_array(x, what: str) -> np.ndarray:
    if isinstance(x, Tensor):
        return x.array
    if isinstance(x, np.ndarray):
        return x
    arr = np.asarray(x)
    if arr.dtype.kind == "O":
        raise TypeError(f"{what}: cannot make an array from {type(x).__name__} data")
    if arr.dtype.kind == "f" and not isinstance(x, np.generic):
        arr = arr.astype(backend.get_default_dtype())  # Python floats take the default dtype
    return arr


def _check_index(index, n: int, who: str) -> int:
    if not isinstance(index, (numbers.Integral, np.integer)) or isinstance(index, bool):
        raise TypeError(f"{who}: index must be an int, got {type(index).__name__}")
    i = int(index)
    if i < 0:
        i += n
    if not 0 <= i < n:
        raise IndexError(f"{who}: index {index} is out of range for {n} samples")
    return i


class TensorDataset(Dataset):
    """Samples are the rows of equally long arrays: ``ds[i] == (a[i], b[i], ...)``.

    Args:
        *tensors: Tensors or arrays (or nested lists), all with the same first dimension N.
            They are kept as they are (no copy); ``ds.arrays`` are the raw arrays.

    Example:
        >>> import numpy as np
        >>> ds = TensorDataset(np.zeros((5, 3), np.float32), np.arange(5))
        >>> len(ds), ds[2][0].shape, int(ds[2][1].item())
        (5, (3,), 2)
    """

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("TensorDataset: needs at least one tensor or array")
        arrays = tuple(_as_array(t, "TensorDataset") for t in tensors)
        for k, a in enumerate(arrays):
            if a.ndim == 0:
                raise ValueError(
                    f"TensorDataset: tensor {k} is a scalar (shape ()); every tensor needs a first"
                    " (sample) dimension"
                )
        sizes = [a.shape[0] for a in arrays]
        if len(set(sizes)) != 1:
            shapes = ", ".join(str(a.shape) for a in arrays)
            raise ValueError(
                f"TensorDataset: all tensors must have the same first dimension, got sizes "
                f"{sizes} (shapes {shapes})"
            )
        self.arrays: tuple[np.ndarray, ...] = arrays

    @property
    def tensors(self) -> tuple[Tensor, ...]:
        """The arrays as Tensors (sharing memory), as PyTorch's ``TensorDataset.tensors``."""
        return tuple(Tensor(a) for a in self.arrays)

    def __getitem__(self, index: int) -> tuple[Tensor, ...]:
        i = _check_index(index, len(self), "TensorDataset")
        # np.asarray keeps a 0-d row as an array of the dataset's dtype (not a Python scalar)
        return tuple(Tensor(np.asarray(a[i])) for a in self.arrays)

    def __len__(self) -> int:
        return self.arrays[0].shape[0]

    def __repr__(self) -> str:
        shapes = ", ".join(f"{a.shape} {a.dtype}" for a in self.arrays)
        return f"TensorDataset({shapes})"


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order: ``sub[i] == dataset[indices[i]]``.

    Args:
        dataset: any dataset (an object with ``__len__`` and ``__getitem__``).
        indices: a sequence or 1-D integer array of positions in ``dataset`` (0 <= i < len).
    """

    def __init__(self, dataset, indices):
        idx = indices.array if isinstance(indices, Tensor) else np.asarray(indices)
        if idx.size == 0:  # an empty list comes out float64; it selects nothing either way
            idx = idx.astype(np.int64).reshape(0)
        if idx.ndim != 1 or idx.dtype.kind not in "iu":
            raise TypeError(
                f"Subset: indices must be a 1-D sequence of ints, got shape {idx.shape} "
                f"and dtype {idx.dtype}"
            )
        n = len(dataset)
        if idx.size and (idx.min() < 0 or idx.max() >= n):
            bad = int(idx[(idx < 0) | (idx >= n)][0])
            raise IndexError(f"Subset: index {bad} is out of range for a dataset of {n} samples")
        self.dataset = dataset
        self.indices = idx.astype(np.int64, copy=False)

    def __getitem__(self, index: int):
        i = _check_index(index, len(self), "Subset")
        return self.dataset[int(self.indices[i])]

    def __len__(self) -> int:
        return int(self.indices.shape[0])

    def __repr__(self) -> str:
        return f"Subset({len(self)} of {self.dataset!r})"


def _split_lengths(n: int, lengths: Sequence) -> list[int]:
    """Turn ``lengths`` (ints summing to n, or fractions summing to 1) into ints summing to n."""
    if len(lengths) == 0:
        raise ValueError("random_split: lengths must not be empty")
    for x in lengths:
        if isinstance(x, bool) or not isinstance(x, numbers.Real) or x < 0:
            raise ValueError(
                f"random_split: lengths must be non-negative ints or fractions, got {list(lengths)}"
            )
    if all(isinstance(x, numbers.Integral) for x in lengths):
        total = sum(int(x) for x in lengths)
        if total != n:
            raise ValueError(
                f"random_split: lengths {list(lengths)} sum to {total} but the dataset has "
                f"{n} samples"
            )
        return [int(x) for x in lengths]
    if any(x > 1 for x in lengths) or abs(sum(lengths) - 1.0) > 1e-6:
        raise ValueError(
            f"random_split: fractional lengths must lie in [0, 1] and sum to 1, got "
            f"{list(lengths)} (sum {sum(lengths)})"
        )
    counts = [int(np.floor(n * float(f))) for f in lengths]
    # the samples that flooring left over go one each to the splits in turn, as PyTorch does
    for k in range(n - sum(counts)):
        counts[k % len(counts)] += 1
    return counts


def random_split(dataset, lengths: Sequence, generator=None) -> list[Subset]:
    """Split ``dataset`` at random into non-overlapping ``Subset``s of the given lengths.

    Args:
        dataset: any dataset with ``__len__``.
        lengths: ints summing to ``len(dataset)``, or fractions summing to 1 (the remainder of
            flooring ``n * fraction`` is handed out one sample at a time from the first split).
        generator: a ``numpy.random.Generator`` or an int seed; None draws from striate's seeded
            generator (``striate.manual_seed`` makes the split repeatable).

    Returns:
        A list of ``Subset``, one per length, together covering every sample exactly once.

    Raises:
        ValueError: lengths that do not add up to the dataset's size (or to 1).
    """
    n = len(dataset)
    counts = _split_lengths(n, lengths)
    if generator is None:
        rng = backend.get_rng()
    elif isinstance(generator, np.random.Generator):
        rng = generator
    elif isinstance(generator, (numbers.Integral, np.integer)) and not isinstance(generator, bool):
        rng = np.random.default_rng(int(generator))
    else:
        raise TypeError(
            f"random_split: generator must be a numpy.random.Generator, an int seed or None, "
            f"got {type(generator).__name__}"
        )
    perm = rng.permutation(n)
    bounds = np.cumsum([0, *counts])
    return [Subset(dataset, perm[bounds[k] : bounds[k + 1]]) for k in range(len(counts))]
