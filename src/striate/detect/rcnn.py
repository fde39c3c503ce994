"""The R-CNN family on one code path: Faster R-CNN (a region proposal network on the shared
feature map), Fast R-CNN (the same RoI head on external proposals), and Mask R-CNN (Faster R-CNN
plus a mask head on RoI Align).

Faster R-CNN's four losses: the RPN's objectness (binary cross-entropy over a sample of anchors,
half positive at most) and its box regression (smooth L1 on the positive anchors' offsets), and
the head's classification (softmax over the classes and the background, on a sample of
proposals a quarter of which are foreground) and per-class box regression (smooth L1 on the
foreground proposals). Anchors are labelled positive at IoU >= 0.6 with an object (and the best
anchor of each object), negative below 0.3; proposals are foreground at IoU >= 0.5.
"""

from __future__ import annotations

import numpy as np

from .. import nn
from ..autograd.grad_mode import no_grad
from ..autograd.tensor import Tensor
from ..backend import get_rng
from ..nn import functional as F  # noqa: N812
from ..nn import init
from .ops import anchor_grid, box_iou, decode_boxes, encode_boxes, nms, roi_align
from .yolo import Backbone, select_detections

__all__ = ["FasterRCNN", "FastRCNN", "MaskRCNN", "RegionProposalNetwork", "RoIHead"]

HEAD_WEIGHTS = (10.0, 10.0, 5.0, 5.0)  # torchvision's box-coder weights for the RoI head


def _sample(labels: np.ndarray, n: int, pos_fraction: float, rng) -> np.ndarray:
    """Indices of at most n labelled entries (1 positive, 0 negative; -1 ignored), at most
    ``pos_fraction`` of them positive."""
    pos, neg = np.flatnonzero(labels == 1), np.flatnonzero(labels == 0)
    n_pos = min(len(pos), int(n * pos_fraction))
    n_neg = min(len(neg), n - n_pos)
    return np.concatenate([rng.choice(pos, n_pos, replace=False),
                           rng.choice(neg, n_neg, replace=False)])



def class_and_box_heads(hidden: int, k: int):
    """The two linear heads of an R-CNN: ``k`` class scores and ``4 k`` box offsets, started
    small (std 0.01 and 0.001, zero biases) as in Fast R-CNN."""
    cls, box = nn.Linear(hidden, k), nn.Linear(hidden, 4 * k)
    init.normal_(cls.weight, std=0.01)
    init.normal_(box.weight, std=0.001)
    init.zeros_(cls.bias)
    init.zeros_(box.bias)
    return cls, box

