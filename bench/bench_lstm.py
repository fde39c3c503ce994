"""Time one training step of a single-layer LSTM language-model head against PyTorch.

The step: LSTM (input 128, hidden 256) over sequences of 32 steps, batch 64, batch-first; a
linear layer to 1,000 classes at every step; the temporal softmax loss (with a mask); backward;
an SGD update. Both libraries run in the same process on the same machine with the same thread
count, interleaved round by round; the script prints median milliseconds and the ratio
striate / torch (below 1 means striate is faster). PyTorch is optional.

    python bench/bench_lstm.py
    python bench/bench_lstm.py --rounds 9 --threads 1
    python bench/bench_lstm.py --threads 1 --clock cpu    # on a busy machine

``--threads`` sets PyTorch's intra-op threads and, through threadpoolctl where installed, NumPy's
BLAS threads to the same count. striate is timed twice: with the per-step recurrent GEMMs on one
BLAS thread (``striate.ops.recurrent.LOOP_BLAS_THREADS = 1``) and on all of them (``None``, the
default), so the effect of that choice shows in the same run.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import time

import numpy as np

import striate  # first: it sets the BLAS thread wait policy before NumPy starts its threads
from striate import functional as F
from striate import nn, optim
from striate.benchmark import interleaved_ms
from striate.ops import recurrent

N, T, D, H, V = 64, 32, 128, 256, 1000



def _data():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((N, T, D), dtype=np.float32)
    y = rng.integers(0, V, size=(N, T))
    mask = np.ones((N, T), dtype=bool)
    mask[::3, T - 5 :] = False  # some padding at the end of every third sequence
    return x, y, mask


def _striate_step(x, y, mask):
    striate.manual_seed(0)
    lstm = nn.LSTM(D, H, batch_first=True)
    head = nn.Linear(H, V)
    params = list(lstm.parameters()) + list(head.parameters())
    opt = optim.SGD(params, lr=1e-3)
    xs, ys, ms = striate.tensor(x), striate.tensor(y), striate.tensor(mask)

    def step():
        opt.zero_grad()
        out, _ = lstm(xs)
        scores = head(out.reshape(N * T, H)).reshape(N, T, V)
        loss = F.temporal_softmax_loss(scores, ys, ms)
        loss.backward()
        opt.step()

    return step


def _torch_step(torch, x, y, mask):
    torch.manual_seed(0)
    lstm = torch.nn.LSTM(D, H, batch_first=True)
    head = torch.nn.Linear(H, V)
    params = list(lstm.parameters()) + list(head.parameters())
    opt = torch.optim.SGD(params, lr=1e-3)
    xt, yt = torch.tensor(x), torch.tensor(y)
    mt = torch.tensor(mask.astype(np.float32)).reshape(-1)

    def step():
        opt.zero_grad()
        out, _ = lstm(xt)
        scores = head(out.reshape(N * T, H))
        nll = torch.nn.functional.cross_entropy(scores, yt.reshape(-1), reduction="none")
        loss = (nll * mt).sum() / N
        loss.backward()
        opt.step()

    return step


def _limit_blas(threads: int) -> bool:
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return False
    threadpool_limits(threads, user_api="blas")
    return True


def _loop_threads(n):
    def wrap(step):
        def run():
            before = recurrent.LOOP_BLAS_THREADS
            recurrent.LOOP_BLAS_THREADS = n
            try:
                step()
            finally:
                recurrent.LOOP_BLAS_THREADS = before
        return run
    return wrap


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds (median)")
    parser.add_argument("--reps", type=int, default=5, help="steps per round")
    parser.add_argument("--threads", type=int, default=None,
                        help="threads for both libraries (default: os.cpu_count())")
    parser.add_argument("--clock", choices=["wall", "cpu"], default="wall",
                        help="wall time (default), or this process's CPU time: steadier on a "
                        "busy machine, meaningful with --threads 1 only")
    args = parser.parse_args(argv)
    clock = time.process_time if args.clock == "cpu" else time.perf_counter
    threads = args.threads or os.cpu_count()
    blas_set = _limit_blas(threads)
    torch = None
    if importlib.util.find_spec("torch") is not None:
        import torch

        torch.set_num_threads(threads)
    x, y, mask = _data()
    names = ["striate (loop GEMMs on 1 BLAS thread)", "striate (loop GEMMs on all threads)"]
    fns = [_loop_threads(1)(_striate_step(x, y, mask)),
           _loop_threads(None)(_striate_step(x, y, mask))]
    if torch:
        names.append("torch")
        fns.append(_torch_step(torch, x, y, mask))
    ms = interleaved_ms(fns, args.rounds, args.reps, clock=clock, warmup=2)
    print(f"LSTM {D}->{H}, seq {T}, batch {N}, linear to {V}, temporal softmax loss, SGD step; "
          f"{threads} threads, {args.clock} clock"
          + ("" if blas_set else " (torch only; BLAS threads left as they are)"))
    for name, m in zip(names, ms):
        line = f"{name:40s} {m:8.1f} ms"
        if torch and name != "torch":
            line += f"   ratio to torch {m / ms[-1]:.2f}"
        print(line)


if __name__ == "__main__":
    main()
