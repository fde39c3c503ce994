"""Dropout layers: ``Dropout`` (inverted dropout, Srivastava et al. 2014), ``Dropout2d`` (whole
feature maps), ``StochasticDepth`` (whole residual branches, as torchvision's) and
``DropConnectLinear`` (a linear layer whose weights are dropped, Wan et al. 2013)."""

from __future__ import annotations

from .. import ops as F
from ..autograd.tensor import Tensor
from .linear import Linear
from .module import Module

__all__ = ["DropConnectLinear", "Dropout", "Dropout2d", "StochasticDepth"]


def _check_p(owner, p):
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0.0 <= p <= 1.0:
        raise ValueError(f"{owner}: probability p has to be between 0 and 1, but got {p!r}")
    return float(p)


class Dropout(Module):
    """In training, zero each element with probability ``p`` and scale the rest by
    ``1 / (1 - p)`` (so eval needs no rescaling); in eval mode, the identity.

    The mask is drawn from striate's seeded generator. ``inplace`` is accepted for PyTorch
    compatibility; the result is always a new tensor.
    """

    def __init__(self, p: float = 0.5, inplace: bool = False):
        super().__init__()
        if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout: probability p has to be between 0 and 1, but got {p!r}")
        self.p = float(p)
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.dropout(input, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Dropout2d(Module):
    """In training, zero each whole channel (an (H, W) map of one sample) with probability ``p``
    and scale the rest by ``1 / (1 - p)``; in eval mode, the identity.

    Input (N, C, H, W) (or (N, C, L)); output of the same shape. The mask has shape (N, C, 1, 1).
    A 2-D input warns and is dropped elementwise, as PyTorch 2.13 does.
    """

    def __init__(self, p: float = 0.5, inplace: bool = False):
        super().__init__()
        self.p = _check_p("Dropout2d", p)
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.dropout2d(input, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class StochasticDepth(Module):
    """Drop a residual branch in training (Huang et al. 2016), as ``torchvision.ops``'s module:
    ``mode="row"`` per sample, ``"batch"`` for the whole batch; survivors scaled by
    ``1 / (1 - p)``. Apply it to the branch: ``x + sd(f(x))``. Identity in eval mode.
    """

    def __init__(self, p: float, mode: str):
        super().__init__()
        self.p = _check_p("StochasticDepth", p)
        if mode not in ("row", "batch"):
            raise ValueError(f"StochasticDepth: mode must be 'row' or 'batch', got {mode!r}")
        self.mode = mode

    def forward(self, input: Tensor) -> Tensor:
        return F.stochastic_depth(input, self.p, self.mode, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}, mode={self.mode}"


class DropConnectLinear(Linear):
    """``Linear`` with DropConnect: in training each weight is zeroed with probability ``p`` (one
    mask per forward call) and the kept ones scaled by ``1 / (1 - p)``; in eval mode the plain
    ``y = x W^T + b``. The bias is never dropped.

    Args: those of :class:`~striate.nn.Linear`, and ``p`` (default 0.5).
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, p: float = 0.5,
                 device=None, dtype=None):
        super().__init__(in_features, out_features, bias=bias, device=device, dtype=dtype)
        self.p = _check_p("DropConnectLinear", p)

    def forward(self, input: Tensor) -> Tensor:
        return F.dropconnect(input, self.weight, self.bias, self.p, self.training)

    def extra_repr(self) -> str:
        return super().extra_repr() + f", p={self.p}"
