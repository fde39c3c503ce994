"""Returns and advantages on raw arrays: the targets policy gradients and critics regress to.

Rollouts are (T, N): T steps of N parallel environments. ``terminated[t]`` says the episode
ended at step t in a terminal state (no future: nothing to bootstrap); ``ends[t]`` says it ended
for any reason (terminal, or cut by a time limit); ``next_values[t]`` is the critic's value of
the state after step t (for a cut episode, of its final observation: the episode had a future
the rollout did not see, so it is bootstrapped).
"""

from __future__ import annotations

import numpy as np

__all__ = ["discounted_returns", "n_step_returns", "gae"]


def discounted_returns(rewards, gamma: float) -> np.ndarray:
    """Reward-to-go of one episode: ``G_t = sum_k gamma^k r_{t+k}`` (T,), by the backward
    recursion ``G_t = r_t + gamma G_{t+1}``."""
    r = np.asarray(rewards, dtype=np.float64)
    G = np.zeros_like(r)
    running = 0.0
    for t in range(len(r) - 1, -1, -1):
        running = r[t] + gamma * running
        G[t] = running
    return G


def _check(rewards, *others):
    r = np.asarray(rewards, dtype=np.float64)
    out = [r]
    for name, a in others:
        a = np.asarray(a)
        if a.shape != r.shape:
            raise ValueError(f"returns: {name} must have the rewards' shape {r.shape}, got "
                             f"{a.shape}")
        out.append(a)
    return out


def n_step_returns(rewards, next_values, terminated, ends, gamma: float) -> np.ndarray:
    """A2C's targets: rewards summed to the end of the rollout (or of the episode), then
    bootstrapped with the critic: ``R_t = r_t + gamma R_{t+1}`` inside an episode,
    ``r_t + gamma V(s_{t+1})`` at the rollout's last step or a time-limit cut, ``r_t`` at a
    terminal step. Step t looks ``T - t`` steps ahead (the n of "n-step")."""
    r, v, term, end = _check(rewards, ("next_values", next_values), ("terminated", terminated),
                             ("ends", ends))
    R = np.zeros_like(r)
    for t in range(len(r) - 1, -1, -1):
        boot = v[t] * (1 - term[t])
        nxt = boot if t == len(r) - 1 else np.where(end[t], boot, R[t + 1])
        R[t] = r[t] + gamma * nxt
    return R


def gae(rewards, values, next_values, terminated, ends, gamma: float, lam: float):
    """Generalised advantage estimation (Schulman et al. 2016).

    ``delta_t = r_t + gamma V(s_{t+1}) (1 - terminated_t) - V(s_t)`` and
    ``A_t = delta_t + gamma lam A_{t+1}``, the recursion cut where an episode ends. lam = 0 is
    the one-step TD error, lam = 1 the n-step return minus V.

    Returns:
        ``(advantages, returns)``, both (T, N) float64; ``returns = advantages + values`` is the
        critic's target.
    """
    r, V, v_next, term, end = _check(rewards, ("values", values), ("next_values", next_values),
                                     ("terminated", terminated), ("ends", ends))
    delta = r + gamma * v_next * (1 - term) - V
    A = np.zeros_like(r)
    running = np.zeros_like(r[0])
    for t in range(len(r) - 1, -1, -1):
        running = delta[t] + gamma * lam * (1 - end[t]) * running
        A[t] = running
    return A, A + V
