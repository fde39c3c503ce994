"""The rest of torch.distributions' surface on the existing classes: Normal.cdf / icdf, the
constraints (arg_constraints, support), enumerate_support, perplexity, expand's shape rule and
validation setting; values and gradients equal torch's in float64."""

from __future__ import annotations

import numpy as np
import pytest

import striate
from striate import distributions as D
from striate.autograd import gradcheck

TOL = dict(rtol=1e-10, atol=1e-12)


def _np(t):
    return np.asarray(t.detach().numpy(), dtype=np.float64)


def _normal_both(torch, rng, shape=(3, 4)):
    loc, scale = rng.standard_normal(shape), rng.uniform(0.5, 2.0, shape)
    ours = [striate.tensor(a, requires_grad=True) for a in (loc, scale)]
    theirs = [torch.tensor(a, requires_grad=True) for a in (loc, scale)]
    return ours, theirs


@pytest.mark.parametrize("what", ["cdf", "icdf"])
def test_normal_cdf_icdf_values_and_gradients_equal_torch(torch, rng, what):
    (loc, scale), (tloc, tscale) = _normal_both(torch, rng)
    v = rng.standard_normal((3, 4)) * 2 if what == "cdf" else rng.uniform(0.01, 0.99, (3, 4))
    x, tx = striate.tensor(v, requires_grad=True), torch.tensor(v, requires_grad=True)
    out = getattr(D.Normal(loc, scale), what)(x)
    tout = getattr(torch.distributions.Normal(tloc, tscale), what)(tx)
    np.testing.assert_allclose(out.array, _np(tout), **TOL)
    w = rng.standard_normal((3, 4))
    (out * striate.tensor(w)).sum().backward()
    (tout * torch.tensor(w)).sum().backward()
    for o, t in ((loc, tloc), (scale, tscale), (x, tx)):
        np.testing.assert_allclose(o.grad.array, _np(t.grad), **TOL)


def test_normal_cdf_icdf_numerical_gradients_and_edges(rng):
    loc = striate.tensor(rng.standard_normal(4), requires_grad=True)
    scale = striate.tensor(rng.uniform(0.5, 2.0, 4), requires_grad=True)
    x = striate.tensor(rng.standard_normal(4), requires_grad=True)
    p = striate.tensor(rng.uniform(0.05, 0.95, 4), requires_grad=True)
    assert gradcheck(lambda m, s, v: D.Normal(m, s).cdf(v), (loc, scale, x))
    assert gradcheck(lambda m, s, q: D.Normal(m, s).icdf(q), (loc, scale, p))
    d = D.Normal(0.0, 1.0)
    q = d.icdf(striate.tensor([0.0, 1.0, 1.5, 0.5]))
    assert q[0].item() == -np.inf and q[1].item() == np.inf and np.isnan(q[2].item())
    assert q[3].item() == 0.0
    # cdf and icdf invert each other, far into the tails (ndtr keeps its precision there)
    z = striate.tensor(np.linspace(-30, 5, 8))
    np.testing.assert_allclose(d.icdf(d.cdf(z)).array, z.array, rtol=1e-9, atol=1e-9)
    with pytest.raises(ValueError, match="Normal.log_prob: expected value .* support"):
        d.cdf(striate.tensor(float("nan")))


