"""Winograd convolution per layer, chosen by measurement (``use_winograd``; also
``striate.compress.use_winograd``).

Every ``Conv2d`` with a 3x3 kernel, stride 1, dilation 1, one group and equal numeric padding
can run by Winograd's F(2x2, 3x3) or F(4x4, 3x3) (``striate.ops.winograd``). ``mode="always"``
switches all of them to one tile; ``mode="auto"`` times im2col and each tile (forward and
backward, best of ``repeats``) on the layer's first real input and keeps the fastest, per
layer, as cuDNN's benchmark mode does.
"""

from __future__ import annotations

import time

import numpy as np

from ..kernels.conv import conv_backward, conv_forward
from ..kernels.winograd import TILES, winograd_backward, winograd_forward
from ..ops.winograd import check_tile, conv2d_winograd
from .conv import Conv2d

__all__ = ["use_winograd", "winograd_eligible", "WinogradConv2d"]


def winograd_eligible(conv) -> bool:
    """Whether ``conv`` is a stride-1, undilated, ungrouped 3x3 Conv2d with equal padding."""
    return (isinstance(conv, Conv2d) and conv.kernel_size == (3, 3)
            and conv.stride == (1, 1) and conv.dilation == (1, 1) and conv.groups == 1
            and not isinstance(conv.padding, str) and conv.padding[0] == conv.padding[1]
            and getattr(conv, "padding_mode", "zeros") == "zeros")


def _best(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


class WinogradConv2d(Conv2d):
    """A Conv2d that runs by Winograd F(tile x tile, 3x3) (``algorithm = "winograd"``), by
    im2col (``"im2col"``), or decides on its first call (``"auto"``); same parameters and state.
    After ``"auto"`` has decided, ``timings`` holds the seconds each candidate took (forward and
    backward): ``"im2col"``, ``"winograd F(2x2)"``, ``"winograd F(4x4)"``."""

    algorithm: str = "auto"
    tile: int = 2
    timings: dict | None = None

    def forward(self, input):
        if self.algorithm == "auto":
            self._choose(input.array)
        if self.algorithm == "winograd":
            return conv2d_winograd(input, self.weight, self.bias, self.padding[0], self.tile)
        return super().forward(input)

    def _choose(self, x: np.ndarray, repeats: int = 3) -> None:
        w = self.weight.array
        b = None if self.bias is None else self.bias.array
        pad = self.padding[0]

        def direct():
            out, cache = conv_forward(x, w, b, 1, pad)
            conv_backward(np.ones_like(out), cache)

        def wino(m):
            out, cache = winograd_forward(x, w, b, pad, m)
            winograd_backward(np.ones_like(out), cache)

        # each candidate: its name in ``timings``, (algorithm, tile), its forward + backward
        candidates = [("im2col", ("im2col", self.tile), direct)]
        candidates += [(f"winograd F({m}x{m})", ("winograd", m), lambda m=m: wino(m))
                       for m in TILES]
        timings = {name: _best(run, repeats) for name, _, run in candidates}
        _, (algorithm, tile), _ = min(candidates, key=lambda c: timings[c[0]])
        object.__setattr__(self, "timings", timings)
        object.__setattr__(self, "algorithm", algorithm)
        object.__setattr__(self, "tile", tile)


def use_winograd(model, mode: str = "auto", tile: int = 2) -> list:
    """Let every eligible conv of ``model`` run by Winograd: ``"always"`` (F(tile x tile, 3x3),
    ``tile`` 2 or 4), ``"auto"`` (im2col, F(2x2) or F(4x4), whichever measures fastest on the
    layer's first input), or ``"never"`` (back to im2col). Returns the layers."""
    if mode not in ("auto", "always", "never"):
        raise ValueError(f"use_winograd: mode must be 'auto', 'always' or 'never', got {mode!r}")
    check_tile("use_winograd", tile)
    layers = [m for m in model.modules() if winograd_eligible(m)]
    for m in layers:
        if type(m) is Conv2d:
            m.__class__ = WinogradConv2d  # same state; only forward differs
        algo = {"always": "winograd", "never": "im2col", "auto": "auto"}[mode]
        object.__setattr__(m, "algorithm", algo)
        object.__setattr__(m, "tile", tile)
        object.__setattr__(m, "timings", None)
    return layers
