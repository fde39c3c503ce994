"""Convolution as one GEMM: ``conv_forward`` / ``conv_backward`` on raw arrays (no autograd).

Forward: ``out = im2col(x) @ W + b`` with W the filters as a (kh*kw*C, F) matrix. Backward, with
``d`` the upstream gradient as an (N*Ho*Wo, F) matrix:

    dW = d^T cols        (one GEMM)
    db = 1^T d           (a ones-vector product; faster than d.sum(0))
    dx = col2im(d W^T)   (one GEMM, then a scatter-add per kernel offset)

The patch matrix ``cols`` is never built whole: forward and dW pad and unfold a few images at a
time (about 4 MiB of patches) in one reused buffer and multiply while it is in cache; the cache
keeps only a view of the input, which about halves the forward's time; dW costs the same as
from a saved matrix (docs/performance.md). A stride-1 dx with at least 8 input channels is itself
such a convolution: the gradient, padded, correlated with the kernel flipped in space and
transposed in channels (:func:`_dx_as_convolution`, faster than the path below),
and the same patches of the gradient then give dW too (``x^T patches``), so a stride-1 backward
unfolds only the gradient. All of these split the batch over striate's threads
(:mod:`striate.parallel`), each thread with its own chunk buffer.

Otherwise, below 128 input channels dx skips the big (N*Ho*Wo, kh*kw*C) matrix ``d W^T``, whose
short rows make the scatter crawl: it sums one thin GEMM per kernel offset,
``d @ W[i, j]^T`` (N*Ho*Wo, C), each added to its shifted slice of dx; its advantage over col2im
shrinks as C grows (docs/performance.md). Everything runs NHWC inside; see
:mod:`striate.kernels.im2col`.

A 1x1 convolution without padding needs no im2col at all: its patches are the (strided) pixels
themselves, so forward is ``x_nhwc @ W`` and dx is ``d W^T`` written straight into dx. Dilation
and groups (grouped and depthwise) go to :mod:`striate.kernels.conv_general`. The transposed
convolution (:func:`conv_transpose_forward`) is the adjoint of a convolution: its forward is a
convolution's dx, its backward a convolution forward (dx) and a convolution's dw.
"""

from __future__ import annotations

import threading
from typing import NamedTuple

import numpy as np

from ..parallel import parallel_for
from .conv_general import (
    GeneralConvCache,
    conv_backward_general,
    conv_forward_general,
    weight_matrix,
)
from .im2col import as_pair, col2im, output_size, window_view
from .layout import to_nhwc

__all__ = [
    "ConvCache",
    "conv_backward",
    "conv_forward",
    "conv_output_shape",
    "conv_transpose_backward",
    "conv_transpose_forward",
    "conv_transpose_output_shape",
]

# below this many input channels dx is computed per kernel offset (see the module docstring)
_SMALL_C = 128
# values of im2col built at a time (4 MiB of float32): forward and dW work a chunk of images at
# a time so the patch matrix stays in cache and is never held whole
_CHUNK_ELEMS = 1 << 20
_SCRATCH = threading.local()
_SCRATCH_MAX = 1 << 24  # values; a bigger buffer is allocated per call and not kept
# from this many input channels a stride-1 dx is a convolution of the padded gradient with the
# flipped kernel (chunked GEMMs, no scatter); below, its C output columns make too thin a GEMM
# (docs/performance.md)
_DX_CONV_MIN_C = 8


class ConvCache(NamedTuple):
    """What :func:`conv_backward` needs: what the patches come from (for dW) and the weight
    matrix (for dx)."""

    # a 1x1 convolution without padding: its patch matrix, the (strided) pixels (N*Ho*Wo, C)
    pixels: np.ndarray | None
    # any other kernel: the input as an (N, H, W, C) view, unfolded again a chunk at a time for dW
    x_nhwc: np.ndarray | None
    w_mat: np.ndarray  # (kh*kw*C, F)
    x_shape: tuple
    kernel: tuple
    stride: tuple
    pad: tuple

    def drop_patches(self) -> ConvCache:
        """The cache without what only dW reads (when the weight is frozen)."""
        return self._replace(pixels=None, x_nhwc=None)


