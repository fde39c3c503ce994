"""``Bernoulli(probs=... | logits=...)``: a coin with P(1) = ``probs`` = ``sigmoid(logits)``."""

from __future__ import annotations

import numpy as np

from .. import backend, ops
from ..autograd.tensor import Tensor
from . import constraints
from .distribution import Distribution, as_param

__all__ = ["Bernoulli", "clamp_probs", "logits_to_probs", "probs_to_logits"]


def clamp_probs(probs: Tensor) -> Tensor:
    """Probabilities kept in ``[eps, 1 - eps]`` (the dtype's eps), so their logs stay finite."""
    eps = float(np.finfo(probs.dtype).eps)
    return probs.clamp(eps, 1 - eps)


def probs_to_logits(probs: Tensor, is_binary: bool = False) -> Tensor:
    """``log(p) - log(1 - p)`` (binary) or ``log(p)`` (categorical), of clamped ``p``."""
    p = clamp_probs(probs)
    return p.log() - ops.log1p(-p) if is_binary else p.log()


def logits_to_probs(logits: Tensor, is_binary: bool = False) -> Tensor:
    """``sigmoid(logits)`` (binary) or ``softmax(logits, -1)`` (categorical)."""
    return ops.sigmoid(logits) if is_binary else ops.softmax(logits, dim=-1)


class Bernoulli(Distribution):
    """Bernoulli distribution: ``1`` with probability ``probs``, ``0`` otherwise.

    Give exactly one of ``probs`` (in [0, 1]) or ``logits`` (log-odds, any real); the other is
    derived from it on first use, as in PyTorch.

    Raises:
        ValueError: both or neither given; ``probs`` outside [0, 1] (validation on).
    """

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.boolean
    has_enumerate_support = True

    def __init__(self, probs=None, logits=None, validate_args: bool | None = None):
        if (probs is None) == (logits is None):
            raise ValueError("Bernoulli: give either probs or logits, but not both")
        if probs is not None:
            self.probs = as_param(probs, "probs", "Bernoulli")
            shape = tuple(self.probs.shape)
        else:
            self.logits = as_param(logits, "logits", "Bernoulli")
            shape = tuple(self.logits.shape)
        super().__init__(shape, (), validate_args)

    def __getattr__(self, name):
        # the parameter not given is computed once, when first asked for
        if name == "probs":
            self.probs = logits_to_probs(self.__dict__["logits"], is_binary=True)
            return self.probs
        if name == "logits":
            self.logits = probs_to_logits(self.__dict__["probs"], is_binary=True)
            return self.logits
        raise AttributeError(f"'Bernoulli' object has no attribute {name!r}")

    def expand(self, batch_shape, _instance=None) -> Bernoulli:
        shape = self._expand_shape(batch_shape)
        if "probs" in self.__dict__:
            new = Bernoulli(probs=self.probs.expand(*shape), validate_args=False)
        else:
            new = Bernoulli(logits=self.logits.expand(*shape), validate_args=False)
        return self._expanded(new)

    def enumerate_support(self, expand: bool = True) -> Tensor:
        """``[0, 1]`` along a new first dim: shape ``(2,) + batch_shape`` (``expand=False``:
        ``(2,) + (1,) * len(batch_shape)``), in the parameters' dtype."""
        param = self.__dict__["probs"] if "probs" in self.__dict__ else self.__dict__["logits"]
        dtype = param.dtype
        values = np.arange(2, dtype=dtype).reshape((2,) + (1,) * len(self._batch_shape))
        if expand:
            values = np.broadcast_to(values, (2,) + self._batch_shape).copy()
        return Tensor(values)

    @property
    def param_shape(self) -> tuple:
        return self._batch_shape

    @property
    def mean(self) -> Tensor:
        return self.probs

    @property
    def mode(self) -> Tensor:
        return Tensor((self.probs.array > 0.5).astype(self.probs.dtype))

    @property
    def variance(self) -> Tensor:
        return self.probs * (1 - self.probs)

    def sample(self, sample_shape=()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        p = np.broadcast_to(self.probs.array, shape)
        u = backend.get_rng().random(shape)
        return Tensor((u < p).astype(self.probs.dtype))

    def log_prob(self, value) -> Tensor:
        """``value * logits - softplus(logits)``: minus the binary cross-entropy with logits."""
        value = self._validate_sample(value)
        if value.dtype.kind != "f":
            value = value.to(self.logits.dtype)
        return value * self.logits - ops.softplus(self.logits, threshold=float("inf"))

    def entropy(self) -> Tensor:
        """``softplus(logits) - probs * logits``."""
        return ops.softplus(self.logits, threshold=float("inf")) - self.probs * self.logits
