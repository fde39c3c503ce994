"""2-D convolution, ``conv2d`` with ``torch.nn.functional.conv2d``'s signature (NCHW).

The gradient, in words: every output element is a dot product of one input patch with one filter,
so its upstream gradient flows back to that patch (times the filter) and to that filter (times
the patch); the bias gets the sum of the gradient over everything but the channel. How to compute
that fast (im2col, one GEMM each way, col2im) lives in :mod:`striate.kernels.conv`.
"""

from __future__ import annotations

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ..kernels.conv import conv_backward, conv_forward
from ..kernels.im2col import output_size, pair

__all__ = ["conv2d"]


class Conv2d(Function):
    @staticmethod
    def forward(ctx, x, w, b=None, *, stride, padding):
        out, cache = conv_forward(x, w, b, stride, padding)
        need = ctx.needs_input_grad
        if any(need):
            # the patches are only needed for dW; don't hold them when the weight is frozen
            ctx.cache = cache if need[1] else cache._replace(cols=None)
        return out

    @staticmethod
    def backward(ctx, g):
        # out = x * w + b  =>  dx = full correlation of g with w (col2im of g W^T),
        # dw = correlation of x with g (cols^T g), db = sum of g over (N, Ho, Wo)
        need = ctx.needs_input_grad
        has_bias = len(need) == 3
        dx, dw, db = conv_backward(
            g, ctx.cache, need_dx=need[0], need_dw=need[1], need_db=has_bias and need[2]
        )
        return (dx, dw, db) if has_bias else (dx, dw)


def _array(t):
    return t.array if isinstance(t, Tensor) else np.asarray(t)


def _check_pair(v, name, fn, minimum):
    try:
        p = pair(v, name)
    except TypeError:
        raise TypeError(f"{fn}: {name} must be an int or a pair of ints, got {v!r}") from None
    if min(p) < minimum:
        raise ValueError(f"{fn}: {name} must be >= {minimum}, got {v!r}")
    return p


def conv2d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride=1,
    padding=0,
    dilation=1,
    groups: int = 1,
) -> Tensor:
    """2-D convolution (cross-correlation) of a batch of images with a bank of filters.

    Args:
        input: (N, C, H, W), floating.
        weight: (F, C, HH, WW), same dtype as input.
        bias: (F,) or None.
        stride: int or (sh, sw), >= 1.
        padding: zero padding on each side, int or (ph, pw), >= 0.
        dilation, groups: only 1 for now.
    Returns:
        (N, F, Ho, Wo) with ``Ho = (H + 2 ph - HH) // sh + 1`` and likewise Wo. Its memory is
        channels-last (an NCHW view of NHWC), which the next conv or pool reads without a copy.
    Raises:
        ValueError: on a shape, channel, bias or dtype mismatch, or an output smaller than 1x1.

    Example:
        >>> import striate, striate.functional as F
        >>> x = striate.randn(8, 3, 32, 32)
        >>> F.conv2d(x, striate.randn(16, 3, 3, 3), padding=1).shape
        (8, 16, 32, 32)
    """
    x, w = _array(input), _array(weight)
    if dilation not in (1, (1, 1), [1, 1]):
        raise ValueError("conv2d: dilation other than 1 is not supported yet")
    if groups != 1:
        raise ValueError("conv2d: groups other than 1 is not supported yet")
    if x.ndim != 4:
        raise ValueError(
            f"conv2d: input must be 4-D (N, C, H, W), got shape {x.shape}"
            + (" (add a batch dimension with unsqueeze(0))" if x.ndim == 3 else "")
        )
    if w.ndim != 4:
        raise ValueError(f"conv2d: weight must be 4-D (F, C, HH, WW), got shape {w.shape}")
    if x.dtype.kind != "f":
        raise TypeError(f"conv2d: input must be a floating tensor, got dtype {x.dtype}")
    if w.dtype != x.dtype:
        raise TypeError(
            f"conv2d: input and weight must have the same dtype, got input {x.dtype} and "
            f"weight {w.dtype}"
        )
    if x.shape[1] != w.shape[1]:
        raise ValueError(
            f"conv2d: input has {x.shape[1]} channels but weight expects {w.shape[1]} "
            f"(input shape {x.shape}, weight shape {w.shape})"
        )
    if bias is not None:
        b = _array(bias)
        if b.shape != (w.shape[0],):
            raise ValueError(
                f"conv2d: bias must have shape ({w.shape[0]},), one value per filter of weight "
                f"{w.shape}, got {b.shape}"
            )
        if b.dtype != x.dtype:
            raise TypeError(f"conv2d: bias must have the input's dtype {x.dtype}, got {b.dtype}")
    stride = _check_pair(stride, "stride", "conv2d", 1)
    padding = _check_pair(padding, "padding", "conv2d", 0)
    H, W = x.shape[2:]
    HH, WW = w.shape[2:]
    Ho, Wo = output_size(H, HH, stride[0], padding[0]), output_size(W, WW, stride[1], padding[1])
    if Ho < 1 or Wo < 1:
        raise ValueError(
            f"conv2d: kernel size ({HH}, {WW}) is larger than the padded input "
            f"({H + 2 * padding[0]}, {W + 2 * padding[1]}) (input shape {x.shape}, "
            f"padding {padding})"
        )
    if bias is None:
        return Conv2d.apply(input, weight, stride=stride, padding=padding)
    return Conv2d.apply(input, weight, bias, stride=stride, padding=padding)
