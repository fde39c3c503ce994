"""Grid World: the lecture's MDP of a robot on a grid with walls, a goal, a pit and slippery
moves. ``GridWorld`` is the definition (layout, rewards, slip) and builds its ``MDP``;
``striate.rl.envs.GridWorldEnv`` runs it as a ``gymnasium.Env``.
"""

from __future__ import annotations

import numpy as np

from .mdp import MDP

__all__ = ["GridWorld", "DEFAULT_LAYOUT", "ACTIONS"]

# The classic 3x4 world (Russell and Norvig's, used in the lecture): goal +1 top right, pit -1
# below it, one wall, start bottom left.
DEFAULT_LAYOUT = (
    "...G",
    ".#.X",
    "S...",
)
ACTIONS = ("up", "right", "down", "left")
_MOVES = ((-1, 0), (0, 1), (1, 0), (0, -1))


class GridWorld:
    """A grid of cells: ``.`` free, ``#`` wall, ``S`` start (free), and terminal cells whose
    letter has a reward in ``terminal_rewards`` (default ``G`` +1, ``X`` -1).

    A transition into a terminal cell pays that cell's reward and ends the episode; any other
    transition pays ``living_reward`` (a small cost, so that short paths are preferred).
    With probability ``1 - slip`` the robot moves as asked, with ``slip / 2`` to either side
    (perpendicular); a move into a wall or off the grid leaves it in place.

    States are the non-wall cells in row-major order (``cells[s]`` is ``(row, col)``).

    Raises:
        ValueError: ragged rows, an unknown letter, no start or several, slip outside [0, 1].
    """

    def __init__(self, layout=DEFAULT_LAYOUT, terminal_rewards: dict | None = None,
                 living_reward: float = -0.04, slip: float = 0.2, gamma: float = 0.99):
        rows = [str(r) for r in layout]
        if not rows or len({len(r) for r in rows}) != 1:
            raise ValueError(f"GridWorld: layout must be equal-length rows, got {rows}")
        self.terminal_rewards = ({"G": 1.0, "X": -1.0} if terminal_rewards is None
                                 else dict(terminal_rewards))
        known = set(".#S") | set(self.terminal_rewards)
        bad = {ch for r in rows for ch in r} - known
        if bad:
            raise ValueError(f"GridWorld: unknown cell letters {sorted(bad)} in the layout "
                             f"(known: {''.join(sorted(known))})")
        if sum(r.count("S") for r in rows) != 1:
            raise ValueError("GridWorld: the layout needs exactly one start cell 'S'")
        if not 0.0 <= slip <= 1.0:
            raise ValueError(f"GridWorld: slip must be in [0, 1], got {slip}")
        self.layout, self.living_reward, self.slip, self.gamma = rows, living_reward, slip, gamma
        self.height, self.width = len(rows), len(rows[0])
        self.cells = [(i, j) for i in range(self.height) for j in range(self.width)
                      if rows[i][j] != "#"]
        self.state_of = {c: s for s, c in enumerate(self.cells)}
        self.start_state = next(s for s, (i, j) in enumerate(self.cells) if rows[i][j] == "S")
        self.terminal = np.array([rows[i][j] in self.terminal_rewards for i, j in self.cells])

    @property
    def num_states(self) -> int:
        return len(self.cells)

    def _move(self, s: int, a: int) -> int:
        i, j = self.cells[s]
        di, dj = _MOVES[a]
        return self.state_of.get((i + di, j + dj), s)

    def mdp(self) -> MDP:
        """The (S, A, R, P, gamma) of this world."""
        S, A = self.num_states, len(ACTIONS)
        P = np.zeros((S, A, S))
        for s in range(S):
            for a in range(A):
                for b, p in ((a, 1 - self.slip), ((a + 1) % 4, self.slip / 2),
                             ((a + 3) % 4, self.slip / 2)):
                    P[s, a, self._move(s, b)] += p
        arrive = np.array([self.terminal_rewards.get(self.layout[i][j], self.living_reward)
                           for i, j in self.cells])
        R = np.broadcast_to(arrive, (S, A, S))
        return MDP(P, R, self.gamma, self.terminal)

    def grid(self, values) -> np.ndarray:
        """Per-state ``values`` (S,) laid out on the grid (H, W), NaN on walls."""
        out = np.full((self.height, self.width), np.nan)
        for s, (i, j) in enumerate(self.cells):
            out[i, j] = values[s]
        return out
