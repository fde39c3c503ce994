"""Time the ConvNet layers beyond plain conv/pool (forward + backward) against PyTorch.

Grouped, depthwise, dilated and 1x1 convolutions, transposed convolution, local response norm,
global average pooling, max-pool indices + unpooling, nearest upsampling and fractional max
pooling. Both frameworks run in one process, interleaved round by round, on the same number of
threads; the script prints median milliseconds and the ratio striate / torch (below 1: striate
is faster). PyTorch is optional: without it only striate's times are printed.

    python bench/bench_layers.py              # all cases
    python bench/bench_layers.py --rounds 9   # steadier medians
    python bench/bench_layers.py --threads 1 --cpu   # one thread each, process CPU time
                                                     # (steady on a machine shared with others)
"""

from __future__ import annotations

import argparse
import importlib.util
import time

import numpy as np

import striate  # first: it sets the BLAS thread wait policy before NumPy starts its threads
from striate import functional as F
from striate.benchmark import interleaved_ms


def _cases(T):
    """(name, input shape, weight shape or None, f(x, w) in framework T's functional API)."""

    def unpool(x, w):
        y, i = T.max_pool2d(x, 2, return_indices=True)
        return T.max_unpool2d(y, i, 2)

    def frac(x, w):
        s = (np.random.default_rng(0).random((x.shape[0], x.shape[1], 2)) * 0.999)
        if hasattr(x, "array"):
            return T.fractional_max_pool2d(x, 2, output_ratio=(0.7, 0.7), _random_samples=s)
        import torch

        return T.fractional_max_pool2d(x, 2, output_ratio=(0.7, 0.7),
                                       _random_samples=torch.tensor(s, dtype=x.dtype))

    return [
        ("grouped 3x3 32x128x16x16 g=32", (32, 128, 16, 16), (128, 4, 3, 3),
         lambda x, w: T.conv2d(x, w, padding=1, groups=32)),
        ("depthwise 3x3 32x64x16x16", (32, 64, 16, 16), (64, 1, 3, 3),
         lambda x, w: T.conv2d(x, w, padding=1, groups=64)),
        ("dilated 3x3 d=2 32x64x16x16", (32, 64, 16, 16), (64, 64, 3, 3),
         lambda x, w: T.conv2d(x, w, padding=2, dilation=2)),
        ("1x1 32x256x8x8 -> 64", (32, 256, 8, 8), (64, 256, 1, 1), lambda x, w: T.conv2d(x, w)),
        ("1x1 stride 2 32x64x16x16 -> 128", (32, 64, 16, 16), (128, 64, 1, 1),
         lambda x, w: T.conv2d(x, w, stride=2)),
        ("conv_transpose 4x4 s2 32x64x8x8 -> 32", (32, 64, 8, 8), (64, 32, 4, 4),
         lambda x, w: T.conv_transpose2d(x, w, stride=2, padding=1)),
        ("local_response_norm 5 32x64x16x16", (32, 64, 16, 16), None,
         lambda x, w: T.local_response_norm(x, 5, 1e-4, 0.75, 2.0)),
        ("global avg pool 128x256x8x8", (128, 256, 8, 8), None,
         lambda x, w: T.adaptive_avg_pool2d(x, 1)),
        ("max_pool indices + unpool 32x64x16x16", (32, 64, 16, 16), None, unpool),
        ("nearest x2 32x64x16x16", (32, 64, 16, 16), None,
         lambda x, w: T.interpolate(x, scale_factor=2, mode="nearest")),
        ("fractional max pool 32x64x16x16", (32, 64, 16, 16), None, frac),
    ]


CLOCK = time.perf_counter



def _step(make, f, x, w):
    """One forward + backward of f on framework tensors made by ``make``."""
    xt, wt = make(x), (None if w is None else make(w))

    def run():
        xt.grad = None
        if wt is not None:
            wt.grad = None
        # the layer's input is an inner node, as in a network: a leaf's .grad is stored as an
        # array of its own (striate copies a transposed view there), which a network never pays
        y = f(xt * 1.0, wt)
        y.backward(g_of(y))

    cache = {}

    def g_of(y):
        key = tuple(y.shape)
        if key not in cache:
            cache[key] = make(np.ones(key, np.float32), grad=False)
        return cache[key]

    return run


def _limit_blas_threads(n):
    """Limit NumPy's BLAS to n threads (threadpoolctl, which scikit-learn brings along);
    otherwise say to set OPENBLAS_NUM_THREADS before starting."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        print(f"(threadpoolctl is not installed: run with OPENBLAS_NUM_THREADS={n} to limit "
              "NumPy's BLAS threads)")
        return None
    return threadpool_limits(limits=n, user_api="blas")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds (median)")
    parser.add_argument("--reps", type=int, default=3, help="calls per round")
    parser.add_argument("--threads", type=int, default=None,
                        help="limit NumPy's BLAS and torch to this many threads")
    parser.add_argument("--cpu", action="store_true",
                        help="measure process CPU time instead of wall time (use with --threads 1)")
    args = parser.parse_args(argv)
    global CLOCK
    if args.cpu:
        CLOCK = time.process_time
    torch = None
    if importlib.util.find_spec("torch") is not None:
        import torch

        if args.threads:
            torch.set_num_threads(args.threads)
    limiter = _limit_blas_threads(args.threads) if args.threads else None  # noqa: F841
    rng = np.random.default_rng(0)

    def ours(a, grad=True):
        # channels-last memory, as the previous conv of a network hands its output over
        if a.ndim == 4:
            a = np.ascontiguousarray(a.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)
        return striate.tensor(a, requires_grad=grad)

    def theirs(a, grad=True):
        return torch.tensor(a, requires_grad=grad)

    head = f"{'case (forward + backward)':40s} {'striate ms':>11s}"
    print(head + (f" {'torch ms':>9s} {'ratio':>6s}" if torch else "  (torch not installed)"))
    mine = _cases(F)
    other = _cases(torch.nn.functional) if torch else [None] * len(mine)
    for (name, xs, ws, f), case in zip(mine, other):
        x = rng.standard_normal(xs, dtype=np.float32)
        w = None if ws is None else (rng.standard_normal(ws) * 0.1).astype(np.float32)
        fns = [_step(ours, f, x, w)] + ([_step(theirs, case[3], x, w)] if case else [])
        ms = interleaved_ms(fns, args.rounds, args.reps, clock=CLOCK)
        line = f"{name:40s} {ms[0]:11.2f}"
        if case:
            line += f" {ms[1]:9.2f} {ms[0] / ms[1]:6.2f}"
        print(line, flush=True)


if __name__ == "__main__":
    main()
