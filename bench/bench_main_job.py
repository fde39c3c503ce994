"""The main job, whole processes: ``striate train`` (its defaults: the ConvNet on the digits)
against the same job in PyTorch (``bench/digits_torch.py``).

Each command runs as a fresh process, alternating, ``--runs`` times each (default 3); the script
prints each run's wall time (from start to exit: imports, data, training, test accuracy, the
written run folder with its plots), its CPU time, its peak resident memory (the child's
``ru_maxrss``) and test accuracy, then the medians and the ratios striate / PyTorch (below 1:
striate is faster / leaner).

    python bench/bench_main_job.py
    python bench/bench_main_job.py --runs 5 --env STRIATE_COMPILED=1
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SRC = str(HERE.parent / "src")


def _measure(cmd: list[str], env: dict) -> tuple[float, float, float, str]:
    """Wall seconds, peak RSS in MiB, CPU seconds (user + system, the child and its own
    children) and the printed test accuracy of one child process."""
    with tempfile.TemporaryFile("w+") as log:
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
        log.seek(0)
        text = log.read()
    if p.returncode != 0:
        raise RuntimeError(f"bench_main_job: {' '.join(cmd)} failed:\n{text[-3000:]}")
    m = re.search(r"test accuracy: ([0-9.]+%)", text)
    return wall, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime, m.group(1) if m else "?"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--env", action="append", default=[], metavar="NAME=VALUE",
                    help="an environment variable for the striate runs")
    args = ap.parse_args(argv)
    env = dict(os.environ)
    env["PYTHONPATH"] = SRC + os.pathsep + env.get("PYTHONPATH", "")
    s_env = dict(env, **dict(kv.split("=", 1) for kv in args.env))
    out = tempfile.mkdtemp(prefix="bench-main-job-")
    jobs = {
        "striate": ([sys.executable, "-m", "striate.cli", "train", "--out", out], s_env),
        "pytorch": ([sys.executable, str(HERE / "digits_torch.py"), "--out", out], env),
    }
    got: dict[str, list] = {k: [] for k in jobs}
    for i in range(args.runs):
        for name, (cmd, e) in jobs.items():
            wall, rss, cpu, acc = _measure(cmd, e)
            got[name].append((wall, rss, cpu))
            print(f"run {i + 1} {name:8s} {wall:6.2f} s wall {cpu:6.2f} s CPU {rss:7.1f} MiB  "
                  f"test accuracy {acc}", flush=True)
    med = {k: [statistics.median(r[j] for r in v) for j in range(3)] for k, v in got.items()}
    s, t = med["striate"], med["pytorch"]
    print(f"\nmedians of {args.runs}: striate {s[0]:.2f} s wall, {s[2]:.2f} s CPU, {s[1]:.0f} "
          f"MiB; pytorch {t[0]:.2f} s wall, {t[2]:.2f} s CPU, {t[1]:.0f} MiB")
    print(f"ratio striate / pytorch: wall {s[0] / t[0]:.2f}, CPU {s[2] / t[2]:.2f}, "
          f"peak memory {s[1] / t[1]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
