"""A siamese network in the style of PyTorch's example: one encoder applied to both images of a
pair, their product and distance concatenated, a small head with a sigmoid says "same digit or not";
BCELoss, Adam, a pair sampler that balances positive and negative pairs."""

import importlib
import os

import numpy as np
from _digits import digits

torch = importlib.import_module(os.environ.get("TORCHLIKE_LIB", "striate"))  # import torch
nn, F, optim = torch.nn, torch.nn.functional, torch.optim


class SiameseNetwork(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(16 * 4 * 4, 32), nn.ReLU(),
        )
        self.fc = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 1))

    def forward_once(self, x):
        return self.encoder(x)

    def forward(self, input1, input2):
        f1, f2 = self.forward_once(input1), self.forward_once(input2)
        out = torch.cat((f1 * f2, (f1 - f2).abs()), 1)  # symmetric in the two images
        return torch.sigmoid(self.fc(out)).view(-1)


def make_pairs(x, y, n, seed):
    rng = np.random.RandomState(seed)
    by_class = [np.flatnonzero(y == c) for c in range(10)]
    i = rng.randint(0, len(y), n)
    same = rng.rand(n) < 0.5
    j = np.array([rng.choice(by_class[y[a]]) if s else
                  rng.choice(np.flatnonzero(y != y[a])) for a, s in zip(i, same)])
    return x[i], x[j], same.astype(np.float32)


def main(epochs=5, batch_size=64):
    torch.manual_seed(0)
    (xtr, ytr), (xte, yte) = digits()
    a, b, t = make_pairs(xtr, ytr, 1280, 0)
    model = SiameseNetwork()
    optimizer = optim.Adam(model.parameters(), lr=3e-3)
    criterion = nn.BCELoss()
    for _ in range(epochs):
        model.train()
        for k in range(0, len(t), batch_size):
            s = slice(k, k + batch_size)
            optimizer.zero_grad()
            out = model(torch.from_numpy(a[s]), torch.from_numpy(b[s]))
            loss = criterion(out, torch.from_numpy(t[s]))
            loss.backward()
            optimizer.step()
    a, b, t = make_pairs(xte, yte, 600, 1)
    model.eval()
    with torch.no_grad():
        pred = model(torch.from_numpy(a), torch.from_numpy(b)) > 0.5
        accuracy = (pred.float() == torch.from_numpy(t)).float().mean().item()
    print(f"pair accuracy on test digits: {accuracy:.1%}")
    return {"accuracy": accuracy}


if __name__ == "__main__":
    main()
