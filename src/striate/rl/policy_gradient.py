"""Policy-gradient methods: REINFORCE with a learned baseline, advantage actor-critic (A2C) and
PPO's clipped objective, on ``gymnasium.vector.SyncVectorEnv`` batches of environments.

All three ascend ``E[grad log pi(a|s) A]``; they differ in the advantage A and in how far one
batch may move the policy:

- REINFORCE: A = G_t - b(s_t), the discounted reward-to-go of whole episodes minus a learned
  baseline (the critic, fitted to G_t); unbiased, high variance.
- A2C: A = R_t - V(s_t) from short rollouts of parallel environments, R_t the n-step return
  bootstrapped by the critic (or GAE); an entropy bonus keeps the policy exploring.
- PPO: GAE advantages, several epochs of minibatch steps on each batch, the ratio
  pi/pi_old clipped so those epochs cannot move the policy far.

Defaults are the tuned CartPole-v1 settings of the Stable-Baselines3 zoo for A2C and PPO.
"""

from __future__ import annotations

import numpy as np

from .. import optim
from ..autograd.grad_mode import no_grad
from ..autograd.tensor import Tensor
from ..nn.utils.clip_grad import clip_grad_norm_
from ..ops import mse_loss
from .agent import AGENTS, Agent
from .envs import encode_obs, make_vector_env
from .losses import policy_gradient_loss, ppo_clip_loss
from .nets import Policy, mlp
from .returns import discounted_returns, gae, n_step_returns

__all__ = ["REINFORCE", "A2C", "PPO", "normalize"]


def normalize(x: np.ndarray) -> np.ndarray:
    """Zero mean, unit variance (the advantages' scale then does not depend on the rewards')."""
    return (x - x.mean()) / (x.std() + 1e-8)


class _PolicyAgent(Agent):
    """An actor (``Policy``) and a critic (an MLP to V(s)), one optimizer over both."""

    action_spaces = ("Discrete", "Box")

    def build(self) -> None:
        c = self.config
        hidden = tuple(c["hidden"])
        if self.discrete:
            self.policy = Policy(self.obs_size, num_actions=int(self.act_space.n), hidden=hidden)
        else:
            self.policy = Policy(self.obs_size, action_dim=int(self.act_space.shape[0]),
                                 hidden=hidden)
        self.value = mlp((self.obs_size, *hidden, 1), "tanh", out_gain=1.0)
        params = list(self.policy.parameters()) + list(self.value.parameters())
        if c.get("optimizer", "adam") == "rmsprop":
            self.optimizer = optim.RMSprop(params, lr=c["lr"], alpha=0.99, eps=1e-5)
        else:
            self.optimizer = optim.Adam(params, lr=c["lr"], eps=1e-5)

    def modules(self) -> dict:
        return {"policy": self.policy, "value": self.value}

    def optimizers(self) -> dict:
        return {"optimizer": self.optimizer}

    def policy_action(self, x: Tensor) -> np.ndarray:
        return self.policy.greedy(x).array

    def env_actions(self, a: np.ndarray) -> np.ndarray:
        return a if self.discrete else np.clip(a, self.act_space.low, self.act_space.high)

    def values(self, x: np.ndarray) -> np.ndarray:
        """V(s) for encoded observations (..., obs_size), without a graph."""
        with no_grad():
            v = self.value(Tensor(x.reshape(-1, self.obs_size))).array
        return v.reshape(x.shape[:-1]).astype(np.float64)

    def step_optimizer(self, loss) -> None:
        self.optimizer.zero_grad()
        loss.backward()
        clip_grad_norm_(list(self.policy.parameters()) + list(self.value.parameters()),
                        self.config["max_grad_norm"])
        self.optimizer.step()

    def anneal(self) -> float:
        """The fraction of training left, 1 -> 0 (linear schedules of lr and clip range)."""
        return max(0.0, 1.0 - self.steps / self.config["total_steps"])

    # --- rollouts of fixed length on the vector of environments (A2C, PPO) ------------------
    def _start_envs(self) -> None:
        c = self.config
        self.venv = make_vector_env(c["env_id"], c["num_envs"], seed=c["seed"])
        obs, _ = self.venv.reset(seed=c["seed"] + self.steps)
        self.obs = encode_obs(self.obs_space, obs)
        self.ep_ret = np.zeros(c["num_envs"])
        self.ep_len = np.zeros(c["num_envs"], dtype=np.int64)

    def collect(self, T: int) -> dict:
        """Run T steps of every environment with the current policy.

        Returns arrays (T, N, ...): ``obs``, ``actions``, ``rewards``, ``terminated``, ``ends``
        and ``next_obs`` (the final observation where an episode ended)."""
        N = self.config["num_envs"]
        obs = np.zeros((T, N, self.obs_size), dtype=np.float32)
        next_obs = np.zeros_like(obs)
        actions = []
        rewards = np.zeros((T, N))
        terminated = np.zeros((T, N))
        ends = np.zeros((T, N))
        for t in range(T):
            obs[t] = self.obs
            with no_grad():
                a = self.policy(Tensor(self.obs)).sample().array
            actions.append(a)
            o2, r, term, trunc, info = self.venv.step(self.env_actions(a))
            x2 = encode_obs(self.obs_space, o2)
            next_obs[t] = x2
            ended = np.logical_or(term, trunc)
            for i in np.flatnonzero(ended):
                next_obs[t, i] = encode_obs(self.obs_space, info["final_obs"][i])[0]
            rewards[t], terminated[t], ends[t] = r, term, ended
            self.ep_ret += r
            self.ep_len += 1
            for i in np.flatnonzero(ended):
                self._episode(self.ep_ret[i], self.ep_len[i], self.steps + (t + 1) * N)
                self.ep_ret[i], self.ep_len[i] = 0.0, 0
            self.obs = x2
        return {"obs": obs, "actions": np.stack(actions), "rewards": rewards,
                "terminated": terminated, "ends": ends, "next_obs": next_obs}


