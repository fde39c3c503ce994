"""Pooling beyond fixed windows: ``adaptive_avg_pool2d`` (global average pooling at output 1),
``adaptive_max_pool2d``, ``fractional_max_pool2d`` and ``max_unpool2d``, with
``torch.nn.functional``'s signatures.

The gradients, in words: an average shares its upstream gradient equally over its window; a max
passes it to the element that won (windows may overlap, and then the shares add up); unpooling
places each value at a recorded index, so its gradient reads the upstream gradient back at that
index. The kernels are in :mod:`striate.kernels.pool_extra`.
"""

from __future__ import annotations

import numbers

import numpy as np

from .. import backend
from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ..kernels import pool_extra as K
from ._helpers import array_of as _array  # the shared checks
from ._helpers import pair_arg as _check_pair

__all__ = [
    "adaptive_avg_pool2d",
    "adaptive_max_pool2d",
    "fractional_max_pool2d",
    "max_unpool2d",
]


def _check_4d(fn, input):
    x = _array(input)
    if x.ndim != 4:
        raise ValueError(
            f"{fn}: input must be 4-D (N, C, H, W), got shape {x.shape}"
            + (" (add a batch dimension with unsqueeze(0))" if x.ndim == 3 else "")
        )
    if x.dtype.kind != "f":
        raise TypeError(f"{fn}: input must be a floating tensor, got dtype {x.dtype}")
    return x


def _output_hw(fn, output_size, hw):
    """An int, or a pair whose None entries keep the input's size."""
    if isinstance(output_size, (tuple, list)) and len(output_size) == 2:
        output_size = tuple(hw[i] if v is None else v for i, v in enumerate(output_size))
    return _check_pair(output_size, "output_size", fn, 1)


class AdaptiveAvgPool2d(Function):
    @staticmethod
    def forward(ctx, x, out_hw):
        out, ctx.cache = K.adaptive_avg_pool_forward(x, out_hw)
        return out

    @staticmethod
    def backward(ctx, g):
        # d mean(window)/dx = 1 / |window| for each element of each window it belongs to
        return K.adaptive_avg_pool_backward(g, ctx.cache)


class AdaptiveMaxPool2d(Function):
    """Two outputs: the maxima and their int64 flat positions ``h * W + w``."""

    @staticmethod
    def forward(ctx, x, out_hw):
        out, ctx.cache = K.adaptive_max_pool_forward(x, out_hw)
        N, C, Ho, Wo = out.shape
        return out, ctx.cache.arg.reshape(N, Ho, Wo, C).transpose(0, 3, 1, 2)

    @staticmethod
    def backward(ctx, g, g_indices):
        # d max(window)/dx = 1 at the recorded winner, 0 elsewhere; the indices have no gradient
        return K.adaptive_max_pool_backward(g, ctx.cache)


class FractionalMaxPool2d(Function):
    """Two outputs: the maxima and their int64 flat positions ``h * W + w``."""

    @staticmethod
    def forward(ctx, x, kernel, out_hw, samples):
        out, indices, ctx.cache = K.fractional_max_pool_forward(x, kernel, out_hw, samples)
        return out, indices

    @staticmethod
    def backward(ctx, g, g_indices):
        # d max(window)/dx = 1 at the recorded winner, 0 elsewhere
        return K.fractional_max_pool_backward(g, ctx.cache)


class MaxUnpool2d(Function):
    @staticmethod
    def forward(ctx, x, idx, out_hw):
        ctx.idx = idx
        return K.max_unpool_forward(x, idx, out_hw)

    @staticmethod
    def backward(ctx, g):
        # unpooling places each value at its index: its gradient reads g back at that index
        return K.max_unpool_backward(g, ctx.idx)


def adaptive_avg_pool2d(input: Tensor, output_size) -> Tensor:
    """Average over a grid of ``output_size`` windows that tile the input, as PyTorch: window i
    along H covers ``[floor(i H / Ho), ceil((i + 1) H / Ho))``, likewise along W.

    Args:
        input: (N, C, H, W), floating.
        output_size: int or (Ho, Wo) (None keeps that input size). 1 is global average pooling.
    Returns:
        (N, C, Ho, Wo).

    Example:
        >>> import striate, striate.functional as F
        >>> F.adaptive_avg_pool2d(striate.arange(16.0).reshape(1, 1, 4, 4), 1).tolist()
        [[[[7.5]]]]
    """
    x = _check_4d("adaptive_avg_pool2d", input)
    out_hw = _output_hw("adaptive_avg_pool2d", output_size, x.shape[2:])
    return AdaptiveAvgPool2d.apply(input, out_hw=out_hw)


def adaptive_max_pool2d(input: Tensor, output_size, return_indices: bool = False):
    """Maximum over PyTorch's adaptive windows (see :func:`adaptive_avg_pool2d`).

    Args:
        input: (N, C, H, W), floating. output_size: int or (Ho, Wo).
        return_indices: also return the int64 flat positions ``h * W + w`` of the maxima.
    Returns:
        (N, C, Ho, Wo), and the indices of the same shape if asked.
    """
    x = _check_4d("adaptive_max_pool2d", input)
    out_hw = _output_hw("adaptive_max_pool2d", output_size, x.shape[2:])
    y, indices = AdaptiveMaxPool2d.apply(input, out_hw=out_hw)
    return (y, indices) if return_indices else y


