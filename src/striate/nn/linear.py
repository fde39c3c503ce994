"""Affine layers: ``Linear``, ``Maxout`` (a linear map followed by a max over groups),
``Identity`` and ``Flatten``.

Weights start as PyTorch's, ``kaiming_uniform_(a=sqrt(5))`` (a variance of 1/(3 fan_in)) with a
uniform bias; inside ``striate.nn.init.course_defaults()`` they start He-normal
(``randn / sqrt(fan_in / 2)``) with zero biases, the course's scale for ReLU networks.
"""

from __future__ import annotations

import math
import numbers

from .. import ops as F
from ..autograd.tensor import Tensor
from ._weighted import WeightedLayer
from .module import Module

__all__ = ["Flatten", "Identity", "Linear", "Maxout"]


def _positive_int(value, name: str, owner: str) -> int:
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value <= 0:
        raise ValueError(f"{owner}: {name} must be a positive int, got {value!r}")
    return int(value)


class Linear(WeightedLayer):
    """``y = x W^T + b``: (N, *, in_features) -> (N, *, out_features).

    Args:
        in_features: size of each input sample.
        out_features: size of each output sample.
        bias: whether to learn an additive bias (default True).
        device: "cpu" (default) or "cuda".
        dtype: dtype of the parameters (default: striate's default dtype).

    Attributes:
        weight: Parameter (out_features, in_features), PyTorch's default (module docstring).
        bias: Parameter (out_features,), U(-1/sqrt(in), 1/sqrt(in)); None when ``bias=False``.
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, device=None,
                 dtype=None):
        super().__init__()
        self.in_features = _positive_int(in_features, "in_features", "Linear")
        self.out_features = _positive_int(out_features, "out_features", "Linear")
        self._make_weight_and_bias((self.out_features, self.in_features), self.out_features, bias,
                                   dtype, device)


    def forward(self, input: Tensor) -> Tensor:
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class Maxout(WeightedLayer):
    """The maxout unit (Goodfellow et al. 2013): ``pool_size`` linear pieces per output feature,
    keep the largest: (N, *, in_features) -> (N, *, out_features).

    ``y_j = max_k (x W_{j k}^T + b_{j k})``. The linear map produces ``out_features * pool_size``
    features, grouped consecutively: rows ``j * pool_size ... (j + 1) * pool_size - 1`` of the
    weight belong to output ``j``. It generalises ReLU (``max(0, w x)``) and leaky ReLU and never
    saturates, at ``pool_size`` times the parameters.

    Attributes:
        weight: Parameter (out_features * pool_size, in_features), as ``Linear``'s.
        bias: Parameter (out_features * pool_size,); None when ``bias=False``.
    """

    def __init__(self, in_features: int, out_features: int, pool_size: int, bias: bool = True,
                 device=None, dtype=None):
        super().__init__()
        self.in_features = _positive_int(in_features, "in_features", "Maxout")
        self.out_features = _positive_int(out_features, "out_features", "Maxout")
        self.pool_size = _positive_int(pool_size, "pool_size", "Maxout")
        rows = self.out_features * self.pool_size
        self._make_weight_and_bias((rows, self.in_features), rows, bias, dtype, device)


    def forward(self, input: Tensor) -> Tensor:
        return F.maxout(F.linear(input, self.weight, self.bias), self.pool_size, dim=-1)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"pool_size={self.pool_size}, bias={self.bias is not None}")


class Identity(Module):
    """Returns its input unchanged (a placeholder, e.g. to cut a classifier head off a model).
    Any constructor arguments are accepted and ignored, as in PyTorch."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input):
        return input


class Flatten(Module):
    """Merge dims ``start_dim..end_dim``: (N, C, H, W) -> (N, C*H*W) with the defaults."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1):
        super().__init__()
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, input: Tensor) -> Tensor:
        return F.flatten(input, self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Split dim ``dim`` into ``unflattened_size``: (N, 784) -> (N, 1, 28, 28) with ``dim=1``,
    ``unflattened_size=(1, 28, 28)`` (the inverse of :class:`Flatten`; a -1 is inferred)."""

    def __init__(self, dim: int, unflattened_size):
        super().__init__()
        self.dim = dim
        self.unflattened_size = tuple(int(s) for s in unflattened_size)

    def forward(self, input: Tensor) -> Tensor:
        shape = tuple(input.shape)
        if not -len(shape) <= self.dim < len(shape):
            raise IndexError(f"Unflatten: dim {self.dim} is out of range for an input of shape "
                             f"{shape}")
        d = self.dim % len(shape)
        known = math.prod(s for s in self.unflattened_size if s != -1)
        if (-1 not in self.unflattened_size and known != shape[d]) or known == 0 \
                or shape[d] % known:
            raise ValueError(f"Unflatten: dim {self.dim} of size {shape[d]} cannot be split into "
                             f"{self.unflattened_size} (input shape {shape})")
        return input.reshape(shape[:d] + self.unflattened_size + shape[d + 1:])

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
