"""Winograd's minimal filtering F(m x m, 3x3) for stride-1 3x3 convolutions (Lavin and Gray
2016), with output tiles of m = 2 or m = 4.

An m x m output tile of a 3x3 correlation needs 9 m^2 multiplications directly and a^2 in
Winograd's form, a = m + 2: ``Y = A^T [(G g G^T) * (B^T d B)] A`` for an a x a input tile ``d``
and filter ``g``. Over channels the elementwise product becomes a^2 independent GEMMs, one per
position of the transformed tile: ``M[xi] = V[xi] @ U[xi]`` with ``V`` (tiles, C) and ``U``
(C, F). F(2x2, 3x3) does 16 / 36 of the direct multiply-adds (2.25x fewer), F(4x4, 3x3) 36 / 144
(4x fewer), paid for with the transforms; F(4x4)'s transforms (entries up to 5 in B^T, 8 in A^T,
1/24 in G) lose a little more float32 precision.

Backward is the adjoint of the same linear maps: ``dM = A dY A^T``, ``dV[xi] = dM[xi] @
U[xi]^T``, ``dU = sum over tiles of V[xi]^T @ dM[xi]``, then ``dd = B dV B^T`` added back onto the
overlapping input windows, and ``dg = G^T dU G``.

Work goes a few images at a time, the batch split over striate's threads
(:func:`striate.parallel.parallel_for`), so that a chunk's transformed tiles stay in cache from
the transform through the GEMMs to the inverse transform: nothing the size of the batch is built
but the output (the backward transforms the input again rather than keeping ``V``, a^2 / m^2
times the input). Inside a chunk the tiles' columns are split by their place in the tile: the
padded input as (n, rows, a, tw, C) with ``[.., j, tx, :]`` the pixel column ``m tx + j``
(neighbouring tiles share two columns, which appear twice), the output as (n, th, m, m, tw, F)
with ``[.., o, p, tx, :]`` the pixel (m ty + o, m tx + p). Then each step of a transform
combines, for a whole row of tiles, contiguous runs of tw C values (not one pixel's C channels,
too short for a vectorised loop). The transforms are compiled loops
(:mod:`striate.kernels.compiled`) where numba is available and the arrays are big enough, and
sums of strided slices in NumPy otherwise (the tests compare the two).
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


# ---- the four transforms in NumPy, on the column-split layouts (module docstring) ------------


def _input_numpy(xq, bt, m, v):
    """v[i a + l] = (B^T d B)[i, l] for every tile of xq (n, Hp, a, tw, C) into v (a^2, T, C)."""
    n, Hp, a, tw, C = xq.shape
    th = (Hp - 2) // m
    for i, r in enumerate(_combine(bt, lambda k: xq[:, k:k + m * th:m])):  # (n, th, a, tw, C)
        for l_, c in enumerate(_combine(bt, lambda j, r=r: r[:, :, j])):
            v[i * a + l_] = c.reshape(n * th * tw, C)


def _output_numpy(mm, at, m, yq):
    """yq[:, :, o, p] = (A^T M A)[o, p] for every tile, yq (n, th, m, m, tw, F)."""
    n, th, _, _, tw, F = yq.shape
    a = at.shape[1]
    mm = mm.reshape(a, a, n, th, tw, F)
    for o, r in enumerate(_combine(at, lambda i: mm[i])):  # (a, n, th, tw, F)
        for p, y in enumerate(_combine(at, lambda l_, r=r: r[l_])):
            yq[:, :, o, p] = y


def _output_adjoint_numpy(dyq, at, m, dm):
    """dm[i a + l] = (A dY A^T)[i, l] for every tile of dyq (n, th, m, m, tw, F)."""
    n, th, _, _, tw, F = dyq.shape
    a = at.shape[1]
    for i, r in enumerate(_combine(at.T, lambda o: dyq[:, :, o])):  # (n, th, m, tw, F)
        for l_, c in enumerate(_combine(at.T, lambda p, r=r: r[:, :, p])):
            dm[i * a + l_] = c.reshape(n * th * tw, F)


def _input_adjoint_numpy(dv, bt, m, dxq):
    """dxq (n, Hp, a, tw, C) = B dV B^T of every tile on the rows it was read from (the rows
    two tile rows share add up)."""
    n, Hp, a, tw, C = dxq.shape
    th = (Hp - 2) // m
    dv = dv.reshape(a, a, n, th, tw, C)
    dxq[...] = 0
    for k, r in enumerate(_combine(bt.T, lambda i: dv[i])):  # (a, n, th, tw, C)
        for j, d in enumerate(_combine(bt.T, lambda l_, r=r: r[l_])):
            dxq[:, k:k + m * th:m, j] += d


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


def _columns(m: int, tiles: int, pad: int, size: int, owned: bool) -> list:
    """Where column j of the tiles lies in an image of ``size`` pixels padded by ``pad``: per
    j, ``(t0, t1, x0)``, tiles t0:t1 hold image columns x0, x0 + m, ... With ``owned``, only
    the tile that owns each padded column (neighbours share two: the left one's m, m + 1 are
    the right one's 0, 1; the last tile owns its own), for writing a gradient back once."""
    spans = []
    for j in range(m + 2):
        t0, t1 = 0, tiles
        if owned and j >= m:
            t0 = tiles - 1
        t0 = max(t0, -(-(pad - j) // m))  # first tile whose column j is in the image
        t1 = min(t1, (size - 1 + pad - j) // m + 1)
        spans.append((t0, t1, m * t0 + j - pad))
    return spans


class _Plan:
    """The shapes, matrices and transforms of one call."""

    def __init__(self, x_shape, F, pad, m, dtype, use_compiled):
        N, C, H, W = x_shape
        self.m, self.a, self.pad, self.C, self.F, self.H, self.W = m, m + 2, pad, C, F, H, W
        (self.Ho, self.th), (self.Wo, self.tw) = _grid(H, pad, m), _grid(W, pad, m)
        self.exact = self.Ho == m * self.th and self.Wo == m * self.tw  # no partial tiles
        self.load_cols = _columns(m, self.tw, pad, W, owned=False)
        self.store_cols = _columns(m, self.tw, pad, W, owned=True)
        bt, self.g, at = transforms(m)
        self.dtype, self.compiled = dtype, use_compiled
        self.nb = _chunk_images(self.th, self.tw, m, C, F)
        # the transforms, each f(x, matrix, m, out): compiled ones take the sparse rows of the
        # matrix they apply (B^T, A^T, A, B), the NumPy ones B^T or A^T
        if use_compiled:
            fns = (compiled.winograd_input, compiled.winograd_output,
                   compiled.winograd_output_adjoint, compiled.winograd_input_adjoint)
            mats = [_sparse_rows(t, dtype) for t in (bt, at, at.T, bt.T)]
        else:
            fns = (_input_numpy, _output_numpy, _output_adjoint_numpy, _input_adjoint_numpy)
            mats = [t.astype(dtype) for t in (bt, at, at, bt)]
        #: input(xq, v), output(mm, yq), output_adjoint(dyq, dm), input_adjoint(dv, dxq)
        self.input, self.output, self.output_adjoint, self.input_adjoint = (
            lambda x, out, f=f, mat=mat: f(x, mat, m, out) for f, mat in zip(fns, mats))

    def tiles(self, n):
        return n * self.th * self.tw

    def split_buffer(self, n, channels, zeroed=True):
        """An (n, m th + 2, a, tw, channels) buffer for column-split padded images (zeroed:
        the padding a load leaves alone)."""
        make = np.zeros if zeroed else np.empty
        return make((n, self.m * self.th + 2, self.a, self.tw, channels), self.dtype)

    def tile_buffer(self, n, channels):
        """A reusable buffer for the transformed tiles of up to n images: ``buf(k)`` is the
        (a^2, tiles of k images, channels) C-contiguous array at its start."""
        flat = np.empty(self.a * self.a * self.tiles(n) * channels, self.dtype)
        return lambda k: flat[:self.a * self.a * self.tiles(k) * channels].reshape(
            self.a * self.a, self.tiles(k), channels)

    def load(self, xn, xq):
        """The images xn (n, H, W, C) into the column-split buffer xq (zero where padding)."""
        if self.compiled:
            return compiled.winograd_load(xn, self.m, self.pad, xq)
        p = self.pad
        for j, (t0, t1, x0) in enumerate(self.load_cols):
            xq[:, p:p + self.H, j, t0:t1] = xn[:, :, x0:x0 + self.m * (t1 - t0):self.m]

    def store(self, dxq, dx):
        """The column-split gradient dxq into dx (n, H, W, C), each column once."""
        if self.compiled:
            return compiled.winograd_store(dxq, self.m, self.pad, dx)
        p, m = self.pad, self.m
        dxq[:, :, :2, 1:] += dxq[:, :, m:, :-1]  # shared columns: the right tile owns them
        for j, (t0, t1, x0) in enumerate(self.store_cols):
            dx[:, :, x0:x0 + m * (t1 - t0):m] = dxq[:, p:p + self.H, j, t0:t1]

    def split_output(self, y, yq):
        """Output rows y (n, Ho, Wo, F) into yq (n, th, m, m, tw, F) (zero past the edge)."""
        if self.compiled:
            return compiled.winograd_split(y, self.m, yq)
        n, m = len(y), self.m
        if self.exact:
            yq[...] = y.reshape(n, self.th, m, self.tw, m, self.F).transpose(0, 1, 2, 4, 3, 5)
            return
        yq[...] = 0
        for o in range(m):
            for p in range(m):
                blk = y[:, o::m, p::m]
                yq[:, :blk.shape[1], o, p, :blk.shape[2]] = blk

    def join_output(self, yq, y):
        """The inverse of :meth:`split_output`: yq into y, cropped at the edge."""
        if self.compiled:
            return compiled.winograd_join(yq, self.m, y)
        n, m = len(y), self.m
        if self.exact:
            y.reshape(n, self.th, m, self.tw, m, self.F)[...] = yq.transpose(0, 1, 2, 4, 3, 5)
            return
        for o in range(m):
            for p in range(m):
                blk = y[:, o::m, p::m]
                blk[...] = yq[:, :blk.shape[1], o, p, :blk.shape[2]]


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
    a, m = plan.a, tile
    # U = G g G^T, (a^2, C, F), in float64 then rounded once
    u = plan.g @ w.astype(np.float64) @ plan.g.T  # (F, C, a, a)
    u = np.ascontiguousarray(u.transpose(2, 3, 1, 0).reshape(a * a, C, F), dtype=dt)
    out = np.empty((N, plan.Ho, plan.Wo, F), dtype=dt)

    def part(i0, i1):
        nb = min(plan.nb, i1 - i0)
        xq = plan.split_buffer(nb, C)
        yq = np.empty((nb, plan.th, m, m, plan.tw, F), dt)
        vbuf, mbuf = plan.tile_buffer(nb, C), plan.tile_buffer(nb, F)
        for s0, s1 in _chunks(i0, i1, plan.nb):
            n = s1 - s0
            v, mm = vbuf(n), mbuf(n)
            plan.load(xn[s0:s1], xq[:n])
            plan.input(xq[:n], v)
            plan.output(np.matmul(v, u, out=mm), yq[:n])
            plan.join_output(yq[:n], out[s0:s1])

    parallel_for(N, part, min_part=plan.nb)
    if b is not None:
        out += b.astype(dt)
    cache = (xn, w, u, pad, tile, b is not None)
    return out.transpose(0, 3, 1, 2), cache


def winograd_backward(dout, cache, need_dx=True, need_dw=True, need_db=True):
    """Gradients ``(dx, dw, db)`` of :func:`winograd_forward`; those not needed (and db
    without a bias) come back as None, and their work is skipped (without dw the input is not
    transformed again; without dx, no inverse transform)."""
    xn, w, u, pad, tile, has_bias = cache
    N, H, W, C = xn.shape
    F = w.shape[0]
    dt = u.dtype
    dyn = dout.transpose(0, 2, 3, 1)
    plan = _Plan((N, C, H, W), F, pad, tile, dt, compiled.enabled(dout))
    a, m = plan.a, tile
    ut = np.ascontiguousarray(u.transpose(0, 2, 1))
    dx = np.empty((N, H, W, C), dtype=dt) if need_dx else None

    def part(i0, i1):
        du = np.zeros((a * a, C, F), dtype=dt) if need_dw else None
        nb = min(plan.nb, i1 - i0)
        xq = plan.split_buffer(nb, C) if need_dw else None
        dxq = plan.split_buffer(nb, C, zeroed=False) if need_dx else None
        dyq = np.empty((nb, plan.th, m, m, plan.tw, F), dt)
        # V (dW) and dV (dx) are never needed at the same time: one buffer serves both
        vbuf, mbuf = plan.tile_buffer(nb, C), plan.tile_buffer(nb, F)
        for s0, s1 in _chunks(i0, i1, plan.nb):
            n = s1 - s0
            dm, v = mbuf(n), vbuf(n)
            plan.split_output(dyn[s0:s1], dyq[:n])
            plan.output_adjoint(dyq[:n], dm)
            if need_dw:
                plan.load(xn[s0:s1], xq[:n])
                plan.input(xq[:n], v)
                du += np.matmul(v.transpose(0, 2, 1), dm)
            if need_dx:
                plan.input_adjoint(np.matmul(dm, ut, out=v), dxq[:n])
                plan.store(dxq[:n], dx[s0:s1])
        return du

    dus = parallel_for(N, part, min_part=plan.nb) if need_dx or need_dw else []
    dw = None
    if need_dw:
        # dg = G^T dU G, in float64
        du = sum(dus)
        dw = (plan.g.T @ du.reshape(a, a, C, F).transpose(3, 2, 0, 1).astype(np.float64)
              @ plan.g).astype(w.dtype)
    db = dout.sum(axis=(0, 2, 3)) if has_bias and need_db else None
    return None if dx is None else dx.transpose(0, 3, 1, 2), dw, db
