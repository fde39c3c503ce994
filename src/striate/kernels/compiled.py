"""Compiled loops (numba) for the kernels NumPy cannot make fast.

numba is a dependency of striate, but it is imported (and a loop compiled or loaded from the disk
cache, ``cache=True``) only when a run first needs one: importing numba and loading a loop cost
more time and memory than they save on small arrays (the digits), so by default a compiled path
is taken only for arrays of at least ``COMPILED_MIN_SIZE`` values, or once numba is loaded
anyway. The NumPy paths stay as the readable reference (the tests compare the two) and as the
fallback where numba cannot be imported (a one-line notice on stderr). ``STRIATE_COMPILED=0``
forces the NumPy paths, ``STRIATE_COMPILED=1`` the compiled ones for every size. The loops are
single-threaded; :func:`striate.parallel.parallel_for` splits their work over threads.

- Depthwise convolution: one pass over the output per kernel offset in NumPy (a multiply and an
  add over the whole map, kh*kw times, each a trip through memory) becomes one pass in total, the
  kh*kw taps summed in registers: several times faster than NumPy, close to PyTorch
  (docs/performance.md; ``python bench/bench_layers.py --threads 1 --cpu``).
- Batch norm over channels-last activations (training): statistics, output, gradient sums and
  dx in two passes each way instead of NumPy's ten or so; used by ``kernels/batchnorm.py``.
- ReLU: forward in one pass writing the output and the mask (NumPy: a compare, then a
  multiply), backward in one pass; used by ``kernels/relu.py``.
- 2x2 / stride-2 max pooling over channels-last activations: forward writes the maxima and the
  first-max bit codes in one pass, backward writes every pixel of dx once; used by
  ``kernels/pool.py``.
- Fractional max pooling: every (image, channel) has its own window starts, which NumPy can only
  gather one kernel offset at a time; here one pass, and a scatter-add for backward; used by
  ``kernels/pool_extra.py``.
- RoI max pooling (Fast R-CNN): every region has its own bins, which NumPy gathers padded to the
  largest bin (several times the values, in temporaries of hundreds of MB for a few thousand
  regions); here one pass over each bin's own pixels, and a scatter-add for backward; used by
  ``striate.detect.ops.roi_pool``.
- Winograd convolution: the input and output transforms and their adjoints, each sum of a few
  rows of a tile done in one loop over a whole row of tiles, and the gathers between NHWC and
  the tiles' layout; NumPy would take a pass over the chunk per nonzero of the matrices, and
  its copies of short channel runs cost more than the transforms; used by
  ``kernels/winograd.py``.
"""

from __future__ import annotations

import importlib.util
import os
import sys

import numpy as np

# the loops release the GIL, so parallel_for's parts over a batch run at the same time
from ..parallel import parallel_for

# everything works without numba: it is imported (and the loops compiled) only when a compiled
# kernel is first needed, which every `striate` command would otherwise pay for
HAVE_NUMBA = importlib.util.find_spec("numba") is not None

__all__ = [
    "COMPILED_MIN_SIZE", "HAVE_NUMBA", "USE_COMPILED", "available", "batch_norm_apply",
    "batch_norm_dx",
    "batch_norm_grad_sums", "batch_norm_stats", "depthwise_backward", "depthwise_forward",
    "enabled", "fractional_max_pool_backward", "fractional_max_pool_forward",
    "max_pool2x2_backward", "max_pool2x2_forward", "relu_backward", "relu_forward",
    "roi_pool_backward", "roi_pool_forward",
]

_jitted: dict = {}
_importable: list = []


def _switch(value: str | None) -> bool | None:
    """``STRIATE_COMPILED``: "0" never, "1" always, unset (or anything else) by size."""
    return {"0": False, "1": True}.get((value or "").strip())


#: True: every caller takes its compiled path; False: its NumPy path (the tests compare the two);
#: None (the default, from ``STRIATE_COMPILED``): the compiled path for large arrays
USE_COMPILED: bool | None = _switch(os.environ.get("STRIATE_COMPILED"))

