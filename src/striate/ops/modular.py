"""Remainders and floor division: ``torch.remainder`` (``%``), ``torch.fmod`` and
``torch.floor_divide`` (``//``), with PyTorch's dtypes and rounding rules.

- ``remainder(a, b)`` takes the sign of the divisor (Python's ``%``): ``-7 % 3 == 2``.
- ``fmod(a, b)`` takes the sign of the dividend (C's ``fmod``): ``fmod(-7, 3) == -1``.
- ``floor_divide(a, b)`` rounds the quotient down (PyTorch >= 1.13; before, it truncated), so
  ``a == floor_divide(a, b) * b + remainder(a, b)``.

Integer operands stay integers (with PyTorch's promotion, wrapping as C casts do) and an integer
division by zero raises ``ZeroDivisionError``, as PyTorch raises; floats divide by zero into
``nan`` / ``inf``. Bool operands are refused, as in PyTorch.
"""

from __future__ import annotations

import math

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ._helpers import array_of, broadcast_shapes, cast_wrapping, result_type
from .elementwise import RoundedDiv, cast

__all__ = ["remainder", "fmod", "floor_divide"]


def _fmod(a, b):
    """C's fmod: ``a - trunc(a / b) * b``, computed exactly (NumPy's ``fmod``)."""
    return np.fmod(a, b)


def _float_remainder(a, b):
    # PyTorch's rule, written on fmod: where the remainder is non-zero and its sign differs from
    # the divisor's, add the divisor once (so -4.0 % 2.0 is -0.0, as in PyTorch)
    with np.errstate(invalid="ignore", divide="ignore"):
        mod = np.fmod(a, b)
        fix = (mod != 0) & ((np.asarray(b) < 0) != (mod < 0))
        return np.asarray(np.where(fix, mod + b, mod)).astype(mod.dtype, copy=False)


class Remainder(Function):
    @staticmethod
    def forward(ctx, a, b):
        if ctx.needs_input_grad[1]:
            ctx.save_for_backward(a, b)
        return _float_remainder(a, b)

    # a - floor(a / b) * b: d/da = 1, d/db = -floor(a / b) (the quotient is piecewise constant)
    @staticmethod
    def backward(ctx, g):
        gb = None
        if ctx.needs_input_grad[1]:
            a, b = ctx.saved
            with np.errstate(invalid="ignore", divide="ignore"):
                gb = -g * np.floor_divide(a, b)
        return g if ctx.needs_input_grad[0] else None, gb


class Fmod(Function):
    @staticmethod
    def forward(ctx, a, b):
        if ctx.needs_input_grad[1]:
            ctx.save_for_backward(a, b)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.asarray(_fmod(a, b))

    # a - trunc(a / b) * b: d/da = 1, d/db = -trunc(a / b)
    @staticmethod
    def backward(ctx, g):
        gb = None
        if ctx.needs_input_grad[1]:
            a, b = ctx.saved
            with np.errstate(invalid="ignore", divide="ignore"):
                gb = -g * np.trunc(np.true_divide(a, b))
        return g if ctx.needs_input_grad[0] else None, gb


def _integer(name, int_fn, dtype, input, other) -> Tensor:
    """``int_fn`` on the operands cast (wrapping) to the integer ``dtype``; a 0 divisor raises."""
    a, b = cast_wrapping(input, dtype), cast_wrapping(other, dtype)
    shape = broadcast_shapes(name, a.shape, b.shape)
    if math.prod(shape) and not np.all(b != 0):
        raise ZeroDivisionError(f"{name}: integer division by zero (the divisor holds a 0; "
                                "PyTorch raises too)")
    return Tensor(np.asarray(int_fn(a, b)))


def _operand(name, x):
    """A Tensor, an array or a Python number (a NumPy scalar acts as one, as in PyTorch)."""
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, (Tensor, np.ndarray, int, float, bool)):
        return x
    raise TypeError(f"{name}: expected a Tensor or a number, got {type(x).__name__}")


def _modular(name, fn, int_fn, input, other) -> Tensor:
    if not (isinstance(input, Tensor) or isinstance(other, Tensor)):
        raise TypeError(f"{name}: expected a Tensor as input or other, got "
                        f"{type(input).__name__} and {type(other).__name__}")
    input, other = _operand(name, input), _operand(name, other)
    dtype = result_type(input, other)
    if dtype.kind == "b":
        raise TypeError(f"{name}: bool operands are not supported (as in PyTorch); cast them to "
                        "an integer dtype first")
    if dtype.kind in "iu":
        return _integer(name, int_fn, dtype, input, other)
    broadcast_shapes(name, np.shape(array_of(input)), np.shape(array_of(other)))
    # floats: tensors cast (differentiably) to the result dtype, numbers stay weakly typed
    a, b = (cast(x, dtype) if isinstance(x, (Tensor, np.ndarray)) and x.dtype != dtype else x
            for x in (input, other))
    return fn.apply(a, b)


def remainder(input, other) -> Tensor:
    """Elementwise Python-style remainder ``input % other``: the result has the sign of
    ``other`` (``remainder(-7, 3) == 2``), broadcasting.

    Args:
        input, other: tensors or numbers (at least one a tensor), PyTorch's dtype promotion.

    Returns:
        A tensor of the promoted dtype. Gradients: 1 for ``input``, ``-floor(input / other)``
        for ``other``.

    Raises:
        ZeroDivisionError: integer operands with a 0 divisor. TypeError: bool operands.

    Example:
        >>> import striate
        >>> striate.remainder(striate.tensor([-7, 7]), 3).tolist()
        [2, 1]
    """
    return _modular("remainder", Remainder, np.remainder, input, other)


def fmod(input, other) -> Tensor:
    """Elementwise C-style remainder: the result has the sign of ``input``
    (``fmod(-7, 3) == -1``), broadcasting.

    Args:
        input, other: tensors or numbers (at least one a tensor), PyTorch's dtype promotion.

    Returns:
        A tensor of the promoted dtype. Gradients: 1 for ``input``, ``-trunc(input / other)``
        for ``other``.

    Raises:
        ZeroDivisionError: integer operands with a 0 divisor. TypeError: bool operands.

    Example:
        >>> import striate
        >>> striate.fmod(striate.tensor([-7, 7]), 3).tolist()
        [-1, 1]
    """
    return _modular("fmod", Fmod, np.fmod, input, other)


def floor_divide(input, other) -> Tensor:
    """Elementwise ``input // other``: the quotient rounded down (PyTorch >= 1.13), broadcasting;
    the same as ``div(input, other, rounding_mode="floor")``.

    Args:
        input, other: tensors or numbers (at least one a tensor), PyTorch's dtype promotion.

    Returns:
        A tensor of the promoted dtype (integers stay integers). The quotient is piecewise
        constant: its gradient is 0 (PyTorch has none and raises in backward).

    Raises:
        ZeroDivisionError: integer operands with a 0 divisor. TypeError: bool operands.

    Example:
        >>> import striate
        >>> striate.floor_divide(striate.tensor([-7, 7]), 2).tolist()
        [-4, 3]
    """
    return _modular("floor_divide", RoundedDiv, np.floor_divide, input, other)
