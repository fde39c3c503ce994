"""Losses: cross_entropy, nll_loss, multi_margin_loss, mse/l1/smooth_l1/huber, binary cross-entropy
(with and without logits) and kl_div, against NumPy formulas, numerical gradients and PyTorch."""

from __future__ import annotations

import numpy as np
import pytest
import striate.functional as F
from opcheck import check_nn

import striate

RNG = np.random.default_rng(11)
REDUCTIONS = ["mean", "sum", "none"]


def randn(*shape):
    return RNG.standard_normal(shape)


def log_softmax(x, axis=1):
    z = x - x.max(axis=axis, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=axis, keepdims=True))


def reduce(per, reduction, denom=None):
    if reduction == "none":
        return per
    return per.sum() / (per.size if denom is None else denom) if reduction == "mean" else per.sum()


# ---- cross_entropy ----------------------------------------------------------------------------


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_matches_formula_and_torch(reduction):
    x, t = randn(6, 5), RNG.integers(0, 5, 6)
    out = check_nn(lambda m, a, b: m.cross_entropy(a, b, reduction=reduction), [x, t])
    per = -log_softmax(x)[np.arange(6), t]
    np.testing.assert_allclose(out, reduce(per, reduction), rtol=1e-12)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_weight_and_ignore_index(reduction):
    x, t, w = randn(7, 4), RNG.integers(0, 4, 7), RNG.random(4) + 0.5
    t[[1, 4]] = -100
    out = check_nn(lambda m, a, b, c: m.cross_entropy(a, b, c, reduction=reduction),
                   [x, t, w], grad_inputs=[0])
    valid = t != -100
    ts = np.where(valid, t, 0)
    per = -w[ts] * log_softmax(x)[np.arange(7), ts] * valid
    np.testing.assert_allclose(out, reduce(per, reduction, (w[ts] * valid).sum()), rtol=1e-12)
    # a custom ignore_index works the same way
    t2 = np.where(valid, t, 3)
    check_nn(lambda m, a, b: m.cross_entropy(a, b, ignore_index=3, reduction=reduction), [x, t2])


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_label_smoothing(reduction):
    x, t, w = randn(6, 5), RNG.integers(0, 5, 6), RNG.random(5) + 0.5
    t[2] = -100
    out = check_nn(lambda m, a, b: m.cross_entropy(a, b, reduction=reduction,
                                                     label_smoothing=0.2), [x, t])
    ls, valid = log_softmax(x), t != -100
    ts = np.where(valid, t, 0)
    per = (0.8 * -ls[np.arange(6), ts] + 0.2 / 5 * -ls.sum(axis=1)) * valid
    np.testing.assert_allclose(out, reduce(per, reduction, valid.sum()), rtol=1e-12)
    check_nn(lambda m, a, b, c: m.cross_entropy(a, b, c, reduction=reduction,
                                                label_smoothing=0.3), [x, t, w], grad_inputs=[0])


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_spatial_and_unbatched(reduction):
    x, t = randn(2, 4, 3, 2), RNG.integers(0, 4, (2, 3, 2))
    t[0, 1, 1] = -100
    out = check_nn(lambda m, a, b: m.cross_entropy(a, b, reduction=reduction,
                                                     label_smoothing=0.1), [x, t])
    assert out.shape == ((2, 3, 2) if reduction == "none" else ())
    # (C,) scores with a () target: a batch of one
    out1 = check_nn(lambda m, a, b: m.cross_entropy(a, b, reduction=reduction),
                    [randn(5), np.array(2)])
    assert out1.shape == ()


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_probability_targets(reduction):
    x, w = randn(5, 4), RNG.random(4) + 0.5
    q = RNG.random((5, 4))
    q /= q.sum(axis=1, keepdims=True)
    out = check_nn(lambda m, a, b: m.cross_entropy(a, b, reduction=reduction), [x, q])
    np.testing.assert_allclose(out, reduce(-(q * log_softmax(x)).sum(1), reduction), rtol=1e-12)
    check_nn(lambda m, a, b, c: m.cross_entropy(a, b, c, reduction=reduction,
                                                label_smoothing=0.1), [x, q, w], grad_inputs=[0, 1])


def test_cross_entropy_at_initialisation_is_log_c():
    # the course's sanity check: small random scores give a loss of about log(C)
    x = striate.tensor(0.001 * randn(500, 10).astype(np.float32))
    loss = F.cross_entropy(x, striate.tensor(RNG.integers(0, 10, 500)))
    assert loss.dtype == np.float32
    assert abs(loss.item() - np.log(10)) < 1e-2


