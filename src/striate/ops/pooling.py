"""2-D pooling: ``max_pool2d`` and ``avg_pool2d`` with ``torch.nn.functional``'s signatures.

The gradients, in words: max pooling passes each upstream gradient to the element that won its
window (the first one on ties, as PyTorch does) and zero to the rest; average pooling shares it
equally over the window. The fast kernels are in :mod:`striate.kernels.pool`.
"""

from __future__ import annotations

from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ..kernels.pool import (
    avg_pool_backward,
    avg_pool_forward,
    max_pool_backward,
    max_pool_forward,
    pool_output_size,
)
from ..kernels.pool_extra import max_pool_indices
from ._helpers import array_of as _array  # the shared checks
from ._helpers import pair_arg as _check_pair

__all__ = ["avg_pool2d", "max_pool2d"]


class MaxPool2d(Function):
    @staticmethod
    def forward(ctx, x, kernel, stride, padding, return_indices=False, ceil_mode=False,
                dilation=(1, 1)):
        # the winners are only recorded when a backward or return_indices will ask for them
        out, ctx.cache = max_pool_forward(
            x, kernel, stride, padding,
            need_grad=ctx.needs_input_grad[0] or return_indices, ceil_mode=ceil_mode,
            dilation=dilation,
        )
        if return_indices:  # a second output: the flat index of each winner in its plane
            return out, max_pool_indices(ctx.cache)
        return out

    @staticmethod
    def backward(ctx, g, g_indices=None):
        # d max(window)/d x = 1 for the (first) maximum, 0 for the others; the indices have none
        return max_pool_backward(g, ctx.cache)


class AvgPool2d(Function):
    @staticmethod
    def forward(ctx, x, kernel, stride, padding, count_include_pad, divisor, ceil_mode=False):
        out, ctx.cache = avg_pool_forward(x, kernel, stride, padding, count_include_pad, divisor,
                                          ceil_mode)
        return out

    @staticmethod
    def backward(ctx, g):
        # d mean(window)/d x = 1 / divisor for every element of the window
        return avg_pool_backward(g, ctx.cache)


def _pool_args(fn, input, kernel_size, stride, padding, ceil_mode, dilation=(1, 1)):
    """Validate a pooling call; return (kernel, stride, padding) as pairs. A window dilated by
    (dh, dw) spans ``d (k - 1) + 1`` pixels."""
    x = _array(input)
    if x.ndim != 4:
        raise ValueError(
            f"{fn}: input must be 4-D (N, C, H, W), got shape {x.shape}"
            + (" (add a batch dimension with unsqueeze(0))" if x.ndim == 3 else "")
        )
    if x.dtype.kind != "f":
        raise TypeError(f"{fn}: input must be a floating tensor, got dtype {x.dtype}")
    kernel = _check_pair(kernel_size, "kernel_size", fn, 1)
    # stride=None (or [] as torch's modules pass it) means non-overlapping windows
    stride = kernel if stride is None or stride == [] else _check_pair(stride, "stride", fn, 1)
    padding = _check_pair(padding, "padding", fn, 0)
    if padding[0] > kernel[0] // 2 or padding[1] > kernel[1] // 2:
        raise ValueError(f"{fn}: padding {padding} must be at most half the kernel size {kernel}")
    H, W = x.shape[2:]
    span = (dilation[0] * (kernel[0] - 1) + 1, dilation[1] * (kernel[1] - 1) + 1)
    Ho = pool_output_size(H, span[0], stride[0], padding[0], ceil_mode)
    Wo = pool_output_size(W, span[1], stride[1], padding[1], ceil_mode)
    if Ho < 1 or Wo < 1:
        raise ValueError(
            f"{fn}: kernel size {kernel}"
            + (f" (spanning {span} with dilation {dilation})" if span != kernel else "")
            + " is larger than the padded input "
            f"({H + 2 * padding[0]}, {W + 2 * padding[1]}) (input shape {x.shape}, "
            f"padding {padding})"
        )
    return kernel, stride, padding


def max_pool2d(
    input: Tensor,
    kernel_size,
    stride=None,
    padding=0,
    dilation=1,
    ceil_mode: bool = False,
    return_indices: bool = False,
):
    """Maximum over each kernel_size window: (N, C, H, W) -> (N, C, Ho, Wo).

    Args:
        input: (N, C, H, W), floating.
        kernel_size: int or (kh, kw).
        stride: int or (sh, sw); None (the default) means kernel_size.
        padding: implicit -inf padding on each side, at most half the kernel.
        dilation: int or (dh, dw): the window's taps lie dh rows and dw columns apart.
        ceil_mode: round the output size up (the last window may hang over the edge).
        return_indices: also return the int64 flat positions ``h * W + w`` of each window's
            (first) maximum in the unpadded input, for :func:`max_unpool2d`.
    Returns:
        ``Ho = (H + 2 ph - kh) // sh + 1`` (ceil instead of floor with ceil_mode), likewise Wo;
        with return_indices an (output, indices) pair.

    Example:
        >>> import striate, striate.functional as F
        >>> F.max_pool2d(striate.arange(16.0).reshape(1, 1, 4, 4), 2).tolist()
        [[[[5.0, 7.0], [13.0, 15.0]]]]
    """
    d = _check_pair(dilation, "dilation", "max_pool2d", 1)
    k, s, p = _pool_args("max_pool2d", input, kernel_size, stride, padding, ceil_mode, d)
    extra = {"ceil_mode": True} if ceil_mode else {}
    if d != (1, 1):
        extra["dilation"] = d
    if not return_indices:
        return MaxPool2d.apply(input, kernel=k, stride=s, padding=p, **extra)
    return MaxPool2d.apply(input, kernel=k, stride=s, padding=p, return_indices=True, **extra)


def avg_pool2d(
    input: Tensor,
    kernel_size,
    stride=None,
    padding=0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> Tensor:
    """Mean over each kernel_size window: (N, C, H, W) -> (N, C, Ho, Wo).

    Args:
        input: (N, C, H, W), floating.
        kernel_size: int or (kh, kw).
        stride: int or (sh, sw); None (the default) means kernel_size.
        padding: implicit zero padding on each side, at most half the kernel.
        ceil_mode: round the output size up; a window hanging over the edge is divided by its
            part inside the padded input (as PyTorch).
        count_include_pad: divide by kh*kw (True) or by the number of non-padding elements.
        divisor_override: divide every window's sum by this instead.
    Returns:
        ``Ho = (H + 2 ph - kh) // sh + 1``, likewise Wo.

    Example:
        >>> import striate, striate.functional as F
        >>> F.avg_pool2d(striate.arange(16.0).reshape(1, 1, 4, 4), 2).tolist()
        [[[[2.5, 4.5], [10.5, 12.5]]]]
    """
    k, s, p = _pool_args("avg_pool2d", input, kernel_size, stride, padding, ceil_mode)
    if divisor_override is not None and (
        not isinstance(divisor_override, int) or divisor_override < 1
    ):
        raise ValueError(
            f"avg_pool2d: divisor_override must be a positive int, got {divisor_override!r}"
        )
    return AvgPool2d.apply(
        input,
        kernel=k,
        stride=s,
        padding=p,
        count_include_pad=bool(count_include_pad),
        divisor=divisor_override,
        ceil_mode=bool(ceil_mode),
    )
