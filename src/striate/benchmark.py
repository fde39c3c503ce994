"""The ConvNet benchmark: striate against PyTorch, on the same machine, in the same run.

For each model, a full training step (forward, softmax cross-entropy, backward, SGD-momentum
step; float32) and inference (eval mode, no gradients) are timed for striate and for PyTorch with
the same batch and the same number of threads (``torch.set_num_threads`` and
``striate.set_num_threads``, which also sets NumPy's BLAS). Rounds interleave the two frameworks
so that a slow phase of a shared machine hits both; the table shows medians over all timed steps
and the ratio striate / PyTorch (below 1: striate is faster).

Models (inputs 3x32x32, 10 classes):

- ``fc``: the CS231n fully-connected net 3072-100-100-100-100-10 with ReLUs;
- ``convnet``: three conv3x3-ReLU-maxpool2x2 blocks of 32/64/128 channels and a linear head;
- ``resnet20``: the CIFAR ResNet-20 of ``striate.models`` (3 stages of 3 basic blocks, 16/32/64
  channels, BN, parameter-free option-A shortcuts: subsample and zero-pad the channels), and the
  same network written here in PyTorch;
- ``resnet20-winograd``: the same ResNet-20 with each 3x3 stride-1 conv run by im2col,
  Winograd's F(2x2, 3x3) or F(4x4, 3x3), whichever measured fastest on its first (warm-up)
  input (``striate.nn.winograd.use_winograd(model, "auto")``); PyTorch's side is unchanged.

PyTorch is only needed here: install the ``reference`` extra (``pip install 'striate[reference]'``).
Run it with ``striate bench`` or ``python bench/bench_models.py``.
"""

from __future__ import annotations

import contextlib
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence

import numpy as np

__all__ = ["MODELS", "format_table", "run", "striate_model", "torch_model"]

MODELS = ("fc", "convnet", "resnet20", "resnet20-winograd")
INPUT_SHAPE = (3, 32, 32)
NUM_CLASSES = 10


# ---- the models, once per framework --------------------------------------------------------


def striate_model(name: str):
    """The striate version of a benchmark model (see the module docstring)."""
    from . import nn

    if name == "fc":
        layers = [nn.Flatten()]
        width = int(np.prod(INPUT_SHAPE))
        for h in (100, 100, 100, 100):
            layers += [nn.Linear(width, h), nn.ReLU()]
            width = h
        return nn.Sequential(*layers, nn.Linear(width, NUM_CLASSES))
    if name == "convnet":
        layers, c = [], INPUT_SHAPE[0]
        for out in (32, 64, 128):
            layers += [nn.Conv2d(c, out, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)]
            c = out
        return nn.Sequential(*layers, nn.Flatten(), nn.Linear(128 * 4 * 4, NUM_CLASSES))
    if name == "resnet20-winograd":
        from .nn.winograd import use_winograd

        model = striate_model("resnet20")
        use_winograd(model, "auto")
        return model
    if name == "resnet20":
        from .models import MODELS as ZOO
        from .models import create_model

        if "resnet20" not in ZOO:
            raise ValueError("bench: striate.models has no 'resnet20' yet")
        return create_model("resnet20", num_classes=NUM_CLASSES, input_shape=INPUT_SHAPE)
    raise ValueError(f"bench: unknown model {name!r}; choose from {', '.join(MODELS)}")


def _torch():
    try:
        import torch
    except ImportError as e:
        raise ImportError("bench: the benchmark compares with PyTorch, which is not installed; "
                          "install the 'reference' extra: pip install 'striate[reference]'") from e
    return torch


