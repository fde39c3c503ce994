"""The error function and its relatives: ``erf``, ``erfc`` and ``erfinv`` (``torch.erf``, ...).

``erf(x) = 2/sqrt(pi) * integral_0^x exp(-t^2) dt``; the standard normal CDF is
``(1 + erf(x / sqrt(2))) / 2``, so ``erfinv`` turns uniform numbers into normal ones. The values
come from ``scipy.special`` (a core dependency), imported on first use; integers and bools give
the default float dtype, as in PyTorch.
"""

from __future__ import annotations

import math

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ._helpers import float_result
from .elementwise import cast

__all__ = ["erf", "erfc", "erfinv"]

_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_SQRT_PI_OVER_TWO = math.sqrt(math.pi) / 2.0


def scipy_special(name: str, x: np.ndarray) -> np.ndarray:
    """``scipy.special.<name>(x)`` in x's dtype (GELU shares it)."""
    import scipy.special  # a core dependency; imported here so `import striate` stays light

    # SciPy computes float16 in float32: hand back the input's dtype
    return np.asarray(getattr(scipy.special, name)(x)).astype(x.dtype, copy=False)


class Erf(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return scipy_special("erf", x)

    # d erf(x)/dx = 2/sqrt(pi) exp(-x^2)
    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved
        return g * (_TWO_OVER_SQRT_PI * np.exp(-x * x))


class Erfc(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return scipy_special("erfc", x)

    # erfc = 1 - erf: d erfc(x)/dx = -2/sqrt(pi) exp(-x^2)
    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved
        return g * (-_TWO_OVER_SQRT_PI * np.exp(-x * x))


class Erfinv(Function):
    @staticmethod
    def forward(ctx, x):
        y = scipy_special("erfinv", x)
        ctx.save_for_backward(y)
        return y

    # the inverse's slope is 1 / erf'(y) at y = erfinv(x): sqrt(pi)/2 exp(y^2), from the saved y
    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved
        with np.errstate(over="ignore"):
            return g * (_SQRT_PI_OVER_TWO * np.exp(y * y))


def _floating(input, name: str) -> Tensor:
    """The input in a float dtype: integers and bools become the default one."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}: expected a Tensor, got {type(input).__name__}")
    return input if input.dtype.kind in "fc" else cast(input, float_result(input.dtype))


def erf(input) -> Tensor:
    """Elementwise error function ``erf(x) = 2/sqrt(pi) * integral_0^x exp(-t^2) dt``.

    Args:
        input: a tensor (integers and bools give the default float dtype).

    Returns:
        A tensor of the same shape, values in [-1, 1]; gradient ``2/sqrt(pi) exp(-x^2)``.

    Example:
        >>> import striate
        >>> round(striate.erf(striate.tensor(1.0)).item(), 4)
        0.8427
    """
    return Erf.apply(_floating(input, "erf"))


def erfc(input) -> Tensor:
    """Elementwise complementary error function ``1 - erf(x)``, accurate where erf is near 1
    (``erfc(10)`` is 2e-45, where ``1 - erf(10)`` is 0).

    Args:
        input: a tensor (integers and bools give the default float dtype).

    Returns:
        A tensor of the same shape, values in [0, 2]; gradient ``-2/sqrt(pi) exp(-x^2)``.
    """
    return Erfc.apply(_floating(input, "erfc"))


def erfinv(input) -> Tensor:
    """Elementwise inverse error function: ``erf(erfinv(x)) == x`` on (-1, 1); ``+-inf`` at
    ``+-1`` and ``nan`` outside [-1, 1], as in PyTorch.

    Args:
        input: a tensor (integers and bools give the default float dtype).

    Returns:
        A tensor of the same shape; gradient ``sqrt(pi)/2 exp(erfinv(x)^2)``.

    Example:
        >>> import striate
        >>> round(striate.erfinv(striate.tensor(0.5)).item(), 4)
        0.4769
    """
    return Erfinv.apply(_floating(input, "erfinv"))
