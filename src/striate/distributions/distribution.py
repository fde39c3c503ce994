"""``Distribution``: the shapes, validation and sampling conventions of ``torch.distributions``.

Shapes: a draw has shape ``sample_shape + batch_shape + event_shape``; ``log_prob`` sums over the
event dims and returns ``sample_shape + batch_shape``. Parameters and values are validated by
default (as PyTorch with ``__debug__``): a bad parameter or an out-of-support value raises a
``ValueError`` naming it. ``Distribution.set_default_validate_args(False)`` turns this off.
"""

from __future__ import annotations

import math

import numpy as np

from .. import backend
from ..autograd.tensor import Tensor

__all__ = ["Distribution"]


def as_param(value, name: str, owner: str) -> Tensor:
    """A parameter as a float Tensor (numbers use the default dtype, as in PyTorch)."""
    if isinstance(value, Tensor):
        if value.dtype.kind != "f":
            return value.to(backend.get_default_dtype())
        return value
    if isinstance(value, (int, float, np.integer, np.floating, list, tuple, np.ndarray)):
        arr = np.asarray(value)
        dtype = arr.dtype if arr.dtype.kind == "f" and isinstance(value, np.ndarray) \
            else backend.get_default_dtype()
        return Tensor(arr.astype(dtype))
    raise TypeError(f"{owner}: {name} must be a Tensor or a number, got {type(value).__name__}")


def broadcast_all(*tensors: Tensor) -> list[Tensor]:
    """The tensors expanded to their common broadcast shape (differentiably)."""
    shape = np.broadcast_shapes(*(tuple(t.shape) for t in tensors))
    return [t if tuple(t.shape) == shape else t.expand(*shape) for t in tensors]


def sum_rightmost(value: Tensor, n: int) -> Tensor:
    """Sum over the last ``n`` dims (``n = 0`` returns ``value``)."""
    return value if n == 0 else value.sum(dim=tuple(range(-n, 0)))


