"""Environments through gymnasium: ``make_env`` / ``make_vector_env`` with one-line errors, the
space checks each method needs, and Grid World as a ``gymnasium.Env`` (id ``GridWorld-v0``).

gymnasium is the optional dependency of this module (the ``rl`` extra); importing it without
gymnasium raises one ImportError that names the extra.
"""

from __future__ import annotations

import difflib
import os

import numpy as np

try:
    import gymnasium as gym
    from gymnasium import spaces
except ImportError:  # one line naming the extra, not gymnasium's traceback
    raise ImportError('striate.rl environments need gymnasium: pip install "striate[rl]"') from None

from .gridworld import ACTIONS, DEFAULT_LAYOUT, GridWorld

__all__ = ["GridWorldEnv", "make_env", "make_vector_env", "check_spaces", "obs_size",
           "encode_obs", "space_name"]


class GridWorldEnv(gym.Env):
    """Grid World as a gymnasium environment: observations are state indices
    (``Discrete(S)``), actions ``Discrete(4)`` (up, right, down, left); moves slip as in
    ``GridWorld``. ``render_mode="rgb_array"`` draws the grid (walls grey, positive terminals
    green, negative red, the agent blue).

    Keyword arguments go to ``GridWorld`` (layout, terminal_rewards, living_reward, slip, gamma).
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 4}

    def __init__(self, render_mode: str | None = None, **world):
        self.world = GridWorld(**world)
        self.mdp = self.world.mdp()
        self.observation_space = spaces.Discrete(self.world.num_states)
        self.action_space = spaces.Discrete(len(ACTIONS))
        if render_mode not in (None, "rgb_array"):
            raise ValueError(f"GridWorldEnv: render_mode must be None or 'rgb_array', "
                             f"got {render_mode!r}")
        self.render_mode = render_mode
        self.state = self.world.start_state

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        self.state = self.world.start_state
        return self.state, {}

    def step(self, action):
        a = int(action)
        if not 0 <= a < len(ACTIONS):
            raise ValueError(f"GridWorldEnv.step: action must be in 0 .. 3, got {action}")
        s = self.state
        p = self.mdp.P[s, a]
        # the reward of (s, a) is its expectation; sample the arrival and pay what it pays
        self.state = int(self.np_random.choice(len(p), p=p))
        i, j = self.world.cells[self.state]
        reward = self.world.terminal_rewards.get(self.world.layout[i][j],
                                                 self.world.living_reward)
        return self.state, float(reward), bool(self.mdp.terminal[self.state]), False, {}

    def render(self):
        if self.render_mode != "rgb_array":
            return None
        k = 32
        w = self.world
        img = np.full((w.height * k, w.width * k, 3), 255, dtype=np.uint8)
        for i, row in enumerate(w.layout):
            for j, ch in enumerate(row):
                cell = img[i * k:(i + 1) * k, j * k:(j + 1) * k]
                if ch == "#":
                    cell[:] = 110
                elif ch in w.terminal_rewards:
                    cell[:] = (60, 170, 60) if w.terminal_rewards[ch] > 0 else (200, 60, 60)
                cell[0, :] = cell[:, 0] = 0
        i, j = w.cells[self.state]
        img[i * k + 8:(i + 1) * k - 8, j * k + 8:(j + 1) * k - 8] = (40, 80, 220)
        return img


gym.register("GridWorld-v0", entry_point=GridWorldEnv, max_episode_steps=100,
             kwargs={"layout": DEFAULT_LAYOUT})


def _unknown(env_id: str) -> ValueError:
    ids = sorted(gym.registry)
    close = difflib.get_close_matches(env_id, ids, n=3)
    hint = f" (did you mean {', '.join(close)}?)" if close else ""
    return ValueError(f"unknown environment id {env_id!r}{hint}; gymnasium.pprint_registry() "
                      "lists the ids")


def make_env(env_id: str, seed: int | None = None, render_mode: str | None = None, **kwargs):
    """``gymnasium.make(env_id)``, with its action and observation spaces seeded.

    Raises:
        ValueError: an id gymnasium does not know (with the nearest ids).
        ImportError: the environment needs a package that is not installed (one line).
    """
    if render_mode == "rgb_array":  # frames only: pygame needs no display (and says so)
        os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    try:
        env = gym.make(env_id, render_mode=render_mode, **kwargs)
    except gym.error.DependencyNotInstalled as e:
        raise ImportError(f"environment {env_id!r}: {' '.join(str(e).split())}") from None
    except gym.error.Error:
        raise _unknown(env_id) from None
    if seed is not None:
        env.action_space.seed(seed)
        env.observation_space.seed(seed)
    return env


def make_vector_env(env_id: str, num_envs: int, seed: int | None = None):
    """``gymnasium.vector.SyncVectorEnv`` of ``num_envs`` copies (the on-policy methods' batch
    of parallel episodes). An environment whose episode ends resets in the same step
    (``AutoresetMode.SAME_STEP``): ``step`` returns the new episode's first observation, and
    the ended one's last in ``info["final_obs"]``, which a cut episode's bootstrap needs."""
    make_env(env_id).close()  # one-line error for a bad id before building the vector
    env = gym.vector.SyncVectorEnv([lambda: gym.make(env_id) for _ in range(num_envs)],
                                   autoreset_mode=gym.vector.AutoresetMode.SAME_STEP)
    if seed is not None:
        env.action_space.seed(seed)
    return env


def space_name(space) -> str:
    return type(space).__name__ + (f"({space.n})" if isinstance(space, spaces.Discrete)
                                   else str(getattr(space, "shape", "")))


def check_spaces(env, method: str, actions=("Discrete",)) -> None:
    """Raise a one-line ValueError when ``method`` cannot handle ``env``'s spaces.

    Observations must be ``Box`` (flattened) or ``Discrete`` (one-hot encoded); actions must be
    one of ``actions`` (``"Discrete"``, ``"Box"``).
    """
    env_id = env.spec.id if env.spec is not None else type(env).__name__
    obs, act = env.observation_space, env.action_space
    if not isinstance(obs, (spaces.Box, spaces.Discrete)):
        raise ValueError(f"{method}: {env_id} has observation space {space_name(obs)}; "
                         f"{method} supports Box and Discrete observations")
    if type(act).__name__ not in actions or (isinstance(act, spaces.Box) and len(act.shape) != 1):
        supported = " and ".join(f"{a} (1-D)" if a == "Box" else a for a in actions)
        raise ValueError(f"{method}: {env_id} has action space {space_name(act)}; {method} "
                         f"supports {supported} action spaces")


def obs_size(space) -> int:
    """Length of an observation's vector: a Box's size, or a Discrete's n (one-hot)."""
    return int(space.n) if isinstance(space, spaces.Discrete) else int(np.prod(space.shape))


def encode_obs(space, obs) -> np.ndarray:
    """Observations (a batch, or one) as float32 vectors (N, obs_size)."""
    if isinstance(space, spaces.Discrete):
        idx = np.atleast_1d(np.asarray(obs, dtype=np.int64)) - int(space.start)
        return np.eye(int(space.n), dtype=np.float32)[idx]
    x = np.asarray(obs, dtype=np.float32)
    return x.reshape(-1, int(np.prod(space.shape)))
