"""ReLU on raw arrays: ``relu_forward(x) -> out, mask`` and ``relu_backward(dout, mask) -> dx``.

Layout: 4-D activations come out in channels-last memory (:func:`.layout.to_channels_last`), the
layout the convolution kernels work in, and the gradient keeps the mask's layout for the same
reason. With numba (the 'fast' extra) each direction is one compiled pass
(:mod:`striate.kernels.compiled`); NumPy's forward is a compare and a maximum. Backward reads a
private boolean mask, not the output, which the caller may change in place.
"""

from __future__ import annotations

import numpy as np

from . import compiled
from .layout import to_channels_last

__all__ = ["relu_backward", "relu_forward"]


def _flat(a):
    """a's memory as a flat view when it is one dense block (C order, channels-last, ...),
    else None."""
    v = a.ravel(order="K")
    return v if np.may_share_memory(v, a) else None


def _like(layout, a):
    """a copied into an array with layout's memory layout."""
    out = np.empty_like(layout, dtype=a.dtype)
    np.copyto(out, a)
    return out


def relu_forward(x: np.ndarray):
    """out = max(x, 0) (NaN stays NaN, as in PyTorch) and mask = x > 0, both in x's layout (made
    channels-last for 4-D input)."""
    x = to_channels_last(x)
    out = np.empty_like(x)  # x's layout
    if compiled.enabled(x):
        mask = np.empty_like(x, dtype=np.bool_)
        xf, yf, mf = _flat(x), _flat(out), _flat(mask)
        if xf is not None and yf is not None and mf is not None:
            compiled.relu_forward(xf, yf, mf)
            return out, mask
    # a maximum, not x * mask: -inf * 0 is NaN and -2 * 0 is -0.0
    np.maximum(x, 0, out=out)
    return out, x > 0


def relu_backward(dout: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """dx = dout where mask, else 0, in the mask's memory layout."""
    if dout.shape == mask.shape and compiled.enabled(dout):
        if dout.strides != tuple(s * dout.itemsize for s in mask.strides):
            # another layout (a residual sum with an NCHW shortcut gradient): one transposing
            # copy, then the compiled pass, much faster than a strided multiply
            dout = _like(mask, dout)
        dx = np.empty_like(mask, dtype=dout.dtype)
        gf, mf, df = _flat(dout), _flat(mask), _flat(dx)
        if gf is not None and mf is not None and df is not None:
            compiled.relu_backward(gf, mf, df)
            return dx
    if dout.ndim == 4 and dout.dtype.kind == "f" and dout.shape == mask.shape:
        return np.multiply(dout, mask, out=np.empty_like(mask, dtype=dout.dtype))
    return dout * mask
