"""What a run leaves in its folder besides checkpoints: ``config.json``, ``metrics.csv`` and plots.

Every file is written atomically (a temporary file in the same folder, then ``os.replace``), so a
reader — or a crash — never sees half a file. Plots use matplotlib's Agg renderer through the
object API (``Figure`` + ``FigureCanvasAgg``, in ``_plotting.py``): no display is needed and the
backend of a user's interactive session is left alone. matplotlib is imported only when plotting,
and with :func:`start_plot_worker` (``striate train`` does) in a helper process instead.
"""

from __future__ import annotations

import atexit
import csv
import importlib.util
import io
import json
import math
import numbers
import os
import subprocess
import sys
import tempfile
import warnings

from . import _plotting
from .checkpoint import _FILE_MODE

__all__ = ["plot_history", "start_plot_worker", "wait_for_plots", "write_csv", "write_json",
           "write_text_atomic"]

_warned_no_matplotlib = False


def write_text_atomic(path: str, text: str) -> None:
    """Write ``text`` to ``path`` via a temporary file in the same folder and ``os.replace``."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, _FILE_MODE)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_json(path: str, obj) -> None:
    """``obj`` as indented JSON; values JSON cannot hold are written as their ``str``."""
    write_text_atomic(path, json.dumps(obj, indent=2, default=str) + "\n")


def _is_scalar(v) -> bool:
    return v is None or isinstance(v, (numbers.Number, str))


def write_csv(path: str, history: list[dict]) -> None:
    """One row per epoch; the columns are the scalar keys of the records, in first-seen order.

    Non-scalar values (e.g. the per-parameter ``update_ratios`` dict) are left out; a key missing
    from a record is an empty cell.
    """
    columns: list[str] = []
    for record in history:
        for k, v in record.items():
            if k not in columns and _is_scalar(v):
                columns.append(k)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    for record in history:
        row = []
        for k in columns:
            v = record.get(k)
            if v is None or not _is_scalar(v):
                row.append("")
            elif isinstance(v, float):
                row.append(repr(v))  # shortest exact form, nan/inf as 'nan'/'inf'
            else:
                row.append(str(v))
        writer.writerow(row)
    write_text_atomic(path, buf.getvalue())


def _matplotlib_missing() -> bool:
    """True (with one warning) where matplotlib is not installed."""
    global _warned_no_matplotlib
    if importlib.util.find_spec("matplotlib") is not None:
        return False
    if not _warned_no_matplotlib:
        _warned_no_matplotlib = True
        warnings.warn("striate.train: matplotlib is not installed, so no plots are written "
                      "(pip install matplotlib)", stacklevel=3)
    return True


def new_figure():
    """A fresh Agg-backed matplotlib Figure, or None (with one warning) without matplotlib; for
    other modules' plots (``search.py``, ``study.py``)."""
    if _matplotlib_missing():
        return None
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6, 4), dpi=100)
    FigureCanvasAgg(fig)
    return fig


# ---- the plots off the critical path: a helper process -------------------------------------
# Importing matplotlib and drawing three figures takes longer than the digits' whole test
# evaluation. A helper process started with the run imports matplotlib on another core while
# training runs; plot_history hands it the plots, and wait_for_plots (or the exit of this
# process) waits for it, drawing here instead if it failed.

_worker: list = []  # [Popen, jobs handed to it or None]


def start_plot_worker() -> bool:
    """Start the helper process that the next :func:`plot_history` hands its plots to; False
    (and the plots drawn in this process) where matplotlib is missing or it cannot start."""
    if _worker or importlib.util.find_spec("matplotlib") is None:
        return bool(_worker)
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_plotting.py")
    try:
        proc = subprocess.Popen([sys.executable, script],
                                stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)
    except OSError:
        return False
    _worker[:] = [proc, None]
    atexit.register(wait_for_plots)
    return True


def wait_for_plots() -> None:
    """Wait until the plots handed to the helper process are written (drawing here whatever it
    did not draw); a no-op without one."""
    if not _worker:
        return
    proc, jobs = _worker
    _worker.clear()
    if jobs is None:  # nothing handed over: let it go
        proc.stdin.close()
        proc.wait()
        return
    if proc.wait() != 0 or not all(os.path.exists(j["path"]) for j in jobs):
        for job in jobs:
            _plotting.draw(**job)


def _hand_over(jobs: list[dict]) -> bool:
    """Give the plots to the helper process, if one waits; True when it took them."""
    if not _worker or _worker[1] is not None:
        return False
    proc = _worker[0]
    try:
        proc.stdin.write(json.dumps(jobs).encode())
        proc.stdin.close()
    except OSError:  # it died: draw here
        _worker.clear()
        proc.wait()
        return False
    _worker[1] = jobs
    return True


def plot_history(out_dir: str, history: list[dict], metric_keys: list[str]) -> list[str]:
    """Write ``loss.png``, ``accuracy.png`` (each metric, train and val) and ``lr.png``.

    Args:
        out_dir: the run folder.
        history: the per-epoch records (keys ``train_loss``, ``val_loss``, ``lr``, ...).
        metric_keys: the metric suffixes to plot in ``accuracy.png``, e.g. ``['acc']``.

    Returns:
        the paths of the plots (empty when matplotlib is missing). With a helper process
        (:func:`start_plot_worker`) they are drawn there: they exist after
        :func:`wait_for_plots`, and at the latest when this process exits.
    """
    plots = [
        ("loss.png", ["train_loss", "val_loss"], "loss", "loss", False),
        ("accuracy.png", [f"{s}_{k}" for k in metric_keys for s in ("train", "val")],
         "accuracy" if metric_keys == ["acc"] else "metric", "accuracy", False),
        ("lr.png", ["lr"], "learning rate", "learning rate", True),
    ]
    if _matplotlib_missing():
        return []
    jobs = [{"path": os.path.join(out_dir, name), "history": _plain(history), "keys": keys,
             "ylabel": ylabel, "title": title, "logy": logy, "mode": _FILE_MODE}
            for name, keys, ylabel, title, logy in plots if keys]
    if not _hand_over(jobs):
        for job in jobs:
            _plotting.draw(**job)
    return [job["path"] for job in jobs]


def _plain(history: list[dict]) -> list[dict]:
    """The records' finite real numbers as floats (what the plots read), JSON-ready."""
    return [{k: float(v) for k, v in r.items()
             if isinstance(v, numbers.Real) and not isinstance(v, bool) and math.isfinite(v)}
            for r in history]
