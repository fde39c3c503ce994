"""matplotlib through its object API on an Agg canvas (no display, the user's backend left
alone), imported only when a plot is drawn."""

from __future__ import annotations

import warnings
from pathlib import Path

_warned = False


def figure(figsize=(6, 4)):
    """A fresh Agg-backed Figure, or None (with one warning) when matplotlib is missing."""
    global _warned
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        if not _warned:
            _warned = True
            warnings.warn("striate.classic: matplotlib is not installed, so no plots are "
                          "written (pip install matplotlib)", stacklevel=3)
        return None
    fig = Figure(figsize=figsize, dpi=100)
    FigureCanvasAgg(fig)
    return fig


def save(fig, path) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path)
