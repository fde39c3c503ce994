"""Threads: striate's own split of a kernel's work over the batch, and control of BLAS's threads.

A multi-threaded BLAS parallelises each matrix multiply, but the work around it in a kernel (the
im2col copies, batch norm, ReLU, pooling) runs on one core. :func:`parallel_for` instead splits a
kernel's batch into one part per thread and runs the parts on a persistent pool, each part with
single-threaded BLAS and with the compiled loops (which release the GIL), so the copies and loops
run in parallel too. Two cores, batch 128, float32, 3x3 convolution forward of 32 channels at
16x16: 6.0 ms on one thread, 3.65 ms with two BLAS threads, 3.2 ms as two parts.

BLAS runs one thread inside a split (two parts each calling a two-threaded BLAS would oversubscribe
the cores, which OpenBLAS punishes badly) and its own count again outside, where plain matrix
products (``Linear``, attention) keep their multi-threaded BLAS.

The number of threads is, as in PyTorch, :func:`get_num_threads` / :func:`set_num_threads`; until
set it follows BLAS's own thread count (so ``threadpoolctl.threadpool_limits`` and
``OPENBLAS_NUM_THREADS`` govern both).

Where NumPy was imported before striate (``_env.BLAS_POLICY_MISSED``: OpenBLAS's workers spin
after every call and take the core a part needs), striate owns the threads instead: BLAS is set
to one thread at import and stays there (:func:`set_num_threads` sets striate's count only), and
striate's count starts at BLAS's count before. The parts then run as in the other order, and
only matrix products outside a split lose their BLAS threads.
"""

from __future__ import annotations

import contextlib
import os
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future

from . import _env

__all__ = ["blas_threads", "get_num_threads", "num_threads", "parallel_for", "set_num_threads"]

_num_threads: int | None = None  # set_num_threads' value; None: follow BLAS
_pool: _Workers | None = None
_pool_lock = threading.Lock()
_blas: list = []  # threadpoolctl's controllers of the loaded BLAS libraries, found on first use
_local = threading.local()  # .inside: this thread runs a part of a split
_owned: list[int] = []  # [striate's default count] while striate owns the threads (see above)


def _blas_libs() -> list:
    if not _blas:
        try:
            from threadpoolctl import ThreadpoolController
        except ImportError:  # pragma: no cover - scikit-learn installs threadpoolctl
            _blas.append([])
        else:
            _blas.append([c for c in ThreadpoolController().lib_controllers
                          if c.user_api == "blas"])
    return _blas[0]


def get_num_threads() -> int:
    """Threads striate's kernels use: the value of :func:`set_num_threads`, else BLAS's own
    thread count (1 where striate cannot see or limit the BLAS, so that parts never
    oversubscribe the cores)."""
    if _num_threads is not None:
        return _num_threads
    if _owned:
        return _owned[0]
    libs = _blas_libs()
    return max(1, libs[0].get_num_threads()) if libs else 1


def set_num_threads(n: int) -> None:
    """Use n threads in striate's kernels and in BLAS (``torch.set_num_threads``'s role)."""
    global _num_threads
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise ValueError(f"set_num_threads: n must be a positive int, got {n!r}")
    _num_threads = n
    if _owned:  # BLAS stays on one thread
        return
    for c in _blas_libs():
        c.set_num_threads(n)


def _own_threads() -> None:
    """Keep BLAS on one thread from now on and use its count for striate's parts (see the module
    docstring): called at import where NumPy was loaded first."""
    libs = _blas_libs()
    if not libs or _owned:
        return
    _owned.append(max(1, libs[0].get_num_threads()))
    for c in libs:
        c.set_num_threads(1)


@contextlib.contextmanager
def num_threads(n: int):
    """A context with n threads for striate's kernels and BLAS (:func:`set_num_threads`); both
    counts are restored on exit."""
    global _num_threads
    before, blas_before = _num_threads, [c.get_num_threads() for c in _blas_libs()]
    set_num_threads(n)
    try:
        yield
    finally:
        _num_threads = before
        for c, b in zip(_blas_libs(), blas_before):
            c.set_num_threads(b)


@contextlib.contextmanager
def blas_threads(n: int):
    """A context in which BLAS runs n threads; its count before is restored on exit. While
    striate owns the threads, BLAS stays on one."""
    libs = [] if _owned else _blas_libs()
    before = [c.get_num_threads() for c in libs]
    for c in libs:
        c.set_num_threads(n)
    try:
        yield
    finally:
        for c, b in zip(libs, before):
            c.set_num_threads(b)


class _Workers:
    """Persistent daemon threads, one queue each, so that every part of a split gets a thread
    of its own (a ThreadPoolExecutor hands several parts to one idle thread)."""

    def __init__(self, n: int):
        self.queues = [queue.SimpleQueue() for _ in range(n)]
        for i, q in enumerate(self.queues):
            threading.Thread(target=self._serve, args=(q,), name=f"striate-{i + 1}",
                             daemon=True).start()

    @staticmethod
    def _serve(q) -> None:
        while True:
            fut, fn, a, b = q.get()
            try:
                fut.set_result(_part(fn, a, b))
            except BaseException as e:  # noqa: BLE001 - handed to the caller
                fut.set_exception(e)

    def submit(self, i: int, fn, a: int, b: int) -> Future:
        fut: Future = Future()
        self.queues[i].put((fut, fn, a, b))
        return fut


def _workers(n: int) -> _Workers:
    global _pool
    with _pool_lock:
        if _pool is None or len(_pool.queues) < n:
            _pool = _Workers(n)  # an older, smaller set of threads just idles
    return _pool


def _forget_pool() -> None:
    """In a forked child the pool's threads do not exist: start a new pool when needed."""
    global _pool, _pool_lock
    _pool, _pool_lock = None, threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool)


def parallel_for(n: int, fn: Callable[[int, int], object], min_part: int = 1) -> list:
    """Run ``fn(start, stop)`` over contiguous parts of ``range(n)``, one per thread, and return
    their results in order. The caller's thread runs the first part; no part is smaller than
    ``min_part`` (so small work stays on one thread, with BLAS as it is). Inside a part BLAS runs
    one thread, and a nested call runs inline."""
    threads = min(get_num_threads(), n // max(1, min_part))
    if threads <= 1 or getattr(_local, "inside", False):
        return [fn(0, n)]
    bounds = [(n * i // threads, n * (i + 1) // threads) for i in range(threads)]
    pool = _workers(threads - 1)
    with blas_threads(1):
        futures = [pool.submit(i, fn, a, b) for i, (a, b) in enumerate(bounds[1:])]
        try:
            first = _part(fn, *bounds[0])
        finally:
            rest = [f.result() for f in futures]  # wait for all, even if the first part failed
    return [first, *rest]


def _part(fn, a, b):
    _local.inside = True
    try:
        return fn(a, b)
    finally:
        _local.inside = False


if _env.BLAS_POLICY_MISSED and os.environ.get("STRIATE_OWN_THREADS", "1") != "0":
    _own_threads()
