"""Random sampling with torch's names: ``randn_like``, ``rand_like``, ``multinomial``, ``normal``.

Every draw comes from striate's one seeded generator (``striate.manual_seed``), so a seed fixes
them as it fixes initialisation and dropout. None is differentiable (samples are constants; the
reparameterised draws of ``striate.distributions`` build on ``randn_like``).
"""

from __future__ import annotations

import numpy as np

from .. import backend
from ..autograd.tensor import Tensor, takes_device

__all__ = ["multinomial", "rand_like", "randn_like"]


def _float_dtype(input: Tensor, dtype, name: str):
    """The samples' dtype: ``dtype``, else input's, which must be floating (as in PyTorch: there
    are no uniform or normal integers)."""
    dtype = np.dtype(dtype) if dtype is not None else input.dtype
    if dtype.kind != "f":
        raise TypeError(f"{name}: samples must have a floating dtype, got {dtype} (give "
                        "dtype=striate.float32 for an integer or bool input)")
    return dtype


@takes_device
def randn_like(input: Tensor, dtype=None, requires_grad: bool = False) -> Tensor:
    """Standard normal samples with ``input``'s shape (and dtype unless ``dtype`` is given)."""
    dtype = _float_dtype(input, dtype, "randn_like")
    a = backend.get_rng().standard_normal(tuple(input.shape)).astype(dtype)
    return Tensor(a, requires_grad=requires_grad)


@takes_device
def rand_like(input: Tensor, dtype=None, requires_grad: bool = False) -> Tensor:
    """Uniform samples in [0, 1) with ``input``'s shape (and dtype unless ``dtype`` is given)."""
    dtype = _float_dtype(input, dtype, "rand_like")
    a = backend.get_rng().random(tuple(input.shape)).astype(dtype)
    return Tensor(a, requires_grad=requires_grad)


def multinomial(input: Tensor, num_samples: int, replacement: bool = False,
                generator=None) -> Tensor:
    """Draw category indices with probabilities proportional to the rows of ``input``.

    Args:
        input: non-negative weights, shape ``(C,)`` or ``(N, C)`` (need not sum to one).
        num_samples: draws per row; without replacement at most the number of non-zero weights.
        replacement: draw with replacement.
        generator: accepted for PyTorch compatibility; striate's generator is used.

    Returns:
        int64 tensor of shape ``(num_samples,)`` or ``(N, num_samples)``.

    Raises:
        ValueError: negative, non-finite or all-zero weights, or too many draws without
            replacement.
    """
    del generator
    w = np.asarray(input.array if isinstance(input, Tensor) else input, dtype=np.float64)
    if w.ndim not in (1, 2):
        raise ValueError(f"multinomial: input must be 1-D or 2-D, got shape {w.shape}")
    if w.shape[-1] == 0:
        raise ValueError(f"multinomial: input has no categories to draw from (shape {w.shape})")
    rows = w.reshape(-1, w.shape[-1])
    if not np.all(np.isfinite(rows)) or np.any(rows < 0):
        raise ValueError("multinomial: weights must be finite and >= 0")
    totals = rows.sum(axis=1)
    if np.any(totals <= 0):
        raise ValueError("multinomial: a row of weights sums to 0")
    if not replacement and num_samples > int((rows > 0).sum(axis=1).min()):
        raise ValueError(f"multinomial: cannot draw {num_samples} samples without replacement "
                         f"from {int((rows > 0).sum(axis=1).min())} non-zero weights")
    rng = backend.get_rng()
    out = np.stack([rng.choice(rows.shape[1], size=num_samples, replace=replacement,
                               p=r / r.sum()) for r in rows]).astype(np.int64)
    return Tensor(out.reshape(w.shape[:-1] + (num_samples,)))


__all__ += ["randint"]


@takes_device
def randint(*args, size=None, dtype=np.int64, requires_grad: bool = False,
            generator=None) -> Tensor:
    """Uniform integers in ``[low, high)``, parsed as PyTorch does.

    ``randint(high, size)``, ``randint(low, high, size)``, or with ``size=`` as a keyword.

    Raises:
        TypeError: the arguments fit neither form.
        ValueError: ``low >= high``.
    """
    del generator
    args = list(args)
    if size is None:
        if not args or not isinstance(args[-1], (tuple, list)):
            raise TypeError("randint: expected (high, size) or (low, high, size), with size a "
                            f"tuple; got {tuple(args)!r}")
        size = args.pop()
    if len(args) == 1:
        low, high = 0, args[0]
    elif len(args) == 2:
        low, high = args
    else:
        raise TypeError(f"randint: expected (high, size) or (low, high, size), got {len(args)} "
                        "positional bounds")
    if not low < high:
        raise ValueError(f"randint: low must be < high, got low={low}, high={high}")
    a = backend.get_rng().integers(int(low), int(high), size=tuple(size)).astype(dtype)
    return Tensor(a, requires_grad=requires_grad)
