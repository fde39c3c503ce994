"""Synthetic scenes, metrics against hand-computed values, drawing."""

import numpy as np
import pytest

from striate.detect.draw import overlay, save_grid
from striate.detect.metrics import coco_map, mean_average_precision, segmentation_scores
from striate.detect.scenes import CLASSES, make_scenes, make_splits


def test_scenes_are_deterministic_and_consistent():
    a, b = make_scenes(12, size=40, seed=3), make_scenes(12, size=40, seed=3)
    np.testing.assert_array_equal(a.images, b.images)
    assert a.images.shape == (12, 3, 40, 40) and a.images.dtype == np.float32
    assert not np.array_equal(a.images, make_scenes(12, size=40, seed=4).images)
    for i in range(12):
        k = len(a.labels[i])
        assert 1 <= k <= 4 and a.instance_masks[i].shape == (k, 40, 40)
        assert set(a.labels[i].tolist()) <= {1, 2, 3}
        # masks are disjoint, their union is the semantic map's foreground, labelled alike
        assert a.instance_masks[i].sum(0).max() <= 1
        sem = (a.instance_masks[i] * a.labels[i][:, None, None]).sum(0)
        np.testing.assert_array_equal(sem, a.semantic[i])
        for m, box in zip(a.instance_masks[i], a.boxes[i]):
            ys, xs = np.nonzero(m)
            np.testing.assert_array_equal(box, [xs.min(), ys.min(), xs.max() + 1, ys.max() + 1])
    assert len(CLASSES) == 4


def test_splits_differ_and_overlaps_occur():
    s = make_splits(30, 5, 5, size=48, seed=0)
    assert not np.array_equal(s["train"].images[:5], s["test"].images)
    from striate.detect.ops import box_iou
    overlaps = sum((box_iou(b, b) - np.eye(len(b)) > 0).any() for b in s["train"].boxes)
    assert overlaps > 0


def test_map_hand_computed():
    # one class; image 0 holds objects A and B, image 1 holds C. Detections by score:
    # d1 hits A (TP), d2 hits nothing (FP), d3 hits C (TP), d4 repeats A (FP, A is taken).
    A, B, C = [0, 0, 10, 10], [20, 20, 30, 30], [5, 5, 15, 15]
    targets = [{"boxes": np.array([A, B], float), "labels": np.array([1, 1])},
               {"boxes": np.array([C], float), "labels": np.array([1])}]
    preds = [{"boxes": np.array([A, [40, 40, 50, 50], [0, 0, 10, 11]], float),
              "scores": np.array([0.9, 0.8, 0.6]), "labels": np.array([1, 1, 1])},
             {"boxes": np.array([C], float), "scores": np.array([0.7]), "labels": np.array([1])}]
    # recall 1/3, 1/3, 2/3, 2/3; precision 1, 1/2, 2/3, 1/2. VOC: 1/3 * 1 + 1/3 * 2/3 = 5/9
    assert mean_average_precision(preds, targets, 0.5) == pytest.approx(5 / 9, abs=1e-12)
    # COCO's 101 points: recall <= .33 -> 1 (34 points), .34..0.66 -> 2/3 (33), above -> 0
    got = mean_average_precision(preds, targets, 0.5, method="coco")
    assert got == pytest.approx((34 + 33 * 2 / 3) / 101, abs=1e-12)
    # a second class without detections counts as AP 0; perfect detections give 1
    targets[1]["labels"] = np.array([2])
    m, per = mean_average_precision(preds, targets, 0.5, per_class=True)
    assert set(per) == {1, 2} and per[2] == 0.0
    perfect = [{"boxes": t["boxes"], "labels": t["labels"], "scores": np.ones(len(t["labels"]))}
               for t in targets]
    assert coco_map(perfect, targets) == pytest.approx(1.0)


def test_mask_map_and_segmentation_scores():
    m = np.zeros((1, 4, 4), bool)
    m[0, :2, :2] = True
    half = np.zeros((1, 4, 4), bool)
    half[0, :2, :1] = True  # IoU 0.5 with m
    t = [{"masks": m, "labels": np.array([1]), "boxes": np.zeros((1, 4))}]
    p = [{"masks": half, "labels": np.array([1]), "scores": np.array([1.0]),
          "boxes": np.zeros((1, 4))}]
    assert mean_average_precision(p, t, 0.5, use_masks=True) == 1.0
    assert mean_average_precision(p, t, 0.55, use_masks=True) == 0.0
    pred, target = np.array([[0, 1], [1, 1]]), np.array([[0, 1], [0, 1]])
    s = segmentation_scores(pred, target, 2)
    # class 0: 1 / (1 + 2 - 1); class 1: 2 / (3 + 2 - 2)
    assert s["pixel_accuracy"] == 0.75
    assert s["iou"] == pytest.approx([0.5, 2 / 3])
    assert s["mean_iou"] == pytest.approx(7 / 12)


def test_overlay_and_grid(tmp_path):
    s = make_scenes(3, size=32, seed=0)
    img = overlay(s.images[0], s.boxes[0], s.labels[0], s.instance_masks[0])
    assert img.shape == (32, 32, 3)
    x1, y1 = s.boxes[0][0][:2].astype(int)
    assert not np.allclose(img[y1, x1], s.images[0][:, y1, x1])  # the outline is painted
    preds = [{"boxes": b, "labels": lab, "scores": np.ones(len(b)), "masks": m}
             for b, lab, m in zip(s.boxes, s.labels, s.instance_masks)]
    path = save_grid(tmp_path / "g.png", s.images, preds, CLASSES, titles=["a", "b", "c"])
    assert path.stat().st_size > 1000
