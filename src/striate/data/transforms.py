"""Transforms: callables that turn images (or batches of them) into network inputs.

Every transform takes one image (C, H, W) or a batch (N, C, H, W), as a NumPy array or a
``Tensor``, and returns the same kind (``ToTensor`` always returns a Tensor). They run in the
DataLoader's prefetch thread on whole batches, so they are vectorised over N.

``Normalize.fit(train_X)`` computes the course's preprocessing statistics (per-channel mean and
std, or the mean image) on the training set only; the fitted transform is then applied unchanged
to validation and test data, and saved in checkpoints (``state_dict``, or JSON-safe ``to_dict``)
so that prediction applies exactly the same preprocessing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from .. import backend
from ..autograd.tensor import Tensor

__all__ = ["Compose", "Lambda", "Normalize", "ToTensor", "Transform", "transform_from_dict"]

_REGISTRY: dict[str, type] = {}


class Transform:
    """Base class: subclasses define ``apply(array) -> array``; ``__call__`` unwraps Tensors."""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        _REGISTRY[cls.__name__] = cls

    def __call__(self, x):
        if isinstance(x, Tensor):
            return Tensor(self.apply(x.array))
        return self.apply(np.asarray(x))

    def apply(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError(f"{type(self).__name__}.apply is not defined")

    def to_dict(self) -> dict:
        """A JSON-safe description that :func:`transform_from_dict` turns back into this."""
        return {"type": type(self).__name__}

    @classmethod
    def _from_dict(cls, d: dict) -> Transform:
        return cls()

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


def transform_from_dict(d: dict) -> Transform:
    """Rebuild a transform from :meth:`Transform.to_dict` (e.g. read from a checkpoint)."""
    if not isinstance(d, dict) or "type" not in d:
        raise ValueError(f"transform_from_dict: expected a dict with a 'type' key, got {d!r}")
    cls = _REGISTRY.get(d["type"])
    if cls is None:
        raise ValueError(
            f"transform_from_dict: unknown transform type {d['type']!r}; known: {sorted(_REGISTRY)}"
        )
    return cls._from_dict(d)


class Compose(Transform):
    """Apply transforms one after the other: ``Compose([ToTensor(), Normalize(m, s)])``."""

    def __init__(self, transforms: Sequence[Callable]):
        transforms = list(transforms)
        for k, t in enumerate(transforms):
            if not callable(t):
                raise TypeError(f"Compose: transform {k} must be callable, got {type(t).__name__}")
        self.transforms = transforms

    @property
    def needs_rng(self) -> bool:
        """Whether a transform inside is random (then the DataLoader passes a generator)."""
        return any(getattr(t, "needs_rng", False) for t in self.transforms)

    def __call__(self, x, rng=None):
        for t in self.transforms:
            # random transforms (striate.data.augment) take the generator they must draw from
            x = t(x, rng) if rng is not None and getattr(t, "needs_rng", False) else t(x)
        return x

    def apply(self, x: np.ndarray) -> np.ndarray:
        return self(x)

    def to_dict(self) -> dict:
        for t in self.transforms:
            if not isinstance(t, Transform):
                raise TypeError(
                    f"Compose.to_dict: {t!r} is not a striate Transform and cannot be saved"
                )
        return {"type": "Compose", "transforms": [t.to_dict() for t in self.transforms]}

    @classmethod
    def _from_dict(cls, d: dict) -> Compose:
        return cls([transform_from_dict(t) for t in d["transforms"]])

    def __repr__(self) -> str:
        inner = ", ".join(repr(t) for t in self.transforms)
        return f"Compose([{inner}])"


class Lambda(Transform):
    """Wrap a function ``fn(x) -> x`` as a transform (it cannot be saved with ``to_dict``)."""

    def __init__(self, fn: Callable):
        if not callable(fn):
            raise TypeError(f"Lambda: fn must be callable, got {type(fn).__name__}")
        self.fn = fn

    def __call__(self, x):
        return self.fn(x)

    def apply(self, x: np.ndarray) -> np.ndarray:
        return self.fn(x)

    def to_dict(self) -> dict:
        raise TypeError(
            "Lambda.to_dict: a Lambda transform holds a Python function and cannot "
            "be saved; write a Transform subclass instead"
        )

    @classmethod
    def _from_dict(cls, d: dict) -> Lambda:
        raise TypeError("transform_from_dict: a Lambda transform cannot be rebuilt from a dict")


def _pil_to_array(img) -> np.ndarray:
    # palette and other exotic modes hold indices or other colour spaces: go through RGB
    if img.mode not in ("1", "L", "RGB", "RGBA", "I", "I;16", "F"):
        img = img.convert("RGB")
    return np.asarray(img)


class ToTensor(Transform):
    """An image in channels-last layout -> a float Tensor in channels-first layout.

    (H, W) -> (1, H, W); (H, W, C) -> (C, H, W); a batch (N, H, W, C) -> (N, C, H, W). uint8
    values are divided by 255 (uint16 by 65535) into [0, 1]; bool becomes 0/1; other dtypes are
    cast to the default float dtype without scaling, as torchvision does. PIL images are
    accepted. A batch of grayscale images needs its channel axis, (N, H, W, 1): a 3-D array is
    always read as one (H, W, C) image.

    Example:
        >>> import numpy as np
        >>> ToTensor()(np.full((4, 5, 3), 255, np.uint8)).shape
        (3, 4, 5)
    """

    def __call__(self, x) -> Tensor:
        if type(x).__module__.startswith("PIL."):
            x = _pil_to_array(x)
        elif isinstance(x, Tensor):
            x = x.array
        return Tensor(self.apply(np.asarray(x)))

    def apply(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x)
        if x.ndim == 2:
            x = x[None]
        elif x.ndim == 3:
            x = x.transpose(2, 0, 1)
        elif x.ndim == 4:
            x = x.transpose(0, 3, 1, 2)
        else:
            raise ValueError(
                f"ToTensor: expected an image (H, W) or (H, W, C), or a batch (N, H, W, C), "
                f"got shape {x.shape}"
            )
        x = np.ascontiguousarray(x)  # transpose the narrow dtype, before it widens to float
        dtype = backend.get_default_dtype()
        if x.dtype == np.uint8:
            return np.divide(x, 255, dtype=dtype)
        if x.dtype == np.uint16:
            return np.divide(x, 65535, dtype=dtype)
        if x.dtype.kind in "biuf":
            return x.astype(dtype)
        raise TypeError(f"ToTensor: cannot convert an array of dtype {x.dtype} to floats")


def _stats_array(v, what: str) -> np.ndarray:
    if isinstance(v, Tensor):
        v = v.array
    a = np.array(v, dtype=np.float64)
    if a.dtype.kind != "f" or not np.all(np.isfinite(a)):
        raise ValueError(f"Normalize: {what} must be finite numbers, got {v!r}")
    return a


class Normalize(Transform):
    """``(x - mean) / std``, per channel as torchvision does, or per pixel for a mean image.

    Args:
        mean, std: numbers (all channels), sequences of length C (one per channel: reshaped to
            (C, 1, 1) and broadcast over H, W), or arrays broadcastable against one sample, e.g.
            a mean image (C, H, W).

    Inputs are one sample (C, H, W) or a batch (N, C, H, W) of floats; the output keeps x's
    dtype. ``Normalize.fit(train_X)`` builds one from the training set's statistics.

    Raises:
        ValueError: a std that is zero or negative; an input whose trailing shape does not match
            the statistics.
    """

    def __init__(self, mean, std):
        mean = _stats_array(mean, "mean")
        std = _stats_array(std, "std")
        # a plain per-channel list means (C,) over the channel axis of a (C, H, W) image
        if mean.ndim == 1:
            mean = mean.reshape(-1, 1, 1)
        if std.ndim == 1:
            std = std.reshape(-1, 1, 1)
        self._set(mean, std)

    def _set(self, mean: np.ndarray, std: np.ndarray) -> None:
        try:
            np.broadcast_shapes(mean.shape, std.shape)
        except ValueError:
            raise ValueError(
                f"Normalize: mean of shape {mean.shape} and std of shape {std.shape} do not "
                f"broadcast together"
            ) from None
        if np.any(std <= 0):
            raise ValueError(f"Normalize: std must be positive everywhere, got min {std.min()}")
        self.mean = mean
        self.std = std

    @classmethod
    def _from_stats(cls, mean: np.ndarray, std: np.ndarray) -> Normalize:
        obj = cls.__new__(cls)
        obj._set(_stats_array(mean, "mean"), _stats_array(std, "std"))
        return obj

    @classmethod
    def fit(cls, X, per_channel: bool = True, scale: bool = True, eps: float = 1e-8) -> Normalize:
        """Fit the statistics on training data X of shape (N, C, H, W) (or (N, D)).

        Args:
            X: the training inputs (an array or a Tensor), N >= 1.
            per_channel: True: mean and std over N, H, W for each channel -> shape (C, 1, 1)
                ((D,) for (N, D) data). False: the mean image and per-pixel std over N ->
                shape (C, H, W).
            scale: divide by the std (True) or only subtract the mean (False).
            eps: a std below eps (a constant channel or pixel) is replaced by 1.

        Returns:
            A Normalize to apply unchanged to the training, validation and test inputs.
        """
        if isinstance(X, Tensor):
            X = X.array
        X = np.asarray(X)
        if X.ndim < 2 or X.shape[0] == 0:
            raise ValueError(
                f"Normalize.fit: X must be a non-empty batch (N, C, H, W) or (N, D), got shape "
                f"{X.shape}"
            )
        if X.dtype.kind not in "biuf":
            raise TypeError(f"Normalize.fit: X must be numeric, got dtype {X.dtype}")
        axes = (0, *range(2, X.ndim)) if per_channel else (0,)
        mean, var = _moments(X, axes)
        std = np.sqrt(var) if scale else np.ones_like(mean)
        std = np.where(std < eps, 1.0, std)
        return cls._from_stats(mean, std)

    def apply(self, x: np.ndarray) -> np.ndarray:
        if x.dtype.kind != "f":
            raise TypeError(
                f"Normalize: input must be floating point, got dtype {x.dtype}; apply ToTensor "
                f"first"
            )
        stat_shape = np.broadcast_shapes(self.mean.shape, self.std.shape)
        ok = x.ndim >= len(stat_shape)
        if ok:
            try:
                ok = np.broadcast_shapes(x.shape, stat_shape) == x.shape
            except ValueError:
                ok = False
        if not ok:
            raise ValueError(
                f"Normalize: input of shape {x.shape} does not match statistics of shape "
                f"{stat_shape} (one sample's trailing dimensions must match, e.g. (C, H, W))"
            )
        out = np.subtract(x, self.mean.astype(x.dtype), dtype=x.dtype)
        return np.divide(out, self.std.astype(x.dtype), out=out)

    def inverse(self, x):
        """Undo the normalization, ``x * std + mean`` (e.g. to show an input as an image)."""
        arr = x.array if isinstance(x, Tensor) else np.asarray(x)
        out = arr * self.std.astype(arr.dtype) + self.mean.astype(arr.dtype)
        return Tensor(out) if isinstance(x, Tensor) else out

    def state_dict(self) -> dict:
        """The statistics as float64 arrays (copies), for a checkpoint."""
        return {"mean": self.mean.copy(), "std": self.std.copy()}

    def load_state_dict(self, state: dict) -> None:
        """Replace the statistics with those of :meth:`state_dict` (shapes kept as saved)."""
        missing = {"mean", "std"} - set(state)
        if missing:
            raise KeyError(f"Normalize.load_state_dict: missing keys {sorted(missing)}")
        self._set(_stats_array(state["mean"], "mean"), _stats_array(state["std"], "std"))

    def to_dict(self) -> dict:
        return {"type": "Normalize", "mean": self.mean.tolist(), "std": self.std.tolist()}

    @classmethod
    def _from_dict(cls, d: dict) -> Normalize:
        return cls._from_stats(np.array(d["mean"]), np.array(d["std"]))

    def __repr__(self) -> str:
        if self.mean.size <= 4 and self.std.size <= 4:
            m = np.round(self.mean.ravel(), 4).tolist()
            s = np.round(self.std.ravel(), 4).tolist()
            return f"Normalize(mean={m}, std={s})"
        return f"Normalize(mean shape {self.mean.shape}, std shape {self.std.shape})"


def _moments(X: np.ndarray, axes: tuple) -> tuple[np.ndarray, np.ndarray]:
    """Mean and (population) variance over ``axes`` (axis 0 included) in float64, by chunks of
    samples so that a large uint8 dataset is never widened to float64 all at once.
    Shapes: X (N, *S) -> two arrays of shape S with the reduced axes kept as size 1."""
    n = X.shape[0]
    per_sample = max(1, int(np.prod(X.shape[1:])))
    chunk = max(1, (1 << 22) // per_sample)  # about 32 MB of float64 per chunk
    count = n * int(np.prod([X.shape[a] for a in axes if a != 0], dtype=np.int64))
    total = None
    for start in range(0, n, chunk):
        part = X[start : start + chunk].sum(axis=axes, keepdims=True, dtype=np.float64)
        total = part if total is None else total + part
    mean = total / count
    # a second pass around the mean: sum((x - mean)^2) is stabler than E[x^2] - mean^2
    sq = None
    for start in range(0, n, chunk):
        d = X[start : start + chunk].astype(np.float64) - mean
        part = np.square(d, out=d).sum(axis=axes, keepdims=True)
        sq = part if sq is None else sq + part
    return mean[0], (sq / count)[0]
