"""Box and region operations with torchvision's names: ``box_iou``, ``nms``, ``batched_nms``,
``encode_boxes`` / ``decode_boxes`` against anchors, ``anchor_grid``, ``roi_pool`` and
``roi_align``.

Boxes are ``(x1, y1, x2, y2)`` in pixels (torchvision's ``xyxy``). ``box_iou``, ``roi_pool`` and
``roi_align`` are single graph nodes with their gradients written out; encoding and decoding are
compositions of tensor ops, so they differentiate through autograd. ``nms`` returns indices
(nothing to differentiate). The naive loop versions the tests compare against are in
``tests/detect/test_detect_ops.py``.
"""

from __future__ import annotations

import math

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ..kernels import compiled

__all__ = ["box_iou", "box_area", "nms", "batched_nms", "encode_boxes", "decode_boxes",
           "anchor_grid", "roi_pool", "roi_align", "box_cxcywh_to_xyxy", "box_xyxy_to_cxcywh",
           "clip_boxes_to_image"]


def _arr(x) -> np.ndarray:
    return x.array if isinstance(x, Tensor) else np.asarray(x)


def _boxes_arg(fn: str, name: str, boxes) -> np.ndarray:
    b = _arr(boxes)
    if b.ndim != 2 or b.shape[1] != 4:
        raise ValueError(f"{fn}: {name} must be (N, 4) boxes (x1, y1, x2, y2), "
                         f"got shape {b.shape}")
    return b


def box_area(boxes) -> np.ndarray:
    """Areas (N,) of (N, 4) xyxy boxes, as a plain array."""
    b = _boxes_arg("box_area", "boxes", boxes)
    return (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])


def _min_grad(a, b, g):
    """The gradient of ``minimum(a, b)`` for a and b; ties split it evenly (as PyTorch does)."""
    ga = g * ((a < b) + 0.5 * (a == b))
    return ga, g - ga


class BoxIoU(Function):
    @staticmethod
    def forward(ctx, b1, b2):
        a1 = (b1[:, 2] - b1[:, 0]) * (b1[:, 3] - b1[:, 1])
        a2 = (b2[:, 2] - b2[:, 0]) * (b2[:, 3] - b2[:, 1])
        lo = np.maximum(b1[:, None, :2], b2[None, :, :2])
        hi = np.minimum(b1[:, None, 2:], b2[None, :, 2:])
        side = hi - lo
        wh = np.clip(side, 0, None)
        inter = wh[..., 0] * wh[..., 1]
        union = a1[:, None] + a2[None, :] - inter
        ctx.save_for_backward(b1, b2)
        ctx.parts = (side, wh, inter, union)
        return inter / union

    @staticmethod
    def backward(ctx, g):
        b1, b2 = ctx.saved
        side, wh, inter, union = ctx.parts
        # iou = I / U with U = A1 + A2 - I:  dI = g (U + I) / U^2,  dU = -g I / U^2
        d_union = -g * inter / union ** 2
        d_inter = g / union - d_union
        # I = w h with w = max(side, 0): d side = d_inter * (other side) where side > 0
        d_side = np.stack([d_inter * wh[..., 1], d_inter * wh[..., 0]], -1) * (side > 0)
        # side = min(right/bottom edges) - max(left/top edges)
        d_hi1, d_hi2 = _min_grad(b1[:, None, 2:], b2[None, :, 2:], d_side)
        d_lo1, d_lo2 = _min_grad(-b1[:, None, :2], -b2[None, :, :2], d_side)  # max = -min(-.)
        d_a1, d_a2 = d_union.sum(1), d_union.sum(0)

        def area_grad(b, da):
            # A = (x2 - x1)(y2 - y1)
            w, h = b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]
            return np.stack([-da * h, -da * w, da * h, da * w], 1)

        g1 = area_grad(b1, d_a1)
        g1[:, 2:] += d_hi1.sum(1)
        g1[:, :2] -= d_lo1.sum(1)
        g2 = area_grad(b2, d_a2)
        g2[:, 2:] += d_hi2.sum(0)
        g2[:, :2] -= d_lo2.sum(0)
        return g1, g2


