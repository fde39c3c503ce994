"""Drawing attention: the image, then one panel per generated word with the attention weights
over the feature map upsampled onto the image (Show, Attend and Tell's figure).

matplotlib is imported only when drawing, on an Agg canvas (no display needed).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = ["upsample_attention", "attention_mass", "draw_attention"]


def upsample_attention(alpha: np.ndarray, grid: tuple, size: tuple) -> np.ndarray:
    """Weights over an (h, w) grid of locations, (L,) with L = h * w, as an (H, W) map: each cell
    repeated over the pixels it covers (nearest neighbour), so the map still sums to ``H W / L``
    times the weights' sum."""
    h, w = grid
    alpha = np.asarray(alpha, dtype=np.float64).reshape(h, w)
    rows = (np.arange(size[0]) * h) // size[0]
    cols = (np.arange(size[1]) * w) // size[1]
    return alpha[rows][:, cols]


def attention_mass(alpha: np.ndarray, grid: tuple, size: tuple, obj: dict) -> float:
    """The share of attention (weights over an (h, w) grid) falling on a shape's bounding box
    (``cx``, ``cy``, ``r`` in pixels of an image of ``size`` (H, W))."""
    m = upsample_attention(alpha, grid, size)
    yy, xx = np.mgrid[0:size[0], 0:size[1]]
    inside = (np.abs(xx + 0.5 - obj["cx"] - 0.5) <= obj["r"] + 0.5) & \
        (np.abs(yy + 0.5 - obj["cy"] - 0.5) <= obj["r"] + 0.5)
    total = m.sum()
    return float(m[inside].sum() / total) if total > 0 else 0.0


def draw_attention(path, images: np.ndarray, captions: list[list[str]], alphas: np.ndarray,
                   grid: tuple, title: str | None = None) -> str:
    """A PNG grid: one row per image, the image then each word over its attention map.

    Args:
        path: output PNG.
        images: (N, 3, H, W) in [0, 1].
        captions: N word lists (without ``<END>``).
        alphas: (N, T, L) attention weights per generated word, T >= the longest caption + 1
            (the weights of the ``<END>`` step are drawn too).
        grid: (h, w) of the attended feature map, h * w = L.
        title: optional figure title.
    Returns:
        the path written.
    """
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as e:  # pragma: no cover - matplotlib is a core dependency
        raise ImportError("drawing attention needs matplotlib: pip install matplotlib") \
            from e
    images = np.asarray(images)
    n, _, hh, ww = images.shape
    cols = 1 + max(len(c) + 1 for c in captions)
    fig = Figure(figsize=(1.3 * cols, 1.45 * n), dpi=100)
    FigureCanvasAgg(fig)
    for i in range(n):
        img = np.clip(images[i].transpose(1, 2, 0), 0, 1)
        words = list(captions[i]) + ["<END>"]
        ax = fig.add_subplot(n, cols, i * cols + 1)
        ax.imshow(img, interpolation="nearest")
        ax.set_axis_off()
        for t, word in enumerate(words):
            ax = fig.add_subplot(n, cols, i * cols + t + 2)
            m = upsample_attention(alphas[i, t], grid, (hh, ww))
            ax.imshow(img * 0.45, interpolation="nearest")
            ax.imshow(m / max(m.max(), 1e-12), cmap="inferno", alpha=0.6, vmin=0, vmax=1,
                      interpolation="bilinear")
            ax.set_title(word, fontsize=8)
            ax.set_axis_off()
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(str(path))
    return str(path)
