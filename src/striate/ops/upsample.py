"""Upsampling without learned weights: ``interpolate`` (PyTorch's signature; nearest, bilinear and
bicubic) and "bed of nails" (``bed_of_nails``, striate's own name; the lecture's term).

- nearest: output pixel (i, j) copies input pixel ``(floor(i * s_h), floor(j * s_w))`` with
  ``s = 1 / scale_factor`` (or in / out when a size is given), PyTorch's "nearest". The gradient
  of a copy is a sum: each input pixel receives the summed gradient of all its copies.
- bilinear / bicubic: each axis is resized by a fixed (out, in) matrix of interpolation weights,
  so the op is ``A_h x A_w^T`` per plane and its gradient ``A_h^T dout A_w``.
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


class UpsampleSeparable(Function):
    # bilinear and bicubic resizing are linear maps applied to each axis on its own: each output
    # position mixes K input positions ("taps": 2 for bilinear, 4 for bicubic) with fixed weights,
    # the sparse rows of an (out, in) matrix A. Forward mixes along W, then along H (PyTorch's
    # order, so an inf under a zero weight gives NaN as there); out = A_h x A_w^T per plane,
    # and the gradient of a linear map is its transpose: dx = A_h^T dout A_w
    @staticmethod
    def forward(ctx, x, taps_h, taps_w):
        (ih, wh), (iw, ww) = taps_h, taps_w
        with np.errstate(invalid="ignore"):  # inf * 0 = NaN on purpose (PyTorch's answer)
            t = (x[..., iw] * ww).sum(axis=-1)  # (N, C, H, Wo)
            out = (t[:, :, ih] * wh[:, :, None]).sum(axis=3)  # (N, C, Ho, K, Wo) -> ...Wo
        ctx.a_h, ctx.a_w = _dense(taps_h, x.shape[2]), _dense(taps_w, x.shape[3])
        return out

    @staticmethod
    def backward(ctx, g):
        return np.matmul(ctx.a_h.T, np.matmul(g, ctx.a_w))


def _dense(taps, n_in) -> np.ndarray:
    """The (out, in) matrix whose row i holds weight w[i, k] at column idx[i, k]."""
    idx, w = taps
    a = np.zeros((idx.shape[0], n_in), dtype=w.dtype)
    np.add.at(a, (np.repeat(np.arange(idx.shape[0]), idx.shape[1]), idx.ravel()), w.ravel())
    return a


def _source_position(n_in, n_out, scale, align_corners):
    """Where each output pixel's centre falls in input pixel coordinates (PyTorch's rule):
    ``i * (in - 1) / (out - 1)`` with align_corners (corner pixels meet), else
    ``(i + 0.5) * scale - 0.5`` (pixel centres meet), scale = in/out or 1/scale_factor."""
    i = np.arange(n_out, dtype=np.float64)
    if align_corners:
        return i * ((n_in - 1) / (n_out - 1) if n_out > 1 else 0.0)
    return (i + 0.5) * scale - 0.5


def _linear_taps(n_in, n_out, scale, align_corners):
    """(idx, w), each (n_out, 2): ``(1 - t) x[i0] + t x[i0 + 1]`` around each source position (one
    left of the first centre is clamped to it, and i0 + 1 to the last pixel, as PyTorch). An axis
    that keeps its size is copied, whatever the scale factor, as PyTorch does: taps (i, i) with
    weights (1, 0) (so an inf there gives NaN, as in PyTorch)."""
    if n_in == n_out:
        i = np.arange(n_out)
        return np.stack([i, i], axis=1), np.stack([np.ones(n_out), np.zeros(n_out)], axis=1)
    src = np.maximum(_source_position(n_in, n_out, scale, align_corners), 0.0)
    i0 = np.minimum(np.floor(src).astype(np.int64), n_in - 1)
    t = src - i0
    return np.stack([i0, np.minimum(i0 + 1, n_in - 1)], axis=1), np.stack([1 - t, t], axis=1)


def _cubic_taps(n_in, n_out, scale, align_corners, A=-0.75):  # noqa: N803 - Keys' constant
    """(idx, w), each (n_out, 4): Keys' cubic convolution (A = -0.75, PyTorch's) over the four
    input pixels around each source position, indices beyond the border clamped to it."""
    src = _source_position(n_in, n_out, scale, align_corners)
    i0 = np.floor(src)
    t = src - i0

    def near(x):  # |x| <= 1
        return ((A + 2) * x - (A + 3)) * x * x + 1

    def far(x):  # 1 < |x| < 2
        return ((A * x - 5 * A) * x + 8 * A) * x - 4 * A

    w = np.stack([far(t + 1), near(t), near(1 - t), far(2 - t)], axis=1)
    idx = np.clip(i0.astype(np.int64)[:, None] + np.arange(-1, 3), 0, n_in - 1)
    return idx, w


_MODES = ("nearest", "bilinear", "bicubic")


def interpolate(input: Tensor, size=None, scale_factor=None, mode: str = "nearest",
                align_corners=None, recompute_scale_factor=None) -> Tensor:
    """Resize a batch of images, as PyTorch's ``interpolate``: ``"nearest"`` copies the nearest
    pixel, ``"bilinear"`` mixes the 2 x 2 nearest, ``"bicubic"`` the 4 x 4 (Keys, A = -0.75).

    Args:
        input: (N, C, H, W), floating.
        size: output (Ho, Wo) or an int for both; or instead
        scale_factor: a number or an (fh, fw) pair, ``Ho = floor(H * fh)``.
        mode: ``"nearest"``, ``"bilinear"`` or ``"bicubic"``.
        align_corners: bilinear/bicubic only (None means False): True maps the corner pixels
            of input and output onto each other, False their pixel centres at scale in/out.
        recompute_scale_factor: if True, sample with in/out of the computed size instead of
            1 / scale_factor (they differ for non-integer factors).
    Returns:
        (N, C, Ho, Wo). Nearest with integer factors copies each pixel into an fh x fw block.

    Example:
        >>> import striate, striate.functional as F
        >>> F.interpolate(striate.tensor([[[[1.0, 2.0]]]]), scale_factor=2).tolist()
        [[[[1.0, 1.0, 2.0, 2.0], [1.0, 1.0, 2.0, 2.0]]]]
        >>> F.interpolate(striate.tensor([[[[1.0, 2.0]]]]), size=(1, 3), mode="bilinear",
        ...               align_corners=True).tolist()
        [[[[1.0, 1.5, 2.0]]]]
    """
    fn = "interpolate"
    if mode not in _MODES:
        raise ValueError(f"{fn}: mode must be one of {_MODES} for 4-D input, got {mode!r}")
    if align_corners is not None and mode == "nearest":
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
    if H < 1 or W < 1:
        raise ValueError(f"{fn}: input must have non-empty spatial dims, got shape {x.shape}")
    if mode != "nearest":
        # input pixels per output pixel, as PyTorch: in / out for a size, else 1 / scale_factor
        scales = (H / Ho, W / Wo) if recompute_scale_factor else (1.0 / sf[0], 1.0 / sf[1])
        taps = _linear_taps if mode == "bilinear" else _cubic_taps
        th = taps(H, Ho, scales[0], bool(align_corners))
        tw = taps(W, Wo, scales[1], bool(align_corners))
        return UpsampleSeparable.apply(input, taps_h=(th[0], th[1].astype(x.dtype)),
                                       taps_w=(tw[0], tw[1].astype(x.dtype)))
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
