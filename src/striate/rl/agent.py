"""What every deep method shares: configuration, seeding, the record of episodes, periodic
greedy evaluation with the best weights kept, run folders (curves, checkpoints) and resuming.

A method subclasses ``Agent``: it names its ``defaults`` and the action spaces it handles,
builds its networks and optimizers in ``build``, and writes its training loop in ``_learn``,
calling ``self._episode(return, length)`` when an episode ends and ``self._tick()`` after each
update (``_tick`` evaluates, writes checkpoints, and says when to stop).
"""

from __future__ import annotations

import json
import os
import time

import numpy as np

from .. import backend
from ..autograd.grad_mode import no_grad
from ..autograd.tensor import Tensor
from ..parallel import num_threads
from ..train import load, save
from ..train.history import write_csv, write_json
from .envs import check_spaces, encode_obs, gym, make_env, obs_size, spaces

__all__ = ["Agent", "evaluate", "load_agent", "AGENTS"]

AGENTS: dict = {}  # name -> Agent subclass, filled by the method modules


class Agent:
    """Base of the deep methods: ``Agent(env_id="CartPole-v1", seed=0, **options)``.

    Options every method takes: ``total_steps`` (environment steps to train), ``eval_every``
    (steps between greedy evaluations), ``eval_episodes`` (per evaluation), ``stop_return``
    (stop when an evaluation's mean reaches it; ``"threshold"``, the default, is the
    environment's ``reward_threshold``; None never stops early), ``keep_best`` (end with the
    best evaluation's weights), ``threads`` (BLAS threads while training; 1). The method's own
    are its ``defaults``.

    Raises:
        ValueError: an unknown option (the message lists the known ones), an unknown
            environment id, or spaces the method cannot handle.
    """

    name = ""
    defaults: dict = {}
    action_spaces = ("Discrete",)
    common = {"total_steps": 100_000, "eval_every": 10_000, "eval_episodes": 20,
              "stop_return": "threshold", "keep_best": True, "threads": 1}

    def __init__(self, env_id: str = "CartPole-v1", seed: int = 0, **config):
        known = {**self.common, **self.defaults}
        unknown = sorted(set(config) - set(known))
        if unknown:
            raise ValueError(f"{self.name}: unknown option(s) {unknown}; known: {sorted(known)}")
        self.config = {**known, **config, "env_id": env_id, "seed": int(seed)}
        env = make_env(env_id)
        check_spaces(env, self.name, self.action_spaces)
        self.obs_space, self.act_space = env.observation_space, env.action_space
        self.spec_threshold = env.spec.reward_threshold if env.spec is not None else None
        env.close()
        self.obs_size = obs_size(self.obs_space)
        self.discrete = isinstance(self.act_space, spaces.Discrete)
        backend.manual_seed(self.config["seed"])
        self.rng = np.random.default_rng(self.config["seed"])
        self.build()
        self.steps = 0
        self.episodes: list[dict] = []
        self.evals: list[dict] = []
        self.best: dict | None = None
        self.wall = 0.0
        self.out_dir: str | None = None

    # --- to override ----------------------------------------------------------------------
    def build(self) -> None:
        raise NotImplementedError

    def modules(self) -> dict:
        """The networks, by name (saved, restored, evaluated)."""
        raise NotImplementedError

    def optimizers(self) -> dict:
        raise NotImplementedError

    def policy_action(self, x: Tensor) -> np.ndarray:
        """Greedy actions for encoded observations (N, obs_size)."""
        raise NotImplementedError

    def _learn(self) -> None:
        raise NotImplementedError

    def extra_state(self) -> dict:
        return {}

    def load_extra_state(self, state: dict) -> None:
        pass

    # --- shared ---------------------------------------------------------------------------
    def encode(self, obs) -> Tensor:
        return Tensor(encode_obs(self.obs_space, obs))

    def act(self, obs) -> np.ndarray:
        """Greedy actions for raw observations (a batch), as the environment takes them."""
        with no_grad():
            a = self.policy_action(self.encode(obs))
        if not self.discrete:
            a = np.clip(a, self.act_space.low, self.act_space.high)
        return a

    def learn(self, out_dir: str | None = None, progress: bool = True) -> Agent:
        """Train to ``total_steps`` environment steps (or until a greedy evaluation reaches
        ``stop_return``), writing the run folder ``out_dir`` when given. Returns self.

        With ``keep_best`` the weights of the best periodic evaluation are the ones kept at the
        end (the last ones stay in the checkpoint for resuming)."""
        self.out_dir = out_dir
        if out_dir is not None:
            os.makedirs(out_dir, exist_ok=True)
            write_json(os.path.join(out_dir, "config.json"), {"algo": self.name, **self.config})
        self._bar = None
        if progress:
            from tqdm import tqdm

            self._bar = tqdm(total=self.config["total_steps"], initial=self.steps,
                             desc=f"{self.name} {self.config['env_id']}", unit="step",
                             dynamic_ncols=True, leave=False)
        self._start = time.perf_counter() - self.wall
        self._last_eval = (self.evals[-1]["step"] if self.evals else 0)
        # a resumed run that had already stopped trains on to its next evaluation
        self._stop = False
        try:
            # the networks are small: BLAS threads would only add hand-off cost per product
            with num_threads(self.config["threads"]):
                if self.steps < self.config["total_steps"]:
                    self._learn()
                self._evaluate_now()
        finally:
            if self._bar is not None:
                self._bar.close()
        self.write_run(final=True)
        if self.config["keep_best"] and self.best is not None:
            self.load_modules(self.best["modules"])
        return self

    def _episode(self, ret: float, length: int, step: int | None = None) -> None:
        self.episodes.append({"step": self.steps if step is None else int(step),
                              "episode": len(self.episodes) + 1, "return": float(ret),
                              "length": int(length),
                              "time": round(time.perf_counter() - self._start, 3)})

    def _tick(self, new_steps: int) -> bool:
        """Count ``new_steps`` environment steps; evaluate and checkpoint when due. True when
        training should stop."""
        self.steps += new_steps
        if self._bar is not None:
            self._bar.update(new_steps)
            if self.episodes and len(self.episodes) % 5 == 0:
                recent = [e["return"] for e in self.episodes[-20:]]
                self._bar.set_postfix(ret=f"{np.mean(recent):.1f}", refresh=False)
        if self.steps - self._last_eval >= self.config["eval_every"]:
            self._evaluate_now()
        return self._stop or self.steps >= self.config["total_steps"]

    def _evaluate_now(self) -> None:
        if self.evals and self.evals[-1]["step"] == self.steps:
            return
        self._last_eval = self.steps
        self.wall = time.perf_counter() - self._start
        returns = evaluate(self, self.config["eval_episodes"], seed=10_000 + self.steps)
        rec = {"step": self.steps, "mean": float(returns.mean()), "std": float(returns.std()),
               "time": round(self.wall, 3)}
        self.evals.append(rec)
        if self.best is None or rec["mean"] >= self.best["mean"]:
            self.best = {"mean": rec["mean"], "step": self.steps,
                         "modules": self.module_states()}
        self._stop = self._solved()
        self.write_run()
        self._start = time.perf_counter() - self.wall  # evaluation time is not training time

    def stop_target(self) -> float | None:
        """The greedy evaluation's mean return that ends training: ``stop_return``, where
        "threshold" is the environment's own ``reward_threshold`` (CartPole-v1: 475)."""
        target = self.config["stop_return"]
        return self.spec_threshold if target == "threshold" else target

    def _solved(self) -> bool:
        target = self.stop_target()
        return target is not None and bool(self.evals) and self.evals[-1]["mean"] >= target

    def policy_params(self) -> list:
        """(name, array) of every network's parameters (to compare runs)."""
        return [(f"{k}.{n}", p.detach().numpy()) for k, m in self.modules().items()
                for n, p in m.named_parameters()]

    def module_states(self) -> dict:
        return {k: m.state_dict() for k, m in self.modules().items()}

    def load_modules(self, states: dict) -> None:
        for k, m in self.modules().items():
            m.load_state_dict(states[k])

    def state_dict(self) -> dict:
        return {"algo": self.name, "config": json.dumps(self.config),
                "modules": self.module_states(),
                "optimizers": {k: o.state_dict() for k, o in self.optimizers().items()},
                "steps": self.steps, "wall": self.wall,
                "episodes": json.dumps(self.episodes), "evals": json.dumps(self.evals),
                "best": self.best, "rng": backend.get_rng_state(),
                "np_rng": json.dumps(self.rng.bit_generator.state), "extra": self.extra_state()}

    def load_state_dict(self, state: dict) -> None:
        self.load_modules(state["modules"])
        for k, o in self.optimizers().items():
            o.load_state_dict(state["optimizers"][k])
        self.steps, self.wall = int(state["steps"]), float(state["wall"])
        self.episodes = json.loads(state["episodes"])
        self.evals = json.loads(state["evals"])
        self.best = state["best"]
        backend.set_rng_state(state["rng"])
        self.rng.bit_generator.state = json.loads(state["np_rng"])
        self.load_extra_state(state["extra"])

    def write_run(self, final: bool = False) -> None:
        """Write the run folder: ``episodes.csv``, ``evals.csv``, ``returns.png`` and
        ``checkpoint.npz`` (everything needed to resume, and the best weights)."""
        if self.out_dir is None:
            return
        d = self.out_dir
        if self.episodes:
            write_csv(os.path.join(d, "episodes.csv"), self.episodes)
        if self.evals:
            write_csv(os.path.join(d, "evals.csv"), self.evals)
        save(self.state_dict(), os.path.join(d, "checkpoint.npz"))
        if final:
            self.plot(os.path.join(d, "returns.png"))

    def plot(self, path: str) -> bool:
        """The return curve: training episodes (faint, and their moving average) and the
        greedy evaluations."""
        from .plots import plot_returns

        x = [e["step"] for e in self.episodes]
        y = [e["return"] for e in self.episodes]
        evals = {"greedy evaluation": ([e["step"] for e in self.evals],
                                       [e["mean"] for e in self.evals])}
        return plot_returns({"training episodes": (x, y)}, path,
                            title=f"{self.name} on {self.config['env_id']}",
                            hline=self.spec_threshold, markers=evals)