class REINFORCE(_PolicyAgent):
    """REINFORCE (Williams 1992) with reward-to-go, discounting and a learned baseline.

    Each update plays ``episodes_per_update`` whole episodes (one per environment of a
    SyncVectorEnv) with the current policy. Options: ``baseline`` (subtract the critic's
    V(s_t); False is plain REINFORCE), ``normalize_advantages``, ``gamma``, ``lr``, ``hidden``,
    ``max_grad_norm``, ``value_coef``.
    """

    name = "reinforce"
    defaults = {"total_steps": 300_000, "eval_every": 10_000, "episodes_per_update": 8,
                "gamma": 0.99, "lr": 3e-3, "hidden": [64, 64], "baseline": True,
                "normalize_advantages": True, "value_coef": 0.5, "max_grad_norm": 1.0}

    def episodes_batch(self) -> list[dict]:
        """Play one episode in each environment; steps after an environment's episode ended
        are not used (nor counted)."""
        N = self.config["episodes_per_update"]
        obs, _ = self.venv.reset(seed=self.config["seed"] + self.steps if self.first else None)
        self.first = False
        x = encode_obs(self.obs_space, obs)
        trajs = [{"obs": [], "actions": [], "rewards": []} for _ in range(N)]
        running = np.ones(N, dtype=bool)
        while running.any():
            with no_grad():
                a = self.policy(Tensor(x)).sample().array
            o2, r, term, trunc, _ = self.venv.step(self.env_actions(a))
            for i in np.flatnonzero(running):
                trajs[i]["obs"].append(x[i])
                trajs[i]["actions"].append(a[i])
                trajs[i]["rewards"].append(float(r[i]))
            running &= ~np.logical_or(term, trunc)
            x = encode_obs(self.obs_space, o2)
        return trajs

    def _learn(self) -> None:
        c = self.config
        self.venv = make_vector_env(c["env_id"], c["episodes_per_update"], seed=c["seed"])
        self.first = True
        while True:
            trajs = self.episodes_batch()
            obs = np.concatenate([np.stack(t["obs"]) for t in trajs])
            actions = np.concatenate([np.stack(t["actions"]) for t in trajs])
            G = np.concatenate([discounted_returns(t["rewards"], c["gamma"]) for t in trajs])
            n = 0
            for t in trajs:
                n += len(t["rewards"])
                self._episode(sum(t["rewards"]), len(t["rewards"]), self.steps + n)
            x = Tensor(obs)
            v = self.value(x).squeeze(1)
            adv = G - v.array if c["baseline"] else G
            if c["normalize_advantages"]:
                adv = normalize(adv)
            logp = self.policy(x).log_prob(Tensor(actions))
            loss = policy_gradient_loss(logp, Tensor(adv.astype(np.float32)))
            if c["baseline"]:
                loss = loss + c["value_coef"] * mse_loss(v, Tensor(G.astype(np.float32)))
            self.step_optimizer(loss)
            if self._tick(n):
                break
        self.venv.close()


