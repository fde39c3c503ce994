"""Batch normalization on raw arrays, fast: ``batch_stats(x)``, ``batchnorm_forward(x, gamma, beta,
stats, eps) -> out, cache`` and ``batchnorm_backward(dout, cache) -> dx, dgamma, dbeta``; the
formulas are the course's, stated in :mod:`striate.ops.normalization`.

How. NCHW-contiguous input is worked on as an (N, C*M) view, M = H*W (no transposed copies):
per-channel sums are two matrix-vector products (``ones @ a`` is several times faster than
``a.sum(0)``) and per-channel constants are repeated into one (C*M,) row, so every elementwise
operation broadcasts over rows only, with both operands contiguous. The arithmetic stays in the
input's dtype.

Channels-last input (:mod:`striate.kernels.layout`: the NCHW view of NHWC memory that the
convolution kernels return) is worked on as (R, K*C) rows of whole pixels instead, and its output
and gradient keep that layout: a reshape to (N, C*M) would copy it and hand the next convolution
an NCHW array to transpose back. Such input goes to the compiled loops when numba is installed
(:mod:`striate.kernels.compiled`: in training two passes over the activations each way instead
of about ten; in eval one).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from . import compiled
from .layout import nchw_view, nhwc_view_if_channels_last, to_nhwc

__all__ = ["BatchNormCache", "BatchStats", "batch_stats", "batchnorm_backward", "batchnorm_forward",
           "channel_plane", "channel_sum", "fixed_stats"]


class BatchStats(NamedTuple):
    """Per-channel statistics to normalise with: the batch's (``batch_stats``, which depend on x)
    or the running estimates (``fixed_stats``, constants)."""

    mean: np.ndarray  # (C,) in x's dtype
    var: np.ndarray  # (C,) biased (the batch's), in x's dtype
    count: int  # values per channel, N*H*W
    from_batch: bool  # True: computed from x, so the backward differentiates through them
    # the statistics pass of the NumPy path leaves x centred, (x - mean) as rows, and a buffer of
    # the same size; the forward reuses both (None on the compiled path and for fixed stats)
    work: tuple | None = None


class BatchNormCache(NamedTuple):
    """What :func:`batchnorm_backward` needs."""

    mode: str  # "rows" (NumPy) or "fused" (compiled, channels-last, training)
    x: np.ndarray  # rows of x - mean (rows, training), of x (rows, eval), (P, C) of x (fused)
    inv_std: np.ndarray  # (C,)
    gamma: np.ndarray | None
    mean: np.ndarray  # (C,)
    count: int
    m: int  # rows mode: values per channel in a row
    last: bool  # rows mode: channels-last rows
    from_batch: bool


def channel_sum(a, c, last=False):
    """Sum a 2-D array over its rows and, per channel, along them: shape (C,). Rows are
    channel-major (N, C*M) or, with ``last``, channels-last (R, K*C): K pixels of C channels."""
    n, cm = a.shape
    s = np.ones(n, dtype=a.dtype) @ a
    if cm == c:
        return s
    if last:
        return np.ones(cm // c, dtype=a.dtype) @ s.reshape(cm // c, c)
    return s.reshape(c, cm // c) @ np.ones(cm // c, dtype=a.dtype)


def channel_plane(v, m, last=False):
    """A per-channel (C,) vector laid out as one row of C*M values: each value repeated over the
    M positions of its channel, or with ``last`` the whole vector tiled M times (channels-last).

    ``x2 * channel_plane(v, m)`` broadcasts over rows only, with both operands contiguous; NumPy's
    per-channel ``x3 * v[:, None]`` (a stride-0 inner operand) is about 2x slower."""
    if m == 1:
        return v
    return np.tile(v, m) if last else np.repeat(v, m)


def _rows(x, xn=None):
    """x as a 2-D view of rows, with its values per channel per row and whether the rows are
    channels-last: (N, C*M) for most layouts; for channels-last memory (xn, the (N, *, C) view,
    given) (R, K*C) rows of K whole pixels (K*C about 1024 values, K dividing the pixel count).
    Reshaping a channels-last x to (N, C*M) would copy it, and hand the next convolution an NCHW
    array to transpose back."""
    c = x.shape[1]
    if xn is not None:
        pixels = x.size // c
        k = max(1, 1024 // c)
        while pixels and pixels % k:
            k -= 1
        return xn.reshape(pixels // k, k * c), k, True
    m = int(np.prod(x.shape[2:]))
    return x.reshape(x.shape[0], c * m), m, False


def batch_stats(x) -> BatchStats:
    """The batch's per-channel mean and biased variance of x (N, C, *)."""
    c, dt = x.shape[1], x.dtype
    cnt = x.size // c
    xn = nhwc_view_if_channels_last(x)
    if xn is not None and compiled.enabled(x):
        mean64, var64 = np.empty(c), np.empty(c)
        compiled.batch_norm_stats(xn.reshape(-1, c), mean64, var64)
        return BatchStats(mean64.astype(dt), var64.astype(dt), cnt, True)
    x2, m, last = _rows(x, xn)
    mean = channel_sum(x2, c, last) / cnt
    xc = x2 - channel_plane(mean, m, last)
    sq = np.multiply(xc, xc)
    var = channel_sum(sq, c, last) / cnt  # biased, as in PyTorch's forward
    return BatchStats(mean, var, cnt, True, (xc, sq))