def evaluate(agent: Agent, episodes: int = 100, seed: int = 0, env_id: str | None = None,
             render: bool = False, max_frames: int = 1000):
    """Run ``episodes`` episodes with the greedy policy; episode i is reset with seed
    ``seed + i``, so an evaluation repeats exactly.

    Returns:
        the returns (episodes,) as float64; with ``render``, ``(returns, frames)`` where frames
        are gymnasium's ``rgb_array`` renders (at most ``max_frames``).
    """
    env = make_env(env_id or agent.config["env_id"], render_mode="rgb_array" if render else None)
    returns, frames = np.zeros(episodes), []
    try:
        with num_threads(agent.config["threads"]):
            _run_episodes(agent, env, episodes, seed, render, max_frames, returns, frames)
    except gym.error.DependencyNotInstalled as e:  # rendering needs pygame
        raise ImportError(f"rendering {env.spec.id}: {' '.join(str(e).split())} "
                          '(pip install "striate[rl]")') from None
    finally:
        env.close()
    return (returns, frames) if render else returns


def _run_episodes(agent, env, episodes, seed, render, max_frames, returns, frames) -> None:
    for i in range(episodes):
        obs, _ = env.reset(seed=seed + i)
        done, total = False, 0.0
        while not done:
            if render and len(frames) < max_frames:
                frames.append(env.render())
            a = agent.act(np.asarray(obs)[None])[0]
            obs, r, terminated, truncated, _ = env.step(a)
            total += float(r)
            done = terminated or truncated
        returns[i] = total
        if render and len(frames) < max_frames:
            frames.append(env.render())


def load_agent(path: str, best: bool = True) -> Agent:
    """Rebuild an agent from a run folder (or its ``checkpoint.npz``); ``best`` loads the
    weights of its best evaluation, else the last ones.

    Raises:
        FileNotFoundError: no checkpoint there.
        ValueError: a checkpoint of an unknown method.
    """
    from . import dqn, policy_gradient  # noqa: F401 - they fill AGENTS

    ckpt = os.path.join(path, "checkpoint.npz") if os.path.isdir(path) else path
    if not os.path.isfile(ckpt):
        raise FileNotFoundError(f"no checkpoint at {ckpt} (a run folder of `striate rl ... "
                                "train` holds checkpoint.npz)")
    state = load(ckpt)
    if state.get("algo") not in AGENTS:
        raise ValueError(f"{ckpt}: not a checkpoint of striate rl's deep methods "
                         f"({', '.join(AGENTS)})")
    config = json.loads(state["config"])
    env_id, seed = config.pop("env_id"), config.pop("seed")
    agent = AGENTS[state["algo"]](env_id, seed, **config)
    agent.load_state_dict(state)
    if best and agent.best is not None:
        agent.load_modules(agent.best["modules"])
    return agent
