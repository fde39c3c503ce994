"""Hand-made image features of the course's first half: a hue histogram, a histogram of oriented
gradients (HOG), and a bag of visual words over a k-means codebook of patches.

Every feature function takes a batch of images ``(N, C, H, W)`` and returns one row per image,
``(N, F)`` float32, computed for the whole batch at once (no per-pixel Python loops).
:func:`extract_features` stacks several of them side by side and works through a large set in
chunks so memory stays bounded.

Example:
    >>> import numpy as np
    >>> X = np.random.default_rng(0).random((5, 3, 16, 16)).astype(np.float32)
    >>> extract_features(X, [hog_features, color_histogram]).shape  # 2x2 cells x 9 + 10 bins
    (5, 46)
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

__all__ = [
    "BagOfWords",
    "KMeansResult",
    "color_histogram",
    "extract_features",
    "feature_size",
    "grayscale",
    "hog_features",
    "hue",
    "kmeans",
]


def _images(X, who: str) -> np.ndarray:
    X = np.asarray(X)
    if X.ndim != 4:
        raise ValueError(f"{who}: X must be a batch of images (N, C, H, W), got shape {X.shape}")
    if not np.issubdtype(X.dtype, np.number):
        raise TypeError(f"{who}: X must be numeric, got dtype {X.dtype}")
    return X


def _positive_int(value, name: str, who: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
        raise ValueError(f"{who}: {name} must be a positive int, got {value!r}")
    return int(value)


def grayscale(X) -> np.ndarray:
    """Luminance of a batch (N, C, H, W) -> (N, H, W) float32: ITU-R 601 weights
    0.299 R + 0.587 G + 0.114 B for 3 channels, the channel itself for 1, the mean otherwise."""
    X = _images(X, "grayscale").astype(np.float32, copy=False)
    if X.shape[1] == 1:
        return X[:, 0]
    if X.shape[1] == 3:
        w = np.array([0.299, 0.587, 0.114], np.float32)
        return np.tensordot(w, X, axes=([0], [1])).astype(np.float32)
    return X.mean(axis=1)


# ---- colour ----------------------------------------------------------------------------------


def hue(X) -> np.ndarray:
    """The hue of HSV, in [0, 1), of RGB images (N, 3, H, W) -> (N, H, W) float32.

    Hue is the angle on the colour hexagon: with M = max(R, G, B), m = min and d = M - m,
    h = (G - B)/d (mod 6) where R is the max, (B - R)/d + 2 where G is, (R - G)/d + 4 where B is,
    then divided by 6. A grey pixel (d = 0) has hue 0, as in ``matplotlib.colors.rgb_to_hsv``.
    Hue does not change when all channels are scaled, so images in [0, 1] or [0, 255] agree.
    Grayscale images (C = 1) are grey everywhere: their hue is all zeros.
    """
    X = _images(X, "hue").astype(np.float32, copy=False)
    if X.shape[1] == 1:
        return np.zeros((X.shape[0],) + X.shape[2:], np.float32)
    if X.shape[1] != 3:
        raise ValueError(f"hue: X must have 1 or 3 channels (grey or RGB), got shape {X.shape}")
    r, g, b = X[:, 0], X[:, 1], X[:, 2]
    M, m = X.max(axis=1), X.min(axis=1)
    d = M - m
    safe = np.where(d > 0, d, 1.0).astype(np.float32)
    # the first true condition wins, so a tie between maxima takes R before G before B
    h = np.select([r == M, g == M], [np.mod((g - b) / safe, 6.0), (b - r) / safe + 2.0],
                  (r - g) / safe + 4.0)
    h = np.where(d > 0, h / 6.0, 0.0)
    return np.mod(h, 1.0).astype(np.float32)


def color_histogram(X, nbin: int = 10) -> np.ndarray:
    """Histogram of hue per image, (N, C, H, W) -> (N, nbin), each row summing to 1.

    Bin j counts the pixels with hue in [j/nbin, (j+1)/nbin). Grayscale images have no hue: all
    their mass lands in bin 0, so the feature carries no information on grey data (the digits).
    """
    nbin = _positive_int(nbin, "nbin", "color_histogram")
    h = hue(X)
    N = h.shape[0]
    pixels = h[0].size
    if pixels == 0:
        raise ValueError(f"color_histogram: images have no pixels (shape {np.shape(X)})")
    bins = np.minimum((h * nbin).astype(np.int64), nbin - 1).reshape(N, -1)
    bins += (np.arange(N, dtype=np.int64) * nbin)[:, None]
    counts = np.bincount(bins.ravel(), minlength=N * nbin).reshape(N, nbin)
    return (counts / pixels).astype(np.float32)


# ---- histogram of oriented gradients ---------------------------------------------------------


def hog_features(X, cell: int = 8, nbins: int = 9, block: int | None = None,
                 eps: float = 1e-6) -> np.ndarray:
    """Histogram of oriented gradients per image, (N, C, H, W) -> (N, F) float32.

    As the course's ``hog_feature``: the image is made grey, gradients are forward differences
    (gx[i, j] = I[i, j+1] - I[i, j], gy[i, j] = I[i+1, j] - I[i, j], zero on the last column /
    row), orientations are unsigned (theta = atan2(gy, gx) mod 180 degrees, a gradient and its
    opposite are the same edge) and fall into ``nbins`` equal bins over [0, 180); each
    ``cell`` x ``cell`` cell holds the mean gradient magnitude per bin (the magnitude summed over
    the cell's pixels in that bin, divided by cell**2). Pixels beyond the last whole cell are
    dropped. Features are ordered (cell row, cell column, bin): F = (H//cell)(W//cell) nbins.

    With ``block`` = b, Dalal and Triggs' normalisation follows: every b x b window of cells
    (stride one cell) is concatenated and scaled to unit L2 norm, then clipped at 0.2 and scaled
    to unit norm again (L2-Hys), giving F = (H//cell - b + 1)(W//cell - b + 1) b^2 nbins.

    Raises:
        ValueError: a cell (or block) larger than the image.
    """
    cell = _positive_int(cell, "cell", "hog_features")
    nbins = _positive_int(nbins, "nbins", "hog_features")
    X = _images(X, "hog_features")
    N, _, H, W = X.shape
    ncy, ncx = H // cell, W // cell
    if ncy == 0 or ncx == 0:
        raise ValueError(f"hog_features: cell {cell} is larger than the images ({H}x{W})")
    img = grayscale(X)
    gx = np.zeros_like(img)
    gy = np.zeros_like(img)
    gx[:, :, :-1] = img[:, :, 1:] - img[:, :, :-1]
    gy[:, :-1, :] = img[:, 1:, :] - img[:, :-1, :]
    gx, gy = gx[:, : ncy * cell, : ncx * cell], gy[:, : ncy * cell, : ncx * cell]
    mag = np.sqrt(gx * gx + gy * gy)
    theta = np.mod(np.degrees(np.arctan2(gy, gx)), 180.0)
    # mod can round a tiny negative angle up to exactly 180: that is bin nbins-1's edge
    b = np.minimum((theta * (nbins / 180.0)).astype(np.int64), nbins - 1)
    # one bincount over (image, cell row, cell column, bin) for the whole batch
    rows = np.arange(ncy * cell) // cell
    cols = np.arange(ncx * cell) // cell
    where = (np.arange(N)[:, None, None] * ncy + rows[None, :, None]) * ncx + cols[None, None, :]
    index = where * nbins + b
    hist = np.bincount(index.ravel(), weights=mag.ravel().astype(np.float64),
                       minlength=N * ncy * ncx * nbins)
    hist = hist.reshape(N, ncy, ncx, nbins) / (cell * cell)
    if block is None:
        return hist.reshape(N, -1).astype(np.float32)
    block = _positive_int(block, "block", "hog_features")
    if block > min(ncy, ncx):
        raise ValueError(f"hog_features: block of {block} cells does not fit the {ncy}x{ncx} "
                         f"cells of {H}x{W} images with cell {cell}")
    win = np.lib.stride_tricks.sliding_window_view(hist, (block, block), axis=(1, 2))
    # (N, by, bx, nbins, block, block) -> one vector per block
    v = win.transpose(0, 1, 2, 4, 5, 3).reshape(N, ncy - block + 1, ncx - block + 1, -1)
    v = v / np.sqrt((v * v).sum(-1, keepdims=True) + eps * eps)
    v = np.minimum(v, 0.2)
    v = v / np.sqrt((v * v).sum(-1, keepdims=True) + eps * eps)
    return v.reshape(N, -1).astype(np.float32)


# ---- k-means and the bag of visual words -----------------------------------------------------


@dataclass
class KMeansResult:
    """What :func:`kmeans` found: ``centers`` (k, D), ``labels`` (N,), the summed squared
    distance of points to their centres (``inertia``), the iterations run and whether the
    assignment stopped changing before ``max_iter``."""

    centers: np.ndarray
    labels: np.ndarray
    inertia: float
    n_iter: int
    converged: bool


def _sq_dists(X: np.ndarray, C: np.ndarray, chunk: int = 4096) -> np.ndarray:
    """Squared Euclidean distances (N, k) as ||x||^2 + ||c||^2 - 2 x.c, clipped at 0 (the
    expansion can go slightly negative in floating point), in chunks of rows."""
    cc = (C * C).sum(1)
    out = np.empty((X.shape[0], C.shape[0]), np.float64)
    for s in range(0, X.shape[0], chunk):
        x = X[s : s + chunk]
        out[s : s + chunk] = (x * x).sum(1)[:, None] + cc[None, :] - 2.0 * (x @ C.T)
    return np.maximum(out, 0.0, out=out)


def kmeans(X, k: int, max_iter: int = 100, tol: float = 1e-6, seed: int = 0) -> KMeansResult:
    """Lloyd's k-means on points X (N, D) with k-means++ seeding, in float64.

    Seeding picks the first centre uniformly and each next one with probability proportional to
    the squared distance to the nearest centre so far, from ``numpy.random.default_rng(seed)``
    (the global generator is not touched). Each iteration assigns points to the nearest centre
    and moves every centre to the mean of its points; a centre left without points is moved to
    the point farthest from its own centre. It stops when the assignment no longer changes or
    the centres move less than ``tol`` times the data's variance.

    Raises:
        ValueError: X is not 2-D, or k is not in [1, N].
    """
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise ValueError(f"kmeans: X must be points (N, D), got shape {X.shape}")
    k = _positive_int(k, "k", "kmeans")
    if k > X.shape[0]:
        raise ValueError(f"kmeans: k must be at most the number of points {X.shape[0]}, got {k}")
    max_iter = _positive_int(max_iter, "max_iter", "kmeans")
    rng = np.random.default_rng(seed)
    N = X.shape[0]
    centers = np.empty((k, X.shape[1]))
    centers[0] = X[rng.integers(N)]
    closest = _sq_dists(X, centers[:1])[:, 0]
    for j in range(1, k):
        total = closest.sum()
        i = rng.choice(N, p=closest / total) if total > 0 else rng.integers(N)
        centers[j] = X[i]
        closest = np.minimum(closest, _sq_dists(X, centers[j : j + 1])[:, 0])
    scale = float(X.var(axis=0).sum()) or 1.0
    labels = np.full(N, -1, np.int64)
    converged = False
    it = 0
    for it in range(1, max_iter + 1):  # noqa: B007 - `it` is reported after the loop
        d = _sq_dists(X, centers)
        new = d.argmin(1)
        if np.array_equal(new, labels):
            converged = True
            break
        labels = new
        counts = np.bincount(labels, minlength=k)
        filled = counts > 0
        # per-cluster sums in one pass: sort by cluster, add up each contiguous run
        order = np.argsort(labels, kind="stable")
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])[filled]
        moved = centers.copy()
        moved[filled] = np.add.reduceat(X[order], starts, axis=0) / counts[filled, None]
        if not filled.all():  # re-seed empty clusters at the worst-served points
            far = np.argsort(-d[np.arange(N), labels], kind="stable")
            moved[~filled] = X[far[: int((~filled).sum())]]
        shift = float(((moved - centers) ** 2).sum())
        centers = moved
        if shift <= tol * scale:
            labels = _sq_dists(X, centers).argmin(1)
            converged = True
            break
    d = _sq_dists(X, centers)
    labels = d.argmin(1)
    return KMeansResult(centers, labels, float(d[np.arange(N), labels].sum()), it, converged)


def _patches(X: np.ndarray, patch: int, stride: int) -> np.ndarray:
    """All patch x patch windows at the given stride: (N, C, H, W) -> (N, L, C*patch*patch)."""
    win = np.lib.stride_tricks.sliding_window_view(X, (patch, patch), axis=(2, 3))
    win = win[:, :, ::stride, ::stride]  # (N, C, Ly, Lx, p, p)
    N, C, Ly, Lx = win.shape[:4]
    return win.transpose(0, 2, 3, 1, 4, 5).reshape(N, Ly * Lx, C * patch * patch)


class BagOfWords:
    """A bag of visual words: patches -> a k-means codebook -> per image, the histogram of the
    nearest codeword of each of its patches.

    ``fit(X_train)`` samples ``n_patches`` random patches (random image, random position) with
    its own generator seeded by ``seed``, normalises each (minus its mean, divided by
    sqrt(variance + eps), so the words describe shape rather than brightness) and clusters them
    into ``n_words`` words with :func:`kmeans` (at most ``max_iter`` Lloyd iterations: a codebook
    need not wait for the last centre to stop drifting). Calling the fitted object on images
    (N, C, H, W) returns (N, n_words) float32: the fraction of the image's patches (every
    ``stride``-th position) whose nearest word is each word; rows sum to 1.

    Example:
        >>> X = np.random.default_rng(0).random((20, 1, 8, 8))
        >>> bow = BagOfWords(n_words=5, patch=3, n_patches=200).fit(X)
        >>> bow(X).shape
        (20, 5)
    """

    def __init__(self, n_words: int = 50, patch: int = 3, stride: int = 1,
                 n_patches: int = 10000, eps: float = 0.01, seed: int = 0,
                 max_iter: int = 30):
        self.n_words = _positive_int(n_words, "n_words", "BagOfWords")
        self.patch = _positive_int(patch, "patch", "BagOfWords")
        self.stride = _positive_int(stride, "stride", "BagOfWords")
        self.n_patches = _positive_int(n_patches, "n_patches", "BagOfWords")
        self.eps, self.seed, self.max_iter = float(eps), int(seed), int(max_iter)
        self.codebook: np.ndarray | None = None
        self.__name__ = "bow"

    def _normalise(self, P: np.ndarray) -> np.ndarray:
        P = P - P.mean(-1, keepdims=True)
        return P / np.sqrt(P.var(-1, keepdims=True) + self.eps)

    def fit(self, X) -> BagOfWords:
        """Learn the codebook from training images X (N, C, H, W); returns self."""
        X = _images(X, "BagOfWords.fit").astype(np.float64, copy=False)
        N, C, H, W = X.shape
        p = self.patch
        if p > min(H, W):
            raise ValueError(f"BagOfWords.fit: patch {p} is larger than the images ({H}x{W})")
        rng = np.random.default_rng(self.seed)
        n = self.n_patches
        img = rng.integers(N, size=n)
        ys, xs = rng.integers(H - p + 1, size=n), rng.integers(W - p + 1, size=n)
        # gather all sampled patches with one fancy index: (n, C, p, p)
        r = ys[:, None] + np.arange(p)[None, :]
        c = xs[:, None] + np.arange(p)[None, :]
        P = X[img[:, None, None, None], np.arange(C)[None, :, None, None],
              r[:, None, :, None], c[:, None, None, :]]
        P = self._normalise(P.reshape(n, -1))
        k = min(self.n_words, n)
        self.codebook = kmeans(P, k, max_iter=self.max_iter, seed=self.seed).centers
        return self

    def __call__(self, X, chunk: int = 256) -> np.ndarray:
        if self.codebook is None:
            raise RuntimeError("BagOfWords: call fit(X_train) before extracting features")
        X = _images(X, "BagOfWords").astype(np.float64, copy=False)
        D = self.codebook.shape[1]
        if X.shape[1] * self.patch ** 2 != D:
            raise ValueError(f"BagOfWords: the codebook was fitted on {D // self.patch ** 2}-"
                             f"channel images, got shape {X.shape}")
        k = self.codebook.shape[0]
        out = np.empty((X.shape[0], k), np.float32)
        for s in range(0, X.shape[0], chunk):
            P = self._normalise(_patches(X[s : s + chunk], self.patch, self.stride))
            n, L, _ = P.shape
            words = _sq_dists(P.reshape(n * L, D), self.codebook).argmin(1).reshape(n, L)
            words += (np.arange(n) * k)[:, None]
            out[s : s + n] = np.bincount(words.ravel(), minlength=n * k).reshape(n, k) / L
        return out

    def state_dict(self) -> dict:
        """The codebook and settings, as arrays and numbers (for ``striate.train.save``)."""
        return {"n_words": self.n_words, "patch": self.patch, "stride": self.stride,
                "n_patches": self.n_patches, "eps": self.eps, "seed": self.seed,
                "codebook": self.codebook}

    @classmethod
    def from_state_dict(cls, state: dict) -> BagOfWords:
        bow = cls(int(state["n_words"]), int(state["patch"]), int(state["stride"]),
                  int(state["n_patches"]), float(state["eps"]), int(state["seed"]))
        bow.codebook = None if state["codebook"] is None else np.asarray(state["codebook"])
        return bow


# ---- stacking --------------------------------------------------------------------------------


def extract_features(X, feature_fns: Sequence[Callable], chunk: int = 1000) -> np.ndarray:
    """Several features side by side: (N, C, H, W) -> (N, F_1 + ... + F_m) float32.

    Each function maps a batch (n, C, H, W) to (n, F_i); they run on ``chunk`` images at a time
    so a large dataset never holds every intermediate (gradients, patches) at once.

    Raises:
        ValueError: no functions, or one returning the wrong number of rows.
    """
    X = _images(X, "extract_features")
    fns = list(feature_fns)
    if not fns:
        raise ValueError("extract_features: feature_fns must name at least one feature function")
    for f in fns:
        if not callable(f):
            raise TypeError(f"extract_features: feature functions must be callable, got "
                            f"{type(f).__name__}")
    chunk = _positive_int(chunk, "chunk", "extract_features")
    parts = []
    for s in range(0, max(X.shape[0], 1), chunk):
        xb = X[s : s + chunk]
        cols = []
        for f in fns:
            v = np.asarray(f(xb), dtype=np.float32)
            v = v.reshape(len(xb), -1) if v.ndim != 2 else v
            if v.shape[0] != len(xb):
                name = getattr(f, "__name__", type(f).__name__)
                raise ValueError(f"extract_features: {name} returned {v.shape[0]} rows for "
                                 f"{len(xb)} images")
            cols.append(v)
        parts.append(np.hstack(cols))
    return np.concatenate(parts) if len(parts) > 1 else parts[0]


def feature_size(fn: Callable, image_shape: tuple) -> int:
    """The number of columns ``fn`` produces for images of shape (C, H, W)."""
    return int(np.asarray(fn(np.zeros((1, *image_shape), np.float32))).size)

