"""Elementwise ops: gradients in float64, PyTorch parity, broadcasting, dtypes, odd layouts."""

from __future__ import annotations

import numpy as np
import pytest
from opcheck import check_both as check
from opcheck import check_op

import striate
from striate import functional as F

RNG = np.random.default_rng(0)


def randn(*shape):
    return RNG.standard_normal(shape)


def away_from_zero(*shape, margin=0.1):
    """Normal samples with |x| >= margin, so kinks (abs, clip, maximum) are never straddled."""
    x = randn(*shape)
    return np.where(np.abs(x) < margin, np.sign(x + 1e-12) * margin * 2, x)


def positive(*shape):
    return RNG.uniform(0.5, 2.0, shape)


def assert_float32(fn, *arrays):
    """fn on float32 inputs gives a float32 output and float32 gradients."""
    xs = [striate.tensor(a.astype(np.float32), requires_grad=True) for a in arrays]
    out = fn(*xs)
    assert out.dtype == np.float32, f"output dtype {out.dtype}"
    out.sum().backward()
    for i, x in enumerate(xs):
        assert x.grad is not None, f"input {i} got no gradient"
        assert x.grad.dtype == np.float32, f"input {i} gradient dtype {x.grad.dtype}"
        assert x.grad.shape == x.shape


# ---- arithmetic ----


@pytest.mark.parametrize(
    "name, f",
    [
        ("add", lambda m, a, b: m.add(a, b)),
        ("add_alpha", lambda m, a, b: m.add(a, b, alpha=2.5)),
        ("sub", lambda m, a, b: m.sub(a, b)),
        ("mul", lambda m, a, b: m.mul(a, b)),
        ("div", lambda m, a, b: m.div(a, b)),
        ("operators", lambda m, a, b: (a + b) * a - b / (a * a + 1)),
    ],
)
def test_binary_same_shape(name, f):
    check(f, [randn(3, 4), positive(3, 4)])


def test_neg():
    out = check(lambda m, a: m.neg(a), [randn(2, 3)])
    check(lambda m, a: -a, [randn(2, 3)])
    assert out.shape == (2, 3)


def test_div_values():
    a, b = randn(2, 3), positive(2, 3)
    out = check_op(lambda x, y: x / y, [a, b])
    np.testing.assert_allclose(out, a / b)


@pytest.mark.parametrize(
    "shape_a, shape_b",
    [((3, 1, 4), (2, 4)), ((2, 4), (3, 1, 4)), ((4,), (3, 4)), ((3, 1), (1, 5)), ((), (2, 3))],
)
@pytest.mark.parametrize("op", ["add", "sub", "mul", "div"])
def test_broadcasting(shape_a, shape_b, op):
    f = {
        "add": lambda m, a, b: a + b,
        "sub": lambda m, a, b: a - b,
        "mul": lambda m, a, b: a * b,
        "div": lambda m, a, b: a / b,
    }[op]
    out = check(f, [randn(*shape_a), positive(*shape_b)])
    assert out.shape == np.broadcast_shapes(shape_a, shape_b)


def test_broadcast_gradient_is_summed_to_input_shape():
    a = striate.tensor(np.ones((3, 1, 4)), requires_grad=True)
    b = striate.tensor(np.ones((2, 4)), requires_grad=True)
    (a * b).sum().backward()
    assert a.grad.shape == (3, 1, 4) and b.grad.shape == (2, 4)
    np.testing.assert_allclose(a.grad.array, np.full((3, 1, 4), 2.0))  # summed over the 2
    np.testing.assert_allclose(b.grad.array, np.full((2, 4), 3.0))  # summed over the 3


@pytest.mark.parametrize(
    "f",
    [
        lambda m, a: a + 2.0,
        lambda m, a: 2.0 + a,
        lambda m, a: a - 3.0,
        lambda m, a: 3.0 - a,
        lambda m, a: a * 1.5,
        lambda m, a: 1.5 * a,
        lambda m, a: a / 4.0,
        lambda m, a: 4.0 / a,
        lambda m, a: 2 * a + 1,
    ],
)
def test_python_scalar_both_sides(f):
    check(f, [positive(3, 2)])
    assert_float32(lambda a: f(striate, a), positive(3, 2))


