"""The base of every layer with a ``weight`` and an optional ``bias`` (Linear, Maxout, Conv*,
ConvTranspose*): how they are made and how they start."""

from __future__ import annotations

import numpy as np

from .. import backend
from . import init
from .module import Module
from .parameter import Parameter

__all__ = ["WeightedLayer", "check_device", "place"]


def check_device(device, owner: str) -> None:
    """Accept PyTorch's ``device=`` argument: None, "cpu" or "cuda" (a string or a device object
    naming it, with an optional ":index"); anything else is an error naming ``owner``."""
    if device is None:
        return
    kind = str(getattr(device, "type", device)).split(":")[0]
    if kind not in ("cpu", "cuda"):
        raise ValueError(f"{owner}: device must be 'cpu' or 'cuda', got {device!r}")


def place(module: Module, device) -> None:
    """Move a freshly built module's arrays to ``device`` when that is the GPU (they are made
    on the CPU, where the initialisers draw)."""
    if device is not None and str(getattr(device, "type", device)).startswith("cuda"):
        module.to(device)


class WeightedLayer(Module):
    """A module whose parameters are ``weight`` and ``bias`` (or ``bias = None``).

    Layers start as PyTorch's do: ``kaiming_uniform_(a=sqrt(5))`` weights (U(-b, b) with
    b = 1/sqrt(fan_in)) and U(-1/sqrt(fan_in), 1/sqrt(fan_in)) biases, so a ported program starts
    where it started under PyTorch. Built inside ``init.course_defaults()`` they start He-normal
    (``randn / sqrt(fan_in / 2)``) with zero biases, the course's choice for ReLU nets.
    ``reset_parameters()`` redraws them with the scheme the layer was built with.
    """

    def _make_weight_and_bias(self, weight_shape: tuple, bias_size: int, bias: bool,
                              dtype=None, device=None) -> None:
        check_device(device, type(self).__name__)
        dt = backend.get_default_dtype() if dtype is None else np.dtype(dtype)
        self.weight = Parameter(np.zeros(tuple(weight_shape), dtype=dt))
        if bias:
            self.bias = Parameter(np.zeros((int(bias_size),), dtype=dt))
        else:
            self.register_parameter("bias", None)
        object.__setattr__(self, "_course_init", init.using_course_defaults())
        self.reset_parameters()
        place(self, device)

    def reset_parameters(self) -> None:
        """PyTorch's default (or He-normal weight and zero bias for a layer built inside
        ``init.course_defaults()``)."""
        if self.__dict__.get("_course_init", False):
            init.he_normal_(self.weight)
            if self.bias is not None:
                init.zeros_(self.bias)
        else:
            init.pytorch_linear_default_(self.weight, self.bias)
