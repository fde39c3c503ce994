"""Linear SVM and softmax: naive = vectorised = autograd = numerical gradients; training."""

import numpy as np
import pytest

import striate
from striate import functional as F
from striate.classic import (
    LinearSVM,
    Softmax,
    fit_linear_classifier,
    plot_loss_history,
    plot_templates,
    regularization,
    softmax_loss_naive,
    softmax_loss_vectorized,
    svm_loss_naive,
    svm_loss_vectorized,
)
from striate.data import digits


def _problem(seed=0, n=12, d=7, c=4):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((d, c)), rng.standard_normal((n, d)), rng.integers(0, c, n)


def _numerical_grad(f, W, h=1e-5):
    g = np.zeros_like(W)
    for idx in np.ndindex(W.shape):
        old = W[idx]
        W[idx] = old + h
        plus = f(W)
        W[idx] = old - h
        minus = f(W)
        W[idx] = old
        g[idx] = (plus - minus) / (2 * h)
    return g


def _rel(a, b):
    return np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b)))


LOSSES = [(svm_loss_naive, svm_loss_vectorized), (softmax_loss_naive, softmax_loss_vectorized)]


@pytest.mark.parametrize("naive,vectorized", LOSSES, ids=["svm", "softmax"])
@pytest.mark.parametrize("reg_type", ["l2", "l1", "elastic"])
@pytest.mark.parametrize("bias", [False, True])
def test_naive_equals_vectorized_equals_numerical(naive, vectorized, reg_type, bias):
    W, X, y = _problem()
    l1, g1 = naive(W, X, y, 0.3, reg_type=reg_type, bias=bias)
    l2, g2 = vectorized(W, X, y, 0.3, reg_type=reg_type, bias=bias)
    assert abs(l1 - l2) < 1e-10 * max(1.0, abs(l1))
    np.testing.assert_allclose(g1, g2, rtol=1e-10, atol=1e-12)
    num = _numerical_grad(lambda w: vectorized(w, X, y, 0.3, reg_type=reg_type, bias=bias)[0],
                          W.copy())
    assert _rel(num, g2) < 1e-6


def test_losses_equal_autograd_losses():
    W, X, y = _problem(1, n=20, d=9, c=5)
    Wt = striate.tensor(W, requires_grad=True)
    scores = striate.tensor(X) @ Wt
    # the course's SVM loss sums over classes: C times PyTorch's multi_margin_loss
    ref = F.multi_margin_loss(scores, striate.tensor(y), margin=2.0) * 5
    ref.backward()
    loss, dW = svm_loss_vectorized(W, X, y, 0.0, delta=2.0)
    assert abs(loss - ref.item()) < 1e-10
    np.testing.assert_allclose(dW, Wt.grad.array, rtol=1e-9, atol=1e-12)

    Wt = striate.tensor(W, requires_grad=True)
    ce = F.cross_entropy(striate.tensor(X) @ Wt, striate.tensor(y))
    ce.backward()
    loss, dW = softmax_loss_vectorized(W, X, y, 0.0)
    assert abs(loss - ce.item()) < 1e-10
    np.testing.assert_allclose(dW, Wt.grad.array, rtol=1e-9, atol=1e-12)


def test_softmax_loss_is_stable_and_log_c_at_zero_weights():
    _, X, y = _problem(2, c=10)
    loss, _ = softmax_loss_vectorized(np.zeros((7, 10)), X, y, 0.0)
    assert abs(loss - np.log(10)) < 1e-12
    svm, _ = svm_loss_vectorized(np.zeros((7, 10)), X, y, 0.0)
    assert abs(svm - 9.0) < 1e-12  # every margin is delta = 1
    big = np.full((7, 10), 1e4)
    big[:, 3] = -1e4
    l1, _ = softmax_loss_naive(big, X, y, 0.0)
    l2, _ = softmax_loss_vectorized(big, X, y, 0.0)
    assert np.isfinite(l2) and abs(l1 - l2) < 1e-6 * abs(l1)


def test_regularization_terms():
    W = np.array([[1.0, -2.0], [0.5, 0.0], [3.0, -4.0]])
    r, d = regularization(W, 0.1, "l2")
    assert np.isclose(r, 0.1 * np.sum(W * W)) and np.allclose(d, 0.2 * W)
    r, d = regularization(W, 0.1, "l1")
    assert np.isclose(r, 0.1 * np.abs(W).sum()) and np.allclose(d, 0.1 * np.sign(W))
    r, d = regularization(W, 0.1, "elastic", l1_ratio=0.25)
    assert np.isclose(r, 0.1 * (0.25 * np.abs(W).sum() + 0.75 * np.sum(W * W)))
    r, d = regularization(W, 0.1, "l2", bias=True)  # the last row is the bias: unpenalised
    assert np.isclose(r, 0.1 * np.sum(W[:2] ** 2)) and np.all(d[2] == 0)
    with pytest.raises(ValueError, match="reg_type must be one of l2, l1, elastic, got 'l3'"):
        regularization(W, 0.1, "l3")


