"""SSD (Liu et al. 2016): single-shot detection from feature maps of several resolutions.

Every cell of each map carries default boxes (anchors) of the sizes that map is for (small ones
on the fine map, large ones on the coarse maps); a 3x3 conv head per map predicts, per default
box, C + 1 class scores (the background first) and 4 offsets. A default box is matched to the
object it overlaps most when that IoU is >= 0.5 (and each object to its best default box). Most
default boxes are background, so the classification loss keeps only the hardest negatives: per
image, the 3 x (number of positives) background boxes with the highest loss (hard negative
mining). Loss = (cross-entropy of positives and mined negatives + smooth L1 of the positives'
offsets) / number of positives.
"""

from __future__ import annotations

import numpy as np

from .. import nn
from ..autograd.grad_mode import no_grad
from ..autograd.tensor import Tensor
from ..nn import functional as F  # noqa: N812
from ..nn import init
from .ops import anchor_grid, batched_nms, box_iou, decode_boxes, encode_boxes
from .yolo import Backbone, conv_block

__all__ = ["SSD"]

WEIGHTS = (10.0, 10.0, 5.0, 5.0)
PRE_NMS = 200  # candidates per image kept for non-maximum suppression


class SSD(nn.Module):
    """SSD with three scales on a small backbone: strides 4, 8 and 16 (16x16, 8x8 and 4x4 maps at
    64x64), default boxes of sizes ``sizes[k]`` and ratios 1/2, 1, 2 on map k.

    Args:
        num_classes: object classes (the background is added).
        sizes: per map, the default boxes' sides in pixels.
        neg_pos_ratio: mined negatives per positive.
    """

    @init.course_defaults()
    def __init__(self, num_classes: int = 3, widths=(16, 32, 64), extra=(96, 128),
                 sizes=((10, 14), (20, 28), (36, 48)), aspect_ratios=(0.5, 1.0, 2.0),
                 neg_pos_ratio: float = 3.0):
        super().__init__()
        self.backbone = Backbone(widths)
        self.extra = nn.ModuleList()
        c = self.backbone.out_channels
        channels = [c]
        for w in extra:
            self.extra.append(nn.Sequential(nn.MaxPool2d(2), conv_block(c, w)))
            c = w
            channels.append(c)
        self.sizes, self.ratios = tuple(tuple(s) for s in sizes), tuple(aspect_ratios)
        self.A = len(self.ratios) * len(self.sizes[0])
        self.K = num_classes + 1
        self.cls_heads = nn.ModuleList([nn.Conv2d(ch, self.A * self.K, 3, padding=1)
                                        for ch in channels])
        self.box_heads = nn.ModuleList([nn.Conv2d(ch, self.A * 4, 3, padding=1)
                                        for ch in channels])
        self.neg_pos_ratio = neg_pos_ratio
        self._anchors = {}

    def anchors(self, shapes) -> np.ndarray:
        key = tuple(shapes)
        if key not in self._anchors:
            stride = self.backbone.stride
            self._anchors[key] = np.concatenate([
                anchor_grid(hw, stride * 2 ** k, self.sizes[k], self.ratios)
                for k, hw in enumerate(shapes)])
        return self._anchors[key]

    def forward(self, x):
        """-> class logits (N, D, C + 1), offsets (N, D, 4), default boxes (D, 4)."""
        N = x.shape[0]
        f = self.backbone(x)
        maps = [f]
        for layer in self.extra:
            f = layer(f)
            maps.append(f)
        from ..ops import cat

        logits = cat([h(m).permute(0, 2, 3, 1).reshape(N, -1, self.K)
                      for h, m in zip(self.cls_heads, maps)], 1)
        deltas = cat([h(m).permute(0, 2, 3, 1).reshape(N, -1, 4)
                      for h, m in zip(self.box_heads, maps)], 1)
        return logits, deltas, self.anchors([m.shape[-2:] for m in maps])

    def match(self, anchors, boxes, labels):
        """Per default box: label (0 background) and regression target."""
        lab = np.zeros(len(anchors), np.int64)
        t = np.zeros((len(anchors), 4))
        if len(boxes):
            gt = boxes.astype(np.float64)
            iou = box_iou(anchors, gt)
            match = iou.argmax(1)
            best = iou.max(1)
            match[iou.argmax(0)] = np.arange(len(gt))  # every object gets its best default box
            best[iou.argmax(0)] = 1.0
            pos = best >= 0.5
            lab[pos] = labels[match[pos]]
            t[pos] = encode_boxes(gt[match[pos]], anchors[pos], WEIGHTS)
        return lab, t

    def loss(self, images, batch):
        logits, deltas, anchors = self(images)
        N, D, K = logits.shape
        lab = np.zeros((N, D), np.int64)
        tgt = np.zeros((N, D, 4))
        for n in range(N):
            lab[n], tgt[n] = self.match(anchors, batch.boxes[n], batch.labels[n])
        ce = F.cross_entropy(logits.reshape(N * D, K), Tensor(lab.reshape(-1)),
                             reduction="none").reshape(N, D)
        # hard negative mining on the detached losses: the 3 x n_pos hardest background boxes
        loss_np = ce.array.copy()
        pos = lab > 0
        loss_np[pos] = -np.inf
        n_neg = np.minimum(self.neg_pos_ratio * np.maximum(pos.sum(1), 1), D - pos.sum(1))
        rank = np.argsort(np.argsort(-loss_np, 1, kind="stable"), 1, kind="stable")
        keep = pos | (rank < n_neg[:, None])
        n_pos = max(int(pos.sum()), 1)
        dt = logits.dtype
        cls = (ce * Tensor(keep.astype(dt))).sum() / n_pos
        m = Tensor(pos[..., None].astype(dt))
        box = F.smooth_l1_loss(deltas * m, Tensor(tgt.astype(dt)) * m, reduction="sum") / n_pos
        return cls + box, {"classifier": cls.item(), "box": box.item()}

    def predict(self, images: np.ndarray, score_threshold: float = 0.05,
                iou_threshold: float = 0.5, max_detections: int = 30,
                batch_size: int = 64) -> list[dict]:
        """Detections per image: ``boxes``, ``scores``, ``labels`` (1..C)."""
        self.eval()
        out = []
        H, W = images.shape[-2:]
        with no_grad():
            for lo in range(0, len(images), batch_size):
                logits, deltas, anchors = self(Tensor(images[lo:lo + batch_size]))
                z = logits.array.astype(np.float64)
                prob = np.exp(z - z.max(-1, keepdims=True))
                prob /= prob.sum(-1, keepdims=True)
                for n in range(len(z)):
                    boxes = decode_boxes(deltas.array[n].astype(np.float64), anchors, WEIGHTS)
                    boxes[:, 0::2] = np.clip(boxes[:, 0::2], 0, W)
                    boxes[:, 1::2] = np.clip(boxes[:, 1::2], 0, H)
                    idx, c = np.nonzero(prob[n, :, 1:] > score_threshold)
                    s = prob[n, idx, c + 1]
                    top = np.argsort(-s, kind="stable")[:PRE_NMS]  # NMS is quadratic
                    idx, c, s = idx[top], c[top], s[top]
                    keep = batched_nms(boxes[idx], s, c, iou_threshold)[:max_detections]
                    out.append({"boxes": boxes[idx][keep].astype(np.float32),
                                "scores": s[keep].astype(np.float32),
                                "labels": (c[keep] + 1).astype(np.int64)})
        return out
