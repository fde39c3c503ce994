"""Detection and segmentation metrics: VOC mAP@0.5, COCO mAP@[.5:.95] (boxes or masks), mean IoU
and pixel accuracy.

Average precision, as the benchmarks define it: per class, the detections of all images are
sorted by score; each one is a true positive when it overlaps a ground-truth object of its class
by at least the IoU threshold and that object was not matched by a higher-scoring detection
(greedy, highest IoU first), otherwise a false positive. Precision and recall along that list give
the PR curve; VOC (2010 on) takes the area under its monotone envelope (every recall point), COCO
averages the envelope at 101 recall points 0, 0.01, ..., 1. A class with no ground truth is left
out of the mean.
"""

from __future__ import annotations

import numpy as np

from .ops import box_iou

__all__ = ["average_precision", "mean_average_precision", "coco_map", "mask_iou",
           "confusion_matrix", "segmentation_scores"]


def mask_iou(masks1: np.ndarray, masks2: np.ndarray) -> np.ndarray:
    """IoU of every pair of binary masks: (N, H, W) and (M, H, W) -> (N, M)."""
    a = masks1.reshape(len(masks1), -1).astype(np.float64)
    b = masks2.reshape(len(masks2), -1).astype(np.float64)
    inter = a @ b.T
    union = a.sum(1)[:, None] + b.sum(1)[None] - inter
    return np.where(union > 0, inter / np.maximum(union, 1), 0.0)


def average_precision(recall: np.ndarray, precision: np.ndarray, method: str = "voc") -> float:
    """Area under a PR curve (points in detection order) by VOC's all-point rule or COCO's
    101-point interpolation; precision is first made monotone (the max to the right)."""
    r = np.concatenate([[0.0], recall, [1.0]])
    p = np.concatenate([[0.0], precision, [0.0]])
    p = np.maximum.accumulate(p[::-1])[::-1]
    if method == "voc":
        step = np.flatnonzero(r[1:] != r[:-1])
        return float(np.sum((r[step + 1] - r[step]) * p[step + 1]))
    if method == "coco":
        points = np.linspace(0, 1, 101)
        at = np.searchsorted(r[1:-1], points, side="left")
        q = np.concatenate([p[1:-1], [0.0]])[at]  # beyond the last recall: precision 0
        return float(q.mean())
    raise ValueError(f"average_precision: method must be 'voc' or 'coco', got {method!r}")


def _class_ap(dets, gts, thr, overlap, method):
    """dets: (image, score, index into that image's predictions); gts: per image, gt indices."""
    n_gt = sum(len(g) for g in gts.values())
    if n_gt == 0:
        return None
    if not dets:
        return 0.0
    dets = sorted(dets, key=lambda d: -d[1])
    used = {i: np.zeros(len(g), bool) for i, g in gts.items()}
    tp = np.zeros(len(dets))
    for k, (img, _, j) in enumerate(dets):
        g = gts.get(img)
        if g is None or len(g) == 0:
            continue
        ious = overlap(img, j, g)
        ious = np.where(used[img], -1.0, ious)
        best = int(np.argmax(ious))
        if ious[best] >= thr:
            tp[k] = 1
            used[img][best] = True
    ctp = np.cumsum(tp)
    recall = ctp / n_gt
    precision = ctp / np.arange(1, len(dets) + 1)
    return average_precision(recall, precision, method)


def mean_average_precision(predictions: list, targets: list, iou_threshold: float = 0.5,
                           method: str = "voc", use_masks: bool = False,
                           per_class: bool = False):
    """Mean over classes of the average precision at one IoU threshold.

    Args:
        predictions: one dict per image with ``boxes`` (k, 4), ``scores`` (k,), ``labels`` (k,)
            and, for ``use_masks``, ``masks`` (k, H, W) bool.
        targets: one dict per image with ``boxes``, ``labels`` (and ``masks``).
        iou_threshold: a detection counts when its IoU with an unmatched object is at least this.
        method: "voc" (all-point area) or "coco" (101 points).
        use_masks: match by mask IoU instead of box IoU (Mask R-CNN's mask AP).
        per_class: also return {label: AP}.
    Returns:
        the mAP (float), and the per-class dict when ``per_class``.
    """
    if len(predictions) != len(targets):
        raise ValueError(f"mean_average_precision: {len(predictions)} predictions for "
                         f"{len(targets)} targets")
    key = "masks" if use_masks else "boxes"
    classes = sorted({int(c) for t in targets for c in np.asarray(t["labels"]).ravel()})
    cache = {}

    def overlap(img, j, g):
        if (img, j) not in cache:
            p, t = predictions[img][key], targets[img][key]
            if use_masks:
                cache[(img, j)] = mask_iou(np.asarray(p)[j:j + 1], np.asarray(t))[0]
            else:
                cache[(img, j)] = box_iou(np.asarray(p, np.float64)[j:j + 1],
                                          np.asarray(t, np.float64))[0]
        return cache[(img, j)][g]

    aps = {}
    for c in classes:
        dets, gts = [], {}
        for i, (p, t) in enumerate(zip(predictions, targets)):
            gts[i] = np.flatnonzero(np.asarray(t["labels"]) == c)
            for j in np.flatnonzero(np.asarray(p["labels"]) == c):
                dets.append((i, float(np.asarray(p["scores"])[j]), j))
        ap = _class_ap(dets, gts, iou_threshold, overlap, method)
        if ap is not None:
            aps[c] = ap
    m = float(np.mean(list(aps.values()))) if aps else 0.0
    return (m, aps) if per_class else m


def coco_map(predictions: list, targets: list, use_masks: bool = False) -> float:
    """COCO's mAP@[.5:.95]: the 101-point mAP averaged over IoU thresholds 0.5, 0.55, ..., 0.95."""
    thresholds = np.linspace(0.5, 0.95, 10)
    return float(np.mean([mean_average_precision(predictions, targets, t, "coco", use_masks)
                          for t in thresholds]))


def confusion_matrix(pred: np.ndarray, target: np.ndarray, num_classes: int,
                     ignore_index: int = 255) -> np.ndarray:
    """(C, C) pixel counts, rows the true class, columns the predicted one."""
    pred, target = np.asarray(pred).ravel(), np.asarray(target).ravel()
    if pred.shape != target.shape:
        raise ValueError(f"confusion_matrix: pred has {pred.size} pixels, target {target.size}")
    keep = target != ignore_index
    idx = target[keep].astype(np.int64) * num_classes + pred[keep].astype(np.int64)
    return np.bincount(idx, minlength=num_classes ** 2).reshape(num_classes, num_classes)


def segmentation_scores(pred: np.ndarray, target: np.ndarray, num_classes: int) -> dict:
    """Pixel accuracy, per-class IoU and mean IoU (over the classes that occur in the target or
    the prediction) of label maps ``pred`` and ``target`` (any equal shapes)."""
    cm = confusion_matrix(pred, target, num_classes).astype(np.float64)
    inter = np.diag(cm)
    union = cm.sum(0) + cm.sum(1) - inter
    present = union > 0
    iou = np.where(present, inter / np.maximum(union, 1), np.nan)
    return {"pixel_accuracy": float(inter.sum() / max(cm.sum(), 1)),
            "mean_iou": float(np.nanmean(iou)) if present.any() else 0.0,
            "iou": iou.tolist()}