def torch_model(name: str):
    """The PyTorch version of a benchmark model, layer for layer the same as striate's."""
    torch = _torch()
    tnn = torch.nn
    if name == "fc":
        layers = [tnn.Flatten()]
        width = int(np.prod(INPUT_SHAPE))
        for h in (100, 100, 100, 100):
            layers += [tnn.Linear(width, h), tnn.ReLU()]
            width = h
        return tnn.Sequential(*layers, tnn.Linear(width, NUM_CLASSES))
    if name == "convnet":
        layers, c = [], INPUT_SHAPE[0]
        for out in (32, 64, 128):
            layers += [tnn.Conv2d(c, out, 3, padding=1), tnn.ReLU(), tnn.MaxPool2d(2)]
            c = out
        return tnn.Sequential(*layers, tnn.Flatten(), tnn.Linear(128 * 4 * 4, NUM_CLASSES))
    if name == "resnet20-winograd":
        return torch_model("resnet20")
    if name == "resnet20":

        class Block(tnn.Module):
            def __init__(self, cin, cout, stride):
                super().__init__()
                self.conv1 = tnn.Conv2d(cin, cout, 3, stride, 1, bias=False)
                self.bn1 = tnn.BatchNorm2d(cout)
                self.conv2 = tnn.Conv2d(cout, cout, 3, 1, 1, bias=False)
                self.bn2 = tnn.BatchNorm2d(cout)
                self.stride = stride
                self.pad = ((cout - cin) // 2, cout - cin - (cout - cin) // 2)

            def forward(self, x):
                out = torch.relu(self.bn1(self.conv1(x)))
                out = self.bn2(self.conv2(out))
                skip = x[:, :, ::self.stride, ::self.stride] if self.stride != 1 else x
                if self.pad != (0, 0):  # option A: zero channels for the new ones, no weights
                    skip = torch.nn.functional.pad(skip, (0, 0, 0, 0, *self.pad))
                return torch.relu(out + skip)

        layers = [tnn.Conv2d(INPUT_SHAPE[0], 16, 3, 1, 1, bias=False), tnn.BatchNorm2d(16),
                  tnn.ReLU()]
        cin = 16
        for cout, stride in ((16, 1), (32, 2), (64, 2)):
            for b in range(3):
                layers.append(Block(cin, cout, stride if b == 0 else 1))
                cin = cout
        layers += [tnn.AdaptiveAvgPool2d(1), tnn.Flatten(), tnn.Linear(64, NUM_CLASSES)]
        return tnn.Sequential(*layers)
    raise ValueError(f"bench: unknown model {name!r}; choose from {', '.join(MODELS)}")


# ---- one step of each kind -------------------------------------------------------------------


def _striate_steps(model, x: np.ndarray, y: np.ndarray) -> tuple[Callable, Callable]:
    import striate
    from striate import functional as F
    from striate import optim

    opt = optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)
    xt, yt = striate.Tensor(x), striate.Tensor(y)

    def train():
        model.train()
        loss = F.cross_entropy(model(xt), yt)
        opt.zero_grad()
        loss.backward()
        opt.step()

    def infer():
        model.eval()
        with striate.no_grad():
            model(xt)

    return train, infer


def _torch_steps(model, x: np.ndarray, y: np.ndarray) -> tuple[Callable, Callable]:
    torch = _torch()
    opt = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    loss_fn = torch.nn.functional.cross_entropy

    def train():
        model.train()
        loss = loss_fn(model(xt), yt)
        opt.zero_grad()
        loss.backward()
        opt.step()

    def infer():
        model.eval()
        with torch.no_grad():
            model(xt)

    return train, infer


@contextlib.contextmanager
def _threads(n: int):
    """Both frameworks on n threads: torch's pool; striate's own split and NumPy's BLAS
    (``striate.parallel.num_threads``; striate's compiled loops are single-threaded numba run on
    striate's threads, so numba's own pool is never started). The caller's settings come back
    after."""
    from .parallel import num_threads

    torch = _torch()
    before = torch.get_num_threads()
    with num_threads(n):
        try:
            torch.set_num_threads(n)
            yield
        finally:
            torch.set_num_threads(before)


def interleaved_ms(fns: Sequence[Callable], rounds: int, reps: int,
                   clock: Callable[[], float] = time.perf_counter, warmup: int = 1) -> list[float]:
    """Milliseconds per call of each function: each is warmed up ``warmup`` times, then every
    round times ``reps`` calls of each in turn and keeps their median, so a slow phase of a
    shared machine hits all of them alike; the result is the median over the rounds."""
    for fn in fns:
        for _ in range(warmup):
            fn()
    per_round: list[list[float]] = [[] for _ in fns]
    for _ in range(rounds):
        for fn, out in zip(fns, per_round):
            calls = []
            for _ in range(reps):
                t0 = clock()
                fn()
                calls.append(clock() - t0)
            out.append(1e3 * statistics.median(calls))
    return [statistics.median(r) for r in per_round]


def _time(fn: Callable, steps: int) -> list[float]:
    out = []
    for _ in range(steps):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1e3)
    return out


