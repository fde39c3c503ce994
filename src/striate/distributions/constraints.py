"""Constraints: the set a distribution's parameter or value must lie in
(``torch.distributions.constraints``).

A constraint's ``check(value)`` returns a bool Tensor, one entry per event (``event_dim`` trailing
dims make one event), and ``repr`` names it as PyTorch does (``GreaterThan(lower_bound=0.0)``);
``description`` says it in words for error messages. ``Distribution.arg_constraints`` maps
parameter names to constraints and ``Distribution.support`` is the values' constraint.
"""

from __future__ import annotations

import numpy as np

from ..autograd.tensor import Tensor

__all__ = [
    "Constraint", "boolean", "greater_than", "greater_than_eq", "independent",
    "integer_interval", "interval", "nonnegative", "nonnegative_integer", "positive", "real",
    "real_vector", "simplex", "unit_interval",
]


def _array(value) -> np.ndarray:
    return value.array if isinstance(value, Tensor) else np.asarray(value)


class Constraint:
    """A set of values: ``check(value)`` says, per event, whether ``value`` lies in it."""

    is_discrete = False
    event_dim = 0
    description = "a valid value"

    def _test(self, a: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def check(self, value) -> Tensor:
        """A bool Tensor of shape ``value.shape[:-event_dim]``: True where the event is valid."""
        with np.errstate(invalid="ignore"):  # inf % 1 is NaN: not an integer, no warning
            ok = np.asarray(self._test(_array(value)))
        return Tensor(ok)

    def __repr__(self) -> str:
        return type(self).__name__.lstrip("_") + "()"


class _Real(Constraint):
    description = "a real number (not NaN)"

    def _test(self, a):
        return a == a  # False only for NaN, as PyTorch (infinities are real here)


class _Boolean(Constraint):
    is_discrete = True
    description = "{0, 1}"

    def _test(self, a):
        return (a == 0) | (a == 1)


class _GreaterThan(Constraint):
    def __init__(self, lower_bound):
        self.lower_bound = lower_bound
        self.description = f"greater than {lower_bound:g}"

    def _test(self, a):
        return self.lower_bound < a

    def __repr__(self) -> str:
        return f"GreaterThan(lower_bound={self.lower_bound})"


class _GreaterThanEq(_GreaterThan):
    def __init__(self, lower_bound):
        super().__init__(lower_bound)
        self.description = f"greater than or equal to {lower_bound:g}"

    def _test(self, a):
        return self.lower_bound <= a

    def __repr__(self) -> str:
        return f"GreaterThanEq(lower_bound={self.lower_bound})"


class _Interval(Constraint):
    def __init__(self, lower_bound, upper_bound):
        self.lower_bound, self.upper_bound = lower_bound, upper_bound
        self.description = f"in [{lower_bound:g}, {upper_bound:g}]"

    def _test(self, a):
        return (self.lower_bound <= a) & (a <= self.upper_bound)

    def __repr__(self) -> str:
        return f"Interval(lower_bound={self.lower_bound}, upper_bound={self.upper_bound})"


class _IntegerInterval(_Interval):
    is_discrete = True

    def __init__(self, lower_bound, upper_bound):
        super().__init__(lower_bound, upper_bound)
        self.description = f"integers {lower_bound} .. {upper_bound}"

    def _test(self, a):
        return (a % 1 == 0) & super()._test(a)

    def __repr__(self) -> str:
        return f"IntegerInterval(lower_bound={self.lower_bound}, upper_bound={self.upper_bound})"


class _IntegerGreaterThanEq(_GreaterThanEq):
    is_discrete = True

    def __init__(self, lower_bound):
        super().__init__(lower_bound)
        self.description = f"an integer >= {lower_bound}"

    def _test(self, a):
        return (a % 1 == 0) & (a >= self.lower_bound)

    def __repr__(self) -> str:
        return f"IntegerGreaterThan(lower_bound={self.lower_bound})"


class _Simplex(Constraint):
    event_dim = 1
    description = "a probability vector (non-negative, summing to 1 along the last dim)"

    def _test(self, a):
        return np.all(a >= 0, axis=-1) & (np.abs(a.sum(-1) - 1) < 1e-6)


class _Independent(Constraint):
    """``base`` with its last ``reinterpreted_batch_ndims`` dims counted as one event."""

    def __init__(self, base: Constraint, reinterpreted_batch_ndims: int):
        self.base_constraint = base
        self.reinterpreted_batch_ndims = int(reinterpreted_batch_ndims)
        self.is_discrete = base.is_discrete
        self.event_dim = base.event_dim + self.reinterpreted_batch_ndims
        self.description = base.description

    def _test(self, a):
        ok = np.asarray(self.base_constraint._test(a))
        n = self.reinterpreted_batch_ndims
        return ok.all(axis=tuple(range(-n, 0))) if n and ok.ndim >= n else ok

    def __repr__(self) -> str:
        return (f"IndependentConstraint({self.base_constraint!r}, "
                f"{self.reinterpreted_batch_ndims})")


independent = _Independent
boolean = _Boolean()
real = _Real()
real_vector = _Independent(real, 1)
positive = _GreaterThan(0.0)
nonnegative = _GreaterThanEq(0.0)
greater_than = _GreaterThan
greater_than_eq = _GreaterThanEq
unit_interval = _Interval(0.0, 1.0)
interval = _Interval
integer_interval = _IntegerInterval
nonnegative_integer = _IntegerGreaterThanEq(0)
simplex = _Simplex()
