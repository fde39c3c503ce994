"""batch_norm, layer_norm and group_norm: against NumPy, numerical gradients and PyTorch, running
statistics like PyTorch's, train vs eval, float32 kept, and errors that name the sizes."""

from __future__ import annotations

import numpy as np
import pytest
import striate.functional as F
from opcheck import check_nn, check_op

import striate

RNG = np.random.default_rng(3)
SHAPES = [(8, 3), (4, 3, 5), (3, 4, 3, 2)]  # (N, C), (N, C, L), (N, C, H, W)


def randn(*shape):
    return RNG.standard_normal(shape)


def channel_axes(x):
    return (0, *range(2, x.ndim))


def per_channel(v, ndim):
    return v.reshape((1, -1) + (1,) * (ndim - 2))


@pytest.mark.parametrize("shape", SHAPES)
def test_batch_norm_training_formula_gradients_and_torch(shape):
    c = shape[1]
    x, w, b = randn(*shape) * 2 + 1, randn(c), randn(c)
    out = check_nn(lambda m, a, g, h: m.batch_norm(a, None, None, g, h, training=True),
                   [x, w, b])
    ax = channel_axes(x)
    xhat = (x - x.mean(ax, keepdims=True)) / np.sqrt(x.var(ax, keepdims=True) + 1e-5)
    np.testing.assert_allclose(out, xhat * per_channel(w, x.ndim) + per_channel(b, x.ndim),
                               rtol=1e-10, atol=1e-12)
    # without weight and bias: zero mean and unit variance per channel
    out = check_nn(lambda m, a: m.batch_norm(a, None, None, training=True), [x])
    np.testing.assert_allclose(out.mean(ax), 0, atol=1e-12)
    np.testing.assert_allclose(out.var(ax), 1, atol=1e-4)


@pytest.mark.parametrize("shape", SHAPES)
def test_batch_norm_eval_uses_running_averages(shape):
    c = shape[1]
    x, w, b = randn(*shape), randn(c), randn(c)
    rm, rv = randn(c), RNG.random(c) + 0.5

    def ours(a, g, h):
        mean, var = striate.tensor(rm.astype(a.dtype)), striate.tensor(rv.astype(a.dtype))
        return F.batch_norm(a, mean, var, g, h, training=False, eps=1e-3)

    def theirs(a, g, h):
        import torch

        mean, var = torch.tensor(rm, dtype=a.dtype), torch.tensor(rv, dtype=a.dtype)
        return torch.nn.functional.batch_norm(a, mean, var, g, h, training=False, eps=1e-3)

    out = check_op(ours, [x, w, b], theirs)
    want = (x - per_channel(rm, x.ndim)) / np.sqrt(per_channel(rv, x.ndim) + 1e-3)
    np.testing.assert_allclose(out, want * per_channel(w, x.ndim) + per_channel(b, x.ndim),
                               rtol=1e-10)


