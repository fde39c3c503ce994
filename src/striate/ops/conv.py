"""2-D convolution, ``conv2d`` with ``torch.nn.functional.conv2d``'s signature (NCHW).

The gradient, in words: every output element is a dot product of one input patch with one filter,
so its upstream gradient flows back to that patch (times the filter) and to that filter (times
the patch); the bias gets the sum of the gradient over everything but the channel. How to compute
that fast (im2col, one GEMM each way, col2im) lives in :mod:`striate.kernels.conv`.
"""

from __future__ import annotations

from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ..kernels.conv import (
    conv_backward,
    conv_forward,
    conv_transpose_backward,
    conv_transpose_forward,
)
from ..kernels.im2col import output_size
from ._helpers import array_of, check_groups, pair_arg, require_ndim
from .shape import pad as _pad

__all__ = ["conv2d", "conv_transpose2d"]


class Conv2d(Function):
    @staticmethod
    def forward(ctx, x, w, b=None, *, stride, padding, dilation=(1, 1), groups=1):
        out, cache = conv_forward(x, w, b, stride, padding, dilation, groups)
        need = ctx.needs_input_grad
        if any(need):
            # the patches are only needed for dW; don't hold them when the weight is frozen
            if not need[1]:
                cache = cache.drop_patches()
            ctx.cache = cache
        return out

    @staticmethod
    def backward(ctx, g):
        # out = x * w + b  =>  dx = full correlation of g with w (col2im of g W^T),
        # dw = correlation of x with g (cols^T g), db = sum of g over (N, Ho, Wo)
        return _grads(conv_backward, ctx, g)


class ConvTranspose2d(Function):
    @staticmethod
    def forward(ctx, x, w, b=None, *, stride, padding, output_padding, dilation, groups):
        out, ctx.cache = conv_transpose_forward(x, w, b, stride, padding, output_padding,
                                                dilation, groups)
        return out

    @staticmethod
    def backward(ctx, g):
        # y = K^T x + b for the convolution K with these arguments  =>  dx = K g (a convolution
        # forward), dw = K's weight gradient with g as its input and x as its upstream gradient,
        # db = sum of g over (N, Ho, Wo)
        return _grads(conv_transpose_backward, ctx, g)