def fixed_stats(mean, var, x) -> BatchStats:
    """Running estimates (C,) as the statistics to normalise x with (eval)."""
    return BatchStats(mean.astype(x.dtype, copy=False), var.astype(x.dtype, copy=False),
                      x.size // x.shape[1], False)


def batchnorm_forward(x, gamma, beta, stats: BatchStats, eps):
    """y = (x - mean) / sqrt(var + eps) * gamma + beta per channel (dim 1) of x (N, C, *).

    Returns out (x's shape; channels-last memory for channels-last x) and the cache for
    :func:`batchnorm_backward`.
    """
    c, dt = x.shape[1], x.dtype
    gamma = None if gamma is None else gamma.astype(dt, copy=False)
    mean, cnt = stats.mean, stats.count
    inv_std = (1 / np.sqrt(stats.var + eps)).astype(dt, copy=False)
    a = inv_std if gamma is None else gamma * inv_std
    xn = nhwc_view_if_channels_last(x)
    if stats.from_batch and stats.work is None:  # batch_stats took the compiled path
        xp = xn.reshape(-1, c)
        y = _apply_compiled(xp, a, beta, mean)
        cache = BatchNormCache("fused", xp, inv_std, gamma, mean, cnt, 1, True, True)
        return nchw_view(y.reshape(xn.shape)), cache
    x2, m, last = _rows(x, xn)
    if not stats.from_batch and last and compiled.enabled(x):
        y = _apply_compiled(xn.reshape(-1, c), a, beta, mean)
        cache = BatchNormCache("rows", x2, inv_std, gamma, mean, cnt, m, last, False)
        return nchw_view(y.reshape(xn.shape)), cache
    if stats.work is not None:
        xc, y = stats.work  # x - mean, and a buffer for the output
    else:
        xc = x2  # fixed stats save x itself; backward subtracts the (constant) mean in its sums
        y = np.empty_like(x2)
    np.multiply(xc, channel_plane(a, m, last), out=y)  # gamma xhat
    shift = 0 if stats.work is not None else -mean * a
    if beta is not None:
        shift = shift + beta.astype(dt, copy=False)
    if beta is not None or stats.work is None:
        y += channel_plane(shift, m, last)
    cache = BatchNormCache("rows", xc, inv_std, gamma, mean, cnt, m, last, stats.from_batch)
    if last:  # the output keeps x's channels-last memory
        return nchw_view(y.reshape(xn.shape)), cache
    return y.reshape(x.shape), cache


def batchnorm_backward(dout, cache: BatchNormCache, need_dx=True, need_dgamma=True,
                       need_dbeta=True):
    """Gradients of :func:`batchnorm_forward`: dx (dout's shape), dgamma (C,), dbeta (C,); the
    ones not asked for come back None."""
    if cache.mode == "fused":
        return _fused_backward(dout, cache, need_dx, need_dgamma, need_dbeta)
    xc, inv_std, gamma, mean = cache.x, cache.inv_std, cache.gamma, cache.mean
    cnt, m, last, training = cache.count, cache.m, cache.last, cache.from_batch
    c = dout.shape[1]
    g2 = (to_nhwc(dout) if last else dout).reshape(xc.shape)  # copies other layouts
    train_x = training and need_dx
    k1 = inv_std if gamma is None else gamma * inv_std
    dbeta = channel_sum(g2, c, last) \
        if (need_dbeta or train_x or (need_dgamma and not training)) else None
    dgamma = dx = None
    if need_dgamma or train_x:
        t = g2 * xc
        s_gx = channel_sum(t, c, last)
        if not training:  # xc is x: sum(dy (x - mu)) = sum(dy x) - mu sum(dy)
            s_gx -= mean * dbeta
        dgamma = s_gx * inv_std
    if need_dx:
        dx = g2 * channel_plane(k1, m, last)
        if training:
            np.multiply(xc, channel_plane(k1 * inv_std * dgamma / cnt, m, last), out=t)
            t += channel_plane(k1 * dbeta / cnt, m, last)
            dx -= t
        if last:
            sh = dout.shape
            dx = nchw_view(dx.reshape((sh[0],) + tuple(sh[2:]) + (c,)))
        else:
            dx = dx.reshape(dout.shape)
    return dx, (dgamma if need_dgamma else None), (dbeta if need_dbeta else None)


def _apply_compiled(xp, a, beta, mean):
    """y = x a + (beta - mean a) per channel in one compiled pass over (P, C) rows xp."""
    dt = xp.dtype
    shift = -mean * a if beta is None else beta.astype(dt, copy=False) - mean * a
    y = np.empty_like(xp)
    compiled.batch_norm_apply(xp, a.astype(dt, copy=False), shift.astype(dt, copy=False), y)
    return y


def _fused_backward(dout, cache, need_dx, need_dgamma, need_dbeta):
    """Training backward on the compiled path: one pass for sum(dy) and sum(dy (x - mu)), one to
    write dx = k dy - (x - mu) c1 - c2 (the compact form)."""
    xp, inv_std, gamma, mean, cnt = cache.x, cache.inv_std, cache.gamma, cache.mean, cache.count
    c, dt = xp.shape[1], xp.dtype
    gp = to_nhwc(dout.astype(dt, copy=False)).reshape(xp.shape)  # copies other layouts
    sg, sgx = np.empty(c), np.empty(c)
    compiled.batch_norm_grad_sums(gp, xp, mean, sg, sgx)
    dbeta, dgamma = sg.astype(dt), (sgx * inv_std).astype(dt)
    dx = None
    if need_dx:
        k1 = inv_std if gamma is None else gamma * inv_std
        dxp = np.empty_like(xp)
        compiled.batch_norm_dx(gp, xp, mean, k1.astype(dt, copy=False),
                               (k1 * inv_std * dgamma / cnt).astype(dt, copy=False),
                               (k1 * dbeta / cnt).astype(dt, copy=False), dxp)
        sh = dout.shape
        dx = nchw_view(dxp.reshape((sh[0],) + tuple(sh[2:]) + (c,)))
    return dx, (dgamma if need_dgamma else None), (dbeta if need_dbeta else None)
