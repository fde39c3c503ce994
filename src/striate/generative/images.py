"""Image grids as PNG files: sample grids, interpolation strips, latent grids."""

from __future__ import annotations

import os

import numpy as np

__all__ = ["make_grid", "save_grid"]


def make_grid(images: np.ndarray, nrow: int | None = None, pad: int = 1) -> np.ndarray:
    """Tile images (N, C, H, W) in [0, 1] into one (C, rows*(H+pad)+pad, ...) array, ``nrow``
    images per row (default: a square), with ``pad`` pixels of grey between them."""
    images = np.asarray(images, dtype=np.float32)
    if images.ndim != 4 or images.shape[1] not in (1, 3):
        raise ValueError(f"make_grid: images must be (N, 1 or 3, H, W), got shape "
                         f"{images.shape}")
    n, c, h, w = images.shape
    nrow = nrow or max(1, int(np.ceil(np.sqrt(n))))
    rows = int(np.ceil(n / nrow))
    grid = np.full((c, rows * (h + pad) + pad, nrow * (w + pad) + pad), 0.5, dtype=np.float32)
    for k in range(n):
        r, q = divmod(k, nrow)
        top, left = pad + r * (h + pad), pad + q * (w + pad)
        grid[:, top:top + h, left:left + w] = images[k]
    return grid


def save_grid(images: np.ndarray, path: str, nrow: int | None = None, scale: int = 0) -> str:
    """Write a grid of images (N, C, H, W) in [0, 1] as a PNG, each pixel a ``scale`` x
    ``scale`` block (default: enough to make an 8x8 image 32 pixels wide). Atomic: written to a
    temporary file, then renamed. Returns the path."""
    from PIL import Image

    images = np.clip(np.asarray(images, dtype=np.float32), 0, 1)
    scale = scale or max(1, 32 // images.shape[-1])
    grid = make_grid(images, nrow)
    a = np.rint(grid * 255).astype(np.uint8)
    a = a.repeat(scale, axis=1).repeat(scale, axis=2)
    img = Image.fromarray(a[0] if a.shape[0] == 1 else a.transpose(1, 2, 0))
    tmp = f"{path}.tmp.png"
    img.save(tmp, format="PNG", optimize=True)
    os.replace(tmp, path)
    return path
