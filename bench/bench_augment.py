"""Augmentation on the fly: its cost per batch, and whether a training step waits for it.

Batches of 128 x 3x32x32 float32. Part 1 times each augmentation recipe alone. Part 2 runs a
training loop of the small benchmark ConvNet (striate) over augmented batches built

- inline (``prefetch=0``: the step waits for every batch),
- by the DataLoader's prefetch thread (what striate does),
- by a pool of worker processes (``multiprocessing``, fork; each batch is pickled back),

and prints ms per step next to the same loop without augmentation (medians of interleaved
rounds). The thread costs nothing if its time per step is the no-augmentation time.

    python bench/bench_augment.py [--batches 8] [--rounds 3] [--recipe crop,flip,rotate]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import statistics
import time

import numpy as np

import striate  # first: it sets the BLAS thread wait policy before NumPy starts its threads
from striate import functional as F
from striate import optim
from striate.benchmark import striate_model
from striate.data import DataLoader, TensorDataset
from striate.data.augment import build_augmentation
from striate.data.transforms import Compose

RECIPES = ["crop,flip", "crop,flip,jitter", "crop,flip,rotate", "scale,flip", "shear,translate"]
N, SHAPE = 128, (3, 32, 32)

_POOL_DATA = {}


def _pool_init(x, spec):
    _POOL_DATA["x"] = x
    _POOL_DATA["t"] = Compose(build_augmentation(spec, SHAPE))


def _pool_batch(job):
    idx, seed = job
    return _POOL_DATA["t"](_POOL_DATA["x"][idx], np.random.default_rng(seed))


def _process_batches(pool, x, batches, depth=2):
    seeds = np.random.default_rng(0).integers(2**63, size=len(batches))
    return pool.imap(_pool_batch, zip(batches, seeds), chunksize=1)


def part1(rounds: int):
    rng = np.random.default_rng(0)
    x = rng.random((N, *SHAPE), dtype=np.float32)
    print(f"augmentation alone, one batch {N} x {SHAPE}:")
    for spec in RECIPES:
        t = Compose(build_augmentation(spec, SHAPE))
        t(x, rng)
        times = []
        for _ in range(max(5, rounds * 3)):
            t0 = time.perf_counter()
            t(x, rng)
            times.append((time.perf_counter() - t0) * 1e3)
        print(f"  {spec:20s} {statistics.median(times):6.2f} ms")


def part2(batches: int, rounds: int, spec: str):
    striate.manual_seed(0)
    rng = np.random.default_rng(0)
    x = rng.random((N * batches, *SHAPE), dtype=np.float32)
    y = rng.integers(0, 10, N * batches)
    model = striate_model("convnet")
    opt = optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)
    ds = TensorDataset(x, y)
    aug = Compose(build_augmentation(spec, SHAPE))

    def step(xb, yb):
        loss = F.cross_entropy(model(xb), yb)
        opt.zero_grad()
        loss.backward()
        opt.step()

    def epoch(loader):
        t0 = time.perf_counter()
        for xb, yb in loader:
            step(xb, yb)
        return (time.perf_counter() - t0) * 1e3 / batches

    order = [np.arange(i * N, (i + 1) * N) for i in range(batches)]

    def processes(pool):
        t0 = time.perf_counter()
        for xb, idx in zip(_process_batches(pool, x, order), order):
            step(striate.Tensor(xb), striate.Tensor(y[idx]))
        return (time.perf_counter() - t0) * 1e3 / batches

    ctx = mp.get_context("fork")
    pool = ctx.Pool(1, initializer=_pool_init, initargs=(x, spec))
    pool.map(_pool_batch, [(order[0], 0)])  # start the worker before timing
    variants = {
        "no augmentation": lambda: epoch(DataLoader(ds, N, prefetch=2)),
        "inline (prefetch=0)": lambda: epoch(DataLoader(ds, N, transform=aug, prefetch=0)),
        "thread (DataLoader)": lambda: epoch(DataLoader(ds, N, transform=aug, prefetch=2)),
        "process pool (fork)": lambda: processes(pool),
    }
    epoch(DataLoader(ds, N, transform=aug, prefetch=2))  # warm-up
    times = {k: [] for k in variants}
    for r in range(rounds):
        names = list(variants) if r % 2 == 0 else list(variants)[::-1]
        for k in names:
            times[k].append(variants[k]())
    pool.close()
    pool.join()
    base = statistics.median(times["no augmentation"])
    print(f"\nConvNet training step over augmented batches ({spec}; {batches} batches x "
          f"{rounds} rounds, median ms per step):")
    for k, v in times.items():
        m = statistics.median(v)
        print(f"  {k:22s} {m:7.1f} ms   {m - base:+6.1f} ms vs no augmentation")


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--batches", type=int, default=8)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--recipe", default="crop,flip,rotate")
    args = p.parse_args()
    part1(args.rounds)
    part2(args.batches, args.rounds, args.recipe)


if __name__ == "__main__":
    main()
