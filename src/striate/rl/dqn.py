"""Deep Q-learning (Mnih et al. 2015): an experience replay buffer, a target network, an epsilon
schedule, the Huber loss and gradient clipping; Double DQN (van Hasselt et al. 2016) and the
dueling head (Wang et al. 2016) as options.

The defaults are the CartPole-v1 settings of the Stable-Baselines3 zoo's ``hyperparams/dqn.yml``
(a 256-256 ReLU network, Adam at 2.3e-3, 128 gradient steps of batch 64 every 256 environment
steps, epsilon from 1 to 0.04 over the first 16% of 50,000 steps). The zoo copies the target
network every 10 environment steps, so every round of gradient steps starts from a fresh copy
and runs against a fixed one: here, a copy every 128 gradient steps.
"""

from __future__ import annotations

import numpy as np

from .. import optim
from ..autograd.grad_mode import no_grad
from ..autograd.tensor import Tensor
from ..nn.utils.clip_grad import clip_grad_norm_
from ..ops import huber_loss
from .agent import AGENTS, Agent
from .envs import encode_obs, make_env
from .nets import QNetwork
from .tabular import linear_schedule

__all__ = ["ReplayBuffer", "DQN", "td_targets"]


class ReplayBuffer:
    """A ring buffer of transitions ``(s, a, r, s', terminated)`` in preallocated arrays;
    ``sample`` draws a uniform batch (with replacement, as the reference implementations do).
    Sampling old transitions breaks the correlation of consecutive steps."""

    def __init__(self, capacity: int, obs_size: int, action_shape: tuple = (),
                 action_dtype=np.int64):
        if capacity <= 0:
            raise ValueError(f"ReplayBuffer: capacity must be > 0, got {capacity}")
        self.capacity = int(capacity)
        self.obs = np.zeros((capacity, obs_size), dtype=np.float32)
        self.next_obs = np.zeros((capacity, obs_size), dtype=np.float32)
        self.actions = np.zeros((capacity, *action_shape), dtype=action_dtype)
        self.rewards = np.zeros(capacity, dtype=np.float32)
        self.terminated = np.zeros(capacity, dtype=np.float32)
        self.pos, self.size = 0, 0

    def __len__(self) -> int:
        return self.size

    def add(self, obs, action, reward, next_obs, terminated) -> None:
        i = self.pos
        self.obs[i], self.actions[i], self.rewards[i] = obs, action, reward
        self.next_obs[i], self.terminated[i] = next_obs, terminated
        self.pos = (i + 1) % self.capacity
        self.size = min(self.size + 1, self.capacity)

    def sample(self, batch_size: int, rng: np.random.Generator):
        """``(obs, actions, rewards, next_obs, terminated)`` arrays of ``batch_size`` rows."""
        if self.size == 0:
            raise ValueError("ReplayBuffer.sample: the buffer is empty")
        idx = rng.integers(self.size, size=batch_size)
        return (self.obs[idx], self.actions[idx], self.rewards[idx], self.next_obs[idx],
                self.terminated[idx])

    def state_dict(self) -> dict:
        n = self.size
        return {"obs": self.obs[:n], "next_obs": self.next_obs[:n], "actions": self.actions[:n],
                "rewards": self.rewards[:n], "terminated": self.terminated[:n],
                "pos": self.pos}

    def load_state_dict(self, state: dict) -> None:
        n = len(state["rewards"])
        for k in ("obs", "next_obs", "actions", "rewards", "terminated"):
            getattr(self, k)[:n] = state[k]
        self.size, self.pos = n, int(state["pos"])


def td_targets(rewards, terminated, q_next_target, gamma: float, q_next_online=None):
    """The bootstrapped targets ``y = r + gamma (1 - terminated) Q_target(s', a*)``.

    DQN takes ``a* = argmax_a Q_target(s', a)``; Double DQN (``q_next_online`` given) chooses
    ``a*`` with the online network and evaluates it with the target network, which removes the
    max's upward bias.
    """
    if q_next_online is None:
        q_next = q_next_target.max(axis=1)
    else:
        a_star = q_next_online.argmax(axis=1)
        q_next = q_next_target[np.arange(len(a_star)), a_star]
    return rewards + gamma * (1.0 - terminated) * q_next


