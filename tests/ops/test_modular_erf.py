"""remainder / fmod / floor_divide (``%``, ``//``) and erf / erfc / erfinv: values against
PyTorch and Python's own operators, float64 gradient checks, dtypes and errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
from opcheck import check_both, check_op

import striate


def _away_from_jumps(rng, shape):
    """Dividends and divisors (both signs) whose quotient is at least 0.1 from an integer: the
    remainder jumps there, and a centred difference across a jump is no derivative."""
    b = rng.uniform(1.2, 2.5, shape) * rng.choice([-1.0, 1.0], shape)
    q = rng.integers(-4, 5, shape) + rng.uniform(0.1, 0.9, shape)
    return q * b, b


@pytest.mark.parametrize("name", ["remainder", "fmod"])
def test_remainder_fmod_values_and_gradients(name, rng):
    a, b = _away_from_jumps(rng, (3, 4))
    check_both(lambda lib, x, y: getattr(lib, name)(x, y), [a, b])
    # broadcast divisor, and a Python number on either side
    check_both(lambda lib, x, y: getattr(lib, name)(x, y), [a, b[:1]])
    check_both(lambda lib, x: getattr(lib, name)(x, -1.7), [a])
    check_both(lambda lib, x: getattr(lib, name)(x, 1.7) * 2, [a])


def test_rmod_and_rfloordiv_with_a_number_first(torch):
    b = np.array([1.5, -2.5, 3.0, -0.7])
    s, t = striate.tensor(b, requires_grad=True), torch.tensor(b, requires_grad=True)
    for f in (lambda x: 7.25 % x, lambda x: -7.25 % x, lambda x: 7 // x, lambda x: -7.5 // x):
        np.testing.assert_allclose(f(s).array, f(t).detach().numpy(), rtol=1e-12, atol=1e-12)
    # PyTorch has no derivative for a number % tensor; a 0-d tensor % tensor has one, and
    # striate gives that one for both
    (7.25 % s).sum().backward()
    torch.remainder(torch.tensor(7.25, dtype=torch.float64), t).sum().backward()
    np.testing.assert_allclose(s.grad.array, t.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_signs_follow_python_and_c():
    a = [7, -7, 7, -7, 6, -6]
    b = [3, 3, -3, -3, 3, -3]
    x, y = striate.tensor(a), striate.tensor(b)
    assert (x % y).tolist() == [p % q for p, q in zip(a, b)]
    assert (x // y).tolist() == [p // q for p, q in zip(a, b)]
    assert striate.fmod(x, y).tolist() == [int(math.fmod(p, q)) for p, q in zip(a, b)]
    # a == (a // b) * b + a % b, for floats too
    xf, yf = x.double() * 1.25, y.double() * 0.5
    np.testing.assert_allclose(((xf // yf) * yf + xf % yf).array, xf.array, atol=1e-12, rtol=0)


def test_float_edge_values_match_pytorch(torch):
    inf, nan = float("inf"), float("nan")
    a = np.array([-3.0, 3.0, -4.0, 4.0, 5.0, -0.0, 0.0, nan, inf, 2.5])
    b = np.array([inf, -inf, 2.0, -2.0, 0.0, 0.0, -3.0, 1.0, 2.0, -0.5])
    for name in ("remainder", "fmod", "floor_divide"):
        with np.errstate(all="ignore"):
            got = getattr(striate, name)(striate.tensor(a), striate.tensor(b)).array
        want = getattr(torch, name)(torch.tensor(a), torch.tensor(b)).numpy()
        np.testing.assert_array_equal(got, want, err_msg=name)
        # the sign of a zero result too (-4.0 % 2.0 is -0.0 in PyTorch)
        real = ~np.isnan(want)  # (a NaN's sign bit means nothing)
        np.testing.assert_array_equal(np.signbit(got[real]), np.signbit(want[real]), err_msg=name)


@pytest.mark.parametrize("dtypes", [("int64", "int64"), ("int32", "int64"), ("uint8", "uint8"),
                                    ("int32", "float32"), ("float16", "float64"),
                                    ("bool", "int64")])
def test_integer_dtypes_and_promotion(dtypes, torch, rng):
    a = rng.integers(-9, 10, (2, 5))
    b = rng.integers(1, 6, (5,)) * rng.choice([-1, 1], (5,))
    if "uint8" in dtypes:
        a, b = np.abs(a), np.abs(b)
    if dtypes[0] == "bool":
        a = a > 0
    a, b = a.astype(dtypes[0]), b.astype(dtypes[1])
    for name in ("remainder", "fmod", "floor_divide"):
        got = getattr(striate, name)(striate.tensor(a), striate.tensor(b))
        want = getattr(torch, name)(torch.tensor(a), torch.tensor(b))
        assert str(got.dtype) == str(want.dtype).removeprefix("torch."), name
        np.testing.assert_allclose(got.array, want.numpy(), rtol=1e-3, atol=1e-3, err_msg=name)
    # a Python number keeps the tensor's integer dtype; -3 into uint8 wraps as PyTorch casts it
    for other in (3, -3, 2.5):
        for name in ("remainder", "fmod", "floor_divide"):
            if dtypes[0] == "bool" and isinstance(other, int):
                continue  # PyTorch's Scalar rules for bool % int differ by op: not asserted here
            got = getattr(striate, name)(striate.tensor(a), other)
            want = getattr(torch, name)(torch.tensor(a), other)
            assert str(got.dtype) == str(want.dtype).removeprefix("torch."), (name, other)
            np.testing.assert_allclose(got.array, want.numpy(), rtol=1e-3, atol=1e-3)


def test_integer_division_by_zero_raises_and_bools_are_refused():
    x = striate.tensor([5, -5])
    for f in (lambda: x % 0, lambda: x // striate.tensor([1, 0]), lambda: striate.fmod(x, 0),
              lambda: 7 % striate.tensor([0, 1])):
        with pytest.raises(ZeroDivisionError, match="integer division by zero"):
            f()
    # an empty result divides nothing: no error (PyTorch's too)
    assert (striate.zeros(0, dtype=striate.int64) % striate.tensor([0])).shape == (0,)
    m = striate.tensor([True, False])
    with pytest.raises(TypeError, match="remainder: bool operands"):
        m % m
    with pytest.raises(TypeError, match="floor_divide: expected a Tensor"):
        striate.floor_divide(7, 2)
    with pytest.raises(ValueError, match="fmod"):
        striate.fmod(striate.ones(2, 3), striate.ones(4))


def test_floor_divide_gradient_is_zero(torch):
    x = striate.tensor([5.5, -3.2], requires_grad=True)
    y = striate.tensor([2.0, 1.5], requires_grad=True)
    (x // y).sum().backward()
    assert x.grad.tolist() == [0.0, 0.0] and y.grad.tolist() == [0.0, 0.0]


@pytest.mark.parametrize("name", ["erf", "erfc"])
def test_erf_erfc_values_and_gradients(name, rng):
    a = rng.uniform(-2.5, 2.5, (3, 5))
    check_both(lambda lib, x: getattr(lib, name)(x), [a])
    check_both(lambda lib, x: getattr(x, name)(), [a])


def test_erfinv_values_and_gradients(rng):
    a = rng.uniform(-0.95, 0.95, (4, 3))
    check_both(lambda lib, x: lib.erfinv(x), [a])
    check_both(lambda lib, x: x.erfinv(), [a])


def test_erf_family_edges_and_dtypes(torch):
    a = np.array([-1.0, 1.0, 1.5, -2.0, 0.0, 10.0, float("nan")])
    for name in ("erf", "erfc", "erfinv"):
        for dtype in ("float16", "float32", "float64"):
            got = getattr(striate, name)(striate.tensor(a.astype(dtype)))
            want = getattr(torch, name)(torch.tensor(a.astype(dtype)))
            assert got.dtype == np.dtype(dtype)
            tol = 1e-3 if dtype == "float16" else 1e-6
            np.testing.assert_allclose(got.array, want.numpy(), rtol=tol, atol=tol, err_msg=name)
        # integers and bools give the default float dtype
        got = getattr(striate, name)(striate.tensor([0, 1]))
        want = getattr(torch, name)(torch.tensor([0, 1]))
        assert got.dtype == striate.float32
        np.testing.assert_allclose(got.array, want.numpy(), rtol=1e-6)
    # erf(erfinv(x)) == x, and erfc keeps the digits 1 - erf loses
    x = striate.tensor(np.linspace(-0.99, 0.99, 9))
    np.testing.assert_allclose(striate.erf(striate.erfinv(x)).array, x.array, atol=1e-12, rtol=0)
    assert striate.erfc(striate.tensor(10.0, dtype=striate.float64)).item() == pytest.approx(
        2.088487583762545e-45, rel=1e-12)


def test_erf_against_the_normal_cdf():
    # Phi(x) = (1 + erf(x / sqrt 2)) / 2, the standard normal CDF (striate.distributions')
    x = striate.tensor(np.linspace(-3, 3, 13))
    phi = striate.distributions.Normal(0.0, 1.0).cdf(x)
    np.testing.assert_allclose(((1 + striate.erf(x / math.sqrt(2))) / 2).array, phi.array,
                               atol=1e-12, rtol=0)


def test_gradcheck_of_erf_family_in_float64(rng):
    a = rng.uniform(-0.9, 0.9, (2, 3))
    for f in (striate.erf, striate.erfc, striate.erfinv):
        check_op(f, [a])
