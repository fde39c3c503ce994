"""More pooling kernels on raw arrays (no autograd): max-pool indices and unpooling, adaptive
average and max pooling, fractional max pooling.

Indices follow PyTorch: for each (sample, channel) plane, the flat position ``h * W + w`` in the
unpadded input. Like :mod:`striate.kernels.pool`, these work channels-last (NHWC) inside and hand
results back as NCHW-shaped views; gathers and scatters run along the flattened spatial axis of an
(N, H*W, C) array, so every channel of a pixel is one contiguous run.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from . import compiled
from .layout import to_nhwc
from .pool import PoolCache

__all__ = [
    "AdaptiveCache",
    "FractionalCache",
    "adaptive_avg_pool_backward",
    "adaptive_avg_pool_forward",
    "adaptive_max_pool_backward",
    "adaptive_max_pool_forward",
    "adaptive_ranges",
    "fractional_intervals",
    "fractional_max_pool_backward",
    "fractional_max_pool_forward",
    "max_pool_indices",
    "max_unpool_backward",
    "max_unpool_forward",
    "scatter_add_nhwc",
]


def max_pool_indices(cache: PoolCache) -> np.ndarray:
    """Flat input positions ``h * W + w`` of the maxima recorded by ``max_pool_forward``.

    Returns int64 (N, C, Ho, Wo) (an NCHW view of NHWC memory), PyTorch's ``return_indices``.
    """
    arg = cache.arg
    if arg is None:
        raise ValueError("max_pool_indices: the forward ran with need_grad=False")
    kw, (sh, sw), (ph, pw) = cache.kernel[1], cache.stride, cache.pad
    W = cache.x_shape[3]
    if arg.dtype.kind == "u":  # one set bit per window: its position k is log2 of the code
        k = np.frexp(arg.astype(np.float64))[1].astype(np.int64) - 1
    else:
        k = arg.astype(np.int64)
    _, Ho, Wo, _ = arg.shape
    dh, dw = cache.dilation  # offset (i, j) of a dilated window lies (i dh, j dw) from its corner
    h = (k // kw) * dh + (np.arange(Ho) * sh - ph)[:, None, None]
    w = (k % kw) * dw + (np.arange(Wo) * sw - pw)[:, None]
    # a (dilated) window of padding only has no winner (code 0, or arg -1): index -1
    return np.where(arg == 0 if arg.dtype.kind == "u" else arg < 0, -1, h * W + w).transpose(
        0, 3, 1, 2)


def scatter_add_nhwc(idx, vals, n_pos):
    """``out[n, idx[n, k, c], c] += vals[n, k, c]`` for (N, K, C) idx/vals: out (N, n_pos, C).

    One ``bincount`` over global flat positions, so repeated indices add up (overlapping windows).
    """
    N, _, C = idx.shape
    flat = (np.arange(N)[:, None, None] * n_pos + idx) * C + np.arange(C)
    out = np.bincount(flat.ravel(), weights=vals.ravel(), minlength=N * n_pos * C)
    return out.astype(vals.dtype, copy=False).reshape(N, n_pos, C)


def _flat_nhwc(a):
    """(N, C, H, W) -> (N, H*W, C), a view for channels-last memory."""
    N, C, H, W = a.shape
    return to_nhwc(a).reshape(N, H * W, C)  # explicit sizes: -1 is ambiguous when N or C is 0


def max_unpool_forward(x, indices, out_hw):
    """Place each x value at its index in a zero (N, C, Ho, Wo) map (``Ho, Wo = out_hw``).

    x and indices (N, C, H, W); indices are flat positions ``h * Wo + w`` of the output.
    """
    N, C = x.shape[:2]
    Ho, Wo = out_hw
    out = np.zeros((N, Ho * Wo, C), dtype=x.dtype)
    np.put_along_axis(out, _flat_nhwc(indices), _flat_nhwc(x), axis=1)
    return out.reshape(N, Ho, Wo, C).transpose(0, 3, 1, 2)


def max_unpool_backward(dout, indices):
    """Gradient of :func:`max_unpool_forward`: each input reads dout at its index."""
    N, C, H, W = indices.shape
    dx = np.take_along_axis(_flat_nhwc(dout), _flat_nhwc(indices), axis=1)
    return dx.reshape(N, H, W, C).transpose(0, 3, 1, 2)


def adaptive_ranges(size: int, n_out: int):
    """PyTorch's adaptive windows: the i-th covers ``[floor(i size / n), ceil((i+1) size / n))``."""
    i = np.arange(n_out)
    return (i * size) // n_out, -((-(i + 1) * size) // n_out)