def box_iou(boxes1, boxes2):
    """Intersection over union of every pair: (N, 4) and (M, 4) xyxy boxes -> (N, M).

    A Tensor input gives a differentiable Tensor (one graph node; GIoU-style losses and the
    tests use its gradient); plain arrays give an array.

    Example:
        >>> import numpy as np
        >>> box_iou(np.array([[0., 0, 2, 2]]), np.array([[1., 1, 3, 3]])).round(4).tolist()
        [[0.1429]]
    """
    _boxes_arg("box_iou", "boxes1", boxes1)
    _boxes_arg("box_iou", "boxes2", boxes2)
    if isinstance(boxes1, Tensor) or isinstance(boxes2, Tensor):
        return BoxIoU.apply(boxes1, boxes2)
    return BoxIoU.forward(_Scratch(), np.asarray(boxes1, np.float64),
                          np.asarray(boxes2, np.float64))


class _Scratch:
    """A throwaway context for running a Function's forward on plain arrays."""

    def save_for_backward(self, *a):
        pass


def nms(boxes, scores, iou_threshold: float) -> np.ndarray:
    """Greedy non-maximum suppression: indices of the kept boxes, by decreasing score.

    A box is dropped when its IoU with a kept, higher-scoring box exceeds ``iou_threshold``. The
    IoU matrix is computed once; the greedy pass is a loop over the boxes (not pixels).
    """
    b = _boxes_arg("nms", "boxes", boxes)
    s = _arr(scores)
    if s.shape != (len(b),):
        raise ValueError(f"nms: scores must be ({len(b)},) for {len(b)} boxes, got {s.shape}")
    order = np.argsort(-s, kind="stable")
    if len(order) == 0:
        return np.zeros(0, np.int64)
    iou = box_iou(b[order].astype(np.float64), b[order].astype(np.float64))
    alive = np.ones(len(order), bool)
    keep = []
    for i in range(len(order)):
        if alive[i]:
            keep.append(i)
            alive &= ~(iou[i] > iou_threshold)
    return order[np.array(keep, np.int64)]


def batched_nms(boxes, scores, idxs, iou_threshold: float) -> np.ndarray:
    """NMS within each category ``idxs`` (boxes of different classes never suppress each other):
    the boxes of each class are shifted apart by more than the whole extent, then one NMS runs."""
    b = _boxes_arg("batched_nms", "boxes", boxes).astype(np.float64)
    ids = _arr(idxs)
    if ids.shape != (len(b),):
        raise ValueError(f"batched_nms: idxs must be ({len(b)},), got {ids.shape}")
    if len(b) == 0:
        return np.zeros(0, np.int64)
    shift = (ids.astype(np.float64) * (b.max() - b.min() + 1))[:, None]
    return nms(b + shift, scores, iou_threshold)


def box_xyxy_to_cxcywh(boxes):
    """(x1, y1, x2, y2) -> (cx, cy, w, h); Tensors stay differentiable."""
    x1, y1, x2, y2 = (boxes[:, i] for i in range(4))
    return _stack([(x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1])


def box_cxcywh_to_xyxy(boxes):
    """(cx, cy, w, h) -> (x1, y1, x2, y2); Tensors stay differentiable."""
    cx, cy, w, h = (boxes[:, i] for i in range(4))
    return _stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2])


def _stack(cols):
    if isinstance(cols[0], Tensor):
        from ..ops import stack

        return stack(cols, 1)
    return np.stack(cols, 1)


def encode_boxes(boxes, anchors, weights=(1.0, 1.0, 1.0, 1.0)):
    """Regression targets of ``boxes`` relative to ``anchors`` (both (N, 4) xyxy): Faster
    R-CNN's ``(wx (x - xa) / wa, wy (y - ya) / ha, ww log(w / wa), wh log(h / ha))`` of the
    centres and sides, as torchvision's ``BoxCoder.encode_single``."""
    g, a = box_xyxy_to_cxcywh(_arr(boxes)), box_xyxy_to_cxcywh(_arr(anchors))
    wx, wy, ww, wh = weights
    return np.stack([wx * (g[:, 0] - a[:, 0]) / a[:, 2], wy * (g[:, 1] - a[:, 1]) / a[:, 3],
                     ww * np.log(g[:, 2] / a[:, 2]), wh * np.log(g[:, 3] / a[:, 3])], 1)


