"""What a run leaves in its folder besides checkpoints: ``config.json``, ``metrics.csv`` and plots.

Every file is written atomically (a temporary file in the same folder, then ``os.replace``), so a
reader — or a crash — never sees half a file. Plots use matplotlib's Agg renderer through the
object API (``Figure`` + ``FigureCanvasAgg``): no display is needed and the backend of a user's
interactive session is left alone. matplotlib is imported only when plotting.
"""

from __future__ import annotations

import csv
import io
import json
import math
import numbers
import os
import tempfile
import warnings

from .checkpoint import _FILE_MODE

__all__ = ["plot_history", "write_csv", "write_json", "write_text_atomic"]

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


def _series(history: list[dict], key: str) -> tuple[list, list]:
    xs, ys = [], []
    for record in history:
        v = record.get(key)
        if isinstance(v, numbers.Real) and math.isfinite(v):
            xs.append(record.get("epoch", len(xs) + 1))
            ys.append(float(v))
    return xs, ys


def _figure():
    """A fresh Agg-backed matplotlib Figure, or None (with one warning) without matplotlib."""
    global _warned_no_matplotlib
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        if not _warned_no_matplotlib:
            _warned_no_matplotlib = True
            warnings.warn("striate.train: matplotlib is not installed, so no plots are written "
                          "(pip install matplotlib)", stacklevel=3)
        return None
    fig = Figure(figsize=(6, 4), dpi=100)
    FigureCanvasAgg(fig)
    return fig


def _plot(path: str, history: list[dict], keys: list[str], ylabel: str, title: str,
          logy: bool = False) -> bool:
    fig = _figure()
    if fig is None:
        return False
    ax = fig.add_subplot(1, 1, 1)
    drawn = False
    for key in keys:
        xs, ys = _series(history, key)
        if xs:
            ax.plot(xs, ys, marker="o", markersize=3, label=key)
            drawn = True
    if logy and drawn and all(y > 0 for k in keys for y in _series(history, k)[1]):
        ax.set_yscale("log")
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("epoch")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    if drawn:
        ax.legend()
    fig.tight_layout()
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp.png",
                               dir=directory)
    os.close(fd)
    try:
        fig.savefig(tmp, format="png")
        os.chmod(tmp, _FILE_MODE)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return True


def plot_history(out_dir: str, history: list[dict], metric_keys: list[str]) -> list[str]:
    """Write ``loss.png``, ``accuracy.png`` (each metric, train and val) and ``lr.png``.

    Args:
        out_dir: the run folder.
        history: the per-epoch records (keys ``train_loss``, ``val_loss``, ``lr``, ...).
        metric_keys: the metric suffixes to plot in ``accuracy.png``, e.g. ``['acc']``.

    Returns:
        the paths written (empty when matplotlib is missing).
    """
    written = []
    plots = [
        ("loss.png", ["train_loss", "val_loss"], "loss", "loss", False),
        ("accuracy.png", [f"{s}_{k}" for k in metric_keys for s in ("train", "val")],
         "accuracy" if metric_keys == ["acc"] else "metric", "accuracy", False),
        ("lr.png", ["lr"], "learning rate", "learning rate", True),
    ]
    for name, keys, ylabel, title, logy in plots:
        if not keys:
            continue
        path = os.path.join(out_dir, name)
        if not _plot(path, history, keys, ylabel, title, logy):
            break
        written.append(path)
    return written