class RegionProposalNetwork(nn.Module):
    """A 3x3 conv over the feature map, then per anchor an objectness logit and 4 offsets.

    Args:
        channels: feature channels.
        stride: feature-map stride in image pixels.
        sizes, aspect_ratios: the anchors of each cell (:func:`anchor_grid`).
    """

    def __init__(self, channels: int, stride: int, sizes=(12, 18, 26),
                 aspect_ratios=(0.5, 1.0, 2.0), pre_nms: int = 300, post_nms: int = 48,
                 nms_threshold: float = 0.7, batch_per_image: int = 128):
        super().__init__()
        self.stride, self.sizes, self.ratios = stride, tuple(sizes), tuple(aspect_ratios)
        self.A = len(self.sizes) * len(self.ratios)
        self.conv = nn.Conv2d(channels, channels, 3, padding=1)
        self.objectness = nn.Conv2d(channels, self.A, 1)
        self.deltas = nn.Conv2d(channels, 4 * self.A, 1)
        self.pre_nms, self.post_nms, self.nms_threshold = pre_nms, post_nms, nms_threshold
        self.batch_per_image = batch_per_image
        self._anchors = {}

    def anchors(self, hw) -> np.ndarray:
        hw = tuple(hw)
        if hw not in self._anchors:
            self._anchors[hw] = anchor_grid(hw, self.stride, self.sizes, self.ratios)
        return self._anchors[hw]

    def forward(self, feat):
        """-> objectness logits (N, H*W*A), offsets (N, H*W*A, 4), anchors (H*W*A, 4)."""
        N = feat.shape[0]
        t = F.relu(self.conv(feat))
        obj = self.objectness(t).permute(0, 2, 3, 1).reshape(N, -1)
        deltas = self.deltas(t).permute(0, 2, 3, 1).reshape(N, -1, 4)
        return obj, deltas, self.anchors(feat.shape[-2:])

    def proposals(self, obj: np.ndarray, deltas: np.ndarray, anchors, size) -> list:
        """Per image, up to ``post_nms`` boxes: decoded, clipped, the ``pre_nms`` most object-like,
        non-maximum suppressed."""
        H, W = size
        out = []
        for n in range(len(obj)):
            top = np.argsort(-obj[n], kind="stable")[:self.pre_nms]
            boxes = decode_boxes(deltas[n, top].astype(np.float64), anchors[top])
            boxes[:, 0::2] = np.clip(boxes[:, 0::2], 0, W)
            boxes[:, 1::2] = np.clip(boxes[:, 1::2], 0, H)
            ok = ((boxes[:, 2] - boxes[:, 0]) >= 2) & ((boxes[:, 3] - boxes[:, 1]) >= 2)
            boxes, scores = boxes[ok], obj[n, top][ok]
            keep = nms(boxes, scores, self.nms_threshold)[:self.post_nms]
            out.append(boxes[keep])
        return out

    def loss(self, obj, deltas, anchors, gt_boxes: list):
        """The RPN's two losses, each averaged over the sampled anchors."""
        rng = get_rng()
        rows, cols, labels, targets = [], [], [], []
        for n, gt in enumerate(gt_boxes):
            lab = np.zeros(len(anchors))
            match = np.zeros(len(anchors), np.int64)
            if len(gt):
                iou = box_iou(anchors, gt.astype(np.float64))
                best, match = iou.max(1), iou.argmax(1)
                lab = np.full(len(anchors), -1.0)
                lab[best < 0.3] = 0
                lab[best >= 0.6] = 1
                lab[np.any((iou == iou.max(0, keepdims=True)) & (iou > 0), 1)] = 1
            pick = _sample(lab, self.batch_per_image, 0.5, rng)
            rows.append(np.full(len(pick), n))
            cols.append(pick)
            labels.append(lab[pick])
            t = np.zeros((len(pick), 4))
            if len(gt):
                t = encode_boxes(gt[match[pick]].astype(np.float64), anchors[pick])
            targets.append(t)
        rows, cols = np.concatenate(rows), np.concatenate(cols)
        labels, targets = np.concatenate(labels), np.concatenate(targets)
        dt = obj.dtype
        obj_loss = F.binary_cross_entropy_with_logits(obj[rows, cols], Tensor(labels.astype(dt)))
        pos = labels == 1
        if pos.any():
            reg = F.smooth_l1_loss(deltas[rows[pos], cols[pos]], Tensor(targets[pos].astype(dt)),
                                   reduction="sum", beta=1 / 9) / max(len(labels), 1)
        else:
            reg = (deltas * 0).sum()
        return obj_loss, reg


