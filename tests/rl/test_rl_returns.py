"""Returns, advantages and the policy-gradient losses against hand computations (and PyTorch
where installed)."""

import numpy as np
import pytest

import striate
from striate.rl.losses import policy_gradient_loss, ppo_clip_loss
from striate.rl.returns import discounted_returns, gae, n_step_returns


def test_discounted_returns_by_hand():
    G = discounted_returns([1.0, 2.0, 3.0], 0.5)
    # G2 = 3, G1 = 2 + 0.5 * 3, G0 = 1 + 0.5 * 3.5
    np.testing.assert_allclose(G, [2.75, 3.5, 3.0], atol=1e-12, rtol=0)
    np.testing.assert_allclose(discounted_returns([1.0, 1.0], 1.0), [2.0, 1.0], atol=0, rtol=0)


def _gae_by_sum(r, V, V_next, term, end, gamma, lam):
    """A_t = sum_k (gamma lam)^k delta_{t+k}, the sum stopping after the step that ends the
    episode: the closed form, not the recursion."""
    T, N = r.shape
    delta = r + gamma * V_next * (1 - term) - V
    A = np.zeros((T, N))
    for n in range(N):
        for t in range(T):
            for k in range(T - t):
                A[t, n] += (gamma * lam) ** k * delta[t + k, n]
                if end[t + k, n]:
                    break
    return A


def test_gae_against_the_closed_form():
    rng = np.random.default_rng(0)
    T, N = 6, 3
    r = rng.normal(size=(T, N))
    V = rng.normal(size=(T, N))
    V_next = rng.normal(size=(T, N))
    term = np.zeros((T, N))
    end = np.zeros((T, N))
    term[2, 0] = end[2, 0] = 1  # a terminal state: no bootstrap, recursion cut
    end[3, 1] = 1  # a time-limit cut: bootstrapped from V_next, recursion cut
    A, R = gae(r, V, V_next, term, end, 0.9, 0.8)
    np.testing.assert_allclose(A, _gae_by_sum(r, V, V_next, term, end, 0.9, 0.8),
                               atol=1e-12, rtol=1e-12)
    np.testing.assert_allclose(R, A + V, atol=1e-12, rtol=0)
    # lam = 0: the one-step TD error
    A0, _ = gae(r, V, V_next, term, end, 0.9, 0.0)
    np.testing.assert_allclose(A0, r + 0.9 * V_next * (1 - term) - V, atol=1e-12, rtol=0)


def test_gae_by_hand_three_steps():
    # one environment, gamma = 0.5, lam = 0.5, terminal at the last step
    r = np.array([[1.0], [0.0], [2.0]])
    V = np.array([[0.5], [1.0], [1.5]])
    V_next = np.array([[1.0], [1.5], [9.0]])  # 9 is ignored: terminal
    term = end = np.array([[0.0], [0.0], [1.0]])
    A, _ = gae(r, V, V_next, term, end, 0.5, 0.5)
    d = [1 + 0.5 * 1.0 - 0.5, 0 + 0.5 * 1.5 - 1.0, 2 - 1.5]  # 1.0, -0.25, 0.5
    np.testing.assert_allclose(A[:, 0], [d[0] + 0.25 * d[1] + 0.0625 * d[2],
                                         d[1] + 0.25 * d[2], d[2]], atol=1e-12, rtol=0)


def test_n_step_returns_are_gae_with_lambda_one():
    rng = np.random.default_rng(1)
    T, N = 5, 4
    r, V, V_next = rng.normal(size=(3, T, N))
    term = (rng.random((T, N)) < 0.2).astype(float)
    end = np.maximum(term, (rng.random((T, N)) < 0.2).astype(float))
    # inside an episode the next state's value is the next step's V (as in a real rollout)
    V_next[:-1] = np.where(end[:-1] > 0, V_next[:-1], V[1:])
    R = n_step_returns(r, V_next, term, end, 0.95)
    A, R_gae = gae(r, V, V_next, term, end, 0.95, 1.0)
    np.testing.assert_allclose(R, R_gae, atol=1e-12, rtol=1e-12)
    # by hand for one column with no ends: r0 + g r1 + ... + g^(T-1) r_{T-1} + g^T V(s_T)
    g = 0.95
    zero = np.zeros((T, 1))
    R1 = n_step_returns(r[:, :1], V_next[:, :1], zero, zero, g)
    expect = sum(g ** k * r[k, 0] for k in range(T)) + g ** T * V_next[-1, 0]
    assert R1[0, 0] == pytest.approx(expect, abs=1e-12)


def test_returns_shape_errors():
    with pytest.raises(ValueError, match="next_values must have the rewards' shape"):
        n_step_returns(np.zeros((3, 2)), np.zeros((3, 1)), np.zeros((3, 2)), np.zeros((3, 2)), 0.9)


def test_ppo_clip_gradients_vanish_where_clipped():
    eps = 0.2
    old = np.zeros(4)
    ratio = np.array([1.5, 0.5, 0.5, 1.5])
    adv = np.array([1.0, 1.0, -1.0, -1.0])
    logp = striate.tensor(np.log(ratio), dtype=striate.float64, requires_grad=True)
    loss = ppo_clip_loss(logp, striate.tensor(old), striate.tensor(adv), eps)
    loss.backward()
    # A > 0, ratio 1.5 > 1.2: clipped (no push further up); A > 0, ratio 0.5: unclipped,
    # d(-ratio A / 4)/dlogp = -ratio A / 4; A < 0, ratio 0.5 < 0.8: clipped; A < 0, ratio 1.5:
    # unclipped
    expect = np.array([0.0, -0.5 * 1.0 / 4, 0.0, -1.5 * -1.0 / 4])
    np.testing.assert_allclose(logp.grad.numpy(), expect, atol=1e-12, rtol=1e-12)
    value = -np.mean(np.minimum(ratio * adv, np.clip(ratio, 1 - eps, 1 + eps) * adv))
    assert loss.item() == pytest.approx(value, abs=1e-12)
    with pytest.raises(ValueError, match="clip must be > 0"):
        ppo_clip_loss(logp, striate.tensor(old), striate.tensor(adv), 0.0)


def test_ppo_clip_loss_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    lp, old, adv = rng.normal(scale=0.3, size=(3, 16))
    x = striate.tensor(lp, requires_grad=True)
    ppo_clip_loss(x, striate.tensor(old), striate.tensor(adv), 0.1).backward()
    t = torch.tensor(lp, requires_grad=True)
    ratio = torch.exp(t - torch.tensor(old))
    a = torch.tensor(adv)
    (-torch.min(ratio * a, torch.clamp(ratio, 0.9, 1.1) * a).mean()).backward()
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), atol=1e-12, rtol=1e-10)


def test_policy_gradient_loss_gradient_is_minus_advantage():
    logp = striate.tensor([-0.5, -1.0], dtype=striate.float64, requires_grad=True)
    adv = striate.tensor([2.0, -1.0], dtype=striate.float64, requires_grad=True)
    policy_gradient_loss(logp, adv).backward()
    np.testing.assert_allclose(logp.grad.numpy(), [-1.0, 0.5], atol=1e-12, rtol=0)
    assert adv.grad is None  # the advantage is a constant of the policy's loss
