"""Pooling kernels against the loop-based reference: odd shapes, ties, NaN, layouts."""

from __future__ import annotations

import numpy as np
import pytest

from striate.kernels import (
    avg_pool_backward,
    avg_pool_backward_naive,
    avg_pool_forward,
    avg_pool_forward_naive,
    max_pool_backward,
    max_pool_backward_naive,
    max_pool_forward,
    max_pool_forward_naive,
)

RNG = np.random.default_rng(2)

# (x shape, kernel, stride, pad): the non-overlapping fast case, a remainder it drops, overlapping
# windows with padding, non-square everything, stride > kernel (gaps), and a 9x9 window (81 > 64
# elements, the argmax path)
CASES = [
    ((2, 3, 8, 8), 2, None, 0),
    ((2, 3, 7, 9), 2, None, 0),
    ((2, 3, 7, 9), 3, 2, 1),
    ((1, 4, 7, 10), (2, 3), (1, 2), (1, 1)),
    ((2, 2, 7, 7), 2, 3, 0),
    ((1, 2, 9, 11), 9, 1, 0),
    ((2, 5, 6, 6), (3, 1), (3, 1), 0),
]


@pytest.mark.parametrize("shape,kernel,stride,pad", CASES)
def test_max_pool_matches_naive(shape, kernel, stride, pad):
    x = RNG.standard_normal(shape)
    out, cache = max_pool_forward(x, kernel, stride, pad)
    ref, ref_cache = max_pool_forward_naive(x, kernel, stride, pad)
    np.testing.assert_array_equal(out, ref)
    dout = RNG.standard_normal(out.shape)
    np.testing.assert_allclose(
        max_pool_backward(dout, cache), max_pool_backward_naive(dout, ref_cache), atol=1e-12
    )


@pytest.mark.parametrize("count_include_pad", [True, False])
@pytest.mark.parametrize("shape,kernel,stride,pad", CASES)
def test_avg_pool_matches_naive(shape, kernel, stride, pad, count_include_pad):
    x = RNG.standard_normal(shape)
    out, cache = avg_pool_forward(x, kernel, stride, pad, count_include_pad)
    ref, ref_cache = avg_pool_forward_naive(x, kernel, stride, pad, count_include_pad)
    np.testing.assert_allclose(out, ref, atol=1e-12)
    dout = RNG.standard_normal(out.shape)
    np.testing.assert_allclose(
        avg_pool_backward(dout, cache), avg_pool_backward_naive(dout, ref_cache), atol=1e-12
    )


@pytest.mark.parametrize("kernel,stride,pad", [(2, None, 0), (3, 2, 1), (9, 1, 0)])
def test_ties_send_the_gradient_to_the_first_maximum_only(kernel, stride, pad):
    x = RNG.integers(0, 3, size=(2, 3, 9, 9)).astype(np.float64)  # many ties
    out, cache = max_pool_forward(x, kernel, stride, pad)
    dout = RNG.standard_normal(out.shape)
    dx = max_pool_backward(dout, cache)
    _, ref_cache = max_pool_forward_naive(x, kernel, stride, pad)
    np.testing.assert_allclose(dx, max_pool_backward_naive(dout, ref_cache), atol=1e-12)
    # a constant input: every window's gradient lands on its top-left element
    c = np.zeros((1, 1, 4, 4))
    out, cache = max_pool_forward(c, 2)
    dx = max_pool_backward(np.ones(out.shape), cache)
    np.testing.assert_array_equal(dx[0, 0], [[1, 0, 1, 0], [0, 0, 0, 0]] * 2)


def test_nan_propagates_to_the_output():
    x = np.zeros((1, 1, 4, 4))
    x[0, 0, 1, 2] = np.nan
    out, _ = max_pool_forward(x, 2)
    assert np.isnan(out[0, 0, 0, 1]) and np.isfinite(np.delete(out.ravel(), 1)).all()


def test_float32_and_layouts():
    x = RNG.standard_normal((2, 3, 6, 6)).astype(np.float32)
    channels_last = np.ascontiguousarray(x.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)
    for fwd, bwd in ((max_pool_forward, max_pool_backward), (avg_pool_forward, avg_pool_backward)):
        want, _ = fwd(x, 2)
        for xv in (x, channels_last, x.transpose(0, 1, 3, 2).copy().transpose(0, 1, 3, 2)):
            out, cache = fwd(xv, 2)
            assert out.dtype == np.float32
            np.testing.assert_array_equal(out, want)
            dx = bwd(np.ones(out.shape, np.float32), cache)
            assert dx.dtype == np.float32 and dx.shape == x.shape


def test_inference_skips_the_winners():
    x = RNG.standard_normal((2, 3, 4, 4))
    out, cache = max_pool_forward(x, 2, need_grad=False)
    assert cache is None
    np.testing.assert_array_equal(out, max_pool_forward(x, 2)[0])
    with pytest.raises(ValueError, match="need_grad=False"):
        max_pool_backward(np.ones(out.shape), cache)


def test_avg_pool_divisor_override():
    x = RNG.standard_normal((1, 2, 4, 4))
    out, cache = avg_pool_forward(x, 2, divisor=3)
    np.testing.assert_allclose(out, avg_pool_forward(x, 2)[0] * 4 / 3)
    dx = avg_pool_backward(np.ones(out.shape), cache)
    np.testing.assert_allclose(dx, np.full(x.shape, 1 / 3))