def run(models: Sequence[str] = MODELS, batch_size: int = 128, threads: int | None = None,
        rounds: int = 3, steps: int = 3, warmup: int = 2, log=print) -> list[dict]:
    """Time striate and PyTorch on each model; returns one row per (model, mode).

    Args:
        models: names from :data:`MODELS`.
        batch_size: N of the (N, 3, 32, 32) float32 batch.
        threads: threads for both frameworks (default: all cores).
        rounds: interleaved rounds; each times ``steps`` steps per framework and mode.
        warmup: untimed steps per framework and mode before the first round (compilation,
            buffer allocation).
        log: where progress lines go (None: silent).

    Returns:
        ``[{"model", "mode", "params", "striate_ms", "torch_ms", "ratio"}]``, medians in ms.
    """
    _torch()  # a clear error without the reference extra, before anything is built
    for name in models:
        if name not in MODELS:
            raise ValueError(f"bench: unknown model {name!r}; choose from {', '.join(MODELS)}")
    threads = threads or os.cpu_count() or 1
    with _threads(threads):
        return _run(models, batch_size, threads, rounds, steps, warmup, log)


def _run(models, batch_size, threads, rounds, steps, warmup, log) -> list[dict]:
    import striate

    torch = _torch()
    rng = np.random.default_rng(0)
    x = rng.standard_normal((batch_size, *INPUT_SHAPE)).astype(np.float32)
    y = rng.integers(0, NUM_CLASSES, batch_size).astype(np.int64)
    striate.manual_seed(0)
    torch.manual_seed(0)
    built = {}
    for name in models:
        s_model, t_model = striate_model(name), torch_model(name)
        s_params = sum(int(p.numel()) for p in s_model.parameters())
        t_params = sum(int(p.numel()) for p in t_model.parameters())
        if s_params != t_params and log:
            log(f"note: {name} has {s_params:,} parameters in striate, {t_params:,} in PyTorch")
        built[name] = (s_params, _striate_steps(s_model, x, y), _torch_steps(t_model, x, y))
        for fn in (*built[name][1], *built[name][2]):
            for _ in range(warmup):
                fn()
    times = {(n, m, f): [] for n in models for m in ("train", "infer") for f in ("s", "t")}
    for r in range(rounds):
        for name in models:
            _, s_steps, t_steps = built[name]
            for k, mode in enumerate(("train", "infer")):
                # alternate which framework goes first, so neither always follows the other
                order = (("s", s_steps), ("t", t_steps)) if r % 2 == 0 else \
                    (("t", t_steps), ("s", s_steps))
                for fw, steps_of in order:
                    times[(name, mode, fw)] += _time(steps_of[k], steps)
        if log:
            log(f"round {r + 1}/{rounds} done")
    rows = []
    for name in models:
        for mode in ("train", "infer"):
            s = statistics.median(times[(name, mode, "s")])
            t = statistics.median(times[(name, mode, "t")])
            rows.append({"model": name, "mode": mode, "params": built[name][0],
                         "striate_ms": s, "torch_ms": t, "ratio": s / t})
    return rows


def machine() -> str:
    """One line describing the machine and the libraries that were timed."""
    torch = _torch()
    blas = ""
    try:
        from threadpoolctl import threadpool_info

        libs = sorted({(i.get("internal_api") or "?", i.get("architecture") or "")
                       for i in threadpool_info() if i.get("user_api") == "blas"})
        blas = ", NumPy BLAS " + "/".join(f"{api} ({arch} kernels)" if arch else api
                                          for api, arch in libs)
    except ImportError:  # pragma: no cover
        pass
    line = (f"{platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}, "
            f"NumPy {np.__version__}{blas}, PyTorch {torch.__version__}")
    forced = os.environ.get("OPENBLAS_CORETYPE")
    if forced:  # the kernels are then this CPU type's, whatever the CPU can do
        line += (f"\nnote: OPENBLAS_CORETYPE={forced} chooses OpenBLAS's kernels (PyTorch's are "
                 "unaffected); without it OpenBLAS picks this CPU's own")
    return line


