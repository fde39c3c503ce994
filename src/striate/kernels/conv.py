"""Convolution as one GEMM: ``conv_forward`` / ``conv_backward`` on raw arrays (no autograd).

Forward: ``out = im2col(x) @ W + b`` with W the filters as a (kh*kw*C, F) matrix. Backward, with
``d`` the upstream gradient as an (N*Ho*Wo, F) matrix:

    dW = d^T cols        (one GEMM)
    db = 1^T d           (a ones-vector product; faster than d.sum(0))
    dx = col2im(d W^T)   (one GEMM, then a scatter-add per kernel offset)

Below 128 input channels dx skips the big (N*Ho*Wo, kh*kw*C) matrix ``d W^T``, whose short rows
make the scatter crawl: it sums one thin GEMM per kernel offset, ``d @ W[i, j]^T`` (N*Ho*Wo, C),
each added to its shifted slice of dx. Measured on 2 cores, batch 128, 3x3, padding 1 (dx only):
C=3 at 32x32 11 ms against 19; C=16 at 32x32 24 against 51; C=32 at 16x16 21 against 28; C=64 at
8x8 about even; C=128 at 4x4 5.8 against 4.0, where col2im wins. Everything runs NHWC inside; see
:mod:`striate.kernels.im2col`.

A 1x1 convolution without padding needs no im2col at all: its patches are the (strided) pixels
themselves, so forward is ``x_nhwc @ W`` and dx is ``d W^T`` written straight into dx. Dilation
and groups (grouped and depthwise) go to :mod:`striate.kernels.conv_general`. The transposed
convolution (:func:`conv_transpose_forward`) is the adjoint of a convolution: its forward is a
convolution's dx, its backward a convolution forward (dx) and a convolution's dw.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .conv_general import (
    GeneralConvCache,
    conv_backward_general,
    conv_forward_general,
    weight_matrix,
)
from .im2col import col2im, output_size, pad_nhwc, pair, to_nhwc, window_view

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


class ConvCache(NamedTuple):
    """What :func:`conv_backward` needs: the patches (for dW) and the weight matrix (for dx)."""

    cols: np.ndarray | None  # (N*Ho*Wo, kh*kw*C); None when no dW will be asked for
    w_mat: np.ndarray  # (kh*kw*C, F)
    x_shape: tuple
    kernel: tuple
    stride: tuple
    pad: tuple


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
    stride, pad = pair(stride, "stride"), pair(pad, "pad")
    dilation = pair(dilation, "dilation")
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
        cache = ConvCache(cols, w_mat, x.shape, (1, 1), stride, pad)
        return out.reshape(N, Ho, Wo, F).transpose(0, 3, 1, 2), cache
    xp = pad_nhwc(x, pad)
    win = window_view(xp, (HH, WW), stride)
    Ho, Wo = win.shape[1], win.shape[2]
    cols = win.reshape(N * Ho * Wo, HH * WW * C)
    w_mat = w.transpose(2, 3, 1, 0).reshape(HH * WW * C, F)
    out = cols @ w_mat
    if b is not None:
        out += b
    cache = ConvCache(cols, w_mat, x.shape, (HH, WW), stride, pad)
    return out.reshape(N, Ho, Wo, F).transpose(0, 3, 1, 2), cache


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
    cols, w_mat, x_shape, (HH, WW), (sh, sw), (ph, pw) = cache
    N, C, H, W = x_shape
    _, F, Ho, Wo = dout.shape
    d = to_nhwc(dout).reshape(N * Ho * Wo, F)
    dx = dw = db = None
    if need_db:
        db = np.ones(d.shape[0], dtype=d.dtype) @ d
    if need_dw:
        if cols is None:
            raise ValueError("conv_backward: dw was asked for but the cache holds no patches")
        dw = np.ascontiguousarray((d.T @ cols).reshape(F, HH, WW, C).transpose(0, 3, 1, 2))
    if need_dx:
        if HH == WW == 1 and (ph, pw) == (0, 0):
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


def conv_output_shape(x_shape, w_shape, stride, pad, dilation=1) -> tuple:
    """(N, F, Ho, Wo) for an input of ``x_shape`` and filters of ``w_shape``."""
    (sh, sw), (ph, pw), (dh, dw) = pair(stride), pair(pad), pair(dilation)
    N, _, H, W = x_shape
    F, _, HH, WW = w_shape
    return N, F, output_size(H, HH, sh, ph, dh), output_size(W, WW, sw, pw, dw)


def conv_transpose_output_shape(x_shape, w_shape, stride, pad, output_pad=0, dilation=1,
                                groups=1) -> tuple:
    """(N, F, Ho, Wo) of a transposed convolution: x (N, C, H, W), w (C, F / groups, HH, WW),
    ``Ho = (H - 1) sh - 2 ph + dh (HH - 1) + oph + 1``, likewise Wo."""
    (sh, sw), (ph, pw), (dh, dw) = pair(stride), pair(pad), pair(dilation)
    oph, opw = pair(output_pad)
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
    stride, pad, dilation = pair(stride, "stride"), pair(pad, "pad"), pair(dilation, "dilation")
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
        fake = ConvCache(None, w.transpose(2, 3, 1, 0).reshape(HH * WW * Fg, C), out_shape,
                         (HH, WW), stride, pad)
        out = conv_backward(x, fake, need_dx=True, need_dw=False, need_db=False)[0]
    if b is not None:
        out = to_nhwc(out)
        out += b
        out = out.transpose(0, 3, 1, 2)
    return out, (x, w, stride, pad, pair(output_pad), dilation, groups)


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
