"""A custom dataset: images made on the fly, read through ``Dataset`` and ``DataLoader``.

Bars: 12x12 images with one bright horizontal or vertical bar at a random place, plus noise. A
``Dataset`` needs ``__len__`` and ``__getitem__``; the ``DataLoader`` batches, shuffles and
prefetches it. A small ConvNet learns to tell the two orientations apart.

Run: python examples/custom_dataset.py
"""

import numpy as np

import striate
import striate.functional as F
from striate import nn, optim
from striate.data import DataLoader, Dataset


class Bars(Dataset):
    """``n`` images (1, 12, 12) float32 with label 0 (horizontal bar) or 1 (vertical)."""

    def __init__(self, n: int, seed: int):
        rng = np.random.default_rng(seed)
        self.labels = rng.integers(0, 2, n)
        self.positions = rng.integers(1, 11, n)
        self.noise = (0.3 * rng.standard_normal((n, 1, 12, 12))).astype(np.float32)

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int):
        img = self.noise[i].copy()
        if self.labels[i] == 0:
            img[0, self.positions[i], :] += 1.0
        else:
            img[0, :, self.positions[i]] += 1.0
        return img, int(self.labels[i])


def main() -> None:
    striate.manual_seed(0)
    train = DataLoader(Bars(512, seed=1), batch_size=32, shuffle=True)
    test = DataLoader(Bars(256, seed=2), batch_size=128)
    model = nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(8 * 6 * 6, 2),
    )
    opt = optim.Adam(model.parameters(), lr=0.01)
    for epoch in range(3):
        for xb, yb in train:
            loss = F.cross_entropy(model(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
        print(f"epoch {epoch + 1}: last batch loss {loss.item():.4f}")
    model.eval()
    correct = 0
    with striate.no_grad():
        for xb, yb in test:
            correct += int((model(xb).argmax(1) == yb).sum().item())
    print(f"test accuracy {correct / len(test.dataset):.4f}")


if __name__ == "__main__":
    main()
