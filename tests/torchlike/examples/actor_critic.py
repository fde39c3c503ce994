"""Actor-critic in the style of PyTorch's example: one body, a policy head and a value head, the
advantage ``R - V(s)`` weighting the log-probabilities, ``smooth_l1_loss`` for the critic."""

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
        self.action_head = nn.Linear(32, 2)
        self.value_head = nn.Linear(32, 1)

    def forward(self, x):
        x = F.relu(self.affine1(x))
        return F.softmax(self.action_head(x), dim=-1), self.value_head(x)


def main(episodes=150):
    torch.manual_seed(5)
    env = Corridor(seed=1)
    model = Policy(env.n)
    optimizer = optim.Adam(model.parameters(), lr=2e-2)
    lengths = []
    for _ in range(episodes):
        state, saved, rewards, done = env.reset(), [], [], False
        while not done:
            probs, value = model(torch.from_numpy(state))
            m = Categorical(probs)
            action = m.sample()
            saved.append((m.log_prob(action), value))
            state, reward, done = env.step(action.item())
            rewards.append(reward)
        returns, ret = [], 0.0
        for r in rewards[::-1]:
            ret = r + GAMMA * ret
            returns.insert(0, ret)
        returns = torch.tensor(returns)
        if len(rewards) > 1:
            returns = (returns - returns.mean()) / (returns.std() + EPS)
        policy_losses, value_losses = [], []
        for (log_prob, value), R in zip(saved, returns):
            advantage = R - value.item()
            policy_losses.append(-log_prob * advantage)
            value_losses.append(F.smooth_l1_loss(value, torch.tensor([R.item()])))
        optimizer.zero_grad()
        loss = torch.stack(policy_losses).sum() + torch.stack(value_losses).sum()
        loss.backward()
        optimizer.step()
        lengths.append(len(rewards))
    mean_length = float(np.mean(lengths[-30:]))
    print(f"mean episode length over the last 30 episodes: {mean_length:.1f} (optimum ~5.5)")
    return {"mean_length": mean_length}


if __name__ == "__main__":
    main()
