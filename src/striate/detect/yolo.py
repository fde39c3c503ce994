"""YOLO (Redmon et al. 2016, v1): one network pass predicts every box at once.

The image is divided into an S x S grid; each cell predicts B boxes, each as (x, y, sqrt w,
sqrt h, confidence), and one set of C class scores, so the network's output is one tensor
(N, S, S, 5B + C). ``x, y`` are the box centre's offset inside the cell, ``w, h`` fractions of the
image (their square roots are predicted, so an error on a small box costs more), all squashed to
(0, 1) by a sigmoid; the confidence estimates the IoU of the box with an object.

The loss (the paper's sum of squares, classes by cross-entropy): the cell that holds an object's
centre is responsible for it, and of its B predictors the one whose box overlaps the object most
learns the coordinates (weight ``lambda_coord`` = 5) and a confidence target equal to that IoU;
every other predictor learns confidence 0 (weight ``lambda_noobj`` = 0.5).
"""

from __future__ import annotations

import numpy as np

from .. import nn
from ..autograd.grad_mode import no_grad
from ..autograd.tensor import Tensor
from ..nn import functional as F  # noqa: N812
from ..nn import init
from .ops import batched_nms, box_iou

__all__ = ["YOLO", "Backbone"]


def conv_block(c_in: int, c_out: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out),
                         nn.LeakyReLU(0.1))


class Backbone(nn.Module):
    """A small VGG-style feature extractor: per width, a 3x3 conv block, and a 2x2 max pool between
    widths; the stride is 2^(len(widths) - 1)."""

    @init.course_defaults()
    def __init__(self, widths=(16, 32, 64, 128), in_channels: int = 3):
        super().__init__()
        layers, c = [], in_channels
        for i, w in enumerate(widths):
            if i:
                layers.append(nn.MaxPool2d(2))
            layers += [conv_block(c, w)]
            c = w
        self.features = nn.Sequential(*layers)
        self.out_channels = c
        self.stride = 2 ** (len(widths) - 1)

    def forward(self, x):
        return self.features(x)


