"""``Conv2d``, ``MaxPool2d`` and ``AvgPool2d``: modules around ``F.conv2d`` and the pools.

All work on NCHW tensors. Output size per spatial dim: ``(H + 2 P - K) // S + 1``.
"""

from __future__ import annotations

import numbers

from .. import ops as F
from ..autograd.tensor import Tensor
from ..ops._helpers import pair_arg
from ._padding_mode import check_padding_mode, reversed_padding
from ._weighted import WeightedLayer
from .module import Module

__all__ = ["AvgPool2d", "Conv2d", "MaxPool2d"]


class Conv2d(WeightedLayer):
    """2-D convolution (cross-correlation, as every framework): (N, C_in, H, W) ->
    (N, C_out, H_out, W_out).

    Args:
        in_channels: channels of the input, C_in.
        out_channels: number of filters, C_out.
        kernel_size: filter height and width (an int for a square filter, or a pair).
        stride: step of the filter (int or pair, default 1).
        padding: zeros added on each side (int or pair, default 0), or ``"same"`` / ``"valid"``.
        dilation: spacing between kernel taps (int or pair, default 1).
        groups: split the channels into this many independent convolutions (default 1; groups =
            in_channels is the depthwise convolution).
        bias: whether to learn one bias per filter (default True).
        padding_mode: ``"zeros"``, or ``"reflect"``, ``"replicate"``, ``"circular"`` (the input
            is padded that way first, as PyTorch).
        dtype: dtype of the parameters (default: striate's default dtype).

    Attributes:
        weight: Parameter (C_out, C_in / groups, KH, KW), PyTorch's kaiming_uniform(a=sqrt(5))
            with ``fan_in = C_in / groups * KH * KW`` (see ``striate.nn.linear``).
        bias: Parameter (C_out,), U(-1/sqrt(fan_in), ...); None when ``bias=False``.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 dilation=1, groups: int = 1, bias: bool = True, padding_mode: str = "zeros",
                 device=None, dtype=None):
        super().__init__()
        for name, v in (("in_channels", in_channels), ("out_channels", out_channels),
                        ("groups", groups)):
            if not isinstance(v, numbers.Integral) or isinstance(v, bool) or v <= 0:
                raise ValueError(f"Conv2d: {name} must be a positive int, got {v!r}")
        if in_channels % groups or out_channels % groups:
            raise ValueError(
                f"Conv2d: in_channels {in_channels} and out_channels {out_channels} must both "
                f"be divisible by groups {groups}"
            )
        check_padding_mode(padding_mode, "Conv2d")
        self.in_channels = int(in_channels)
        self.out_channels = int(out_channels)
        self.kernel_size = pair_arg(kernel_size, "kernel_size", "Conv2d", 1)
        self.stride = pair_arg(stride, "stride", "Conv2d", 1)
        if padding in ("same", "valid"):
            if padding == "same" and self.stride != (1, 1):
                raise ValueError(f"Conv2d: padding='same' needs stride 1, got {self.stride}")
            self.padding = padding
        else:
            self.padding = pair_arg(padding, "padding", "Conv2d", 0)
        self.dilation = pair_arg(dilation, "dilation", "Conv2d", 1)
        self.groups = int(groups)
        self.padding_mode = padding_mode
        shape = (self.out_channels, self.in_channels // self.groups) + self.kernel_size
        self._make_weight_and_bias(shape, self.out_channels, bias, dtype, device)


    def forward(self, input: Tensor) -> Tensor:
        if self.padding_mode != "zeros":
            pad = reversed_padding(self.padding, self.kernel_size, self.dilation)
            return F.conv2d(F.pad(input, pad, mode=self.padding_mode), self.weight, self.bias,
                            self.stride, 0, self.dilation, self.groups)
        if self.dilation == (1, 1) and self.groups == 1:
            return F.conv2d(input, self.weight, self.bias, self.stride, self.padding)
        return F.conv2d(input, self.weight, self.bias, self.stride, self.padding, self.dilation,
                        self.groups)

    def extra_repr(self) -> str:
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={self.stride}")
        if self.padding != (0, 0):
            s += f", padding={self.padding}"
        if self.dilation != (1, 1):
            s += f", dilation={self.dilation}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class _Pool2d(Module):
    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        owner = type(self).__name__
        pair_arg(kernel_size, "kernel_size", owner, 1)
        if stride is not None:
            pair_arg(stride, "stride", owner, 1)
        pair_arg(padding, "padding", owner, 0)
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride  # PyTorch's default
        self.padding = padding

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxPool2d(_Pool2d):
    """Max over ``kernel_size`` windows: (N, C, H, W) -> (N, C, H_out, W_out).

    ``stride`` defaults to ``kernel_size`` (non-overlapping windows). With ``return_indices``
    the forward returns (output, indices) for ``MaxUnpool2d``.
    """

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1,
                 return_indices: bool = False, ceil_mode: bool = False):
        super().__init__(kernel_size, stride, padding)
        self.dilation, self.return_indices, self.ceil_mode = dilation, return_indices, ceil_mode

    def forward(self, input: Tensor):
        if self.return_indices or self.dilation != 1 or self.ceil_mode:
            return F.max_pool2d(input, self.kernel_size, self.stride, self.padding,
                                self.dilation, self.ceil_mode, self.return_indices)
        return F.max_pool2d(input, self.kernel_size, self.stride, self.padding)


class AvgPool2d(_Pool2d):
    """Mean over ``kernel_size`` windows: (N, C, H, W) -> (N, C, H_out, W_out).

    ``stride`` defaults to ``kernel_size``; zero padding counts in the mean, as PyTorch's default
    (``count_include_pad``); ``ceil_mode`` and ``divisor_override`` as ``F.avg_pool2d``.
    """

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
                 count_include_pad: bool = True, divisor_override: int | None = None):
        super().__init__(kernel_size, stride, padding)
        self.ceil_mode, self.count_include_pad = ceil_mode, count_include_pad
        self.divisor_override = divisor_override

    def forward(self, input: Tensor) -> Tensor:
        if self.ceil_mode or not self.count_include_pad or self.divisor_override is not None:
            return F.avg_pool2d(input, self.kernel_size, self.stride, self.padding,
                                self.ceil_mode, self.count_include_pad, self.divisor_override)
        return F.avg_pool2d(input, self.kernel_size, self.stride, self.padding)