def conv_forward(x, w, b, stride=1, pad=0, dilation=1, groups=1):
    """2-D convolution (cross-correlation, as in every framework) of x with the filters w.

    Args:
        x: input (N, C, H, W), any strides.
        w: filters (F, C / groups, HH, WW).
        b: bias (F,) or None.
        stride: int or (sh, sw).
        pad: zero padding, int or (ph, pw), on both sides.
        dilation: spacing of the kernel taps, int or (dh, dw).
        groups: C and F split into this many independent convolutions (C: depthwise).
    Returns:
        out (N, F, Ho, Wo) with ``Ho = (H + 2 ph - dh (HH - 1) - 1) // sh + 1`` (likewise Wo): an
        NCHW view of NHWC memory. cache: for :func:`conv_backward`.
    """
    stride, pad = as_pair(stride), as_pair(pad)
    dilation = as_pair(dilation)
    if groups != 1 or dilation != (1, 1):
        return conv_forward_general(x, w, b, stride, pad, dilation, groups)
    F, C, HH, WW = w.shape
    N = x.shape[0]
    if HH == WW == 1 and pad == (0, 0):
        # 1x1: the patches are the pixels; one GEMM, no window view
        xs = x if stride == (1, 1) else x[:, :, :: stride[0], :: stride[1]]
        Ho, Wo = xs.shape[2], xs.shape[3]
        cols = to_nhwc(xs).reshape(N * Ho * Wo, C)
        w_mat = w.reshape(F, C).T
        out = cols @ w_mat
        if b is not None:
            out += b
        cache = ConvCache(cols, None, w_mat, x.shape, (1, 1), stride, pad)
        return out.reshape(N, Ho, Wo, F).transpose(0, 3, 1, 2), cache
    xn = x.transpose(0, 2, 3, 1)  # NHWC view; the chunks below pad and copy it
    Ho, Wo = output_size(x.shape[2], HH, stride[0], pad[0]), output_size(x.shape[3], WW,
                                                                         stride[1], pad[1])
    if Ho < 1 or Wo < 1:
        raise ValueError(f"conv_forward: kernel {(HH, WW)} is larger than the padded input "
                         f"{(x.shape[2] + 2 * pad[0], x.shape[3] + 2 * pad[1])}")
    w_mat = w.transpose(2, 3, 1, 0).reshape(HH * WW * C, F)
    out = np.empty((N * Ho * Wo, F), dtype=np.result_type(x.dtype, w.dtype))
    _over_patches(xn, (HH, WW), stride, pad, w_mat, out)
    if b is not None:
        out += b
    cache = ConvCache(None, xn, w_mat, x.shape, (HH, WW), stride, pad)
    return out.reshape(N, Ho, Wo, F).transpose(0, 3, 1, 2), cache


def _scratch(n: int, dtype) -> np.ndarray:
    """A reused flat buffer of at least n values of dtype (per thread): fresh big arrays page-
    fault on every touch; this one stays mapped."""
    if n > _SCRATCH_MAX:  # one image's patches alone are this big: don't hold on to them
        return _aligned(n, dtype)
    key = np.dtype(dtype).str
    buf = getattr(_SCRATCH, key, None)
    if buf is None or buf.size < n:
        buf = _aligned(n, dtype)
        setattr(_SCRATCH, key, buf)
    return buf[:n]


def _aligned(n: int, dtype) -> np.ndarray:
    """An empty (n,) array starting on a 64-byte (cache-line) boundary: the GEMMs read patch
    chunks about 8% faster from there than from NumPy's 16-byte alignment."""
    dt = np.dtype(dtype)
    raw = np.empty(n * dt.itemsize + 64, dtype=np.uint8)
    off = -raw.ctypes.data % 64
    return raw[off : off + n * dt.itemsize].view(dt)


