"""Max and average pooling on raw arrays (no autograd): ``*_pool_forward`` / ``*_pool_backward``.

Every window of a pooling is the same (kh, kw) grid of offsets, so instead of gathering windows
the kernels loop over the kh*kw offsets (i, j) and combine whole strided slices
``x[:, i::sh, j::sw]`` of the input — one vectorised NumPy call per offset, never a loop over
pixels. This is also the "reshape" form of the common non-overlapping case (kernel == stride):
splitting H into (Ho, kh) and W into (Wo, kw) is a free view whose (i, j) entries are exactly these
slices, and on channels-last memory they beat ``reshape(...).max(axis=(2, 4))``, which is
slower still on NCHW memory (docs/performance.md).

Max pooling remembers which element won for backward, and ties go to the first one in row-major
order within the window (as PyTorch does): forward sets bit k of a per-output code when offset k
equals the max, and ``code & -code`` keeps only the lowest set bit, the first maximum. Windows of
more than 64 elements use an argmax over an im2col copy of the windows instead. NaN propagates to
the output as in PyTorch.

``ceil_mode`` (PyTorch's) rounds the output size up, so a last window may hang over the bottom or
right edge (but starts inside the input or its left/top padding); the kernels pad those extra
rows/columns like the padding (-inf for max, 0 for average) and average pooling divides such a
window by the part of it inside the padded input, as PyTorch does.

Layout: NHWC inside, results are NCHW views of NHWC memory (see :mod:`striate.kernels.im2col`).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from . import compiled
from .im2col import as_pair, output_size, pad_nhwc, window_view
from .layout import to_nhwc

__all__ = [
    "PoolCache",
    "pool_output_size",
    "avg_pool_backward",
    "avg_pool_forward",
    "max_pool_backward",
    "max_pool_forward",
]


class PoolCache(NamedTuple):
    """What the pool backwards need besides ``dout``."""

    arg: np.ndarray | None  # max: first-max bit per output, or argmax index; avg: None
    x_shape: tuple  # (N, C, H, W)
    kernel: tuple
    stride: tuple
    pad: tuple
    divisor: object = None  # avg: a number, or an (Ho, Wo, 1) array of window sizes
    extra: tuple = (0, 0)  # ceil_mode: rows/columns padded beyond the bottom/right padding
    dilation: tuple = (1, 1)  # max: the spacing of a window's taps


def pool_output_size(size: int, k: int, stride: int, pad: int, ceil_mode: bool = False) -> int:
    """Output length of a pooling: floor (or with ceil_mode, ceil) of ``(size + 2 pad - k) /
    stride`` plus 1; a ceil-mode last window must start inside the input or its left padding."""
    if not ceil_mode:
        return output_size(size, k, stride, pad)
    n = -(-(size + 2 * pad - k) // stride) + 1
    if (n - 1) * stride >= size + pad:
        n -= 1
    return n


def _code_dtype(k: int):
    for dt in (np.uint8, np.uint16, np.uint32, np.uint64):
        if k <= np.iinfo(dt).bits:
            return dt
    return None


def _prepare(x, kernel, stride, pad, fill, contiguous=False, ceil_mode=False, dilation=(1, 1)):
    """Pairs, output size, extra bottom/right padding, and x as (N, Hp, Wp, C): a padded copy,
    or without padding a view (made contiguous if asked: a copy unless x is channels-last).
    A dilated window spans ``d (k - 1) + 1`` pixels."""
    (kh, kw), (ph, pw) = as_pair(kernel), as_pair(pad)
    sh, sw = as_pair(kh if stride is None else stride)
    (dh, dw) = dilation
    eh_, ew_ = dh * (kh - 1) + 1, dw * (kw - 1) + 1  # the windows' extents
    N, C, H, W = x.shape
    Ho = pool_output_size(H, eh_, sh, ph, ceil_mode)
    Wo = pool_output_size(W, ew_, sw, pw, ceil_mode)
    eh = max(0, (Ho - 1) * sh + eh_ - H - 2 * ph)
    ew = max(0, (Wo - 1) * sw + ew_ - W - 2 * pw)
    if eh or ew:
        xv = np.full((N, H + 2 * ph + eh, W + 2 * pw + ew, C), fill, dtype=x.dtype)
        xv[:, ph : ph + H, pw : pw + W] = x.transpose(0, 2, 3, 1)
    elif ph or pw:
        xv = pad_nhwc(x, (ph, pw), fill)
    else:
        xv = to_nhwc(x) if contiguous else x.transpose(0, 2, 3, 1)
    return xv, (kh, kw), (sh, sw), (ph, pw), (eh, ew), Ho, Wo


def _offsets(kh, kw, sh, sw, Ho, Wo, dilation=(1, 1)):
    """For each kernel offset: its number k and the index of its strided slice (offset (i, j)
    of a window dilated by (dh, dw) lies (i dh, j dw) from its corner)."""
    dh, dw = dilation
    for i in range(kh):
        for j in range(kw):
            yield i * kw + j, (slice(None), slice(i * dh, i * dh + sh * Ho, sh),
                               slice(j * dw, j * dw + sw * Wo, sw))


def max_pool_forward(x, kernel, stride=None, pad=0, need_grad=True, ceil_mode=False,
                     dilation=1):
    """Maximum over each kh x kw window.

    Args:
        x: input (N, C, H, W), any strides, floating.
        kernel: int or (kh, kw). stride: int, pair, or None for the kernel size.
        pad: implicit -inf padding, int or (ph, pw).
        need_grad: when False, skip recording the winners (cache comes back None).
        ceil_mode: round the output size up (see the module docstring).
        dilation: int or (dh, dw), the spacing of a window's taps (PyTorch's).
    Returns:
        out (N, C, Ho, Wo), an NCHW view of NHWC memory; cache for :func:`max_pool_backward`.
    """
    dilation = as_pair(dilation)
    # one pass over x suffices without grad; with grad the compares make several, and they run
    # faster over contiguous channels-last memory than the copy costs (docs/performance.md)
    xv, (kh, kw), stride, pad, extra, Ho, Wo = _prepare(x, kernel, stride, pad, -np.inf,
                                                        need_grad, ceil_mode, dilation)
    sh, sw = stride
    if dilation == (1, 1) and _compiled_2x2((kh, kw), stride, pad, extra, xv, xv):
        # one pass for the maxima and the first-max codes (same codes as below)
        out = np.empty((xv.shape[0], Ho, Wo, xv.shape[3]), dtype=xv.dtype)
        code = np.empty(out.shape, dtype=np.uint8)
        compiled.max_pool2x2_forward(xv, out, code)
        cache = PoolCache(code, x.shape, (2, 2), (2, 2), (0, 0), None, (0, 0)) \
            if need_grad else None
        return out.transpose(0, 3, 1, 2), cache
    slices = list(_offsets(kh, kw, sh, sw, Ho, Wo, dilation))
    out = np.array(xv[slices[0][1]], order="C")  # (N, Ho, Wo, C)
    for _, s in slices[1:]:
        np.maximum(out, xv[s], out=out)  # np.maximum propagates NaN, as PyTorch's max pool
    if not need_grad:
        return out.transpose(0, 3, 1, 2), None
    code_dt = _code_dtype(kh * kw)
    real = _real_masks(x.shape, (kh, kw), stride, pad, Ho, Wo, dilation)
    nan = out.dtype.kind == "f" and np.isnan(out).any()
    if code_dt is not None:
        code = np.zeros(out.shape, dtype=code_dt)
        last_nan = np.zeros(out.shape, dtype=code_dt) if nan else None
        for k, s in slices:
            hit = np.equal(xv[s], out)
            if real is not None:  # a padding -inf never wins, even in an all -inf window
                hit &= real[k]
            hit = hit.view(np.uint8) if code_dt is np.uint8 else hit.astype(code_dt)
            if k:
                np.left_shift(hit, code_dt(k), out=hit)
            code |= hit
            if nan:  # PyTorch lets each NaN take over, so the window's last NaN wins
                np.copyto(last_nan, code_dt(1 << k), where=np.isnan(xv[s]))
        arg = code & np.negative(code)  # lowest set bit: the first maximum in the window
        if nan:
            arg = np.where(last_nan != 0, last_nan, arg)
    else:
        if dilation == (1, 1):
            win = window_view(xv, (kh, kw), stride)  # (N, Ho, Wo, kh, kw, C)
            flat = win.transpose(0, 1, 2, 5, 3, 4).reshape(*out.shape, kh * kw)
        else:  # dilated taps: stack the offsets' slices, (N, Ho, Wo, C, kh * kw)
            flat = np.stack([xv[s] for _, s in slices], axis=-1)
        hit = flat == out[..., None]
        if real is not None:
            hit &= np.stack(real, axis=-1)
        arg = hit.argmax(axis=-1)  # the first maximum (argmax of bools: the first True)
        if dilation != (1, 1):  # a dilated window may hold padding only: no winner, -1
            arg = np.where(hit.any(axis=-1), arg, -1)
        if nan:
            isnan = np.isnan(flat)
            last = kh * kw - 1 - isnan[..., ::-1].argmax(axis=-1)
            arg = np.where(isnan.any(axis=-1), last, arg)
    cache = PoolCache(arg, x.shape, (kh, kw), stride, pad, None, extra, dilation)
    return out.transpose(0, 3, 1, 2), cache


def _real_masks(x_shape, kernel, stride, pad, Ho, Wo, dilation=(1, 1)):
    """For each window offset k, an (Ho, Wo, 1) bool mask of the windows whose element k lies
    inside the input rather than in the (top/left or bottom/right) padding; None if no window
    touches padding."""
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel, stride, pad, dilation
    H, W = x_shape[2], x_shape[3]
    rows = [(np.arange(Ho) * sh + i * dh - ph >= 0) & (np.arange(Ho) * sh + i * dh - ph < H)
            for i in range(kh)]
    cols = [(np.arange(Wo) * sw + j * dw - pw >= 0) & (np.arange(Wo) * sw + j * dw - pw < W)
            for j in range(kw)]
    if all(r.all() for r in rows) and all(c.all() for c in cols):
        return None
    return [(rows[i][:, None] & cols[j][None, :])[:, :, None] for i in range(kh)
            for j in range(kw)]


def _compiled_2x2(kernel, stride, pad, extra, data, saved):
    """Whether the compiled 2x2 / stride-2 loops take a pooling: no padding, floor mode, float32
    or float64 ``data``, and ``saved`` (the NHWC input forward reads, or the codes backward
    reads) contiguous: they are several times faster than the slices below, both ways
    (docs/performance.md)."""
    return (kernel == stride == (2, 2) and pad == extra == (0, 0) and saved.flags.c_contiguous
            and compiled.enabled(data))


def _scatter(cache, value, mask=None):
    """dx from per-output gradients ``value`` (N, Ho, Wo, C): offset k of each window receives
    ``value * mask(k)`` (max pooling), or ``value`` itself when there is no mask (average)."""
    N, C, H, W = cache.x_shape
    (kh, kw), (sh, sw), (ph, pw), (eh, ew) = cache.kernel, cache.stride, cache.pad, cache.extra
    Ho, Wo = value.shape[1], value.shape[2]
    dil = cache.dilation
    if (sh, sw) == (kh, kw) and (ph, pw) == (0, 0) and (H, W) == (kh * Ho, kw * Wo) \
            and dil == (1, 1):
        # non-overlapping windows that tile x: every pixel is written exactly once, in place
        dx = np.empty((N, H, W, C), dtype=value.dtype)
        for k, s in _offsets(kh, kw, sh, sw, Ho, Wo):
            if mask is None:
                dx[s] = value
            else:
                np.multiply(value, mask(k), out=dx[s])
        return dx.transpose(0, 3, 1, 2)
    dxp = np.zeros((N, H + 2 * ph + eh, W + 2 * pw + ew, C), dtype=value.dtype)
    for k, s in _offsets(kh, kw, sh, sw, Ho, Wo, dil):
        dxp[s] += value if mask is None else value * mask(k)
    return dxp[:, ph : ph + H, pw : pw + W].transpose(0, 3, 1, 2)


def max_pool_backward(dout, cache: PoolCache):
    """Gradient of :func:`max_pool_forward`: each dout goes to its window's (first) maximum.

    dout (N, C, Ho, Wo) -> dx (N, C, H, W).
    """
    if cache is None:
        raise ValueError("max_pool_backward: the forward ran with need_grad=False")
    arg = cache.arg
    dv = dout.transpose(0, 2, 3, 1)
    if arg.dtype == np.uint8 and cache.dilation == (1, 1) and _compiled_2x2(
            cache.kernel, cache.stride, cache.pad, cache.extra, dout, arg):
        N, C, H, W = cache.x_shape
        dx = np.empty((N, H, W, C), dtype=dout.dtype)
        compiled.max_pool2x2_backward(to_nhwc(dout), arg, dx)
        return dx.transpose(0, 3, 1, 2)
    if arg.dtype.kind == "u":  # the first-max bit code
        return _scatter(cache, dv, lambda k: arg == arg.dtype.type(1 << k))
    return _scatter(cache, dv, lambda k: arg == k)


def avg_pool_forward(x, kernel, stride=None, pad=0, count_include_pad=True, divisor=None,
                     ceil_mode=False):
    """Mean over each kh x kw window.

    Args:
        x: input (N, C, H, W), any strides, floating.
        kernel: int or (kh, kw). stride: int, pair, or None for the kernel size.
        pad: implicit zero padding, int or (ph, pw).
        count_include_pad: divide by kh*kw everywhere (True, PyTorch's default), or by the
            number of real (non-padding) elements in each window (False).
        divisor: if given, divide every window's sum by it instead (``divisor_override``).
        ceil_mode: round the output size up; a window hanging over the padded input is divided
            by the part of it inside (count_include_pad) or by its real elements.
    Returns:
        out (N, C, Ho, Wo), an NCHW view of NHWC memory; cache for :func:`avg_pool_backward`.
    """
    xv, (kh, kw), stride, pad, extra, Ho, Wo = _prepare(x, kernel, stride, pad, 0.0,
                                                        ceil_mode=ceil_mode)
    sh, sw = stride
    slices = list(_offsets(kh, kw, sh, sw, Ho, Wo))
    out = np.array(xv[slices[0][1]], order="C")
    for _, s in slices[1:]:
        np.add(out, xv[s], out=out)
    H, W = x.shape[2], x.shape[3]
    if divisor is None and not count_include_pad and (pad != (0, 0) or extra != (0, 0)):
        rows = _real_count(H, kh, sh, pad[0], Ho)
        cols = _real_count(W, kw, sw, pad[1], Wo)
        divisor = np.outer(rows, cols).astype(out.dtype)[:, :, None]
    elif divisor is None and extra != (0, 0):
        # windows clipped to the padded input [-p, size + p), as PyTorch's ceil mode
        rows = _real_count(H + 2 * pad[0], kh, sh, 0, Ho)
        cols = _real_count(W + 2 * pad[1], kw, sw, 0, Wo)
        divisor = np.outer(rows, cols).astype(out.dtype)[:, :, None]
    elif divisor is None:
        divisor = kh * kw
    out /= divisor
    cache = PoolCache(None, x.shape, (kh, kw), stride, pad, divisor, extra)
    return out.transpose(0, 3, 1, 2), cache


def _real_count(size, k, s, p, n_out):
    """How many of each window's k positions fall inside [0, size) rather than in the padding."""
    start = np.arange(n_out) * s - p
    return np.minimum(start + k, size) - np.maximum(start, 0)


def avg_pool_backward(dout, cache: PoolCache):
    """Gradient of :func:`avg_pool_forward`: each dout is shared equally over its window.

    dout (N, C, Ho, Wo) -> dx (N, C, H, W).
    """
    return _scatter(cache, dout.transpose(0, 2, 3, 1) / cache.divisor)
