"""The detectors: output layouts, target assignment on hand-made cases, and a few training steps
that lower each model's loss on a tiny batch."""

import numpy as np
import pytest

import striate
from striate.detect import rcnn
from striate.detect.scenes import make_scenes
from striate.detect.ssd import SSD
from striate.detect.yolo import YOLO
from striate.detect.zoo import DETECTORS, build_detector


def _one_object(size=32, box=(9.0, 17.0, 15.0, 23.0), label=2):
    s = make_scenes(1, size=size, seed=0)
    s.boxes[0] = np.array([box], np.float32)
    s.labels[0] = np.array([label])
    return s


def test_yolo_layout_and_responsibility():
    m = YOLO(3, image_size=32, boxes_per_cell=2)
    s = _one_object()
    out = m(striate.Tensor(s.images))
    assert out.shape == (1, 4, 4, 5 * 2 + 3)  # S x S x (5B + C), S = 32 / 8
    resp, txy, twh, tconf, cls = m.targets(out.array.astype(np.float64), s)
    # centre (12, 20) lies in row 2, column 1 of the 8-pixel cells, at offsets (0.5, 0.5)
    assert resp.sum() == 1 and resp[0, 2, 1].sum() == 1
    b = int(np.flatnonzero(resp[0, 2, 1])[0])
    np.testing.assert_allclose(txy[0, 2, 1, b], [0.5, 0.5])
    np.testing.assert_allclose(twh[0, 2, 1, b], np.sqrt([6 / 32, 6 / 32]))
    assert cls[0, 2, 1] == 1 and (cls >= 0).sum() == 1  # label 2 is class index 1
    assert 0 <= tconf[0, 2, 1, b] <= 1


def test_ssd_matching_and_hard_negative_mining():
    m = SSD(3)
    s = _one_object(size=64, box=(20.0, 20.0, 34.0, 34.0))
    logits, deltas, anchors = m(striate.Tensor(s.images))
    assert logits.shape == (1, len(anchors), 4) and deltas.shape == (1, len(anchors), 4)
    assert len(anchors) == (16 * 16 + 8 * 8 + 4 * 4) * 6
    lab, t = m.match(anchors, s.boxes[0], s.labels[0])
    pos = lab > 0
    assert pos.any() and set(lab[pos]) == {2}
    # an anchor matched at IoU >= 0.5 decodes back onto the object
    from striate.detect.ops import decode_boxes
    from striate.detect.ssd import WEIGHTS

    back = decode_boxes(t[pos], anchors[pos], WEIGHTS)
    np.testing.assert_allclose(back, np.repeat(s.boxes[0], pos.sum(), 0), atol=1e-4)


def test_rpn_anchor_labels_and_paste_mask():
    rpn = rcnn.RegionProposalNetwork(8, 4, sizes=(8,), aspect_ratios=(1.0,))
    anchors = rpn.anchors((4, 4))
    gt = [np.array([[2.0, 2.0, 10.0, 10.0]])]  # exactly the anchor of cell (1, 1), centre 6
    obj = striate.zeros(1, len(anchors), requires_grad=True)
    deltas = striate.zeros(1, len(anchors), 4, requires_grad=True)
    o, r = rpn.loss(obj, deltas, anchors, gt)
    assert abs(o.item() - np.log(2)) < 1e-6  # zero logits: BCE log 2 whatever the labels
    assert r.item() == 0.0  # the positive anchor's offsets are already right
    mask = np.zeros((4, 4))
    mask[:2] = 1.0  # the top half of the box
    img = rcnn.paste_mask(mask, (4, 4, 12, 12), 16, 16) >= 0.5
    assert img[4:8, 4:12].all() and not img[8:12].any() and not img[:4].any()


@pytest.mark.parametrize("name", sorted(set(DETECTORS) - {"classify-localize", "keypoints"}))
def test_detectors_lower_their_loss(name):  # the one-object models: see the test below
    striate.manual_seed(0)
    s = make_scenes(4, size=32, seed=1)
    m = build_detector({"model": name, "image_size": 32})
    if name in ("rcnn", "fast-rcnn", "sliding-window"):  # a small fixed set of proposals
        grid = np.array([[x, y, x + w, y + w] for w in (8, 14) for x in range(0, 32 - w, 4)
                         for y in range(0, 32 - w, 4)], float)
        m.proposer = lambda image: grid
    if hasattr(m, "roi_head"):
        m.roi_head.batch_per_image = 16  # a small sample of RoIs keeps the test quick
    opt = striate.optim.Adam(m.parameters(), lr=2e-3)
    x = striate.Tensor(s.images)
    losses = []
    for _ in range(5):
        striate.manual_seed(1)  # the same anchor / RoI samples each step
        loss, parts = m.loss(x, s)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0], losses
    assert all(np.isfinite(v) for v in parts.values())
    preds = m.predict(s.images[:2])
    assert len(preds) == 2 and preds[0]["boxes"].shape[1:] == (4,)
    if name == "mask-rcnn":
        assert preds[0]["masks"].shape[1:] == (32, 32)


def test_selective_search_finds_a_lone_square():
    pytest.importorskip("skimage")
    from striate.detect.ops import box_iou
    from striate.detect.proposals import selective_search

    img = np.full((3, 32, 32), 0.2)
    img[:, 10:22, 6:20] = [[[0.9]], [[0.1]], [[0.1]]]
    props = selective_search(img)
    assert props.shape[1] == 4 and len(props) <= 100
    assert box_iou(props, np.array([[6.0, 10.0, 20.0, 22.0]])).max() > 0.9


def test_classify_localize_and_keypoints_learn():
    from striate.detect.localize import (
        JOINTS,
        ClassifyLocalize,
        KeypointNet,
        make_stick_figures,
        pck,
    )

    striate.manual_seed(0)
    s = make_scenes(4, size=32, seed=2, max_objects=1)
    figs = make_stick_figures(4, size=32, seed=2)
    assert figs.joints.shape == (4, len(JOINTS), 2) and (figs.joints >= 0).all()
    assert (figs.joints < 32).all()
    assert pck(figs.joints, figs.joints) == 1.0 and pck(figs.joints + 100, figs.joints) == 0.0
    for m, data in ((ClassifyLocalize(3, widths=(8, 8, 8)), s),
                    (KeypointNet(widths=(8, 8, 8)), figs)):
        opt = striate.optim.Adam(m.parameters(), lr=3e-3)
        losses = []
        for _ in range(5):
            loss, _ = m.loss(striate.Tensor(data.images), data)
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
        assert losses[-1] < losses[0], losses
    assert m.predict(figs.images).shape == (4, len(JOINTS), 2)
