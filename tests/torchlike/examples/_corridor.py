"""A tiny episodic environment for the policy-gradient examples (no gym needed).

A corridor of ``n`` cells; the agent starts in cell 1 and moves left (action 0) or right (1).
Reaching the right end gives +1 and ends the episode; every step costs 0.01; at most 3 n steps.
The state is the one-hot cell index.
"""

import numpy as np


class Corridor:
    def __init__(self, n=6, seed=0):
        self.n = n
        self.rng = np.random.RandomState(seed)

    def reset(self):
        self.pos, self.t = 1, 0
        return self._obs()

    def _obs(self):
        obs = np.zeros(self.n, dtype=np.float32)
        obs[self.pos] = 1
        return obs

    def step(self, action):
        # a slippery floor: one move in ten goes the other way
        if self.rng.rand() < 0.1:
            action = 1 - action
        self.pos = max(0, self.pos + (1 if action == 1 else -1))
        self.t += 1
        done = self.pos == self.n - 1 or self.t >= 3 * self.n
        reward = 1.0 if self.pos == self.n - 1 else -0.01
        return self._obs(), reward, done
