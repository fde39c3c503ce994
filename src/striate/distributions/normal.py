"""``Normal(loc, scale)``: the Gaussian, with the reparameterised draw ``loc + scale * eps``."""

from __future__ import annotations

import math

import numpy as np

from .. import ops
from ..autograd.grad_mode import no_grad
from ..autograd.tensor import Tensor
from .distribution import LOG_SQRT_2PI, Distribution, as_param, broadcast_all

__all__ = ["Normal"]


class Normal(Distribution):
    """Normal distribution with mean ``loc`` and standard deviation ``scale`` (broadcast).

    Args:
        loc: mean (Tensor or number).
        scale: standard deviation, > 0.
        validate_args: check ``scale > 0`` and log_prob's values (default on).

    Example:
        >>> import striate
        >>> d = striate.distributions.Normal(0.0, 2.0)
        >>> round(d.log_prob(striate.tensor(0.0)).item(), 4)
        -1.6121
    """

    arg_constraints = {
        "loc": (lambda a: np.isfinite(a), "a finite real number"),
        "scale": (lambda a: a > 0, "greater than 0"),
    }
    support = (lambda a: np.isfinite(a), "real numbers")
    has_rsample = True

    def __init__(self, loc, scale, validate_args: bool | None = None):
        self.loc, self.scale = broadcast_all(as_param(loc, "loc", "Normal"),
                                             as_param(scale, "scale", "Normal"))
        super().__init__(tuple(self.loc.shape), (), validate_args)

    def expand(self, batch_shape, _instance=None) -> Normal:
        """The same distribution broadcast to ``batch_shape`` (parameters are views)."""
        shape = tuple(batch_shape)
        return Normal(self.loc.expand(*shape), self.scale.expand(*shape), validate_args=False)

    @property
    def mean(self) -> Tensor:
        return self.loc

    @property
    def mode(self) -> Tensor:
        return self.loc

    @property
    def stddev(self) -> Tensor:
        return self.scale

    @property
    def variance(self) -> Tensor:
        return self.scale * self.scale

    def rsample(self, sample_shape=()) -> Tensor:
        # the reparameterisation trick: the randomness is in eps, so d/dloc = 1, d/dscale = eps
        shape = self._extended_shape(sample_shape)
        eps = ops.randn_like(Tensor(np.empty(shape, dtype=self.loc.dtype)))
        return self.loc + eps * self.scale

    def sample(self, sample_shape=()) -> Tensor:
        with no_grad():
            return self.rsample(sample_shape).detach()

    def log_prob(self, value) -> Tensor:
        """``-(x - loc)^2 / (2 scale^2) - log(scale) - log(sqrt(2 pi))``."""
        value = self._validate_sample(value)
        z = (value - self.loc) / self.scale
        return -0.5 * z * z - self.scale.log() - LOG_SQRT_2PI

    def entropy(self) -> Tensor:
        """``0.5 + 0.5 log(2 pi) + log(scale)``."""
        return self.scale.log() + (0.5 + 0.5 * math.log(2 * math.pi))
