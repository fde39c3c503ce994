"""Synthetic scenes for detection and segmentation: coloured shapes of several classes on
textured backgrounds, with boxes, labels, semantic masks and instance masks.

Every object is a filled circle, square or triangle of a random colour and size; objects may
overlap (a later object hides part of an earlier one, but never more than half of it), and the
boxes and masks describe what is visible. The class is the *shape*, never the colour, so a model
has to look at outlines. Everything is a function of the seed, at any image size.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["CLASSES", "Scenes", "make_scenes", "make_splits", "render_background"]

#: label 0 is the background (torchvision's convention); objects are labelled 1..3
CLASSES = ("background", "circle", "square", "triangle")


@dataclass
class Scenes:
    """A split of synthetic scenes.

    Attributes:
        images: (N, 3, H, W) float32 in [0, 1].
        boxes: N arrays (k_i, 4) float32, xyxy pixel boxes of the visible objects.
        labels: N arrays (k_i,) int64 in 1..len(classes) - 1.
        instance_masks: N arrays (k_i, H, W) bool, the visible pixels of each object.
        semantic: (N, H, W) int64, 0 background, else the label of the visible object.
        classes: the class names, "background" first.
    """

    images: np.ndarray
    boxes: list
    labels: list
    instance_masks: list
    semantic: np.ndarray
    classes: tuple = field(default=CLASSES)

    def __len__(self) -> int:
        return len(self.images)

    def subset(self, idx) -> Scenes:
        idx = np.asarray(idx)
        return Scenes(self.images[idx], [self.boxes[i] for i in idx],
                      [self.labels[i] for i in idx], [self.instance_masks[i] for i in idx],
                      self.semantic[idx], self.classes)

    def __repr__(self) -> str:
        n_obj = sum(len(b) for b in self.boxes)
        return (f"Scenes({len(self)} images {self.images.shape[2]}x{self.images.shape[3]}, "
                f"{n_obj} objects, classes {list(self.classes[1:])})")


def render_background(rng: np.random.Generator, size: int) -> np.ndarray:
    """A (3, size, size) textured background: two colours mixed by low-frequency noise, plus
    stripes or a checkerboard at low contrast and pixel noise."""
    c1, c2 = rng.uniform(0.0, 0.45, 3), rng.uniform(0.0, 0.45, 3)
    coarse = rng.random((4, 4))
    # bilinear upsampling of a 4x4 grid: smooth blotches at any size
    t = np.linspace(0, 3, size)
    i0 = np.minimum(t.astype(int), 2)
    f = t - i0
    rows = coarse[i0] * (1 - f)[:, None] + coarse[i0 + 1] * f[:, None]
    mix = rows[:, i0] * (1 - f)[None] + rows[:, i0 + 1] * f[None]
    img = c1[:, None, None] * mix + c2[:, None, None] * (1 - mix)
    yy, xx = np.mgrid[0:size, 0:size]
    period = rng.integers(3, 9) * size / 64
    kind = rng.integers(3)
    if kind == 0:
        pattern = np.sin(2 * np.pi * (xx * np.cos(rng.uniform(0, np.pi)) + yy) / period)
    elif kind == 1:
        pattern = ((xx // max(period, 1) + yy // max(period, 1)) % 2) * 2 - 1.0
    else:
        pattern = np.zeros((size, size))
    img = img + 0.06 * pattern + rng.normal(0, 0.03, (3, size, size))
    return np.clip(img, 0, 1)


def _shape_mask(label: int, cx: float, cy: float, r: float, yy, xx, angle: float) -> np.ndarray:
    if label == 1:  # circle
        return (xx - cx) ** 2 + (yy - cy) ** 2 <= r * r
    if label == 2:  # square, axis-aligned
        return (np.abs(xx - cx) <= r * 0.85) & (np.abs(yy - cy) <= r * 0.85)
    # triangle: inside three half-planes; corners at angle, angle + 120, angle + 240 degrees
    a = angle + np.array([0, 2, 4]) * np.pi / 3
    px, py = cx + r * np.cos(a), cy + r * np.sin(a)
    inside = np.ones(xx.shape, bool)
    for i in range(3):
        j = (i + 1) % 3
        side = (px[j] - px[i]) * (yy - py[i]) - (py[j] - py[i]) * (xx - px[i])
        inside &= side >= 0
    return inside


def _scene(rng: np.random.Generator, size: int, max_objects: int, yy, xx):
    img = render_background(rng, size)
    owner = np.full((size, size), -1)
    full_area, labels = [], []
    n = rng.integers(1, max_objects + 1)
    for _ in range(n):
        for _try in range(20):
            label = int(rng.integers(1, len(CLASSES)))
            r = rng.uniform(0.09, 0.2) * size
            cx, cy = rng.uniform(r, size - r, 2)
            angle = -np.pi / 2 + rng.uniform(-0.3, 0.3)
            m = _shape_mask(label, cx, cy, r, yy, xx, angle)
            # no earlier object may lose more than half of itself
            k = len(labels)
            lost = np.bincount(owner[m & (owner >= 0)], minlength=k)[:k]
            visible = np.bincount(owner[owner >= 0], minlength=k)[:k]
            if m.sum() >= 12 and np.all(visible - lost >= 0.5 * np.asarray(full_area, float)):
                break
        else:
            continue
        colour = rng.uniform(0.55, 1.0, 3)
        colour[rng.integers(3)] *= rng.uniform(0.0, 0.5)  # saturated, bright colours
        shade = 1 - 0.15 * ((yy - cy) / (2 * r))  # a little shading, so shapes are not flat
        img = np.where(m[None], np.clip(colour[:, None, None] * shade[None], 0, 1), img)
        owner[m] = len(labels)
        full_area.append(int(m.sum()))
        labels.append(label)
    masks = owner[None] == np.arange(len(labels))[:, None, None]
    boxes = np.zeros((len(labels), 4), np.float32)
    for i, m in enumerate(masks):
        ys, xs = np.nonzero(m.any(1))[0], np.nonzero(m.any(0))[0]
        boxes[i] = [xs[0], ys[0], xs[-1] + 1, ys[-1] + 1]
    semantic = np.where(owner >= 0, np.asarray(labels + [0])[owner], 0)
    return img, boxes, np.asarray(labels, np.int64), masks, semantic


def make_scenes(n: int, size: int = 64, seed: int = 0, max_objects: int = 4) -> Scenes:
    """``n`` scenes of ``size`` x ``size`` pixels with 1..``max_objects`` objects each,
    deterministic from ``seed``.

    Example:
        >>> s = make_scenes(2, size=32, seed=1)
        >>> s.images.shape, s.semantic.shape, len(s.boxes)
        ((2, 3, 32, 32), (2, 32, 32), 2)
    """
    if n <= 0 or size < 16 or max_objects < 1:
        raise ValueError(f"make_scenes: need n >= 1, size >= 16, max_objects >= 1; got n={n}, "
                         f"size={size}, max_objects={max_objects}")
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size] + 0.5  # pixel centres
    images = np.zeros((n, 3, size, size), np.float32)
    semantic = np.zeros((n, size, size), np.int64)
    boxes, labels, masks = [], [], []
    for i in range(n):
        img, b, lab, m, sem = _scene(rng, size, max_objects, yy, xx)
        images[i], semantic[i] = img, sem
        boxes.append(b)
        labels.append(lab)
        masks.append(m)
    return Scenes(images, boxes, labels, masks, semantic)


def make_splits(n_train: int = 2000, n_val: int = 200, n_test: int = 200, size: int = 64,
                seed: int = 0, max_objects: int = 4) -> dict:
    """Train, val and test splits drawn from independent streams of one seed."""
    seeds = np.random.SeedSequence(seed).spawn(3)
    return {name: make_scenes(n, size, int(s.generate_state(1)[0]), max_objects)
            for name, n, s in zip(("train", "val", "test"), (n_train, n_val, n_test), seeds)}
