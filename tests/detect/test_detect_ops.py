"""Box and RoI ops against naive loops written here (torchvision's C++ loops transcribed), float64
gradient checks, and torchvision where a CPU build imports."""

import math

import numpy as np
import pytest
from opcheck import check_op

import striate
from striate.detect import ops as D


def random_boxes(rng, n, size, max_side=None):
    """n xyxy boxes with corners in [0, size) and sides in [1, max_side]."""
    max_side = max_side or size / 2
    xy = rng.uniform(0, size, (n, 2))
    wh = rng.uniform(1, max_side, (n, 2))
    return np.concatenate([xy, xy + wh], 1)


def _torchvision():
    try:
        import torchvision  # noqa: F401
        import torchvision.ops as tvo
    except Exception:  # the registry's builds are CUDA ones that fail to import here
        pytest.skip("torchvision does not import alongside the installed PyTorch")
    return tvo


# ----------------------------------------------------------------------------- naive oracles

def naive_iou(a, b):
    out = np.zeros((len(a), len(b)))
    for i, p in enumerate(a):
        for j, q in enumerate(b):
            w = max(0.0, min(p[2], q[2]) - max(p[0], q[0]))
            h = max(0.0, min(p[3], q[3]) - max(p[1], q[1]))
            inter = w * h
            union = (p[2] - p[0]) * (p[3] - p[1]) + (q[2] - q[0]) * (q[3] - q[1]) - inter
            out[i, j] = inter / union
    return out


def naive_nms(boxes, scores, thr):
    order = sorted(range(len(boxes)), key=lambda i: -scores[i])
    keep = []
    for i in order:
        if all(naive_iou(boxes[i:i + 1], boxes[k:k + 1])[0, 0] <= thr for k in keep):
            keep.append(i)
    return keep


def _c_round(v):
    return math.floor(v + 0.5) if v >= 0 else -math.floor(-v + 0.5)


def naive_roi_pool(x, rois, ph_n, pw_n, scale):
    K, C, H, W = len(rois), x.shape[1], x.shape[2], x.shape[3]
    out = np.zeros((K, C, ph_n, pw_n))
    for k, (b, x1, y1, x2, y2) in enumerate(rois):
        sw, sh = _c_round(x1 * scale), _c_round(y1 * scale)
        ew, eh = _c_round(x2 * scale), _c_round(y2 * scale)
        rw, rh = max(ew - sw + 1, 1), max(eh - sh + 1, 1)
        bw, bh = rw / pw_n, rh / ph_n
        for c in range(C):
            for ph in range(ph_n):
                for pw in range(pw_n):
                    hs = min(max(math.floor(ph * bh) + sh, 0), H)
                    he = min(max(math.ceil((ph + 1) * bh) + sh, 0), H)
                    ws = min(max(math.floor(pw * bw) + sw, 0), W)
                    we = min(max(math.ceil((pw + 1) * bw) + sw, 0), W)
                    if he <= hs or we <= ws:
                        continue
                    out[k, c, ph, pw] = x[int(b), c, hs:he, ws:we].max()
    return out


def _bilinear(img, y, x):
    H, W = img.shape
    if y < -1.0 or y > H or x < -1.0 or x > W:
        return 0.0
    y, x = max(y, 0.0), max(x, 0.0)
    yl, xl = int(y), int(x)
    if yl >= H - 1:
        yh = yl = H - 1
        y = float(yl)
    else:
        yh = yl + 1
    if xl >= W - 1:
        xh = xl = W - 1
        x = float(xl)
    else:
        xh = xl + 1
    ly, lx = y - yl, x - xl
    hy, hx = 1 - ly, 1 - lx
    return hy * hx * img[yl, xl] + hy * lx * img[yl, xh] + ly * hx * img[yh, xl] + \
        ly * lx * img[yh, xh]


