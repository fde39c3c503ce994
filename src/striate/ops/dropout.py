"""Dropout: inverted dropout, as in the course. Training keeps each unit with probability 1 - p and
scales the kept ones by 1 / (1 - p), so the expected activation is unchanged and evaluation is the
identity. The mask comes from striate's one seeded generator (``striate.manual_seed``).
"""

from __future__ import annotations

import numbers

import numpy as np

from .. import backend
from ..autograd.function import Function
from ..autograd.grad_mode import is_grad_enabled
from ..autograd.tensor import Tensor

__all__ = ["dropout"]


def _mask(shape, p, dtype):
    """Kept units scaled by 1 / (1 - p), dropped ones 0, drawn from the seeded generator."""
    if p >= 1:
        return np.zeros(shape, dtype=dtype)
    u = backend.random_rows(shape, np.float64 if dtype == np.float64 else np.float32)
    return np.multiply(u >= p, 1 / (1 - p), dtype=dtype)


class Dropout(Function):
    @staticmethod
    def forward(ctx, x, p):
        m = _mask(x.shape, p, x.dtype)
        ctx.save_for_backward(m)
        return x * m

    @staticmethod
    def backward(ctx, g):
        # d(x m)/dx = m: 1 / (1 - p) where the unit was kept, 0 where it was dropped
        (m,) = ctx.saved
        return g * m


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Inverted dropout: zero each element with probability ``p`` and scale the others by
    ``1 / (1 - p)`` in training; the identity (the input itself) when not training or p = 0.

    Args:
        input: any shape. p: drop probability in [0, 1] (p = 1 gives zeros).
        inplace: overwrite input's array when no gradient is being recorded through it;
            otherwise a new tensor is returned (the graph needs the input intact).
    Returns a tensor of input's shape.

    Example:
        >>> import striate, striate.functional as F
        >>> y = F.dropout(striate.ones(1000), p=0.5)
        >>> sorted(set(y.tolist()))
        [0.0, 2.0]
    """
    if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout: p must be a probability in [0, 1], got {p!r}")
    if not training or p == 0:
        return input
    if inplace and not (input.requires_grad and is_grad_enabled()):
        input.array *= _mask(input.shape, p, input.dtype)
        return input
    return Dropout.apply(input, p=float(p))
