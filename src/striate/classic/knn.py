"""k-nearest neighbours: the data-driven approach at its simplest. ``train`` memorises the
training set; ``predict`` labels a query by a majority vote of its k closest training images.

Distances come three ways, all equal (the lesson is how to vectorise):

* ``compute_distances_two_loops``: one distance per (test, train) pair;
* ``compute_distances_one_loop``: one test row against all training rows at once;
* ``compute_distances_no_loops``: L2 as ``||a||^2 + ||b||^2 - 2 a.b``, one matrix multiply per
  chunk of test rows (L1 by broadcasting, in chunks), so temporaries stay under
  ``max_chunk_bytes`` whatever the sizes.

``predict`` with ``num_loops=0`` never holds the full (num_test, num_train) matrix: it computes a
chunk of distances, votes, and moves on, so 10,000 queries against 50,000 training points need
a few hundred MB at most.

Tie-breaks (deterministic): neighbours at equal distance are taken in training-set order (lower
index first); a tied vote goes to the smallest label among the tied labels, as the course does
(``np.argmax(np.bincount(closest_y))``).
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np

__all__ = ["KNearestNeighbor", "CrossValidationResult", "cross_validate",
           "plot_cross_validation"]

DEFAULT_CHUNK_BYTES = 64 * 2**20


def _as_matrix(X, name: str, who: str) -> np.ndarray:
    X = np.asarray(X)
    if X.ndim < 2:
        raise ValueError(f"{who}: {name} must be (N, D) (or (N, C, H, W), flattened), "
                         f"got shape {X.shape}")
    if X.dtype.kind not in "fiub":
        raise TypeError(f"{who}: {name} must be numeric, got dtype {X.dtype}")
    X = X.reshape(len(X), -1)
    return X if X.dtype.kind == "f" else X.astype(np.float64)


def _check_metric(metric: str, who: str) -> str:
    if metric not in ("l1", "l2"):
        raise ValueError(f"{who}: metric must be 'l1' or 'l2', got {metric!r}")
    return metric


class KNearestNeighbor:
    """A kNN classifier with L1 or L2 distance.

    Args:
        max_chunk_bytes: the bound on temporary memory of the vectorised distances.

    Example:
        >>> import numpy as np
        >>> knn = KNearestNeighbor()
        >>> knn.train(np.array([[0.0, 0.0], [1.0, 1.0], [5.0, 5.0]]), np.array([0, 0, 1]))
        >>> knn.predict(np.array([[0.2, 0.1], [4.0, 4.5]]), k=1).tolist()
        [0, 1]
    """

    def __init__(self, max_chunk_bytes: int = DEFAULT_CHUNK_BYTES):
        if not isinstance(max_chunk_bytes, numbers.Integral) or max_chunk_bytes <= 0:
            raise ValueError(f"KNearestNeighbor: max_chunk_bytes must be a positive int, "
                             f"got {max_chunk_bytes!r}")
        self.max_chunk_bytes = int(max_chunk_bytes)
        self.X_train: np.ndarray | None = None
        self.y_train: np.ndarray | None = None

    def train(self, X, y) -> None:
        """Memorise X (N, D) (or images (N, ...), flattened) and labels y (N,) of ints."""
        X = _as_matrix(X, "X", "KNearestNeighbor.train")
        y = np.asarray(y)
        if y.shape != (len(X),) or y.dtype.kind not in "iu":
            raise ValueError(f"KNearestNeighbor.train: y must be {len(X)} integer labels, got "
                             f"shape {y.shape} dtype {y.dtype}")
        if len(X) == 0:
            raise ValueError("KNearestNeighbor.train: X is empty")
        self.X_train = X
        self.y_train = y.astype(np.int64)
        # labels -> 0..C-1 so a vote is one bincount; classes_ maps back
        self.classes_, self._y_index = np.unique(self.y_train, return_inverse=True)
        self._train_sq = None

    # ---------------------------------------------------------------- distances

    def _queries(self, X, who):
        if self.X_train is None:
            raise RuntimeError(f"KNearestNeighbor.{who}: call train(X, y) first")
        X = _as_matrix(X, "X", f"KNearestNeighbor.{who}")
        if X.shape[1] != self.X_train.shape[1]:
            raise ValueError(f"KNearestNeighbor.{who}: X has {X.shape[1]} features per sample "
                             f"but the training data has {self.X_train.shape[1]}")
        return X

    def compute_distances_two_loops(self, X, metric: str = "l2") -> np.ndarray:
        """Distances (num_test, num_train), one pair at a time (the slow reference)."""
        X = self._queries(X, "compute_distances_two_loops")
        _check_metric(metric, "compute_distances_two_loops")
        Xtr = self.X_train
        dists = np.zeros((len(X), len(Xtr)), dtype=np.result_type(X, Xtr))
        for i in range(len(X)):
            for j in range(len(Xtr)):
                d = X[i] - Xtr[j]
                dists[i, j] = np.sqrt(np.sum(d * d)) if metric == "l2" else np.sum(np.abs(d))
        return dists

    def compute_distances_one_loop(self, X, metric: str = "l2") -> np.ndarray:
        """Distances (num_test, num_train), one test row against all training rows at once."""
        X = self._queries(X, "compute_distances_one_loop")
        _check_metric(metric, "compute_distances_one_loop")
        Xtr = self.X_train
        dists = np.zeros((len(X), len(Xtr)), dtype=np.result_type(X, Xtr))
        for i in range(len(X)):
            d = Xtr - X[i]  # broadcasting (D,) against (num_train, D)
            dists[i] = np.sqrt(np.sum(d * d, axis=1)) if metric == "l2" else \
                np.sum(np.abs(d), axis=1)
        return dists

    def compute_distances_no_loops(self, X, metric: str = "l2") -> np.ndarray:
        """Distances (num_test, num_train) without a Python loop over samples; the test rows are
        processed in chunks so temporaries stay under ``max_chunk_bytes``."""
        X = self._queries(X, "compute_distances_no_loops")
        _check_metric(metric, "compute_distances_no_loops")
        out = np.empty((len(X), len(self.X_train)), dtype=np.result_type(X, self.X_train))
        for start, stop in self._chunks(X, metric):
            out[start:stop] = self._distances(X[start:stop], metric)
        return out

    def _chunks(self, X, metric):
        ntr, d = self.X_train.shape
        # per distance: the value, argpartition's int64 index, and a few masks
        per_row = ntr * (X.itemsize * d if metric == "l1" else X.itemsize + 12)
        rows = max(1, self.max_chunk_bytes // max(per_row, 1))
        for start in range(0, len(X), rows):
            yield start, min(start + rows, len(X))

    def _distances(self, Xc, metric, squared=False):
        """Distances of a chunk of queries (m, D) to all training rows, no loops; with
        ``squared`` the L2 distances are left squared (the same order, one pass less)."""
        Xtr = self.X_train
        if metric == "l1":
            if len(Xc) == 1 or Xtr.shape[1] * len(Xc) * len(Xtr) * Xc.itemsize \
                    <= self.max_chunk_bytes:
                return np.abs(Xc[:, None, :] - Xtr[None, :, :]).sum(axis=2)
            return np.stack([np.abs(Xtr - row).sum(axis=1) for row in Xc])
        if self._train_sq is None or self._train_sq.dtype != Xtr.dtype:
            self._train_sq = np.einsum("ij,ij->i", Xtr, Xtr)
        # ||a - b||^2 = ||a||^2 + ||b||^2 - 2 a.b: one GEMM does the work
        d2 = Xc @ Xtr.T
        d2 *= -2
        d2 += np.einsum("ij,ij->i", Xc, Xc)[:, None]
        d2 += self._train_sq[None, :]
        np.maximum(d2, 0, out=d2)  # rounding can make a tiny negative where a == b
        return d2 if squared else np.sqrt(d2, out=d2)

    # ---------------------------------------------------------------- prediction

    def _nearest(self, dists: np.ndarray, k: int) -> np.ndarray:
        """Training indices (m, k) of the k nearest, ordered by (distance, training index)."""
        m, n = dists.shape
        if k >= n:
            return np.argsort(dists, axis=1, kind="stable")
        idx = np.argpartition(dists, k - 1, axis=1)[:, :k]
        kth = np.take_along_axis(dists, idx, axis=1).max(axis=1, keepdims=True)
        # argpartition picks arbitrarily among points tied at the k-th distance; where such a
        # tie straddles the boundary, redo the row: everything closer is in, and the lowest
        # training indices among those exactly at the k-th distance fill the remaining places
        tied = np.flatnonzero((dists <= kth).sum(axis=1) > k)
        if len(tied):
            dt, kt = dists[tied], kth[tied]
            equal = dt == kt
            need = k - (dt < kt).sum(axis=1, keepdims=True)
            chosen = (dt < kt) | (equal & (np.cumsum(equal, axis=1) <= need))
            idx[tied] = np.nonzero(chosen)[1].reshape(len(tied), k)
        order = np.lexsort((idx, np.take_along_axis(dists, idx, axis=1)), axis=-1)
        return np.take_along_axis(idx, order, axis=1)

    def _vote(self, neighbours: np.ndarray, k: int) -> np.ndarray:
        labels = self._y_index[neighbours[:, :k]]
        m, c = len(labels), len(self.classes_)
        counts = np.bincount((labels + c * np.arange(m)[:, None]).ravel(), minlength=m * c)
        # argmax returns the first maximum: the smallest label among a tie
        return self.classes_[counts.reshape(m, c).argmax(axis=1)]

    def predict_labels(self, dists, k: int = 1) -> np.ndarray:
        """Labels (num_test,) from a distance matrix (num_test, num_train)."""
        dists = np.asarray(dists)
        k = self._check_k(k, "predict_labels")
        if self.y_train is None or dists.ndim != 2 or dists.shape[1] != len(self.y_train):
            raise ValueError(f"KNearestNeighbor.predict_labels: dists must be (num_test, "
                             f"{None if self.y_train is None else len(self.y_train)}), "
                             f"got {dists.shape}")
        return self._vote(self._nearest(dists, k), k)

    def _check_k(self, k, who):
        if isinstance(k, bool) or not isinstance(k, numbers.Integral) or k < 1:
            raise ValueError(f"KNearestNeighbor.{who}: k must be a positive int, got {k!r}")
        return int(k)

    def predict(self, X, k: int = 1, metric: str = "l2", num_loops: int = 0) -> np.ndarray:
        """Labels (num_test,) of queries X (num_test, D) by a vote of their k nearest neighbours.

        Args:
            k: number of neighbours (capped at the training-set size).
            metric: 'l2' (Euclidean) or 'l1' (Manhattan).
            num_loops: 0 (vectorised and chunked: bounded memory), 1 or 2 (the references).
        """
        k = self._check_k(k, "predict")
        _check_metric(metric, "predict")
        if num_loops == 2:
            return self.predict_labels(self.compute_distances_two_loops(X, metric), k)
        if num_loops == 1:
            return self.predict_labels(self.compute_distances_one_loop(X, metric), k)
        if num_loops != 0:
            raise ValueError(f"KNearestNeighbor.predict: num_loops must be 0, 1 or 2, "
                             f"got {num_loops!r}")
        X = self._queries(X, "predict")
        out = np.empty(len(X), dtype=np.int64)
        for start, stop in self._chunks(X, metric):
            d = self._distances(X[start:stop], metric, squared=True)
            out[start:stop] = self._vote(self._nearest(d, k), k)
        return out

    def kneighbors_votes(self, X, k_choices, metric: str = "l2") -> dict[int, np.ndarray]:
        """Predictions for several k from one pass over the distances: {k: labels}."""
        ks = [self._check_k(k, "kneighbors_votes") for k in k_choices]
        X = self._queries(X, "kneighbors_votes")
        kmax = max(ks)
        preds = {k: np.empty(len(X), dtype=np.int64) for k in ks}
        for start, stop in self._chunks(X, metric):
            nb = self._nearest(self._distances(X[start:stop], metric, squared=True), kmax)
            for k in ks:
                preds[k][start:stop] = self._vote(nb, k)
        return preds


@dataclass
class CrossValidationResult:
    """Accuracies (len(k_choices), num_folds) of k-fold cross-validation, and the best k (the
    highest mean accuracy; the smaller k on a tie)."""

    k_choices: list[int]
    accuracies: np.ndarray
    best_k: int

    @property
    def mean(self) -> np.ndarray:
        return self.accuracies.mean(axis=1)

    @property
    def std(self) -> np.ndarray:
        return self.accuracies.std(axis=1)

    def as_dict(self) -> dict:
        return {"k_choices": list(self.k_choices), "accuracies": self.accuracies.tolist(),
                "mean": self.mean.tolist(), "std": self.std.tolist(), "best_k": self.best_k}


def cross_validate(X, y, k_choices, num_folds: int = 5, metric: str = "l2",
                   max_chunk_bytes: int = DEFAULT_CHUNK_BYTES) -> CrossValidationResult:
    """k-fold cross-validation of kNN over ``k_choices``.

    The data are cut into ``num_folds`` consecutive folds (``np.array_split``, as the course;
    shuffle first if the order is not random); each fold is held out once while the others are
    the training set. Each fold's distances are computed once for all k.

    Returns:
        A ``CrossValidationResult`` with accuracies (len(k_choices), num_folds) and best_k.
    """
    X = _as_matrix(X, "X", "cross_validate")
    y = np.asarray(y)
    ks = sorted({int(k) for k in k_choices})
    if not ks or min(ks) < 1:
        raise ValueError(f"cross_validate: k_choices must be positive ints, got {k_choices!r}")
    if not isinstance(num_folds, numbers.Integral) or not 2 <= num_folds <= len(X):
        raise ValueError(f"cross_validate: num_folds must be an int in [2, {len(X)}], "
                         f"got {num_folds!r}")
    folds = np.array_split(np.arange(len(X)), num_folds)
    acc = np.zeros((len(ks), num_folds))
    knn = KNearestNeighbor(max_chunk_bytes)
    for f, held in enumerate(folds):
        rest = np.concatenate([folds[g] for g in range(num_folds) if g != f])
        knn.train(X[rest], y[rest])
        preds = knn.kneighbors_votes(X[held], ks, metric)
        for i, k in enumerate(ks):
            acc[i, f] = np.mean(preds[k] == y[held])
    best = ks[int(np.argmax(acc.mean(axis=1)))]
    return CrossValidationResult(ks, acc, best)


def plot_cross_validation(result: CrossValidationResult, path) -> bool:
    """Accuracy against k: every fold as a dot, the mean with a +-std error bar, as PNG.

    Returns False (writing nothing) when matplotlib is not installed.
    """
    from ._plot import figure, save

    fig = figure()
    if fig is None:
        return False
    ax = fig.add_subplot(1, 1, 1)
    ks = np.asarray(result.k_choices)
    for f in range(result.accuracies.shape[1]):
        ax.scatter(ks, result.accuracies[:, f], s=12, color="0.6",
                   label="folds" if f == 0 else None)
    ax.errorbar(ks, result.mean, yerr=result.std, marker="o", capsize=3, label="mean +- std")
    ax.axvline(result.best_k, color="C3", linestyle=":", label=f"best k = {result.best_k}")
    ax.set_xlabel("k")
    ax.set_ylabel("cross-validation accuracy")
    ax.set_title("kNN: accuracy against k")
    ax.legend()
    save(fig, path)
    return True
