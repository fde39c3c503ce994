"""Data-parallel throughput: images/s of a training step on 2 MPI processes (global batch B split
in two, gradients all-reduced, SyncBatchNorm) against one process with 2 threads and one with 1
thread, for the default ConvNet (digits, 1x8x8) and ResNet-20 (CIFAR-shaped, 3x32x32); and the
bytes each rank sends per step.

    python bench/bench_distributed.py [--steps 20] [--batch 128] [--models convnet,resnet20]

The 2-process runs are started here through mpirun (the ``distributed`` extra); each process
gets one thread. Prints one table; PyTorch is not involved (its data parallelism on CPU runs the
same ring all-reduce over gloo; the comparison here is striate's own scaling).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

SHAPES = {"convnet": (1, 8, 8), "resnet20": (3, 32, 32)}


def inner(args) -> None:
    """One configuration, in this process (one rank when run under mpirun)."""
    import numpy as np

    import striate
    import striate.distributed as dist
    from striate.models import create_model
    from striate.nn import SyncBatchNorm
    from striate.nn.parallel import DistributedDataParallel

    world, rank = 1, 0
    if args.mpi:
        dist.init_process_group("mpi")
        world, rank = dist.get_world_size(), dist.get_rank()
    striate.set_num_threads(args.threads)
    striate.manual_seed(0)
    shape = SHAPES[args.model]
    model = create_model(args.model, num_classes=10, input_shape=shape)
    net = model
    if world > 1:
        model = SyncBatchNorm.convert_sync_batchnorm(model)
        net = DistributedDataParallel(model, broadcast_buffers=False)  # SyncBN keeps them equal
    opt = striate.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    rng = np.random.default_rng(rank)
    b = args.batch // world
    x = striate.tensor(rng.standard_normal((b, *shape)).astype(np.float32))
    y = striate.tensor(rng.integers(0, 10, b))

    def step():
        opt.zero_grad()
        striate.functional.cross_entropy(net(x), y).backward()
        opt.step()

    for _ in range(3):
        step()
    if world > 1:
        dist.barrier()
    sent0 = dist.bytes_sent() if world > 1 else 0
    t0 = time.perf_counter()
    for _ in range(args.steps):
        step()
    if world > 1:
        dist.barrier()
    dt = time.perf_counter() - t0
    sent = (dist.bytes_sent() - sent0) / args.steps if world > 1 else 0
    if rank == 0:
        print(json.dumps({"images_per_s": args.steps * args.batch / dt,
                          "bytes_per_step": sent,
                          "params": sum(p.numel() for p in model.parameters())}))
    if args.mpi:
        dist.destroy_process_group()


def run(model: str, procs: int, threads: int, steps: int, batch: int) -> dict:
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads),
               OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    cmd = [sys.executable, __file__, "--inner", "--model", model, "--threads", str(threads),
           "--steps", str(steps), "--batch", str(batch)]
    if procs > 1:
        mpirun = Path(sys.executable).parent / "mpirun"
        cmd = [str(mpirun) if mpirun.exists() else "mpirun", "-n", str(procs), *cmd, "--mpi"]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
    return json.loads([ln for ln in out.stdout.splitlines() if ln.startswith("{")][-1])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--models", default="convnet,resnet20")
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--mpi", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--model", default="convnet", help=argparse.SUPPRESS)
    p.add_argument("--threads", type=int, default=1, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.inner:
        return inner(args)
    print(f"global batch {args.batch}, {args.steps} timed steps; images/s (higher is better)")
    print(f"{'model':<10} {'params':>10} {'1 proc 1 thr':>13} {'1 proc 2 thr':>13} "
          f"{'2 procs':>9} {'2p / 1p2t':>10} {'bytes/step/rank':>16}")
    for model in args.models.split(","):
        one = run(model, 1, 1, args.steps, args.batch)
        two_thr = run(model, 1, 2, args.steps, args.batch)
        two = run(model, 2, 1, args.steps, args.batch)
        print(f"{model:<10} {one['params']:>10,} {one['images_per_s']:>13.0f} "
              f"{two_thr['images_per_s']:>13.0f} {two['images_per_s']:>9.0f} "
              f"{two['images_per_s'] / two_thr['images_per_s']:>10.2f} "
              f"{two['bytes_per_step']:>16,.0f}")


if __name__ == "__main__":
    main()
