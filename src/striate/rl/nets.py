"""The networks of the deep methods: MLPs, the Q-network (with the dueling head as an option),
and the policy (a Categorical over discrete actions, a diagonal Normal over continuous ones).

Initialisation follows the common practice of the reference implementations (orthogonal
weights, gain sqrt(2) in hidden layers, a small gain on the policy's output so the first policy
is near uniform, gain 1 on value outputs); it is stated here, not inherited from layer defaults.
"""

from __future__ import annotations

import math

from .. import nn, ops
from ..autograd.tensor import Tensor, zeros
from ..distributions import Categorical, Independent, Normal

__all__ = ["mlp", "QNetwork", "Policy"]

_ACTIVATIONS = {"tanh": nn.Tanh, "relu": nn.ReLU}


def _init(linear: nn.Linear, gain: float) -> nn.Linear:
    nn.init.orthogonal_(linear.weight, gain)
    nn.init.zeros_(linear.bias)
    return linear


def mlp(sizes, activation: str = "tanh", out_gain: float = 1.0) -> nn.Sequential:
    """``Linear -> act -> ... -> Linear`` through ``sizes`` (in, hidden..., out)."""
    if activation not in _ACTIVATIONS:
        raise ValueError(f"mlp: activation must be one of {sorted(_ACTIVATIONS)}, got "
                         f"{activation!r}")
    layers = []
    for k in range(len(sizes) - 1):
        last = k == len(sizes) - 2
        layers.append(_init(nn.Linear(sizes[k], sizes[k + 1]),
                            out_gain if last else math.sqrt(2)))
        if not last:
            layers.append(_ACTIVATIONS[activation]())
    return nn.Sequential(*layers)


class QNetwork(nn.Module):
    """Q(s, .) for every action. ``dueling=True`` splits the head into a state value V(s) and
    advantages A(s, a): ``Q = V + A - mean_a A`` (Wang et al. 2016; the mean makes V and A
    identifiable)."""

    def __init__(self, obs_size: int, num_actions: int, hidden=(256, 256),
                 dueling: bool = False, activation: str = "relu"):
        super().__init__()
        self.dueling = dueling
        if dueling:
            self.torso = mlp((obs_size, *hidden), activation)
            self.torso.append(_ACTIVATIONS[activation]())
            self.value = _init(nn.Linear(hidden[-1], 1), 1.0)
            self.advantage = _init(nn.Linear(hidden[-1], num_actions), 1.0)
        else:
            self.net = mlp((obs_size, *hidden, num_actions), activation)

    def forward(self, x: Tensor) -> Tensor:
        if not self.dueling:
            return self.net(x)
        h = self.torso(x)
        a = self.advantage(h)
        return self.value(h) + a - a.mean(dim=1, keepdim=True)


class Policy(nn.Module):
    """pi(a|s): logits of a Categorical for ``num_actions`` discrete actions, or, with
    ``action_dim``, the mean of a diagonal Normal whose log standard deviation is a learned
    parameter of its own (state-independent, as in the PPO paper)."""

    def __init__(self, obs_size: int, num_actions: int | None = None,
                 action_dim: int | None = None, hidden=(64, 64), activation: str = "tanh"):
        super().__init__()
        if (num_actions is None) == (action_dim is None):
            raise ValueError("Policy: give num_actions (discrete) or action_dim (continuous)")
        self.continuous = action_dim is not None
        out = action_dim if self.continuous else num_actions
        self.net = mlp((obs_size, *hidden, out), activation, out_gain=0.01)
        if self.continuous:
            self.log_std = nn.Parameter(zeros(action_dim))

    def forward(self, x: Tensor):
        """The action distribution for a batch of observations (N, obs_size)."""
        out = self.net(x)
        if self.continuous:
            return Independent(Normal(out, ops.exp(self.log_std).expand(*out.shape)), 1)
        return Categorical(logits=out)

    def greedy(self, x: Tensor) -> Tensor:
        """The most likely action (argmax of the logits, or the Normal's mean)."""
        out = self.net(x)
        return out if self.continuous else out.argmax(dim=-1)
