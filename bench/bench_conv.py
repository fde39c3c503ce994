"""Time striate's conv2d + max_pool2d (forward + backward, and inference) against PyTorch.

Both run in the same process on the same machine, interleaved round by round, and the script
prints the median milliseconds and the ratio striate / torch (below 1 means striate is faster).
PyTorch is optional: without it only striate's times are printed.

    python bench/bench_conv.py            # the default cases
    python bench/bench_conv.py --rounds 9 # more rounds for steadier medians
"""

from __future__ import annotations

import argparse
import importlib.util

import numpy as np

import striate  # first: it sets the BLAS thread wait policy before NumPy starts its threads
from striate import functional as F
from striate.benchmark import interleaved_ms

# (name, input shape, filters, kernel, padding, input needs grad)
CASES = [
    ("digits: 64x1x8x8 -> 16, 3x3", (64, 1, 8, 8), 16, 3, 1, False),
    ("digits 2nd: 64x16x4x4 -> 32, 3x3", (64, 16, 4, 4), 32, 3, 1, True),
    ("cifar 1st: 128x3x32x32 -> 32, 3x3", (128, 3, 32, 32), 32, 3, 1, False),
    ("cifar 2nd: 128x32x16x16 -> 64, 3x3", (128, 32, 16, 16), 64, 3, 1, True),
    ("cifar 3rd: 128x64x8x8 -> 128, 3x3", (128, 64, 8, 8), 128, 3, 1, True),
]



def _striate_fns(x, w, b, g, pad, x_grad):
    xs = striate.tensor(x, requires_grad=x_grad)
    ws, bs = striate.tensor(w, requires_grad=True), striate.tensor(b, requires_grad=True)
    gs = striate.tensor(g)

    def train():
        ws.grad = bs.grad = xs.grad = None
        F.max_pool2d(F.conv2d(xs, ws, bs, padding=pad), 2).backward(gs)

    def infer():
        with striate.no_grad():
            F.max_pool2d(F.conv2d(xs, ws, bs, padding=pad), 2)

    return train, infer


def _torch_fns(torch, x, w, b, g, pad, x_grad):
    tf = torch.nn.functional
    xt = torch.tensor(x, requires_grad=x_grad)
    wt, bt = torch.tensor(w, requires_grad=True), torch.tensor(b, requires_grad=True)
    gt = torch.tensor(g)

    def train():
        wt.grad = bt.grad = xt.grad = None
        tf.max_pool2d(tf.conv2d(xt, wt, bt, padding=pad), 2).backward(gt)

    def infer():
        with torch.no_grad():
            tf.max_pool2d(tf.conv2d(xt, wt, bt, padding=pad), 2)

    return train, infer


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds (median)")
    parser.add_argument("--reps", type=int, default=5, help="calls per round")
    args = parser.parse_args(argv)
    torch = None
    if importlib.util.find_spec("torch") is not None:
        import torch
    rng = np.random.default_rng(0)
    head = f"{'case':38s} {'mode':6s} {'striate ms':>11s}"
    print(head + (f" {'torch ms':>9s} {'ratio':>6s}" if torch else "  (torch not installed)"))
    for name, shape, nf, k, pad, x_grad in CASES:
        x = rng.standard_normal(shape, dtype=np.float32)
        w = (rng.standard_normal((nf, shape[1], k, k)) * 0.1).astype(np.float32)
        b = np.zeros(nf, np.float32)
        ho = (shape[2] + 2 * pad - k + 1) // 2
        g = rng.standard_normal((shape[0], nf, ho, ho), dtype=np.float32)
        ours = _striate_fns(x, w, b, g, pad, x_grad)
        theirs = _torch_fns(torch, x, w, b, g, pad, x_grad) if torch else None
        for m, mode in enumerate(("train", "infer")):
            fns = [ours[m]] + ([theirs[m]] if theirs else [])
            ms = interleaved_ms(fns, args.rounds, args.reps)
            line = f"{name:38s} {mode:6s} {ms[0]:11.2f}"
            if theirs:
                line += f" {ms[1]:9.2f} {ms[0] / ms[1]:6.2f}"
            print(line, flush=True)


if __name__ == "__main__":
    main()