def naive_roi_align(x, rois, ph_n, pw_n, scale, ratio, aligned):
    K, C = len(rois), x.shape[1]
    out = np.zeros((K, C, ph_n, pw_n))
    off = 0.5 if aligned else 0.0
    for k, (b, x1, y1, x2, y2) in enumerate(rois):
        sw, sh = x1 * scale - off, y1 * scale - off
        rw, rh = x2 * scale - off - sw, y2 * scale - off - sh
        if not aligned:
            rw, rh = max(rw, 1.0), max(rh, 1.0)
        bw, bh = rw / pw_n, rh / ph_n
        gh = ratio if ratio > 0 else math.ceil(rh / ph_n)
        gw = ratio if ratio > 0 else math.ceil(rw / pw_n)
        count = max(gh * gw, 1)
        for c in range(C):
            for ph in range(ph_n):
                for pw in range(pw_n):
                    acc = 0.0
                    for iy in range(gh):
                        yy = sh + ph * bh + (iy + 0.5) * bh / gh
                        for ix in range(gw):
                            xx = sw + pw * bw + (ix + 0.5) * bw / gw
                            acc += _bilinear(x[int(b), c], yy, xx)
                    out[k, c, ph, pw] = acc / count
    return out


# ----------------------------------------------------------------------------- tests