class RoIHead(nn.Module):
    """Fast R-CNN's head: RoI Align to a fixed grid, two fully connected layers, then class
    scores (C + 1, the background first) and per-class box offsets (4 (C + 1))."""

    def __init__(self, channels: int, stride: int, num_classes: int, pool: int = 7,
                 hidden: int = 256, batch_per_image: int = 48, roi_op: str = "align"):
        super().__init__()
        self.stride, self.pool, self.K = stride, pool, num_classes + 1
        self.batch_per_image, self.roi_op = batch_per_image, roi_op
        self.fc = nn.Sequential(nn.Flatten(), nn.Linear(channels * pool * pool, hidden),
                                nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU())
        self.cls, self.box = class_and_box_heads(hidden, self.K)

    def pool_features(self, feat, rois: np.ndarray):
        if self.roi_op == "pool":
            from .ops import roi_pool

            return roi_pool(feat, rois, self.pool, 1.0 / self.stride)
        return roi_align(feat, rois, self.pool, 1.0 / self.stride, sampling_ratio=2,
                         aligned=True)

    def forward(self, feat, rois: np.ndarray):
        """rois (R, 5) -> class logits (R, C + 1), offsets (R, C + 1, 4)."""
        h = self.fc(self.pool_features(feat, rois))
        return self.cls(h), self.box(h).reshape(-1, self.K, 4)

    def sample(self, proposals: list, batch) -> tuple:
        """Training RoIs: proposals plus the objects' own boxes, labelled by their best object
        (background below IoU 0.5), a quarter foreground at most."""
        rng = get_rng()
        rois, labels, targets, matched = [], [], [], []
        for n, props in enumerate(proposals):
            gt = batch.boxes[n].astype(np.float64)
            boxes = np.concatenate([props, gt], 0) if len(gt) else props
            lab = np.zeros(len(boxes), np.int64)
            match = np.zeros(len(boxes), np.int64)
            if len(gt):
                iou = box_iou(boxes, gt)
                match = iou.argmax(1)
                fg = iou.max(1) >= 0.5
                lab[fg] = batch.labels[n][match[fg]]
            pick = _sample(np.minimum(lab, 1), self.batch_per_image, 0.25, rng)
            rois.append(np.concatenate([np.full((len(pick), 1), n), boxes[pick]], 1))
            labels.append(lab[pick])
            matched.append(np.stack([np.full(len(pick), n), match[pick]], 1))
            t = np.zeros((len(pick), 4))
            if len(gt):
                t = encode_boxes(gt[match[pick]], boxes[pick], HEAD_WEIGHTS)
            targets.append(t)
        return (np.concatenate(rois), np.concatenate(labels), np.concatenate(targets),
                np.concatenate(matched))

    def loss(self, feat, rois, labels, targets):
        logits, deltas = self(feat, rois)
        dt = logits.dtype
        cls_loss = F.cross_entropy(logits, Tensor(labels))
        onehot = np.zeros((len(labels), self.K, 1), dt)
        onehot[np.arange(len(labels)), labels] = 1
        fg = (labels > 0).astype(dt)[:, None]
        chosen = (deltas * Tensor(onehot)).sum(1)  # each RoI's offsets for its own class
        reg = F.smooth_l1_loss(chosen * Tensor(fg), Tensor(targets.astype(dt) * fg),
                               reduction="sum") / max(len(labels), 1)
        return cls_loss, reg

    def detect(self, feat, proposals: list, size, score_threshold=0.05, iou_threshold=0.5,
               max_detections=100) -> list:
        """Final detections per image from its proposals."""
        H, W = size
        rois = np.concatenate([np.concatenate([np.full((len(p), 1), n), p], 1)
                               for n, p in enumerate(proposals)])
        logits, deltas = self(feat, rois)
        z = logits.array.astype(np.float64)
        prob = np.exp(z - z.max(1, keepdims=True))
        prob /= prob.sum(1, keepdims=True)
        d = deltas.array.astype(np.float64)
        out, start = [], 0
        for p in proposals:
            sl = slice(start, start + len(p))
            start += len(p)
            C = self.K - 1
            boxes = decode_boxes(d[sl, 1:].reshape(-1, 4), np.repeat(p, C, 0), HEAD_WEIGHTS)
            boxes[:, 0::2] = np.clip(boxes[:, 0::2], 0, W)
            boxes[:, 1::2] = np.clip(boxes[:, 1::2], 0, H)
            scores = prob[sl, 1:].reshape(-1)
            labels = np.tile(np.arange(1, C + 1), len(p))
            ok = np.flatnonzero(scores > score_threshold)
            out.append(select_detections(boxes[ok], scores[ok], labels[ok], iou_threshold,
                                max_detections))
        return out


class FasterRCNN(nn.Module):
    """Backbone (stride 4) -> RPN proposals -> RoI Align -> classes and boxes.

    Args:
        num_classes: object classes (the background is added).
        widths: backbone widths (default (16, 32, 64): stride 4, a 16x16 map at 64x64).
        anchor_sizes, aspect_ratios: the RPN's anchors.
    """

    @init.course_defaults()
    def __init__(self, num_classes: int = 3, widths=(16, 32, 64), anchor_sizes=(12, 18, 26),
                 aspect_ratios=(0.5, 1.0, 2.0), roi_op: str = "align"):
        super().__init__()
        self.backbone = Backbone(widths)
        c, s = self.backbone.out_channels, self.backbone.stride
        self.rpn = RegionProposalNetwork(c, s, anchor_sizes, aspect_ratios)
        self.roi_head = RoIHead(c, s, num_classes, roi_op=roi_op)

    def _proposals(self, feat, size, images=None):
        obj, deltas, anchors = self.rpn(feat)
        props = self.rpn.proposals(obj.array, deltas.array, anchors, size)
        return obj, deltas, anchors, props

    def loss(self, images, batch):
        feat = self.backbone(images)
        size = images.shape[-2:]
        obj, deltas, anchors, props = self._proposals(feat, size, images.array)
        rpn_obj, rpn_reg = self.rpn.loss(obj, deltas, anchors, batch.boxes)
        rois, labels, targets, matched = self.roi_head.sample(props, batch)
        cls, reg = self.roi_head.loss(feat, rois, labels, targets)
        total = rpn_obj + rpn_reg + cls + reg
        parts = {"rpn_objectness": rpn_obj.item(), "rpn_box": rpn_reg.item(),
                 "classifier": cls.item(), "box": reg.item()}
        extra = self._extra_loss(feat, rois, labels, matched, batch)
        if extra is not None:
            total = total + extra
            parts["mask"] = extra.item()
        return total, parts

    def _extra_loss(self, feat, rois, labels, matched, batch):
        return None

    def predict(self, images: np.ndarray, batch_size: int = 32, score_threshold: float = 0.05,
                iou_threshold: float = 0.5, max_detections: int = 30) -> list[dict]:
        """Detections per image: ``boxes`` (k, 4), ``scores``, ``labels`` (1..C)."""
        self.eval()
        out = []
        with no_grad():
            for lo in range(0, len(images), batch_size):
                x = Tensor(images[lo:lo + batch_size])
                feat = self.backbone(x)
                _, _, _, props = self._proposals(feat, x.shape[-2:], x.array)
                dets = self.roi_head.detect(feat, props, x.shape[-2:], score_threshold,
                                            iou_threshold, max_detections)
                self._add_masks(feat, dets, x.shape[-2:])
                out += dets
        return out

    def _add_masks(self, feat, dets, size):
        pass


