"""Named datasets: the bundled handwritten digits, deterministic stratified splits, and the
registry the ``striate`` command reads ``--data NAME[:PATH]`` through.

Nothing is downloaded: ``digits`` is the 8x8 digits set that ships inside scikit-learn; datasets
that are not bundled register a loader that reads the files a user points to.
"""

from __future__ import annotations

import importlib.util
import numbers
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .dataset import TensorDataset

__all__ = [
    "DATASETS",
    "DatasetSplits",
    "Split",
    "digits",
    "load_dataset",
    "register_dataset",
    "stratified_split",
]


@dataclass(eq=False)
class Split:
    """One part of a dataset: inputs X (N, *input_shape) and int64 labels y (N,).

    Unpacks as a pair (``X, y = splits.train``); ``.dataset()`` wraps it for a DataLoader.
    """

    X: np.ndarray
    y: np.ndarray

    def __post_init__(self):
        if len(self.X) != len(self.y):
            raise ValueError(
                f"Split: X has {len(self.X)} samples but y has {len(self.y)} "
                f"(X shape {np.shape(self.X)}, y shape {np.shape(self.y)})"
            )

    def __len__(self) -> int:
        return len(self.y)

    def __iter__(self):
        yield self.X
        yield self.y

    def dataset(self) -> TensorDataset:
        """A TensorDataset over (X, y), sharing the arrays."""
        return TensorDataset(self.X, self.y)

    def __repr__(self) -> str:
        return f"Split(X={self.X.shape} {self.X.dtype}, y={self.y.shape} {self.y.dtype})"


@dataclass(eq=False)
class DatasetSplits:
    """A dataset split three ways, with what a model needs to know about it."""

    name: str
    train: Split
    val: Split
    test: Split
    classes: list[str]
    input_shape: tuple[int, ...]

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    def __repr__(self) -> str:
        return (
            f"DatasetSplits({self.name!r}: train {len(self.train)}, val {len(self.val)}, "
            f"test {len(self.test)}; input_shape {self.input_shape}, "
            f"{self.num_classes} classes)"
        )


def _check_fraction(value, name: str, who: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= value < 1:
        raise ValueError(f"{who}: {name} must be a number in [0, 1), got {value!r}")
    return float(value)


def _allocate(counts: np.ndarray, fraction: float) -> np.ndarray:
    """Split round(N * fraction) among classes in proportion to their counts (largest
    remainder), so the total is exact and each class gets its share to within one sample."""
    total = int(np.floor(counts.sum() * fraction + 0.5))
    quota = counts * fraction
    alloc = np.floor(quota).astype(np.int64)
    left = total - int(alloc.sum())
    if left > 0:
        order = np.argsort(-(quota - alloc), kind="stable")  # ties go to the lower class index
        alloc[order[:left]] += 1
    return alloc


def stratified_split(y, val_fraction: float, test_fraction: float, seed: int = 0):
    """Indices of a stratified train/val/test split of labels ``y``, independent of the global
    random generator (its own generator is seeded with ``seed``).

    Each class contributes its share of every split; the split sizes are
    round(N * val_fraction) and round(N * test_fraction), train takes the rest.

    Returns:
        (train_idx, val_idx, test_idx): sorted int64 arrays that together cover range(N) once.
    """
    val_fraction = _check_fraction(val_fraction, "val_fraction", "stratified_split")
    test_fraction = _check_fraction(test_fraction, "test_fraction", "stratified_split")
    if val_fraction + test_fraction >= 1:
        raise ValueError(
            f"stratified_split: val_fraction + test_fraction must be below 1 to leave training "
            f"data, got {val_fraction} + {test_fraction}"
        )
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"stratified_split: y must be 1-D labels, got shape {y.shape}")
    classes, inverse, counts = np.unique(y, return_inverse=True, return_counts=True)
    n_test = _allocate(counts, test_fraction)
    n_val = np.minimum(_allocate(counts, val_fraction), counts - n_test)
    rng = np.random.default_rng(seed)
    parts: tuple[list, list, list] = ([], [], [])
    for c in range(len(classes)):
        members = rng.permutation(np.flatnonzero(inverse == c))
        t, v = int(n_test[c]), int(n_val[c])
        parts[2].append(members[:t])
        parts[1].append(members[t : t + v])
        parts[0].append(members[t + v :])
    return tuple(np.sort(np.concatenate([np.empty(0, np.int64), *p])) for p in parts)


