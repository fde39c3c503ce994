"""Dropout: inverted scaling, eval identity, gradient = mask * scale, seeded masks, errors."""

from __future__ import annotations

import numpy as np
import pytest
import striate.functional as F
from opcheck import check_op

import striate

RNG = np.random.default_rng(5)


@pytest.mark.parametrize("p", [0.2, 0.5, 0.8])
def test_expected_value_is_preserved(p):
    striate.manual_seed(0)
    x = striate.ones(400, 500)
    y = F.dropout(x, p=p).array
    assert y.dtype == np.float32
    np.testing.assert_allclose(np.unique(y), [0.0, 1 / (1 - p)], rtol=1e-6)
    n = y.size
    assert abs((y == 0).mean() - p) < 5 * np.sqrt(p * (1 - p) / n)
    # mean of many draws: E[y] = x, within 5 standard errors of the mean
    assert abs(y.mean() - 1.0) < 5 * np.sqrt(p / (1 - p) / n)


def test_eval_and_p0_are_the_identity():
    x = striate.tensor(RNG.standard_normal((3, 4)), requires_grad=True)
    assert F.dropout(x, 0.5, training=False) is x
    assert F.dropout(x, 0.0) is x


def test_gradient_is_mask_times_scale():
    x = striate.tensor(RNG.standard_normal((20, 30)) + 5.0, requires_grad=True)  # never 0
    y = F.dropout(x, p=0.3)
    g = RNG.standard_normal((20, 30))
    y.backward(striate.tensor(g))
    mask = y.array != 0
    assert 0 < mask.mean() < 1
    np.testing.assert_allclose(x.grad.array, g * mask / 0.7, rtol=1e-12)
    np.testing.assert_allclose(y.array, x.array * mask / 0.7, rtol=1e-12)


def test_gradcheck_with_a_fixed_mask():
    def f(a):
        striate.manual_seed(3)  # the same mask on every call
        return F.dropout(a, p=0.4)

    out = check_op(f, [RNG.standard_normal((4, 5))])
    assert (out == 0).any() and (out != 0).any()


def test_seeded_reproducibility():
    x = striate.tensor(RNG.standard_normal((50, 40)))
    striate.manual_seed(7)
    a = F.dropout(x, 0.5).array
    b = F.dropout(x, 0.5).array
    striate.manual_seed(7)
    c = F.dropout(x, 0.5).array
    np.testing.assert_array_equal(a, c)
    assert not np.array_equal(a, b)


def test_p_one_gives_zeros_and_zero_gradient():
    x = striate.tensor(RNG.standard_normal((3, 4)), requires_grad=True)
    y = F.dropout(x, p=1.0)
    np.testing.assert_array_equal(y.array, 0)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.array, 0)


def test_inplace():
    x = striate.ones(10, 10)
    striate.manual_seed(1)
    y = F.dropout(x, 0.5, inplace=True)
    assert y is x and set(np.unique(x.array)) == {0.0, 2.0}
    # with a graph to record, the input must stay intact: a new tensor comes back
    z = striate.ones(10, 10, requires_grad=True)
    w = F.dropout(z, 0.5, inplace=True)
    assert w is not z and (z.array == 1).all()
    w.sum().backward()
    np.testing.assert_array_equal(z.grad.array, w.array)


def test_float64_stays_float64():
    x = striate.tensor(RNG.standard_normal(100), requires_grad=True)
    y = F.dropout(x)
    assert y.dtype == np.float64
    y.sum().backward()
    assert x.grad.dtype == np.float64


@pytest.mark.parametrize("p", [-0.1, 1.5, "0.5", None])
def test_bad_p(p):
    with pytest.raises(ValueError, match=r"dropout: p must be a probability in \[0, 1\]"):
        F.dropout(striate.ones(3), p=p)
