"""dropout2d, stochastic_depth, dropconnect and local_response_norm."""

from __future__ import annotations

import numpy as np
import pytest
from opcheck import check_op
from opcheck import functional_or_skip as _tf

import striate
from striate import functional as F

RNG = np.random.default_rng(2)


def test_dropout2d_drops_whole_maps_and_scales_the_rest():
    striate.manual_seed(0)
    x = striate.ones(64, 16, 3, 3, requires_grad=True)
    y = F.dropout2d(x, p=0.25)
    per_map = y.array.reshape(64, 16, 9)
    assert np.all(per_map.min(-1) == per_map.max(-1))  # each map all-zero or all-kept
    assert set(np.unique(per_map)) == {0.0, np.float32(1 / 0.75)}
    kept = (per_map[:, :, 0] > 0).mean()
    assert 0.68 < kept < 0.82
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.array, y.array)  # d(x m)/dx = m, and x = 1


def test_dropout2d_gradient_3d_input_eval_and_seed():
    x = RNG.standard_normal((3, 4, 5))

    def fn(x):
        striate.manual_seed(7)  # the same mask at every call of the numeric check
        return F.dropout2d(x, p=0.5)

    out = check_op(fn, [x])
    zero = (out == 0).all(axis=-1)
    assert zero.any() and not zero.all()
    t = striate.tensor(x)
    assert F.dropout2d(t, 0.5, training=False) is t
    assert F.dropout2d(t, 0.0) is t
    assert not F.dropout2d(t, 1.0).array.any()


@pytest.mark.parametrize("mode", ["row", "batch"])
def test_stochastic_depth_masks(mode):
    striate.manual_seed(1)
    x = striate.ones(200, 3, 2, 2)
    y = F.stochastic_depth(x, 0.3, mode).array.reshape(200, -1)
    assert np.all(y.min(1) == y.max(1))  # a sample is kept or dropped as a whole
    if mode == "batch":
        assert len(np.unique(y)) == 1  # the whole batch at once
    else:
        kept = (y[:, 0] > 0).mean()
        assert 0.6 < kept < 0.8 and np.allclose(y[y > 0], 1 / 0.7)


def test_stochastic_depth_gradient_and_identity_in_eval():
    x = RNG.standard_normal((6, 4))

    def fn(x):
        striate.manual_seed(4)
        return F.stochastic_depth(x, 0.5, "row")

    out = check_op(fn, [x])
    rows = np.abs(out).sum(1) == 0
    assert rows.any() and not rows.all()
    t = striate.tensor(x)
    assert F.stochastic_depth(t, 0.5, "row", training=False) is t


def test_stochastic_depth_matches_torchvision_formula():
    # torchvision: input * Bernoulli(1 - p) / (1 - p), noise of shape (N, 1, ..., 1) for "row"
    striate.manual_seed(9)
    x = RNG.standard_normal((8, 3, 2, 2)).astype(np.float32)
    y = F.stochastic_depth(striate.tensor(x), 0.25, "row").array
    striate.manual_seed(9)
    u = striate.backend.get_rng().random((8, 1, 1, 1), dtype=np.float64)
    np.testing.assert_allclose(y, x * (u >= 0.25) / 0.75, rtol=1e-6)


def test_dropconnect_masks_weights_and_its_gradient():
    x, w, b = RNG.standard_normal((5, 6)), RNG.standard_normal((4, 6)), RNG.standard_normal(4)

    def fn(x, w, b):
        striate.manual_seed(2)
        return F.dropconnect(x, w, b, p=0.5)

    out = check_op(fn, [x, w, b])
    striate.manual_seed(2)
    m = striate.backend.get_rng().random(w.shape, dtype=np.float64) >= 0.5
    np.testing.assert_allclose(out, x @ (w * m / 0.5).T + b, atol=1e-12)
    # eval is the plain linear layer (the mean network); compare with PyTorch's linear
    check_op(lambda x, w, b: F.dropconnect(x, w, b, 0.5, training=False), [x, w, b],
             lambda x, w, b: _tf().linear(x, w, b))


def test_dropconnect_weight_gradient_is_masked():
    striate.manual_seed(5)
    x = striate.randn(3, 8)
    w = striate.randn(6, 8, requires_grad=True)
    F.dropconnect(x, w, None, p=0.5).sum().backward()
    striate.manual_seed(5)
    striate.randn(3, 8), striate.randn(6, 8)  # replay the draws above
    m = striate.backend.get_rng().random((6, 8), dtype=np.float32) >= 0.5
    assert np.all(w.grad.array[~m] == 0) and np.all(w.grad.array[m] != 0)


@pytest.mark.parametrize("size,alpha,beta,k", [(5, 1e-4, 0.75, 2.0), (3, 0.5, 0.75, 1.0),
                                               (4, 1.0, 1.5, 0.5), (1, 2.0, 0.5, 1.0)])
def test_local_response_norm_gradients_and_torch(size, alpha, beta, k):
    x = RNG.standard_normal((2, 6, 3, 4))
    check_op(lambda x: F.local_response_norm(x, size, alpha, beta, k), [x],
             lambda x: _tf().local_response_norm(x, size, alpha, beta, k))


def test_local_response_norm_formula_and_3d_input():
    x = RNG.standard_normal((2, 5, 7))
    n, alpha, beta, k = 3, 0.3, 0.75, 2.0
    want = np.empty_like(x)
    for c in range(5):
        lo, hi = max(0, c - n // 2), min(5, c + (n - 1) // 2 + 1)
        want[:, c] = x[:, c] / (k + alpha / n * (x[:, lo:hi] ** 2).sum(1)) ** beta
    out = check_op(lambda x: F.local_response_norm(x, n, alpha, beta, k), [x])
    np.testing.assert_allclose(out, want, rtol=1e-12)


def test_regularization_errors():
    x = striate.randn(2, 3, 4, 4)
    with pytest.raises(ValueError, match=r"dropout2d: p must be a probability in \[0, 1\]"):
        F.dropout2d(x, 1.5)
    with pytest.raises(ValueError, match="dropout2d: input must be 4-D"):
        F.dropout2d(striate.randn(3), 0.5)
    with pytest.raises(ValueError, match="mode must be 'row' or 'batch', got 'col'"):
        F.stochastic_depth(x, 0.5, "col")
    with pytest.raises(ValueError, match="dropconnect: weight must be 2-D"):
        F.dropconnect(striate.randn(2, 3), striate.randn(3), p=0.5)
    with pytest.raises(ValueError, match="size must be a positive int, got 0"):
        F.local_response_norm(x, 0)
    with pytest.raises(ValueError, match=r"at least 3 dims .* got shape \(2, 3\)"):
        F.local_response_norm(striate.randn(2, 3), 3)
