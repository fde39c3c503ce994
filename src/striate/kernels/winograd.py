"""Winograd's minimal filtering F(2x2, 3x3) for stride-1 3x3 convolutions (Lavin and Gray 2016).

A 2x2 output tile of a 3x3 correlation needs 36 multiplications directly and 16 in Winograd's
form: ``Y = A^T [(G g G^T) * (B^T d B)] A`` for a 4x4 input tile ``d`` and filter ``g``. Over
channels, the elementwise product becomes 16 independent GEMMs (one per position of the 4x4
transformed tile): ``M[xi] = V[xi] @ U[xi]`` with ``V`` (tiles, C) and ``U`` (C, F), so the work
is 16 GEMMs of (N*T, C) x (C, F) instead of one of (N*H*W, 9C) x (9C, F): 2.25x fewer
multiply-adds, paid for with the transforms.

Backward is the adjoint of the same linear maps: ``dM = A dY A^T``, ``dV[xi] = dM[xi] @ U[xi]^T``
and ``dU[xi] = V[xi]^T @ dM[xi]``, then ``dd = B dV B^T`` scattered back onto the overlapping
input tiles and ``dg = G^T dU G``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["winograd_forward", "winograd_backward", "BT", "G", "AT"]

BT = np.array([[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]], dtype=np.float64)
G = np.array([[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]], dtype=np.float64)
AT = np.array([[1, 1, 1, 0], [0, 1, -1, -1]], dtype=np.float64)


# the transforms as sums of slices: B^T, G and A^T hold only 0, +-1 and 1/2, so each row of
# a transformed tile is a sum of two or three rows of the tile (no matrix product needed)
_BT_ROWS = (((0, 1), (2, -1)), ((1, 1), (2, 1)), ((2, 1), (1, -1)), ((1, 1), (3, -1)))
_AT_ROWS = (((0, 1), (1, 1), (2, 1)), ((1, 1), (2, -1), (3, -1)))
_A_ROWS = (((0, 1),), ((0, 1), (1, 1)), ((0, 1), (1, -1)), ((1, -1),))
_B_ROWS = (((0, 1),), ((1, 1), (2, -1), (3, 1)), ((0, -1), (1, 1), (2, 1)), ((3, -1),))


def _combine(rows, pick):
    """``[sum_j c_j * pick(j) for each row]`` with the (index, coefficient) lists of ``rows``."""
    out = []
    for terms in rows:
        (j0, c0), rest = terms[0], terms[1:]
        acc = pick(j0) * c0 if c0 != 1 else pick(j0).copy()
        for j, c in rest:
            if c == 1:
                acc += pick(j)
            else:
                acc -= pick(j)
        out.append(acc)
    return out


def _to_nhwc_padded(x, pad, hp, wp):
    N, C, H, W = x.shape
    xp = np.zeros((N, hp, wp, C), dtype=x.dtype)
    xp[:, pad:pad + H, pad:pad + W, :] = x.transpose(0, 2, 3, 1)
    return xp


def winograd_forward(x, w, b, pad: int = 1):
    """Stride-1 3x3 convolution of x (N, C, H, W) with w (F, C, 3, 3), bias b (F,) or None.

    Returns ``out`` (N, F, H + 2 pad - 2, W + 2 pad - 2), an NCHW view of channels-last memory
    as the other conv kernels return, and a cache for the backward.
    """
    N, C, H, W = x.shape
    F = w.shape[0]
    Ho, Wo = H + 2 * pad - 2, W + 2 * pad - 2
    th, tw = (Ho + 1) // 2, (Wo + 1) // 2
    dt = x.dtype
    # pad to whole tiles: 2 t + 2 rows cover t output tiles (an odd size gets a spare row)
    xp = _to_nhwc_padded(x, pad, 2 * th + 2, 2 * tw + 2)
    # V = B^T d B for every tile: rows of the tile are every other row of xp, offset by i
    rows = _combine(_BT_ROWS, lambda i: xp[:, i:i + 2 * th:2, :, :])  # 4 x (N, th, Wp, C)
    v = np.empty((16, N * th * tw, C), dtype=dt)
    for k, r in enumerate(rows):
        cols = _combine(_BT_ROWS, lambda j, r=r: r[:, :, j:j + 2 * tw:2, :])
        for l_, c in enumerate(cols):
            v[4 * k + l_] = c.reshape(N * th * tw, C)
    u = np.einsum("ij,fcjk,lk->ilcf", G, w.astype(np.float64), G).reshape(16, C, F).astype(dt)
    m = np.matmul(v, u).reshape(4, 4, N, th, tw, F)  # the 16 GEMMs
    out = np.empty((N, 2 * th, 2 * tw, F), dtype=dt)
    srows = _combine(_AT_ROWS, lambda i: m[i])  # 2 x (4, N, th, tw, F)
    for a, sr in enumerate(srows):
        for b_, y in enumerate(_combine(_AT_ROWS, lambda j, sr=sr: sr[j])):
            out[:, a::2, b_::2, :] = y
    out = out[:, :Ho, :Wo, :]
    if b is not None:
        out += b.astype(dt)
    cache = (x.shape, w, v, u, pad, (th, tw), b is not None)
    return out.transpose(0, 3, 1, 2), cache


def winograd_backward(dout, cache):
    """Gradients ``(dx, dw, db)`` of :func:`winograd_forward` (db None without a bias)."""
    x_shape, w, v, u, pad, (th, tw), has_bias = cache
    N, C, H, W = x_shape
    F = w.shape[0]
    dt = v.dtype
    Ho, Wo = dout.shape[2], dout.shape[3]
    dy = np.zeros((N, 2 * th, 2 * tw, F), dtype=dt)
    dy[:, :Ho, :Wo, :] = dout.transpose(0, 2, 3, 1)
    # dM = A dY A^T: the adjoint of Y = A^T M A
    dm = np.empty((16, N * th * tw, F), dtype=dt)
    trows = _combine(_A_ROWS, lambda a: dy[:, a::2, :, :])  # 4 x (N, th, 2tw, F)
    for k, t in enumerate(trows):
        for l_, c in enumerate(_combine(_A_ROWS, lambda b_, t=t: t[:, :, b_::2, :])):
            dm[4 * k + l_] = c.reshape(N * th * tw, F)
    dv = np.matmul(dm, u.transpose(0, 2, 1)).reshape(4, 4, N, th, tw, C)
    du = np.matmul(v.transpose(0, 2, 1), dm)  # (16, C, F)
    dw = np.einsum("ij,ilcf,lk->fcjk", G, du.reshape(4, 4, C, F).astype(np.float64), G)
    # dd = B dV B^T per tile, added back onto the overlapping places each tile was read from
    dxp = np.zeros((N, 2 * th + 2, 2 * tw + 2, C), dtype=dt)
    drows = _combine(_B_ROWS, lambda k: dv[k])  # 4 x (4, N, th, tw, C)
    for i, dr in enumerate(drows):
        for j, d in enumerate(_combine(_B_ROWS, lambda l_, dr=dr: dr[l_])):
            dxp[:, i:i + 2 * th:2, j:j + 2 * tw:2, :] += d
    dx = dxp[:, pad:pad + H, pad:pad + W, :].transpose(0, 3, 1, 2)
    db = dout.sum(axis=(0, 2, 3)) if has_bias else None
    return dx, dw.astype(w.dtype), db
