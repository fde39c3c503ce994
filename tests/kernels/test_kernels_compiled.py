"""The compiled loops (numba) against the NumPy paths they replace: ReLU and 2x2 max pooling.

Every case runs with ``compiled.USE_COMPILED`` on and off; results must be identical (these
kernels only select and copy values, so no rounding differs)."""

from __future__ import annotations

import numpy as np
import pytest

import striate
from striate import functional as F
from striate.kernels import compiled, max_pool_backward, max_pool_forward

RNG = np.random.default_rng(11)

needs_numba = pytest.mark.skipif(not compiled.available(),
                                 reason="numba is not installed (the 'fast' extra)")


def channels_last(x):
    return np.ascontiguousarray(x.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)


def both_paths(fn, monkeypatch):
    """fn() with the compiled loops, then with NumPy: the two results."""
    out = []
    for use in (True, False):
        monkeypatch.setattr(compiled, "USE_COMPILED", use)
        out.append(fn())
    return out


def relu_fwd_bwd(x, g):
    xt = striate.tensor(x, requires_grad=True)
    y = F.relu(xt)
    y.backward(striate.tensor(g))
    return y.array, xt.grad.array


@needs_numba
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("layout", ["contiguous", "channels-last", "strided", "2-d"])
def test_relu_compiled_matches_numpy(layout, dtype, monkeypatch):
    x = RNG.standard_normal((3, 5, 4, 6)).astype(dtype)
    x[0, 0, 0, :3] = 0.0  # the gradient at 0 is 0
    g = RNG.standard_normal(x.shape).astype(dtype)
    if layout == "channels-last":
        x = channels_last(x)
    elif layout == "strided":
        x, g = x[:, :, ::2], g[:, :, ::2]
    elif layout == "2-d":
        x, g = x.reshape(15, 24), g.reshape(15, 24)
    (y1, dx1), (y0, dx0) = both_paths(lambda: relu_fwd_bwd(x, g), monkeypatch)
    for a, b in ((y1, y0), (dx1, dx0)):
        assert a.dtype == dtype and a.shape == x.shape
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(y1, np.maximum(x, 0))
    np.testing.assert_array_equal(dx1, g * (x > 0))


@needs_numba
def test_relu_compiled_keeps_nan_and_layout(monkeypatch):
    monkeypatch.setattr(compiled, "USE_COMPILED", True)
    x = channels_last(RNG.standard_normal((2, 4, 3, 3)).astype(np.float32))
    x[0, 1, 2, 2] = np.nan
    # the upstream gradient in the other (NCHW) layout
    y, dx = relu_fwd_bwd(x, np.ones(x.shape, np.float32))
    assert np.isnan(y[0, 1, 2, 2]) and np.isnan(y).sum() == 1
    assert dx[0, 1, 2, 2] == 0  # as PyTorch: no gradient through a NaN
    assert np.moveaxis(y, 1, -1).flags.c_contiguous  # y stays channels-last


def pool_fwd_bwd(x, g_seed=0):
    out, cache = max_pool_forward(x, 2, 2)
    g = np.random.default_rng(g_seed).standard_normal(out.shape).astype(x.dtype)
    return out, cache.arg, max_pool_backward(g, cache)


