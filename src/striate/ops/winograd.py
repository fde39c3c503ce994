"""``conv2d_winograd``: a stride-1 3x3 convolution computed by Winograd's F(2x2, 3x3) or
F(4x4, 3x3).

The same function as ``conv2d`` (and the same gradients), computed another way: see
``kernels/winograd.py``. ``striate.compress.use_winograd`` selects it per layer.
"""

from __future__ import annotations

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ..kernels.winograd import TILES, winograd_backward, winograd_forward

__all__ = ["check_tile", "conv2d_winograd"]


def check_tile(fn: str, tile) -> None:
    """Raise ``ValueError`` naming ``fn`` unless tile is one of the output tile sizes
    (:data:`striate.kernels.winograd.TILES`)."""
    if isinstance(tile, bool) or not isinstance(tile, (int, np.integer)) or tile not in TILES:
        raise ValueError(f"{fn}: tile must be one of {TILES}, got {tile!r}")


class WinogradConv2d(Function):
    @staticmethod
    def forward(ctx, x, w, b, pad, tile):
        out, ctx.cache = winograd_forward(x, w, b, pad, tile)
        return out

    @staticmethod
    def backward(ctx, dout):
        # the adjoints of the Winograd transforms: the same gradients as the direct conv's
        need = ctx.needs_input_grad
        dx, dw, db = winograd_backward(dout, ctx.cache, need_dx=need[0], need_dw=need[1],
                                       need_db=need[2])
        return dx, dw, db, None, None


def conv2d_winograd(input: Tensor, weight: Tensor, bias: Tensor | None = None,
                    padding: int = 1, tile: int = 2) -> Tensor:
    """``conv2d(input, weight, bias, stride=1, padding=padding)`` for 3x3 weights, by
    Winograd's F(tile x tile, 3x3) (``tile`` 2 or 4; 4 does fewer multiplications and rounds a
    little more in float32).

    Raises:
        ValueError: a weight that is not (F, C, 3, 3), an input that is not (N, C, H, W) with
            the weight's C, a padding that is not an int >= 0, or a tile that is not 2 or 4.
    """
    if input.ndim != 4 or weight.ndim != 4 or tuple(weight.shape[2:]) != (3, 3):
        raise ValueError(f"conv2d_winograd: needs input (N, C, H, W) and weight (F, C, 3, 3), "
                         f"got input {tuple(input.shape)} and weight {tuple(weight.shape)}")
    if input.shape[1] != weight.shape[1]:
        raise ValueError(f"conv2d_winograd: input has {input.shape[1]} channels but weight "
                         f"expects {weight.shape[1]} (input shape {tuple(input.shape)}, weight "
                         f"shape {tuple(weight.shape)})")
    if isinstance(padding, bool) or not isinstance(padding, int) or padding < 0:
        raise ValueError(f"conv2d_winograd: padding must be an int >= 0, got {padding!r}")
    check_tile("conv2d_winograd", tile)
    return WinogradConv2d.apply(input, weight, bias, padding, tile)