def fractional_max_pool2d(input: Tensor, kernel_size, output_size=None, output_ratio=None,
                          return_indices: bool = False, _random_samples=None):
    """Fractional max pooling (Graham 2014): max over pseudo-random, overlapping windows of
    ``kernel_size`` whose starts step by 1 or 2 so that the output is ``output_size`` (or
    ``int(input size * output_ratio)``), a reduction by a non-integer factor such as sqrt(2).

    Args:
        input: (N, C, H, W), floating.
        kernel_size: int or (kh, kw), the window (Graham: 2).
        output_size: int or (Ho, Wo); or instead output_ratio: float or pair in (0, 1).
        return_indices: also return the int64 flat positions ``h * W + w`` of the maxima.
        _random_samples: (N, C, 2) values in [0, 1) fixing each plane's windows (sample 0 for
            W, 1 for H, as PyTorch); by default drawn from striate's seeded generator.
    Returns:
        (N, C, Ho, Wo), and the indices if asked.
    """
    fn = "fractional_max_pool2d"
    x = _check_4d(fn, input)
    N, C, H, W = x.shape
    kh, kw = _check_pair(kernel_size, "kernel_size", fn, 1)
    if (output_size is None) == (output_ratio is None):
        raise ValueError(f"{fn}: give exactly one of output_size and output_ratio")
    if output_size is None:
        ratio = (output_ratio, output_ratio) if isinstance(output_ratio, numbers.Real) \
            else tuple(output_ratio)
        if len(ratio) != 2 or not all(0 < r < 1 for r in ratio):
            raise ValueError(f"{fn}: output_ratio must be in (0, 1), got {output_ratio!r}")
        output_size = (int(H * ratio[0]), int(W * ratio[1]))
    Ho, Wo = _check_pair(output_size, "output_size", fn, 1)
    if Ho + kh - 1 > H or Wo + kw - 1 > W:
        raise ValueError(
            f"{fn}: output_size {(Ho, Wo)} plus kernel_size {(kh, kw)} minus 1 exceeds the "
            f"input size {(H, W)} (input shape {x.shape})"
        )
    if _random_samples is None:
        samples = backend.get_rng().random((N, C, 2)).astype(x.dtype)
    else:
        samples = np.asarray(_array(_random_samples), dtype=x.dtype)
        if samples.shape != (N, C, 2):
            raise ValueError(
                f"{fn}: _random_samples must have shape {(N, C, 2)}, got {samples.shape}"
            )
        if samples.size and (samples.min() < 0 or samples.max() >= 1):
            raise ValueError(f"{fn}: _random_samples must lie in [0, 1)")
    y, indices = FractionalMaxPool2d.apply(input, kernel=(kh, kw), out_hw=(Ho, Wo),
                                           samples=samples)
    return (y, indices) if return_indices else y


def max_unpool2d(input: Tensor, indices: Tensor, kernel_size, stride=None, padding=0,
                 output_size=None) -> Tensor:
    """Partial inverse of ``max_pool2d``: each value goes back to the position its maximum came
    from (``indices`` from ``max_pool2d(..., return_indices=True)``), zeros elsewhere.

    Args:
        input: (N, C, H, W), floating. indices: int (N, C, H, W), flat positions ``h * Wo + w``.
        kernel_size, stride (default kernel_size), padding: those of the pooling.
        output_size: (Ho, Wo) (or a longer shape ending in them); by default
            ``(H - 1) * stride - 2 * padding + kernel_size``, likewise Wo.
    Returns:
        (N, C, Ho, Wo).

    Example:
        >>> import striate, striate.functional as F
        >>> x = striate.tensor([[[[1.0, 4.0], [3.0, 2.0]]]])
        >>> y, i = F.max_pool2d(x, 2, return_indices=True)
        >>> F.max_unpool2d(y, i, 2).tolist()
        [[[[0.0, 4.0], [0.0, 0.0]]]]
    """
    fn = "max_unpool2d"
    x = _check_4d(fn, input)
    idx = _array(indices)
    if idx.shape != x.shape:
        raise ValueError(f"{fn}: indices must have input's shape {x.shape}, got {idx.shape}")
    if idx.dtype.kind not in "iu":
        raise TypeError(f"{fn}: indices must be integers, got dtype {idx.dtype}")
    kh, kw = _check_pair(kernel_size, "kernel_size", fn, 1)
    sh, sw = (kh, kw) if stride is None else _check_pair(stride, "stride", fn, 1)
    ph, pw = _check_pair(padding, "padding", fn, 0)
    H, W = x.shape[2:]
    if output_size is None:
        out_hw = ((H - 1) * sh - 2 * ph + kh, (W - 1) * sw - 2 * pw + kw)
    else:
        out_hw = _check_pair(tuple(output_size)[-2:], "output_size", fn, 1)
    n_pos = out_hw[0] * out_hw[1]
    if idx.size and (idx.min() < 0 or idx.max() >= n_pos):
        raise ValueError(
            f"{fn}: indices must lie in [0, {n_pos}) for the output size {out_hw}, got values "
            f"in [{idx.min()}, {idx.max()}]"
        )
    idx = idx.astype(np.int64, copy=False)
    return MaxUnpool2d.apply(input, idx=idx, out_hw=out_hw)
