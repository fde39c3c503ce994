"""Readable loop-based convolution and pooling, as the course writes them first.

Slow (Python loops over the batch, channels and output pixels) and kept on purpose: each is the
definition of what the fast kernels in :mod:`~striate.kernels.conv` and
:mod:`~striate.kernels.pool` compute, and the tests use them as the oracle. Same arguments and
shapes as the fast versions (stride/pad: an int or an (h, w) pair); the caches differ.
"""

from __future__ import annotations

import numpy as np

from .im2col import output_size, pair

__all__ = [
    "conv_transpose_forward_naive",
    "avg_pool_backward_naive",
    "avg_pool_forward_naive",
    "conv_backward_naive",
    "conv_forward_naive",
    "max_pool_backward_naive",
    "max_pool_forward_naive",
]


def _pad(x, ph, pw, value=0.0):
    return np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=value)


def conv_forward_naive(x, w, b, stride=1, pad=0, dilation=1, groups=1):
    """x (N, C, H, W), w (F, C / groups, HH, WW), b (F,) or None -> out (N, F, Ho, Wo), cache.

    out[n, f, i, j] = sum over (c, di, dj) of
    x_pad[n, g Cg + c, i*sh + di*dh, j*sw + dj*dw] w[f, c, di, dj] plus b[f], where filter f
    belongs to group g = f // (F / groups) and reads that group's Cg = C / groups channels.
    """
    (sh, sw), (ph, pw), (dh, dw) = pair(stride), pair(pad), pair(dilation)
    N, C, H, W = x.shape
    F, Cg, HH, WW = w.shape
    Ho, Wo = output_size(H, HH, sh, ph, dh), output_size(W, WW, sw, pw, dw)
    xp = _pad(x, ph, pw)
    out = np.zeros((N, F, Ho, Wo), dtype=np.result_type(x, w))
    for n in range(N):
        for f in range(F):
            g = f // (F // groups)
            for i in range(Ho):
                for j in range(Wo):
                    patch = xp[n, g * Cg : (g + 1) * Cg, i * sh : i * sh + dh * (HH - 1) + 1 : dh,
                               j * sw : j * sw + dw * (WW - 1) + 1 : dw]
                    out[n, f, i, j] = np.sum(patch * w[f]) + (0 if b is None else b[f])
    return out, (x, w, b, (sh, sw), (ph, pw), (dh, dw), groups)


def conv_transpose_forward_naive(x, w, b, stride=1, pad=0, output_pad=0, dilation=1, groups=1):
    """Transposed convolution by its definition: every input pixel x[n, c, h, w] adds
    ``x[n, c, h, w] * w[c]`` (a (F / groups, HH, WW) stamp, taps dilation apart) onto its
    group's output channels at (h*sh, w*sw) of the padded output; the padding is then cut off.

    x (N, C, H, W), w (C, F / groups, HH, WW), b (F,) or None -> out (N, F, Ho, Wo).
    """
    (sh, sw), (ph, pw), (dh, dw) = pair(stride), pair(pad), pair(dilation)
    oph, opw = pair(output_pad)
    N, C, H, W = x.shape
    _, Fg, HH, WW = w.shape
    Ho = (H - 1) * sh - 2 * ph + dh * (HH - 1) + oph + 1
    Wo = (W - 1) * sw - 2 * pw + dw * (WW - 1) + opw + 1
    outp = np.zeros((N, Fg * groups, Ho + 2 * ph, Wo + 2 * pw), dtype=np.result_type(x, w))
    for n in range(N):
        for c in range(C):
            g = c // (C // groups)
            for h in range(H):
                for v in range(W):
                    outp[n, g * Fg : (g + 1) * Fg, h * sh : h * sh + dh * (HH - 1) + 1 : dh,
                         v * sw : v * sw + dw * (WW - 1) + 1 : dw] += x[n, c, h, v] * w[c]
    out = outp[:, :, ph : ph + Ho, pw : pw + Wo]
    return out if b is None else out + b[:, None, None]


