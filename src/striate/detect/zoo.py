"""The detectors by name (``striate detect train --model NAME``), their default settings, and the
evaluation every one of them gets (VOC mAP@0.5, COCO mAP@[.5:.95], mask mAP for Mask R-CNN,
inference time per image)."""

from __future__ import annotations

import time

from .metrics import coco_map, mean_average_precision

__all__ = ["DETECTORS", "build_detector", "evaluate_detector", "targets_of"]

#: name -> default training settings (epochs, batch size, learning rate)
DETECTORS = {
    "yolo": {"epochs": 10, "batch_size": 32, "lr": 2e-3},
    "faster-rcnn": {"epochs": 8, "batch_size": 16, "lr": 1e-3},
    "mask-rcnn": {"epochs": 6, "batch_size": 16, "lr": 1e-3},
    "ssd": {"epochs": 8, "batch_size": 32, "lr": 2e-3},
    "fast-rcnn": {"epochs": 5, "batch_size": 16, "lr": 1e-3},
    "rcnn": {"epochs": 5, "batch_size": 16, "lr": 1e-3},
    "sliding-window": {"epochs": 5, "batch_size": 16, "lr": 1e-3},
}


def build_detector(config: dict):
    """The model a run's config names (``model``, ``num_classes``, ``image_size``)."""
    from . import rcnn
    from .yolo import YOLO

    name, c = config["model"], int(config.get("num_classes", 3))
    if name == "yolo":
        return YOLO(c, int(config.get("image_size", 64)))
    if name == "faster-rcnn":
        return rcnn.FasterRCNN(c)
    if name == "fast-rcnn":
        return rcnn.FastRCNN(c)
    if name == "mask-rcnn":
        return rcnn.MaskRCNN(c)
    if name == "rcnn":
        return rcnn.RCNN(c)
    if name == "sliding-window":
        return rcnn.SlidingWindowDetector(c)
    if name == "ssd":
        from .ssd import SSD

        return SSD(c)
    raise ValueError(f"build_detector: unknown model {name!r}; choose from {sorted(DETECTORS)}")


def targets_of(scenes) -> list[dict]:
    """Ground truth of a split in the metrics' format."""
    return [{"boxes": b, "labels": lab, "masks": m}
            for b, lab, m in zip(scenes.boxes, scenes.labels, scenes.instance_masks)]


def evaluate_detector(model, scenes, coco: bool = True) -> dict:
    """``map50`` (VOC), ``coco_map`` (mAP@[.5:.95]), for mask models ``mask_map50`` and
    ``mask_coco_map``, and ``seconds_per_image`` of inference."""
    start = time.perf_counter()
    preds = model.predict(scenes.images)
    seconds = (time.perf_counter() - start) / len(scenes)
    gt = targets_of(scenes)
    out = {"map50": mean_average_precision(preds, gt, 0.5)}
    if coco:
        out["coco_map"] = coco_map(preds, gt)
    if preds and "masks" in preds[0]:
        out["mask_map50"] = mean_average_precision(preds, gt, 0.5, use_masks=True)
        if coco:
            out["mask_coco_map"] = coco_map(preds, gt, use_masks=True)
    out["seconds_per_image"] = seconds
    return out