_CLAMP = math.log(1000.0 / 16)  # torchvision's bound on dw, dh before exp


def decode_boxes(codes, anchors, weights=(1.0, 1.0, 1.0, 1.0)):
    """Boxes (N, 4) xyxy from regression ``codes`` (N, 4) and ``anchors`` (N, 4): the inverse of
    :func:`encode_boxes`. A Tensor of codes gives a differentiable Tensor (log-sides are clamped
    at log(1000/16) before the exponential, as in torchvision)."""
    a = box_xyxy_to_cxcywh(_arr(anchors).astype(np.float64))
    wx, wy, ww, wh = weights
    if isinstance(codes, Tensor):
        a = a.astype(codes.dtype)
        a = [Tensor(a[:, i].copy()) for i in range(4)]
        cx = codes[:, 0] / wx * a[2] + a[0]
        cy = codes[:, 1] / wy * a[3] + a[1]
        w = (codes[:, 2] / ww).clamp(max=_CLAMP).exp() * a[2]
        h = (codes[:, 3] / wh).clamp(max=_CLAMP).exp() * a[3]
    else:
        c = np.asarray(codes)
        cx = c[:, 0] / wx * a[:, 2] + a[:, 0]
        cy = c[:, 1] / wy * a[:, 3] + a[:, 1]
        w = np.exp(np.minimum(c[:, 2] / ww, _CLAMP)) * a[:, 2]
        h = np.exp(np.minimum(c[:, 3] / wh, _CLAMP)) * a[:, 3]
    return box_cxcywh_to_xyxy(_stack([cx, cy, w, h]))


def clip_boxes_to_image(boxes, size) -> np.ndarray:
    """Boxes clipped to an image of ``size = (height, width)``."""
    b = _boxes_arg("clip_boxes_to_image", "boxes", boxes).copy()
    h, w = size
    b[:, 0::2] = np.clip(b[:, 0::2], 0, w)
    b[:, 1::2] = np.clip(b[:, 1::2], 0, h)
    return b


def anchor_grid(feature_size, stride: float, sizes=(16,), aspect_ratios=(0.5, 1.0, 2.0)):
    """Anchors over a feature map, as torchvision's ``AnchorGenerator`` lays them out.

    Each cell ``(i, j)`` of an (H, W) feature map gets ``len(sizes) * len(aspect_ratios)``
    anchors centred on the pixel centre of that cell, ``((j + 0.5) stride, (i + 0.5) stride)``,
    of area ``size**2`` and height/width ratio ``ratio``.

    Returns:
        (H * W * A, 4) xyxy anchors, cell-major (the A anchors of a cell are consecutive), the
        order a head's (N, A * 4, H, W) output has after ``permute(0, 2, 3, 1)``.
    """
    H, W = feature_size
    ratios = np.asarray(aspect_ratios, np.float64)
    scales = np.asarray(sizes, np.float64)
    hr = np.sqrt(ratios)
    ws = (scales[None, :] / hr[:, None]).ravel()  # (R * S,) in torchvision's order
    hs = (scales[None, :] * hr[:, None]).ravel()
    base = np.stack([-ws, -hs, ws, hs], 1) / 2
    cy, cx = np.meshgrid((np.arange(H) + 0.5) * stride, (np.arange(W) + 0.5) * stride,
                         indexing="ij")
    shifts = np.stack([cx, cy, cx, cy], -1).reshape(-1, 1, 4)
    return (shifts + base[None]).reshape(-1, 4)


# --------------------------------------------------------------------------- RoI pooling


def _rois(fn: str, boxes, n_images: int) -> np.ndarray:
    """(K, 5) rows (batch index, x1, y1, x2, y2) from a (K, 5) array or a list of (L, 4), one per
    image (torchvision's two forms)."""
    if isinstance(boxes, (list, tuple)):
        if len(boxes) != n_images:
            raise ValueError(f"{fn}: boxes is a list of {len(boxes)} arrays for a batch of "
                             f"{n_images} images")
        parts = []
        for i, b in enumerate(boxes):
            b = _boxes_arg(fn, f"boxes[{i}]", b).astype(np.float64)
            parts.append(np.concatenate([np.full((len(b), 1), i, np.float64), b], 1))
        return np.concatenate(parts, 0) if parts else np.zeros((0, 5))
    r = _arr(boxes).astype(np.float64)
    if r.ndim != 2 or r.shape[1] != 5:
        raise ValueError(f"{fn}: boxes must be (K, 5) rows (batch index, x1, y1, x2, y2) or a "
                         f"list of (L, 4) arrays, got shape {r.shape}")
    if len(r) and (r[:, 0].min() < 0 or r[:, 0].max() >= n_images
                   or np.any(r[:, 0] != np.round(r[:, 0]))):
        raise ValueError(f"{fn}: batch indices in boxes[:, 0] must be integers in "
                         f"[0, {n_images}), got {np.unique(r[:, 0])[:5].tolist()}")
    return r


