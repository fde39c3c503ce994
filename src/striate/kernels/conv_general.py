"""Convolution with dilation and groups (``conv_forward`` hands these cases here).

- Dilation spaces the kernel taps ``dilation`` pixels apart: the same im2col GEMM over a window
  view whose kernel strides are multiplied by the dilation (no copy until the GEMM's one).
- Groups split the C input and F output channels into G independent convolutions (ResNeXt's
  grouped convolution). The patches are copied once into (G, M, kh*kw*C/G), channels of one group
  contiguous, and one batched GEMM ``np.matmul`` runs all groups: (G, M, K) @ (G, K, F/G). The
  copies that move groups to the front (and back) treat a group's C/G channel values as one
  opaque item (a void/uint dtype of C/G * itemsize bytes): NumPy then moves whole runs instead of
  looping over a 4-long inner axis, 1.5x faster for ResNeXt's 4 channels per group.
- Depthwise (G = C, one input channel per group, MobileNet's and Xception's) makes those GEMMs
  (M, kh*kw) @ (kh*kw, m), far too thin for BLAS; instead the output is accumulated over the
  kh*kw kernel offsets, each a vectorised multiply of a shifted view of the input by one tap per
  channel, which runs on contiguous channel vectors in NHWC. A channel multiplier m > 1 (output
  channel c m + k reads input channel c) repeats each input channel m times first, so the inner
  loops always run over one contiguous channel axis (a trailing axis of length m is ~10x slower).
  With numba installed, compiled loops (:mod:`striate.kernels.compiled`) do it in one pass.

Shapes as in :mod:`striate.kernels.conv`; x (N, C, H, W), w (F, C/G, HH, WW), out (N, F, Ho, Wo)
with ``Ho = (H + 2 ph - dh (HH - 1) - 1) // sh + 1``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from . import compiled
from .im2col import pad_nhwc, window_view
from .layout import to_nhwc

__all__ = ["GeneralConvCache", "conv_backward_general", "conv_forward_general", "weight_matrix"]


class GeneralConvCache(NamedTuple):
    """What :func:`conv_backward_general` needs."""

    mode: str  # "dense" (G = 1), "grouped", or "depthwise"
    patches: np.ndarray | None  # dense/grouped: the im2col matrix; depthwise: the padded NHWC
    #                              input, each channel repeated m times
    w_mat: np.ndarray  # dense (K, F); grouped (G, K, F/G); depthwise (HH, WW, F)
    x_shape: tuple
    kernel: tuple
    stride: tuple
    pad: tuple
    dilation: tuple
    groups: int

    def drop_patches(self) -> GeneralConvCache:
        """The cache without what only dW reads (when the weight is frozen)."""
        return self._replace(patches=None)


def _items(a, n):
    """View a's last axis (contiguous, a multiple of n long) as items of n values each."""
    nbytes = n * a.itemsize
    return a.view({4: np.uint32, 8: np.uint64}.get(nbytes, np.dtype(f"V{nbytes}")))


def _swap_blocks(a, rows, blocks, n):
    """(rows, blocks * n) -> (blocks, rows * n): move block-of-n runs from row-major to
    block-major order in one copy (a contiguous)."""
    return np.ascontiguousarray(_items(a.reshape(rows, blocks * n), n).T).view(a.dtype)


def weight_matrix(w, groups):
    """The mode and the weight laid out for it: filters w (F, C/G, HH, WW) ->
    dense (HH*WW*C, F); grouped (G, HH*WW*C/G, F/G); depthwise (one input channel per group,
    F = C m) (HH, WW, F)."""
    F, Cg, HH, WW = w.shape
    if groups == 1:
        return "dense", w.transpose(2, 3, 1, 0).reshape(HH * WW * Cg, F)
    if Cg == 1:
        return "depthwise", w[:, 0].transpose(1, 2, 0)  # (HH, WW, F), F = C m
    Fg = F // groups
    return "grouped", (w.reshape(groups, Fg, Cg, HH, WW).transpose(0, 3, 4, 2, 1)
                       .reshape(groups, HH * WW * Cg, Fg))


