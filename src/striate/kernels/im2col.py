"""im2col / col2im: turn a convolution into one matrix multiply, and scatter its gradient back.

Layout (the convention is :mod:`striate.kernels.layout`). The API is NCHW, as PyTorch's, but
these kernels work in NHWC ("channels last") inside:
a patch is then ``kh * kw`` runs of ``C`` contiguous values, ``cols @ W`` comes out already in
NHWC order, and the col2im scatter adds contiguous channel vectors. A result that is NHWC in memory
is handed back as an NCHW-shaped *view* (``a.transpose(0, 3, 1, 2)``), so the next kernel finds it
channels-last again at no cost; NumPy's elementwise ops in between (ReLU, ...) keep that layout.
Measured on a 2-core AVX-512 machine, conv 3x3 + 2x2 max-pool, forward and backward: batch 128,
3x32x32 -> 32 channels, 24 ms with these kernels, 44 ms with the same kernels handing NCHW-
contiguous arrays to each other, 93 ms with the course's NCHW im2col layers; 32x16x16 -> 64:
47 / 53 / 87 ms; 8x8 digits, 1 -> 16 channels, batch 64: 0.26 / 0.32 / 1.4 ms.

Shapes use the course's letters: x (N, C, H, W), patches of kh x kw, output (N, F, Ho, Wo).
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided

from .layout import to_nhwc  # the channels-last convention (re-exported here)

__all__ = [
    "as_pair",
    "col2im",
    "im2col",
    "output_size",
    "pad_nhwc",
    "pair",
    "to_nhwc",
    "window_view",
]


def pair(v, name: str = "value") -> tuple[int, int]:
    """``v`` as an (h, w) pair of ints: an int is used for both."""
    if isinstance(v, (int, np.integer)) and not isinstance(v, bool):
        return int(v), int(v)
    if (
        isinstance(v, (tuple, list))
        and len(v) == 2
        and all(isinstance(e, (int, np.integer)) and not isinstance(e, bool) for e in v)
    ):
        return int(v[0]), int(v[1])
    raise TypeError(f"{name} must be an int or a pair of ints, got {v!r}")


def as_pair(v) -> tuple:
    """``(v, v)`` for an int, a pair as it is; no checks: the public functions (``striate.ops``)
    checked the arguments once, in the user's terms, and the kernels trust them."""
    return (v, v) if isinstance(v, (int, np.integer)) else tuple(v)


def output_size(size: int, k: int, stride: int, pad: int, dilation: int = 1) -> int:
    """Output length of a sliding window: ``(size + 2 pad - dilation (k - 1) - 1) // stride + 1``
    (``(size + 2 pad - k) // stride + 1`` without dilation)."""
    return (size + 2 * pad - dilation * (k - 1) - 1) // stride + 1


def pad_nhwc(x: np.ndarray, pad: tuple[int, int], value: float = 0.0) -> np.ndarray:
    """x (N, C, H, W), any strides -> (N, H + 2 ph, W + 2 pw, C), contiguous.

    The transpose to NHWC and the padding happen in one copy; with no padding and a channels-last
    x there is no copy at all.
    """
    ph, pw = pad
    if ph == 0 and pw == 0:
        return to_nhwc(x)
    N, C, H, W = x.shape
    xp = np.empty((N, H + 2 * ph, W + 2 * pw, C), dtype=x.dtype)
    # fill only the border, then copy the interior once
    xp[:, :ph] = value
    xp[:, H + ph :] = value
    xp[:, ph : H + ph, :pw] = value
    xp[:, ph : H + ph, W + pw :] = value
    xp[:, ph : H + ph, pw : W + pw] = x.transpose(0, 2, 3, 1)
    return xp


def window_view(
    xp: np.ndarray, kernel: tuple[int, int], stride: tuple[int, int], dilation=(1, 1)
) -> np.ndarray:
    """Read-only view of every patch: xp (N, Hp, Wp, C) -> (N, Ho, Wo, kh, kw, C), no copy.

    Patch (ho, wo) starts at pixel (ho*sh, wo*sw); moving along kh / kw steps ``dilation`` pixels,
    so the view is ``xp`` with the H and W strides reused. (``sliding_window_view`` builds the
    same view but costs ~28 us a call against ~8 us, which shows on 8x8 digits.)
    """
    (kh, kw), (sh, sw), (dh, dw) = kernel, stride, dilation
    N, Hp, Wp, C = xp.shape
    Ho, Wo = (Hp - dh * (kh - 1) - 1) // sh + 1, (Wp - dw * (kw - 1) - 1) // sw + 1
    if Ho < 1 or Wo < 1:
        raise ValueError(f"window_view: kernel {kernel} is larger than the input {(Hp, Wp)}")
    bn, bh, bw, bc = xp.strides
    return as_strided(
        xp, (N, Ho, Wo, kh, kw, C), (bn, bh * sh, bw * sw, bh * dh, bw * dw, bc), writeable=False
    )


def im2col(x: np.ndarray, kernel, stride=1, pad=0, dilation=1) -> np.ndarray:
    """Every kh x kw patch of x as one row: x (N, C, H, W) -> cols (N*Ho*Wo, kh*kw*C).

    Rows run over (n, ho, wo) and columns over (i, j, c) — NHWC order, so a weight reshaped as
    ``w.transpose(2, 3, 1, 0).reshape(kh*kw*C, F)`` gives the convolution as ``cols @ w``.
    """
    kernel, stride, pad = pair(kernel, "kernel"), pair(stride, "stride"), pair(pad, "pad")
    xp = pad_nhwc(x, pad)
    win = window_view(xp, kernel, stride, pair(dilation, "dilation"))
    N, Ho, Wo, kh, kw, C = win.shape
    return win.reshape(N * Ho * Wo, kh * kw * C)  # the one copy of im2col


def col2im(dcols: np.ndarray, x_shape, kernel, stride=1, pad=0, dilation=1) -> np.ndarray:
    """Adjoint of :func:`im2col`: add every row of dcols back onto the pixels its patch came from.

    dcols (N*Ho*Wo, kh*kw*C) -> dx (N, C, H, W) (an NCHW view of NHWC memory). One vectorised
    add per kernel offset (i, j): a loop of kh*kw steps, never over pixels or the batch.
    """
    (kh, kw), (sh, sw), (ph, pw) = pair(kernel), pair(stride), pair(pad)
    dh, dw = pair(dilation)
    N, C, H, W = x_shape
    Ho, Wo = output_size(H, kh, sh, ph, dh), output_size(W, kw, sw, pw, dw)
    d6 = dcols.reshape(N, Ho, Wo, kh, kw, C)
    dxp = np.zeros((N, H + 2 * ph, W + 2 * pw, C), dtype=dcols.dtype)
    for i in range(kh):
        for j in range(kw):
            a, b = i * dh, j * dw
            dxp[:, a : a + sh * Ho : sh, b : b + sw * Wo : sw] += d6[:, :, :, i, j]
    return dxp[:, ph : ph + H, pw : pw + W].transpose(0, 3, 1, 2)