@needs_numba
@pytest.mark.parametrize("shape", [(2, 3, 8, 8), (2, 5, 7, 9), (1, 16, 2, 3), (3, 2, 1, 4)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_max_pool_2x2_compiled_matches_numpy(shape, dtype, monkeypatch):
    # small integers: many ties, which must go to the first maximum on both paths; odd sizes
    # drop the last row / column, whose gradient must be zero
    x = channels_last(RNG.integers(0, 3, size=shape).astype(dtype))
    if shape[2] < 2:
        with pytest.raises(ValueError):
            F.max_pool2d(striate.tensor(x), 2)
        return
    got, want = both_paths(lambda: pool_fwd_bwd(x), monkeypatch)
    for a, b, name in zip(got, want, ("out", "codes", "dx")):
        assert a.shape == b.shape and a.dtype == b.dtype, name
        np.testing.assert_array_equal(a, b, err_msg=name)
    assert np.moveaxis(got[2], 1, -1).flags.c_contiguous


@needs_numba
def test_max_pool_2x2_compiled_nan_wins_as_in_pytorch(monkeypatch):
    monkeypatch.setattr(compiled, "USE_COMPILED", True)
    x = channels_last(np.zeros((1, 2, 4, 4)))
    x[0, 0, 1, 1] = np.nan
    out, _, dx = pool_fwd_bwd(x)
    assert np.isnan(out[0, 0, 0, 0]) and np.isfinite(np.delete(out.ravel(), 0)).all()
    assert dx[0, 0, 1, 1] != 0 and (dx[0, 0, :2, :2] != 0).sum() == 1


def test_max_pool_2x2_against_pytorch(monkeypatch):
    torch = pytest.importorskip("torch")
    use = compiled.available()  # the compiled path where numba imports, whatever the array size
    monkeypatch.setattr(compiled, "USE_COMPILED", use)
    x = channels_last(RNG.standard_normal((4, 8, 10, 6)).astype(np.float32))
    x[1, 2, 3, 3] = np.nan
    out, cache = max_pool_forward(x, 2, 2)
    g = RNG.standard_normal(out.shape).astype(np.float32)
    dx = max_pool_backward(g, cache)
    xt = torch.tensor(x, requires_grad=True)
    ot = torch.nn.functional.max_pool2d(xt, 2)
    ot.backward(torch.tensor(g))
    np.testing.assert_array_equal(out, ot.detach().numpy())
    if use:  # the NumPy path sends a NaN window's gradient nowhere
        np.testing.assert_array_equal(dx, xt.grad.numpy())


@needs_numba
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kernel,out_hw", [((2, 2), (6, 7)), ((3, 2), (4, 5))])
def test_fractional_max_pool_compiled_matches_numpy(dtype, kernel, out_hw, monkeypatch):
    from striate.kernels.pool_extra import (
        fractional_max_pool_backward,
        fractional_max_pool_forward,
    )

    x = RNG.integers(0, 3, size=(2, 3, 9, 10)).astype(dtype)  # ties: the first maximum wins
    x[1, 2, 4, 4] = x[1, 2, 4, 5] = np.nan  # NaNs: the last one wins, as in PyTorch
    samples = RNG.random((2, 3, 2)).astype(dtype)
    g = RNG.standard_normal((2, 3) + out_hw).astype(dtype)

    def run():
        out, idx, cache = fractional_max_pool_forward(x, kernel, out_hw, samples)
        return out, idx, fractional_max_pool_backward(g, cache)

    got, want = both_paths(run, monkeypatch)
    for a, b, name in zip(got, want, ("out", "indices", "dx")):
        assert a.shape == b.shape and a.dtype == b.dtype, name
        if name == "dx":  # overlapping windows add up: float32 sums round differently
            np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6, err_msg=name)
        else:
            np.testing.assert_array_equal(a, b, err_msg=name)


@pytest.mark.parametrize("use", [True, False])
def test_relu_backward_survives_an_inplace_change_of_its_output(use, monkeypatch):
    monkeypatch.setattr(compiled, "USE_COMPILED", use)
    x = striate.tensor(RNG.standard_normal((2, 3, 4, 4)), requires_grad=True)
    y = F.relu(x)
    y.add_(5.0)  # every output is now positive; the gradient must still follow x > 0
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.array, (x.array > 0).astype(np.float64))


@needs_numba
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_roi_pool_compiled_matches_numpy(dtype, monkeypatch):
    from striate.detect.ops import roi_pool

    x = RNG.integers(0, 3, size=(2, 3, 9, 10)).astype(dtype)  # ties: the first maximum wins
    x[1, 2, 4, 4] = x[1, 2, 4, 5] = np.nan  # NaNs: the first one wins, as NumPy's argmax
    x[0, 1, :3, :3] = -np.inf  # a bin of -inf only: zero, and no gradient
    boxes = RNG.uniform(-4, 22, size=(13, 4))
    boxes[:, 2:] = np.maximum(boxes[:, 2:], boxes[:, :2])
    boxes[0] = [30, 30, 40, 40]  # outside the map: every bin empty
    rois = np.concatenate([RNG.integers(0, 2, (13, 1)).astype(np.float64), boxes], 1)
    g = RNG.standard_normal((13, 3, 3, 2)).astype(dtype)

    def run():
        xt = striate.tensor(x, requires_grad=True)
        out = roi_pool(xt, rois, (3, 2), spatial_scale=0.5)
        out.backward(striate.tensor(g))
        return out.array, xt.grad.array

    got, want = both_paths(run, monkeypatch)
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_allclose(got[1], want[1], rtol=1e-6, atol=1e-6)  # overlapping bins add up
