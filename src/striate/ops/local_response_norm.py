"""Local response normalization (AlexNet's NORM layer, Krizhevsky et al. 2012), PyTorch's formula:

    b_c = a_c / (k + alpha / n * sum_{c' = c - n//2}^{c + (n-1)//2} a_{c'}^2) ** beta

with n = ``size`` and channels outside [0, C) counting as zero. Each activation is damped by the
energy of its neighbours across channels at the same pixel ("lateral inhibition").
"""

from __future__ import annotations

import numbers

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import Tensor

__all__ = ["local_response_norm"]


def _channel_window_sum(a, lo, hi):
    """``out[:, c] = sum_{o = lo}^{hi} a[:, c + o]`` over dim 1, terms outside [0, C) being 0."""
    c = a.shape[1]
    out = np.zeros_like(a)  # keeps a's memory layout (channels-last stays channels-last)
    for o in range(lo, hi + 1):
        if o >= c or -o >= c:
            continue
        if o >= 0:
            out[:, : c - o] += a[:, o:]
        else:
            out[:, -o:] += a[:, : c + o]
    return out


class LocalResponseNorm(Function):
    @staticmethod
    def forward(ctx, x, size, alpha, beta, k):
        s = _channel_window_sum(x * x, -(size // 2), (size - 1) // 2)
        d = k + (alpha / size) * s  # the denominator before the power
        scale = d ** -beta
        ctx.save_for_backward(x, d, scale)
        ctx.params = size, alpha, beta
        return x * scale

    @staticmethod
    def backward(ctx, g):
        # y_c = x_c d_c^-beta with d_c = k + alpha/n sum_{window(c)} x^2, so
        # dx_j = g_j d_j^-beta
        #        - (2 alpha beta / n) x_j sum_{c: j in window(c)} g_c x_c d_c^(-beta-1),
        # and j lies in window(c) exactly when c lies in the mirrored window of j
        x, d, scale = ctx.saved
        size, alpha, beta = ctx.params
        t = g * x * scale / d
        back = _channel_window_sum(t, -((size - 1) // 2), size // 2)
        return g * scale - (2 * alpha * beta / size) * x * back


def local_response_norm(input: Tensor, size: int, alpha: float = 1e-4, beta: float = 0.75,
                        k: float = 1.0) -> Tensor:
    """Normalise each activation by the squared activations of ``size`` neighbouring channels.

    Args:
        input: (N, C, *) with at least 3 dims, e.g. (N, C, H, W); floating.
        size: number of channels in the window (AlexNet: 5).
        alpha, beta, k: the formula's constants (AlexNet: 1e-4, 0.75, 2).
    Returns a tensor of input's shape.

    Example:
        >>> import striate, striate.functional as F
        >>> F.local_response_norm(striate.ones(1, 3, 1, 1), size=3, alpha=3.0, beta=1.0).tolist()
        [[[[0.3333333432674408]], [[0.25]], [[0.3333333432674408]]]]
    """
    if isinstance(size, bool) or not isinstance(size, numbers.Integral) or size < 1:
        raise ValueError(f"local_response_norm: size must be a positive int, got {size!r}")
    if input.ndim < 3:
        raise ValueError(
            f"local_response_norm: input must have at least 3 dims (N, C, *), got shape "
            f"{input.shape}"
        )
    if input.dtype.kind != "f":
        raise TypeError(f"local_response_norm: input must be floating, got dtype {input.dtype}")
    return LocalResponseNorm.apply(input, size=int(size), alpha=float(alpha), beta=float(beta),
                                   k=float(k))