def _chunk_images(xn, kernel, stride, pad) -> int:
    """Images per im2col chunk: about ``_CHUNK_ELEMS`` patch values, at least one image."""
    N, H, W, C = xn.shape
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, pad
    rows = ((H + 2 * ph - kh) // sh + 1) * ((W + 2 * pw - kw) // sw + 1)
    return max(1, min(N, _CHUNK_ELEMS // max(1, rows * kh * kw * C)))


def _over_patches(xn, kernel, stride, pad, w_mat=None, out=None, rows_t=None, epilogue=None):
    """The one loop over im2col chunks of xn (N, H, W, C), the batch split over the threads
    (:func:`striate.parallel.parallel_for`; each thread has its own chunk buffer). Per chunk of
    patch rows r0:r1 it writes ``out[r0:r1] = cols @ w_mat`` (if w_mat is given) and adds up
    ``rows_t[r0:r1]^T @ cols`` (if rows_t, an (N*Ho*Wo, D) array, is given), which it returns
    summed over the batch, (D, kh*kw*C); else None. ``epilogue(rows)`` runs in place on each
    chunk of output rows right after its GEMM (a fused bias and ReLU, for inference)."""
    N, C = xn.shape[0], xn.shape[3]
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, pad
    rows = ((xn.shape[1] + 2 * ph - kh) // sh + 1) * ((xn.shape[2] + 2 * pw - kw) // sw + 1)

    def part(a, b):
        acc = None
        for r0, r1, cols in _patch_chunks(xn[a:b], kernel, stride, pad):
            lo, hi = a * rows + r0, a * rows + r1
            if w_mat is not None:
                np.matmul(cols, w_mat, out=out[lo:hi])
                if epilogue is not None:  # bias, activation: while the rows are in cache
                    epilogue(out[lo:hi])
            if rows_t is not None:
                p = rows_t[lo:hi].T @ cols
                if acc is None:
                    acc = p
                else:
                    acc += p
        return acc

    parts = parallel_for(N, part, min_part=_chunk_images(xn, kernel, stride, pad))
    if rows_t is None:
        return None
    parts = [p for p in parts if p is not None]
    if not parts:  # an empty batch
        return np.zeros((rows_t.shape[1], kh * kw * C),
                        dtype=np.result_type(xn.dtype, rows_t.dtype))
    acc = parts[0]
    for p in parts[1:]:
        acc += p
    return acc


def _patch_chunks(xn, kernel, stride, pad):
    """im2col a few images at a time: yields ``(r0, r1, cols)``, cols the (r1 - r0, kh*kw*C)
    patch rows r0:r1 of the whole (N*Ho*Wo, kh*kw*C) matrix, for chunks of about
    ``_CHUNK_ELEMS`` values. xn: (N, H, W, C), any strides. Each chunk is padded and unfolded
    in one reused buffer (valid until the next chunk), small enough to stay in cache while the
    caller's GEMM reads it; neither the padded input nor the whole matrix ever exists."""
    N, H, W, C = xn.shape
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, pad
    Hp, Wp = H + 2 * ph, W + 2 * pw
    Ho, Wo = (Hp - kh) // sh + 1, (Wp - kw) // sw + 1
    rows, K = Ho * Wo, kh * kw * C
    bs = _chunk_images(xn, kernel, stride, pad)
    padded = bool(ph or pw)
    buf = _scratch(bs * rows * K + (bs * Hp * Wp * C if padded else 0), xn.dtype)
    cols_buf = buf[: bs * rows * K]
    if padded:
        pbuf = buf[bs * rows * K :].reshape(bs, Hp, Wp, C)
        pbuf[:, :ph] = 0
        pbuf[:, Hp - ph :] = 0
        pbuf[:, :, :pw] = 0
        pbuf[:, :, Wp - pw :] = 0
    for i in range(0, N, bs):
        nb = min(bs, N - i)
        if padded:
            src = pbuf[:nb]
            src[:, ph : ph + H, pw : pw + W] = xn[i : i + nb]
        else:
            src = xn[i : i + nb]
        win = window_view(src, (kh, kw), (sh, sw))
        cols = cols_buf[: nb * rows * K].reshape(nb * rows, K)
        np.copyto(cols.reshape(win.shape), win)
        yield i * rows, (i + nb) * rows, cols


def conv_relu_forward(x, w, b, stride=1, pad=0):
    """``max(conv(x, w, b), 0)`` for inference (no cache): the bias and the ReLU are applied to
    each chunk of output rows right after its GEMM, while it is still in cache, instead of two
    more passes over the whole output. Same shapes and layout as :func:`conv_forward`."""
    stride, pad = as_pair(stride), as_pair(pad)
    F, C, HH, WW = w.shape
    if HH == WW == 1 and pad == (0, 0):
        out, _ = conv_forward(x, w, b, stride, pad)
        return np.maximum(out, 0, out=out)

    tiled = {}  # the bias repeated over a chunk's rows: flat, long inner loops instead of F

    def epilogue(rows):
        flat = rows.reshape(-1)
        if b is not None:
            t = tiled.get(rows.shape[0])
            if t is None:
                t = tiled[rows.shape[0]] = np.tile(b.astype(rows.dtype), rows.shape[0])
            flat += t
        np.maximum(flat, 0, out=flat)

    N = x.shape[0]
    Ho, Wo = output_size(x.shape[2], HH, stride[0], pad[0]), output_size(x.shape[3], WW,
                                                                         stride[1], pad[1])
    w_mat = w.transpose(2, 3, 1, 0).reshape(HH * WW * C, F)
    out = np.empty((N * Ho * Wo, F), dtype=np.result_type(x.dtype, w.dtype))
    _over_patches(x.transpose(0, 2, 3, 1), (HH, WW), stride, pad, w_mat, out, epilogue=epilogue)
    return out.reshape(N, Ho, Wo, F).transpose(0, 3, 1, 2)


def conv_backward(dout, cache: ConvCache, need_dx=True, need_dw=True, need_db=True):
    """Gradients of :func:`conv_forward`.

    Args:
        dout: upstream gradient (N, F, Ho, Wo), any strides.
        cache: from :func:`conv_forward`.
        need_dx, need_dw, need_db: which gradients to compute (the others come back as None;
            skipping dx saves a GEMM and the scatter, e.g. for a first layer on raw images).
    Returns:
        dx (N, C, H, W), dw (F, C, HH, WW), db (F,).
    """
    if isinstance(cache, GeneralConvCache):
        return conv_backward_general(dout, cache, need_dx, need_dw, need_db)
    pixels, xn, w_mat, x_shape, (HH, WW), (sh, sw), (ph, pw) = cache
    N, C, H, W = x_shape
    _, F, Ho, Wo = dout.shape
    d = to_nhwc(dout).reshape(N * Ho * Wo, F)
    dx = dw = db = None
    if need_db:
        db = np.ones(d.shape[0], dtype=d.dtype) @ d
    if need_dw and pixels is None and xn is None:
        raise ValueError("conv_backward: dw was asked for but the cache holds no patches")
    pointwise = HH == WW == 1 and (ph, pw) == (0, 0)
    if (need_dx and not pointwise and (sh, sw) == (1, 1) and ph < HH and pw < WW
            and C >= _DX_CONV_MIN_C):
        # one im2col of the gradient serves dx and, with x's own rows, dW
        dx, dw = _dx_as_convolution(d, w_mat, x_shape, (HH, WW), (ph, pw),
                                    xn if need_dw else None)
    if need_dw and dw is None:
        # d^T im2col(x), the patches rebuilt a chunk at a time (cache-resident chunks cost no
        # more than reading one big saved patch matrix)
        dwm = d.T @ pixels if pixels is not None else _over_patches(xn, (HH, WW), (sh, sw),
                                                                     (ph, pw), rows_t=d)
        dw = np.ascontiguousarray(dwm.reshape(F, HH, WW, C).transpose(0, 3, 1, 2))
    if need_dx and dx is None:
        if pointwise:
            dxs = (d @ w_mat.T).reshape(N, Ho, Wo, C)
            if (sh, sw) != (1, 1):
                dx = np.zeros((N, H, W, C), dtype=d.dtype)
                dx[:, ::sh, ::sw] = dxs
                dxs = dx
            dx = dxs.transpose(0, 3, 1, 2)
        elif C >= _SMALL_C:
            dx = col2im(d @ w_mat.T, x_shape, (HH, WW), (sh, sw), (ph, pw))
        else:
            w4 = w_mat.reshape(HH, WW, C, F)
            dxp = np.zeros((N, H + 2 * ph, W + 2 * pw, C), dtype=d.dtype)
            for i in range(HH):
                for j in range(WW):
                    part = (d @ w4[i, j].T).reshape(N, Ho, Wo, C)
                    dxp[:, i : i + sh * Ho : sh, j : j + sw * Wo : sw] += part
            dx = dxp[:, ph : ph + H, pw : pw + W].transpose(0, 3, 1, 2)
    return dx, dw, db


def _dx_as_convolution(d, w_mat, x_shape, kernel, pad, xn=None):
    """dx of a stride-1 convolution as a convolution itself: the upstream gradient, zero-padded
    by (kh - 1 - ph, kw - 1 - pw), correlated with the kernel flipped in space and transposed in
    channels (F in, C out), chunked like the forward. d (N*Ho*Wo, F) -> dx (N, C, H, W), an NCHW
    view of NHWC memory.

    With xn, the forward's (N, H, W, C) input, the same patches of the gradient also give dW:
    row (n, h, w) of them holds d[n, h - i + ph, w - j + pw] under the flipped tap (kh-1-i,
    kw-1-j), exactly what x[n, h, w] multiplies in dW[i, j], so dW = x^T patches, flipped back;
    no im2col of x, a few percent off a ResNet-20 training step (docs/performance.md). Returns
    (dx, dw (F, C, kh, kw) or None)."""
    N, C, H, W = x_shape
    (HH, WW), (ph, pw) = kernel, pad
    F = w_mat.shape[1]
    Ho, Wo = H + 2 * ph - HH + 1, W + 2 * pw - WW + 1
    w_flip = w_mat.reshape(HH, WW, C, F)[::-1, ::-1].transpose(0, 1, 3, 2).reshape(HH * WW * F, C)
    dx = np.empty((N * H * W, C), dtype=np.result_type(d.dtype, w_mat.dtype))
    x_rows = None if xn is None else xn.reshape(N * H * W, C)  # a view if xn is contiguous
    flipped = _over_patches(d.reshape(N, Ho, Wo, F), kernel, (1, 1), (HH - 1 - ph, WW - 1 - pw),
                            w_flip, dx, x_rows)  # x^T patches: [c, (kh-1-i, kw-1-j, f)]
    dx = dx.reshape(N, H, W, C).transpose(0, 3, 1, 2)
    if flipped is None:
        return dx, None
    dw = np.ascontiguousarray(flipped.reshape(C, HH, WW, F)[:, ::-1, ::-1].transpose(3, 0, 1, 2))
    return dx, dw


def conv_output_shape(x_shape, w_shape, stride, pad, dilation=1) -> tuple:
    """(N, F, Ho, Wo) for an input of ``x_shape`` and filters of ``w_shape``."""
    (sh, sw), (ph, pw), (dh, dw) = as_pair(stride), as_pair(pad), as_pair(dilation)
    N, _, H, W = x_shape
    F, _, HH, WW = w_shape
    return N, F, output_size(H, HH, sh, ph, dh), output_size(W, WW, sw, pw, dw)


def conv_transpose_output_shape(x_shape, w_shape, stride, pad, output_pad=0, dilation=1,
                                groups=1) -> tuple:
    """(N, F, Ho, Wo) of a transposed convolution: x (N, C, H, W), w (C, F / groups, HH, WW),
    ``Ho = (H - 1) sh - 2 ph + dh (HH - 1) + oph + 1``, likewise Wo."""
    (sh, sw), (ph, pw), (dh, dw) = as_pair(stride), as_pair(pad), as_pair(dilation)
    oph, opw = as_pair(output_pad)
    N, _, H, W = x_shape
    _, Fg, HH, WW = w_shape
    return (N, Fg * groups, (H - 1) * sh - 2 * ph + dh * (HH - 1) + oph + 1,
            (W - 1) * sw - 2 * pw + dw * (WW - 1) + opw + 1)


def conv_transpose_forward(x, w, b, stride=1, pad=0, output_pad=0, dilation=1, groups=1):
    """Transposed convolution: the adjoint (dx) of the convolution with the same arguments.

    Args:
        x: (N, C, H, W); w: (C, F / groups, HH, WW) (PyTorch's layout); b: (F,) or None.
        stride, pad, dilation: those of the convolution it transposes; output_pad: extra
            rows/columns on the bottom/right of the output (< stride or dilation).
    Returns:
        out (N, F, Ho, Wo) (see :func:`conv_transpose_output_shape`), an NCHW view of NHWC
        memory; cache for :func:`conv_transpose_backward`.
    """
    stride, pad, dilation = as_pair(stride), as_pair(pad), as_pair(dilation)
    out_shape = conv_transpose_output_shape(x.shape, w.shape, stride, pad, output_pad, dilation,
                                            groups)
    C, Fg, HH, WW = w.shape
    # a convolution from out_shape to x's shape with w as its (C, F/G, HH, WW) filters has x as
    # its output; the transposed convolution is that convolution's input gradient
    if groups != 1 or dilation != (1, 1):
        mode, w_mat = weight_matrix(w, groups)
        fake = GeneralConvCache(mode, None, w_mat, out_shape, (HH, WW), stride, pad, dilation,
                                groups)
        out = conv_backward_general(x, fake, need_dx=True, need_dw=False, need_db=False)[0]
    else:
        fake = ConvCache(None, None, w.transpose(2, 3, 1, 0).reshape(HH * WW * Fg, C), out_shape,
                         (HH, WW), stride, pad)
        out = conv_backward(x, fake, need_dx=True, need_dw=False, need_db=False)[0]
    if b is not None:
        out = to_nhwc(out)
        out += b
        out = out.transpose(0, 3, 1, 2)
    return out, (x, w, stride, pad, as_pair(output_pad), dilation, groups)


def conv_transpose_backward(dout, cache, need_dx=True, need_dw=True, need_db=True):
    """Gradients of :func:`conv_transpose_forward`: dx (N, C, H, W), dw (C, F / G, HH, WW), db.

    With y = T(x) the adjoint of a convolution K: dx = K(dout) (a convolution forward of dout
    with the same filters), and dw is K's weight gradient with dout as K's input and x as K's
    upstream gradient.
    """
    x, w, stride, pad, _, dilation, groups = cache
    db = np.ones(dout.shape[0] * dout.shape[2] * dout.shape[3], dtype=dout.dtype) @ \
        to_nhwc(dout).reshape(-1, dout.shape[1]) if need_db else None
    if not (need_dx or need_dw):
        return None, None, db
    # K reads dout padded by (ph, pw) on top/left; the rows it reads end at (H - 1) sh +
    # dh (HH - 1) + 1, which output_padding can leave short of the padded bottom: lay dout out
    # in exactly that frame (cropping or zero-filling the bottom/right) and convolve unpadded
    N, C, H, W = x.shape
    HH, WW = w.shape[2:]
    (sh, sw), (ph, pw), (dh, dw_) = stride, pad, dilation
    Hn, Wn = (H - 1) * sh + dh * (HH - 1) + 1, (W - 1) * sw + dw_ * (WW - 1) + 1
    F = dout.shape[1]
    frame = np.zeros((N, Hn, Wn, F), dtype=dout.dtype)
    h1, w1 = min(dout.shape[2], Hn - ph), min(dout.shape[3], Wn - pw)
    frame[:, ph : ph + h1, pw : pw + w1] = dout[:, :, :h1, :w1].transpose(0, 2, 3, 1)
    dx, kcache = conv_forward(frame.transpose(0, 3, 1, 2), w, None, stride, 0, dilation, groups)
    dw = None
    if need_dw:
        dw = conv_backward(x, kcache, need_dx=False, need_dw=True, need_db=False)[1]
    return (dx if need_dx else None), dw, db