def test_box_iou_matches_loops_and_gradcheck(rng):
    a, b = random_boxes(rng, 5, 20), random_boxes(rng, 4, 20)
    b[0] = a[0]  # an identical pair (IoU 1)
    b[1] = a[1] + [30, 30, 30, 30]  # disjoint from a[1]
    got = check_op(lambda p, q: D.box_iou(p, q), [a, b])
    np.testing.assert_allclose(got, naive_iou(a, b), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(D.box_iou(a, b), naive_iou(a, b), rtol=1e-12, atol=1e-12)


def test_box_iou_rejects_bad_shape():
    with pytest.raises(ValueError, match=r"box_iou: boxes2 must be \(N, 4\).*\(3, 5\)"):
        D.box_iou(np.zeros((2, 4)), np.zeros((3, 5)))


def test_nms_and_batched_nms_match_loops(rng):
    boxes = random_boxes(rng, 60, 40, max_side=20)
    scores = rng.random(60)
    for thr in (0.3, 0.5, 0.7):
        assert D.nms(boxes, scores, thr).tolist() == naive_nms(boxes, scores, thr)
    labels = rng.integers(0, 3, 60)
    want = []
    for c in range(3):
        idx = np.flatnonzero(labels == c)
        want += [idx[i] for i in naive_nms(boxes[idx], scores[idx], 0.5)]
    want = sorted(want, key=lambda i: -scores[i])
    assert D.batched_nms(boxes, scores, labels, 0.5).tolist() == want


def test_encode_decode_round_trip_and_gradient(rng):
    anchors, boxes = random_boxes(rng, 7, 30), random_boxes(rng, 7, 30)
    w = (10.0, 10.0, 5.0, 5.0)
    codes = D.encode_boxes(boxes, anchors, w)
    np.testing.assert_allclose(D.decode_boxes(codes, anchors, w), boxes, rtol=1e-10, atol=1e-10)
    # a hand case: a box twice the anchor's width, shifted right by half the anchor's width
    c = D.encode_boxes(np.array([[1.0, 0, 5, 2]]), np.array([[0.0, 0, 2, 2]]))
    np.testing.assert_allclose(c, [[1.0, 0.0, math.log(2), 0.0]], atol=1e-12)
    check_op(lambda t: D.decode_boxes(t, anchors, w), [codes])


def test_anchor_grid_layout():
    a = D.anchor_grid((2, 3), 8, sizes=(8, 16), aspect_ratios=(0.5, 1.0))
    assert a.shape == (2 * 3 * 4, 4)
    centres = (a[:, :2] + a[:, 2:]) / 2
    np.testing.assert_allclose(centres[4 * 5], [(2 + 0.5) * 8, (1 + 0.5) * 8])  # cell (1, 2)
    wh = a[:4, 2:] - a[:4, :2]
    np.testing.assert_allclose(wh[:, 0] * wh[:, 1], [64, 256, 64, 256])
    np.testing.assert_allclose(wh[:, 1] / wh[:, 0], [0.5, 0.5, 1.0, 1.0])


def _rois(rng, n_img, k, size):
    b = random_boxes(rng, k, size, max_side=size * 0.8) - 2.0  # some reach past the edges
    return np.concatenate([rng.integers(0, n_img, (k, 1)).astype(np.float64), b], 1)


def test_roi_pool_matches_loops_and_gradcheck(rng):
    x = rng.standard_normal((2, 3, 9, 10))
    rois = _rois(rng, 2, 6, 20)
    got = check_op(lambda t: D.roi_pool(t, rois, (3, 2), spatial_scale=0.5), [x])
    np.testing.assert_allclose(got, naive_roi_pool(x, rois, 3, 2, 0.5), rtol=1e-12, atol=1e-12)


def test_roi_pool_in_chunks_of_regions_sorted_by_bin_size(rng, monkeypatch):
    # regions are pooled in chunks, in order of their largest bin: the result and the gradient
    # must not depend on either
    monkeypatch.setattr(D.RoIPool, "CHUNK", 3)
    x = rng.standard_normal((2, 3, 9, 10))
    rois = _rois(rng, 2, 11, 20)
    got = check_op(lambda t: D.roi_pool(t, rois, (3, 2), spatial_scale=0.5), [x])
    np.testing.assert_allclose(got, naive_roi_pool(x, rois, 3, 2, 0.5), rtol=1e-12, atol=1e-12)


def test_roi_pool_list_form_and_errors(rng):
    x = striate.Tensor(rng.standard_normal((2, 1, 6, 6)))
    boxes = [np.array([[0.0, 0, 3, 3]]), np.array([[1.0, 1, 5, 5], [0, 0, 5, 5]])]
    rows = np.array([[0, 0.0, 0, 3, 3], [1, 1, 1, 5, 5], [1, 0, 0, 5, 5]])
    np.testing.assert_array_equal(D.roi_pool(x, boxes, 2).array, D.roi_pool(x, rows, 2).array)
    with pytest.raises(ValueError, match=r"roi_pool: batch indices .* \[0, 2\)"):
        D.roi_pool(x, np.array([[2.0, 0, 0, 3, 3]]), 2)
    with pytest.raises(ValueError, match="roi_align: boxes must be"):
        D.roi_align(x, np.zeros((3, 4)), 2)


@pytest.mark.parametrize("ratio,aligned", [(2, True), (-1, True), (1, False), (-1, False)])
def test_roi_align_matches_loops_and_gradcheck(rng, ratio, aligned):
    x = rng.standard_normal((2, 2, 7, 8))
    rois = _rois(rng, 2, 5, 16)
    rois[0, 1:] = [3.0, 3.0, 3.2, 3.1]  # a tiny box (the unaligned version pads it to 1 pixel)
    got = check_op(lambda t: D.roi_align(t, rois, (2, 3), 0.5, ratio, aligned), [x])
    want = naive_roi_align(x, rois, 2, 3, 0.5, ratio, aligned)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_against_torchvision(rng, torch):
    tvo = _torchvision()
    x = rng.standard_normal((2, 3, 9, 10))
    rois = _rois(rng, 2, 6, 20)
    a, b = random_boxes(rng, 5, 20), random_boxes(rng, 4, 20)
    check_op(lambda p, q: D.box_iou(p, q), [a, b], torch_fn=tvo.box_iou)
    check_op(lambda t: D.roi_pool(t, rois, (3, 2), 0.5), [x],
             torch_fn=lambda t: tvo.roi_pool(t, torch.tensor(rois, dtype=t.dtype), (3, 2), 0.5))
    check_op(lambda t: D.roi_align(t, rois, (3, 2), 0.5, 2, True), [x],
             torch_fn=lambda t: tvo.roi_align(t, torch.tensor(rois, dtype=t.dtype), (3, 2),
                                              0.5, 2, True))
    boxes, scores = random_boxes(rng, 40, 40, max_side=20), rng.random(40)
    assert D.nms(boxes, scores, 0.5).tolist() == \
        tvo.nms(torch.tensor(boxes), torch.tensor(scores), 0.5).tolist()
