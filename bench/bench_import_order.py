"""Does striate's speed depend on what the program imported first?

The same training step (the benchmark ConvNet, and ResNet-20; batch 128, 3x32x32, float32,
SGD-momentum) is timed in fresh processes that import NumPy first (as nearly every user script
does: ``import numpy as np`` on line 1; with ``--torch``, PyTorch too) or striate first. The
processes alternate, so a slow phase of a shared machine hits both orders; the script prints the
median step time of each order and the ratio numpy-first / striate-first (1.00: no difference).

    python bench/bench_import_order.py
    python bench/bench_import_order.py --models convnet --runs 3 --threads 1
    python bench/bench_import_order.py --torch      # also import torch before striate
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

SRC = str(Path(__file__).resolve().parent.parent / "src")

CHILD = """
import sys, json, time, statistics
order = {order!r}
if order == "numpy":
    import numpy as np
    {torch_line}
import striate
import numpy as np
from striate.benchmark import _striate_steps, striate_model
threads = {threads}
if threads:
    striate.set_num_threads(threads)
rng = np.random.default_rng(0)
x = rng.standard_normal(({batch}, 3, 32, 32)).astype(np.float32)
y = rng.integers(0, 10, {batch}).astype(np.int64)
striate.manual_seed(0)
train, _ = _striate_steps(striate_model({model!r}), x, y)
for _ in range(2):
    train()
ms = []
for _ in range({steps}):
    t0 = time.perf_counter()
    train()
    ms.append(1e3 * (time.perf_counter() - t0))
print(json.dumps({{"ms": statistics.median(ms), "threads": striate.get_num_threads()}}))
"""


def _child(order: str, model: str, args) -> dict:
    code = CHILD.format(order=order, model=model, threads=args.threads or 0, batch=args.batch,
                        steps=args.steps,
                        torch_line="import torch" if args.torch else "pass")
    env = dict(os.environ)
    env["PYTHONPATH"] = SRC + os.pathsep + env.get("PYTHONPATH", "")
    p = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                       check=False)
    if p.returncode != 0:
        raise RuntimeError(f"bench_import_order: the {order}-first process failed:\n{p.stderr}")
    return json.loads(p.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default="convnet,resnet20")
    ap.add_argument("--runs", type=int, default=3, help="processes per order (default 3)")
    ap.add_argument("--steps", type=int, default=10, help="timed steps per process")
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--threads", type=int, default=None, help="default: BLAS's own count")
    ap.add_argument("--torch", action="store_true", help="import torch first too")
    args = ap.parse_args(argv)
    first = "numpy + torch" if args.torch else "numpy"
    print(f"training step, batch {args.batch}, median of {args.steps} steps per process, "
          f"median over {args.runs} processes per order (alternating)")
    print(f"{'model':10s} {first + ' first':>18s} {'striate first':>15s} {'ratio':>7s}")
    for model in args.models.split(","):
        got: dict[str, list[float]] = {"numpy": [], "striate": []}
        for _ in range(args.runs):
            for order in ("numpy", "striate"):
                got[order].append(_child(order, model, args)["ms"])
        a, b = statistics.median(got["numpy"]), statistics.median(got["striate"])
        print(f"{model:10s} {a:15.1f} ms {b:12.1f} ms {a / b:7.2f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