def test_cross_entropy_is_stable_for_huge_scores():
    x = striate.tensor([[1000.0, 0.0, -1000.0], [1000.0, 0.0, -1000.0]], requires_grad=True)
    loss = F.cross_entropy(x, striate.tensor([0, 2]), reduction="none")
    np.testing.assert_allclose(loss.array, [0.0, 2000.0])
    loss.sum().backward()
    np.testing.assert_allclose(x.grad.array, [[0, 0, 0], [1, 0, -1]], atol=1e-6)


def test_cross_entropy_float32_gradient_dtype():
    x = striate.tensor(randn(4, 3).astype(np.float32), requires_grad=True)
    F.cross_entropy(x, striate.tensor([0, 1, 2, 1])).backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_allclose(x.grad.array.sum(axis=1), 0, atol=1e-7)  # rows of p - onehot


def test_cross_entropy_errors():
    x = striate.tensor(randn(4, 3))
    with pytest.raises(TypeError, match=r"integer class indices.*\(4,\).*float64.*\(4,\)"):
        F.cross_entropy(x, striate.tensor(np.zeros(4)))  # float targets of the index shape
    with pytest.raises(ValueError, match=r"target has shape \(5,\).*\(4, 3\) expects \(4,\)"):
        F.cross_entropy(x, striate.tensor([0, 1, 2, 1, 0]))
    with pytest.raises(IndexError, match="class index 3 but input has 3 classes"):
        F.cross_entropy(x, striate.tensor([0, 1, 3, 1]))
    with pytest.raises(IndexError, match="class index -2"):
        F.cross_entropy(x, striate.tensor([0, 1, -2, 1]))
    with pytest.raises(ValueError, match=r"weight must have shape \(3,\).*got \(4,\)"):
        F.cross_entropy(x, striate.tensor([0, 1, 2, 1]), striate.ones(4))
    with pytest.raises(ValueError, match="label_smoothing"):
        F.cross_entropy(x, striate.tensor([0, 1, 2, 1]), label_smoothing=1.5)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_nll_loss(reduction):
    lp, t, w = log_softmax(randn(6, 4)), RNG.integers(0, 4, 6), RNG.random(4) + 0.5
    t[3] = -100
    out = check_nn(lambda m, a, b, c: m.nll_loss(a, b, c, reduction=reduction), [lp, t, w],
                   grad_inputs=[0])
    valid = t != -100
    ts = np.where(valid, t, 0)
    per = -w[ts] * lp[np.arange(6), ts] * valid
    np.testing.assert_allclose(out, reduce(per, reduction, (w[ts] * valid).sum()), rtol=1e-12)
    check_nn(lambda m, a, b: m.nll_loss(a, b, reduction=reduction),
             [log_softmax(randn(2, 3, 4)), RNG.integers(0, 3, (2, 4))])
    # nll_loss after log_softmax is cross_entropy
    x = striate.tensor(randn(6, 4))
    np.testing.assert_allclose(
        F.nll_loss(F.log_softmax(x, dim=1), striate.tensor(t), reduction=reduction).array,
        F.cross_entropy(x, striate.tensor(t), reduction=reduction).array, rtol=1e-12)


# ---- multi_margin_loss (the SVM) ---------------------------------------------------------------


def svm_scores(n, c, margin):
    """Scores whose margins ``margin - s_y + s_j`` stay at least 0.1 away from the hinge at 0."""
    x, t = randn(n, c), RNG.integers(0, c, n)
    h = margin - x[np.arange(n), t][:, None] + x
    near = np.abs(h) < 0.1
    near[np.arange(n), t] = False
    return x + 0.25 * near, t


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("p", [1, 2])
def test_multi_margin_loss(reduction, p):
    x, t = svm_scores(6, 5, 0.7)
    w = RNG.random(5) + 0.5
    out = check_nn(lambda m, a, b: m.multi_margin_loss(a, b, p=p, margin=0.7,
                                                         reduction=reduction), [x, t])
    h = np.maximum(0, 0.7 - x[np.arange(6), t][:, None] + x)
    h[np.arange(6), t] = 0
    np.testing.assert_allclose(out, reduce((h**p).sum(1) / 5, reduction), rtol=1e-12)
    check_nn(lambda m, a, b, c: m.multi_margin_loss(a, b, p, 0.7, c, reduction=reduction),
             [x, t, w], grad_inputs=[0])