def _pair(v, fn: str) -> tuple[int, int]:
    p = (v, v) if isinstance(v, (int, np.integer)) else tuple(v)
    if len(p) != 2 or any(int(q) <= 0 for q in p):
        raise ValueError(f"{fn}: output_size must be a positive int or pair, got {v!r}")
    return int(p[0]), int(p[1])


def _check_input(fn: str, x) -> None:
    if not isinstance(x, Tensor) or x.ndim != 4:
        raise ValueError(f"{fn}: input must be a 4-D (N, C, H, W) Tensor, got "
                         f"{getattr(x, 'shape', type(x).__name__)}")


def _round_half_away(v):
    return np.sign(v) * np.floor(np.abs(v) + 0.5)


def _pool_bins(start, end, n_bins: int, size: int):
    """roi_pool's integer bin limits along one axis: (K, n_bins) starts and ends in [0, size]."""
    length = np.maximum(end - start + 1, 1)
    step = length / n_bins
    p = np.arange(n_bins)
    lo = np.clip(np.floor(p[None] * step[:, None]) + start[:, None], 0, size).astype(np.int64)
    hi = np.clip(np.ceil((p[None] + 1) * step[:, None]) + start[:, None], 0, size).astype(np.int64)
    return lo, hi


class RoIPool(Function):
    CHUNK = 128  # regions per gather: the padded windows of a few thousand at once cost GBs

    @staticmethod
    def forward(ctx, x, rois, out_hw, scale):
        N, C, H, W = x.shape
        PH, PW = out_hw
        b = rois[:, 0].astype(np.int64)
        xs = _round_half_away(rois[:, 1::2] * scale)  # (K, 2): x1, x2
        ys = _round_half_away(rois[:, 2::2] * scale)
        h_lo, h_hi = _pool_bins(ys[:, 0], ys[:, 1], PH, H)
        w_lo, w_hi = _pool_bins(xs[:, 0], xs[:, 1], PW, W)
        xt = x.transpose(0, 2, 3, 1)  # (N, H, W, C)
        K = len(b)
        out = np.empty((K, C, PH, PW), x.dtype)  # every entry is written below
        h_arg = np.empty((K, C, PH, PW), np.int64)
        w_at = np.empty((K, C, PH, PW), np.int64)
        if compiled.enabled(x, out):  # one pass over each bin's own pixels
            compiled.roi_pool_forward(np.ascontiguousarray(xt), b, h_lo, h_hi, w_lo, w_hi, out,
                                      h_arg, w_at)
        else:
            # regions in order of their largest bin, so that a chunk pads its windows only to
            # the size its own regions need (most proposals are small: 2x2 bins or less)
            size = (h_hi - h_lo).max(1, initial=1) * (w_hi - w_lo).max(1, initial=1)
            order = np.argsort(size, kind="stable")
            for s in range(0, K, RoIPool.CHUNK):
                k = order[s:s + RoIPool.CHUNK]
                o, ha, wa = (np.empty((len(k), C, PH, PW), a.dtype) for a in (out, h_arg, w_at))
                RoIPool._chunk(xt, b[k], h_lo[k], h_hi[k], w_lo[k], w_hi[k], o, ha, wa)
                out[k], h_arg[k], w_at[k] = o, ha, wa
        empty = ~np.isfinite(out)
        out[empty] = 0
        ctx.where = (b, h_arg, w_at, ~empty)
        ctx.shape = x.shape
        return out

    @staticmethod
    def _chunk(xt, b, h_lo, h_hi, w_lo, w_hi, out, h_arg, w_at):
        """Max of every bin of some regions into ``out`` (k, C, PH, PW), with where it was."""
        H, W = xt.shape[1:3]
        PH, PW = h_lo.shape[1], w_lo.shape[1]
        # every bin's window, padded to the largest bin (a few pixels) and masked: one gather
        mh = max(int((h_hi - h_lo).max(initial=1)), 1)
        mw = max(int((w_hi - w_lo).max(initial=1)), 1)
        hidx = h_lo[..., None] + np.arange(mh)  # (k, PH, mh)
        widx = w_lo[..., None] + np.arange(mw)  # (k, PW, mw)
        valid = (hidx < h_hi[..., None])[:, :, None, :, None] & \
            (widx < w_hi[..., None])[:, None, :, None, :]  # (k, PH, PW, mh, mw)
        hc, wc = np.minimum(hidx, H - 1), np.minimum(widx, W - 1)
        vals = xt[b[:, None, None, None, None], hc[:, :, None, :, None],
                  wc[:, None, :, None, :]]  # (k, PH, PW, mh, mw, C)
        vals = np.where(valid[..., None], vals, -np.inf).reshape(len(b), PH, PW, mh * mw, -1)
        # the first maximum in row-major order wins, as in torchvision's loop
        arg = vals.argmax(3)  # (k, PH, PW, C)
        out[...] = np.take_along_axis(vals, arg[:, :, :, None], 3)[:, :, :, 0].transpose(0, 3, 1, 2)
        kk = np.arange(len(b))[:, None, None, None]
        h_arg[...] = hc[kk, np.arange(PH)[None, :, None, None], arg // mw].transpose(0, 3, 1, 2)
        w_at[...] = wc[kk, np.arange(PW)[None, None, :, None], arg % mw].transpose(0, 3, 1, 2)

    @staticmethod
    def backward(ctx, g):
        # a max passes its gradient to the element that won; bins may overlap, shares add up
        b, h_arg, w_at, ok = ctx.where
        dx = np.zeros(ctx.shape, g.dtype)
        if compiled.enabled(g, dx):
            compiled.roi_pool_backward(np.ascontiguousarray(g), b, h_arg, w_at, ok, dx)
            return dx, None
        K, C = g.shape[:2]
        kk = np.broadcast_to(b[:, None, None, None], g.shape)
        cc = np.broadcast_to(np.arange(C)[None, :, None, None], g.shape)
        np.add.at(dx, (kk[ok], cc[ok], h_arg[ok], w_at[ok]), g[ok])
        return dx, None


def roi_pool(input: Tensor, boxes, output_size, spatial_scale: float = 1.0) -> Tensor:
    """Fast R-CNN's RoI max pooling (torchvision.ops.roi_pool): each box, scaled by
    ``spatial_scale`` and rounded to the feature grid, is split into ``output_size`` bins, and
    each bin keeps its maximum.

    Args:
        input: (N, C, H, W) feature map.
        boxes: (K, 5) rows ``(batch index, x1, y1, x2, y2)`` in image coordinates, or a list of
            N arrays (L, 4).
        output_size: int or (PH, PW).
        spatial_scale: feature-map pixels per image pixel (1 / the backbone's stride).
    Returns:
        (K, C, PH, PW); an empty bin gives 0.
    """
    _check_input("roi_pool", input)
    rois = _rois("roi_pool", boxes, input.shape[0])
    return RoIPool.apply(input, rois, out_hw=_pair(output_size, "roi_pool"),
                         scale=float(spatial_scale))


def _align_weights(start, length, n_bins: int, grid, size: int, dtype):
    """The (K, n_bins, size) matrix A of roi_align along one axis: sample points are bilinearly
    interpolated, so bin p's average is ``sum_h A[k, p, h] x[h]``; the 2-D weight is the product
    of the two axes' weights, which is why roi_align is ``Ay X Ax^T`` per box."""
    K = len(start)
    G = int(grid.max()) if K else 1
    step = length / n_bins
    p = np.arange(n_bins)[None, :, None]
    i = np.arange(G)[None, None, :]
    pos = start[:, None, None] + p * step[:, None, None] + \
        (i + 0.5) * step[:, None, None] / grid[:, None, None]  # (K, n_bins, G)
    valid = (i < grid[:, None, None]) & (pos >= -1.0) & (pos <= size)
    pos = np.maximum(pos, 0.0)
    low = np.floor(pos).astype(np.int64)
    top = low >= size - 1
    low = np.where(top, size - 1, low)
    high = np.where(top, size - 1, low + 1)
    pos = np.where(top, low, pos)
    frac = pos - low
    scale = valid / np.maximum(grid, 1)[:, None, None]
    A = np.zeros((K, n_bins, size), dtype)
    kk = np.broadcast_to(np.arange(K)[:, None, None], pos.shape)
    pp = np.broadcast_to(np.arange(n_bins)[None, :, None], pos.shape)
    np.add.at(A, (kk, pp, low), (1 - frac) * scale)
    np.add.at(A, (kk, pp, high), frac * scale)
    return A


class RoIAlign(Function):
    @staticmethod
    def forward(ctx, x, rois, out_hw, scale, sampling_ratio, aligned):
        N, C, H, W = x.shape
        PH, PW = out_hw
        off = 0.5 if aligned else 0.0
        b = rois[:, 0].astype(np.int64)
        x1, y1 = rois[:, 1] * scale - off, rois[:, 2] * scale - off
        rw, rh = rois[:, 3] * scale - off - x1, rois[:, 4] * scale - off - y1
        if not aligned:  # the legacy version makes every box at least one pixel
            rw, rh = np.maximum(rw, 1.0), np.maximum(rh, 1.0)
        if sampling_ratio > 0:
            gy = gx = np.full(len(rois), sampling_ratio, np.int64)
        else:  # adaptive: about one sample per feature pixel of the bin
            gy, gx = np.ceil(rh / PH).astype(np.int64), np.ceil(rw / PW).astype(np.int64)
        Ay = _align_weights(y1, rh, PH, gy, H, x.dtype)
        Ax = _align_weights(x1, rw, PW, gx, W, x.dtype)
        ctx.parts = (b, Ay, Ax)
        ctx.shape = x.shape
        out = np.zeros((len(b), C, PH, PW), x.dtype)
        for n in np.unique(b):  # per image, so the feature map is never copied once per box
            k = np.flatnonzero(b == n)
            t = np.einsum("kph,chw->kcpw", Ay[k], x[n], optimize=True)
            out[k] = np.einsum("kcpw,kqw->kcpq", t, Ax[k], optimize=True)
        return out

    @staticmethod
    def backward(ctx, g):
        # out_k = Ay_k X_b Ax_k^T is linear in X: dX_b += Ay_k^T g_k Ax_k
        b, Ay, Ax = ctx.parts
        dx = np.zeros(ctx.shape, g.dtype)
        for n in np.unique(b):
            k = np.flatnonzero(b == n)
            t = np.einsum("kcpq,kqw->kcpw", g[k], Ax[k], optimize=True)
            dx[n] = np.einsum("kph,kcpw->chw", Ay[k], t, optimize=True)
        return dx, None


def roi_align(input: Tensor, boxes, output_size, spatial_scale: float = 1.0,
              sampling_ratio: int = -1, aligned: bool = False) -> Tensor:
    """Mask R-CNN's RoI Align (torchvision.ops.roi_align): no rounding; each of the
    ``output_size`` bins averages ``sampling_ratio``^2 bilinearly interpolated points.

    Args:
        input: (N, C, H, W) feature map.
        boxes: (K, 5) rows ``(batch index, x1, y1, x2, y2)``, or a list of N arrays (L, 4).
        output_size: int or (PH, PW).
        spatial_scale: feature-map pixels per image pixel.
        sampling_ratio: points per bin side; <= 0 picks ``ceil(box side / bins)`` per box.
        aligned: shift the box by -0.5 pixel so that pixel centres line up (Detectron2's fix);
            False keeps the original behaviour (and makes every box at least 1 pixel).
    Returns:
        (K, C, PH, PW).
    """
    _check_input("roi_align", input)
    rois = _rois("roi_align", boxes, input.shape[0])
    return RoIAlign.apply(input, rois, out_hw=_pair(output_size, "roi_align"),
                          scale=float(spatial_scale), sampling_ratio=int(sampling_ratio),
                          aligned=bool(aligned))
