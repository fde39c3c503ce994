"""Tabular Q-learning with epsilon-greedy exploration, for environments with Discrete states
and actions (Grid World, FrozenLake, Taxi, ...).

The update is the sampled Bellman optimality backup,
``Q[s, a] += alpha (r + gamma max_a' Q[s', a'] - Q[s, a])``, with no bootstrap past a terminal
state (a time-limit truncation still bootstraps: the state had a future).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = ["linear_schedule", "epsilon_greedy", "q_learning"]


def linear_schedule(start: float, end: float, duration: int) -> Callable[[int], float]:
    """``t -> start`` moving linearly to ``end`` over ``duration`` steps, then ``end``."""
    def value(t: int) -> float:
        return end + (start - end) * max(0.0, 1.0 - t / max(duration, 1))
    return value


def epsilon_greedy(q_row: np.ndarray, epsilon: float, rng: np.random.Generator) -> int:
    """A uniformly random action with probability epsilon, else a greedy one (ties at random,
    so an all-zero table does not always pick action 0)."""
    if rng.random() < epsilon:
        return int(rng.integers(len(q_row)))
    best = np.flatnonzero(q_row == q_row.max())
    return int(best[rng.integers(len(best))])


def q_learning(env, episodes: int = 2000, alpha: float = 0.1, gamma: float | None = None,
               epsilon_start: float = 1.0, epsilon_end: float = 0.05,
               explore_fraction: float = 0.5, seed: int = 0, progress=None):
    """Learn Q by interacting with ``env`` (Discrete observations and actions).

    Args:
        env: a gymnasium environment.
        episodes: episodes to run.
        alpha: step size.
        gamma: discount; default the environment's own (``env.unwrapped.mdp.gamma`` for Grid
            World) or 0.99.
        epsilon_start, epsilon_end, explore_fraction: epsilon decays linearly from start to end
            over that fraction of the episodes.
        seed: seeds the first reset and the exploration generator: a run repeats exactly.
        progress: called with (episode, return) after each episode (a progress bar).

    Returns:
        ``(Q, returns)``: the table (S, A) float64 and the return of each episode (list).

    Raises:
        ValueError: the environment's spaces are not both Discrete.
    """
    from .envs import check_spaces, spaces  # gymnasium is needed only to run an environment

    check_spaces(env, "qlearn", actions=("Discrete",))
    if not isinstance(env.observation_space, spaces.Discrete):
        raise ValueError("qlearn: tabular Q-learning needs a Discrete observation space, got "
                         f"{env.observation_space}")
    if gamma is None:
        gamma = getattr(getattr(env.unwrapped, "mdp", None), "gamma", 0.99)
    Q = np.zeros((int(env.observation_space.n), int(env.action_space.n)))
    rng = np.random.default_rng(seed)
    eps = linear_schedule(epsilon_start, epsilon_end, int(explore_fraction * episodes))
    returns = []
    for ep in range(episodes):
        s, _ = env.reset(seed=seed if ep == 0 else None)
        total, done = 0.0, False
        while not done:
            a = epsilon_greedy(Q[s], eps(ep), rng)
            s2, r, terminated, truncated, _ = env.step(a)
            target = r + (0.0 if terminated else gamma * Q[s2].max())
            Q[s, a] += alpha * (target - Q[s, a])
            total += r
            s, done = s2, terminated or truncated
        returns.append(total)
        if progress is not None:
            progress(ep, total)
    return Q, returns
