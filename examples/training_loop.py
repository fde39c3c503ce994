"""A training loop written by hand: an MLP on the bundled digits, no Trainer.

Run: python examples/training_loop.py [--epochs N]
"""

import argparse

import striate
import striate.functional as F
from striate import nn, optim
from striate.data import DataLoader, digits


def accuracy(model, loader) -> float:
    model.eval()
    correct = total = 0
    with striate.no_grad():
        for xb, yb in loader:
            correct += int((model(xb).argmax(1) == yb).sum().item())
            total += len(yb)
    model.train()
    return correct / total


def main(epochs: int) -> None:
    striate.manual_seed(0)
    data = digits()                                   # 8x8 images, train/val/test splits
    train = DataLoader(data.train.dataset(), batch_size=64, shuffle=True)
    test = DataLoader(data.test.dataset(), batch_size=256)
    model = nn.Sequential(nn.Flatten(), nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    for epoch in range(epochs):
        total = 0.0
        for xb, yb in train:
            loss = F.cross_entropy(model(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(yb)
        print(f"epoch {epoch + 1}: train loss {total / len(train.dataset):.4f}")
    print(f"test accuracy {accuracy(model, test):.4f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, default=10)
    main(parser.parse_args().epochs)
