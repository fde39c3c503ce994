"""``Categorical(probs=... | logits=...)``: one of K categories, indices ``0 .. K-1``."""

from __future__ import annotations

import numpy as np

from .. import backend, ops
from ..autograd.tensor import Tensor
from . import constraints
from .bernoulli import probs_to_logits
from .distribution import Distribution, as_param

__all__ = ["Categorical"]


class Categorical(Distribution):
    """Categorical distribution over the last dim of ``probs`` or ``logits``.

    As in PyTorch, ``probs`` only need be non-negative with a positive sum (they are normalised
    along the last dim), and ``logits`` are unnormalised log-probabilities (normalised by
    subtracting their logsumexp). ``batch_shape`` is the parameter's shape without the last dim.

    Raises:
        ValueError: both or neither given; negative probabilities or a zero-sum row, NaN logits
            (validation on); a parameter with no dims.
    """

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}
    has_enumerate_support = True

    def __init__(self, probs=None, logits=None, validate_args: bool | None = None):
        if (probs is None) == (logits is None):
            raise ValueError("Categorical: give either probs or logits, but not both")
        param = as_param(probs if probs is not None else logits,
                         "probs" if probs is not None else "logits", "Categorical")
        if param.ndim < 1:
            raise ValueError(f"Categorical: {'probs' if probs is not None else 'logits'} must "
                             "have at least one dimension (the categories)")
        if probs is not None:
            self.probs = param / param.sum(dim=-1, keepdim=True)
        else:
            self.logits = param - ops.logsumexp(param, dim=-1, keepdim=True)
        self._num_events = param.shape[-1]
        super().__init__(tuple(param.shape[:-1]), (), validate_args)

    def __getattr__(self, name):
        if name == "probs":
            self.probs = ops.softmax(self.__dict__["logits"], dim=-1)
            return self.probs
        if name == "logits":
            self.logits = probs_to_logits(self.__dict__["probs"])
            return self.logits
        raise AttributeError(f"'Categorical' object has no attribute {name!r}")

    @property
    def support(self):
        return constraints.integer_interval(0, self._num_events - 1)

    def expand(self, batch_shape, _instance=None) -> Categorical:
        shape = self._expand_shape(batch_shape) + (self._num_events,)
        if "probs" in self.__dict__:
            new = Categorical(probs=self.probs.expand(*shape), validate_args=False)
        else:
            new = Categorical(logits=self.logits.expand(*shape), validate_args=False)
        return self._expanded(new)

    def enumerate_support(self, expand: bool = True) -> Tensor:
        """The categories ``0 .. K-1`` (int64) along a new first dim: shape
        ``(K,) + batch_shape`` (``expand=False``: ``(K,) + (1,) * len(batch_shape)``)."""
        k = self._num_events
        values = np.arange(k, dtype=np.int64).reshape((k,) + (1,) * len(self._batch_shape))
        if expand:
            values = np.broadcast_to(values, (k,) + self._batch_shape).copy()
        return Tensor(values)

    @property
    def param_shape(self) -> tuple:
        return self._batch_shape + (self._num_events,)

    @property
    def mean(self) -> Tensor:
        return Tensor(np.full(self._batch_shape, np.nan, dtype=self.probs.dtype))

    @property
    def mode(self) -> Tensor:
        return Tensor(np.argmax(self.probs.array, axis=-1))

    @property
    def variance(self) -> Tensor:
        return Tensor(np.full(self._batch_shape, np.nan, dtype=self.probs.dtype))

    def sample(self, sample_shape=()) -> Tensor:
        # inverse CDF: the first category whose cumulative probability exceeds a uniform draw
        shape = self._extended_shape(sample_shape)
        p = self.probs.array.astype(np.float64)
        cdf = np.broadcast_to(np.cumsum(p, axis=-1), shape + (self._num_events,))
        u = backend.get_rng().random(shape + (1,)) * cdf[..., -1:]
        idx = (cdf <= u).sum(axis=-1)
        return Tensor(np.minimum(idx, self._num_events - 1).astype(np.int64))

    def log_prob(self, value) -> Tensor:
        """The log-probability of the category ``value`` (integer tensor)."""
        value = self._validate_sample(value)
        idx = value.array.astype(np.int64)
        shape = np.broadcast_shapes(idx.shape, self._batch_shape)
        logits = self.logits.expand(*(shape + (self._num_events,)))
        index = Tensor(np.broadcast_to(idx, shape)[..., None].copy())
        return ops.gather(logits, -1, index).squeeze(-1)

    def entropy(self) -> Tensor:
        """``-sum(p log p)`` over the categories (0 log 0 counts as 0)."""
        min_real = float(np.finfo(self.logits.dtype).min)
        logits = self.logits.clamp(min_real, None)
        return -(self.probs * logits).sum(dim=-1)
