"""striate.parallel: the batch split over threads, and the kernels that use it.

The suite pins BLAS to one thread (conftest.py), so these tests set striate's thread count and
shrink the kernels' smallest parts to make small arrays split."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import striate
from striate import functional as F
from striate import parallel
from striate.kernels import compiled, conv_backward, conv_forward

RNG = np.random.default_rng(12)


@pytest.fixture
def threads3(monkeypatch):
    """Three threads, and parts as small as one image / a few values."""
    from striate.kernels import conv

    monkeypatch.setattr(parallel, "_num_threads", 3)
    monkeypatch.setattr(conv, "_CHUNK_ELEMS", 256)
    monkeypatch.setattr(compiled, "_MIN_PART", 16)


def test_parallel_for_covers_the_range_in_order(threads3):
    seen = []
    out = parallel.parallel_for(10, lambda a, b: (seen.append(threading.get_ident()), (a, b))[1])
    assert out == [(0, 3), (3, 6), (6, 10)]
    assert len(set(seen)) == 3  # the caller and two pool threads
    # too little work for more than one part: inline, one call
    assert parallel.parallel_for(10, lambda a, b: (a, b), min_part=6) == [(0, 10)]


def test_parallel_for_runs_nested_calls_inline_and_limits_blas(threads3):
    libs = parallel._blas_libs()
    before = [c.get_num_threads() for c in libs]

    def part(a, b):
        inner = parallel.parallel_for(4, lambda i, j: (i, j))
        blas = [c.get_num_threads() for c in libs]
        return inner, blas

    for inner, blas in parallel.parallel_for(3, part):
        assert inner == [(0, 4)]
        assert all(n == 1 for n in blas)
    assert [c.get_num_threads() for c in libs] == before


def test_parallel_for_raises_the_parts_error(threads3):
    def part(a, b):
        if a > 0:
            raise RuntimeError(f"part {a}")
        return a

    with pytest.raises(RuntimeError, match="part"):
        parallel.parallel_for(6, part)


def test_set_num_threads_checks_its_argument():
    with pytest.raises(ValueError, match="positive int"):
        striate.set_num_threads(0)
    assert striate.get_num_threads() >= 1


def _conv_all(x, w):
    out, cache = conv_forward(x, w, None, 1, 1)
    d = RNG.standard_normal(out.shape)
    dx, dw, _ = conv_backward(d, cache)
    return out, dx, dw


def _norm_relu_pool(x):
    xt = striate.tensor(x, requires_grad=True)
    w = striate.tensor(RNG.standard_normal(x.shape[1]) + 1, requires_grad=True)
    y = F.max_pool2d(F.relu(F.batch_norm(xt, None, None, w, None, training=True)), 2)
    y.backward(striate.tensor(np.linspace(-1, 1, y.numel()).reshape(y.shape)))
    return y.array, xt.grad.array, w.grad.array


@pytest.mark.parametrize("c", [3, 16])
def test_kernels_split_over_threads_match_one_thread(c, threads3, monkeypatch):
    x = RNG.standard_normal((7, c, 6, 5))
    x = np.ascontiguousarray(x.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)  # channels-last
    w = RNG.standard_normal((4, c, 3, 3))
    state = RNG.bit_generator.state
    split = _conv_all(x, w) + _norm_relu_pool(x)
    monkeypatch.setattr(parallel, "_num_threads", 1)
    RNG.bit_generator.state = state
    single = _conv_all(x, w) + _norm_relu_pool(x)
    for a, b in zip(split, single):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_thread_policy_is_set_before_numpy_loads():
    # OpenBLAS reads these variables once, when NumPy loads it: striate must set them first
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items()
           if k not in ("OMP_WAIT_POLICY", "OPENBLAS_THREAD_TIMEOUT")}
    code = ("import sys; import striate, os; "
            "print(os.environ['OPENBLAS_THREAD_TIMEOUT'], os.environ['OMP_WAIT_POLICY'])")
    out = subprocess.run([sys.executable, "-X", "importtime", "-c", code], env=env,
                         capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["4", "passive"]
    order = [line.rsplit("|", 1)[-1].strip() for line in out.stderr.splitlines()]
    assert order.index("striate._env") < order.index("numpy")


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="needs fork")
def test_a_forked_child_gets_a_pool_of_its_own(threads3):
    import multiprocessing as mp

    parallel.parallel_for(6, lambda a, b: a)  # the parent's pool threads exist now
    with mp.get_context("fork").Pool(1) as pool:
        got = pool.apply_async(_split_in_child).get(timeout=60)
    assert got == [(0, 2), (2, 4), (4, 6)]


def _split_in_child():
    parallel._num_threads = 3
    return parallel.parallel_for(6, lambda a, b: (a, b))


def test_num_threads_context_restores_both_counts():
    libs = parallel._blas_libs()
    blas_before = [c.get_num_threads() for c in libs]
    before = parallel._num_threads
    with parallel.num_threads(3):
        assert striate.get_num_threads() == 3
        # where striate owns the threads (NumPy imported first), BLAS stays on one
        assert all(c.get_num_threads() == (1 if parallel._owned else 3) for c in libs)
    assert parallel._num_threads == before
    assert [c.get_num_threads() for c in libs] == blas_before


IMPORT_ORDER = """
import json, sys
if sys.argv[1] == "numpy":
    import numpy
import striate
from striate import parallel
from threadpoolctl import ThreadpoolController
blas = [c.get_num_threads() for c in ThreadpoolController().lib_controllers
        if c.user_api == "blas"]
striate.set_num_threads(2)
blas_after = [c.get_num_threads() for c in parallel._blas_libs()]
print(json.dumps([bool(parallel._owned), blas, blas_after, striate.get_num_threads()]))
"""


@pytest.mark.parametrize("first", ["numpy", "striate"])
def test_numpy_imported_first_leaves_blas_on_one_thread(first):
    """NumPy loaded before striate: OpenBLAS's workers would spin after every call, so striate
    keeps BLAS on one thread and runs its parts on its own threads; striate first: BLAS's
    threads are left to striate's thread policy."""
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = {k: v for k, v in os.environ.items()
           if k not in ("OPENBLAS_THREAD_TIMEOUT", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")}
    env["PYTHONPATH"] = str(Path(striate.__file__).resolve().parent.parent)
    p = subprocess.run([sys.executable, "-c", IMPORT_ORDER, first], env=env,
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    owned, blas, blas_after, threads = json.loads(p.stdout)
    assert threads == 2
    if first == "numpy":
        assert owned and set(blas) == {1} and set(blas_after) == {1}
    else:
        assert not owned and set(blas_after) == {2}
