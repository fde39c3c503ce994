"""Pieces the zoo shares: choosing the ImageNet or small-input variant of a model, a max-pool with
PyTorch's ``ceil_mode=True`` output size, and the initialisations torchvision's models use.

Small-input variants (CIFAR's 32x32, the digits' 8x8) follow the usual CIFAR recipe: the stem's
large strided convolution becomes a 3x3 stride-1 convolution and the stem's max-pool goes, so a
32x32 image keeps its resolution into the first stage; later poolings are skipped once a feature
map is too small to pool.
"""

from __future__ import annotations

import math
import numbers

from .. import nn
from ..nn import init

__all__ = ["check_input_shape", "conv_out", "kaiming_init_",
           "linear_default_init_", "resolve_variant"]

#: inputs whose smaller side is at most this are "small" (CIFAR-style stem) by default
SMALL_MAX_SIDE = 64


def check_input_shape(input_shape, owner: str) -> tuple[int, int, int]:
    """``(C, H, W)`` as ints, or a ValueError naming ``owner``."""
    shape = tuple(input_shape)
    if len(shape) != 3 or not all(
        isinstance(s, numbers.Integral) and not isinstance(s, bool) and s > 0 for s in shape
    ):
        raise ValueError(
            f"{owner}: input_shape must be (C, H, W) positive ints, got {input_shape!r}"
        )
    return int(shape[0]), int(shape[1]), int(shape[2])


def resolve_variant(input_shape, variant: str | None, owner: str) -> str:
    """``'imagenet'`` or ``'small'``: ``variant`` if given, else ``'small'`` when the smaller
    spatial side of ``input_shape`` is at most 64 pixels."""
    if variant is None:
        _, h, w = check_input_shape(input_shape, owner)
        return "small" if min(h, w) <= SMALL_MAX_SIDE else "imagenet"
    if variant not in ("imagenet", "small"):
        raise ValueError(f"{owner}: variant must be 'imagenet', 'small' or None, got {variant!r}")
    return variant


def conv_out(size: int, kernel: int, stride: int = 1, padding: int = 0, dilation: int = 1,
             ceil_mode: bool = False) -> int:
    """Output length of a convolution or pooling along one spatial dim (PyTorch's formula)."""
    span = size + 2 * padding - dilation * (kernel - 1) - 1
    if ceil_mode:
        out = -(-span // stride) + 1
        # PyTorch drops a last window that would start in the right padding
        if (out - 1) * stride >= size + padding:
            out -= 1
        return out
    return span // stride + 1


def kaiming_init_(model: nn.Module) -> nn.Module:
    """torchvision's ResNet initialisation: He-normal (fan_out) convolutions, BN weight 1 and
    bias 0, PyTorch's default uniform for Linear layers."""
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            if m.bias is not None:
                init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            if m.weight is not None:
                init.ones_(m.weight)
                init.zeros_(m.bias)
    return linear_default_init_(model)


def linear_default_init_(model: nn.Module) -> nn.Module:
    """PyTorch's default for every Linear of ``model``, which torchvision keeps for ResNet's and
    AlexNet's: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weight and bias. Smaller than He-normal,
    so the first scores are small and the loss starts near log(C)."""
    for m in model.modules():
        if isinstance(m, nn.Linear):
            bound = 1.0 / math.sqrt(m.in_features)
            init.uniform_(m.weight, -bound, bound)
            if m.bias is not None:
                init.uniform_(m.bias, -bound, bound)
    return model