class A2C(_PolicyAgent):
    """Advantage actor-critic (the synchronous A3C of Mnih et al. 2016).

    Every ``n_steps`` steps of ``num_envs`` environments, one gradient step on
    ``-log pi(a|s) A + value_coef (V(s) - R)^2 - ent_coef H[pi(.|s)]``, with
    ``advantage="nstep"`` (R the n-step return, A = R - V) or ``"gae"`` (``gae_lambda``).
    RMSprop as in the paper and the zoo.
    """

    name = "a2c"
    defaults = {"total_steps": 500_000, "eval_every": 10_000, "num_envs": 8, "n_steps": 5,
                "gamma": 0.99, "lr": 7e-4, "hidden": [64, 64], "advantage": "nstep",
                "gae_lambda": 0.95, "ent_coef": 0.0, "value_coef": 0.5, "max_grad_norm": 0.5,
                "optimizer": "rmsprop", "normalize_advantages": False}

    def advantages(self, batch: dict):
        """``(advantages, returns)`` (T, N) for a rollout."""
        c = self.config
        V = self.values(batch["obs"])
        V_next = self.values(batch["next_obs"])
        if c["advantage"] == "gae":
            return gae(batch["rewards"], V, V_next, batch["terminated"], batch["ends"],
                       c["gamma"], c["gae_lambda"])
        if c["advantage"] != "nstep":
            raise ValueError(f"a2c: advantage must be 'nstep' or 'gae', got {c['advantage']!r}")
        R = n_step_returns(batch["rewards"], V_next, batch["terminated"], batch["ends"],
                           c["gamma"])
        return R - V, R

    def _learn(self) -> None:
        c = self.config
        self._start_envs()
        T, N = c["n_steps"], c["num_envs"]
        while True:
            batch = self.collect(T)
            adv, ret = self.advantages(batch)
            if c["normalize_advantages"]:
                adv = normalize(adv)
            x = Tensor(batch["obs"].reshape(T * N, -1))
            dist = self.policy(x)
            a = batch["actions"].reshape(T * N, *batch["actions"].shape[2:])
            logp = dist.log_prob(Tensor(a))
            v = self.value(x).squeeze(1)
            loss = (policy_gradient_loss(logp, Tensor(adv.reshape(-1).astype(np.float32)))
                    + c["value_coef"] * mse_loss(v, Tensor(ret.reshape(-1).astype(np.float32)))
                    - c["ent_coef"] * dist.entropy().mean())
            self.step_optimizer(loss)
            if self._tick(T * N):
                break
        self.venv.close()


class PPO(_PolicyAgent):
    """Proximal policy optimisation with the clipped objective (Schulman et al. 2017).

    Every ``n_steps`` steps of ``num_envs`` environments: GAE advantages, then ``n_epochs``
    passes of minibatches of ``batch_size`` over the batch, minimising
    ``ppo_clip_loss + value_coef (V - R)^2 - ent_coef H``; ``anneal`` decays the learning rate
    and the clip range linearly to 0 over training.
    """

    name = "ppo"
    defaults = {"total_steps": 100_000, "eval_every": 10_000, "num_envs": 8, "n_steps": 32,
                "batch_size": 256, "n_epochs": 20, "gamma": 0.98, "gae_lambda": 0.8,
                "lr": 1e-3, "clip": 0.2, "anneal": True, "hidden": [64, 64], "ent_coef": 0.0,
                "value_coef": 0.5, "max_grad_norm": 0.5}

    def _learn(self) -> None:
        c = self.config
        self._start_envs()
        T, N = c["n_steps"], c["num_envs"]
        while True:
            frac = self.anneal() if c["anneal"] else 1.0
            for group in self.optimizer.param_groups:
                group["lr"] = c["lr"] * frac
            clip = max(c["clip"] * frac, 1e-8)
            batch = self.collect(T)
            V = self.values(batch["obs"])
            adv, ret = gae(batch["rewards"], V, self.values(batch["next_obs"]),
                           batch["terminated"], batch["ends"], c["gamma"], c["gae_lambda"])
            obs = batch["obs"].reshape(T * N, -1)
            actions = batch["actions"].reshape(T * N, *batch["actions"].shape[2:])
            with no_grad():
                old_logp = self.policy(Tensor(obs)).log_prob(Tensor(actions)).array
            adv, ret = adv.reshape(-1), ret.reshape(-1)
            for _ in range(c["n_epochs"]):
                order = self.rng.permutation(T * N)
                for k in range(0, T * N, c["batch_size"]):
                    mb = order[k:k + c["batch_size"]]
                    x = Tensor(obs[mb])
                    dist = self.policy(x)
                    logp = dist.log_prob(Tensor(actions[mb]))
                    a_mb = Tensor(normalize(adv[mb]).astype(np.float32))
                    v = self.value(x).squeeze(1)
                    loss = (ppo_clip_loss(logp, Tensor(old_logp[mb]), a_mb, clip)
                            + c["value_coef"] * mse_loss(v, Tensor(ret[mb].astype(np.float32)))
                            - c["ent_coef"] * dist.entropy().mean())
                    self.step_optimizer(loss)
            if self._tick(T * N):
                break
        self.venv.close()


AGENTS.update({"reinforce": REINFORCE, "a2c": A2C, "ppo": PPO})
