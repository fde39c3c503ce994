"""LBFGS against torch.optim.LBFGS: the same iterates on Rosenbrock and logistic regression."""

from __future__ import annotations

import numpy as np
import pytest

import striate
from striate.optim.lbfgs import _cubic_minimizer


def _rosenbrock(lib, x):
    return (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2


def _logistic_data():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 5))
    y = (X @ np.array([1.5, -2.0, 0.5, 0.0, 1.0]) + 0.3 * rng.standard_normal(60) > 0)
    return X, y.astype(np.float64)


def _logistic(lib, w, b, X, y):
    z = X @ w + b
    # mean binary cross-entropy with logits, plus a small L2 term
    return (lib.nn.functional.softplus(z) - y * z).mean() + 1e-3 * (w * w).sum()


def _run(lib, problem, x0s, steps, **kwargs):
    params = [lib.tensor(x.copy(), requires_grad=True) for x in x0s]
    opt = lib.optim.LBFGS(params, **kwargs)
    if problem == "rosenbrock":
        def loss_fn():
            return _rosenbrock(lib, params[0])
    else:
        X, y = (lib.tensor(a) for a in _logistic_data())

        def loss_fn():
            return _logistic(lib, params[0], params[1], X, y)

    def closure():
        opt.zero_grad()
        loss = loss_fn()
        loss.backward()
        return loss

    iterates, losses = [], []
    for _ in range(steps):
        losses.append(float(opt.step(closure).detach()))
        iterates.append(np.concatenate([p.detach().numpy().ravel() for p in params]))
    return np.array(iterates), np.array(losses), opt


# With a fixed step, Rosenbrock's iteration amplifies rounding differences (the two libraries
# sum dot products in different orders) about tenfold every four iterations, from 1e-16: the
# fixed-step settings stay under ~40 iterations in all, where the iterates still agree to 1e-9.
SETTINGS = [
    {"max_iter": 5},
    {"line_search_fn": "strong_wolfe"},
    {"lr": 0.5, "max_iter": 7, "history_size": 3},
    {"lr": 0.8, "max_iter": 5, "history_size": 4, "line_search_fn": "strong_wolfe"},
    {"max_iter": 30, "max_eval": 6, "tolerance_change": 1e-12},
    {"max_iter": 30, "max_eval": 9, "line_search_fn": "strong_wolfe"},
]


@pytest.mark.parametrize("problem", ["rosenbrock", "logistic"])
@pytest.mark.parametrize("kwargs", SETTINGS, ids=[str(s) for s in SETTINGS])
def test_iterates_equal_torch(problem, kwargs):
    torch = pytest.importorskip("torch")
    if problem == "rosenbrock":
        x0s = [np.array([-1.5, 2.0])]
    else:
        x0s = [np.zeros(5), np.zeros(1)]
    ours, our_losses, opt = _run(striate, problem, x0s, 6, **kwargs)
    theirs, their_losses, topt = _run(torch, problem, x0s, 6, **kwargs)
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-6)
    np.testing.assert_allclose(our_losses, their_losses, rtol=1e-9, atol=1e-9)
    state = opt.state[opt.param_groups[0]["params"][0]]
    tstate = topt.state[topt.param_groups[0]["params"][0]]
    assert state["func_evals"] == tstate["func_evals"]
    assert state["n_iter"] == tstate["n_iter"]


def test_rosenbrock_reaches_the_minimum():
    striate_x, losses, _ = _run(striate, "rosenbrock", [np.array([-1.5, 2.0])], 10,
                                line_search_fn="strong_wolfe")
    np.testing.assert_allclose(striate_x[-1], [1.0, 1.0], atol=1e-4)
    assert losses[-1] < 1e-9 < losses[0]


def test_cubic_minimizer_finds_a_cubics_minimum():
    # f(t) = (t - 1)^3 - 3 (t - 1): minimum at t = 2 (f' = 3 (t - 1)^2 - 3)
    def f(t):
        return (t - 1) ** 3 - 3 * (t - 1)

    def df(t):
        return 3 * (t - 1) ** 2 - 3

    assert _cubic_minimizer(1.5, f(1.5), df(1.5), 3.0, f(3.0), df(3.0)) == pytest.approx(2.0)
    assert _cubic_minimizer(3.0, f(3.0), df(3.0), 1.5, f(1.5), df(1.5)) == pytest.approx(2.0)
    # clipped to the bounds
    assert _cubic_minimizer(1.5, f(1.5), df(1.5), 3.0, f(3.0), df(3.0), (0, 1.8)) == 1.8


def test_bad_options_are_named():
    p = striate.zeros(2, requires_grad=True)
    with pytest.raises(ValueError, match="line_search_fn must be None or 'strong_wolfe'"):
        striate.optim.LBFGS([p], line_search_fn="backtracking")
    with pytest.raises(ValueError, match="several parameter groups"):
        striate.optim.LBFGS([{"params": [p]}, {"params": [striate.zeros(1, requires_grad=True)]}])
    with pytest.raises(ValueError, match="needs a closure"):
        striate.optim.LBFGS([p]).step(None)