class AdaptiveCache(NamedTuple):
    x_shape: tuple
    rows: tuple  # (starts, ends) along H
    cols: tuple  # (starts, ends) along W
    arg: np.ndarray | None = None  # max: flat input index per output, (N, Ho*Wo, C)


def adaptive_avg_pool_forward(x, out_hw):
    """Mean over PyTorch's adaptive windows: (N, C, H, W) -> (N, C, Ho, Wo).

    Windows along H and W are independent, so the sum runs in two passes (Ho row bands, then Wo
    column bands); output 1x1 (global average pooling) is one matrix-vector product.
    """
    N, C, H, W = x.shape
    Ho, Wo = out_hw
    rows, cols = adaptive_ranges(H, Ho), adaptive_ranges(W, Wo)
    cache = AdaptiveCache(x.shape, rows, cols)
    if (Ho, Wo) == (1, 1):
        out = np.ones(H * W, dtype=x.dtype) @ _flat_nhwc(x)  # (N, C)
        out /= H * W
        return out.reshape(N, 1, 1, C).transpose(0, 3, 1, 2), cache
    xv = x.transpose(0, 2, 3, 1)
    band = np.empty((N, Ho, W, C), dtype=x.dtype)
    for i, (s, e) in enumerate(zip(*rows)):
        np.sum(xv[:, s:e], axis=1, out=band[:, i])
        band[:, i] /= e - s
    out = np.empty((N, Ho, Wo, C), dtype=x.dtype)
    for j, (s, e) in enumerate(zip(*cols)):
        np.sum(band[:, :, s:e], axis=2, out=out[:, :, j])
        out[:, :, j] /= e - s
    return out.transpose(0, 3, 1, 2), cache


def adaptive_avg_pool_backward(dout, cache: AdaptiveCache):
    """Gradient of :func:`adaptive_avg_pool_forward`: dout / window size over every window."""
    N, C, H, W = cache.x_shape
    Ho, Wo = dout.shape[2:]
    dv = dout.transpose(0, 2, 3, 1)
    if (Ho, Wo) == (1, 1):
        dx = np.empty((N, H, W, C), dtype=dout.dtype)
        dx[...] = dv / (H * W)
        return dx.transpose(0, 3, 1, 2)
    band = np.zeros((N, Ho, W, C), dtype=dout.dtype)
    for j, (s, e) in enumerate(zip(*cache.cols)):
        band[:, :, s:e] += (dv[:, :, j] / (e - s))[:, :, None]
    dx = np.zeros((N, H, W, C), dtype=dout.dtype)
    for i, (s, e) in enumerate(zip(*cache.rows)):
        dx[:, s:e] += (band[:, i] / (e - s))[:, None]
    return dx.transpose(0, 3, 1, 2)