@pytest.mark.parametrize("scalar", [2.0, 2, np.float64(2.0), np.float32(2.0), np.int64(2)])
def test_scalar_keeps_float32(scalar):
    x = striate.tensor(positive(4).astype(np.float32), requires_grad=True)
    for y in (
        x + scalar,
        scalar + x,
        x * scalar,
        scalar * x,
        x - scalar,
        scalar - x,
        x / scalar,
        scalar / x,
        x**scalar,
    ):
        assert y.dtype == np.float32, f"{type(scalar).__name__} scalar gave {y.dtype}"


def test_zero_dim_tensor_operand():
    check(lambda m, a, s: a * s + s, [randn(2, 3), np.array(1.7)])


# ---- pow ----


@pytest.mark.parametrize("exponent", [2, 3, 0.5, -1.5, 1])
def test_pow_tensor_scalar(exponent):
    check(lambda m, a: a**exponent, [positive(3, 4)])
    check(lambda m, a: m.pow(a, exponent), [positive(3, 4)])


def test_pow_integer_exponent_negative_base():
    check(lambda m, a: a**3, [away_from_zero(3, 4)])


def test_pow_scalar_tensor():
    check(lambda m, a: 2.0**a, [randn(3, 4)])
    check(lambda m, a: m.pow(0.7, a), [randn(3, 4)])


def test_pow_tensor_tensor_positive_base():
    check(lambda m, a, b: a**b, [positive(3, 4), randn(3, 4)])
    check(lambda m, a, b: m.pow(a, b), [positive(3, 1), randn(2, 1, 4)])


def test_pow_float32():
    assert_float32(lambda a, b: a**b, positive(3), randn(3))
    assert_float32(lambda a: a**2, randn(3))
    assert_float32(lambda a: 3.0**a, randn(3))


# ---- unary ----


@pytest.mark.parametrize(
    "name, f, make",
    [
        ("exp", lambda m, a: m.exp(a), randn),
        ("log", lambda m, a: m.log(a), positive),
        ("sqrt", lambda m, a: m.sqrt(a), positive),
        ("abs", lambda m, a: m.abs(a), away_from_zero),
        ("exp_method", lambda m, a: a.exp(), randn),
        ("log_method", lambda m, a: a.log(), positive),
        ("sqrt_method", lambda m, a: a.sqrt(), positive),
        ("abs_builtin", lambda m, a: abs(a), away_from_zero),
    ],
)
def test_unary(name, f, make):
    check(f, [make(3, 5)])
    assert_float32(lambda a: f(striate, a), make(3, 5))


def test_unary_values():
    a = positive(7)
    np.testing.assert_allclose(check_op(F.exp, [a]), np.exp(a))
    np.testing.assert_allclose(check_op(F.log, [a]), np.log(a))
    np.testing.assert_allclose(check_op(F.sqrt, [a]), np.sqrt(a))


def test_abs_gradient_at_zero_is_zero():
    x = striate.tensor(np.array([-2.0, 0.0, 3.0]), requires_grad=True)
    F.abs(x).sum().backward()
    np.testing.assert_array_equal(x.grad.array, [-1.0, 0.0, 1.0])


@pytest.mark.parametrize(
    "f",
    [
        lambda m, a: m.clip(a, -0.5, 0.7),
        lambda m, a: m.clamp(a, min=-0.5),
        lambda m, a: m.clamp(a, max=0.3),
        lambda m, a: a.clamp(-0.2, 0.2),
    ],
)
def test_clip(f):
    x = randn(4, 5)
    x[np.abs(np.abs(x) - 0.5) < 0.05] = 1.5  # keep away from the clipping edges
    x[np.abs(x - 0.7) < 0.05] = 1.5
    x[np.abs(np.abs(x) - 0.2) < 0.05] = 1.5
    x[np.abs(x - 0.3) < 0.05] = 1.5
    check(f, [x])


def test_clip_gradient_is_zero_where_clipped():
    x = striate.tensor(np.array([-2.0, -0.5, 0.0, 0.5, 2.0]), requires_grad=True)
    y = F.clip(x, -1.0, 1.0)
    np.testing.assert_array_equal(y.array, [-1.0, -0.5, 0.0, 0.5, 1.0])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.array, [0, 1, 1, 1, 0])


def test_clip_needs_a_bound():
    with pytest.raises(ValueError, match="min and max"):
        F.clip(striate.ones(2), None, None)