@pytest.fixture(scope="module")
def prepared_digits():
    d = digits()
    f = lambda s: s.X.reshape(len(s), -1)  # noqa: E731
    Xtr = f(d.train)
    mean, std = Xtr.mean(axis=0), Xtr.std()
    g = lambda X: (X - mean) / std  # noqa: E731
    return g(Xtr), d.train.y, g(f(d.val)), d.val.y, g(f(d.test)), d.test.y


@pytest.mark.parametrize("loss", ["svm", "softmax"])
def test_sgd_reaches_the_digits_targets(prepared_digits, loss):
    Xtr, ytr, Xva, yva, Xte, yte = prepared_digits
    striate.manual_seed(0)
    fit = fit_linear_classifier(Xtr, ytr, Xva, yva, loss=loss, learning_rate=0.1, reg=1e-3,
                                num_iters=1500, batch_size=200)
    clf = fit.classifier
    assert isinstance(clf, LinearSVM if loss == "svm" else Softmax)
    assert len(fit.loss_history) == 1500
    assert np.mean(fit.loss_history[-100:]) < 0.2 * fit.loss_history[0]
    test = np.mean(clf.predict(Xte) == yte)
    assert test >= 0.94, test
    assert fit.val_accuracy >= 0.93 and clf.W.shape == (64, 10) and clf.b.shape == (10,)
    np.testing.assert_allclose(clf.scores(Xte[:3]), Xte[:3] @ clf.W + clf.b, rtol=1e-5)


def test_training_is_repeatable_and_regularisation_shrinks_weights(prepared_digits):
    Xtr, ytr = prepared_digits[:2]
    runs = []
    for reg, reg_type in ((0.0, "l2"), (0.0, "l2"), (0.5, "l2"), (0.05, "l1")):
        striate.manual_seed(3)
        clf = Softmax()
        clf.train(Xtr, ytr, learning_rate=0.05, reg=reg, num_iters=200, reg_type=reg_type)
        runs.append(clf.W.copy())
    np.testing.assert_array_equal(runs[0], runs[1])
    assert np.linalg.norm(runs[2]) < 0.5 * np.linalg.norm(runs[0])
    assert np.mean(np.abs(runs[3]) < 1e-2) > np.mean(np.abs(runs[0]) < 1e-2)  # L1: sparser
    proba = clf.predict_proba(Xtr[:5])
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)


def test_pictures_are_written(prepared_digits, tmp_path):
    Xtr, ytr = prepared_digits[:2]
    striate.manual_seed(0)
    clf = LinearSVM()
    history = clf.train(Xtr, ytr, learning_rate=0.05, reg=1e-3, num_iters=60)
    assert plot_templates(clf.W, (1, 8, 8), [str(k) for k in range(10)], tmp_path / "t.png")
    assert plot_loss_history(history, tmp_path / "l.png")
    for name in ("t.png", "l.png"):
        assert (tmp_path / name).read_bytes()[:4] == b"\x89PNG"
    with pytest.raises(ValueError, match=r"W must be \(192, 10\)"):
        plot_templates(clf.W, (3, 8, 8), list("abcdefghij"), tmp_path / "x.png")


def test_bad_input_is_reported():
    W, X, y = _problem()
    with pytest.raises(ValueError, match=r"W \(7, 4\) and X \(12, 3\)"):
        svm_loss_vectorized(W, X[:, :3], y, 0.1)
    with pytest.raises(ValueError, match="labels must be in 0..3, found"):
        softmax_loss_vectorized(W, X, y + 4, 0.1)
    clf = Softmax()
    with pytest.raises(RuntimeError, match="call train"):
        clf.predict(X)
    with pytest.raises(ValueError, match=r"X must be a float \(N, D\) array"):
        clf.train(np.zeros((4, 2, 2)), np.zeros(4, np.int64))
    with pytest.raises(ValueError, match="num_iters must be a positive int, got 0"):
        clf.train(X, y, num_iters=0)
    with pytest.raises(ValueError, match="loss must be 'svm' or 'softmax'"):
        fit_linear_classifier(X, y, X, y, loss="hinge")
    clf.train(X, y, num_iters=2)
    with pytest.raises(ValueError, match=r"X must be \(N, 7\)"):
        clf.predict(X[:, :3])