def test_multi_margin_loss_is_the_course_svm_over_c():
    x, t = svm_scores(8, 6, 1.0)
    course = np.mean([sum(max(0.0, x[i, j] - x[i, t[i]] + 1.0) for j in range(6) if j != t[i])
                      for i in range(8)])
    ours = F.multi_margin_loss(striate.tensor(x), striate.tensor(t), margin=1.0).item()
    np.testing.assert_allclose(6 * ours, course, rtol=1e-12)


def test_multi_margin_loss_errors():
    x = striate.tensor(randn(3, 4))
    with pytest.raises(ValueError, match="p must be 1 or 2, got 3"):
        F.multi_margin_loss(x, striate.tensor([0, 1, 2]), p=3)
    with pytest.raises(IndexError, match="class index 4 but input has 4 classes"):
        F.multi_margin_loss(x, striate.tensor([0, 4, 2]))
    with pytest.raises(ValueError, match=r"\(N, C\) or \(C,\)"):
        F.multi_margin_loss(striate.tensor(randn(2, 3, 4)), striate.tensor([0, 1]))


# ---- regression losses -------------------------------------------------------------------------


def pair_away_from(kinks, *shape):
    """(input, target) whose difference stays 0.05 away from each |d| in ``kinks``."""
    x, d = randn(*shape), randn(*shape) * 1.5
    for k in kinks:
        near = np.abs(np.abs(d) - k) < 0.05
        d = np.where(near, d + np.sign(d) * 0.1, d)
    return x, x - d


REGRESSION = [
    ("mse", lambda m, a, b, r: m.mse_loss(a, b, reduction=r), lambda d: d * d, ()),
    ("l1", lambda m, a, b, r: m.l1_loss(a, b, reduction=r), np.abs, (0,)),
    ("smooth_l1", lambda m, a, b, r: m.smooth_l1_loss(a, b, reduction=r, beta=0.6),
     lambda d: np.where(np.abs(d) < 0.6, 0.5 * d * d / 0.6, np.abs(d) - 0.3), (0, 0.6)),
    ("smooth_l1_beta0", lambda m, a, b, r: m.smooth_l1_loss(a, b, reduction=r, beta=0.0),
     np.abs, (0,)),
    ("huber", lambda m, a, b, r: m.huber_loss(a, b, reduction=r, delta=0.6),
     lambda d: np.where(np.abs(d) < 0.6, 0.5 * d * d, 0.6 * (np.abs(d) - 0.3)), (0, 0.6)),
]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name, f, formula, kinks", REGRESSION, ids=[r[0] for r in REGRESSION])
def test_regression_losses(name, f, formula, kinks, reduction):
    x, t = pair_away_from(kinks, 4, 5)
    out = check_nn(lambda m, a, b: f(m, a, b, reduction), [x, t])
    np.testing.assert_allclose(out, reduce(formula(x - t), reduction), rtol=1e-12)
    xs = striate.tensor(x.astype(np.float32), requires_grad=True)
    y = f(F, xs, striate.tensor(t.astype(np.float32)), reduction)
    assert y.dtype == np.float32


def test_regression_shape_errors():
    x = striate.tensor(randn(4, 1))
    with pytest.raises(ValueError, match=r"target has shape \(4,\) but input has shape \(4, 1\)"):
        F.mse_loss(x, striate.tensor(randn(4)))
    with pytest.raises(TypeError, match="floating"):
        F.l1_loss(x, striate.tensor(np.ones((4, 1), dtype=np.int64)))
    with pytest.raises(ValueError, match="beta must be >= 0"):
        F.smooth_l1_loss(x, x, beta=-1.0)


# ---- binary cross-entropy and KL ---------------------------------------------------------------


def softplus(x):
    return np.logaddexp(0, x)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_with_logits(reduction):
    x, t = randn(5, 3) * 3, RNG.random((5, 3))
    out = check_nn(lambda m, a, b: m.binary_cross_entropy_with_logits(a, b, reduction=reduction),
                   [x, t])
    per = t * softplus(-x) + (1 - t) * softplus(x)
    np.testing.assert_allclose(out, reduce(per, reduction), rtol=1e-12)
    w, pw = RNG.random((5, 1)) + 0.5, RNG.random(3) + 0.5
    out = check_nn(lambda m, a, b, c, d: m.binary_cross_entropy_with_logits(
        a, b, c, reduction=reduction, pos_weight=d), [x, t, w, pw], grad_inputs=[0, 1])
    per = w * (pw * t * softplus(-x) + (1 - t) * softplus(x))
    np.testing.assert_allclose(out, reduce(per, reduction), rtol=1e-12)


