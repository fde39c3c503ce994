"""Reductions: sum, mean, max/min (values and indices), amax/amin, var/std, argmax/argmin."""

from __future__ import annotations

import numpy as np
import pytest
from opcheck import check_both as check
from opcheck import check_op
from opcheck import torch_or_skip as _torch

import striate
from striate import functional as F

RNG = np.random.default_rng(1)


def randn(*shape):
    return RNG.standard_normal(shape)


DIMS = [None, 0, 1, -1, (0, 2), (1, -1), (0, 1, 2)]


@pytest.mark.parametrize("dim", DIMS)
@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("name", ["sum", "mean"])
def test_sum_mean(name, dim, keepdim):
    x = randn(2, 3, 4)
    if dim is None:
        out = check(lambda m, a: getattr(m, name)(a), [x])
        assert out.shape == ()
    else:
        out = check(lambda m, a: getattr(m, name)(a, dim=dim, keepdim=keepdim), [x])
        want = getattr(np, name)(x, axis=dim, keepdims=keepdim)
        np.testing.assert_allclose(out, want)


def test_sum_mean_methods_and_values():
    x = randn(3, 5)
    np.testing.assert_allclose(check(lambda m, a: a.sum(1), [x]), x.sum(1))
    np.testing.assert_allclose(
        check(lambda m, a: a.mean(0, keepdim=True), [x]), x.mean(0, None, None, True)
    )


@pytest.mark.parametrize("name", ["max", "min"])
def test_max_min_all(name):
    x = randn(3, 4)
    out = check(lambda m, a: getattr(m, name)(a), [x])
    assert out.shape == () and out == getattr(np, name)(x)


@pytest.mark.parametrize("name", ["max", "min"])
@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("keepdim", [False, True])
def test_max_min_dim_values_and_indices(name, dim, keepdim):
    x = randn(3, 4, 5)
    out = check(lambda m, a: getattr(m, name)(a, dim=dim, keepdim=keepdim).values, [x])
    assert out.shape == getattr(np, name)(x, axis=dim, keepdims=keepdim).shape
    res = getattr(striate, name)(striate.tensor(x), dim, keepdim)
    values, indices = res  # a named (values, indices) pair, as torch.return_types.max
    assert values is res.values and indices is res.indices
    assert indices.dtype == np.int64 and not indices.requires_grad
    want = getattr(np, "arg" + name)(x, axis=dim, keepdims=keepdim)
    np.testing.assert_array_equal(indices.array, want)
    torch = pytest.importorskip("torch")
    t = getattr(torch, name)(torch.tensor(x), dim=dim, keepdim=keepdim)
    np.testing.assert_array_equal(indices.array, t.indices.numpy())
    np.testing.assert_array_equal(values.array, t.values.numpy())


@pytest.mark.parametrize("name", ["max", "min"])
@pytest.mark.parametrize("keepdim", [False, True])
def test_max_min_tuple_dims_give_values_only(name, keepdim):
    # torch.max takes one dim; over several dims it is torch.amax / torch.amin
    x = randn(2, 3, 4)
    out = check_op(
        lambda a: getattr(striate, name)(a, dim=(0, 2), keepdim=keepdim),
        [x],
        torch_fn=lambda a: getattr(_torch(), "a" + name)(a, dim=(0, 2), keepdim=keepdim),
    )
    np.testing.assert_array_equal(out, getattr(np, name)(x, axis=(0, 2), keepdims=keepdim))


def test_max_with_dim_ties_matches_torch():
    # ties along dim: PyTorch sends the gradient to the returned index only
    x = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0], [5.0, 1.0, 5.0]])
    out = check_op(
        lambda a: striate.max(a, dim=1).values,
        [x],
        check_grad=False,
        torch_fn=lambda a: _torch().max(a, dim=1).values,
    )
    np.testing.assert_array_equal(out, [3.0, 2.0, 5.0])
    t = striate.tensor(x, requires_grad=True)
    values, indices = striate.max(t, dim=1)
    values.sum().backward()
    np.testing.assert_array_equal(t.grad.array.argmax(1), indices.array)
    np.testing.assert_array_equal(t.grad.array.sum(1), [1.0, 1.0, 1.0])


def test_max_all_ties_share_gradient_as_torch():
    x = np.array([[1.0, 4.0], [4.0, 0.0]])
    check_op(lambda a: striate.max(a), [x], check_grad=False, torch_fn=lambda a: _torch().max(a))
    t = striate.tensor(x, requires_grad=True)
    striate.max(t).backward()
    np.testing.assert_array_equal(t.grad.array, [[0.0, 0.5], [0.5, 0.0]])