#: with ``USE_COMPILED`` None, arrays of fewer values than this take the NumPy path until numba
#: is loaded: the digits' largest activations (a test batch of 359 images, 32 channels of 8x8
#: pixels: 735,232 values) stay below it, CIFAR-sized batches are above it
COMPILED_MIN_SIZE = 1 << 20


def available() -> bool:
    """Whether the compiled kernels can run: numba is installed and imports (tried once; a numba
    built for another NumPy fails to import, and then the NumPy paths are used, with a notice)."""
    if not _importable:
        ok, why = HAVE_NUMBA, "numba is not installed"
        if ok:
            try:
                import numba  # noqa: F401
            except Exception as e:  # noqa: BLE001 - any failure means: do without
                ok, why = False, f"numba does not import ({type(e).__name__}: {e})"
        if not ok:
            print(f"striate: {why}; using the NumPy kernels (slower on large arrays)",
                  file=sys.stderr)
        _importable.append(ok)
    return _importable[0]


def enabled(*arrays) -> bool:
    """Whether a caller should take its compiled path for these arrays: the switch allows it
    (by default: the arrays are large, or numba is loaded already), every array is float32 or
    float64 (the dtypes the loops are compiled for), and numba imports."""
    use = USE_COMPILED
    if use is False or not all(a.dtype in (np.float32, np.float64) for a in arrays):
        return False
    if use is None and "numba" not in sys.modules \
            and max((a.size for a in arrays), default=0) < COMPILED_MIN_SIZE:
        return False
    return available()


# parts of fewer values than this stay on one thread (the hand-off to the pool would cost more
# than splitting them saves; docs/performance.md)
_MIN_PART = 1 << 17