def adaptive_max_pool_forward(x, out_hw):
    """Max over PyTorch's adaptive windows: (N, C, H, W) -> out (N, C, Ho, Wo), cache.

    One vectorised max per output cell (Ho*Wo of them); ties go to the first element.
    """
    N, C, H, W = x.shape
    Ho, Wo = out_hw
    rows, cols = adaptive_ranges(H, Ho), adaptive_ranges(W, Wo)
    xv = x.transpose(0, 2, 3, 1)
    out = np.empty((N, Ho, Wo, C), dtype=x.dtype)
    arg = np.empty((N, Ho, Wo, C), dtype=np.int64)
    for i, (r0, r1) in enumerate(zip(*rows)):
        for j, (c0, c1) in enumerate(zip(*cols)):
            win = xv[:, r0:r1, c0:c1].reshape(N, (r1 - r0) * (c1 - c0), C)  # N may be 0
            k = win.argmax(axis=1)  # (N, C), the first maximum
            out[:, i, j] = np.take_along_axis(win, k[:, None], axis=1)[:, 0]
            arg[:, i, j] = (r0 + k // (c1 - c0)) * W + c0 + k % (c1 - c0)
    cache = AdaptiveCache(x.shape, rows, cols, arg.reshape(N, Ho * Wo, C))
    return out.transpose(0, 3, 1, 2), cache


def adaptive_max_pool_backward(dout, cache: AdaptiveCache):
    """Gradient of :func:`adaptive_max_pool_forward`: each dout to its window's maximum."""
    N, C, H, W = cache.x_shape
    if compiled.enabled(dout):
        dx = np.zeros((N, H * W, C), dtype=dout.dtype)
        compiled.fractional_max_pool_backward(np.ascontiguousarray(_flat_nhwc(dout)), cache.arg,
                                              dx)
        return dx.reshape(N, H, W, C).transpose(0, 3, 1, 2)
    dx = scatter_add_nhwc(cache.arg, _flat_nhwc(dout), H * W)
    return dx.reshape(N, H, W, C).transpose(0, 3, 1, 2)


def fractional_intervals(samples, in_size: int, out_size: int, pool: int):
    """Graham's pseudo-random window starts, computed as PyTorch does (in samples' dtype).

    samples (...,) in [0, 1) -> int64 (..., out_size): with ``alpha = (in - pool) / (out - 1)``,
    start i is ``int((i + u) alpha) - int(u alpha)``, and the last window ends at the border.
    """
    dt = samples.dtype
    seq = np.empty(samples.shape + (out_size,), dtype=np.int64)
    if out_size > 1:
        alpha = dt.type(in_size - pool) / dt.type(out_size - 1)
        u = samples[..., None]
        i = np.arange(out_size - 1, dtype=dt)
        seq[..., :-1] = ((i + u) * alpha).astype(np.int64) - (u * alpha).astype(np.int64)
    seq[..., -1] = in_size - pool
    return seq


class FractionalCache(NamedTuple):
    x_shape: tuple
    arg: np.ndarray  # flat input index of each output's maximum, (N, Ho*Wo, C)


def fractional_max_pool_forward(x, kernel, out_hw, samples):
    """Fractional max pooling (Graham 2014): (N, C, H, W) -> (N, C, Ho, Wo).

    Each (n, c) plane has its own window starts along H and W from ``samples`` (N, C, 2) in
    [0, 1) (sample 0 for W, sample 1 for H, as PyTorch), windows of ``kernel`` (kh, kw). One
    gather per kernel offset; ties go to the first maximum in row-major order.
    Returns out (NCHW view of NHWC memory), the int64 indices ``h * W + w`` (N, C, Ho, Wo), cache.
    """
    N, C, H, W = x.shape
    (kh, kw), (Ho, Wo) = kernel, out_hw
    seq_w = fractional_intervals(samples[..., 0], W, Wo, kw)  # (N, C, Wo)
    seq_h = fractional_intervals(samples[..., 1], H, Ho, kh)  # (N, C, Ho)
    if compiled.enabled(x):
        xn = to_nhwc(x)
        out = np.empty((N, Ho, Wo, C), dtype=x.dtype)
        arg = np.empty((N, Ho * Wo, C), dtype=np.int64)
        compiled.fractional_max_pool_forward(xn, seq_h, seq_w, kh, kw, out, arg)
        return (out.transpose(0, 3, 1, 2), arg.reshape(N, Ho, Wo, C).transpose(0, 3, 1, 2),
                FractionalCache(x.shape, arg))
    base = seq_h.transpose(0, 2, 1)[:, :, None, :] * W + seq_w.transpose(0, 2, 1)[:, None, :, :]
    base = base.reshape(N, Ho * Wo, C)
    xf = _flat_nhwc(x)
    best = arg = None
    for a in range(kh):
        for b in range(kw):
            idx = base + (a * W + b)
            v = np.take_along_axis(xf, idx, axis=1)
            if best is None:
                best, arg = v, idx
                continue
            better = (v > best) | np.isnan(v)  # strictly greater: the first maximum wins
            best = np.where(better, v, best)
            arg = np.where(better, idx, arg)
    out = best.reshape(N, Ho, Wo, C).transpose(0, 3, 1, 2)
    indices = arg.reshape(N, Ho, Wo, C).transpose(0, 3, 1, 2)
    return out, indices, FractionalCache(x.shape, arg)


def fractional_max_pool_backward(dout, cache: FractionalCache):
    """Gradient of :func:`fractional_max_pool_forward`; overlapping windows add up."""
    N, C, H, W = cache.x_shape
    if compiled.enabled(dout):
        dx = np.zeros((N, H * W, C), dtype=dout.dtype)
        compiled.fractional_max_pool_backward(np.ascontiguousarray(_flat_nhwc(dout)), cache.arg,
                                              dx)
        return dx.reshape(N, H, W, C).transpose(0, 3, 1, 2)
    dx = scatter_add_nhwc(cache.arg, _flat_nhwc(dout), H * W)
    return dx.reshape(N, H, W, C).transpose(0, 3, 1, 2)
