"""Reinforcement learning, the lecture as working software.

- ``mdp``: finite MDPs (S, A, R, P, gamma), exact policy evaluation, value and policy iteration.
- ``gridworld``: the Grid World MDP; ``envs.GridWorldEnv`` runs it as a ``gymnasium.Env``
  (id ``GridWorld-v0``).
- ``tabular``: Q-learning with epsilon-greedy exploration.
- ``dqn`` (``DQN``), ``policy_gradient`` (``REINFORCE``, ``A2C``, ``PPO``): the deep methods on
  gymnasium environments, built on ``agent.Agent`` (run folders, evaluation, resuming);
  ``returns`` and ``losses`` hold their targets and objectives.
- ``ram``: the recurrent attention model on translated digits.

The environment side needs gymnasium, the ``rl`` extra (``pip install "striate[rl]"``); its
names (``DQN``, ``PPO``, ``make_env``, ...) load on first use, so the MDP side works without it.
"""

from __future__ import annotations

import importlib

from .gridworld import GridWorld
from .mdp import MDP, greedy_policy, policy_evaluation, policy_iteration, q_from_v, value_iteration
from .tabular import epsilon_greedy, linear_schedule, q_learning

_LAZY = {"DQN": "dqn", "REINFORCE": "policy_gradient", "A2C": "policy_gradient",
         "PPO": "policy_gradient", "Agent": "agent", "evaluate": "agent",
         "load_agent": "agent", "make_env": "envs", "make_vector_env": "envs",
         "GridWorldEnv": "envs", "train_ram": "ram", "RecurrentAttention": "ram"}

__all__ = ["MDP", "GridWorld", "policy_evaluation", "q_from_v", "greedy_policy",
           "value_iteration", "policy_iteration", "q_learning", "epsilon_greedy",
           "linear_schedule", *_LAZY]


def __getattr__(name):
    if name in _LAZY:
        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
