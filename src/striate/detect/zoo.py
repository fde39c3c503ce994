"""The detectors by name (``striate detect train --model NAME``), their default settings, and the
evaluation every one of them gets (VOC mAP@0.5, COCO mAP@[.5:.95], mask mAP for Mask R-CNN,
inference time per image; PCK for the keypoint regressor)."""

from __future__ import annotations

import time

import numpy as np

from .metrics import coco_map, mean_average_precision

__all__ = ["DETECTORS", "build_detector", "evaluate_detector", "evaluate_keypoints",
           "targets_of"]

#: name -> default training settings (epochs, batch size, learning rate)
DETECTORS = {
    "yolo": {"epochs": 10, "batch_size": 32, "lr": 2e-3},
    "faster-rcnn": {"epochs": 8, "batch_size": 16, "lr": 1e-3},
    "mask-rcnn": {"epochs": 6, "batch_size": 16, "lr": 1e-3},
    "ssd": {"epochs": 8, "batch_size": 32, "lr": 2e-3},
    "fast-rcnn": {"epochs": 5, "batch_size": 16, "lr": 1e-3},
    "rcnn": {"epochs": 5, "batch_size": 16, "lr": 1e-3},
    "sliding-window": {"epochs": 5, "batch_size": 16, "lr": 1e-3},
    # one object per image; keypoints train on stick figures, which have no mirror-image labels
    "classify-localize": {"epochs": 10, "batch_size": 32, "lr": 2e-3},
    "keypoints": {"epochs": 10, "batch_size": 32, "lr": 2e-3, "flip": False},
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
    if name == "classify-localize":
        from .localize import ClassifyLocalize

        return ClassifyLocalize(c)
    if name == "keypoints":
        from .localize import KeypointNet

        return KeypointNet()
    raise ValueError(f"build_detector: unknown model {name!r}; choose from {sorted(DETECTORS)}")


def targets_of(scenes) -> list[dict]:
    """Ground truth of a split in the metrics' format."""
    return [{"boxes": b, "labels": lab, "masks": m}
            for b, lab, m in zip(scenes.boxes, scenes.labels, scenes.instance_masks)]


def evaluate_detector(model, scenes, coco: bool = True) -> dict:
    """``map50`` (VOC), ``coco_map`` (mAP@[.5:.95]), for mask models ``mask_map50`` and
    ``mask_coco_map``, for one-object images answered with one box ``accuracy`` (of the class),
    and ``seconds_per_image`` of inference."""
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
    if all(len(t) == 1 for t in scenes.labels) and all(len(p["labels"]) == 1 for p in preds):
        # one object and one answer per image (classification + localization): the class score
        out["accuracy"] = float(np.mean([p["labels"][0] == t[0]
                                         for p, t in zip(preds, scenes.labels)]))
    out["seconds_per_image"] = seconds
    return out


def evaluate_keypoints(model, figures) -> dict:
    """``pck`` (PCK@0.2: joints within 0.2 of the figure's height), ``pck_0.1`` and
    ``seconds_per_image`` of a keypoint model on :class:`~striate.detect.localize.StickFigures`."""
    from .localize import pck

    start = time.perf_counter()
    joints = model.predict(figures.images)
    seconds = (time.perf_counter() - start) / len(figures)
    return {"pck": pck(joints, figures.joints, 0.2), "pck_0.1": pck(joints, figures.joints, 0.1),
            "seconds_per_image": seconds}
