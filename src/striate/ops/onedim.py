"""1-D convolution and pooling over (N, C, L) signals, on top of the 2-D kernels: a signal is an
image of height 1, so ``conv1d(x, w) = conv2d(x[:, :, None], w[:, :, None])[:, :, 0]`` and the
gradient comes from the 2-D op through two reshapes. Unbatched (C, L) input is accepted too."""

from __future__ import annotations

import numbers

from ..autograd.tensor import Tensor
from .conv import conv2d, conv_transpose2d
from .pooling import avg_pool2d, max_pool2d

__all__ = ["avg_pool1d", "conv1d", "conv_transpose1d", "max_pool1d"]


def _single(value, name: str, fn: str) -> int:
    """An int from an int or a 1-tuple (PyTorch accepts both)."""
    if isinstance(value, (tuple, list)) and len(value) == 1:
        value = value[0]
    if not isinstance(value, numbers.Integral) or isinstance(value, bool):
        raise ValueError(f"{fn}: {name} must be an int or a 1-tuple, got {value!r}")
    return int(value)


def _as_image(input: Tensor, fn: str, what: str = "input") -> tuple[Tensor, bool]:
    """(N, C, L) -> (N, C, 1, L); (C, L) -> (1, C, 1, L); says whether it was batched."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{fn}: {what} must be a Tensor, got {type(input).__name__}")
    if input.ndim == 3:
        return input.unsqueeze(2), True
    if input.ndim == 2:
        return input.unsqueeze(0).unsqueeze(2), False
    raise ValueError(f"{fn}: {what} must be (N, C, L) or unbatched (C, L), got shape "
                     f"{tuple(input.shape)}")


def _as_signal(out: Tensor, batched: bool) -> Tensor:
    out = out.squeeze(2)
    return out if batched else out.squeeze(0)


def conv1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0,
           dilation=1, groups: int = 1) -> Tensor:
    """1-D convolution (cross-correlation): (N, C_in, L) -> (N, C_out, L_out),
    ``L_out = (L + 2 padding - dilation (K - 1) - 1) // stride + 1``.

    Args: weight (C_out, C_in / groups, K); bias (C_out,) or None; stride, padding (an int, or
    "same" / "valid"), dilation: ints or 1-tuples; groups as ``conv2d``.
    """
    x, batched = _as_image(input, "conv1d")
    if not isinstance(weight, Tensor) or weight.ndim != 3:
        raise ValueError(f"conv1d: weight must be a 3-D Tensor (C_out, C_in / groups, K), got "
                         f"{getattr(weight, 'shape', type(weight).__name__)}")
    pad = padding if isinstance(padding, str) else (0, _single(padding, "padding", "conv1d"))
    out = conv2d(x, weight.unsqueeze(2), bias, (1, _single(stride, "stride", "conv1d")), pad,
                 (1, _single(dilation, "dilation", "conv1d")), groups)
    return _as_signal(out, batched)


def conv_transpose1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1,
                     padding=0, output_padding=0, groups: int = 1, dilation=1) -> Tensor:
    """1-D transposed convolution: (N, C_in, L) -> (N, C_out, L_out), weight
    (C_in, C_out / groups, K), ``L_out = (L - 1) stride - 2 padding + dilation (K - 1) +
    output_padding + 1``."""
    x, batched = _as_image(input, "conv_transpose1d")
    f = "conv_transpose1d"
    out = conv_transpose2d(x, weight.unsqueeze(2), bias, (1, _single(stride, "stride", f)),
                           (0, _single(padding, "padding", f)),
                           (0, _single(output_padding, "output_padding", f)), groups,
                           (1, _single(dilation, "dilation", f)))
    return _as_signal(out, batched)


def max_pool1d(input: Tensor, kernel_size, stride=None, padding=0, dilation=1,
               ceil_mode: bool = False, return_indices: bool = False):
    """Maximum over each window of ``kernel_size``: (N, C, L) -> (N, C, L_out); with
    ``return_indices`` also the positions (in L) of the maxima."""
    x, batched = _as_image(input, "max_pool1d")
    f = "max_pool1d"
    k = _single(kernel_size, "kernel_size", f)
    s = k if stride is None else _single(stride, "stride", f)
    res = max_pool2d(x, (1, k), (1, s), (0, _single(padding, "padding", f)),
                     (1, _single(dilation, "dilation", f)), ceil_mode, return_indices)
    if return_indices:
        return _as_signal(res[0], batched), _as_signal(res[1], batched)
    return _as_signal(res, batched)


def avg_pool1d(input: Tensor, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
               count_include_pad: bool = True) -> Tensor:
    """Mean over each window of ``kernel_size``: (N, C, L) -> (N, C, L_out)."""
    x, batched = _as_image(input, "avg_pool1d")
    f = "avg_pool1d"
    k = _single(kernel_size, "kernel_size", f)
    s = k if stride is None else _single(stride, "stride", f)
    out = avg_pool2d(x, (1, k), (1, s), (0, _single(padding, "padding", f)), ceil_mode,
                     count_include_pad)
    return _as_signal(out, batched)
