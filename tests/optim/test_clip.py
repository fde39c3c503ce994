"""Gradient clipping: clip_grad_norm_ (total norm, torch semantics) and clip_grad_value_."""

import math

import numpy as np
import pytest

import striate
from striate import Tensor
from striate.optim import clip_grad_norm_, clip_grad_value_


def _with_grads(*grads):
    ps = []
    for g in grads:
        p = striate.tensor(np.zeros_like(g), requires_grad=True)
        p.grad = Tensor(np.array(g, dtype=float))
        ps.append(p)
    return ps


def test_rescales_to_max_norm_and_returns_total_norm():
    a, b = _with_grads(np.array([3.0, 0.0]), np.array([[0.0], [4.0]]))
    total = clip_grad_norm_([a, b], max_norm=1.0)
    assert isinstance(total, Tensor) and total.shape == () and total.dtype.kind == "f"
    assert float(total) == pytest.approx(5.0)
    np.testing.assert_allclose(a.grad.array, [3 / 5, 0], rtol=1e-5)
    np.testing.assert_allclose(b.grad.array, [[0], [4 / 5]], rtol=1e-5)
    # the clipped gradients have total norm max_norm (up to the 1e-6 guard)
    norm = math.hypot(*a.grad.array, *b.grad.array.ravel())
    assert norm == pytest.approx(1.0, rel=1e-5)


def test_small_gradients_are_left_alone_and_none_grads_skipped():
    a, b = _with_grads(np.array([0.3, 0.4]), np.array([0.0]))
    c = striate.tensor(np.ones(3), requires_grad=True)  # no grad
    total = clip_grad_norm_([a, b, c], max_norm=10.0)
    assert float(total) == pytest.approx(0.5)
    np.testing.assert_array_equal(a.grad.array, [0.3, 0.4])
    assert c.grad is None
    assert float(clip_grad_norm_([c], 1.0)) == 0.0
    assert float(clip_grad_norm_(a, 10.0)) == pytest.approx(0.5)  # a single Tensor is fine


@pytest.mark.parametrize("norm_type", [1.0, 3.0, float("inf"), "inf"])
def test_other_norms(norm_type):
    g1, g2 = np.array([1.0, -2.0, 3.0]), np.array([-4.0, 0.5])
    a, b = _with_grads(g1, g2)
    flat = np.concatenate([g1, g2])
    p = float(norm_type)
    want = np.abs(flat).max() if p == math.inf else (np.abs(flat) ** p).sum() ** (1 / p)
    total = clip_grad_norm_([a, b], max_norm=1.0, norm_type=norm_type)
    assert float(total) == pytest.approx(want)
    np.testing.assert_allclose(a.grad.array, g1 / (want + 1e-6))


def test_nonfinite_norm_and_bad_arguments():
    (a,) = _with_grads(np.array([np.inf, 1.0]))
    with pytest.raises(ValueError, match="total norm of order 2.0 .* inf"):
        clip_grad_norm_([a], 1.0, error_if_nonfinite=True)
    (b,) = _with_grads(np.array([1.0]))
    with pytest.raises(ValueError, match="max_norm must be >= 0, got -1.0"):
        clip_grad_norm_([b], -1.0)
    with pytest.raises(ValueError, match="norm_type must be > 0"):
        clip_grad_norm_([b], 1.0, norm_type=0)
    with pytest.raises(TypeError, match="parameter 1 must be a Tensor, got ndarray"):
        clip_grad_norm_([b, np.ones(2)], 1.0)


def test_float32_gradients_give_a_float32_norm():
    p = striate.tensor(np.zeros(4, dtype=np.float32), requires_grad=True)
    p.grad = Tensor(np.full(4, 2.0, dtype=np.float32))
    total = clip_grad_norm_([p], 1.0)
    assert total.dtype == np.float32 and p.grad.dtype == np.float32
    assert float(total) == pytest.approx(4.0)


def test_clip_grad_value_clamps_in_place():
    a, b = _with_grads(np.array([-3.0, 0.5, 2.0]), np.array([[0.1, -0.2]]))
    arr = a.grad.array
    assert clip_grad_value_([a, b], 1.0) is None
    assert a.grad.array is arr
    np.testing.assert_array_equal(a.grad.array, [-1.0, 0.5, 1.0])
    np.testing.assert_array_equal(b.grad.array, [[0.1, -0.2]])
    with pytest.raises(ValueError, match="clip_value must be >= 0"):
        clip_grad_value_([a], -0.5)


@pytest.mark.parametrize("norm_type", [2.0, 1.0, float("inf")])
@pytest.mark.parametrize("max_norm", [0.5, 100.0])
def test_matches_torch(norm_type, max_norm):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    grads = [rng.standard_normal(s) for s in [(3, 4), (5,), (2, 2, 2)]]
    ours = _with_grads(*grads)
    theirs = []
    for g in grads:
        t = torch.zeros(g.shape, dtype=torch.float64, requires_grad=True)
        t.grad = torch.from_numpy(g.copy())
        theirs.append(t)
    total = clip_grad_norm_(ours, max_norm, norm_type=norm_type)
    t_total = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type=norm_type)
    assert float(total) == pytest.approx(float(t_total), rel=1e-12)
    for p, t in zip(ours, theirs):
        np.testing.assert_allclose(p.grad.array, t.grad.numpy(), rtol=1e-12)
    torch.nn.utils.clip_grad_value_(theirs, 0.1)
    clip_grad_value_(ours, 0.1)
    for p, t in zip(ours, theirs):
        np.testing.assert_allclose(p.grad.array, t.grad.numpy(), rtol=1e-12)
        assert np.abs(p.grad.array).max() == pytest.approx(min(0.1, np.abs(t.grad.numpy()).max()))
