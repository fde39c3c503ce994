"""``pixel_shuffle`` / ``pixel_unshuffle`` (Shi et al. 2016, sub-pixel convolution): channels
<-> space, by a reshape, a permutation and a reshape, so their gradient is those three undone."""

from __future__ import annotations

import numbers

from ..autograd.tensor import Tensor

__all__ = ["pixel_shuffle", "pixel_unshuffle"]


def _factor(value, name: str, fn: str) -> int:
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value <= 0:
        raise ValueError(f"{fn}: {name} must be a positive int, got {value!r}")
    return int(value)


def pixel_shuffle(input: Tensor, upscale_factor: int) -> Tensor:
    """(*, C r^2, H, W) -> (*, C, H r, W r): channel ``c r^2 + i r + j`` becomes the pixel
    offset (i, j) of output channel c."""
    r = _factor(upscale_factor, "upscale_factor", "pixel_shuffle")
    if input.ndim < 3 or input.shape[-3] % (r * r):
        raise ValueError(f"pixel_shuffle: input must be (*, C * {r * r}, H, W) with channels "
                         f"divisible by upscale_factor^2 = {r * r}, got shape {input.shape}")
    *lead, c, h, w = input.shape
    c //= r * r
    n = len(lead)
    x = input.reshape(*lead, c, r, r, h, w)
    x = x.permute(*range(n), n, n + 3, n + 1, n + 4, n + 2)  # (*, C, H, r, W, r)
    return x.reshape(*lead, c, h * r, w * r)


def pixel_unshuffle(input: Tensor, downscale_factor: int) -> Tensor:
    """(*, C, H r, W r) -> (*, C r^2, H, W), the inverse of :func:`pixel_shuffle`."""
    r = _factor(downscale_factor, "downscale_factor", "pixel_unshuffle")
    if input.ndim < 3 or input.shape[-2] % r or input.shape[-1] % r:
        raise ValueError(f"pixel_unshuffle: height and width must be divisible by "
                         f"downscale_factor {r}, got shape {input.shape}")
    *lead, c, hr, wr = input.shape
    h, w = hr // r, wr // r
    n = len(lead)
    x = input.reshape(*lead, c, h, r, w, r)
    x = x.permute(*range(n), n, n + 2, n + 4, n + 1, n + 3)  # (*, C, r, r, H, W)
    return x.reshape(*lead, c * r * r, h, w)
