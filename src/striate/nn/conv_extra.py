"""More spatial layers: ``ConvTranspose2d``, ``AdaptiveAvgPool2d``, ``AdaptiveMaxPool2d``,
``FractionalMaxPool2d``, ``MaxUnpool2d``, ``Upsample`` / ``UpsamplingNearest2d`` and ``BedOfNails``
(striate's name for "bed of nails" upsampling), around the ops of the same names. All NCHW.
"""

from __future__ import annotations

import numbers

from .. import ops as F
from ..autograd.tensor import Tensor
from ..ops._helpers import pair_arg
from ._weighted import WeightedLayer
from .module import Module

__all__ = [
    "AdaptiveAvgPool2d",
    "AdaptiveMaxPool2d",
    "BedOfNails",
    "ConvTranspose2d",
    "FractionalMaxPool2d",
    "MaxUnpool2d",
    "Upsample",
    "UpsamplingNearest2d",
]


class ConvTranspose2d(WeightedLayer):
    """Transposed convolution ("deconvolution", fractionally strided convolution): the adjoint of
    a ``Conv2d`` with the same arguments, an upsampling layer with learned weights.
    (N, C_in, H, W) -> (N, C_out, Ho, Wo) with
    ``Ho = (H - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1``.

    Args:
        in_channels, out_channels, kernel_size, stride, padding: as ``Conv2d``.
        output_padding: extra rows/columns on the bottom/right, < stride or dilation (default 0).
        groups: C_in and C_out are split into this many independent groups (default 1).
        bias: learn one bias per output channel (default True).
        dilation: spacing of the kernel taps (default 1).

    Attributes:
        weight: Parameter (C_in, C_out / groups, KH, KW), PyTorch's kaiming_uniform(a=sqrt(5))
            with ``fan_in = C_out / groups * KH * KW`` (PyTorch's fan_in for this layout).
        bias: Parameter (C_out,), U(-1/sqrt(fan_in), ...); None when ``bias=False``.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 output_padding=0, groups: int = 1, bias: bool = True, dilation=1,
                 padding_mode: str = "zeros", device=None, dtype=None):
        super().__init__()
        for name, v in (("in_channels", in_channels), ("out_channels", out_channels),
                        ("groups", groups)):
            if not isinstance(v, numbers.Integral) or isinstance(v, bool) or v <= 0:
                raise ValueError(f"ConvTranspose2d: {name} must be a positive int, got {v!r}")
        if in_channels % groups or out_channels % groups:
            raise ValueError(
                f"ConvTranspose2d: in_channels {in_channels} and out_channels {out_channels} "
                f"must both be divisible by groups {groups}"
            )
        if padding_mode != "zeros":
            raise ValueError(
                f"ConvTranspose2d: only padding_mode='zeros' is supported, got {padding_mode!r}"
            )
        self.in_channels, self.out_channels, self.groups = (
            int(in_channels), int(out_channels), int(groups))
        self.kernel_size = pair_arg(kernel_size, "kernel_size", "ConvTranspose2d", 1)
        self.stride = pair_arg(stride, "stride", "ConvTranspose2d", 1)
        self.padding = pair_arg(padding, "padding", "ConvTranspose2d", 0)
        self.output_padding = pair_arg(output_padding, "output_padding", "ConvTranspose2d", 0)
        self.dilation = pair_arg(dilation, "dilation", "ConvTranspose2d", 1)
        self.padding_mode = padding_mode
        shape = (self.in_channels, self.out_channels // self.groups) + self.kernel_size
        self._make_weight_and_bias(shape, self.out_channels, bias, dtype, device)


    def forward(self, input: Tensor, output_size=None) -> Tensor:
        output_padding = self.output_padding
        if output_size is not None:
            output_padding = self._output_padding_for(input, output_size)
        return F.conv_transpose2d(input, self.weight, self.bias, self.stride, self.padding,
                                  output_padding, self.groups, self.dilation)

    def _output_padding_for(self, input, output_size):
        """The output_padding that makes the output (Ho, Wo) = output_size[-2:]."""
        want = tuple(output_size)[-2:]
        pads = []
        for d in range(2):
            base = ((input.shape[2 + d] - 1) * self.stride[d] - 2 * self.padding[d]
                    + self.dilation[d] * (self.kernel_size[d] - 1) + 1)
            extra = want[d] - base
            if not 0 <= extra < max(self.stride[d], self.dilation[d]):
                raise ValueError(
                    f"ConvTranspose2d: output_size {tuple(output_size)} is not reachable from "
                    f"input shape {tuple(input.shape)}; dim {d} can be {base} to "
                    f"{base + max(self.stride[d], self.dilation[d]) - 1}"
                )
            pads.append(extra)
        return tuple(pads)

    def extra_repr(self) -> str:
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={self.stride}")
        for name, default in (("padding", (0, 0)), ("output_padding", (0, 0)),
                              ("dilation", (1, 1))):
            if getattr(self, name) != default:
                s += f", {name}={getattr(self, name)}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        return s


class AdaptiveAvgPool2d(Module):
    """Average over a grid of windows that gives the output size ``output_size`` whatever the
    input size (PyTorch's windows). ``AdaptiveAvgPool2d(1)`` is global average pooling:
    (N, C, H, W) -> (N, C, 1, 1).
    """

    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def forward(self, input: Tensor) -> Tensor:
        return F.adaptive_avg_pool2d(input, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveMaxPool2d(Module):
    """Max over PyTorch's adaptive windows: (N, C, H, W) -> (N, C, *output_size); with
    ``return_indices`` the forward also returns the maxima's flat positions."""

    def __init__(self, output_size, return_indices: bool = False):
        super().__init__()
        self.output_size, self.return_indices = output_size, return_indices

    def forward(self, input: Tensor):
        return F.adaptive_max_pool2d(input, self.output_size, self.return_indices)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class FractionalMaxPool2d(Module):
    """Fractional max pooling (Graham 2014): windows of ``kernel_size`` at pseudo-random starts,
    drawn anew each forward from striate's generator, giving ``output_size`` or
    ``output_ratio`` times the input size (e.g. 1/sqrt(2))."""

    def __init__(self, kernel_size, output_size=None, output_ratio=None,
                 return_indices: bool = False, _random_samples=None):
        super().__init__()
        if (output_size is None) == (output_ratio is None):
            raise ValueError("FractionalMaxPool2d: give exactly one of output_size and "
                             "output_ratio")
        self.kernel_size, self.output_size, self.output_ratio = (
            kernel_size, output_size, output_ratio)
        self.return_indices = return_indices
        self._random_samples = _random_samples

    def forward(self, input: Tensor):
        return F.fractional_max_pool2d(input, self.kernel_size, self.output_size,
                                       self.output_ratio, self.return_indices,
                                       self._random_samples)

    def extra_repr(self) -> str:
        size = (f"output_size={self.output_size}" if self.output_size is not None
                else f"output_ratio={self.output_ratio}")
        return f"kernel_size={self.kernel_size}, {size}"


class MaxUnpool2d(Module):
    """Partial inverse of ``MaxPool2d(..., return_indices=True)``: ``forward(input, indices,
    output_size=None)`` puts each value back where its maximum came from, zeros elsewhere."""

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding = padding

    def forward(self, input: Tensor, indices: Tensor, output_size=None) -> Tensor:
        return F.max_unpool2d(input, indices, self.kernel_size, self.stride, self.padding,
                              output_size)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class Upsample(Module):
    """Upsampling to ``size`` or by ``scale_factor``, ``mode`` "nearest", "bilinear" or "bicubic"
    (:func:`striate.functional.interpolate`): (N, C, H, W) -> (N, C, Ho, Wo)."""

    def __init__(self, size=None, scale_factor=None, mode: str = "nearest", align_corners=None,
                 recompute_scale_factor=None):
        super().__init__()
        if mode not in ("nearest", "bilinear", "bicubic"):
            raise ValueError(f"Upsample: mode must be 'nearest', 'bilinear' or 'bicubic', got "
                             f"{mode!r}")
        if (size is None) == (scale_factor is None):
            raise ValueError("Upsample: give exactly one of size and scale_factor")
        self.size, self.scale_factor, self.mode = size, scale_factor, mode
        self.align_corners, self.recompute_scale_factor = align_corners, recompute_scale_factor

    def forward(self, input: Tensor) -> Tensor:
        return F.interpolate(input, self.size, self.scale_factor, self.mode, self.align_corners,
                             self.recompute_scale_factor)

    def extra_repr(self) -> str:
        what = f"size={self.size}" if self.size is not None else \
            f"scale_factor={self.scale_factor}"
        corners = f", align_corners={self.align_corners}" if self.align_corners is not None \
            else ""
        return f"{what}, mode={self.mode!r}{corners}"


class UpsamplingNearest2d(Upsample):
    """``Upsample(size, scale_factor, mode="nearest")``, PyTorch's older name."""

    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, "nearest")


class UpsamplingBilinear2d(Upsample):
    """``Upsample(size, scale_factor, mode="bilinear", align_corners=True)``, PyTorch's older
    name (which aligns the corners)."""

    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, "bilinear", align_corners=True)


class BedOfNails(Module):
    """"Bed of nails" upsampling by ``scale``: each value in the top-left corner of a block of
    zeros, (N, C, H, W) -> (N, C, H * sh, W * sw)."""

    def __init__(self, scale):
        super().__init__()
        self.scale = pair_arg(scale, "scale", "BedOfNails", 1)

    def forward(self, input: Tensor) -> Tensor:
        return F.bed_of_nails(input, self.scale)

    def extra_repr(self) -> str:
        return f"scale={self.scale}"
