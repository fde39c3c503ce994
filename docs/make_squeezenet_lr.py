"""Why `striate train` gives SqueezeNet its own Adam learning rate: trains SqueezeNet 1.1 on the
bundled digits at several rates (the command's loop: Adam, weight decay 1e-4, batch 64, cosine
down to lr/100) and prints the test accuracy per epoch and the dead squeeze channels per Fire
module after 60 steps. The numbers in docs/fuzzing.md come from this script:

    PYTHONPATH=src python docs/make_squeezenet_lr.py [EPOCHS]
"""

from __future__ import annotations

import sys

import numpy as np
import striate.functional as F

import striate
from striate import optim
from striate.data import load_dataset
from striate.data.transforms import Normalize
from striate.models import create_model


def _data():
    data = load_dataset("digits")
    norm = Normalize.fit(data.train.X, per_channel=True)
    return (np.asarray(norm(data.train.X)), np.asarray(data.train.y),
            np.asarray(norm(data.test.X)), np.asarray(data.test.y), data.input_shape)


def dead_squeeze_channels(lr: float, steps: int = 60) -> list:
    """Fraction of each Fire's squeeze channels that are 0 on 256 training images."""
    X, y, _, _, shape = _data()
    striate.manual_seed(0)
    model = create_model("squeezenet1_1", 10, shape)
    opt = optim.Adam(model.parameters(), lr=lr, weight_decay=1e-4)
    rng = np.random.default_rng(0)
    for _ in range(steps):
        b = rng.integers(0, len(X), 64)
        loss = F.cross_entropy(model(striate.tensor(X[b])), striate.tensor(y[b]))
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    h, dead = striate.tensor(X[:256]), []
    with striate.no_grad():
        for layer in model.features:
            if hasattr(layer, "squeeze"):
                s = F.relu(layer.squeeze(h)).array
                dead.append(round(float((s.max(axis=(0, 2, 3)) == 0).mean()), 2))
            h = layer(h)
    return dead


def accuracies(lr: float, epochs: int) -> list:
    X, y, Xt, yt, shape = _data()
    striate.manual_seed(0)
    model = create_model("squeezenet1_1", 10, shape)
    opt = optim.Adam(model.parameters(), lr=lr, weight_decay=1e-4)
    rng, out = np.random.default_rng(0), []
    for epoch in range(epochs):
        model.train()
        for g in opt.param_groups:
            g["lr"] = 0.01 * lr + 0.99 * lr * 0.5 * (1 + np.cos(np.pi * epoch / epochs))
        perm = rng.permutation(len(X))
        for i in range(0, len(X), 64):
            b = perm[i:i + 64]
            loss = F.cross_entropy(model(striate.tensor(X[b])), striate.tensor(y[b]))
            opt.zero_grad()
            loss.backward()
            opt.step()
        model.eval()
        with striate.no_grad():
            out.append(float((model(striate.tensor(Xt)).array.argmax(1) == yt).mean()))
    return out


if __name__ == "__main__":
    epochs = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    for lr in (3e-3, 1e-3, 3e-4):
        acc = accuracies(lr, epochs)
        print(f"lr {lr:g}: dead squeeze channels per Fire after 60 steps "
              f"{dead_squeeze_channels(lr)}; test accuracy after epochs 1, 3, {epochs}: "
              f"{acc[0]:.1%}, {acc[min(2, epochs - 1)]:.1%}, {acc[-1]:.1%}", flush=True)
