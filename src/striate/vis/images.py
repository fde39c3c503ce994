"""Images in and out: any file Pillow reads, the sample photographs of scikit-image and
scikit-learn, the course's ImageNet preprocessing, and PNG grids.

Arrays are (C, H, W) floats in [0, 1] unless a docstring says otherwise.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = ["SAMPLE_IMAGES", "load_image", "resize", "preprocess", "deprocess", "to_uint8",
           "save_png", "make_grid", "IMAGENET_MEAN", "IMAGENET_STD"]

# The course's SqueezeNet/ImageNet statistics (torchvision's), used by the style notebook
IMAGENET_MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
IMAGENET_STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)

#: photographs shipped inside installed packages (no download): name -> (package, loader name)
SAMPLE_IMAGES = {
    "astronaut": ("skimage", "astronaut"),
    "chelsea": ("skimage", "chelsea"),
    "coffee": ("skimage", "coffee"),
    "china": ("sklearn", "china.jpg"),
    "flower": ("sklearn", "flower.jpg"),
}


def _sample(name: str) -> np.ndarray:
    package, item = SAMPLE_IMAGES[name]
    if package == "skimage":
        try:
            from skimage import data
        except ImportError:
            raise ImportError(f"load_image: the sample {name!r} needs scikit-image: "
                              'pip install "striate[images]"') from None
        return np.asarray(getattr(data, item)())
    from sklearn.datasets import load_sample_image

    return np.asarray(load_sample_image(item))


def _size_for(h: int, w: int, size) -> tuple[int, int]:
    """torchvision's ``Resize`` rule: an int sets the shorter side (keeping the aspect ratio,
    the longer side rounded down), a pair is (H, W)."""
    if isinstance(size, (tuple, list)):
        return int(size[0]), int(size[1])
    s = int(size)
    if h <= w:
        return s, int(s * w / h)
    return int(s * h / w), s


def load_image(source, size=None, channels: int = 3) -> np.ndarray:
    """Read an image as a float32 array (channels, H, W) in [0, 1].

    Args:
        source: a path to any image file Pillow reads, or the name of a sample photograph
            (``SAMPLE_IMAGES``: astronaut, chelsea, coffee from scikit-image; china, flower from
            scikit-learn).
        size: None (as it is), an int (the shorter side, as torchvision's ``Resize``; bilinear
            with Pillow's antialiasing) or (H, W).
        channels: 3 (RGB) or 1 (grey).

    Raises:
        FileNotFoundError: no such file (and not a sample name).
        ValueError: a file Pillow cannot read, or a bad ``channels``.
    """
    from PIL import Image, UnidentifiedImageError

    if channels not in (1, 3):
        raise ValueError(f"load_image: channels must be 1 or 3, got {channels!r}")
    mode = "L" if channels == 1 else "RGB"
    if isinstance(source, str) and source in SAMPLE_IMAGES and not Path(source).exists():
        im = Image.fromarray(_sample(source)).convert(mode)
    else:
        path = Path(source)
        if not path.is_file():
            raise FileNotFoundError(
                f"load_image: no such image file {str(path)!r} (samples: "
                f"{', '.join(SAMPLE_IMAGES)})")
        try:
            with Image.open(path) as f:
                im = f.convert(mode)
        except (UnidentifiedImageError, OSError) as e:
            raise ValueError(f"load_image: cannot read image {str(path)!r}: {e}") from None
    if size is not None:
        h, w = _size_for(im.height, im.width, size)
        im = im.resize((w, h), Image.BILINEAR)
    a = np.asarray(im, dtype=np.float32) / 255.0
    return a[None] if channels == 1 else a.transpose(2, 0, 1).copy()


def resize(img: np.ndarray, size) -> np.ndarray:
    """Bilinear resize of a (C, H, W) float image to ``size`` (an int for the shorter side, or
    (H, W)), channel by channel with Pillow (float mode, so no rounding to 8 bits)."""
    from PIL import Image

    h, w = _size_for(img.shape[1], img.shape[2], size)
    out = [np.asarray(Image.fromarray(np.ascontiguousarray(c, dtype=np.float32), mode="F")
                      .resize((w, h), Image.BILINEAR)) for c in img]
    return np.stack(out).astype(img.dtype, copy=False)


def preprocess(img: np.ndarray) -> np.ndarray:
    """The course's preprocessing for ImageNet networks: (C, H, W) in [0, 1] -> a batch
    (1, C, H, W) normalised by ``IMAGENET_MEAN``/``IMAGENET_STD``."""
    x = (img - IMAGENET_MEAN[:, None, None]) / IMAGENET_STD[:, None, None]
    return x[None].astype(np.float32)


def deprocess(x) -> np.ndarray:
    """Inverse of ``preprocess``: a (1, C, H, W) or (C, H, W) array or Tensor -> (C, H, W) in
    [0, 1] (clipped)."""
    a = np.asarray(getattr(x, "array", x), dtype=np.float32)
    if a.ndim == 4:
        a = a[0]
    return np.clip(a * IMAGENET_STD[:, None, None] + IMAGENET_MEAN[:, None, None], 0, 1)


def to_uint8(img: np.ndarray, rescale: bool = False) -> np.ndarray:
    """(C, H, W) or (H, W) floats -> (H, W[, 3]) uint8 for a PNG; ``rescale`` maps min..max to
    0..255 (for maps and filters), else [0, 1] is clipped."""
    a = np.asarray(img, dtype=np.float64)
    if a.ndim == 3:
        a = a[0] if a.shape[0] == 1 else a.transpose(1, 2, 0)
    if rescale:
        lo, hi = a.min(), a.max()
        a = (a - lo) / (hi - lo) if hi > lo else np.zeros_like(a)
    return np.round(np.clip(a, 0, 1) * 255).astype(np.uint8)


def save_png(path, img: np.ndarray, rescale: bool = False, scale: int = 1) -> Path:
    """Write a (C, H, W) / (H, W) float image (or an (H, W[, 3]) uint8 one) as a PNG; ``scale``
    enlarges it by pixel repetition (an 8x8 digit is unreadable at its own size)."""
    from PIL import Image

    a = img if np.asarray(img).dtype == np.uint8 else to_uint8(img, rescale)
    if scale > 1:
        a = a.repeat(scale, 0).repeat(scale, 1)
    path = Path(path)
    Image.fromarray(a).save(path)
    return path


def make_grid(images, nrow: int = 8, pad: int = 1, rescale_each: bool = False,
              fill: float = 1.0) -> np.ndarray:
    """Tile N images (N, C, H, W) into one (C, H', W') image, ``nrow`` per row, separated by
    ``pad`` pixels of ``fill``; ``rescale_each`` maps each image's min..max to [0, 1] first (for
    filters, whose values have no fixed range)."""
    x = np.asarray(images, dtype=np.float32)
    if x.ndim != 4:
        raise ValueError(f"make_grid: images must be (N, C, H, W), got shape {x.shape}")
    if rescale_each:
        lo = x.min(axis=(1, 2, 3), keepdims=True)
        hi = x.max(axis=(1, 2, 3), keepdims=True)
        x = (x - lo) / np.where(hi > lo, hi - lo, 1)
    n, c, h, w = x.shape
    ncol = min(nrow, n)
    rows = -(-n // ncol)
    out = np.full((c, rows * (h + pad) + pad, ncol * (w + pad) + pad), fill, dtype=np.float32)
    for i in range(n):
        r, k = divmod(i, ncol)
        out[:, pad + r * (h + pad):pad + r * (h + pad) + h,
            pad + k * (w + pad):pad + k * (w + pad) + w] = x[i]
    return out
