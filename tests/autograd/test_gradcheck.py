"""gradcheck itself: it passes correct backwards and catches wrong ones."""

from __future__ import annotations

import numpy as np
import pytest

import striate
from striate.autograd import (
    Function,
    gradcheck,
    gradcheck_errors,
    numerical_gradient,
    relative_error,
)


class Cube(Function):
    """x**3 with a correct backward."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x**3

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved
        return g * 3 * x * x


class WrongCube(Function):
    """x**3 with a deliberately wrong backward (2x^2 instead of 3x^2)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x**3

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved
        return g * 2 * x * x


class WrongSecondInput(Function):
    """a * b whose gradient for b has the wrong sign."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * b

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved
        return g * b, -g * a


def inputs(*shape, n=1):
    rng = np.random.default_rng(0)
    return [striate.tensor(rng.uniform(0.5, 2.0, shape), requires_grad=True) for _ in range(n)]


def test_correct_backward_passes():
    assert gradcheck(Cube.apply, inputs(3, 4))
    (err,) = gradcheck_errors(Cube.apply, inputs(3, 4))
    assert err < 1e-8


def test_wrong_backward_is_detected():
    with pytest.raises(AssertionError, match=r"gradcheck failed: inputs\[0\] shape \(3, 4\)"):
        gradcheck(WrongCube.apply, inputs(3, 4))
    assert gradcheck(WrongCube.apply, inputs(3, 4), raise_exception=False) is False
    (err,) = gradcheck_errors(WrongCube.apply, inputs(3, 4))
    assert err > 0.1  # 2 vs 3: relative error 1/5


def test_wrong_gradient_of_one_input_is_named():
    xs = inputs(5, n=2)
    with pytest.raises(AssertionError, match=r"inputs\[1\]") as info:
        gradcheck(WrongSecondInput.apply, xs)
    assert "inputs[0]" not in str(info.value)
    errs = gradcheck_errors(WrongSecondInput.apply, xs)
    assert errs[0] < 1e-8 and errs[1] == pytest.approx(1.0)


def test_inputs_not_requiring_grad_are_skipped():
    a, b = inputs(4, n=2)
    b.requires_grad = False
    errs = gradcheck_errors(lambda x, y: x * y, [a, b])
    assert errs[0] < 1e-8 and errs[1] is None


def test_gradcheck_needs_float64():
    x = striate.tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    with pytest.raises(TypeError, match=r"inputs\[0\] has dtype float32; .* float64"):
        gradcheck(lambda t: t * 2.0, [x])


def test_gradcheck_leaves_inputs_unchanged():
    (x,) = inputs(3, 2)
    before = x.array.copy()
    gradcheck(lambda t: striate.exp(t).sum(1), [x])
    np.testing.assert_array_equal(x.array, before)


def test_numerical_gradient_and_relative_error():
    x = np.array([0.5, -1.0, 2.0])
    g = numerical_gradient(lambda: np.sum(np.sin(x)), x)
    np.testing.assert_allclose(g, np.cos(x), rtol=1e-8)
    g2 = numerical_gradient(lambda: np.sin(x) * 2.0, x)  # an array output: its sum
    np.testing.assert_allclose(g2, 2 * np.cos(x), rtol=1e-8)
    assert relative_error(np.array([1.0, 2.0]), np.array([1.0, 2.0])) == 0.0
    assert relative_error(np.array([1.0]), np.array([3.0])) == pytest.approx(0.5)
    assert relative_error(np.zeros(2), np.zeros(2)) == 0.0


def test_small_gradient_elements_are_accurate():
    # gradients that sum to zero have tiny elements; the numeric side must stay accurate there
    x = striate.tensor(np.random.default_rng(5).standard_normal((6, 8)), requires_grad=True)

    def normalize(t):
        mu = t.mean(0, keepdim=True)
        return (t - mu) / (t.var(0, keepdim=True, unbiased=False) + 1e-5).sqrt()

    (err,) = gradcheck_errors(normalize, [x])
    assert err < 1e-6
