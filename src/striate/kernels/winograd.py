"""Winograd's minimal filtering F(m x m, 3x3) for stride-1 3x3 convolutions (Lavin and Gray
2016), with output tiles of m = 2 or m = 4.

An m x m output tile of a 3x3 correlation needs 9 m^2 multiplications directly and a^2 in
Winograd's form, a = m + 2: ``Y = A^T [(G g G^T) * (B^T d B)] A`` for an a x a input tile ``d``
and filter ``g``. Over channels the elementwise product becomes a^2 independent GEMMs, one per
position of the transformed tile: ``M[xi] = V[xi] @ U[xi]`` with ``V`` (tiles, C) and ``U``
(C, F). F(2x2, 3x3) does 16 / 36 of the direct multiply-adds (2.25x fewer), F(4x4, 3x3) 36 / 144
(4x fewer), paid for with the transforms, and F(4x4)'s transforms (entries up to 5 in B^T, 8 in
A^T, 1/24 in G) lose a little more float32 precision.

Backward is the adjoint of the same linear maps: ``dM = A dY A^T``, ``dV[xi] = dM[xi] @
U[xi]^T``, ``dU = sum over tiles of V[xi]^T @ dM[xi]``, then ``dd = B dV B^T`` added back onto the
overlapping input windows, and ``dg = G^T dU G``.

Work goes a few images at a time, the batch split over striate's threads
(:func:`striate.parallel.parallel_for`), so that a chunk's transformed tiles stay in cache between
the transform, the GEMMs and the inverse transform: nothing the size of the batch is built but the
output (the backward transforms the input again rather than keeping ``V``, which would be
a^2 / m^2 times the input). The transforms are compiled loops (:mod:`striate.kernels.compiled`)
where numba is available and the arrays are big enough, and sums of strided slices in NumPy
otherwise (the tests compare the two).
"""

from __future__ import annotations

import numpy as np

from ..parallel import parallel_for
from . import compiled

__all__ = ["TILES", "transforms", "winograd_backward", "winograd_forward"]

# the matrices of F(m x m, 3x3): B^T (a, a), G (a, 3), A^T (m, a); the interpolation points are
# 0, 1, -1 (and infinity) for m = 2; 0, +-1, +-2 (and infinity) for m = 4
_MATRICES = {
    2: ([[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]],
        [[1, 0, 0], [1 / 2, 1 / 2, 1 / 2], [1 / 2, -1 / 2, 1 / 2], [0, 0, 1]],
        [[1, 1, 1, 0], [0, 1, -1, -1]]),
    4: ([[4, 0, -5, 0, 1, 0], [0, -4, -4, 1, 1, 0], [0, 4, -4, -1, 1, 0], [0, -2, -1, 2, 1, 0],
         [0, 2, -1, -2, 1, 0], [0, 4, 0, -5, 0, 1]],
        [[1 / 4, 0, 0], [-1 / 6, -1 / 6, -1 / 6], [-1 / 6, 1 / 6, -1 / 6],
         [1 / 24, 1 / 12, 1 / 6], [1 / 24, -1 / 12, 1 / 6], [0, 0, 1]],
        [[1, 1, 1, 1, 1, 0], [0, 1, -1, 2, -2, 0], [0, 1, 1, 4, 4, 0], [0, 1, -1, 8, -8, 1]]),
}
#: the output tile sizes m of F(m x m, 3x3) implemented
TILES = tuple(_MATRICES)

# transformed values per chunk (V and M together): a chunk's tiles stay in the core's L2
_CHUNK_VALUES = 1 << 18


