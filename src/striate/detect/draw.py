"""Drawing boxes, labels and masks over images: :func:`overlay` paints masks and box outlines
into an RGB array (NumPy only); :func:`save_grid` lays images out in a PNG with matplotlib and
writes the class names and scores beside the boxes; :func:`save_keypoints` draws joints and
the bones between them."""

from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = ["PALETTE", "overlay", "save_grid", "save_keypoints", "to_hwc"]

#: one colour per label (0, the background, is never drawn)
PALETTE = np.array([[0, 0, 0], [1.0, 0.2, 0.2], [0.2, 0.9, 0.2], [0.3, 0.5, 1.0],
                    [1.0, 0.9, 0.1], [1.0, 0.3, 1.0], [0.1, 1.0, 1.0], [1.0, 0.6, 0.1],
                    [0.6, 0.3, 1.0], [0.6, 1.0, 0.6]])


def _colour(label: int) -> np.ndarray:
    return PALETTE[1 + (int(label) - 1) % (len(PALETTE) - 1)] if label > 0 else PALETTE[0]


def to_hwc(image: np.ndarray) -> np.ndarray:
    """(3, H, W) or (H, W, 3) or (H, W), any range -> (H, W, 3) float in [0, 1]."""
    a = np.asarray(image, np.float64)
    if a.ndim == 2:
        a = np.repeat(a[..., None], 3, -1)
    elif a.ndim == 3 and a.shape[0] in (1, 3) and a.shape[-1] not in (1, 3):
        a = a.transpose(1, 2, 0)
    if a.shape[-1] == 1:
        a = np.repeat(a, 3, -1)
    if a.max(initial=0) > 1.0:
        a = a / 255.0
    return np.clip(a, 0, 1)


def overlay(image, boxes=None, labels=None, masks=None, semantic=None,
            alpha: float = 0.45) -> np.ndarray:
    """The image (H, W, 3) in [0, 1] with masks blended in and 1-pixel box outlines, each in its
    label's colour.

    Args:
        image: (3, H, W) or (H, W, 3).
        boxes: (k, 4) xyxy; labels: (k,) (colours; default 1).
        masks: (k, H, W) bool instance masks, coloured by ``labels``.
        semantic: (H, W) label map (0 is left alone).
    """
    out = to_hwc(image).copy()
    H, W = out.shape[:2]
    k = 0 if boxes is None else len(boxes)
    labels = np.ones(max(k, 0 if masks is None else len(masks)), int) if labels is None \
        else np.asarray(labels)
    if semantic is not None:
        sem = np.asarray(semantic)
        colours = np.array([_colour(c) for c in range(int(sem.max(initial=0)) + 1)])
        fg = (sem > 0)[..., None]
        out = np.where(fg, (1 - alpha) * out + alpha * colours[sem], out)
    if masks is not None:
        for m, lab in zip(np.asarray(masks, bool), labels):
            out[m] = (1 - alpha) * out[m] + alpha * _colour(lab)
    if boxes is not None:
        for b, lab in zip(np.asarray(boxes, np.float64), labels):
            x1, y1 = int(np.clip(np.floor(b[0]), 0, W - 1)), int(np.clip(np.floor(b[1]), 0, H - 1))
            x2 = int(np.clip(np.ceil(b[2]) - 1, 0, W - 1))
            y2 = int(np.clip(np.ceil(b[3]) - 1, 0, H - 1))
            c = _colour(lab)
            out[y1, x1:x2 + 1] = c
            out[y2, x1:x2 + 1] = c
            out[y1:y2 + 1, x1] = c
            out[y1:y2 + 1, x2] = c
    return out


def _grid(n: int, ncols: int, scale: float, titles):
    """A figure of ``n`` panels, ``ncols`` to a row, and its axes in order."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    ncols = max(1, min(ncols, n))
    nrows = (n + ncols - 1) // ncols
    fig = Figure(figsize=(scale * ncols, scale * nrows + (0.3 if titles else 0)))
    FigureCanvasAgg(fig)
    return fig, [fig.add_subplot(nrows, ncols, i + 1) for i in range(n)]


def _save(fig, path) -> Path:
    fig.tight_layout(pad=0.3)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=80)
    return path


def save_grid(path, images, predictions=None, classes=None, titles=None, ncols: int = 6,
              scale: float = 2.0, score_threshold: float = 0.0) -> Path:
    """Write a PNG grid of images with their boxes (labelled with class and score) and masks.

    Args:
        path: the PNG file.
        images: a sequence of (3, H, W) / (H, W, 3) images.
        predictions: one dict per image with any of ``boxes``, ``labels``, ``scores``, ``masks``,
            ``semantic``; boxes scoring below ``score_threshold`` are left out.
        classes: names by label (label 0 is the background).
        titles: one line above each image.
    """
    fig, axes = _grid(len(images), ncols, scale, titles)
    for i, ax in enumerate(axes):
        p = dict(predictions[i]) if predictions is not None else {}
        keep = slice(None)
        if "scores" in p and score_threshold > 0:
            keep = np.asarray(p["scores"]) >= score_threshold
        boxes = None if p.get("boxes") is None else np.asarray(p["boxes"])[keep]
        labels = None if p.get("labels") is None else np.asarray(p["labels"])[keep]
        masks = None if p.get("masks") is None else np.asarray(p["masks"])[keep]
        ax.imshow(overlay(images[i], boxes, labels, masks, p.get("semantic")),
                  interpolation="nearest")
        if boxes is not None:
            scores = None if p.get("scores") is None else np.asarray(p["scores"])[keep]
            for j, b in enumerate(boxes):
                lab = int(labels[j]) if labels is not None else 1
                name = classes[lab] if classes is not None and lab < len(classes) else str(lab)
                text = name if scores is None else f"{name} {scores[j]:.2f}"
                ax.text(b[0], b[1] - 0.5, text, fontsize=6, color="white", va="bottom",
                        bbox={"facecolor": _colour(lab), "alpha": 0.7, "pad": 0.5,
                              "linewidth": 0})
        if titles is not None:
            ax.set_title(titles[i], fontsize=7)
        ax.axis("off")
    return _save(fig, path)


def save_keypoints(path, images, joints, bones=(), ncols: int = 6, scale: float = 2.0,
                   titles=None) -> Path:
    """Write a PNG grid of images with their joints (yellow dots) and bones (red lines).

    Args:
        path: the PNG file.
        images: a sequence of (3, H, W) / (H, W, 3) images.
        joints: one (J, 2) array of (x, y) pixel positions per image (pixel corners at integers,
            as the boxes here).
        bones: pairs of joint indices to join with a line.
        titles: one line above each image.
    """
    fig, axes = _grid(len(images), ncols, scale, titles)
    for i, ax in enumerate(axes):
        img = to_hwc(images[i])
        ax.imshow(img, interpolation="nearest")
        j = np.asarray(joints[i], np.float64) - 0.5  # imshow puts pixel centres at integers
        for a, b in bones:
            ax.plot(j[[a, b], 0], j[[a, b], 1], "r-", lw=1)
        ax.plot(j[:, 0], j[:, 1], "y.", ms=3)
        ax.set_xlim(-0.5, img.shape[1] - 0.5)  # a joint off the image does not widen the plot
        ax.set_ylim(img.shape[0] - 0.5, -0.5)
        if titles is not None:
            ax.set_title(titles[i], fontsize=7)
        ax.axis("off")
    return _save(fig, path)
