"""Pictures: a Grid World's value function with its greedy policy, and return curves.

Both use matplotlib's object API with the Agg canvas: no display, no pyplot.
"""

from __future__ import annotations

import numpy as np

from ..train.history import new_figure

__all__ = ["figure", "plot_gridworld", "plot_returns", "smooth", "write_gif"]


def figure():
    """A fresh Agg-backed matplotlib Figure, or None (with a warning) without matplotlib."""
    return new_figure()


_ARROWS = ((0, 0.3), (0.3, 0), (0, -0.3), (-0.3, 0))  # up, right, down, left (x right, y up)


def plot_gridworld(world, V, policy, path: str, title: str = "") -> bool:
    """Draw ``V`` (S,) as a heat map over ``world``'s grid, with the greedy ``policy`` (S,) as
    arrows on non-terminal cells; write a PNG to ``path``. False where matplotlib is missing."""
    fig = figure()
    if fig is None:
        return False
    fig.set_size_inches(1.3 * world.width + 1.2, 1.3 * world.height + 0.6)
    ax = fig.add_subplot(1, 1, 1)
    grid = world.grid(V)
    lim = max(np.nanmax(np.abs(grid)), 1e-9)
    im = ax.imshow(np.ma.masked_invalid(grid), cmap="RdYlGn", vmin=-lim, vmax=lim)
    ax.imshow(np.ma.masked_where(~np.isnan(grid), np.ones_like(grid)), cmap="Greys", vmin=0,
              vmax=1.5)
    for s, (i, j) in enumerate(world.cells):
        ax.text(j, i + 0.3, f"{V[s]:.3f}", ha="center", va="center", fontsize=8)
        if world.terminal[s]:
            ax.text(j, i - 0.1, world.layout[i][j], ha="center", va="center", fontsize=14,
                    weight="bold")
        else:
            dx, dy = _ARROWS[int(policy[s])]
            ax.arrow(j - dx / 2, i + dy / 2 - 0.1, dx, -dy, head_width=0.12,
                     length_includes_head=True, color="k")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(title, fontsize=10)
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    fig.tight_layout()
    fig.savefig(path, format="png")
    return True


def smooth(y, window: int) -> np.ndarray:
    """Trailing moving average over up to ``window`` points (the first points average fewer)."""
    y = np.asarray(y, dtype=np.float64)
    c = np.concatenate([[0.0], np.cumsum(y)])
    end = np.arange(1, len(y) + 1)
    k = np.minimum(end, window)
    return (c[end] - c[end - k]) / k


def plot_returns(curves: dict, path: str, title: str = "", xlabel: str = "environment steps",
                 window: int = 20, hline: float | None = None, markers: dict | None = None) -> bool:
    """Return curves: ``curves`` maps a label to ``(x, returns)`` (episode end positions and
    returns); each is drawn faint, with its moving average over ``window`` episodes on top.
    ``markers`` (label -> (x, y)) are drawn as points joined by lines (evaluations), ``hline``
    as a dashed line (the environment's "solved" threshold)."""
    fig = figure()
    if fig is None:
        return False
    ax = fig.add_subplot(1, 1, 1)
    for k, (label, (x, y)) in enumerate(curves.items()):
        if len(y) == 0:
            continue
        color = f"C{k}"
        ax.plot(x, y, color=color, alpha=0.2, linewidth=0.8)
        ax.plot(x, smooth(y, window), color=color, label=label)
    for k, (label, (x, y)) in enumerate((markers or {}).items(), start=len(curves)):
        ax.plot(x, y, marker="o", markersize=3, color=f"C{k}", label=label)
    if hline is not None:
        ax.axhline(hline, color="k", linestyle="--", linewidth=0.8)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("episode return")
    ax.set_title(title, fontsize=10)
    ax.grid(True, alpha=0.3)
    if curves:
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, format="png")
    return True


def write_gif(frames, path: str, fps: int = 25, every: int = 2, scale: int = 2) -> None:
    """Write frames (H, W, 3) uint8 as an animated GIF, keeping every ``every``-th frame and
    every ``scale``-th pixel (small files).

    Raises:
        ImportError: Pillow is not installed (one line).
        ValueError: no frames.
    """
    try:
        from PIL import Image
    except ImportError:
        raise ImportError("write_gif: recording needs Pillow: pip install pillow") from None
    if len(frames) == 0:
        raise ValueError("write_gif: no frames to write")
    images = [Image.fromarray(np.asarray(f)[::scale, ::scale]) for f in frames[::every]]
    images[0].save(path, save_all=True, append_images=images[1:], duration=1000 // fps * every,
                   loop=0)
