"""1-D layers over (N, C, L) signals (or unbatched (C, L)): ``Conv1d``, ``ConvTranspose1d``,
``MaxPool1d``, ``AvgPool1d``, around the 1-D ops (which run the 2-D kernels on H = 1 images)."""

from __future__ import annotations

import numbers

from .. import ops as F
from ..autograd.tensor import Tensor
from ._padding_mode import check_padding_mode, reversed_padding
from ._weighted import WeightedLayer
from .module import Module

__all__ = ["AvgPool1d", "Conv1d", "ConvTranspose1d", "MaxPool1d"]


def _single(value, name: str, owner: str, minimum: int) -> tuple[int]:
    """``(v,)`` from an int or a 1-tuple, ``>= minimum`` (PyTorch keeps 1-tuples)."""
    v = value[0] if isinstance(value, (tuple, list)) and len(value) == 1 else value
    if not isinstance(v, numbers.Integral) or isinstance(v, bool) or v < minimum:
        raise ValueError(f"{owner}: {name} must be an int >= {minimum} or a 1-tuple of one, "
                         f"got {value!r}")
    return (int(v),)


def _channels(owner: str, in_channels, out_channels, groups) -> None:
    for name, v in (("in_channels", in_channels), ("out_channels", out_channels),
                    ("groups", groups)):
        if not isinstance(v, numbers.Integral) or isinstance(v, bool) or v <= 0:
            raise ValueError(f"{owner}: {name} must be a positive int, got {v!r}")
    if in_channels % groups or out_channels % groups:
        raise ValueError(f"{owner}: in_channels {in_channels} and out_channels {out_channels} "
                         f"must both be divisible by groups {groups}")


class Conv1d(WeightedLayer):
    """1-D convolution: (N, C_in, L) -> (N, C_out, L_out). Arguments as PyTorch's (``padding``
    an int or "same" / "valid"; ``padding_mode`` "zeros", "reflect", "replicate" or "circular").

    Attributes:
        weight: Parameter (C_out, C_in / groups, K), PyTorch's default init (as ``Conv2d``).
        bias: Parameter (C_out,) or None.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 dilation=1, groups: int = 1, bias: bool = True, padding_mode: str = "zeros",
                 device=None, dtype=None):
        super().__init__()
        _channels("Conv1d", in_channels, out_channels, groups)
        check_padding_mode(padding_mode, "Conv1d")
        self.in_channels, self.out_channels, self.groups = (
            int(in_channels), int(out_channels), int(groups))
        self.kernel_size = _single(kernel_size, "kernel_size", "Conv1d", 1)
        self.stride = _single(stride, "stride", "Conv1d", 1)
        if padding in ("same", "valid"):
            if padding == "same" and self.stride != (1,):
                raise ValueError(f"Conv1d: padding='same' needs stride 1, got {self.stride}")
            self.padding = padding
        else:
            self.padding = _single(padding, "padding", "Conv1d", 0)
        self.dilation = _single(dilation, "dilation", "Conv1d", 1)
        self.padding_mode = padding_mode
        shape = (self.out_channels, self.in_channels // self.groups) + self.kernel_size
        self._make_weight_and_bias(shape, self.out_channels, bias, dtype, device)

    def forward(self, input: Tensor) -> Tensor:
        if self.padding_mode != "zeros":
            pad = reversed_padding(self.padding, self.kernel_size, self.dilation)
            return F.conv1d(F.pad(input, pad, mode=self.padding_mode), self.weight, self.bias,
                            self.stride, 0, self.dilation, self.groups)
        return F.conv1d(input, self.weight, self.bias, self.stride, self.padding, self.dilation,
                        self.groups)

    def extra_repr(self) -> str:
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={self.stride}")
        if self.padding != (0,):
            s += f", padding={self.padding}"
        if self.dilation != (1,):
            s += f", dilation={self.dilation}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        s += ", bias=False" if self.bias is None else ""
        return s + (f", padding_mode={self.padding_mode}" if self.padding_mode != "zeros" else "")


class ConvTranspose1d(WeightedLayer):
    """1-D transposed convolution: (N, C_in, L) -> (N, C_out, L_out); weight
    (C_in, C_out / groups, K). Arguments as PyTorch's."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 output_padding=0, groups: int = 1, bias: bool = True, dilation=1,
                 padding_mode: str = "zeros", device=None, dtype=None):
        super().__init__()
        _channels("ConvTranspose1d", in_channels, out_channels, groups)
        if padding_mode != "zeros":
            raise ValueError(f"ConvTranspose1d: only padding_mode='zeros' is supported, got "
                             f"{padding_mode!r}")
        self.in_channels, self.out_channels, self.groups = (
            int(in_channels), int(out_channels), int(groups))
        o = "ConvTranspose1d"
        self.kernel_size = _single(kernel_size, "kernel_size", o, 1)
        self.stride = _single(stride, "stride", o, 1)
        self.padding = _single(padding, "padding", o, 0)
        self.output_padding = _single(output_padding, "output_padding", o, 0)
        self.dilation = _single(dilation, "dilation", o, 1)
        self.padding_mode = padding_mode
        shape = (self.in_channels, self.out_channels // self.groups) + self.kernel_size
        self._make_weight_and_bias(shape, self.out_channels, bias, dtype, device)

    def forward(self, input: Tensor) -> Tensor:
        return F.conv_transpose1d(input, self.weight, self.bias, self.stride, self.padding,
                                  self.output_padding, self.groups, self.dilation)

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}")


class MaxPool1d(Module):
    """Max over windows of ``kernel_size``: (N, C, L) -> (N, C, L_out); ``stride`` defaults to
    ``kernel_size``; ``return_indices`` also returns the maxima's positions."""

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1,
                 return_indices: bool = False, ceil_mode: bool = False):
        super().__init__()
        self.kernel_size = _single(kernel_size, "kernel_size", "MaxPool1d", 1)[0]
        self.stride = self.kernel_size if stride is None else _single(
            stride, "stride", "MaxPool1d", 1)[0]
        self.padding = _single(padding, "padding", "MaxPool1d", 0)[0]
        self.dilation = _single(dilation, "dilation", "MaxPool1d", 1)[0]
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def forward(self, input: Tensor):
        return F.max_pool1d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                            self.ceil_mode, self.return_indices)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class AvgPool1d(Module):
    """Mean over windows of ``kernel_size``: (N, C, L) -> (N, C, L_out); ``stride`` defaults to
    ``kernel_size``; zero padding counts in the mean unless ``count_include_pad=False``."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
                 count_include_pad: bool = True):
        super().__init__()
        self.kernel_size = _single(kernel_size, "kernel_size", "AvgPool1d", 1)
        self.stride = self.kernel_size if stride is None else _single(
            stride, "stride", "AvgPool1d", 1)
        self.padding = _single(padding, "padding", "AvgPool1d", 0)
        self.ceil_mode, self.count_include_pad = ceil_mode, count_include_pad

    def forward(self, input: Tensor) -> Tensor:
        return F.avg_pool1d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"
