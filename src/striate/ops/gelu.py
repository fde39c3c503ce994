"""``gelu``: the Gaussian error linear unit (Hendrycks & Gimpel 2016), the Transformer's usual
activation: ``x * Phi(x)`` with Phi the standard normal CDF, or its tanh approximation."""

from __future__ import annotations

import math

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ._helpers import require_float
from .erf import scipy_special

__all__ = ["gelu"]

_C = math.sqrt(2.0 / math.pi)


def _erf(x: np.ndarray) -> np.ndarray:
    return scipy_special("erf", x)


class GELU(Function):
    @staticmethod
    def forward(ctx, x, approximate):
        ctx.save_for_backward(x)
        ctx.approximate = approximate
        if approximate == "tanh":
            return (0.5 * x * (1 + np.tanh(_C * (x + 0.044715 * x**3)))).astype(x.dtype)
        return (0.5 * x * (1 + _erf(x / math.sqrt(2.0)))).astype(x.dtype)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved
        if ctx.approximate == "tanh":
            # d/dx 0.5 x (1 + t), t = tanh(u): 0.5 (1 + t) + 0.5 x (1 - t^2) du/dx
            t = np.tanh(_C * (x + 0.044715 * x**3))
            d = 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * _C * (1 + 3 * 0.044715 * x * x)
        else:
            # d/dx x Phi(x) = Phi(x) + x phi(x)
            d = 0.5 * (1 + _erf(x / math.sqrt(2.0))) + x * np.exp(-0.5 * x * x) / math.sqrt(
                2 * math.pi)
        return (g * d).astype(x.dtype, copy=False)


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """``x * Phi(x)`` elementwise (``approximate="tanh"``: ``0.5 x (1 + tanh(sqrt(2/pi)
    (x + 0.044715 x^3)))``), as ``torch.nn.functional.gelu``."""
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    if not isinstance(input, Tensor):
        raise TypeError(f"gelu: input must be a Tensor, got {type(input).__name__}")
    require_float(input, "gelu")
    return GELU.apply(input, approximate=approximate)
