"""The base of every layer with a ``weight`` and an optional ``bias`` (Linear, Maxout, Conv2d,
ConvTranspose2d): how they are made and how they start."""

from __future__ import annotations

import numpy as np

from .. import backend
from . import init
from .module import Module
from .parameter import Parameter

__all__ = ["WeightedLayer"]


class WeightedLayer(Module):
    """A module whose parameters are ``weight`` and ``bias`` (or ``bias = None``).

    Layers default to He-normal weights (``randn / sqrt(fan_in / 2)``, fan_in from the weight's
    shape as PyTorch computes it) and zero biases, the course's choice for ReLU nets; this differs
    on purpose from PyTorch's ``kaiming_uniform_(a=sqrt(5))``. ``reset_parameters()`` redraws them.
    """

    def _make_weight_and_bias(self, weight_shape: tuple, bias_size: int, bias: bool,
                              dtype=None) -> None:
        dt = backend.get_default_dtype() if dtype is None else np.dtype(dtype)
        self.weight = Parameter(np.zeros(tuple(weight_shape), dtype=dt))
        if bias:
            self.bias = Parameter(np.zeros((int(bias_size),), dtype=dt))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """He-normal weight, zero bias."""
        init.he_normal_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)
