"""Activations: sigmoid, tanh, relu, leaky_relu, prelu, elu, maxout, softmax, log_softmax."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from opcheck import check_nn, check_op

import striate
from striate import functional as F

RNG = np.random.default_rng(4)


def randn(*shape):
    return RNG.standard_normal(shape)


def away_from_zero(*shape):
    x = randn(*shape)
    return np.where(np.abs(x) < 0.05, 0.3, x)


@pytest.mark.parametrize(
    "name, f",
    [
        ("sigmoid", lambda m, x: m.sigmoid(x)),
        ("tanh", lambda m, x: m.tanh(x)),
        ("relu", lambda m, x: m.relu(x)),
        ("leaky_relu", lambda m, x: m.leaky_relu(x)),
        ("leaky_relu_0.2", lambda m, x: m.leaky_relu(x, negative_slope=0.2)),
        ("elu", lambda m, x: m.elu(x)),
        ("elu_0.7", lambda m, x: m.elu(x, alpha=0.7)),
        ("sigmoid_method", lambda m, x: x.sigmoid()),
        ("tanh_method", lambda m, x: x.tanh()),
        ("relu_method", lambda m, x: x.relu()),
    ],
)
def test_elementwise_activations(name, f):
    check_nn(f, [away_from_zero(3, 5)])
    check_nn(f, [away_from_zero(4, 2).T])  # a non-contiguous input
    x = striate.tensor(away_from_zero(3, 5).astype(np.float32), requires_grad=True)
    y = f(F, x)
    assert y.dtype == np.float32
    y.sum().backward()
    assert x.grad.dtype == np.float32


def test_reference_values():
    x = np.array([-2.0, -0.5, 0.5, 3.0])
    np.testing.assert_allclose(check_op(F.sigmoid, [x]), 1 / (1 + np.exp(-x)))
    np.testing.assert_allclose(check_op(F.tanh, [x]), np.tanh(x))
    np.testing.assert_array_equal(check_op(F.relu, [x]), [0, 0, 0.5, 3.0])
    np.testing.assert_allclose(
        check_op(lambda t: F.leaky_relu(t, 0.1), [x]), [-0.2, -0.05, 0.5, 3.0]
    )
    np.testing.assert_allclose(
        check_op(lambda t: F.elu(t, 2.0), [x]), np.where(x > 0, x, 2.0 * (np.exp(x) - 1))
    )


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_large_inputs_no_overflow(dtype):
    x = striate.tensor(
        np.array([-1e4, -800.0, -100.0, 0.0, 100.0, 800.0, 1e4], dtype=dtype), requires_grad=True
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an overflow RuntimeWarning fails the test
        y = F.sigmoid(x)
        y.sum().backward()
    assert y.dtype == dtype
    assert np.all(np.isfinite(y.array)) and np.all(np.isfinite(x.grad.array))
    np.testing.assert_allclose(y.array, [0, 0, 0, 0.5, 1, 1, 1], atol=1e-30)
    assert np.all((y.array >= 0) & (y.array <= 1))
    assert np.all(x.grad.array >= 0) and x.grad.array[3] == 0.25


def test_tanh_large_inputs():
    x = striate.tensor(np.array([-1e4, 1e4]), requires_grad=True)
    y = F.tanh(x)
    y.sum().backward()
    np.testing.assert_array_equal(y.array, [-1.0, 1.0])
    np.testing.assert_array_equal(x.grad.array, [0.0, 0.0])


def test_relu_gradient_at_zero_is_zero():
    x = striate.tensor(np.array([-1.0, 0.0, 2.0]), requires_grad=True)
    F.relu(x).sum().backward()
    np.testing.assert_array_equal(x.grad.array, [0.0, 0.0, 1.0])


@pytest.mark.parametrize("shape", [(4, 3), (2, 3, 5), (2, 3, 4, 4)])
def test_prelu_per_channel(shape):
    x, w = away_from_zero(*shape), RNG.uniform(0.05, 0.5, 3)
    check_nn(lambda m, a, b: m.prelu(a, b), [x, w])


@pytest.mark.parametrize("shape", [(4, 3), (2, 3, 5), (6,)])
def test_prelu_shared(shape):
    x, w = away_from_zero(*shape), np.array([0.25])
    out = check_nn(lambda m, a, b: m.prelu(a, b), [x, w])
    np.testing.assert_allclose(out, np.where(x > 0, x, 0.25 * x))


def test_prelu_bad_weight_named():
    with pytest.raises(
        ValueError,
        match=r"prelu: weight has 2 values but input has 3 channels "
        r"\(input shape \(4, 3\)\)",
    ):
        F.prelu(striate.ones(4, 3), striate.ones(2))


@pytest.mark.parametrize(
    "shape, pool, dim", [((4, 6), 2, 1), ((4, 6), 3, -1), ((2, 6, 3), 3, 1), ((6, 5), 2, 0)]
)
def test_maxout(shape, pool, dim):
    x = randn(*shape)
    d = dim % len(shape)
    grouped = shape[:d] + (shape[d] // pool, pool) + shape[d + 1 :]

    def torch_fn(a):
        return a.reshape(grouped).amax(dim=d + 1)

    out = check_op(lambda a: F.maxout(a, pool, dim=dim), [x], torch_fn=torch_fn)
    np.testing.assert_array_equal(out, x.reshape(grouped).max(axis=d + 1))


def test_maxout_bad_pool_size():
    with pytest.raises(
        ValueError, match="maxout: dim 1 has 5 features, not a multiple of pool_size 2"
    ):
        F.maxout(striate.ones(3, 5), 2)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize("dim", [0, 1, 2, -1])
def test_softmax_any_dim(name, dim):
    x = randn(2, 3, 4)
    out = check_nn(lambda m, a: getattr(m, name)(a, dim=dim), [x])
    e = np.exp(x - x.max(axis=dim, keepdims=True))
    sm = e / e.sum(axis=dim, keepdims=True)
    np.testing.assert_allclose(out, sm if name == "softmax" else np.log(sm), atol=1e-12)
    check_nn(lambda m, a: getattr(m, name)(a.transpose(0, 2), dim=dim), [x])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_huge_inputs_stable(name, dtype):
    base = np.array([[0.0, 1.0, 2.0], [-3.0, 0.0, 3.0]])
    shift = np.array([[1e4], [-1e4]])
    x = striate.tensor((base + shift).astype(dtype), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = getattr(F, name)(x, dim=1)
        (y * striate.tensor(np.array([1.0, 2.0, 3.0], dtype=dtype))).sum().backward()
    ref = getattr(F, name)(striate.tensor(base.astype(dtype)), dim=1)
    assert y.dtype == dtype and x.grad.dtype == dtype
    assert np.all(np.isfinite(y.array)) and np.all(np.isfinite(x.grad.array))
    np.testing.assert_allclose(y.array, ref.array, rtol=1e-5, atol=1e-6)


def test_softmax_methods():
    x = randn(3, 4)
    check_op(
        lambda a: a.softmax(1) + a.log_softmax(0),
        [x],
        torch_fn=lambda a: a.softmax(1) + a.log_softmax(0),
    )


def test_softmax_without_dim_raises():
    x = striate.ones(2, 3)
    with pytest.raises(TypeError, match="softmax: dim must be given"):
        F.softmax(x)
    with pytest.raises(TypeError, match="log_softmax: dim must be given"):
        F.log_softmax(x)
    with pytest.raises(IndexError, match="softmax: dim 2 is out of range"):
        F.softmax(x, dim=2)