def test_elementwise_max_min_by_tensor_argument():
    a, b = randn(3, 4), randn(3, 4)
    b[np.abs(a - b) < 0.05] += 0.2
    check(lambda m, x, y: m.max(x, y), [a, b])
    check(lambda m, x, y: m.min(x, y), [a, b])


@pytest.mark.parametrize("dim", [None, 1, (0, 2), -1])
@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("name", ["amax", "amin"])
def test_amax_amin(name, dim, keepdim):
    x = randn(2, 3, 4)
    if dim is None:
        check(lambda m, a: getattr(m, name)(a), [x])
    else:
        out = check(lambda m, a: getattr(m, name)(a, dim=dim, keepdim=keepdim), [x])
        np.testing.assert_allclose(out, getattr(np, name)(x, axis=dim, keepdims=keepdim))


def test_amax_ties_split_evenly_as_torch():
    x = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]])
    check_op(
        lambda a: striate.amax(a, dim=1),
        [x],
        check_grad=False,
        torch_fn=lambda a: _torch().amax(a, dim=1),
    )


@pytest.mark.parametrize("dim", [None, 0, 1, (0, 2), -1])
@pytest.mark.parametrize("unbiased", [True, False])
@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("name", ["var", "std"])
def test_var_std(name, dim, unbiased, keepdim):
    x = randn(3, 4, 5)
    correction = 1 if unbiased else 0

    def f(m, a):
        if m is striate:
            return getattr(m, name)(a, dim=dim, keepdim=keepdim, unbiased=unbiased)
        return getattr(m, name)(a, dim=dim, keepdim=keepdim, correction=correction)

    out = check(f, [x])
    want = getattr(np, name)(x, axis=dim, ddof=correction, keepdims=keepdim)
    np.testing.assert_allclose(out, want)


def test_var_correction_argument_and_methods():
    x = randn(4, 6)
    out = check_op(lambda a: F.var(a, dim=1, correction=2), [x])
    np.testing.assert_allclose(out, np.var(x, axis=1, ddof=2))
    check(lambda m, a: a.var(1) + a.std(0).sum(), [x])


def test_var_too_few_elements_is_nan_with_a_warning():
    # PyTorch's answer: a warning and NaN (0/0), not an error
    with pytest.warns(UserWarning, match="degrees of freedom"):
        out = F.var(striate.ones(1, 3), dim=0)
    assert np.isnan(out.array).all()


@pytest.mark.parametrize("name", ["argmax", "argmin"])
@pytest.mark.parametrize("dim, keepdim", [(None, False), (0, False), (1, True), (-1, False)])
def test_argmax_argmin(name, dim, keepdim):
    x = randn(3, 4, 5)
    t = striate.tensor(x, requires_grad=True)
    got = getattr(striate, name)(t) if dim is None else getattr(striate, name)(t, dim, keepdim)
    assert got.dtype == np.int64 and not got.requires_grad
    want = getattr(np, name)(x) if dim is None else getattr(np, name)(x, axis=dim, keepdims=keepdim)
    np.testing.assert_array_equal(got.array, want)
    torch = pytest.importorskip("torch")
    tt = torch.tensor(x)
    tw = getattr(torch, name)(tt) if dim is None else getattr(torch, name)(tt, dim, keepdim)
    np.testing.assert_array_equal(got.array, tw.numpy())


def test_float32_in_float32_out():
    x = striate.tensor(randn(3, 4).astype(np.float32), requires_grad=True)
    outs = [
        x.sum(),
        x.mean(1),
        striate.max(x, 1).values,
        striate.amax(x, 0),
        x.var(1),
        x.std(),
        striate.min(x),
    ]
    total = outs[0]
    for o in outs:
        assert o.dtype == np.float32, o
        total = total + o.sum()
    total.backward()
    assert x.grad.dtype == np.float32


def test_non_contiguous_input():
    x = randn(4, 3)
    check(lambda m, a: a.transpose(0, 1).sum(1) + m.amax(a.transpose(0, 1), dim=0).sum(), [x])
    check(lambda m, a: m.max(a.transpose(0, 1), dim=1).values * a.transpose(0, 1).var(1), [x])


def test_dim_out_of_range_is_named():
    x = striate.ones(2, 3)
    with pytest.raises(IndexError, match="sum: dim 2 is out of range .* 2 dimensions"):
        F.sum(x, dim=2)
    with pytest.raises(IndexError, match="max: dim -3"):
        F.max(x, dim=-3)


def test_max_of_empty_raises():
    with pytest.raises(ValueError, match=r"max: the input is empty \(shape \(0, 3\)\)"):
        F.max(striate.zeros(0, 3))