class YOLO(nn.Module):
    """YOLOv1 on a small backbone.

    Args:
        num_classes: object classes C (the background is not a class here).
        image_size: input side; the grid is S = image_size / backbone stride.
        boxes_per_cell: B.
        widths: the backbone's widths (default (16, 32, 64, 128): stride 8, an 8x8 grid at 64).
    """

    @init.course_defaults()
    def __init__(self, num_classes: int = 3, image_size: int = 64, boxes_per_cell: int = 2,
                 widths=(16, 32, 64, 128), lambda_coord: float = 5.0, lambda_noobj: float = 0.5):
        super().__init__()
        self.backbone = Backbone(widths)
        self.S = image_size // self.backbone.stride
        self.B, self.C = int(boxes_per_cell), int(num_classes)
        self.image_size = int(image_size)
        self.lambda_coord, self.lambda_noobj = lambda_coord, lambda_noobj
        c = self.backbone.out_channels
        self.head = nn.Sequential(conv_block(c, c), nn.Conv2d(c, 5 * self.B + self.C, 1))

    def forward(self, x):
        """(N, 3, H, W) -> (N, S, S, 5B + C), the raw (pre-sigmoid) predictions."""
        return self.head(self.backbone(x)).permute(0, 2, 3, 1)

    def _decode(self, raw: np.ndarray) -> np.ndarray:
        """(..., S, S, B, 5) raw predictions -> xyxy boxes in pixels (..., S, S, B, 4)."""
        S, size = self.S, self.image_size
        p = 1 / (1 + np.exp(-raw[..., :4]))
        j = np.arange(S)[None, :, None]  # column (x)
        i = np.arange(S)[:, None, None]  # row (y)
        cx, cy = (j + p[..., 0]) / S * size, (i + p[..., 1]) / S * size
        w, h = p[..., 2] ** 2 * size, p[..., 3] ** 2 * size
        return np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], -1)

    def targets(self, raw: np.ndarray, batch):
        """Responsibility masks and targets from the current predictions (no gradient)."""
        N, S, B, size = len(raw), self.S, self.B, self.image_size
        boxes = self._decode(raw[..., :5 * B].reshape(N, S, S, B, 5))
        resp = np.zeros((N, S, S, B), bool)
        txy = np.zeros((N, S, S, B, 2))
        twh = np.zeros((N, S, S, B, 2))
        tconf = np.zeros((N, S, S, B))
        cls = np.full((N, S, S), -100, np.int64)  # ignored cells
        for n in range(N):
            gt = batch.boxes[n].astype(np.float64)
            if not len(gt):
                continue
            cx, cy = (gt[:, 0] + gt[:, 2]) / 2, (gt[:, 1] + gt[:, 3]) / 2
            col = np.clip((cx / size * S).astype(int), 0, S - 1)
            row = np.clip((cy / size * S).astype(int), 0, S - 1)
            for k in range(len(gt)):  # objects of one image: a handful
                r, c = row[k], col[k]
                ious = box_iou(boxes[n, r, c], gt[k:k + 1])[:, 0]
                b = int(np.argmax(ious))
                resp[n, r, c] = False
                resp[n, r, c, b] = True
                txy[n, r, c, b] = [cx[k] / size * S - c, cy[k] / size * S - r]
                twh[n, r, c, b] = np.sqrt([(gt[k, 2] - gt[k, 0]) / size,
                                           (gt[k, 3] - gt[k, 1]) / size])
                tconf[n, r, c, b] = ious[b]
                cls[n, r, c] = batch.labels[n][k] - 1
        return resp, txy, twh, tconf, cls

    def loss(self, images, batch):
        """YOLO's loss, summed over the grid and averaged over images; parts in the dict."""
        out = self(images)
        N, S, B, C = out.shape[0], self.S, self.B, self.C
        resp, txy, twh, tconf, cls = self.targets(out.array, batch)
        dt = out.dtype
        box = out[..., :5 * B].reshape(N, S, S, B, 5).sigmoid()
        m = Tensor(resp[..., None].astype(dt))
        coord = (((box[..., :2] - Tensor(txy.astype(dt))) ** 2 * m).sum()
                 + ((box[..., 2:4] - Tensor(twh.astype(dt))) ** 2 * m).sum())
        conf = box[..., 4]
        r = Tensor(resp.astype(dt))
        obj = ((conf - Tensor(tconf.astype(dt))) ** 2 * r).sum()
        noobj = (conf ** 2 * (1 - r)).sum()
        logits = out[..., 5 * B:].reshape(N * S * S, C)
        klass = F.cross_entropy(logits, Tensor(cls.reshape(-1)), reduction="sum")
        total = (self.lambda_coord * coord + obj + self.lambda_noobj * noobj + klass) / N
        return total, {"coord": coord.item() / N, "conf_obj": obj.item() / N,
                       "conf_noobj": noobj.item() / N, "class": klass.item() / N}

    def predict(self, images: np.ndarray, score_threshold: float = 0.01,
                iou_threshold: float = 0.5, max_detections: int = 30,
                batch_size: int = 64) -> list[dict]:
        """Detections per image: ``boxes`` (k, 4), ``scores`` (confidence x class probability),
        ``labels`` (1..C), after class-wise NMS."""
        self.eval()
        B, C, S = self.B, self.C, self.S
        results = []
        with no_grad():
            for lo in range(0, len(images), batch_size):
                raw = self(Tensor(images[lo:lo + batch_size])).array.astype(np.float64)
                n = len(raw)
                boxes = self._decode(raw[..., :5 * B].reshape(n, S, S, B, 5))
                conf = 1 / (1 + np.exp(-raw[..., 4:5 * B:5]))  # (n, S, S, B)
                z = raw[..., 5 * B:]
                prob = np.exp(z - z.max(-1, keepdims=True))
                prob /= prob.sum(-1, keepdims=True)
                scores = conf[..., None] * prob[..., None, :]  # (n, S, S, B, C)
                for k in range(n):
                    s = scores[k].reshape(-1, C)
                    bx = np.clip(boxes[k].reshape(-1, 4), 0, self.image_size)
                    idx, lab = np.nonzero(s > score_threshold)
                    results.append(select_detections(bx[idx], s[idx, lab], lab + 1, iou_threshold,
                                            max_detections))
        return results


def select_detections(boxes, scores, labels, iou_threshold, max_detections, pre_nms=200) -> dict:
    """Class-wise NMS on the ``pre_nms`` best candidates (NMS is quadratic in their number)."""
    top = np.argsort(-scores, kind="stable")[:pre_nms]
    boxes, scores, labels = boxes[top], scores[top], labels[top]
    keep = batched_nms(boxes, scores, labels, iou_threshold)[:max_detections]
    return {"boxes": boxes[keep].astype(np.float32), "scores": scores[keep].astype(np.float32),
            "labels": labels[keep].astype(np.int64)}