def format_table(rows: list[dict], batch_size: int, threads: int, rounds: int) -> str:
    """The rows of :func:`run` as a Markdown table."""
    lines = [f"batch {batch_size}, float32, {threads} thread(s), medians of {rounds} interleaved "
             f"round(s)", "",
             "| model | params | step | striate ms | PyTorch ms | striate/PyTorch |",
             "|---|---:|---|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['model']} | {r['params']:,} | {r['mode']} | {r['striate_ms']:.1f} | "
                     f"{r['torch_ms']:.1f} | {r['ratio']:.2f} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    """``python bench/bench_models.py [--models ...]``: the same options as ``striate bench``."""
    import argparse

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_arguments(p)
    args = p.parse_args(argv)
    return run_from_args(args)


def add_arguments(p) -> None:
    """The benchmark's command-line options (shared by ``striate bench`` and the script)."""
    p.add_argument("--models", default=",".join(MODELS),
                   help=f"comma-separated, from {', '.join(MODELS)} (default: all)")
    p.add_argument("--batch-size", type=int, default=128, help="default: %(default)s")
    p.add_argument("--threads", type=int, default=None, help="default: all cores")
    p.add_argument("--rounds", type=int, default=3, help="interleaved rounds (default: 3)")
    p.add_argument("--steps", type=int, default=3, help="timed steps per round (default: 3)")
    p.add_argument("--warmup", type=int, default=2, help="untimed steps first (default: 2)")
    p.add_argument("--traced", action="store_true",
                   help="inference only: striate eager vs its traced and optimised graphs, "
                   "PyTorch and onnxruntime (default models: default_convnet (striate train's "
                   "ConvNet, with batch norm), resnet20)")
    p.add_argument("--cpu-time", action="store_true",
                   help="with --traced: time the process's CPU time, not wall-clock (steadier "
                   "on a busy machine; use with --threads 1)")


def run_from_args(args) -> int:
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    for name, v in (("batch-size", args.batch_size), ("rounds", args.rounds),
                    ("steps", args.steps), ("threads", args.threads or 1)):
        if v < 1:
            raise ValueError(f"bench: --{name} must be a positive integer, got {v}")
    if args.warmup < 0:
        raise ValueError(f"bench: --warmup must be >= 0, got {args.warmup}")
    threads = args.threads or os.cpu_count() or 1
    print(machine())
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
    if threads > 1 and load > 0.5:
        # a thread pool waits at every barrier for its slowest thread; on a busy machine that
        # thread is often descheduled for a whole time slice (docs/performance.md)
        print(f"note: load average {load:.1f} on {os.cpu_count()} cores: {threads}-thread "
              f"timings include waits for descheduled threads; compare with --threads 1")
    if args.traced:
        if args.models == ",".join(MODELS):
            models = list(TRACED_MODELS)
        rows = run_traced(models, args.batch_size, threads, args.rounds, args.steps, args.warmup,
                          log=lambda s: print(s, file=sys.stderr),
                          clock=time.process_time if args.cpu_time else time.perf_counter)
        print(format_traced_table(rows, args.batch_size, threads, args.rounds, args.cpu_time))
        return 0
    rows = run(models, args.batch_size, threads, args.rounds, args.steps, args.warmup,
               log=lambda s: print(s, file=sys.stderr))
    print(format_table(rows, args.batch_size, threads, args.rounds))
    return 0


# ---- inference: eager vs traced graphs (``striate bench --traced``) ----------------------------

TRACED_MODELS = ("default_convnet", "resnet20")


def _default_convnet(torch=None):
    """The ConvNet of ``striate train`` (``models.ConvNet``: [conv3x3-BN-ReLU-maxpool] x 32/64/128,
    dropout, linear) for 3x32x32 inputs, in striate, or in PyTorch when ``torch`` is given."""
    if torch is None:
        from .models import create_model

        return create_model("convnet", num_classes=NUM_CLASSES, input_shape=INPUT_SHAPE)
    tnn = torch.nn
    layers, c = [], INPUT_SHAPE[0]
    for out in (32, 64, 128):
        layers += [tnn.Conv2d(c, out, 3, padding=1), tnn.BatchNorm2d(out), tnn.ReLU(),
                   tnn.MaxPool2d(2)]
        c = out
    return tnn.Sequential(*layers, tnn.Flatten(), tnn.Dropout(0.3),
                          tnn.Linear(128 * 4 * 4, NUM_CLASSES))


def peak_bytes(fn: Callable) -> int:
    """Peak bytes that NumPy allocated (tracemalloc sees its arrays) during one call of fn,
    above what was allocated before."""
    import tracemalloc

    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before = tracemalloc.get_traced_memory()[0]
        fn()
        return tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()


def run_traced(models: Sequence[str] = TRACED_MODELS, batch_size: int = 128,
               threads: int | None = None, rounds: int = 3, steps: int = 3, warmup: int = 2,
               log=print, clock: Callable[[], float] = time.perf_counter) -> list[dict]:
    """Inference (eval, no gradients) of each model (:data:`MODELS`, or ``default_convnet``: the
    zoo's ConvNet that ``striate train`` uses, with batch norm): striate eager, the traced graph,
    the traced graph after ``jit.optimize_for_inference`` (BN folded, ReLUs fused, buffers planned),
    PyTorch eager and onnxruntime on striate's exported file, timed interleaved with ``clock``
    (``time.process_time`` counts this process's CPU time: steadier than wall-clock on a shared
    machine, and equal to it on one thread when the machine is quiet).

    Returns:
        ``[{"model", "variant", "ms", "vs_eager", "peak_mib"}]``: medians in ms, the ratio to
        striate eager (below 1: faster), and the peak memory NumPy allocated during one call
        (striate's variants only; None for the others, whose allocations NumPy does not see).
    """
    import io

    import striate

    from . import jit
    from . import onnx as sonnx

    torch = _torch()
    try:
        import onnxruntime as ort
    except ImportError as e:
        raise ImportError("bench --traced compares with onnxruntime: pip install "
                          "\"striate[onnx]\"") from e
    known = (*MODELS, "default_convnet")
    for name in models:
        if name not in known:
            raise ValueError(f"bench: unknown model {name!r}; choose from {', '.join(known)}")
    threads = threads or os.cpu_count() or 1
    rng = np.random.default_rng(0)
    x = rng.standard_normal((batch_size, *INPUT_SHAPE)).astype(np.float32)
    rows = []
    with _threads(threads):
        for name in models:
            striate.manual_seed(0)
            default = name == "default_convnet"
            model = (_default_convnet() if default else striate_model(name)).eval()
            xt = striate.tensor(x)
            traced = jit.trace(model, xt)
            optimised = jit.optimize_for_inference(traced)
            buf = io.BytesIO()
            sonnx.export(model, xt, buf)
            opts = ort.SessionOptions()
            opts.intra_op_num_threads = threads
            sess = ort.InferenceSession(buf.getvalue(), opts, providers=["CPUExecutionProvider"])
            feed = {sess.get_inputs()[0].name: x}
            t_model = (_default_convnet(torch) if default else torch_model(name)).eval()
            tx = torch.from_numpy(x)

            def eager(m=model, xt=xt):
                with striate.no_grad():
                    return m(xt).array

            def graph(m=traced, xt=xt):
                with striate.no_grad():
                    return m(xt).array

            def opt(m=optimised, xt=xt):
                with striate.no_grad():
                    return m(xt).array

            def torch_eager(m=t_model, tx=tx):
                with torch.no_grad():
                    return m(tx)

            def onnxruntime(s=sess, feed=feed):
                return s.run(None, feed)[0]

            ref = eager()
            for label, fn in (("traced", graph), ("optimised", opt), ("onnxruntime", onnxruntime)):
                err = float(np.abs(fn() - ref).max())
                if err > 1e-3 * max(1.0, float(np.abs(ref).max())):
                    raise RuntimeError(f"bench: {name} {label} differs from eager by {err}")
            fns = {"striate eager": eager, "striate traced": graph,
                   "striate traced+optimised": opt, "PyTorch eager": torch_eager,
                   "onnxruntime": onnxruntime}
            ms = interleaved_ms(list(fns.values()), rounds, steps, clock=clock, warmup=warmup)
            base = ms[0]
            for (variant, fn), t in zip(fns.items(), ms):
                peak = peak_bytes(fn) / 2**20 if variant.startswith("striate") else None
                rows.append({"model": name, "variant": variant, "ms": t, "vs_eager": t / base,
                             "peak_mib": peak})
            if log:
                log(f"{name} done")
    return rows


def format_traced_table(rows: list[dict], batch_size: int, threads: int, rounds: int,
                        cpu_time: bool = False) -> str:
    """The rows of :func:`run_traced` as a Markdown table."""
    unit = "CPU ms" if cpu_time else "ms"
    lines = [f"inference, batch {batch_size}, float32, {threads} thread(s), medians of {rounds} "
             f"interleaved round(s){', CPU time' if cpu_time else ''}", "",
             f"| model | variant | {unit} | / striate eager | peak MiB (NumPy) |",
             "|---|---|---:|---:|---:|"]
    for r in rows:
        peak = "" if r["peak_mib"] is None else f"{r['peak_mib']:.1f}"
        lines.append(f"| {r['model']} | {r['variant']} | {r['ms']:.1f} | {r['vs_eager']:.2f} | "
                     f"{peak} |")
    return "\n".join(lines)