def conv_backward_naive(dout, cache):
    """dout (N, F, Ho, Wo) -> dx (N, C, H, W), dw (F, C / groups, HH, WW), db (F,) (None if no
    bias).

    Each output element spreads its gradient over its patch: dx_patch += dout w[f] and
    dw[f] += dout x_patch.
    """
    x, w, b, (sh, sw), (ph, pw), (dh, dw_), groups = cache
    N, _, H, W = x.shape
    F, Cg, HH, WW = w.shape
    _, _, Ho, Wo = dout.shape
    xp = _pad(x, ph, pw)
    dxp = np.zeros_like(xp)
    dw = np.zeros_like(w)
    for n in range(N):
        for f in range(F):
            chans = slice(f // (F // groups) * Cg, (f // (F // groups) + 1) * Cg)
            for i in range(Ho):
                for j in range(Wo):
                    rows = slice(i * sh, i * sh + dh * (HH - 1) + 1, dh)
                    cols = slice(j * sw, j * sw + dw_ * (WW - 1) + 1, dw_)
                    dxp[n, chans, rows, cols] += dout[n, f, i, j] * w[f]
                    dw[f] += dout[n, f, i, j] * xp[n, chans, rows, cols]
    db = None if b is None else dout.sum(axis=(0, 2, 3))
    return dxp[:, :, ph : ph + H, pw : pw + W], dw, db


def _pool_geometry(x, kernel, stride, pad):
    (kh, kw), (ph, pw) = pair(kernel), pair(pad)
    sh, sw = pair(kh if stride is None else stride)
    _, _, H, W = x.shape
    return (kh, kw), (sh, sw), (ph, pw), output_size(H, kh, sh, ph), output_size(W, kw, sw, pw)


def max_pool_forward_naive(x, kernel, stride=None, pad=0):
    """x (N, C, H, W) -> out (N, C, Ho, Wo), the max of each window (padding is -inf), cache."""
    (kh, kw), (sh, sw), (ph, pw), Ho, Wo = _pool_geometry(x, kernel, stride, pad)
    N, C = x.shape[:2]
    xp = _pad(x, ph, pw, -np.inf)
    out = np.zeros((N, C, Ho, Wo), dtype=x.dtype)
    for n in range(N):
        for c in range(C):
            for i in range(Ho):
                for j in range(Wo):
                    out[n, c, i, j] = xp[n, c, i * sh : i * sh + kh, j * sw : j * sw + kw].max()
    return out, (x, (kh, kw), (sh, sw), (ph, pw))


def max_pool_backward_naive(dout, cache):
    """dout (N, C, Ho, Wo) -> dx (N, C, H, W): each gradient goes to the first max of its window."""
    x, (kh, kw), (sh, sw), (ph, pw) = cache
    N, C, H, W = x.shape
    _, _, Ho, Wo = dout.shape
    xp = _pad(x, ph, pw, -np.inf)
    dxp = np.zeros(xp.shape, dtype=dout.dtype)
    for n in range(N):
        for c in range(C):
            for i in range(Ho):
                for j in range(Wo):
                    window = xp[n, c, i * sh : i * sh + kh, j * sw : j * sw + kw]
                    di, dj = np.unravel_index(np.argmax(window), window.shape)  # first max
                    dxp[n, c, i * sh + di, j * sw + dj] += dout[n, c, i, j]
    return dxp[:, :, ph : ph + H, pw : pw + W]


def avg_pool_forward_naive(x, kernel, stride=None, pad=0, count_include_pad=True):
    """x (N, C, H, W) -> out (N, C, Ho, Wo), the mean of each window (padding is 0), cache.

    The divisor is kh*kw, or with ``count_include_pad=False`` the number of real pixels.
    """
    (kh, kw), (sh, sw), (ph, pw), Ho, Wo = _pool_geometry(x, kernel, stride, pad)
    N, C, H, W = x.shape
    xp = _pad(x, ph, pw)
    real = _pad(np.ones((1, 1, H, W)), ph, pw)
    out = np.zeros((N, C, Ho, Wo), dtype=x.dtype)
    div = np.zeros((Ho, Wo))
    for i in range(Ho):
        for j in range(Wo):
            rows, cols = slice(i * sh, i * sh + kh), slice(j * sw, j * sw + kw)
            div[i, j] = kh * kw if count_include_pad else real[0, 0, rows, cols].sum()
            for n in range(N):
                for c in range(C):
                    out[n, c, i, j] = xp[n, c, rows, cols].sum() / div[i, j]
    return out, (x.shape, (kh, kw), (sh, sw), (ph, pw), div)


def avg_pool_backward_naive(dout, cache):
    """dout (N, C, Ho, Wo) -> dx (N, C, H, W): each gradient is shared equally over its window."""
    (N, C, H, W), (kh, kw), (sh, sw), (ph, pw), div = cache
    _, _, Ho, Wo = dout.shape
    dxp = np.zeros((N, C, H + 2 * ph, W + 2 * pw), dtype=dout.dtype)
    for n in range(N):
        for c in range(C):
            for i in range(Ho):
                for j in range(Wo):
                    rows, cols = slice(i * sh, i * sh + kh), slice(j * sw, j * sw + kw)
                    dxp[n, c, rows, cols] += dout[n, c, i, j] / div[i, j]
    return dxp[:, :, ph : ph + H, pw : pw + W]
