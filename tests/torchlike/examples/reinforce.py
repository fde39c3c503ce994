"""REINFORCE in the style of PyTorch's reinforcement-learning example: a softmax policy, actions
sampled from ``Categorical``, discounted returns normalised, ``-log_prob * return`` loss."""

import importlib
import os

import numpy as np
from _corridor import Corridor

torch = importlib.import_module(os.environ.get("TORCHLIKE_LIB", "striate"))  # import torch
nn, F, optim = torch.nn, torch.nn.functional, torch.optim
Categorical = torch.distributions.Categorical

GAMMA = 0.95
EPS = np.finfo(np.float32).eps.item()


class Policy(nn.Module):
    def __init__(self, n_states):
        super().__init__()
        self.affine1 = nn.Linear(n_states, 32)
        self.affine2 = nn.Linear(32, 2)

    def forward(self, x):
        return F.softmax(self.affine2(F.relu(self.affine1(x))), dim=1)


def main(episodes=150):
    torch.manual_seed(3)
    env = Corridor()
    policy = Policy(env.n)
    optimizer = optim.Adam(policy.parameters(), lr=2e-2)
    lengths = []
    for _ in range(episodes):
        state, log_probs, rewards, done = env.reset(), [], [], False
        while not done:
            probs = policy(torch.from_numpy(state).unsqueeze(0))
            m = Categorical(probs)
            action = m.sample()
            log_probs.append(m.log_prob(action))
            state, reward, done = env.step(action.item())
            rewards.append(reward)
        returns, ret = [], 0.0
        for r in rewards[::-1]:
            ret = r + GAMMA * ret
            returns.insert(0, ret)
        returns = torch.tensor(returns)
        returns = (returns - returns.mean()) / (returns.std() + EPS) if len(rewards) > 1 \
            else returns
        loss = torch.cat([-lp * r for lp, r in zip(log_probs, returns)]).sum()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        lengths.append(len(rewards))
    mean_length = float(np.mean(lengths[-30:]))
    print(f"mean episode length over the last 30 episodes: {mean_length:.1f} (optimum ~5.5)")
    return {"mean_length": mean_length}


if __name__ == "__main__":
    main()