class FastRCNN(FasterRCNN):
    """Fast R-CNN: the RoI head of Faster R-CNN on one shared feature map, with proposals from
    outside the network (selective search by default) instead of an RPN; two losses.

    Args:
        proposer: ``proposer(image (3, H, W)) -> (k, 4)`` boxes, default
            :func:`striate.detect.proposals.selective_search`.
    """

    @init.course_defaults()
    def __init__(self, num_classes: int = 3, widths=(16, 32, 64), proposer=None,
                 roi_op: str = "pool"):
        nn.Module.__init__(self)
        self.backbone = Backbone(widths)
        c, s = self.backbone.out_channels, self.backbone.stride
        self.roi_head = RoIHead(c, s, num_classes, roi_op=roi_op)
        self._use_proposer(proposer)

    def _use_proposer(self, proposer) -> None:
        """Proposals from ``proposer`` (selective search by default), computed once per image."""
        if proposer is None:
            from .proposals import selective_search as proposer
        self.proposer = proposer
        self._cache = {}

    def _proposals(self, feat, size, images=None):
        props = []
        for img in images:
            key = hash(img.tobytes())
            if key not in self._cache:
                self._cache[key] = self.proposer(img)
            props.append(self._cache[key])
        return None, None, None, props

    def loss(self, images, batch):
        feat = self.backbone(images)
        _, _, _, props = self._proposals(feat, images.shape[-2:], images.array)
        rois, labels, targets, _ = self.roi_head.sample(props, batch)
        cls, reg = self.roi_head.loss(feat, rois, labels, targets)
        return cls + reg, {"classifier": cls.item(), "box": reg.item()}


class MaskRCNN(FasterRCNN):
    """Faster R-CNN plus Mask R-CNN's mask head: RoI Align (14x14) on the foreground RoIs, two 3x3
    convolutions, and one mask logit map per class; the loss is the per-pixel binary
    cross-entropy of the RoI's own class's map against the object's mask resampled into the RoI
    (RoI Align applied to the mask itself)."""

    @init.course_defaults()
    def __init__(self, num_classes: int = 3, widths=(16, 32, 64), anchor_sizes=(12, 18, 26),
                 aspect_ratios=(0.5, 1.0, 2.0), mask_size: int = 14):
        super().__init__(num_classes, widths, anchor_sizes, aspect_ratios)
        c = self.backbone.out_channels
        self.mask_size = mask_size
        self.mask_head = nn.Sequential(nn.Conv2d(c, c, 3, padding=1), nn.ReLU(),
                                       nn.Conv2d(c, c, 3, padding=1), nn.ReLU(),
                                       nn.Conv2d(c, num_classes, 1))

    def _mask_logits(self, feat, rois):
        x = roi_align(feat, rois, self.mask_size, 1.0 / self.backbone.stride, 2, aligned=True)
        return self.mask_head(x)

    def _extra_loss(self, feat, rois, labels, matched, batch):
        fg = np.flatnonzero(labels > 0)
        if not len(fg):
            return None
        logits = self._mask_logits(feat, rois[fg])  # (F, C, m, m)
        # the target: each object's mask, bilinearly resampled into its RoI's grid
        # all objects' masks as one batch of 1-channel images; each RoI reads its own object's
        first = np.cumsum([0] + [len(m) for m in batch.instance_masks])
        masks = np.concatenate(batch.instance_masks).astype(np.float32)[:, None]
        which = first[matched[fg, 0]] + matched[fg, 1]
        boxes = np.concatenate([which[:, None], rois[fg, 1:]], 1)
        targets = roi_align(Tensor(masks), boxes, self.mask_size, 1.0, 2, True).array[:, 0]
        dt = logits.dtype
        onehot = np.zeros((len(fg), logits.shape[1], 1, 1), dt)
        onehot[np.arange(len(fg)), labels[fg] - 1] = 1
        chosen = (logits * Tensor(onehot)).sum(1)
        return F.binary_cross_entropy_with_logits(chosen, Tensor((targets >= 0.5).astype(dt)))

    def _add_masks(self, feat, dets, size):
        H, W = size
        rois = [np.concatenate([np.full((len(d["boxes"]), 1), n), d["boxes"]], 1)
                for n, d in enumerate(dets)]
        rois = np.concatenate(rois) if rois else np.zeros((0, 5))
        if not len(rois):
            for d in dets:
                d["masks"] = np.zeros((0, H, W), bool)
            return
        logits = self._mask_logits(feat, rois).array
        labels = np.concatenate([d["labels"] for d in dets])
        probs = 1 / (1 + np.exp(-logits[np.arange(len(rois)), labels - 1]))
        k = 0
        for d in dets:
            d["masks"] = np.stack([paste_mask(probs[k + j], b, H, W) >= 0.5
                                   for j, b in enumerate(d["boxes"])]) if len(d["boxes"]) \
                else np.zeros((0, H, W), bool)
            k += len(d["boxes"])


