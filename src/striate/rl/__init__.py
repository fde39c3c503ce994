"""Reinforcement learning, the lecture as working software.

- ``mdp``: finite MDPs (S, A, R, P, gamma), exact policy evaluation, value and policy iteration.
- ``gridworld``: the Grid World MDP; ``envs.GridWorldEnv`` runs it as a ``gymnasium.Env``.
- ``tabular``: Q-learning with epsilon-greedy exploration.

The environment side (``envs`` and the deep methods) needs gymnasium, the ``rl`` extra; the
MDP side is NumPy only.
"""

from __future__ import annotations

from .gridworld import GridWorld
from .mdp import MDP, greedy_policy, policy_evaluation, policy_iteration, q_from_v, value_iteration
from .tabular import epsilon_greedy, linear_schedule, q_learning

__all__ = ["MDP", "GridWorld", "policy_evaluation", "q_from_v", "greedy_policy",
           "value_iteration", "policy_iteration", "q_learning", "epsilon_greedy",
           "linear_schedule"]
