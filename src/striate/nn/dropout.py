"""``Dropout``: inverted dropout (Srivastava et al. 2014) around ``F.dropout``."""

from __future__ import annotations

from .. import ops as F
from ..autograd.tensor import Tensor
from .module import Module

__all__ = ["Dropout"]


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
