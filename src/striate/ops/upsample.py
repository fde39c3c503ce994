"""Upsampling without learned weights: nearest-neighbour ``interpolate`` (PyTorch's signature) and
"bed of nails" (``bed_of_nails``, striate's own name; the lecture's term).

- nearest: output pixel (i, j) copies input pixel ``(floor(i * s_h), floor(j * s_w))`` with
  ``s = 1 / scale_factor`` (or in / out when a size is given), PyTorch's "nearest". The gradient
  of a copy is a sum: each input pixel receives the summed gradient of all its copies.
- bed of nails: each input value goes to the top-left corner of its s x s block of the output,
  zeros elsewhere; the gradient reads the upstream gradient back at those corners.

Both keep the channels-last memory of their input (see :mod:`striate.kernels.im2col`).
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ..kernels.im2col import to_nhwc
from ._helpers import array_of as _array  # the shared checks
from ._helpers import pair_arg as _check_pair

__all__ = ["bed_of_nails", "interpolate"]


def _nearest_index(n_in, n_out, step):
    """Source index of each output position, ``floor(i * step)`` clipped to the input, in float32
    arithmetic as PyTorch computes it (so non-integer factors pick the same pixels)."""
    src = np.floor(np.arange(n_out, dtype=np.float32) * np.float32(step)).astype(np.int64)
    return np.minimum(src, n_in - 1)


def _repeat_factor(src, n_in, n_out):
    """f when src is ``i // f`` (every input copied f times in a row), else None."""
    if n_out % n_in:
        return None
    f = n_out // n_in
    return f if np.array_equal(src, np.arange(n_out) // f) else None


def _sum_back(d, src, n_in, axis):
    """Adjoint of ``d = a.take(src, axis)`` for a non-decreasing src: runs of equal src add up."""
    starts = np.searchsorted(src, np.arange(n_in))
    present = np.zeros(n_in, dtype=bool)
    present[src] = True
    sums = np.add.reduceat(d, starts[present], axis=axis)
    if present.all():
        return sums
    shape = list(d.shape)
    shape[axis] = n_in
    out = np.zeros(shape, dtype=d.dtype)
    idx = [slice(None)] * d.ndim
    idx[axis] = present
    out[tuple(idx)] = sums
    return out


class UpsampleNearest(Function):
    @staticmethod
    def forward(ctx, x, out_hw, steps):
        N, C, H, W = x.shape
        Ho, Wo = out_hw
        rows = _nearest_index(H, Ho, steps[0])
        cols = _nearest_index(W, Wo, steps[1])
        fh, fw = _repeat_factor(rows, H, Ho), _repeat_factor(cols, W, Wo)
        xv = x.transpose(0, 2, 3, 1)
        if fh and fw:
            # integer factors: one broadcast copy into (N, H, fh, W, fw, C) (np.repeat twice)
            out = np.empty((N, H, fh, W, fw, C), dtype=x.dtype)
            out[...] = xv[:, :, None, :, None, :]
            ctx.geom = ("repeat", (N, C, H, W), fh, fw)
            return out.reshape(N, Ho, Wo, C).transpose(0, 3, 1, 2)
        ctx.geom = ("index", (N, C, H, W), rows, cols)
        return xv[:, rows][:, :, cols].transpose(0, 3, 1, 2)

    @staticmethod
    def backward(ctx, g):
        # every output copies one input pixel, so each input gets the sum of its copies' grads
        kind, (N, C, H, W), a, b = ctx.geom
        if kind == "repeat":
            dx = to_nhwc(g).reshape(N, H, a, W, b, C).sum(axis=(2, 4))
        else:
            dx = _sum_back(_sum_back(g.transpose(0, 2, 3, 1), a, H, 1), b, W, 2)
        return dx.transpose(0, 3, 1, 2)


def interpolate(input: Tensor, size=None, scale_factor=None, mode: str = "nearest",
                align_corners=None, recompute_scale_factor=None) -> Tensor:
    """Resize a batch of images by nearest-neighbour sampling, as PyTorch's ``mode="nearest"``.

    Args:
        input: (N, C, H, W), floating.
        size: output (Ho, Wo) or an int for both; or instead
        scale_factor: a number or an (fh, fw) pair, ``Ho = floor(H * fh)``.
        mode: only ``"nearest"``.
        align_corners: must be None for nearest (as PyTorch).
        recompute_scale_factor: if True, sample with in/out of the computed size instead of
            1 / scale_factor (they differ for non-integer factors).
    Returns:
        (N, C, Ho, Wo). Integer factors copy each pixel into an fh x fw block.

    Example:
        >>> import striate, striate.functional as F
        >>> F.interpolate(striate.tensor([[[[1.0, 2.0]]]]), scale_factor=2).tolist()
        [[[[1.0, 1.0, 2.0, 2.0], [1.0, 1.0, 2.0, 2.0]]]]
    """
    fn = "interpolate"
    if mode != "nearest":
        raise ValueError(f"{fn}: mode must be 'nearest' (the only mode implemented), got {mode!r}")
    if align_corners is not None:
        raise ValueError(f"{fn}: align_corners only applies to interpolating modes, not nearest")
    x = _array(input)
    if x.ndim != 4:
        raise ValueError(f"{fn}: input must be 4-D (N, C, H, W), got shape {x.shape}")
    if x.dtype.kind != "f":
        raise TypeError(f"{fn}: input must be a floating tensor, got dtype {x.dtype}")
    H, W = x.shape[2:]
    if (size is None) == (scale_factor is None):
        raise ValueError(f"{fn}: give exactly one of size and scale_factor")
    if size is not None:
        Ho, Wo = _check_pair(size, "size", fn, 1)
        recompute_scale_factor = True
    else:
        sf = (scale_factor, scale_factor) if isinstance(scale_factor, numbers.Real) \
            else tuple(scale_factor)
        if len(sf) != 2 or not all(isinstance(v, numbers.Real) and v > 0 for v in sf):
            raise ValueError(f"{fn}: scale_factor must be a positive number or a pair of them, "
                             f"got {scale_factor!r}")
        Ho, Wo = math.floor(H * sf[0]), math.floor(W * sf[1])
        if Ho < 1 or Wo < 1:
            raise ValueError(f"{fn}: scale_factor {scale_factor!r} gives an empty output "
                             f"{(Ho, Wo)} for input shape {x.shape}")
    # input pixels per output pixel, as PyTorch: in / out for a size, else 1 / scale_factor
    if recompute_scale_factor:
        steps = (np.float32(H) / np.float32(Ho), np.float32(W) / np.float32(Wo))
    else:
        steps = (1.0 / sf[0], 1.0 / sf[1])
    return UpsampleNearest.apply(input, out_hw=(Ho, Wo), steps=steps)


class BedOfNails(Function):
    @staticmethod
    def forward(ctx, x, scale):
        N, C, H, W = x.shape
        sh, sw = scale
        out = np.zeros((N, H * sh, W * sw, C), dtype=x.dtype)
        out[:, ::sh, ::sw] = x.transpose(0, 2, 3, 1)
        ctx.scale = scale
        return out.transpose(0, 3, 1, 2)

    @staticmethod
    def backward(ctx, g):
        # out = x at the block corners, 0 elsewhere: dx = g at the corners
        sh, sw = ctx.scale
        return g[:, :, ::sh, ::sw]


def bed_of_nails(input: Tensor, scale) -> Tensor:
    """"Bed of nails" upsampling: each value in the top-left corner of an sh x sw block of zeros.

    Args:
        input: (N, C, H, W), floating.
        scale: int or (sh, sw), >= 1.
    Returns:
        (N, C, H * sh, W * sw).

    Example:
        >>> import striate, striate.functional as F
        >>> F.bed_of_nails(striate.tensor([[[[1.0, 2.0]]]]), 2).tolist()
        [[[[1.0, 0.0, 2.0, 0.0], [0.0, 0.0, 0.0, 0.0]]]]
    """
    x = _array(input)
    if x.ndim != 4:
        raise ValueError(f"bed_of_nails: input must be 4-D (N, C, H, W), got shape {x.shape}")
    if x.dtype.kind != "f":
        raise TypeError(f"bed_of_nails: input must be a floating tensor, got dtype {x.dtype}")
    return BedOfNails.apply(input, scale=_check_pair(scale, "scale", "bed_of_nails", 1))