def _grads(kernel_backward, ctx, g):
    """(dx, dw[, db]) from a kernel's backward, computing only the gradients that are needed."""
    need = ctx.needs_input_grad
    has_bias = len(need) == 3
    dx, dw, db = kernel_backward(
        g, ctx.cache, need_dx=need[0], need_dw=need[1], need_db=has_bias and need[2]
    )
    return (dx, dw, db) if has_bias else (dx, dw)


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
        weight: (F, C / groups, HH, WW), same dtype as input.
        bias: (F,) or None.
        stride: int or (sh, sw), >= 1.
        padding: zero padding on each side, int or (ph, pw), >= 0; or ``"valid"`` (0) or
            ``"same"`` (output size = input size; stride 1 only; any odd extra row goes to the
            bottom/right, as PyTorch).
        dilation: spacing of the kernel taps, int or (dh, dw), >= 1 (the atrous convolution).
        groups: split input and output channels into this many independent convolutions; C
            (with F a multiple of C) is the depthwise convolution.
    Returns:
        (N, F, Ho, Wo) with ``Ho = (H + 2 ph - dh (HH - 1) - 1) // sh + 1`` and likewise Wo. Its
        memory is channels-last (an NCHW view of NHWC), which the next conv or pool reads
        without a copy.
    Raises:
        ValueError: on a shape, channel, group, bias or dtype mismatch, or an output smaller
        than 1x1.

    Example:
        >>> import striate, striate.functional as F
        >>> x = striate.randn(8, 3, 32, 32)
        >>> F.conv2d(x, striate.randn(16, 3, 3, 3), padding=1).shape
        (8, 16, 32, 32)
    """
    x, w = array_of(input), array_of(weight)
    require_ndim("conv2d", x, 4)
    require_ndim("conv2d", w, 4, "weight", "(F, C, HH, WW)")
    if x.dtype.kind != "f":
        raise TypeError(f"conv2d: input must be a floating tensor, got dtype {x.dtype}")
    if w.dtype != x.dtype:
        raise TypeError(
            f"conv2d: input and weight must have the same dtype, got input {x.dtype} and "
            f"weight {w.dtype}"
        )
    groups = check_groups("conv2d", groups, x.shape[1], w.shape[0])
    if x.shape[1] != w.shape[1] * groups:
        per_group = f" ({w.shape[1]} per group x {groups} groups)" if groups > 1 else ""
        raise ValueError(
            f"conv2d: input has {x.shape[1]} channels but weight expects "
            f"{w.shape[1] * groups}{per_group} (input shape {x.shape}, weight shape {w.shape})"
        )
    if bias is not None:
        b = array_of(bias)
        if b.shape != (w.shape[0],):
            raise ValueError(
                f"conv2d: bias must have shape ({w.shape[0]},), one value per filter of weight "
                f"{w.shape}, got {b.shape}"
            )
        if b.dtype != x.dtype:
            raise TypeError(f"conv2d: bias must have the input's dtype {x.dtype}, got {b.dtype}")
    stride = pair_arg(stride, "stride", "conv2d", 1)
    dilation = pair_arg(dilation, "dilation", "conv2d", 1)
    H, W = x.shape[2:]
    HH, WW = w.shape[2:]
    if isinstance(padding, str):
        padding, input = _string_padding(padding, input, stride, dilation, (HH, WW))
        H, W = input.shape[2:]
    padding = pair_arg(padding, "padding", "conv2d", 0)
    Ho = output_size(H, HH, stride[0], padding[0], dilation[0])
    Wo = output_size(W, WW, stride[1], padding[1], dilation[1])
    if Ho < 1 or Wo < 1:
        dil = f" (dilation {dilation})" if dilation != (1, 1) else ""
        raise ValueError(
            f"conv2d: kernel size ({HH}, {WW}) is larger than the padded input "
            f"({H + 2 * padding[0]}, {W + 2 * padding[1]}){dil} (input shape {x.shape}, "
            f"padding {padding})"
        )
    params = dict(stride=stride, padding=padding)
    if dilation != (1, 1) or groups != 1:
        params.update(dilation=dilation, groups=groups)
    if bias is None:
        return Conv2d.apply(input, weight, **params)
    return Conv2d.apply(input, weight, bias, **params)


def _string_padding(padding, input, stride, dilation, kernel):
    """``"valid"``: no padding. ``"same"``: total padding d (k - 1) per dim, the odd extra row or
    column at the bottom/right (an explicit zero pad of the input, as PyTorch does)."""
    if padding == "valid":
        return 0, input
    if padding != "same":
        raise ValueError(f"conv2d: padding must be an int, a pair, 'valid' or 'same', got "
                         f"{padding!r}")
    if stride != (1, 1):
        raise ValueError(f"conv2d: padding='same' needs stride 1, got stride {stride}")
    total = [d * (k - 1) for d, k in zip(dilation, kernel)]
    sym = (total[0] // 2, total[1] // 2)
    if total[0] % 2 or total[1] % 2:
        input = _pad(input, (0, total[1] % 2, 0, total[0] % 2))
    return sym, input


def conv_transpose2d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride=1,
    padding=0,
    output_padding=0,
    groups: int = 1,
    dilation=1,
) -> Tensor:
    """Transposed convolution ("deconvolution"): the adjoint of ``conv2d`` with the same stride,
    padding, dilation and groups, so it maps a conv's output shape back to its input shape; with
    stride s it upsamples by s with learned filters.

    Args:
        input: (N, C, H, W), floating.
        weight: (C, F / groups, HH, WW) (PyTorch's layout: input channels first).
        bias: (F,) or None.
        stride, padding, dilation: those of the convolution it transposes.
        output_padding: int or pair added to the bottom/right of the output, smaller than the
            stride or the dilation (picks one of the input sizes a strided conv maps alike).
        groups: as conv2d.
    Returns:
        (N, F, Ho, Wo) with ``Ho = (H - 1) sh - 2 ph + dh (HH - 1) + oph + 1``, likewise Wo.

    Example:
        >>> import striate, striate.functional as F
        >>> F.conv_transpose2d(striate.ones(1, 1, 2, 2), striate.ones(1, 1, 2, 2), stride=2).shape
        (1, 1, 4, 4)
    """
    fn = "conv_transpose2d"
    x, w = array_of(input), array_of(weight)
    require_ndim(fn, x, 4)
    require_ndim(fn, w, 4, "weight", "(C, F / groups, HH, WW)")
    if x.dtype.kind != "f":
        raise TypeError(f"{fn}: input must be a floating tensor, got dtype {x.dtype}")
    if w.dtype != x.dtype:
        raise TypeError(f"{fn}: input and weight must have the same dtype, got input {x.dtype} "
                        f"and weight {w.dtype}")
    groups = check_groups(fn, groups, x.shape[1], w.shape[1] * groups)
    if x.shape[1] != w.shape[0]:
        raise ValueError(
            f"{fn}: input has {x.shape[1]} channels but weight expects {w.shape[0]} (weight is "
            f"(C_in, C_out / groups, HH, WW); input shape {x.shape}, weight shape {w.shape})"
        )
    F = w.shape[1] * groups
    if bias is not None:
        b = array_of(bias)
        if b.shape != (F,):
            raise ValueError(f"{fn}: bias must have shape ({F},), got {b.shape}")
        if b.dtype != x.dtype:
            raise TypeError(f"{fn}: bias must have the input's dtype {x.dtype}, got {b.dtype}")
    stride = pair_arg(stride, "stride", fn, 1)
    padding = pair_arg(padding, "padding", fn, 0)
    dilation = pair_arg(dilation, "dilation", fn, 1)
    output_padding = pair_arg(output_padding, "output_padding", fn, 0)
    for d in range(2):
        if output_padding[d] >= max(stride[d], dilation[d]):
            raise ValueError(
                f"{fn}: output_padding {output_padding} must be smaller than the stride "
                f"{stride} or the dilation {dilation}"
            )
    HH, WW = w.shape[2:]
    Ho = (x.shape[2] - 1) * stride[0] - 2 * padding[0] + dilation[0] * (HH - 1) \
        + output_padding[0] + 1
    Wo = (x.shape[3] - 1) * stride[1] - 2 * padding[1] + dilation[1] * (WW - 1) \
        + output_padding[1] + 1
    if Ho < 1 or Wo < 1:
        raise ValueError(f"{fn}: padding {padding} leaves an empty output {(Ho, Wo)} for input "
                         f"shape {x.shape} and weight shape {w.shape}")
    params = dict(stride=stride, padding=padding, output_padding=output_padding,
                  dilation=dilation, groups=groups)
    if bias is None:
        return ConvTranspose2d.apply(input, weight, **params)
    return ConvTranspose2d.apply(input, weight, bias, **params)
