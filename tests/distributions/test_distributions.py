"""striate.distributions against torch.distributions: values and gradients in float64."""

from __future__ import annotations

import numpy as np
import pytest

import striate
from striate import distributions as D
from striate.autograd import gradcheck

RTOL, ATOL = 1e-10, 1e-12


def _pair(*arrays):
    """The same float64 arrays as striate and torch leaves that require grad."""
    torch = pytest.importorskip("torch")
    ours = [striate.tensor(a.copy(), requires_grad=a.dtype.kind == "f") for a in arrays]
    theirs = [torch.tensor(a.copy(), requires_grad=a.dtype.kind == "f") for a in arrays]
    return torch, ours, theirs


def _same(a, b):
    np.testing.assert_allclose(np.asarray(a.detach().numpy() if hasattr(a, "detach") else a,
                                          dtype=np.float64),
                               b.detach().numpy(), rtol=RTOL, atol=ATOL)


def _same_values_and_grads(f_ours, f_theirs, ours, theirs):
    """Compare ``f`` (a tensor) and the gradients of ``sum(f * w)`` for a fixed random ``w``."""
    out, tout = f_ours(*ours), f_theirs(*theirs)
    _same(out.array, tout)
    w = np.random.default_rng(7).standard_normal(tout.shape)
    (out * striate.tensor(w)).sum().backward()
    (tout * theirs[0].new_tensor(w)).sum().backward()
    for o, t in zip(ours, theirs):
        if t.grad is None:  # an input the value does not depend on
            assert o.grad is None or not np.any(o.grad.array)
        elif t.requires_grad:
            _same(o.grad.array, t.grad)


def _normal_args(rng, shape=(3, 4)):
    return rng.standard_normal(shape), rng.uniform(0.5, 2.0, shape), rng.standard_normal(shape)


@pytest.mark.parametrize("what", ["log_prob", "entropy", "mean", "variance", "stddev"])
def test_normal_matches_torch(what):
    rng = np.random.default_rng(0)
    torch, (loc, scale, x), (tloc, tscale, tx) = _pair(*_normal_args(rng))

    def run(lib, m, s, v):
        d = (D if lib is striate else lib.distributions).Normal(m, s)
        return d.log_prob(v) if what == "log_prob" else (
            d.entropy() if what == "entropy" else getattr(d, what))

    _same_values_and_grads(lambda *t: run(striate, *t), lambda *t: run(torch, *t),
                           [loc, scale, x], [tloc, tscale, tx])


def test_normal_broadcasts_numbers_and_shapes():
    d = D.Normal(striate.zeros(2, 1, dtype=striate.float64), 2.0)
    assert d.batch_shape == (2, 1) and d.event_shape == ()
    assert d.sample((5,)).shape == (5, 2, 1)
    assert d.sample(5).shape == (5, 2, 1)
    assert d.expand((2, 3)).batch_shape == (2, 3)
    assert d.log_prob(striate.zeros(4, 2, 3, dtype=striate.float64)).shape == (4, 2, 3)


def test_normal_rsample_is_reparameterised_and_sample_is_not():
    loc = striate.tensor(np.array([0.5, -1.0]), requires_grad=True)
    scale = striate.tensor(np.array([2.0, 0.3]), requires_grad=True)
    striate.manual_seed(0)
    z = D.Normal(loc, scale).rsample((1000,))
    z.sum().backward()
    eps = (z.array - loc.array) / scale.array
    np.testing.assert_allclose(loc.grad.array, [1000, 1000])
    np.testing.assert_allclose(scale.grad.array, eps.sum(0), rtol=1e-12)
    assert not D.Normal(loc, scale).sample((3,)).requires_grad
    # the draws have the right moments (10,000 draws: 4-sigma bands)
    striate.manual_seed(1)
    s = D.Normal(loc.detach(), scale.detach()).sample((10000,)).array
    assert np.all(np.abs(s.mean(0) - [0.5, -1.0]) < 4 * np.array([2.0, 0.3]) / 100)
    np.testing.assert_allclose(s.std(0), [2.0, 0.3], rtol=0.05)
    # seeded: the same seed gives the same draws
    striate.manual_seed(3)
    a = D.Normal(0.0, 1.0).sample((4,))
    striate.manual_seed(3)
    assert np.array_equal(a.array, D.Normal(0.0, 1.0).sample((4,)).array)