def digits(split_seed: int = 0, val_fraction: float = 0.1, test_fraction: float = 0.2):
    """scikit-learn's bundled handwritten digits: 1,797 8x8 grayscale images of 0-9.

    Images come as float32 (N, 1, 8, 8) in [0, 1] (the original 0..16 levels divided by 16),
    labels as int64 (N,). The split is stratified by class and fixed by ``split_seed``,
    whatever the global generator's state.

    Returns:
        A ``DatasetSplits`` with ``train``, ``val``, ``test`` (each a ``Split(X, y)``),
        ``classes`` ("0".."9"), ``num_classes`` 10 and ``input_shape`` (1, 8, 8).

    Raises:
        ImportError: scikit-learn is not installed.

    Example:
        >>> d = digits()
        >>> len(d.train) + len(d.val) + len(d.test), d.input_shape, d.num_classes
        (1797, (1, 8, 8), 10)
    """
    pixels, target = _digits_arrays()
    X = (pixels.astype(np.float32) / np.float32(16.0)).reshape(-1, 1, 8, 8)
    y = np.asarray(target, dtype=np.int64)
    tr, va, te = stratified_split(y, val_fraction, test_fraction, seed=split_seed)
    return DatasetSplits(
        name="digits",
        train=Split(X[tr], y[tr]),
        val=Split(X[va], y[va]),
        test=Split(X[te], y[te]),
        classes=[str(k) for k in range(10)],
        input_shape=(1, 8, 8),
    )


def _digits_arrays() -> tuple[np.ndarray, np.ndarray]:
    """The digits' (1797, 64) pixel levels 0..16 and (1797,) labels, read straight from the
    CSV that scikit-learn ships (``sklearn/datasets/data/digits.csv.gz``, 64 pixels and the
    label per line): importing ``sklearn.datasets`` to call ``load_digits`` costs a large share
    of a default ``striate train`` (docs/performance.md). Falls back to ``load_digits`` if the
    file is not there."""
    spec = importlib.util.find_spec("sklearn")
    if spec is None:
        raise ImportError(
            "digits: the bundled digits dataset ships with scikit-learn, which is not "
            "installed; install it with `pip install scikit-learn`"
        )
    for root in spec.submodule_search_locations or []:
        path = Path(root) / "datasets" / "data" / "digits.csv.gz"
        if path.is_file():
            data = np.loadtxt(path, delimiter=",", dtype=np.float64)
            return data[:, :-1], data[:, -1]
    from sklearn.datasets import load_digits

    bunch = load_digits()
    return bunch.data, bunch.target


def _digits_from_spec(path: str | None) -> DatasetSplits:
    if path:
        raise ValueError(f"load_dataset: 'digits' is bundled and takes no path, got {path!r}")
    return digits()


# name -> loader(path or None) -> DatasetSplits; a new format registers itself here
DATASETS: dict[str, Callable[[str | None], DatasetSplits]] = {"digits": _digits_from_spec}


def register_dataset(
    name: str, loader: Callable[[str | None], DatasetSplits], replace: bool = False
) -> None:
    """Make ``load_dataset("name[:path]")`` call ``loader(path)`` (path None when absent)."""
    if not isinstance(name, str) or not name or ":" in name or name != name.lower():
        raise ValueError(
            f"register_dataset: name must be a non-empty lower-case string without ':', "
            f"got {name!r}"
        )
    if not callable(loader):
        raise TypeError(f"register_dataset: loader must be callable, got {type(loader).__name__}")
    if name in DATASETS and not replace:
        raise ValueError(f"register_dataset: {name!r} is already registered (pass replace=True)")
    DATASETS[name] = loader


def load_dataset(spec: str) -> DatasetSplits:
    """Load a dataset named on the command line: ``"digits"`` or ``"name:path"``.

    Raises:
        ValueError: an unknown name (the message lists the known ones).
    """
    if not isinstance(spec, str) or not spec.strip():
        raise ValueError(f"load_dataset: spec must be 'name' or 'name:path', got {spec!r}")
    name, _, path = spec.strip().partition(":")
    name = name.strip().lower()
    loader = DATASETS.get(name)
    if loader is None:
        raise ValueError(
            f"load_dataset: unknown dataset {name!r} (from {spec!r}); known datasets: "
            f"{', '.join(sorted(DATASETS))}"
        )
    return loader(path.strip() or None)
