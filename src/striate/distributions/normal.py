"""``Normal(loc, scale)``: the Gaussian, with the reparameterised draw ``loc + scale * eps``."""

from __future__ import annotations

import math

import numpy as np

from .. import ops
from ..autograd.function import Function
from ..autograd.grad_mode import no_grad
from ..autograd.tensor import Tensor
from . import constraints
from .distribution import LOG_SQRT_2PI, Distribution, as_param, broadcast_all

_SQRT_2PI = math.sqrt(2 * math.pi)


class StandardNormalCdf(Function):
    """``Phi(z)``, the standard normal CDF, elementwise (SciPy's ``ndtr``, accurate in the
    tails, where ``0.5 (1 + erf(z / sqrt 2))`` rounds to 0)."""

    @staticmethod
    def forward(ctx, z):
        from scipy.special import ndtr  # SciPy comes with scikit-learn, a dependency

        ctx.save_for_backward(z)
        return ndtr(z).astype(z.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        # d Phi(z)/dz = phi(z) = exp(-z^2 / 2) / sqrt(2 pi)
        (z,) = ctx.saved
        return g * np.exp(-0.5 * z * z) / _SQRT_2PI


class StandardNormalIcdf(Function):
    """``Phi^-1(p)``, the standard normal quantile function, elementwise (SciPy's ``ndtri``;
    -inf at 0, inf at 1, NaN outside [0, 1])."""

    @staticmethod
    def forward(ctx, p):
        from scipy.special import ndtri

        z = ndtri(p).astype(p.dtype, copy=False)
        ctx.save_for_backward(z)
        return z

    @staticmethod
    def backward(ctx, g):
        # the inverse function's derivative: 1 / phi(z) = sqrt(2 pi) exp(z^2 / 2)
        (z,) = ctx.saved
        return g * _SQRT_2PI * np.exp(0.5 * z * z)

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

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True

    def __init__(self, loc, scale, validate_args: bool | None = None):
        self.loc, self.scale = broadcast_all(as_param(loc, "loc", "Normal"),
                                             as_param(scale, "scale", "Normal"))
        super().__init__(tuple(self.loc.shape), (), validate_args)

    def expand(self, batch_shape, _instance=None) -> Normal:
        """The same distribution broadcast to ``batch_shape`` (parameters are views)."""
        shape = self._expand_shape(batch_shape)
        return self._expanded(Normal(self.loc.expand(*shape), self.scale.expand(*shape),
                                     validate_args=False))

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

    def cdf(self, value) -> Tensor:
        """``Phi((value - loc) / scale)``, P(X <= value); differentiable in all three."""
        value = self._validate_sample(value)
        return StandardNormalCdf.apply((value - self.loc) / self.scale)

    def icdf(self, value) -> Tensor:
        """``loc + scale Phi^-1(value)``: the value below which a fraction ``value`` of the mass
        lies (``value`` in [0, 1]; not validated, as in PyTorch)."""
        if not isinstance(value, Tensor):
            value = Tensor(np.asarray(value, dtype=self.loc.dtype))
        return self.loc + self.scale * StandardNormalIcdf.apply(value)
