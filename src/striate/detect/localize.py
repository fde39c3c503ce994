"""Classification + localization: one backbone, two heads, a weighted multi-task loss; and the same
pattern for keypoints (human-pose-style joint regression on synthetic stick figures).

With exactly one object per image, "where" is a fixed-size output: a class head (softmax loss)
and a regression head (4 box numbers, or 2 per joint) trained together,
``loss = cross_entropy + weight * smooth_l1``. The weight trades the two tasks (their losses
have different scales). Boxes are regressed as (cx, cy, w, h) / image size, joints as (x, y) /
image size.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import nn
from ..autograd.grad_mode import no_grad
from ..autograd.tensor import Tensor
from ..nn import functional as F  # noqa: N812
from ..nn import init
from .yolo import Backbone

__all__ = ["ClassifyLocalize", "KeypointNet", "StickFigures", "make_stick_figures",
           "make_stick_figure_splits", "pck", "JOINTS", "BONES"]

JOINTS = ("head", "neck", "hip", "left hand", "right hand", "left foot", "right foot")
BONES = ((0, 1), (1, 2), (1, 3), (1, 4), (2, 5), (2, 6))


class _TwoHeads(nn.Module):
    @init.course_defaults()
    def __init__(self, num_classes: int, num_values: int, widths=(16, 32, 64, 64),
                 weight: float = 1.0):
        super().__init__()
        self.backbone = Backbone(widths)
        c = self.backbone.out_channels
        self.pool = nn.AdaptiveAvgPool2d(2)
        self.trunk = nn.Sequential(nn.Flatten(), nn.Linear(4 * c, 128), nn.ReLU())
        self.cls = nn.Linear(128, num_classes) if num_classes else None
        self.reg = nn.Linear(128, num_values)
        self.weight = float(weight)

    def forward(self, x):
        h = self.trunk(self.pool(self.backbone(x)))
        return (self.cls(h) if self.cls is not None else None), self.reg(h).sigmoid()


class ClassifyLocalize(_TwoHeads):
    """One object per image: class scores (C) and its box, as (cx, cy, w, h) / image size.

    Args:
        num_classes: object classes.
        weight: the box loss's weight in the multi-task loss.
    """

    def __init__(self, num_classes: int = 3, weight: float = 10.0, widths=(16, 32, 64, 64)):
        super().__init__(num_classes, 4, widths, weight)

    def loss(self, images, batch):
        scores, box = self(images)
        size = images.shape[-1]
        b = np.stack([x[0] for x in batch.boxes]).astype(np.float64)
        target = np.stack([(b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2, b[:, 2] - b[:, 0],
                           b[:, 3] - b[:, 1]], 1) / size
        labels = np.array([x[0] - 1 for x in batch.labels])
        cls = F.cross_entropy(scores, Tensor(labels))
        reg = F.smooth_l1_loss(box, Tensor(target.astype(box.dtype)), beta=0.05)
        return cls + self.weight * reg, {"classifier": cls.item(), "box": reg.item()}

    def predict(self, images: np.ndarray) -> list[dict]:
        """One detection per image: ``boxes`` (1, 4), ``scores`` (1,), ``labels`` (1,)."""
        self.eval()
        with no_grad():
            scores, box = self(Tensor(images))
        z = scores.array.astype(np.float64)
        p = np.exp(z - z.max(1, keepdims=True))
        p /= p.sum(1, keepdims=True)
        b = box.array.astype(np.float64) * images.shape[-1]
        xyxy = np.stack([b[:, 0] - b[:, 2] / 2, b[:, 1] - b[:, 3] / 2, b[:, 0] + b[:, 2] / 2,
                         b[:, 1] + b[:, 3] / 2], 1)
        return [{"boxes": xyxy[i:i + 1].astype(np.float32), "scores": p[i].max(keepdims=True),
                 "labels": np.array([p[i].argmax() + 1])} for i in range(len(images))]


@dataclass
class StickFigures:
    """Images (N, 3, H, W) of one stick figure each and its joints (N, 7, 2) in pixels (x, y),
    in the order of :data:`JOINTS`."""

    images: np.ndarray
    joints: np.ndarray

    def __len__(self) -> int:
        return len(self.images)

    def subset(self, idx):
        return StickFigures(self.images[idx], self.joints[idx])

    def __repr__(self) -> str:
        return (f"StickFigures({len(self)} images {self.images.shape[2]}x{self.images.shape[3]}, "
                f"{self.joints.shape[1]} joints each)")


def _segment_distance(px, py, a, b):
    """Distance of every pixel centre to the segment a-b."""
    d = b - a
    t = np.clip(((px - a[0]) * d[0] + (py - a[1]) * d[1]) / max(d @ d, 1e-9), 0, 1)
    return np.hypot(px - a[0] - t * d[0], py - a[1] - t * d[1])


def make_stick_figures(n: int, size: int = 64, seed: int = 0) -> StickFigures:
    """``n`` stick figures in random poses (arms and legs at random angles, random scale and
    place) on noisy backgrounds, with their 7 joints."""
    from .scenes import render_background

    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size] + 0.5
    images = np.zeros((n, 3, size, size), np.float32)
    joints = np.zeros((n, len(JOINTS), 2), np.float32)
    for i in range(n):
        s = rng.uniform(0.5, 0.8) * size  # the figure's height
        cx, top = rng.uniform(0.3, 0.7) * size, rng.uniform(0.05, 0.95 * size - s + 1e-6)
        top = min(max(top, 0.05 * size), size - s - 0.02 * size)
        head = np.array([cx, top + 0.1 * s])
        neck = head + [rng.uniform(-0.05, 0.05) * s, 0.12 * s]
        hip = neck + [rng.uniform(-0.08, 0.08) * s, 0.38 * s]
        limbs = []
        for base, length, lo, hi in ((neck, 0.3, 20, 160), (neck, 0.3, 20, 160),
                                     (hip, 0.38, 60, 120), (hip, 0.38, 60, 120)):
            a = np.deg2rad(rng.uniform(lo, hi))
            limbs.append(base + length * s * np.array([np.cos(a), np.sin(a)]))
        # left limbs point to the image's left
        lh, rh, lf, rf = limbs
        lh[0], rh[0] = min(lh[0], rh[0]), max(lh[0], rh[0])
        lf[0], rf[0] = min(lf[0], rf[0]), max(lf[0], rf[0])
        pts = np.clip(np.stack([head, neck, hip, lh, rh, lf, rf]), 0, size - 1e-3)
        img = render_background(rng, size) * 0.7
        colour = rng.uniform(0.6, 1.0, 3)
        width = max(1.0, 0.025 * s)
        ink = np.hypot(xx - pts[0, 0], yy - pts[0, 1]) <= 0.08 * s
        for a, b in BONES:
            ink |= _segment_distance(xx, yy, pts[a], pts[b]) <= width
        images[i] = np.where(ink[None], colour[:, None, None], img)
        joints[i] = pts
    return StickFigures(images, joints)


def make_stick_figure_splits(n_train: int = 1000, n_val: int = 200, n_test: int = 200,
                             size: int = 64, seed: int = 0) -> dict:
    """Train, val and test stick figures from independent streams of one seed (as
    :func:`~striate.detect.scenes.make_splits` does for scenes)."""
    seeds = np.random.SeedSequence(seed).spawn(3)
    return {name: make_stick_figures(n, size, int(s.generate_state(1)[0]))
            for name, n, s in zip(("train", "val", "test"), (n_train, n_val, n_test), seeds)}


class KeypointNet(_TwoHeads):
    """Joint regression: the backbone and a head of 2 numbers per joint, (x, y) / image size,
    trained with smooth L1 (a pose estimator of the DeepPose kind)."""

    def __init__(self, num_joints: int = len(JOINTS), widths=(16, 32, 64, 64)):
        super().__init__(0, 2 * num_joints, widths, 1.0)
        self.num_joints = num_joints

    def loss(self, images, batch):
        _, xy = self(images)
        target = batch.joints.reshape(len(batch), -1) / images.shape[-1]
        reg = F.smooth_l1_loss(xy, Tensor(target.astype(xy.dtype)), beta=0.02)
        return reg, {"joints": reg.item()}

    def predict(self, images: np.ndarray) -> np.ndarray:
        """(N, num_joints, 2) joint positions in pixels."""
        self.eval()
        with no_grad():
            _, xy = self(Tensor(images))
        return xy.array.reshape(len(images), -1, 2) * images.shape[-1]


def pck(pred: np.ndarray, joints: np.ndarray, fraction: float = 0.2) -> float:
    """Percentage of correct keypoints: the share of joints predicted within ``fraction`` of the
    figure's height (head to the lower foot) of the truth."""
    height = joints[:, :, 1].max(1) - joints[:, 0, 1]
    err = np.hypot(*(pred - joints).transpose(2, 0, 1))
    return float((err <= fraction * height[:, None]).mean())