def _rows(x):
    """Smallest part, in rows (images for 4-D), of about ``_MIN_PART`` values of x."""
    per_row = int(np.prod(x.shape[1:]))
    return max(1, _MIN_PART // max(1, per_row))


def _jit(fn):
    """fn compiled by numba (once per process; machine code cached on disk: next to this file,
    or where that is not writable, numba's per-user cache folder, or ``NUMBA_CACHE_DIR``)."""
    if fn.__name__ not in _jitted:
        import numba

        _jitted[fn.__name__] = numba.njit(cache=True, nogil=True)(fn)
    return _jitted[fn.__name__]


def depthwise_forward(xp, w, sh, sw, dh, dw, out):
    """Depthwise convolution into out (N, Ho, Wo, F); see ``_depthwise_forward``."""
    _jit(_depthwise_forward)(xp, w, sh, sw, dh, dw, out)


def depthwise_backward(xp, w, d, sh, sw, dh, dw, dxp, dwt, need_dx, need_dw):
    """Accumulate the depthwise gradients into dxp and dwt; see ``_depthwise_backward``."""
    _jit(_depthwise_backward)(xp, w, d, sh, sw, dh, dw, dxp, dwt, need_dx, need_dw)


def _depthwise_forward(xp, w, sh, sw, dh, dw, out):
    # xp (N, Hp, Wp, F) padded NHWC input (channels repeated for a multiplier), w (HH, WW, F),
    # out (N, Ho, Wo, F): out[n, i, j, f] = sum_ab xp[n, i sh + a dh, j sw + b dw, f] w[a, b, f]
    N, Ho, Wo, F = out.shape
    HH, WW = w.shape[0], w.shape[1]
    for n in range(N):
        for i in range(Ho):
            for j in range(Wo):
                o = out[n, i, j]
                o[:] = 0
                for a in range(HH):
                    for b in range(WW):
                        xr = xp[n, i * sh + a * dh, j * sw + b * dw]
                        wr = w[a, b]
                        for f in range(F):
                            o[f] += xr[f] * wr[f]


def _depthwise_backward(xp, w, d, sh, sw, dh, dw, dxp, dwt, need_dx, need_dw):
    # every output gradient d[n, i, j, f] flows to the tap (times the input it read: dwt,
    # accumulated in float64) and to that input (times the tap: dxp); two separate loop nests,
    # each vectorised over f (one nest with both branches inside is slower: docs/performance.md)
    N, Ho, Wo, F = d.shape
    HH, WW = w.shape[0], w.shape[1]
    if need_dw:
        for n in range(N):
            for i in range(Ho):
                for j in range(Wo):
                    dr = d[n, i, j]
                    for a in range(HH):
                        for b in range(WW):
                            xr = xp[n, i * sh + a * dh, j * sw + b * dw]
                            acc = dwt[a, b]
                            for f in range(F):
                                acc[f] += xr[f] * dr[f]
    if need_dx:
        for n in range(N):
            for i in range(Ho):
                for j in range(Wo):
                    dr = d[n, i, j]
                    for a in range(HH):
                        for b in range(WW):
                            gr = dxp[n, i * sh + a * dh, j * sw + b * dw]
                            wr = w[a, b]
                            for f in range(F):
                                gr[f] += wr[f] * dr[f]


# ---- batch norm over channels-last rows: x (P, C), P = N*H*W pixels of C channels ------------
# NumPy's version makes about ten passes over the activations (centre, square, sum, scale,
# shift, each its own trip through memory); these make two in forward and two in backward.
# (kernels/batchnorm.py calls these)


def batch_norm_stats(x, mean, var):
    """Per-channel mean and biased variance of x (P, C) into the float64 (C,) mean and var.
    Split over threads, each part's mean and centred sum of squares are combined exactly
    (Chan et al.'s pairwise formula)."""
    fn, c = _jit(_bn_stats), x.shape[1]

    def part(a, b):
        m, v = np.empty(c), np.empty(c)
        fn(x[a:b], m, v)
        return b - a, m, v

    parts = parallel_for(x.shape[0], part, _rows(x))
    total = sum(n for n, _, _ in parts)
    mean[:] = sum(n * m for n, m, _ in parts) / total
    var[:] = sum(n * (v + (m - mean) ** 2) for n, m, v in parts) / total


def batch_norm_apply(x, a, shift, y):
    """y = x * a + shift per channel, x and y (P, C), a and shift (C,) in x's dtype."""
    fn = _jit(_bn_apply)
    parallel_for(x.shape[0], lambda i, j: fn(x[i:j], a, shift, y[i:j]), _rows(x))


def batch_norm_grad_sums(g, x, mean, sg, sgx):
    """Per-channel sums of g and of g (x - mean) into the float64 (C,) sg and sgx."""
    fn, c = _jit(_bn_grad_sums), x.shape[1]

    def part(a, b):
        s1, s2 = np.empty(c), np.empty(c)
        fn(g[a:b], x[a:b], mean, s1, s2)
        return s1, s2

    parts = parallel_for(x.shape[0], part, _rows(x))
    sg[:] = sum(p[0] for p in parts)
    sgx[:] = sum(p[1] for p in parts)


def batch_norm_dx(g, x, mean, k, c1, c2, dx):
    """dx = g k - (x - mean) c1 - c2 per channel, all (P, C) or (C,) in x's dtype."""
    fn = _jit(_bn_dx)
    parallel_for(x.shape[0], lambda a, b: fn(g[a:b], x[a:b], mean, k, c1, c2, dx[a:b]), _rows(x))


def _bn_stats(x, mean, var):
    # two passes (mean, then centred squares): stable where sum(x^2) - P mean^2 would cancel
    P, C = x.shape
    mean[:] = 0
    var[:] = 0
    for p in range(P):
        for c in range(C):
            mean[c] += x[p, c]
    for c in range(C):
        mean[c] /= P
    for p in range(P):
        for c in range(C):
            d = x[p, c] - mean[c]
            var[c] += d * d
    for c in range(C):
        var[c] /= P


def _bn_apply(x, a, shift, y):
    P, C = x.shape
    for p in range(P):
        for c in range(C):
            y[p, c] = x[p, c] * a[c] + shift[c]


def _bn_grad_sums(g, x, mean, sg, sgx):
    P, C = x.shape
    sg[:] = 0
    sgx[:] = 0
    for p in range(P):
        for c in range(C):
            sg[c] += g[p, c]
            sgx[c] += g[p, c] * (x[p, c] - mean[c])


def _bn_dx(g, x, mean, k, c1, c2, dx):
    P, C = x.shape
    for p in range(P):
        for c in range(C):
            dx[p, c] = g[p, c] * k[c] - (x[p, c] - mean[c]) * c1[c] - c2[c]


# ---- ReLU on flat arrays: x, y, g, dx are (P,) views of equally laid-out memory -------------


def relu_forward(x, y, mask):
    """y = max(x, 0) elementwise (NaN stays NaN, as in PyTorch) and mask = x > 0; all flat,
    same size (mask boolean)."""
    fn = _jit(_relu_forward)
    parallel_for(x.size, lambda a, b: fn(x[a:b], y[a:b], mask[a:b]), _MIN_PART)


def relu_backward(g, mask, dx):
    """dx = g where mask, else 0; all flat, same size."""
    fn = _jit(_relu_backward)
    parallel_for(g.size, lambda a, b: fn(g[a:b], mask[a:b], dx[a:b]), _MIN_PART)


def _relu_forward(x, y, mask):
    for i in range(x.size):
        v = x[i]
        mask[i] = v > 0
        y[i] = v if (v > 0 or v != v) else 0


def _relu_backward(g, mask, dx):
    for i in range(g.size):
        dx[i] = g[i] if mask[i] else 0


# ---- 2x2 / stride-2 max pooling over channels-last maps: x (N, H, W, C) ----------------------


def max_pool2x2_forward(x, out, code):
    """out[n, i, j, c] = max of x[n, 2i:2i+2, 2j:2j+2, c]; code (uint8, like out) gets bit k
    (k = 2 di + dj, row-major in the window) of the first maximum (a NaN wins, as in PyTorch)."""
    fn = _jit(_max_pool2x2_forward)
    parallel_for(x.shape[0], lambda a, b: fn(x[a:b], out[a:b], code[a:b]), _rows(x))


def max_pool2x2_backward(d, code, dx):
    """dx (N, H, W, C), every pixel written: d where its window's code picks it, else 0."""
    fn = _jit(_max_pool2x2_backward)
    parallel_for(d.shape[0], lambda a, b: fn(d[a:b], code[a:b], dx[a:b]), _rows(dx))


def _max_pool2x2_forward(x, out, code):
    N, Ho, Wo, C = out.shape
    for n in range(N):
        for i in range(Ho):
            for j in range(Wo):
                a, b = x[n, 2 * i, 2 * j], x[n, 2 * i, 2 * j + 1]
                c_, d = x[n, 2 * i + 1, 2 * j], x[n, 2 * i + 1, 2 * j + 1]
                o, k = out[n, i, j], code[n, i, j]
                for c in range(C):
                    # PyTorch's rule: a bigger value or a NaN takes over (so a NaN wins)
                    best, bit = a[c], 1
                    v = b[c]
                    if v > best or v != v:
                        best, bit = v, 2
                    v = c_[c]
                    if v > best or v != v:
                        best, bit = v, 4
                    v = d[c]
                    if v > best or v != v:
                        best, bit = v, 8
                    o[c] = best
                    k[c] = bit


def _max_pool2x2_backward(d, code, dx):
    # dx is written in memory order, row by row (far faster than window by window), each value
    # a multiply by the code test, which vectorises where a branch would not
    N, Ho, Wo, C = d.shape
    H, W = dx.shape[1], dx.shape[2]
    for n in range(N):
        for i in range(Ho):
            for di in range(2):
                for j in range(Wo):
                    for dj in range(2):
                        bit = np.uint8(1 << (2 * di + dj))
                        for c in range(C):
                            dx[n, 2 * i + di, 2 * j + dj, c] = \
                                d[n, i, j, c] * (code[n, i, j, c] == bit)
                if W > 2 * Wo:  # an odd last column is in no window
                    dx[n, 2 * i + di, W - 1] = 0
        if H > 2 * Ho:  # nor is an odd last row
            dx[n, H - 1] = 0


# ---- fractional max pooling over channels-last maps ----------------------------------------


def fractional_max_pool_forward(x, seq_h, seq_w, kh, kw, out, arg):
    """out (N, Ho, Wo, C): the max of x (N, H, W, C) over the kh x kw window starting at
    (seq_h[n, c, i], seq_w[n, c, j]); arg (N, Ho*Wo, C) int64 gets its flat input index h W + w
    (the first maximum in row-major order; a NaN wins, as in PyTorch)."""
    fn = _jit(_fractional_max_pool_forward)
    parallel_for(x.shape[0], lambda a, b: fn(x[a:b], seq_h[a:b], seq_w[a:b], kh, kw, out[a:b],
                                       arg[a:b]), _rows(x))


def fractional_max_pool_backward(d, arg, dx):
    """dx (N, H*W, C), zero-filled by the caller: each d (N, Ho*Wo, C) added at its arg."""
    fn = _jit(_fractional_max_pool_backward)
    parallel_for(d.shape[0], lambda a, b: fn(d[a:b], arg[a:b], dx[a:b]), _rows(dx))


def _fractional_max_pool_forward(x, seq_h, seq_w, kh, kw, out, arg):
    N, H, W, C = x.shape
    Ho, Wo = out.shape[1], out.shape[2]
    for n in range(N):
        for i in range(Ho):
            for j in range(Wo):
                for c in range(C):
                    h0, w0 = seq_h[n, c, i], seq_w[n, c, j]
                    best, at = x[n, h0, w0, c], h0 * W + w0
                    for a in range(kh):
                        for b in range(kw):
                            v = x[n, h0 + a, w0 + b, c]
                            if v > best or v != v:  # PyTorch: a NaN takes over
                                best, at = v, (h0 + a) * W + w0 + b
                    out[n, i, j, c] = best
                    arg[n, i * Wo + j, c] = at


def _fractional_max_pool_backward(d, arg, dx):
    N, K, C = d.shape
    for n in range(N):
        for k in range(K):
            for c in range(C):
                dx[n, arg[n, k, c], c] += d[n, k, c]


# ---- RoI max pooling over a channels-last feature map --------------------------------------


def roi_pool_forward(xt, b, h_lo, h_hi, w_lo, w_hi, out, h_arg, w_arg):
    """out (K, C, PH, PW): for region k, the max of xt (N, H, W, C)'s image b[k] over rows
    [h_lo[k, i], h_hi[k, i]) and columns [w_lo[k, j], w_hi[k, j]); h_arg / w_arg get where (the
    first maximum in row-major order; a NaN wins, as NumPy's argmax has it). An empty bin gets
    -inf and the clipped bin start (the caller zeroes it and drops its gradient)."""
    fn = _jit(_roi_pool_forward)
    per_region = h_lo.shape[1] * w_lo.shape[1] * xt.shape[3]
    parallel_for(len(b), lambda a, c: fn(xt, b[a:c], h_lo[a:c], h_hi[a:c], w_lo[a:c],
                                         w_hi[a:c], out[a:c], h_arg[a:c], w_arg[a:c]),
                 max(1, _MIN_PART // max(1, per_region)))


def roi_pool_backward(g, b, h_arg, w_arg, ok, dx):
    """dx (N, C, H, W), zero-filled by the caller: each g[k, c, i, j] with ok added at
    (b[k], c, h_arg, w_arg). One thread: regions of one image overlap in dx."""
    _jit(_roi_pool_backward)(g, b, h_arg, w_arg, ok, dx)


def _roi_pool_forward(xt, b, h_lo, h_hi, w_lo, w_hi, out, h_arg, w_arg):
    H, W, C = xt.shape[1], xt.shape[2], xt.shape[3]
    K, PH, PW = h_lo.shape[0], h_lo.shape[1], w_lo.shape[1]
    best = np.empty(C, xt.dtype)
    bh = np.empty(C, np.int64)
    bw = np.empty(C, np.int64)
    for k in range(K):
        n = b[k]
        for i in range(PH):
            for j in range(PW):
                h0, h1, w0, w1 = h_lo[k, i], h_hi[k, i], w_lo[k, j], w_hi[k, j]
                first = True
                for h in range(h0, h1):
                    for w in range(w0, w1):
                        for c in range(C):
                            v = xt[n, h, w, c]
                            m = best[c]
                            if first or (m == m and (v != v or v > m)):
                                best[c], bh[c], bw[c] = v, h, w
                        first = False
                for c in range(C):
                    if first:  # an empty bin
                        out[k, c, i, j] = -np.inf
                        h_arg[k, c, i, j], w_arg[k, c, i, j] = min(h0, H - 1), min(w0, W - 1)
                    else:
                        out[k, c, i, j] = best[c]
                        h_arg[k, c, i, j], w_arg[k, c, i, j] = bh[c], bw[c]


def _roi_pool_backward(g, b, h_arg, w_arg, ok, dx):
    K, C, PH, PW = g.shape
    for k in range(K):
        n = b[k]
        for c in range(C):
            for i in range(PH):
                for j in range(PW):
                    if ok[k, c, i, j]:
                        dx[n, c, h_arg[k, c, i, j], w_arg[k, c, i, j]] += g[k, c, i, j]


# ---- Winograd transforms over channels-last tiles (kernels/winograd.py) ---------------------
# A transform applies a small matrix on both sides of every tile. Each row of the matrix has few
# nonzeros (at most 5), so each transformed value is a combination of a few vectors; ``_comb``
# sums the terms of one row in one loop. In NHWC the vectors would be one pixel's C channels, 16
# values in ResNet-20's first stage, too short for a vectorised loop to get going; on the
# column-split layouts of kernels/winograd.py (which does the splitting) every vector is a
# contiguous run of tw C values, a whole row of tiles at once. A matrix comes as
# ``(idx, cf, nnz)``: for row i, the columns ``idx[i, :nnz[i]]`` of its nonzeros and their
# values ``cf[i, :]`` in the data's dtype. The tiles come padded, so the loops have no edge cases.

_comb_jit = None  # _comb compiled: the transforms call it (numba reads it when it compiles them)


def _winograd_jit(fn):
    global _comb_jit
    if _comb_jit is None:
        import numba

        # inlined into each transform: a call per combination would cost more than its loop
        _comb_jit = numba.njit(nogil=True, inline="always")(_comb)
    return _jit(fn)


def winograd_input(xq, mat, m, v):
    """v[i a + l, t] = (B^T d B)[i, l] for every tile t = (n, ty, tx), d read from the
    column-split padded images xq (n, m th + 2, a, tw, C); mat is B^T's."""
    _winograd_jit(_winograd_input)(xq, *mat, m, v)


def winograd_output(mm, mat, m, yq):
    """yq[n, ty, o, p, tx] = (A^T M A)[o, p] for every tile, M = mm[:, t] as (a, a, F); yq is
    (n, th, m, m, tw, F); mat is A^T's."""
    _winograd_jit(_winograd_output)(mm, *mat, m, yq)


def winograd_output_adjoint(dyq, mat, m, dm):
    """The adjoint of :func:`winograd_output`: dm[:, t] = A dY A^T for every tile, dY its m x m
    block of dyq (n, th, m, m, tw, F); mat is A's (the transpose of A^T)."""
    _winograd_jit(_winograd_output_adjoint)(dyq, *mat, m, dm)


def winograd_input_adjoint(dv, mat, m, dxq):
    """The adjoint of :func:`winograd_input`: dxq (n, m th + 2, a, tw, C), overwritten, gets
    B dV B^T of every tile on the rows it was read from (the two rows neighbouring tile rows
    share add up); mat is B's."""
    _winograd_jit(_winograd_input_adjoint)(dv, *mat, m, dxq)


def winograd_load(xn, m, pad, xq):
    """The images xn (n, H, W, C) into the column-split padded buffer xq (n, Hp, a, tw, C):
    xq[.., pad + y, j, tx] = xn[.., y, m tx + j - pad] where that is in the image (the rest of
    xq, the padding, is left as it is: zero)."""
    _jit(_winograd_load)(xn, m, pad, xq)


def winograd_store(dxq, m, pad, dx):
    """The column-split gradient dxq (n, Hp, a, tw, C) into dx (n, H, W, C): a padded column
    m t + q gets tile t's column q plus, where q < 2, tile t - 1's column m + q (shared)."""
    _jit(_winograd_store)(dxq, m, pad, dx)


def winograd_split(y, m, yq):
    """y (n, Ho, Wo, F) into yq (n, th, m, m, tw, F): yq[.., ty, o, p, tx] = y[.., m ty + o,
    m tx + p], zero past y's edge."""
    _jit(_winograd_split)(y, m, yq)


def winograd_join(yq, m, y):
    """The inverse of :func:`winograd_split`: yq into y, cropped at y's edge."""
    _jit(_winograd_join)(yq, m, y)


def _winograd_load(xn, m, pad, xq):
    n, H, W, C = xn.shape
    a, tw = xq.shape[2], xq.shape[3]
    for img in range(n):
        for y in range(H):
            for j in range(a):
                for tx in range(tw):
                    x = m * tx + j - pad
                    if 0 <= x < W:
                        dst, src = xq[img, pad + y, j, tx], xn[img, y, x]
                        for c in range(C):
                            dst[c] = src[c]


def _winograd_store(dxq, m, pad, dx):
    n, H, W, C = dx.shape
    tw = dxq.shape[3]
    for img in range(n):
        for y in range(H):
            for x in range(W):
                t, q = (x + pad) // m, (x + pad) % m
                dst = dx[img, y, x]
                if t == tw:  # past the last tile's own columns: its shared ones
                    src = dxq[img, pad + y, m + q, tw - 1]
                    for c in range(C):
                        dst[c] = src[c]
                elif q < 2 and t > 0:
                    s0, s1 = dxq[img, pad + y, q, t], dxq[img, pad + y, m + q, t - 1]
                    for c in range(C):
                        dst[c] = s0[c] + s1[c]
                else:
                    src = dxq[img, pad + y, q, t]
                    for c in range(C):
                        dst[c] = src[c]


def _winograd_split(y, m, yq):
    n, Ho, Wo, F = y.shape
    th, tw = yq.shape[1], yq.shape[4]
    for img in range(n):
        for ty in range(th):
            for o in range(m):
                for p in range(m):
                    for tx in range(tw):
                        dst = yq[img, ty, o, p, tx]
                        yy, xx = m * ty + o, m * tx + p
                        if yy < Ho and xx < Wo:
                            src = y[img, yy, xx]
                            for f in range(F):
                                dst[f] = src[f]
                        else:
                            for f in range(F):
                                dst[f] = 0


def _winograd_join(yq, m, y):
    n, Ho, Wo, F = y.shape
    for img in range(n):
        for yy in range(Ho):
            for xx in range(Wo):
                dst, src = y[img, yy, xx], yq[img, yy // m, yy % m, xx % m, xx // m]
                for f in range(F):
                    dst[f] = src[f]


def _comb(dst, src, base, step, idx, cf, n, add):
    # dst (+)= sum_{k < n} cf[k] * src[base + step * idx[k]], a pass over dst per term (dst is
    # a row of a few hundred values: it stays in L1 between the passes)
    L = dst.shape[0]
    for k in range(n):
        s, a = src[base + step * idx[k]], cf[k]
        if k == 0 and not add:
            for c in range(L):
                dst[c] = a * s[c]
        else:
            for c in range(L):
                dst[c] += a * s[c]


def _winograd_input(xq, idx, cf, nnz, m, v):
    # xq (n, Hp, a, tw, C): the padded input split by column
    n, Hp, a, tw, C = xq.shape
    th = (Hp - 2) // m
    rows = xq.reshape(n * Hp, a * tw * C)
    vrows = v.reshape(a * a * n * th, tw * C)  # [(i a + l) n th + tile row]
    r = np.empty((a, a * tw * C), xq.dtype)  # B^T d for a row of tiles: [i, (j, tx, c)]
    r_j = r.reshape(a * a, tw * C)  # [i a + j]
    for img in range(n):
        for ty in range(th):
            for i in range(a):  # (B^T d)[i] = sum_k bt[i, k] d[k]
                _comb_jit(r[i], rows, img * Hp + m * ty, 1, idx[i], cf[i], nnz[i], False)
            for i in range(a):  # (B^T d B)[i, l] = sum_j (B^T d)[i, j] bt[l, j]
                for l_ in range(a):
                    _comb_jit(vrows[(i * a + l_) * n * th + img * th + ty], r_j, i * a, 1,
                              idx[l_], cf[l_], nnz[l_], False)


def _winograd_output(mm, idx, cf, nnz, m, yq):
    # yq (n, th, m, m, tw, F): the output split by place in the tile [.., o, p, tx, :]
    n, th, _, _, tw, F = yq.shape
    a = idx.shape[1]
    mrows = mm.reshape(a * a * n * th, tw * F)
    yrows = yq.reshape(n * th * m * m, tw * F)
    r = np.empty((a * m, tw * F), mm.dtype)  # M A for a row of tiles, row i m + p
    for img in range(n):
        for ty in range(th):
            row = img * th + ty
            for i in range(a):  # (M A)[i, p] = sum_l M[i, l] at[p, l]
                for p in range(m):
                    _comb_jit(r[i * m + p], mrows, i * a * n * th + row, n * th, idx[p], cf[p],
                              nnz[p], False)
            for o in range(m):  # (A^T M A)[o, p] = sum_i at[o, i] (M A)[i, p]
                for p in range(m):
                    _comb_jit(yrows[(row * m + o) * m + p], r, p, m, idx[o], cf[o], nnz[o],
                              False)


def _winograd_output_adjoint(dyq, idx, cf, nnz, m, dm):
    # dyq (n, th, m, m, tw, F) split as yq above; idx, cf, nnz describe A (a, m)
    n, th, _, _, tw, F = dyq.shape
    a = idx.shape[0]
    yrows = dyq.reshape(n * th * m * m, tw * F)
    mrows = dm.reshape(a * a * n * th, tw * F)
    r = np.empty((m * a, tw * F), dyq.dtype)  # dY A^T for a row of tiles, row o a + l
    for img in range(n):
        for ty in range(th):
            row = img * th + ty
            for o in range(m):  # (dY A^T)[o, l] = sum_p dY[o, p] A[l, p]
                for l_ in range(a):
                    _comb_jit(r[o * a + l_], yrows, (row * m + o) * m, 1, idx[l_], cf[l_],
                              nnz[l_], False)
            for i in range(a):  # (A dY A^T)[i, l] = sum_o A[i, o] (dY A^T)[o, l]
                for l_ in range(a):
                    _comb_jit(mrows[(i * a + l_) * n * th + row], r, l_, a, idx[i], cf[i],
                              nnz[i], False)


def _winograd_input_adjoint(dv, idx, cf, nnz, m, dxq):
    # dxq (n, Hp, a, tw, C): the gradient split by column; idx, cf, nnz describe B
    n, Hp, a, tw, C = dxq.shape
    th = (Hp - 2) // m
    vrows = dv.reshape(a * a * n * th, tw * C)
    rows = dxq.reshape(n * Hp, a * tw * C)
    r = np.empty((a, a * tw * C), dv.dtype)  # dV B^T for a row of tiles: [i, (j, tx, c)]
    r_j = r.reshape(a * a, tw * C)
    for img in range(n):
        for ty in range(th):
            row = img * th + ty
            for i in range(a):  # (dV B^T)[i, j] = sum_l dV[i, l] B[j, l]
                for j in range(a):
                    _comb_jit(r_j[i * a + j], vrows, i * a * n * th + row, n * th, idx[j],
                              cf[j], nnz[j], False)
            for k in range(a):  # (B dV B^T)[k] = sum_i B[k, i] (dV B^T)[i], onto the rows
                # (a row the tile row above wrote gets added to, the others written)
                _comb_jit(rows[img * Hp + m * ty + k], r, 0, 1, idx[k], cf[k], nnz[k],
                          ty > 0 and k < a - m)
