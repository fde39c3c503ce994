"""batch_norm on channels-last memory (the NCHW views the convolution kernels hand out): the same
values and gradients as on NCHW-contiguous input, and the output keeps the input's layout; with
the compiled loops (numba) and with the NumPy path."""

from __future__ import annotations

import numpy as np
import pytest
import striate.functional as F

import striate
from striate.kernels import compiled

PATHS = ["numpy"] + (["compiled"] if compiled.available() else [])

RNG = np.random.default_rng(7)


def channels_last(a):
    """The same values as a, in channels-last memory, as an (N, C, *) view."""
    return np.moveaxis(np.ascontiguousarray(np.moveaxis(a, 1, -1)), -1, 1)


def run(x, g, w, b, rm, rv, training):
    xt = striate.tensor(x, requires_grad=True)
    seen = []  # dx as batch_norm hands it back (a leaf's .grad is a fresh C-order copy)
    xt.register_hook(lambda d: seen.append(d.array))
    wt, bt = striate.tensor(w, requires_grad=True), striate.tensor(b, requires_grad=True)
    rmt, rvt = striate.tensor(rm.copy()), striate.tensor(rv.copy())
    y = F.batch_norm(xt, rmt, rvt, wt, bt, training=training)
    (y * striate.tensor(g)).sum().backward()
    return y.array, seen[0], wt.grad.array, bt.grad.array, rmt.array, rvt.array


# odd channel counts and pixel counts whose factors do not fit 1024 / C evenly
@pytest.mark.parametrize("shape", [(4, 3, 5, 7), (3, 16, 6, 6), (2, 5, 3, 4, 3), (6, 7, 11)])
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("grad_layout", ["contiguous", "channels-last"])
@pytest.mark.parametrize("path", PATHS)
def test_channels_last_input_matches_contiguous(shape, training, grad_layout, path, monkeypatch):
    monkeypatch.setattr(compiled, "USE_COMPILED", path == "compiled")
    c = shape[1]
    x = RNG.standard_normal(shape) * 2 + 1
    g = RNG.standard_normal(shape)
    w, b = RNG.standard_normal(c), RNG.standard_normal(c)
    rm, rv = RNG.standard_normal(c), RNG.random(c) + 0.5
    xl = channels_last(x)
    assert not xl.flags.c_contiguous and np.moveaxis(xl, 1, -1).flags.c_contiguous
    gl = channels_last(g) if grad_layout == "channels-last" else g
    want = run(x, g, w, b, rm, rv, training)
    got = run(xl, gl, w, b, rm, rv, training)
    for name, a, e in zip(("y", "dx", "dw", "db", "running_mean", "running_var"), got, want):
        assert a.shape == e.shape, name
        np.testing.assert_allclose(a, e, rtol=1e-10, atol=1e-10, err_msg=name)
    assert np.moveaxis(got[0], 1, -1).flags.c_contiguous  # y stays channels-last
    assert np.moveaxis(got[1], 1, -1).flags.c_contiguous  # so does dx


@pytest.mark.parametrize("path", PATHS)
def test_channels_last_float32_stays_float32(path, monkeypatch):
    monkeypatch.setattr(compiled, "USE_COMPILED", path == "compiled")
    x = channels_last(RNG.standard_normal((8, 16, 4, 4)).astype(np.float32))
    xt = striate.tensor(x, requires_grad=True)
    y = F.batch_norm(xt, None, None, training=True)
    y.sum().backward()
    assert y.dtype == np.float32 and xt.grad.dtype == np.float32
    np.testing.assert_allclose(y.array.mean((0, 2, 3)), 0, atol=1e-5)
