"""The update rules: each optimizer against the notes' formula (2 steps, by hand) and, where
PyTorch is installed, against torch.optim over several steps in float64."""

import numpy as np
import pytest

import striate
from striate import Tensor
from striate.optim import SGD, Adagrad, Adam, AdamW, RMSprop

G1 = np.array([[0.5, -1.0, 2.0], [0.1, 0.0, -0.3]])
G2 = np.array([[-0.2, 0.4, 1.0], [0.3, -0.7, 0.05]])
X0 = np.array([[1.0, -2.0, 0.5], [0.0, 3.0, -1.5]])


def _two_steps(opt_cls, **kwargs):
    """Run two steps with the fixed gradients G1, G2 and return the parameter after each."""
    p = striate.tensor(X0.copy(), requires_grad=True)
    opt = opt_cls([p], **kwargs)
    out = []
    for g in (G1, G2):
        p.grad = Tensor(g.copy())
        opt.step()
        out.append(p.array.copy())
    return out


def test_sgd_plain_with_weight_decay_matches_formula():
    lr, wd = 0.1, 0.01
    x1 = X0 - lr * (G1 + wd * X0)
    x2 = x1 - lr * (G2 + wd * x1)
    got = _two_steps(SGD, lr=lr, weight_decay=wd)
    np.testing.assert_allclose(got[0], x1, rtol=1e-13)
    np.testing.assert_allclose(got[1], x2, rtol=1e-13)


def test_sgd_momentum_matches_notes_velocity_form():
    # notes: v = mu * v - lr * dx; x += v  (v starts at 0)
    lr, mu, wd = 0.1, 0.9, 0.01
    x, v = X0.copy(), np.zeros_like(X0)
    expected = []
    for g in (G1, G2):
        dx = g + wd * x
        v = mu * v - lr * dx
        x = x + v
        expected.append(x.copy())
    got = _two_steps(SGD, lr=lr, momentum=mu, weight_decay=wd)
    np.testing.assert_allclose(got[0], expected[0], rtol=1e-13)
    np.testing.assert_allclose(got[1], expected[1], rtol=1e-13)


def test_sgd_nesterov_equals_notes_form_for_constant_lr():
    # The notes' (CS231n) Nesterov update, run on a gradient that depends on x, for many steps:
    # PyTorch's formulation (what SGD implements) gives the same iterates for a constant lr.
    lr, mu = 0.05, 0.9

    def grad(x):
        return np.tanh(3 * x) + 0.5 * x

    x, v = X0.copy(), np.zeros_like(X0)
    p = striate.tensor(X0.copy(), requires_grad=True)
    opt = SGD([p], lr=lr, momentum=mu, nesterov=True)
    for _ in range(20):
        dx = grad(x)
        v_prev = v
        v = mu * v - lr * dx
        x = x - mu * v_prev + (1 + mu) * v
        p.grad = Tensor(grad(p.array))
        opt.step()
    np.testing.assert_allclose(p.array, x, rtol=1e-12, atol=1e-14)


def test_adagrad_matches_notes_formula():
    lr, eps, wd = 0.1, 1e-10, 0.01
    x, cache = X0.copy(), np.zeros_like(X0)
    expected = []
    for g in (G1, G2):
        dx = g + wd * x
        cache = cache + dx**2
        x = x - lr * dx / (np.sqrt(cache) + eps)
        expected.append(x.copy())
    got = _two_steps(Adagrad, lr=lr, eps=eps, weight_decay=wd)
    np.testing.assert_allclose(got[0], expected[0], rtol=1e-13)
    np.testing.assert_allclose(got[1], expected[1], rtol=1e-13)


def test_rmsprop_matches_notes_formula():
    lr, decay, eps, wd = 0.01, 0.9, 1e-8, 0.01
    x, cache = X0.copy(), np.zeros_like(X0)
    expected = []
    for g in (G1, G2):
        dx = g + wd * x
        cache = decay * cache + (1 - decay) * dx**2
        x = x - lr * dx / (np.sqrt(cache) + eps)
        expected.append(x.copy())
    got = _two_steps(RMSprop, lr=lr, alpha=decay, eps=eps, weight_decay=wd)
    np.testing.assert_allclose(got[0], expected[0], rtol=1e-13)
    np.testing.assert_allclose(got[1], expected[1], rtol=1e-13)


def _adam_by_hand(lr, b1, b2, eps, wd, decoupled):
    x, m, v = X0.copy(), np.zeros_like(X0), np.zeros_like(X0)
    out = []
    for t, g in enumerate((G1, G2), start=1):
        if decoupled:
            x = x * (1 - lr * wd)
            dx = g
        else:
            dx = g + wd * x
        m = b1 * m + (1 - b1) * dx
        v = b2 * v + (1 - b2) * dx**2
        mt = m / (1 - b1**t)
        vt = v / (1 - b2**t)
        x = x - lr * mt / (np.sqrt(vt) + eps)
        out.append(x.copy())
    return out


@pytest.mark.parametrize("cls,decoupled", [(Adam, False), (AdamW, True)])
def test_adam_and_adamw_match_notes_formula_with_bias_correction(cls, decoupled):
    lr, betas, eps, wd = 0.01, (0.8, 0.95), 1e-8, 0.1
    expected = _adam_by_hand(lr, *betas, eps, wd, decoupled)
    got = _two_steps(cls, lr=lr, betas=betas, eps=eps, weight_decay=wd)
    np.testing.assert_allclose(got[0], expected[0], rtol=1e-12)
    np.testing.assert_allclose(got[1], expected[1], rtol=1e-12)