@pytest.mark.parametrize("name", ["maximum", "minimum"])
def test_maximum_minimum(name):
    a, b = randn(3, 4), randn(3, 4)
    b[np.abs(a - b) < 0.05] += 0.2  # no ties: the subgradient convention is then irrelevant
    check(lambda m, x, y: getattr(m, name)(x, y), [a, b])
    c = randn(4)
    check(lambda m, x, y: getattr(m, name)(x, y), [a, c + 0.013])


def test_maximum_float32():
    assert_float32(F.maximum, randn(3, 4), randn(4))
    assert_float32(F.minimum, randn(3, 4), randn(3, 1))


def test_where():
    cond = RNG.random((3, 4)) > 0.5
    check(lambda m, c, a, b: m.where(c, a, b), [cond, randn(3, 4), randn(3, 4)])
    check(lambda m, c, a, b: m.where(c, a, b), [cond, randn(3, 1), randn(4)])


def test_where_gradients_split_by_condition():
    cond = striate.tensor(np.array([True, False, True]))
    a = striate.tensor(np.ones(3), requires_grad=True)
    b = striate.tensor(np.ones(3), requires_grad=True)
    F.where(cond, a, b).sum().backward()
    np.testing.assert_array_equal(a.grad.array, [1, 0, 1])
    np.testing.assert_array_equal(b.grad.array, [0, 1, 0])


def test_where_rejects_non_bool_condition():
    with pytest.raises(TypeError, match="condition must be a bool"):
        F.where(striate.tensor([1.0, 0.0]), striate.ones(2), striate.zeros(2))


# ---- cast / clone ----


def test_cast_and_clone_gradients():
    check_op(lambda a: F.cast(a, np.float64) * 3.0, [randn(2, 3)])
    check_op(lambda a: F.clone(a) * a, [randn(2, 3)])
    check(lambda m, a: a.clone() * 2.0, [randn(2, 3)])


def test_cast_gradient_comes_back_in_source_dtype():
    x = striate.tensor(np.array([1.0, 2.0], dtype=np.float32), requires_grad=True)
    y = x.double()
    assert y.dtype == np.float64
    (y * y).sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_allclose(x.grad.array, [2.0, 4.0])


def test_cast_to_int_does_not_require_grad():
    x = striate.tensor(np.array([1.7, -2.2]), requires_grad=True)
    y = x.long()
    assert y.dtype == np.int64 and y.tolist() == [1, -2]
    assert not y.requires_grad


def test_clone_is_a_copy():
    x = striate.tensor(np.arange(4.0))
    y = x.clone()
    y.array[0] = 100.0
    assert x.array[0] == 0.0


# ---- layouts and errors ----


@pytest.mark.parametrize(
    "f",
    [
        lambda m, a, b: a.transpose(0, 1) * b,
        lambda m, a, b: m.exp(a.transpose(0, 1)) + b,
        lambda m, a, b: m.maximum(a.transpose(0, 1), b),
        lambda m, a, b: m.sqrt(m.abs(a.transpose(0, 1)) + 1) / (b * b + 1),
    ],
)
def test_non_contiguous_inputs(f):
    a, b = randn(4, 3), randn(3, 4)
    b[np.abs(a.T - b) < 0.05] += 0.2
    check(f, [a, b])


def test_non_contiguous_numpy_input():
    a = np.asfortranarray(randn(3, 4))
    b = randn(4, 3).T  # a transposed view
    assert not a.flags.c_contiguous and not b.flags.c_contiguous
    check(lambda m, x, y: x * y + m.exp(x), [a, b])


def test_bad_operand_type_is_named():
    with pytest.raises(TypeError, match="mul: expected a Tensor or a number, got str"):
        F.mul(striate.ones(2), "2")


def test_comparisons_are_bool_and_not_differentiable():
    x = striate.tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    for y, want in [
        (x > 2, [0, 0, 1]),
        (x <= 2, [1, 1, 0]),
        (x == 2, [0, 1, 0]),
        (x != 2, [1, 0, 1]),
        (x < 2.5, [1, 1, 0]),
        (x >= 1, [1, 1, 1]),
    ]:
        assert y.dtype == np.bool_ and not y.requires_grad
        np.testing.assert_array_equal(y.array, np.array(want, dtype=bool))
