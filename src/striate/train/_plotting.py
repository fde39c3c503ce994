"""Drawing a run's plots with matplotlib's Agg renderer, in this process or in a helper process.

This file imports nothing from striate, so it also runs as a script (``python _plotting.py``): a
helper process that imports matplotlib while training runs, then reads the plots to draw as JSON
on its standard input and draws them, on another core, while striate prints the test accuracy
(:func:`striate.train.history.start_plot_worker`). Plots use the object API (``Figure`` +
``FigureCanvasAgg``): no display is needed, and pyplot and its backends are never loaded.
"""

from __future__ import annotations

import json
import math
import numbers
import os
import sys
import tempfile


def _series(history: list[dict], key: str) -> tuple[list, list]:
    xs, ys = [], []
    for record in history:
        v = record.get(key)
        if isinstance(v, numbers.Real) and math.isfinite(v):
            xs.append(record.get("epoch", len(xs) + 1))
            ys.append(float(v))
    return xs, ys


def draw(path: str, history: list[dict], keys: list[str], ylabel: str, title: str,
         logy: bool, mode: int) -> None:
    """One plot of ``history[key]`` per epoch for each key, written atomically to ``path``
    (a temporary file in the same folder, then ``os.replace``) with file mode ``mode``."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    fig = Figure(figsize=(6, 4), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    drawn = False
    for key in keys:
        xs, ys = _series(history, key)
        if xs:
            ax.plot(xs, ys, marker="o", markersize=3, label=key)
            drawn = True
    if logy and drawn and all(y > 0 for k in keys for y in _series(history, k)[1]):
        ax.set_yscale("log")
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
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _serve() -> int:
    """The helper process: import matplotlib now, then draw every plot of the JSON list on
    standard input (``[{"path", "history", "keys", "ylabel", "title", "logy", "mode"}]``)."""
    import matplotlib.backends.backend_agg  # noqa: F401 - the slow part, done while waiting
    import matplotlib.figure  # noqa: F401

    jobs = json.loads(sys.stdin.read() or "[]")
    for job in jobs:
        draw(**job)
    return 0


if __name__ == "__main__":
    sys.exit(_serve())
