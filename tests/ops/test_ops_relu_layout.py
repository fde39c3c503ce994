"""relu hands 4-D activations on channels-last (the convolution kernels' layout): the same values
and gradients whatever the input's and the upstream gradient's memory layout."""

from __future__ import annotations

import numpy as np
import pytest
import striate.functional as F

import striate
from striate.kernels import compiled

RNG = np.random.default_rng(3)


def is_channels_last(a):
    return np.moveaxis(a, 1, -1).flags.c_contiguous


@pytest.mark.parametrize("path", ["numpy"] + (["compiled"] if compiled.available() else []))
@pytest.mark.parametrize("x_layout", ["contiguous", "channels-last"])
@pytest.mark.parametrize("g_layout", ["contiguous", "channels-last"])
def test_relu_any_layout(path, x_layout, g_layout, monkeypatch):
    monkeypatch.setattr(compiled, "USE_COMPILED", path == "compiled")
    x0 = RNG.standard_normal((3, 4, 5, 6)).astype(np.float32)
    g0 = RNG.standard_normal(x0.shape).astype(np.float32)

    def lay(a, how):
        return a if how == "contiguous" else \
            np.moveaxis(np.ascontiguousarray(np.moveaxis(a, 1, -1)), -1, 1)

    xt = striate.tensor(lay(x0, x_layout), requires_grad=True)
    seen = []
    xt.register_hook(lambda d: seen.append(d.array))
    y = F.relu(xt)
    (y * striate.tensor(lay(g0, g_layout))).sum().backward()
    np.testing.assert_array_equal(y.array, np.maximum(x0, 0))
    np.testing.assert_array_equal(seen[0], g0 * (x0 > 0))
    assert is_channels_last(y.array) and is_channels_last(seen[0])


def test_relu_other_shapes_unchanged():
    x = RNG.standard_normal((4, 7))
    np.testing.assert_array_equal(F.relu(striate.tensor(x)).array, np.maximum(x, 0))
    assert F.relu(striate.tensor(x)).array.flags.c_contiguous