def conv_forward_general(x, w, b, stride, pad, dilation, groups, need_patches=True):
    """Convolution of x (N, C, H, W) with w (F, C/groups, HH, WW), any stride/pad/dilation/groups.

    Returns out (N, F, Ho, Wo) (an NCHW view of NHWC memory) and a :class:`GeneralConvCache`
    (without the patches when ``need_patches`` is False: no weight gradient will be asked for).
    """
    F, Cg, HH, WW = w.shape
    N, C = x.shape[:2]
    G = groups
    mode, w_mat = weight_matrix(w, G)
    xp = pad_nhwc(x, pad)
    win = window_view(xp, (HH, WW), stride, dilation)  # (N, Ho, Wo, HH, WW, C)
    Ho, Wo = win.shape[1], win.shape[2]
    M = N * Ho * Wo
    if mode == "dense":
        patches = win.reshape(M, HH * WW * C)
        out = patches @ w_mat
    elif mode == "grouped":
        # one copy: the window view over group items (C/G channels each), group to the front
        winv = window_view(_items(xp, Cg), (HH, WW), stride, dilation)  # (N, Ho, Wo, HH, WW, G)
        patches = np.ascontiguousarray(winv.transpose(5, 0, 1, 2, 3, 4)).view(x.dtype)
        patches = patches.reshape(G, M, HH * WW * Cg)
        out = _swap_blocks(np.matmul(patches, w_mat), G, M, F // G).reshape(M, F)
    else:  # depthwise: F = C m, output channel c m + k reads input channel c
        if F != C:
            xp = np.repeat(xp, F // C, axis=3)
            win = window_view(xp, (HH, WW), stride, dilation)
        patches = xp
        if compiled.enabled(xp):
            out = np.empty((N, Ho, Wo, F), dtype=x.dtype)
            compiled.depthwise_forward(xp, np.ascontiguousarray(w_mat), *stride, *dilation, out)
        else:
            out = np.multiply(win[:, :, :, 0, 0], w_mat[0, 0])  # (N, Ho, Wo, F)
            tmp = np.empty_like(out)
            for i in range(HH):
                for j in range(WW):
                    if i or j:
                        np.multiply(win[:, :, :, i, j], w_mat[i, j], out=tmp)
                        out += tmp
        out = out.reshape(M, F)
    if b is not None:
        out += b
    cache = GeneralConvCache(mode, patches if need_patches else None, w_mat, x.shape,
                             (HH, WW), stride, pad, dilation, G)
    return out.reshape(N, Ho, Wo, F).transpose(0, 3, 1, 2), cache


def _depthwise_backward_compiled(d4, cache, need_dx, need_dw, hw):
    """dx (N, C, H, W) and dw (F, 1, HH, WW) of a depthwise convolution, compiled loops."""
    _, xp, w_mat, x_shape, (HH, WW), stride, (ph, pw), dilation, _ = cache
    N, C = x_shape[:2]
    H, W = hw
    F = d4.shape[3]
    w = np.ascontiguousarray(w_mat)
    if xp is None:  # only dx is needed: the input is never read
        xp = np.empty((1, 1, 1, F), dtype=d4.dtype)
    dxp = np.zeros((N, H + 2 * ph, W + 2 * pw, F) if need_dx else (1, 1, 1, F), dtype=d4.dtype)
    dwt = np.zeros((HH, WW, F) if need_dw else (1, 1, F), dtype=np.float64)
    compiled.depthwise_backward(xp, w, np.ascontiguousarray(d4), *stride, *dilation, dxp, dwt,
                                need_dx, need_dw)
    dx = dw = None
    if need_dx:
        dx = dxp[:, ph : ph + H, pw : pw + W]
        if F != C:
            dx = dx.reshape(N, H, W, C, F // C).sum(-1)
        dx = dx.transpose(0, 3, 1, 2)
    if need_dw:
        dw = np.ascontiguousarray(dwt.astype(d4.dtype).transpose(2, 0, 1)[:, None])
    return dx, dw


def _scatter_patches(dpatch, dtype, x_shape, kernel, stride, pad, dilation, out_hw):
    """dx from per-patch gradients: ``dpatch(i, j)`` is (N, Ho, Wo, C) for kernel offset (i, j),
    added onto the input pixels that offset read. Returns dx (N, C, H, W), an NCHW view."""
    N, C, H, W = x_shape
    (HH, WW), (sh, sw), (ph, pw), (dh, dw) = kernel, stride, pad, dilation
    Ho, Wo = out_hw
    dxp = np.zeros((N, H + 2 * ph, W + 2 * pw, C), dtype=dtype)
    for i in range(HH):
        for j in range(WW):
            a, c = i * dh, j * dw
            dxp[:, a : a + sh * Ho : sh, c : c + sw * Wo : sw] += dpatch(i, j)
    return dxp[:, ph : ph + H, pw : pw + W].transpose(0, 3, 1, 2)


def _dx_as_convolution(dout, w_mat, x_shape, kernel, pad, dilation, G):
    """dx of a stride-1 (grouped, dilated) convolution as such a convolution itself: dout padded
    by ``d (k - 1) - p`` on each side, correlated with each group's kernel flipped in space and
    transposed in channels (F/G in, C/G out per group); w_mat (G, HH*WW*C/G, F/G). No per-offset
    scatter: one thread, 3x3, (32, 128, 16, 16) with 32 groups 17.7 -> 10 ms. (For a dilated
    dense convolution the per-offset GEMMs measured faster: 6.0 against 7.0 ms.)"""
    N, C, H, W = x_shape
    HH, WW = kernel
    Fg, Cg = w_mat.shape[2], C // G
    # w_mat (G, HH*WW*Cg, Fg) -> filters (C, Fg, HH, WW): output channel g*Cg + ci of the dx
    # convolution reads the group's Fg gradient channels through tap (HH-1-a, WW-1-b)
    w5 = w_mat.reshape(G, HH, WW, Cg, Fg)[:, ::-1, ::-1]
    w_dx = np.ascontiguousarray(w5.transpose(0, 3, 4, 1, 2)).reshape(C, Fg, HH, WW)
    pad_dx = (dilation[0] * (HH - 1) - pad[0], dilation[1] * (WW - 1) - pad[1])
    dx, _ = conv_forward_general(dout, w_dx, None, (1, 1), pad_dx, dilation, G,
                                 need_patches=False)
    return dx


def conv_backward_general(dout, cache: GeneralConvCache, need_dx=True, need_dw=True,
                          need_db=True):
    """Gradients of :func:`conv_forward_general`: dx (N, C, H, W), dw (F, C/G, HH, WW), db (F,)
    (None for those not asked for)."""
    mode, patches, w_mat, x_shape, (HH, WW), stride, pad, dilation, G = cache
    N, C, H, W = x_shape
    _, F, Ho, Wo = dout.shape
    M = N * Ho * Wo
    d = to_nhwc(dout).reshape(M, F)
    dx = dw = db = None
    if need_db:
        db = np.ones(M, dtype=d.dtype) @ d
    if need_dw and patches is None:
        raise ValueError("conv_backward: dw was asked for but the cache holds no patches")
    geom = (d.dtype, x_shape, (HH, WW), stride, pad, dilation, (Ho, Wo))
    if mode == "dense":
        # out = P W  =>  dW = P^T d, dP = d W^T (scattered back per kernel offset)
        if need_dw:
            dw = (d.T @ patches).reshape(F, HH, WW, C).transpose(0, 3, 1, 2)
        if need_dx:  # per offset (faster here than as a convolution: _dx_as_convolution)
            w4 = w_mat.reshape(HH, WW, C, F)
            dx = _scatter_patches(lambda i, j: (d @ w4[i, j].T).reshape(N, Ho, Wo, C), *geom)
    elif mode == "grouped":
        Fg, Cg = F // G, C // G
        dg = _swap_blocks(d, M, G, Fg).reshape(G, M, Fg)
        if need_dw:  # per group dW_g = P_g^T d_g
            dwg = np.matmul(dg.transpose(0, 2, 1), patches)  # (G, F/G, HH*WW*Cg)
            dw = dwg.reshape(G, Fg, HH, WW, Cg).transpose(0, 1, 4, 2, 3).reshape(F, Cg, HH, WW)
        # a stride-1 dx is itself a grouped convolution (of the padded gradient with the
        # flipped kernel), when the convolution read every input row and column (a transposed
        # convolution's output_padding leaves some unread)
        dx_as_conv = stride == (1, 1) and all(
            p <= dl * (k - 1) and o == n + 2 * p - dl * (k - 1)
            for p, dl, k, o, n in zip(pad, dilation, (HH, WW), (Ho, Wo), (H, W)))
        if need_dx and dx_as_conv:
            dx = _dx_as_convolution(dout, w_mat, x_shape, (HH, WW), pad, dilation, G)
        elif need_dx:
            # dP_g = d_g W_g^T, back to the (M, HH*WW, C) layout of a dense im2col, scattered
            dpg = np.matmul(dg, w_mat.transpose(0, 2, 1))  # (G, M, HH*WW*Cg)
            d6 = _swap_blocks(dpg, G, M * HH * WW, Cg).reshape(N, Ho, Wo, HH, WW, C)
            dx = _scatter_patches(lambda i, j: d6[:, :, :, i, j], *geom)
    else:  # depthwise: out[..., f] = sum_ij x_rep_shift(i, j)[..., f] w[i, j, f]
        d4 = d.reshape(N, Ho, Wo, F)
        if compiled.enabled(d4) and (patches is not None or not need_dw):
            return (*_depthwise_backward_compiled(d4, cache, need_dx, need_dw, (H, W)), db)
        if need_dw:
            # dw[f, i, j] = sum over (n, ho, wo) of x_rep_shift(i, j) d, a ones-vector product
            win = window_view(patches, (HH, WW), stride, dilation)
            dwt = np.empty((HH, WW, F), dtype=d.dtype)
            ones = np.ones(M, dtype=d.dtype)
            prod = np.empty_like(d4)
            for i in range(HH):
                for j in range(WW):
                    np.multiply(win[:, :, :, i, j], d4, out=prod)
                    dwt[i, j] = ones @ prod.reshape(M, F)
            dw = dwt.transpose(2, 0, 1)[:, None]
        if need_dx:
            # dx of the repeated input (F channels), then the m copies of each channel summed
            dx = _scatter_patches(lambda i, j: d4 * w_mat[i, j], d.dtype, (N, F, H, W),
                                  *geom[2:])
            if F != C:
                dx = dx.transpose(0, 2, 3, 1).reshape(N, H, W, C, F // C).sum(-1)
                dx = dx.transpose(0, 3, 1, 2)
    if dw is not None:
        dw = np.ascontiguousarray(dw)
    return dx, dw, db