def test_normal_gradcheck():
    rng = np.random.default_rng(2)
    loc, scale, x = (striate.tensor(a, requires_grad=True) for a in _normal_args(rng, (2, 3)))
    assert gradcheck(lambda m, s, v: D.Normal(m, s).log_prob(v), (loc, scale, x))
    q = (striate.tensor(rng.standard_normal((2, 3))), striate.tensor(rng.uniform(1, 2, (2, 3))))
    assert gradcheck(lambda m, s: D.kl_divergence(D.Normal(m, s), D.Normal(*q)), (loc, scale))


@pytest.mark.parametrize("param", ["probs", "logits"])
@pytest.mark.parametrize("what", ["log_prob", "entropy", "mean", "variance"])
def test_bernoulli_matches_torch(param, what):
    rng = np.random.default_rng(1)
    p = rng.uniform(0.05, 0.95, (3, 4)) if param == "probs" else rng.standard_normal((3, 4))
    x = (rng.random((3, 4)) < 0.5).astype(np.float64)
    torch, ours, theirs = _pair(p, x)
    ours[1].requires_grad = theirs[1].requires_grad = False

    def run(lib, a, v):
        d = (D if lib is striate else lib.distributions).Bernoulli(**{param: a})
        return d.log_prob(v) if what == "log_prob" else (
            d.entropy() if what == "entropy" else getattr(d, what))

    _same_values_and_grads(lambda *t: run(striate, *t), lambda *t: run(torch, *t), ours, theirs)


@pytest.mark.parametrize("param", ["probs", "logits"])
@pytest.mark.parametrize("what", ["log_prob", "entropy", "probs", "logits"])
def test_categorical_matches_torch(param, what):
    rng = np.random.default_rng(2)
    p = rng.uniform(0.1, 2.0, (3, 5)) if param == "probs" else rng.standard_normal((3, 5))
    x = rng.integers(0, 5, (2, 3))
    torch, ours, theirs = _pair(p, x)

    def run(lib, a, v):
        d = (D if lib is striate else lib.distributions).Categorical(**{param: a})
        return d.log_prob(v) if what == "log_prob" else (
            d.entropy() if what == "entropy" else getattr(d, what))

    _same_values_and_grads(lambda *t: run(striate, *t), lambda *t: run(torch, *t), ours, theirs)


def test_categorical_samples_follow_probs_and_shapes():
    striate.manual_seed(0)
    probs = np.array([[0.1, 0.2, 0.7], [0.5, 0.5, 0.0]])
    d = D.Categorical(probs=striate.tensor(probs))
    s = d.sample((20000,)).array
    assert s.shape == (20000, 2) and s.dtype == np.int64
    for row in range(2):
        freq = np.bincount(s[:, row], minlength=3) / len(s)
        np.testing.assert_allclose(freq, probs[row], atol=0.015)
    assert d.batch_shape == (2,) and d.event_shape == ()
    assert d.expand((4, 2)).sample().shape == (4, 2)


def test_bernoulli_samples_follow_probs():
    striate.manual_seed(0)
    s = D.Bernoulli(probs=striate.tensor([0.2, 0.9])).sample((20000,)).array
    np.testing.assert_allclose(s.mean(0), [0.2, 0.9], atol=0.015)
    assert set(np.unique(s)) <= {0.0, 1.0}


def test_independent_matches_torch():
    rng = np.random.default_rng(3)
    torch, (loc, scale, x), (tloc, tscale, tx) = _pair(*_normal_args(rng, (2, 3, 4)))

    def run(lib, m, s, v):
        dist = D if lib is striate else lib.distributions
        d = dist.Independent(dist.Normal(m, s), 2)
        assert tuple(d.batch_shape) == (2,) and tuple(d.event_shape) == (3, 4)
        return d.log_prob(v) + d.entropy()

    _same_values_and_grads(lambda *t: run(striate, *t), lambda *t: run(torch, *t),
                           [loc, scale, x], [tloc, tscale, tx])
    assert D.Independent(D.Normal(loc, scale), 1).sample((5,)).shape == (5, 2, 3, 4)