class DQN(Agent):
    """DQN on a Discrete action space. Options (``DQN(env_id, seed, **options)``):

    ``double`` (Double DQN targets), ``dueling`` (the dueling head), ``hidden``, ``lr``,
    ``gamma``, ``buffer_size``, ``batch_size``, ``learning_starts``, ``train_freq`` (environment
    steps between training rounds), ``gradient_steps`` (updates per round), ``target_update``
    (gradient steps between copies into the target network), ``eps_start``, ``eps_end``,
    ``exploration_fraction`` (of ``total_steps``), ``max_grad_norm``, ``huber_delta``.
    """

    name = "dqn"
    defaults = {"total_steps": 50_000, "eval_every": 5_000, "double": False, "dueling": False,
                "hidden": [256, 256], "lr": 2.3e-3, "gamma": 0.99, "buffer_size": 100_000,
                "batch_size": 64, "learning_starts": 1000, "train_freq": 256,
                "gradient_steps": 128, "target_update": 128, "eps_start": 1.0,
                "eps_end": 0.04, "exploration_fraction": 0.16, "max_grad_norm": 10.0,
                "huber_delta": 1.0}

    def build(self) -> None:
        c = self.config
        n = int(self.act_space.n)
        self.q = QNetwork(self.obs_size, n, tuple(c["hidden"]), dueling=c["dueling"])
        self.q_target = QNetwork(self.obs_size, n, tuple(c["hidden"]), dueling=c["dueling"])
        self.q_target.load_state_dict(self.q.state_dict())
        self.q_target.requires_grad_(False)
        self.optimizer = optim.Adam(self.q.parameters(), lr=c["lr"])
        self.buffer = ReplayBuffer(c["buffer_size"], self.obs_size)
        self.updates = 0

    def modules(self) -> dict:
        return {"q": self.q, "q_target": self.q_target}

    def optimizers(self) -> dict:
        return {"adam": self.optimizer}

    def policy_action(self, x: Tensor) -> np.ndarray:
        return self.q(x).array.argmax(axis=1)

    def extra_state(self) -> dict:
        return {"buffer": self.buffer.state_dict(), "updates": self.updates}

    def load_extra_state(self, state: dict) -> None:
        self.buffer.load_state_dict(state["buffer"])
        self.updates = int(state["updates"])

    def epsilon(self) -> float:
        c = self.config
        return linear_schedule(c["eps_start"], c["eps_end"],
                               int(c["exploration_fraction"] * c["total_steps"]))(self.steps)

    def update(self) -> float:
        """One gradient step on a replayed batch; returns the loss."""
        c = self.config
        o, a, r, o2, term = self.buffer.sample(c["batch_size"], self.rng)
        with no_grad():
            q_next_target = self.q_target(Tensor(o2)).array
            q_next_online = self.q(Tensor(o2)).array if c["double"] else None
        y = td_targets(r, term, q_next_target, c["gamma"], q_next_online).astype(np.float32)
        q = self.q(Tensor(o)).gather(1, Tensor(a[:, None])).squeeze(1)
        # Huber: quadratic near 0, linear beyond delta, so one wild target cannot blow up a step
        loss = huber_loss(q, Tensor(y), delta=c["huber_delta"])
        self.optimizer.zero_grad()
        loss.backward()
        clip_grad_norm_(self.q.parameters(), c["max_grad_norm"])
        self.optimizer.step()
        self.updates += 1
        if self.updates % c["target_update"] == 0:
            self.sync_target()
        return float(loss.item())

    def sync_target(self) -> None:
        """Copy the online network's weights into the target network."""
        self.q_target.load_state_dict(self.q.state_dict())

    def _learn(self) -> None:
        c = self.config
        env = make_env(c["env_id"], seed=c["seed"])
        # a resumed run restarts its episode from a reset seeded by the step count
        obs, _ = env.reset(seed=c["seed"] + self.steps)
        n_actions = int(self.act_space.n)
        ret, length = 0.0, 0
        while True:
            x = encode_obs(self.obs_space, obs)
            if self.rng.random() < self.epsilon():
                a = int(self.rng.integers(n_actions))
            else:
                with no_grad():
                    a = int(self.policy_action(Tensor(x))[0])
            obs2, r, terminated, truncated, _ = env.step(a)
            # a time-limit cut is not a terminal state: its target still bootstraps
            self.buffer.add(x[0], a, r, encode_obs(self.obs_space, obs2)[0], terminated)
            ret, length = ret + float(r), length + 1
            obs = obs2
            if terminated or truncated:
                self._episode(ret, length)
                ret, length = 0.0, 0
                obs, _ = env.reset()
            step = self.steps + 1
            if step >= c["learning_starts"] and step % c["train_freq"] == 0:
                for _ in range(c["gradient_steps"]):
                    self.update()
            if self._tick(1):
                break
        env.close()


AGENTS["dqn"] = DQN