def test_constraints_check_and_names_equal_torch(torch):
    TC = torch.distributions.constraints
    C = D.constraints
    values = np.array([[-1.0, 0.0, 0.5, 1.0, np.inf, np.nan], [2.0, 3.0, 0.0, 1.0, 1.0, -0.0]])
    pairs = [(C.real, TC.real), (C.positive, TC.positive), (C.nonnegative, TC.nonnegative),
             (C.unit_interval, TC.unit_interval), (C.boolean, TC.boolean),
             (C.integer_interval(0, 2), TC.integer_interval(0, 2)),
             (C.nonnegative_integer, TC.nonnegative_integer), (C.real_vector, TC.real_vector),
             (C.greater_than(0.5), TC.greater_than(0.5)), (C.interval(-1, 2), TC.interval(-1, 2)),
             (C.independent(C.positive, 1), TC.independent(TC.positive, 1))]
    for ours, theirs in pairs:
        assert repr(ours) == repr(theirs)
        assert ours.event_dim == theirs.event_dim and ours.is_discrete == theirs.is_discrete
        np.testing.assert_array_equal(ours.check(striate.tensor(values)).array,
                                      theirs.check(torch.tensor(values)).numpy())
    simplex = np.array([[0.5, 0.5], [1.0, 1.0], [-0.5, 1.5]])
    np.testing.assert_array_equal(C.simplex.check(striate.tensor(simplex)).array,
                                  TC.simplex.check(torch.tensor(simplex)).numpy())
    for ours, theirs in [(D.Normal(0.0, 1.0), torch.distributions.Normal(0.0, 1.0)),
                         (D.Bernoulli(0.3), torch.distributions.Bernoulli(0.3)),
                         (D.Categorical(logits=striate.zeros(3)),
                          torch.distributions.Categorical(logits=torch.zeros(3))),
                         (D.Independent(D.Normal(striate.zeros(2), 1.0), 1),
                          torch.distributions.Independent(
                              torch.distributions.Normal(torch.zeros(2), 1.0), 1))]:
        assert repr(ours.support) == repr(theirs.support)
        assert {k: repr(v) for k, v in ours.arg_constraints.items()} == \
            {k: repr(v) for k, v in theirs.arg_constraints.items()}
        assert ours.has_enumerate_support == theirs.has_enumerate_support


def test_enumerate_support_and_perplexity_equal_torch(torch):
    probs = np.array([[0.2, 0.3, 0.5], [0.6, 0.2, 0.2]])
    for make in (lambda lib, p: lib.Categorical(probs=p), lambda lib, p: lib.Bernoulli(p[:, 0])):
        ours, theirs = make(D, striate.tensor(probs)), make(torch.distributions,
                                                           torch.tensor(probs))
        for expand in (True, False):
            a, b = ours.enumerate_support(expand), theirs.enumerate_support(expand)
            assert tuple(a.shape) == tuple(b.shape)
            assert a.dtype == b.numpy().dtype
            np.testing.assert_array_equal(a.array, b.numpy())
        # summing probabilities over the support gives one per batch entry
        np.testing.assert_allclose(ours.log_prob(ours.enumerate_support()).exp().sum(0).array,
                                   1.0, **TOL)
        np.testing.assert_allclose(ours.perplexity().array, _np(theirs.perplexity()), **TOL)
    with pytest.raises(NotImplementedError, match="Normal.enumerate_support"):
        D.Normal(0.0, 1.0).enumerate_support()
    with pytest.raises(NotImplementedError, match="Bernoulli.cdf"):
        D.Bernoulli(0.3).cdf(striate.tensor(1.0))


def test_expand_checks_shapes_and_keeps_validation(torch):
    d = D.Normal(striate.zeros(2), 1.0)
    e = d.expand((4, 2))
    assert e.batch_shape == (4, 2) == tuple(torch.distributions.Normal(
        torch.zeros(2), 1.0).expand((4, 2)).batch_shape)
    with pytest.raises(RuntimeError, match=r"Normal.expand: batch_shape \(2,\) cannot"):
        d.expand((3,))
    with pytest.raises(RuntimeError):
        torch.distributions.Normal(torch.zeros(2), 1.0).expand((3,))
    # the expanded distribution validates as the original did (PyTorch keeps the setting)
    with pytest.raises(ValueError, match="support"):
        D.Bernoulli(striate.tensor([0.3])).expand((2, 1)).log_prob(striate.tensor(0.5))
    off = D.Bernoulli(striate.tensor([0.3]), validate_args=False).expand((2, 1))
    assert off.log_prob(striate.tensor(0.5)).shape == (2, 1)
    c = D.Categorical(probs=striate.tensor([[0.2, 0.8]])).expand((3, 1))
    assert c.batch_shape == (3, 1) and c.sample().shape == (3, 1)
    i = D.Independent(D.Normal(striate.zeros(2), 1.0), 1).expand((5,))
    assert i.batch_shape == (5,) and i.event_shape == (2,)