@pytest.mark.parametrize("kind", ["Normal", "Bernoulli", "Categorical", "Independent"])
def test_kl_divergence_matches_torch(kind):
    rng = np.random.default_rng(4)
    if kind in ("Normal", "Independent"):
        arrays = [rng.standard_normal((3, 4)), rng.uniform(0.5, 2, (3, 4)),
                  rng.standard_normal((3, 4)), rng.uniform(0.5, 2, (3, 4))]
    elif kind == "Bernoulli":
        arrays = [rng.uniform(0.05, 0.95, (3, 4)), rng.uniform(0.05, 0.95, (3, 4))]
    else:
        arrays = [rng.standard_normal((3, 4)), rng.standard_normal((3, 4))]
    torch, ours, theirs = _pair(*arrays)

    def run(lib, *t):
        dist = D if lib is striate else lib.distributions
        if kind == "Normal":
            p, q = dist.Normal(t[0], t[1]), dist.Normal(t[2], t[3])
        elif kind == "Independent":
            p, q = (dist.Independent(dist.Normal(t[0], t[1]), 1),
                    dist.Independent(dist.Normal(t[2], t[3]), 1))
        elif kind == "Bernoulli":
            p, q = dist.Bernoulli(probs=t[0]), dist.Bernoulli(logits=t[1])
        else:
            p, q = dist.Categorical(logits=t[0]), dist.Categorical(probs=t[1].exp())
        return (D.kl_divergence if lib is striate else lib.distributions.kl_divergence)(p, q)

    _same_values_and_grads(lambda *t: run(striate, *t), lambda *t: run(torch, *t), ours, theirs)


def test_kl_edge_cases_and_unknown_pairs():
    p = D.Categorical(probs=striate.tensor([0.5, 0.5, 0.0], dtype=striate.float64))
    q = D.Categorical(probs=striate.tensor([0.5, 0.0, 0.5], dtype=striate.float64))
    assert D.kl_divergence(p, q).item() == float("inf")
    assert D.kl_divergence(p, p).item() == 0.0
    with pytest.raises(NotImplementedError, match="no closed form for Normal || Bernoulli"):
        D.kl_divergence(D.Normal(0.0, 1.0), D.Bernoulli(probs=0.5))


def test_bad_parameters_and_values_are_named():
    with pytest.raises(ValueError, match=r"Normal: expected parameter scale .* greater than 0"):
        D.Normal(0.0, striate.tensor([1.0, -0.5]))
    with pytest.raises(ValueError, match=r"Bernoulli: expected parameter probs .*\[0, 1\]"):
        D.Bernoulli(probs=striate.tensor([0.5, 1.5]))
    with pytest.raises(ValueError, match=r"Categorical: expected parameter probs"):
        D.Categorical(probs=striate.tensor([0.5, -0.1, 0.6]))
    with pytest.raises(ValueError, match="either probs or logits"):
        D.Bernoulli(probs=0.3, logits=0.1)
    with pytest.raises(ValueError, match=r"within the support \(\{0, 1\}\)"):
        D.Bernoulli(probs=0.3).log_prob(striate.tensor(0.5))
    with pytest.raises(ValueError, match=r"within the support \(integers 0 .. 2\)"):
        D.Categorical(logits=striate.zeros(3)).log_prob(striate.tensor([3]))
    with pytest.raises(ValueError, match="Independent: reinterpreted_batch_ndims=2"):
        D.Independent(D.Normal(striate.zeros(3), 1.0), 2)
    # validate_args=False skips the checks, as in PyTorch
    D.Normal(0.0, -1.0, validate_args=False)


def test_torch_raises_for_the_same_parameters():
    torch = pytest.importorskip("torch")
    with pytest.raises(ValueError):
        torch.distributions.Normal(0.0, torch.tensor([1.0, -0.5]))
    with pytest.raises(ValueError):
        torch.distributions.Bernoulli(probs=torch.tensor([0.5, 1.5]))
    with pytest.raises(ValueError):
        torch.distributions.Bernoulli(probs=0.3).log_prob(torch.tensor(0.5))
