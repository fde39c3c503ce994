"""Finite Markov decision processes (S, A, R, P, gamma) and dynamic programming on them.

The lecture's definition, as arrays: ``P[s, a, s']`` is the probability of landing in ``s'``
after action ``a`` in state ``s``, ``R[s, a]`` the expected immediate reward, ``gamma`` the
discount. Terminal states end an episode: their value is 0 and no transition leaves them.

Everything here is raw NumPy in float64: the exact value of a policy is one linear solve of the
Bellman expectation equation, ``V = R_pi + gamma P_pi V``; value iteration repeats the Bellman
optimality backup ``V <- max_a R + gamma P V``; policy iteration alternates the exact solve with
greedy improvement. These are the oracles the sampled methods (Q-learning, DQN) are checked
against.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["MDP", "policy_evaluation", "q_from_v", "greedy_policy", "value_iteration",
           "policy_iteration"]


@dataclass(eq=False)
class MDP:
    """A finite MDP: ``P`` (S, A, S) transition probabilities, ``R`` (S, A) or (S, A, S)
    rewards, discount ``gamma``, and an optional boolean ``terminal`` mask (S,).

    A reward given per transition, ``R[s, a, s']``, is reduced to its expectation
    ``sum_s' P[s, a, s'] R[s, a, s']``: the Bellman equations need no more.

    Raises:
        ValueError: shapes that do not agree, rows of ``P`` that do not sum to 1, gamma outside
            [0, 1], or gamma = 1 without terminal states (values would be infinite).
    """

    P: np.ndarray
    R: np.ndarray
    gamma: float
    terminal: np.ndarray | None = None
    state_names: list = field(default_factory=list)

    def __post_init__(self):
        P = np.asarray(self.P, dtype=np.float64)
        R = np.asarray(self.R, dtype=np.float64)
        if P.ndim != 3 or P.shape[0] != P.shape[2]:
            raise ValueError(f"MDP: P must have shape (S, A, S), got {P.shape}")
        S, A, _ = P.shape
        if R.shape == (S, A, S):
            R = (P * R).sum(axis=2)
        if R.shape != (S, A):
            raise ValueError(f"MDP: R must have shape (S, A) = {(S, A)} or (S, A, S), "
                             f"got {R.shape}")
        if np.any(P < 0) or not np.allclose(P.sum(axis=2), 1.0, atol=1e-10):
            raise ValueError("MDP: every row P[s, a, :] must be a probability vector "
                             "(non-negative, summing to 1)")
        if not 0.0 <= self.gamma <= 1.0:
            raise ValueError(f"MDP: gamma must be in [0, 1], got {self.gamma}")
        terminal = (np.zeros(S, dtype=bool) if self.terminal is None
                    else np.asarray(self.terminal, dtype=bool))
        if terminal.shape != (S,):
            raise ValueError(f"MDP: terminal must have shape ({S},), got {terminal.shape}")
        if self.gamma == 1.0 and not terminal.any():
            raise ValueError("MDP: gamma = 1 needs terminal states (else values are infinite)")
        # terminal states are absorbing with reward 0, whatever the caller wrote there
        P[terminal] = 0.0
        for s in np.flatnonzero(terminal):
            P[s, :, s] = 1.0
        R[terminal] = 0.0
        self.P, self.R, self.terminal = P, R, terminal

    @property
    def num_states(self) -> int:
        return self.P.shape[0]

    @property
    def num_actions(self) -> int:
        return self.P.shape[1]

    def bellman_backup(self, V: np.ndarray) -> np.ndarray:
        """One Bellman optimality backup: ``max_a R[s, a] + gamma sum_s' P[s, a, s'] V[s']``."""
        return q_from_v(self, V).max(axis=1)


def _as_policy(mdp: MDP, policy) -> np.ndarray:
    """A deterministic policy (S,) of action indices, or a stochastic one (S, A), as (S, A)."""
    pi = np.asarray(policy)
    S, A = mdp.num_states, mdp.num_actions
    if pi.shape == (S,):
        if not np.issubdtype(pi.dtype, np.integer) or pi.min() < 0 or pi.max() >= A:
            raise ValueError(f"policy_evaluation: a deterministic policy holds action indices "
                             f"0 .. {A - 1}, got {pi}")
        return np.eye(A)[pi]
    if pi.shape != (S, A):
        raise ValueError(f"policy_evaluation: policy must have shape ({S},) or ({S}, {A}), "
                         f"got {pi.shape}")
    return pi.astype(np.float64)


def policy_evaluation(mdp: MDP, policy) -> np.ndarray:
    """The exact value of ``policy``: solve ``(I - gamma P_pi) V = R_pi`` over non-terminal states.

    Args:
        mdp: the MDP.
        policy: action indices (S,) or action probabilities (S, A).

    Returns:
        V (S,) float64, 0 at terminal states.

    Raises:
        numpy.linalg.LinAlgError: gamma = 1 and the policy never reaches a terminal state.
    """
    pi = _as_policy(mdp, policy)
    live = ~mdp.terminal
    P_pi = np.einsum("sa,sat->st", pi, mdp.P)[np.ix_(live, live)]
    R_pi = (pi * mdp.R).sum(axis=1)[live]
    V = np.zeros(mdp.num_states)
    V[live] = np.linalg.solve(np.eye(int(live.sum())) - mdp.gamma * P_pi, R_pi)
    return V


def q_from_v(mdp: MDP, V: np.ndarray) -> np.ndarray:
    """Action values ``Q[s, a] = R[s, a] + gamma sum_s' P[s, a, s'] V[s']`` (S, A)."""
    return mdp.R + mdp.gamma * mdp.P @ V


def greedy_policy(mdp: MDP, V: np.ndarray, tol: float = 1e-12) -> np.ndarray:
    """The greedy policy (S,) for ``V``; ties (within ``tol``) go to the lowest action index,
    so the result does not flicker with rounding."""
    Q = q_from_v(mdp, V)
    return np.argmax(Q >= Q.max(axis=1, keepdims=True) - tol, axis=1)


def value_iteration(mdp: MDP, tol: float = 1e-12, max_iterations: int = 100_000):
    """Value iteration: repeat ``V <- max_a R + gamma P V`` until no value moves more than ``tol``.

    Returns:
        ``(V, policy, deltas)``: the values (S,), the greedy policy (S,) and the largest change
        of each sweep (its decay shows the gamma-contraction).

    Raises:
        RuntimeError: no convergence within ``max_iterations`` sweeps.
    """
    V = np.zeros(mdp.num_states)
    deltas = []
    for _ in range(max_iterations):
        V_new = mdp.bellman_backup(V)
        deltas.append(float(np.abs(V_new - V).max()))
        V = V_new
        if deltas[-1] < tol:
            return V, greedy_policy(mdp, V), deltas
    raise RuntimeError(f"value_iteration: no convergence to {tol} in {max_iterations} sweeps "
                       f"(last change {deltas[-1]:.3g})")


def policy_iteration(mdp: MDP, policy=None, max_iterations: int = 1000):
    """Policy iteration: exact evaluation by a linear solve, then greedy improvement, until the
    policy is stable (it then satisfies the Bellman optimality equation).

    Args:
        mdp: the MDP.
        policy: the starting deterministic policy (S,); default all zeros.

    Returns:
        ``(V, policy, iterations)``.
    """
    pi = (np.zeros(mdp.num_states, dtype=np.int64) if policy is None
          else np.asarray(policy, dtype=np.int64).copy())
    for it in range(1, max_iterations + 1):
        V = policy_evaluation(mdp, pi)
        Q = q_from_v(mdp, V)
        # switch only where another action is strictly better: ties never cycle
        better = Q.max(axis=1) > Q[np.arange(len(pi)), pi] + 1e-12
        if not better.any():
            return V, pi, it
        pi = np.where(better, greedy_policy(mdp, V), pi)
    raise RuntimeError(f"policy_iteration: policy still changing after {max_iterations} steps")