def paste_mask(mask: np.ndarray, box, H: int, W: int) -> np.ndarray:
    """An (m, m) mask over ``box`` -> an (H, W) image: each pixel centre inside the box reads the
    mask bilinearly at its position."""
    m = mask.shape[0]
    x1, y1, x2, y2 = (float(v) for v in box)
    ys = (np.arange(H) + 0.5 - y1) / max(y2 - y1, 1e-6) * m - 0.5
    xs = (np.arange(W) + 0.5 - x1) / max(x2 - x1, 1e-6) * m - 0.5

    def weights(pos):
        inside = (pos >= -0.5) & (pos <= m - 0.5)
        p = np.clip(pos, 0, m - 1)
        lo = np.minimum(np.floor(p).astype(int), m - 2 if m > 1 else 0)
        f = p - lo
        A = np.zeros((len(pos), m))
        r = np.arange(len(pos))
        A[r, lo] += (1 - f) * inside
        A[r, np.minimum(lo + 1, m - 1)] += f * inside
        return A

    return weights(ys) @ mask @ weights(xs).T


class _WarpHead(RoIHead):
    """R-CNN's per-region network: each proposal is cut out of the *image* and warped to the
    size whose features match Fast R-CNN's pooled grid (``pool`` x the backbone's stride;
    bilinear resampling, RoI Align on the pixels), then the same backbone and the same head as
    Fast R-CNN run on it: the only difference between the two is what is shared."""

    def __init__(self, num_classes: int, widths=(16, 32, 64), pool: int = 7):
        net = Backbone(widths)
        super().__init__(net.out_channels, 1, num_classes, pool)
        self.net, self.warp = net, pool * net.stride

    def pool_features(self, images, rois):
        crops = roi_align(images, rois, self.warp, 1.0, sampling_ratio=2, aligned=True)
        return self.net(crops)  # (R, C, pool, pool): one backbone pass per region


class RCNN(FastRCNN):
    """R-CNN (Girshick et al. 2014): selective-search proposals, each warped to a fixed size and
    run through the whole network, then class scores and per-class box regression. It is Fast
    R-CNN's network with nothing shared between the ~80 proposals of an image: the backbone runs
    once per proposal instead of once per image, which is the cost Fast R-CNN (one shared
    feature map) and Faster R-CNN (proposals from that map too) removed.

    Args:
        widths: the backbone's widths (Fast R-CNN's by default).
        proposer: as :class:`FastRCNN`'s.
    """

    @init.course_defaults()
    def __init__(self, num_classes: int = 3, widths=(16, 32, 64), proposer=None):
        nn.Module.__init__(self)
        self.backbone = nn.Identity()
        self.roi_head = _WarpHead(num_classes, widths)
        self._use_proposer(proposer)


class SlidingWindowDetector(RCNN):
    """The baseline before proposals: a CNN classifies every window of a dense multi-scale grid
    (:func:`striate.detect.proposals.sliding_windows`, about 400 per 64x64 image) as one of the
    classes or background, then NMS. It is R-CNN with the grid in place of selective search:
    every window costs a CNN pass."""

    @init.course_defaults()
    def __init__(self, num_classes: int = 3, widths=(16, 32, 64), sizes=(12, 18, 26),
                 stride: int = 4):
        from .proposals import sliding_windows

        super().__init__(num_classes, widths,
                         proposer=lambda image: sliding_windows(image, sizes, stride))
