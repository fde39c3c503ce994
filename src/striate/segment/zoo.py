"""Segmentation models by name (``striate segment train --model NAME``) and their evaluation."""

from __future__ import annotations

import time

from ..detect.metrics import segmentation_scores
from .fcn import FCN, SlidingWindowSegmenter

__all__ = ["SEGMENTERS", "build_segmenter", "evaluate_segmenter"]

#: name -> default training settings
SEGMENTERS = {
    "fcn": {"epochs": 8, "batch_size": 32, "lr": 3e-3},
    "sliding-window": {"epochs": 4, "batch_size": 32, "lr": 2e-3},
}


def build_segmenter(config: dict):
    """The model a run's config names (``model``, ``num_classes``, ``upsample``, ``widths``)."""
    name, c = config["model"], int(config.get("num_classes", 4))
    if name == "fcn":
        return FCN(c, tuple(config.get("widths", (16, 32, 64))),
                   config.get("upsample", "transpose"))
    if name == "sliding-window":
        return SlidingWindowSegmenter(c, int(config.get("window", 15)))
    raise ValueError(f"build_segmenter: unknown model {name!r}; choose from {sorted(SEGMENTERS)}")


def evaluate_segmenter(model, scenes, num_classes: int = 4) -> dict:
    """``mean_iou``, ``pixel_accuracy``, per-class ``iou`` and ``seconds_per_image``."""
    start = time.perf_counter()
    pred = model.predict(scenes.images)
    seconds = (time.perf_counter() - start) / len(scenes)
    out = segmentation_scores(pred, scenes.semantic, num_classes)
    out["seconds_per_image"] = seconds
    return out
