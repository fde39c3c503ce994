"""striate.nn.init: statistics over large tensors, fan rules, gains, seeding."""

import math

import numpy as np
import pytest

import striate
from striate import nn
from striate.nn import init


def _std(t):
    return float(t.array.astype(np.float64).std())


def test_fan_in_and_fan_out():
    assert init._calculate_fan_in_and_fan_out(striate.zeros(30, 20)) == (20, 30)
    # conv weight (out, in, kh, kw): fan_in = in * kh * kw, fan_out = out * kh * kw
    assert init._calculate_fan_in_and_fan_out(striate.zeros(16, 3, 5, 5)) == (75, 400)
    with pytest.raises(ValueError, match=r"fewer than 2 dimensions \(got shape \(5,\)\)"):
        init._calculate_fan_in_and_fan_out(striate.zeros(5))


def test_calculate_gain():
    assert init.calculate_gain("linear") == 1.0
    assert init.calculate_gain("conv2d") == 1.0
    assert init.calculate_gain("sigmoid") == 1.0
    assert init.calculate_gain("tanh") == pytest.approx(5 / 3)
    assert init.calculate_gain("relu") == pytest.approx(math.sqrt(2))
    assert init.calculate_gain("leaky_relu") == pytest.approx(math.sqrt(2 / (1 + 0.01**2)))
    assert init.calculate_gain("leaky_relu", 0.2) == pytest.approx(math.sqrt(2 / 1.04))
    with pytest.raises(ValueError, match="unsupported nonlinearity 'swish'"):
        init.calculate_gain("swish")


@pytest.mark.parametrize(
    "fn, shape, expected_std",
    [
        (lambda t: init.small_random_(t), (400, 500), 0.01),
        (lambda t: init.small_random_(t, std=0.1), (400, 500), 0.1),
        (lambda t: init.normal_(t, 2.0, 3.0), (400, 500), 3.0),
        (lambda t: init.xavier_normal_(t), (400, 500), math.sqrt(2 / 900)),
        (lambda t: init.xavier_normal_(t, gain=2.0), (400, 500), 2 * math.sqrt(2 / 900)),
        (lambda t: init.xavier_uniform_(t), (400, 500), math.sqrt(2 / 900)),
        (lambda t: init.kaiming_normal_(t), (400, 500), math.sqrt(2 / 500)),
        (lambda t: init.kaiming_normal_(t, nonlinearity="relu"), (400, 500), math.sqrt(2 / 500)),
        (lambda t: init.kaiming_normal_(t, mode="fan_out"), (400, 500), math.sqrt(2 / 400)),
        (lambda t: init.kaiming_uniform_(t), (400, 500), math.sqrt(2 / 500)),
        (lambda t: init.kaiming_normal_(t, nonlinearity="tanh"), (400, 500),
         (5 / 3) / math.sqrt(500)),
        (lambda t: init.kaiming_normal_(t), (64, 32, 3, 3), math.sqrt(2 / (32 * 9))),
        (lambda t: init.lecun_normal_(t), (400, 500), 1 / math.sqrt(500)),
        (lambda t: init.he_normal_(t), (400, 500), 1 / math.sqrt(250)),
        (lambda t: init.he_normal_(t), (64, 32, 3, 3), math.sqrt(2 / (32 * 9))),
        (lambda t: init.uniform_(t, -1.0, 1.0), (400, 500), 1 / math.sqrt(3)),
    ],
)
def test_init_standard_deviation(fn, shape, expected_std):
    striate.manual_seed(0)
    t = striate.zeros(*shape)
    assert fn(t) is t
    assert t.dtype == np.float32
    assert _std(t) == pytest.approx(expected_std, rel=0.02)


def test_means_and_bounds():
    striate.manual_seed(0)
    t = init.normal_(striate.zeros(300, 300), mean=2.0, std=0.5)
    assert float(t.array.mean()) == pytest.approx(2.0, abs=0.01)
    u = init.xavier_uniform_(striate.zeros(100, 200))
    bound = math.sqrt(6 / 300)
    assert np.abs(u.array).max() <= bound and np.abs(u.array).max() > 0.95 * bound
    k = init.kaiming_uniform_(striate.zeros(100, 200))
    assert np.abs(k.array).max() <= math.sqrt(6 / 200)
    tn = init.trunc_normal_(striate.zeros(200, 200), std=1.0, a=-1.0, b=1.5)
    assert tn.array.min() >= -1.0 and tn.array.max() <= 1.5 and tn.array.min() < -0.99
    with pytest.raises(ValueError, match="a < b"):
        init.trunc_normal_(striate.zeros(2), a=1.0, b=0.0)


def test_constants_eye_orthogonal():
    t = striate.randn(3, 4)
    assert not init.zeros_(t).array.any()
    assert (init.ones_(t).array == 1).all()
    assert (init.constant_(t, 0.5).array == 0.5).all()
    np.testing.assert_array_equal(init.eye_(t).array, np.eye(3, 4))
    with pytest.raises(ValueError, match="2-D"):
        init.eye_(striate.zeros(2, 2, 2))
    for shape in [(6, 4), (4, 6), (8, 2, 3)]:
        q = init.orthogonal_(striate.zeros(*shape, dtype=np.float64), gain=2.0).array
        flat = q.reshape(shape[0], -1)
        small = flat.T @ flat if shape[0] >= flat.shape[1] else flat @ flat.T
        np.testing.assert_allclose(small, 4.0 * np.eye(small.shape[0]), atol=1e-10)


def test_errors_name_the_function():
    with pytest.raises(ValueError, match="kaiming_normal_: mode must be 'fan_in' or 'fan_out'"):
        init.kaiming_normal_(striate.zeros(3, 3), mode="fan_avg")
    with pytest.raises(TypeError, match="xavier_normal_: tensor must be a striate Tensor"):
        init.xavier_normal_(np.zeros((3, 3)))
    # zero-element tensors are a no-op, not a division by zero
    assert init.kaiming_normal_(striate.zeros(0, 3)).shape == (0, 3)


def test_seeded_repeatability_and_parameters_that_require_grad():
    w = nn.Parameter(np.zeros((50, 40), np.float32))
    striate.manual_seed(7)
    first = init.kaiming_normal_(w).array.copy()
    striate.manual_seed(7)
    again = init.kaiming_normal_(w).array.copy()
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, init.kaiming_normal_(w).array)
    assert w.is_leaf and w.requires_grad and w.grad is None
    w64 = striate.zeros(50, 40, dtype=np.float64)
    assert init.kaiming_normal_(w64).dtype == np.float64


def test_course_defaults_are_he_normal_with_zero_bias():
    striate.manual_seed(0)
    with init.course_defaults():
        lin = nn.Linear(500, 400)
        conv = nn.Conv2d(32, 64, 3)
    assert _std(lin.weight) == pytest.approx(math.sqrt(2 / 500), rel=0.02)
    assert not lin.bias.array.any()
    assert _std(conv.weight) == pytest.approx(math.sqrt(2 / (32 * 9)), rel=0.03)
    assert not conv.bias.array.any()
    striate.manual_seed(3)
    a = nn.Linear(10, 10).weight.array.copy()
    striate.manual_seed(3)
    np.testing.assert_array_equal(nn.Linear(10, 10).weight.array, a)
