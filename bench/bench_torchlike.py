"""The PyTorch-shaped pieces against PyTorch: the CIFAR-10 tutorial's Net, and the indexing ops.

Part 1 times one SGD step (forward, backward, update) of the tutorial's ``Net`` (conv 3->6 5x5,
pool, conv 6->16 5x5, pool, 400-120-84-10) at the tutorial's batch of 4 and at 64, the same code
run by both libraries. Part 2 times forward + backward of ``gather``, ``scatter_add``,
``masked_fill``, ``topk``, ``sort`` and ``einsum`` on mid-sized inputs. Medians of interleaved
rounds; the ratio is striate / PyTorch (below 1: striate is faster).

    python bench/bench_torchlike.py [--rounds 5]
"""

from __future__ import annotations

import argparse

import numpy as np

import striate  # first: it sets the BLAS thread wait policy before NumPy starts its threads
from striate.benchmark import interleaved_ms


def _net(lib):
    nn, F = lib.nn, lib.nn.functional

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(3, 6, 5)
            self.pool = nn.MaxPool2d(2, 2)
            self.conv2 = nn.Conv2d(6, 16, 5)
            self.fc1 = nn.Linear(16 * 5 * 5, 120)
            self.fc2 = nn.Linear(120, 84)
            self.fc3 = nn.Linear(84, 10)

        def forward(self, x):
            x = self.pool(F.relu(self.conv1(x)))
            x = self.pool(F.relu(self.conv2(x)))
            x = lib.flatten(x, 1)
            x = F.relu(self.fc1(x))
            x = F.relu(self.fc2(x))
            return self.fc3(x)

    return Net()


def _train_step(lib, batch):
    net = _net(lib)
    opt = lib.optim.SGD(net.parameters(), lr=0.001, momentum=0.9)
    loss_fn = lib.nn.CrossEntropyLoss()
    rng = np.random.default_rng(0)
    x = lib.tensor(rng.standard_normal((batch, 3, 32, 32)).astype(np.float32))
    y = lib.tensor(rng.integers(0, 10, batch))

    def step():
        opt.zero_grad()
        loss = loss_fn(net(x), y)
        loss.backward()
        opt.step()

    return step


def _op(lib, name):
    rng = np.random.default_rng(1)
    a = lib.tensor(rng.standard_normal((256, 512)).astype(np.float32), requires_grad=True)
    idx = lib.tensor(rng.integers(0, 512, (256, 128)))
    src = lib.tensor(rng.standard_normal((256, 128)).astype(np.float32), requires_grad=True)
    mask = lib.tensor(rng.random((256, 512)) > 0.5)
    b = lib.tensor(rng.standard_normal((8, 64, 32)).astype(np.float32), requires_grad=True)
    c = lib.tensor(rng.standard_normal((8, 32, 64)).astype(np.float32), requires_grad=True)
    fns = {
        "gather": lambda: lib.gather(a, 1, idx),
        "scatter_add": lambda: lib.scatter_add(a, 1, idx, src),
        "masked_fill": lambda: lib.masked_fill(a, mask, 0.0),
        "topk(k=10)": lambda: lib.topk(a, 10, dim=1).values,
        "sort": lambda: lib.sort(a, dim=1).values,
        "einsum bij,bjk->bik": lambda: lib.einsum("bij,bjk->bik", b, c),
    }
    f = fns[name]

    def step():
        f().sum().backward()

    return step



def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    import torch

    torch.set_num_threads(2)
    cases = [(f"tutorial Net step, batch {b}", lambda lib, b=b: _train_step(lib, b), 20)
             for b in (4, 64)]
    cases += [(name, lambda lib, n=name: _op(lib, n), 20) for name in
              ("gather", "scatter_add", "masked_fill", "topk(k=10)", "sort",
               "einsum bij,bjk->bik")]
    print(f"{'case':32s} {'striate ms':>11s} {'torch ms':>9s} {'ratio':>6s}")
    for label, make, reps in cases:
        s, t = interleaved_ms([make(striate), make(torch)], args.rounds, reps)
        print(f"{label:32s} {s:11.3f} {t:9.3f} {s / t:6.2f}")


if __name__ == "__main__":
    main()