def test_bce_with_logits_is_stable():
    x = striate.tensor([1000.0, -1000.0, 1000.0, -1000.0], requires_grad=True)
    t = striate.tensor([0.0, 0.0, 1.0, 1.0])
    loss = F.binary_cross_entropy_with_logits(x, t, reduction="none")
    np.testing.assert_allclose(loss.array, [1000.0, 0.0, 0.0, 1000.0])
    loss.sum().backward()
    np.testing.assert_allclose(x.grad.array, [1.0, 0.0, 0.0, -1.0])


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_cross_entropy(reduction):
    p, t, w = RNG.random((4, 3)) * 0.9 + 0.05, RNG.random((4, 3)), RNG.random(3) + 0.5
    out = check_nn(lambda m, a, b, c: m.binary_cross_entropy(a, b, c, reduction=reduction),
                   [p, t, w], grad_inputs=[0, 1])
    per = -w * (t * np.log(p) + (1 - t) * np.log(1 - p))
    np.testing.assert_allclose(out, reduce(per, reduction), rtol=1e-12)


def test_binary_cross_entropy_clamps_and_checks_range():
    loss = F.binary_cross_entropy(striate.tensor([0.0, 1.0]), striate.tensor([1.0, 0.0]))
    np.testing.assert_allclose(loss.item(), 100.0)  # each log clamped at -100, as PyTorch
    with pytest.raises(ValueError, match=r"probabilities in \[0, 1\].*1\.5"):
        F.binary_cross_entropy(striate.tensor([0.5, 1.5]), striate.tensor([1.0, 0.0]))
    with pytest.raises(ValueError, match=r"weight of shape \(4,\) does not broadcast"):
        F.binary_cross_entropy(striate.tensor([[0.5, 0.2]]), striate.tensor([[1.0, 0.0]]),
                               striate.ones(4))


@pytest.mark.filterwarnings("ignore:reduction. 'mean' divides")  # PyTorch's, for 'mean'
@pytest.mark.parametrize("reduction", [*REDUCTIONS, "batchmean"])
def test_kl_div(reduction):
    lp = log_softmax(randn(4, 5))
    q = RNG.random((4, 5)) + 0.1
    q /= q.sum(axis=1, keepdims=True)
    out = check_nn(lambda m, a, b: m.kl_div(a, b, reduction=reduction), [lp, q])
    per = q * (np.log(q) - lp)
    want = per.sum() / 4 if reduction == "batchmean" else reduce(per, reduction)
    np.testing.assert_allclose(out, want, rtol=1e-12)
    check_nn(lambda m, a, b: m.kl_div(a, b, reduction=reduction, log_target=True),
             [lp, np.log(q)])


# ---- reductions --------------------------------------------------------------------------------

ALL_LOSSES = [
    lambda r: F.cross_entropy(striate.tensor(randn(2, 3)), striate.tensor([0, 1]), reduction=r),
    lambda r: F.nll_loss(striate.tensor(randn(2, 3)), striate.tensor([0, 1]), reduction=r),
    lambda r: F.multi_margin_loss(striate.tensor(randn(2, 3)), striate.tensor([0, 1]),
                                  reduction=r),
    lambda r: F.mse_loss(striate.tensor(randn(2)), striate.tensor(randn(2)), reduction=r),
    lambda r: F.l1_loss(striate.tensor(randn(2)), striate.tensor(randn(2)), reduction=r),
    lambda r: F.smooth_l1_loss(striate.tensor(randn(2)), striate.tensor(randn(2)), reduction=r),
    lambda r: F.huber_loss(striate.tensor(randn(2)), striate.tensor(randn(2)), reduction=r),
    lambda r: F.binary_cross_entropy_with_logits(striate.tensor(randn(2)),
                                                 striate.tensor([0.0, 1.0]), reduction=r),
    lambda r: F.binary_cross_entropy(striate.tensor([0.3, 0.6]), striate.tensor([0.0, 1.0]),
                                     reduction=r),
    lambda r: F.kl_div(striate.tensor(randn(2)), striate.tensor([0.3, 0.7]), reduction=r),
]


@pytest.mark.parametrize("i", range(len(ALL_LOSSES)))
def test_bad_reduction_is_named(i):
    with pytest.raises(ValueError, match="reduction must be one of .*'mean'.*got 'avg'"):
        ALL_LOSSES[i]("avg")
    assert ALL_LOSSES[i]("sum").shape == ()