def test_adam_and_adamw_differ_only_by_where_decay_enters():
    # With weight_decay=0 the two are the same rule; with decay they must differ.
    a = _two_steps(Adam, lr=0.01)
    b = _two_steps(AdamW, lr=0.01, weight_decay=0.0)
    np.testing.assert_array_equal(a[1], b[1])
    c = _two_steps(Adam, lr=0.01, weight_decay=0.1)
    d = _two_steps(AdamW, lr=0.01, weight_decay=0.1)
    assert np.abs(c[1] - d[1]).max() > 1e-5


def test_amsgrad_uses_running_max_of_second_moment():
    lr, b1, b2, eps = 0.01, 0.9, 0.999, 1e-8
    x, m, v, vmax = X0.copy(), np.zeros_like(X0), np.zeros_like(X0), np.zeros_like(X0)
    # a large gradient then a small one, so max(v) != v at step 2
    grads = (G1 * 10, G2 * 0.01)
    p = striate.tensor(X0.copy(), requires_grad=True)
    opt = Adam([p], lr=lr, betas=(b1, b2), eps=eps, amsgrad=True)
    for t, g in enumerate(grads, start=1):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g**2
        vmax = np.maximum(vmax, v)
        x = x - lr * (m / (1 - b1**t)) / (np.sqrt(vmax / (1 - b2**t)) + eps)
        p.grad = Tensor(g.copy())
        opt.step()
    np.testing.assert_allclose(p.array, x, rtol=1e-12)
    np.testing.assert_array_equal(opt.state[p]["max_exp_avg_sq"], vmax)


@pytest.mark.parametrize("cls", [SGD, Adagrad, RMSprop, Adam, AdamW])
def test_float32_parameters_and_state_stay_float32(cls):
    p = striate.tensor(X0.astype(np.float32), requires_grad=True)
    opt = cls([p], lr=0.1, momentum=0.9) if cls in (SGD, RMSprop) else cls([p], lr=0.1)
    for g in (G1, G2):
        p.grad = Tensor(g.astype(np.float32))
        opt.step()
    assert p.dtype == np.float32
    for value in opt.state[p].values():
        if isinstance(value, np.ndarray):
            assert value.dtype == np.float32
    assert not np.allclose(p.array, X0)


# ---- PyTorch parity ---------------------------------------------------------------------------

CONFIGS = [
    ("SGD", {"lr": 0.1}),
    ("SGD", {"lr": 0.1, "momentum": 0.9}),
    ("SGD", {"lr": 0.05, "momentum": 0.8, "dampening": 0.3, "weight_decay": 0.01}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01}),
    ("Adagrad", {"lr": 0.1, "weight_decay": 0.01, "initial_accumulator_value": 0.1}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.05, "eps": 1e-6}),
    ("RMSprop", {"lr": 0.01, "alpha": 0.9, "weight_decay": 0.01}),
    ("RMSprop", {"lr": 0.01, "momentum": 0.9, "weight_decay": 0.01}),
    ("RMSprop", {"lr": 0.01, "momentum": 0.5, "centered": True}),
    ("Adam", {"lr": 0.01}),
    ("Adam", {"lr": 0.01, "betas": (0.8, 0.99), "weight_decay": 0.05}),
    ("Adam", {"lr": 0.01, "weight_decay": 0.05, "amsgrad": True}),
    ("AdamW", {"lr": 0.01}),
    ("AdamW", {"lr": 0.01, "weight_decay": 0.1, "amsgrad": True}),
    ("Adadelta", {"lr": 1.0}),
    ("Adadelta", {"lr": 0.5, "rho": 0.8, "eps": 1e-5, "weight_decay": 0.01}),
]


def _grad(x: np.ndarray) -> np.ndarray:
    # depends on x, so any difference in the iterates feeds back into later gradients
    return np.tanh(3 * x) + 0.5 * (x - 0.3) + 0.1 * x**2


@pytest.mark.parametrize("name,kwargs", CONFIGS, ids=[f"{n}-{k}" for n, k in CONFIGS])
def test_matches_torch_optim_over_several_steps(name, kwargs):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x0s = [rng.standard_normal((4, 3)), rng.standard_normal(5), rng.standard_normal((2, 2))]

    ours = [striate.tensor(x.copy(), requires_grad=True) for x in x0s]
    theirs = [torch.tensor(x.copy(), requires_grad=True) for x in x0s]

    # two groups, the second with its own lr; the last parameter never gets a gradient
    def groups(ps):
        return [{"params": ps[:1]}, {"params": ps[1:], "lr": kwargs["lr"] * 0.5}]

    opt = getattr(striate.optim, name)(groups(ours), **kwargs)
    topt = getattr(torch.optim, name)(groups(theirs), **kwargs)
    for _ in range(8):
        for p, tp in zip(ours[:2], theirs[:2]):
            p.grad = Tensor(_grad(p.array))
            tp.grad = torch.from_numpy(_grad(tp.detach().numpy()))
        opt.step()
        topt.step()
    for p, tp in zip(ours, theirs):
        np.testing.assert_allclose(p.array, tp.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(ours[2].array, x0s[2])  # grad None: untouched
    if name != "Adagrad":  # Adagrad fills its accumulator at construction, as torch does
        assert not opt.state.get(ours[2])