def transforms(m: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(B^T, G, A^T)`` of F(m x m, 3x3) in float64."""
    if m not in _MATRICES:
        raise ValueError(f"winograd: tile must be one of {TILES}, got {m!r}")
    return tuple(np.array(t, dtype=np.float64) for t in _MATRICES[m])


def _grid(size: int, pad: int, m: int) -> tuple[int, int]:
    """(output length, tiles along it) of a stride-1 3x3 convolution of ``size`` pixels."""
    out = size + 2 * pad - 2
    return out, -(-out // m)


def _chunk_images(th: int, tw: int, m: int, C: int, F: int) -> int:
    """Images per chunk: about ``_CHUNK_VALUES`` transformed values (V and M), at least one."""
    per_image = (m + 2) ** 2 * th * tw * (C + F)
    return max(1, _CHUNK_VALUES // per_image)


def _chunks(a: int, b: int, step: int):
    for s in range(a, b, step):
        yield s, min(s + step, b)


def _combine(mat: np.ndarray, pick) -> list:
    """``[sum_k mat[i, k] * pick(k) for each row i]``, skipping the zeros of ``mat``."""
    rows = []
    for i in range(mat.shape[0]):
        acc = None
        for k in np.flatnonzero(mat[i]):
            term = pick(int(k)) * mat[i, k]
            acc = term if acc is None else acc + term
        rows.append(acc)
    return rows


# ---- the four transforms, NumPy (sums of strided slices) and compiled ----------------------
# All work on whole tiles: the input chunk zero-padded to (n, m th + 2, m tw + 2, C), the output
# and its gradient (n, m th, m tw, F); the driver below pads and crops.


def _input_numpy(xp, bt, m, v):
    """V = B^T d B for every tile of xp into v (a^2, n th tw, C)."""
    n, Hp, Wp, C = xp.shape
    a, th, tw = bt.shape[0], (Hp - 2) // m, (Wp - 2) // m
    rows = _combine(bt, lambda k: xp[:, k:k + m * th:m])  # a x (n, th, Wp, C)
    for i, r in enumerate(rows):
        for l_, c in enumerate(_combine(bt, lambda j, r=r: r[:, :, j:j + m * tw:m])):
            v[i * a + l_] = c.reshape(n * th * tw, C)


def _output_numpy(mm, at, m, out):
    """out = A^T M A per tile, out (n, m th, m tw, F)."""
    n, Ho, Wo, F = out.shape
    a, th, tw = at.shape[1], Ho // m, Wo // m
    mm = mm.reshape(a, a, n, th, tw, F)
    for o, r in enumerate(_combine(at, lambda i: mm[i])):  # (a, n, th, tw, F) each
        for p, y in enumerate(_combine(at, lambda l_, r=r: r[l_])):
            out[:, o::m, p::m] = y


def _output_adjoint_numpy(dy, at, m, dm):
    """dM = A dY A^T per tile of dy (n, m th, m tw, F)."""
    n, Ho, Wo, F = dy.shape
    a, th, tw = at.shape[1], Ho // m, Wo // m
    for i, r in enumerate(_combine(at.T, lambda o: dy[:, o::m])):  # (n, th, m tw, F) each
        for l_, c in enumerate(_combine(at.T, lambda p, r=r: r[:, :, p::m])):
            dm[i * a + l_] = c.reshape(n * th * tw, F)


def _input_adjoint_numpy(dv, bt, m, dxp):
    """B dV B^T per tile, added onto the windows of dxp (n, m th + 2, m tw + 2, C) the tiles
    were read from."""
    n, Hp, Wp, C = dxp.shape
    a, th, tw = bt.shape[0], (Hp - 2) // m, (Wp - 2) // m
    dv = dv.reshape(a, a, n, th, tw, C)
    for k, r in enumerate(_combine(bt.T, lambda i: dv[i])):  # (a, n, th, tw, C) each
        for j, d in enumerate(_combine(bt.T, lambda l_, r=r: r[l_])):
            dxp[:, k:k + m * th:m, j:j + m * tw:m] += d


def _sparse_rows(mat: np.ndarray, dtype) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(idx, cf, nnz)``: per row of mat, the columns of its nonzeros, their values (in
    dtype) and how many there are (the compiled transforms' form of a matrix)."""
    p, q = mat.shape
    idx, cf = np.zeros((p, q), dtype=np.int64), np.zeros((p, q), dtype=dtype)
    nnz = np.zeros(p, dtype=np.int64)
    for i in range(p):
        cols = np.flatnonzero(mat[i])
        nnz[i] = len(cols)
        idx[i, :len(cols)], cf[i, :len(cols)] = cols, mat[i, cols]
    return idx, cf, nnz


class _Plan:
    """The shapes, matrices and transforms of one call."""

    def __init__(self, x_shape, F, pad, m, dtype, use_compiled):
        N, C, H, W = x_shape
        self.m, self.a, self.pad, self.C, self.F, self.H, self.W = m, m + 2, pad, C, F, H, W
        (self.Ho, self.th), (self.Wo, self.tw) = _grid(H, pad, m), _grid(W, pad, m)
        self.exact = self.Ho == m * self.th and self.Wo == m * self.tw  # no partial tiles
        bt, self.g, at = transforms(m)
        self.dtype = dtype
        self.compiled = use_compiled
        if use_compiled:
            self.bt, self.b = _sparse_rows(bt, dtype), _sparse_rows(bt.T, dtype)
            self.at, self.a_ = _sparse_rows(at, dtype), _sparse_rows(at.T, dtype)
        else:
            self.bt, self.at = bt.astype(dtype), at.astype(dtype)
        self.nb = _chunk_images(self.th, self.tw, m, C, F)

    def tiles(self, n):
        return n * self.th * self.tw

    def padded(self, n, channels):
        """A zeroed buffer of n whole-tile padded inputs (n, m th + 2, m tw + 2, channels)."""
        return np.zeros((n, self.m * self.th + 2, self.m * self.tw + 2, channels), self.dtype)

    def input(self, xp, v):
        if self.compiled:
            compiled.winograd_input(xp, self.bt, self.m, v)
        else:
            _input_numpy(xp, self.bt, self.m, v)

    def output(self, mm, out):
        if self.compiled:
            compiled.winograd_output(mm, self.at, self.m, out)
        else:
            _output_numpy(mm, self.at, self.m, out)

    def output_adjoint(self, dy, dm):
        if self.compiled:
            compiled.winograd_output_adjoint(dy, self.a_, self.m, dm)
        else:
            _output_adjoint_numpy(dy, self.at, self.m, dm)

    def input_adjoint(self, dv, dxp):
        if self.compiled:
            compiled.winograd_input_adjoint(dv, self.b, self.m, dxp)
        else:
            _input_adjoint_numpy(dv, self.bt, self.m, dxp)


def winograd_forward(x, w, b, pad: int = 1, tile: int = 2):
    """Stride-1 3x3 convolution of x (N, C, H, W) with w (F, C, 3, 3), bias b (F,) or None, by
    F(tile x tile, 3x3) (``tile`` in :data:`TILES`).

    Returns ``out`` (N, F, H + 2 pad - 2, W + 2 pad - 2), an NCHW view of channels-last memory
    as the other conv kernels return, and a cache for the backward.
    """
    N, C, H, W = x.shape
    F = w.shape[0]
    dt = np.result_type(x.dtype, w.dtype)
    xn = x.transpose(0, 2, 3, 1)
    plan = _Plan(x.shape, F, pad, tile, dt, compiled.enabled(x))
    a, m, Ho, Wo = plan.a, tile, plan.Ho, plan.Wo
    # U = G g G^T, (a^2, C, F), in float64 then rounded once
    u = plan.g @ w.astype(np.float64) @ plan.g.T  # (F, C, a, a)
    u = np.ascontiguousarray(u.transpose(2, 3, 1, 0).reshape(a * a, C, F), dtype=dt)
    out = np.empty((N, Ho, Wo, F), dtype=dt)

    def part(i0, i1):
        xp = plan.padded(min(plan.nb, i1 - i0), C)
        full = None if plan.exact else np.empty((len(xp), m * plan.th, m * plan.tw, F), dt)
        for s0, s1 in _chunks(i0, i1, plan.nb):
            n = s1 - s0
            xp[:n, pad:pad + H, pad:pad + W] = xn[s0:s1]
            v = np.empty((a * a, plan.tiles(n), C), dtype=dt)
            plan.input(xp[:n], v)
            if plan.exact:
                plan.output(np.matmul(v, u), out[s0:s1])
            else:
                plan.output(np.matmul(v, u), full[:n])
                out[s0:s1] = full[:n, :Ho, :Wo]

    parallel_for(N, part, min_part=plan.nb)
    if b is not None:
        out += b.astype(dt)
    cache = (xn, w, u, pad, tile, b is not None)
    return out.transpose(0, 3, 1, 2), cache


def winograd_backward(dout, cache):
    """Gradients ``(dx, dw, db)`` of :func:`winograd_forward` (db None without a bias)."""
    xn, w, u, pad, tile, has_bias = cache
    N, H, W, C = xn.shape
    F = w.shape[0]
    dt = u.dtype
    dyn = dout.transpose(0, 2, 3, 1)
    plan = _Plan((N, C, H, W), F, pad, tile, dt, compiled.enabled(dout))
    a, m, Ho, Wo = plan.a, tile, plan.Ho, plan.Wo
    ut = np.ascontiguousarray(u.transpose(0, 2, 1))
    dx = np.empty((N, H, W, C), dtype=dt)

    def part(i0, i1):
        du = np.zeros((a * a, C, F), dtype=dt)
        nb = min(plan.nb, i1 - i0)
        xp = plan.padded(nb, C)
        dyp = np.zeros((nb, m * plan.th, m * plan.tw, F), dt)
        for s0, s1 in _chunks(i0, i1, plan.nb):
            n, t = s1 - s0, plan.tiles(s1 - s0)
            xp[:n, pad:pad + H, pad:pad + W] = xn[s0:s1]
            dyp[:n, :Ho, :Wo] = dyn[s0:s1]
            v = np.empty((a * a, t, C), dtype=dt)
            dm = np.empty((a * a, t, F), dtype=dt)
            plan.input(xp[:n], v)
            plan.output_adjoint(dyp[:n], dm)
            du += np.matmul(v.transpose(0, 2, 1), dm)
            dxp = plan.padded(n, C)
            plan.input_adjoint(np.matmul(dm, ut), dxp)
            dx[s0:s1] = dxp[:, pad:pad + H, pad:pad + W]
        return du

    du = sum(parallel_for(N, part, min_part=plan.nb))
    # dg = G^T dU G, in float64
    dw = plan.g.T @ du.reshape(a, a, C, F).transpose(3, 2, 0, 1).astype(np.float64) @ plan.g
    db = dout.sum(axis=(0, 2, 3)) if has_bias else None
    return dx.transpose(0, 3, 1, 2), dw.astype(w.dtype), db