class Distribution:
    """Base class: ``batch_shape``, ``event_shape``, ``sample``, ``log_prob``, validation.

    A subclass sets ``arg_constraints`` (parameter name -> a :mod:`constraints` object),
    ``support`` (the values' constraint) and implements the methods it can.
    """

    has_rsample = False
    has_enumerate_support = False
    arg_constraints: dict = {}
    support = None
    _validate_args_default = True

    @staticmethod
    def set_default_validate_args(value: bool) -> None:
        """Turn validation on or off for distributions created afterwards."""
        if value not in (True, False):
            raise ValueError(f"set_default_validate_args: expected a bool, got {value!r}")
        Distribution._validate_args_default = value

    def __init__(self, batch_shape=(), event_shape=(), validate_args: bool | None = None):
        self._batch_shape = tuple(batch_shape)
        self._event_shape = tuple(event_shape)
        self._validate_args = (Distribution._validate_args_default if validate_args is None
                               else bool(validate_args))
        if self._validate_args:
            for name, constraint in self.arg_constraints.items():
                value = getattr(self, name, None)
                if name not in self.__dict__ or value is None:
                    continue  # e.g. probs when built from logits: derived, nothing to check
                if not np.all(constraint.check(value).array):
                    raise ValueError(
                        f"{type(self).__name__}: expected parameter {name} (Tensor of shape "
                        f"{tuple(value.shape)}) to be {constraint.description} (constraint "
                        f"{constraint!r}), but found invalid values:\n{value}"
                    )

    # ---- shapes ---------------------------------------------------------------------------

    @property
    def batch_shape(self) -> tuple:
        """Shape of the batch of independent distributions."""
        return self._batch_shape

    @property
    def event_shape(self) -> tuple:
        """Shape of one draw of one distribution."""
        return self._event_shape

    def _extended_shape(self, sample_shape=()) -> tuple:
        if isinstance(sample_shape, int):
            sample_shape = (sample_shape,)
        return tuple(sample_shape) + self._batch_shape + self._event_shape

    # ---- what a subclass provides -----------------------------------------------------------

    def rsample(self, sample_shape=()) -> Tensor:
        """A reparameterised draw: differentiable in the parameters."""
        raise NotImplementedError(f"{type(self).__name__} has no rsample (has_rsample is False)")

    def sample(self, sample_shape=()) -> Tensor:
        """A draw of shape ``sample_shape + batch_shape + event_shape``, not differentiable."""
        return self.rsample(sample_shape).detach()

    def sample_n(self, n: int) -> Tensor:
        return self.sample((n,))

    def log_prob(self, value) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__}.log_prob")

    def entropy(self) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__}.entropy")

    @property
    def mean(self) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__}.mean")

    @property
    def mode(self) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__}.mode")

    @property
    def variance(self) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__}.variance")

    @property
    def stddev(self) -> Tensor:
        return self.variance.sqrt()

    def perplexity(self) -> Tensor:
        """``exp(entropy)``: the effective number of equally likely outcomes."""
        return self.entropy().exp()

    def cdf(self, value) -> Tensor:
        """P(X <= value)."""
        raise NotImplementedError(f"{type(self).__name__}.cdf")

    def icdf(self, value) -> Tensor:
        """The inverse of :meth:`cdf`: the value whose cumulative probability is ``value``."""
        raise NotImplementedError(f"{type(self).__name__}.icdf")

    def enumerate_support(self, expand: bool = True) -> Tensor:
        """Every value of a discrete distribution along a new first dim (shape
        ``(K,) + batch_shape + event_shape``, or ``(K,) + (1,) * len(batch_shape) + event_shape``
        with ``expand=False``)."""
        raise NotImplementedError(
            f"{type(self).__name__}.enumerate_support: not a distribution with a finite support")

    def expand(self, batch_shape, _instance=None) -> Distribution:
        """The same distribution broadcast to a larger ``batch_shape`` (parameters are views;
        the validation setting is kept)."""
        raise NotImplementedError(f"{type(self).__name__}.expand")

    def _expand_shape(self, batch_shape) -> tuple:
        """``batch_shape`` as a tuple, checked to be a broadcast of this batch shape (each dim
        equal or 1, none dropped), for :meth:`expand`."""
        shape = tuple(batch_shape)
        old = self._batch_shape
        if len(shape) < len(old) or any(o not in (1, n) for o, n in zip(old[::-1], shape[::-1])):
            raise RuntimeError(
                f"{type(self).__name__}.expand: batch_shape {old} cannot be expanded to "
                f"{shape} (each dim must be equal or 1, and no dims may be dropped)")
        return shape

    def _expanded(self, new: Distribution) -> Distribution:
        """Finish :meth:`expand`: the new distribution keeps this one's validation setting."""
        new._validate_args = self._validate_args
        return new

    # ---- validation ---------------------------------------------------------------------------

    def _validate_sample(self, value) -> Tensor:
        """``value`` as a Tensor, checked for shape and support when validation is on."""
        if not isinstance(value, Tensor):
            value = Tensor(np.asarray(value))
        if not self._validate_args:
            return value
        n = len(self._event_shape)
        if n and tuple(value.shape[-n:]) != self._event_shape:
            raise ValueError(f"{type(self).__name__}.log_prob: the value's last dims "
                             f"{tuple(value.shape[-n:])} must be the event shape "
                             f"{self._event_shape}")
        try:
            np.broadcast_shapes(tuple(value.shape), self._batch_shape + self._event_shape)
        except ValueError:
            raise ValueError(
                f"{type(self).__name__}.log_prob: a value of shape {tuple(value.shape)} does "
                f"not broadcast with batch_shape {self._batch_shape} + event_shape "
                f"{self._event_shape}") from None
        support = self.support
        if support is not None and not np.all(support.check(value).array):
            raise ValueError(
                f"{type(self).__name__}.log_prob: expected value (Tensor of shape "
                f"{tuple(value.shape)}) to be within the support ({support.description}) of the "
                f"distribution, but found invalid values:\n{value}")
        return value

    def __repr__(self) -> str:
        args = ", ".join(f"{k}: {tuple(getattr(self, k).shape)}" for k in self.arg_constraints
                         if k in self.__dict__)
        return f"{type(self).__name__}({args})"


LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)
