"""Compiled loops (numba) for the kernels NumPy cannot make fast; optional.

With numba installed (``pip install striate[fast]``) these run as machine code; without it
``HAVE_NUMBA`` is False and the callers use their NumPy versions (same results). Compiled once per
dtype and cached on disk (``cache=True``), single-threaded: on a small machine a second thread pool
next to BLAS's costs more than it gives (docs: PERFORMANCE.md).

- Depthwise convolution: one pass over the output per kernel offset in NumPy (a multiply and an
  add over the whole map, kh*kw times, each a trip through memory) becomes one pass in total, the
  kh*kw taps summed in registers. Measured on one core (process CPU time), 3x3 on
  (32, 64, 16, 16) float32, forward and backward: 7.0 ms in NumPy, 2.0 ms compiled, 1.7 ms in
  PyTorch (``python bench/bench_layers.py --threads 1 --cpu``).
- Batch norm over channels-last activations (training): statistics, output, gradient sums and
  dx in two passes each way instead of NumPy's ten or so; used by ``ops/normalization.py``.
"""

from __future__ import annotations

import importlib.util

# an optional accelerator: everything works without it. numba is imported (and the loops
# compiled) only when a compiled kernel is first called: importing it costs ~0.2 s, which every
# `striate` command would otherwise pay
HAVE_NUMBA = importlib.util.find_spec("numba") is not None

__all__ = [
    "HAVE_NUMBA", "available", "batch_norm_apply", "batch_norm_dx", "batch_norm_grad_sums",
    "batch_norm_stats", "depthwise_backward", "depthwise_forward",
]

_jitted: dict = {}
_importable: list = []


def available() -> bool:
    """Whether the compiled kernels can run: numba is installed and imports (tried once; a numba
    built for another NumPy fails to import, and then the NumPy paths are used)."""
    if not _importable:
        ok = HAVE_NUMBA
        if ok:
            try:
                import numba  # noqa: F401
            except Exception:  # noqa: BLE001 - any failure means: do without
                ok = False
        _importable.append(ok)
    return _importable[0]


def _jit(fn):
    """fn compiled by numba (once per process; machine code cached on disk)."""
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
    # each vectorised over f (one nest with both branches inside runs 2x slower)
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
# One thread, (128, 16, 32, 32) float32, forward + backward: see ops/normalization.py.


def batch_norm_stats(x, mean, var):
    """Per-channel mean and biased variance of x (P, C) into the float64 (C,) mean and var."""
    _jit(_bn_stats)(x, mean, var)


def batch_norm_apply(x, a, shift, y):
    """y = x * a + shift per channel, x and y (P, C), a and shift (C,) in x's dtype."""
    _jit(_bn_apply)(x, a, shift, y)


def batch_norm_grad_sums(g, x, mean, sg, sgx):
    """Per-channel sums of g and of g (x - mean) into the float64 (C,) sg and sgx."""
    _jit(_bn_grad_sums)(g, x, mean, sg, sgx)


def batch_norm_dx(g, x, mean, k, c1, c2, dx):
    """dx = g k - (x - mean) c1 - c2 per channel, all (P, C) or (C,) in x's dtype."""
    _jit(_bn_dx)(g, x, mean, k, c1, c2, dx)


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