@pytest.mark.parametrize("shape", [(16, 4), (6, 3, 5, 4)])
def test_batch_norm_running_stats_like_torch(shape):
    torch = pytest.importorskip("torch")
    c = shape[1]
    rm, rv = striate.zeros(c), striate.ones(c)
    trm, trv = torch.zeros(c), torch.ones(c)
    want_m, want_v = np.zeros(c), np.ones(c)
    for _ in range(4):
        x = randn(*shape) * 3 + 2
        ax = channel_axes(x)
        F.batch_norm(striate.tensor(x.astype(np.float32)), rm, rv, training=True, momentum=0.3)
        torch.nn.functional.batch_norm(torch.tensor(x, dtype=torch.float32), trm, trv,
                                       training=True, momentum=0.3)
        want_m = 0.7 * want_m + 0.3 * x.mean(ax)
        want_v = 0.7 * want_v + 0.3 * x.var(ax, ddof=1)  # the unbiased variance
    assert rm.dtype == np.float32 and rv.dtype == np.float32
    np.testing.assert_allclose(rm.array, trm.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(rv.array, trv.numpy(), rtol=1e-5)
    np.testing.assert_allclose(rm.array, want_m, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(rv.array, want_v, rtol=1e-5)


def test_batch_norm_train_vs_eval():
    x = randn(64, 3, 4, 4) * 2 + 5
    rm, rv = striate.zeros(3, dtype=np.float64), striate.ones(3, dtype=np.float64)
    xt = striate.tensor(x)
    for _ in range(200):  # the running averages converge to this batch's statistics
        train = F.batch_norm(xt, rm, rv, training=True, momentum=0.1).array
    before = (rm.array.copy(), rv.array.copy())
    ev = F.batch_norm(xt, rm, rv, training=False).array
    np.testing.assert_array_equal(rm.array, before[0])  # eval leaves them alone
    np.testing.assert_array_equal(rv.array, before[1])
    np.testing.assert_allclose(rm.array, x.mean((0, 2, 3)), rtol=1e-6)
    n = x.size // 3
    np.testing.assert_allclose(ev, train * np.sqrt((n - 1) / n), rtol=1e-4, atol=1e-4)
    # a different batch in eval is normalised with the stored statistics, not its own
    other = F.batch_norm(striate.tensor(x + 1.0), rm, rv).array
    np.testing.assert_allclose(other.mean(), ev.mean() + 1 / np.sqrt(rv.array).mean(), rtol=1e-3)


def test_batch_norm_float32_and_non_contiguous():
    x = randn(5, 4, 3, 6).transpose(0, 1, 3, 2)  # a non-contiguous NCHW view
    check_nn(lambda m, a, g, h: m.batch_norm(a, None, None, g, h, training=True),
             [x, randn(4), randn(4)])
    xs = striate.tensor(x.astype(np.float32), requires_grad=True)
    w = striate.tensor(np.ones(4, np.float32), requires_grad=True)
    rm, rv = striate.zeros(4), striate.ones(4)
    y = F.batch_norm(xs, rm, rv, w, None, training=True)
    assert y.dtype == np.float32 and y.shape == x.shape
    (y * y).sum().backward()
    assert xs.grad.dtype == np.float32 and w.grad.dtype == np.float32


def test_batch_norm_errors():
    x = striate.tensor(randn(4, 3, 2, 2))
    with pytest.raises(ValueError, match=r"running_mean has 5 elements .* input has 3 channels "
                                         r"\(input shape \(4, 3, 2, 2\)\); expected shape \(3,\)"):
        F.batch_norm(x, striate.zeros(5), striate.ones(3), training=True)
    with pytest.raises(ValueError, match="running_var has 2 elements"):
        F.batch_norm(x, striate.zeros(3), striate.ones(2))
    with pytest.raises(ValueError, match="weight has 4 elements"):
        F.batch_norm(x, None, None, striate.ones(4), training=True)
    with pytest.raises(ValueError, match="bias has 1 elements"):
        F.batch_norm(x, None, None, None, striate.ones(1), training=True)
    with pytest.raises(ValueError, match=r"more than 1 value per channel.*\(1, 3\)"):
        F.batch_norm(striate.tensor(randn(1, 3)), None, None, training=True)
    with pytest.raises(ValueError, match="needed in eval mode"):
        F.batch_norm(x, None, None, training=False)
    with pytest.raises(ValueError, match=r"\(N, C, \*\)"):
        F.batch_norm(striate.tensor(randn(3)), None, None, training=True)


@pytest.mark.parametrize("shape, ns", [((4, 6), 6), ((2, 3, 4, 5), (4, 5)), ((3, 2, 5), (2, 5))])
def test_layer_norm(shape, ns):
    nst = (ns,) if isinstance(ns, int) else ns
    x, w, b = randn(*shape) * 2 + 1, randn(*nst), randn(*nst)
    out = check_nn(lambda m, a, g, h: m.layer_norm(a, nst, g, h), [x, w, b])
    ax = tuple(range(x.ndim - len(nst), x.ndim))
    xhat = (x - x.mean(ax, keepdims=True)) / np.sqrt(x.var(ax, keepdims=True) + 1e-5)
    np.testing.assert_allclose(out, xhat * w + b, rtol=1e-10, atol=1e-12)
    check_nn(lambda m, a: m.layer_norm(a, nst, eps=1e-3), [x])
    check_nn(lambda m, a, g: m.layer_norm(a, nst, g, None), [x, w])
    # an int normalized_shape (PyTorch's functional wants a tuple; its LayerNorm takes an int)
    np.testing.assert_array_equal(F.layer_norm(striate.tensor(x), ns).array,
                                  F.layer_norm(striate.tensor(x), nst).array)


def test_layer_norm_errors():
    x = striate.tensor(randn(3, 4))
    with pytest.raises(ValueError, match=r"normalized_shape \(5,\) must match .* \(3, 4\)"):
        F.layer_norm(x, 5)
    with pytest.raises(ValueError, match=r"weight has shape \(3,\) but normalized_shape is \(4,\)"):
        F.layer_norm(x, (4,), striate.ones(3))


@pytest.mark.parametrize("shape, groups", [((3, 6, 2, 2), 3), ((2, 4, 5), 1), ((2, 4, 3), 4)])
def test_group_norm(shape, groups):
    c = shape[1]
    x, w, b = randn(*shape) * 2 + 1, randn(c), randn(c)
    out = check_nn(lambda m, a, g, h: m.group_norm(a, groups, g, h), [x, w, b])
    xg = x.reshape(shape[0], groups, -1)
    xhat = ((xg - xg.mean(2, keepdims=True)) / np.sqrt(xg.var(2, keepdims=True) + 1e-5))
    want = xhat.reshape(shape) * per_channel(w, x.ndim) + per_channel(b, x.ndim)
    np.testing.assert_allclose(out, want, rtol=1e-10, atol=1e-12)
    check_nn(lambda m, a: m.group_norm(a, groups), [x])
    with pytest.raises(ValueError, match=f"num_groups 5 must divide the {c} channels"):
        F.group_norm(striate.tensor(x), 5)
