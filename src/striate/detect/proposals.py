"""Region proposals without learning: selective search (Uijlings et al. 2013) in brief.

The image is over-segmented into superpixels (scikit-image's ``felzenszwalb`` graph segmentation,
at a few scales); then, repeatedly, the two most similar *adjacent* regions merge (similar colour
histograms, both small, and filling their joint box well), and the box of every region ever
formed is a proposal. Objects are unions of superpixels, so some merge step usually yields each
object's box. This is the proposal method R-CNN and Fast R-CNN were built on.
"""

from __future__ import annotations

import numpy as np

__all__ = ["selective_search", "superpixels"]


def _felzenszwalb():
    try:
        from skimage.segmentation import felzenszwalb
    except ImportError:
        raise ImportError('selective_search needs scikit-image: pip install "striate[images]"') \
            from None
    return felzenszwalb


def superpixels(image: np.ndarray, scale: float = 100, sigma: float = 0.5,
                min_size: int = 10) -> np.ndarray:
    """(H, W) integer labels 0..R-1 of a (3, H, W) image's Felzenszwalb superpixels."""
    img = np.asarray(image, np.float64).transpose(1, 2, 0)
    return _felzenszwalb()(img, scale=scale, sigma=sigma, min_size=min_size)


def _histograms(image: np.ndarray, seg: np.ndarray, n: int, bins: int = 8) -> np.ndarray:
    """(n, 3 * bins) L1-normalised colour histograms of the regions, one bincount per channel."""
    q = np.clip((image * bins).astype(int), 0, bins - 1)  # (3, H, W)
    h = np.stack([np.bincount(seg.ravel() * bins + q[c].ravel(), minlength=n * bins)
                  .reshape(n, bins) for c in range(3)], 1).reshape(n, -1).astype(np.float64)
    return h / np.maximum(h.sum(1, keepdims=True), 1)


def _group(image: np.ndarray, seg: np.ndarray) -> list:
    """Boxes of the initial regions and of every region formed by greedy merging."""
    H, W = seg.shape
    n = int(seg.max()) + 1
    ys, xs = np.mgrid[0:H, 0:W]
    size = np.bincount(seg.ravel(), minlength=n).astype(np.float64)
    box = np.stack([np.full(n, W), np.full(n, H), np.zeros(n), np.zeros(n)], 1).astype(float)
    np.minimum.at(box[:, 0], seg.ravel(), xs.ravel())
    np.minimum.at(box[:, 1], seg.ravel(), ys.ravel())
    np.maximum.at(box[:, 2], seg.ravel(), xs.ravel() + 1)
    np.maximum.at(box[:, 3], seg.ravel(), ys.ravel() + 1)
    hist = _histograms(image, seg, n)
    # adjacency from horizontally and vertically neighbouring pixels of different regions
    pairs = np.concatenate([np.stack([seg[:, :-1].ravel(), seg[:, 1:].ravel()], 1),
                            np.stack([seg[:-1].ravel(), seg[1:].ravel()], 1)])
    pairs = np.unique(np.sort(pairs[pairs[:, 0] != pairs[:, 1]], 1), axis=0)
    regions = {i: (size[i], box[i], hist[i]) for i in range(n)}
    neighbours = {i: set() for i in range(n)}
    for a, b in pairs:
        neighbours[a].add(b)
        neighbours[b].add(a)
    area = float(H * W)

    def similarity(a, b):
        (sa, ba, ha), (sb, bb, hb) = regions[a], regions[b]
        joint = (max(ba[2], bb[2]) - min(ba[0], bb[0])) * (max(ba[3], bb[3]) - min(ba[1], bb[1]))
        return (np.minimum(ha, hb).sum() / 3 + (1 - (sa + sb) / area)
                + (1 - (joint - sa - sb) / area))

    sims = {(a, b): similarity(a, b) for a, b in map(tuple, pairs)}
    out = [regions[i][1].copy() for i in range(n)]
    nxt = n
    while sims:
        a, b = max(sims, key=sims.get)
        (sa, ba, ha), (sb, bb, hb) = regions.pop(a), regions.pop(b)
        new_box = np.array([min(ba[0], bb[0]), min(ba[1], bb[1]), max(ba[2], bb[2]),
                            max(ba[3], bb[3])])
        regions[nxt] = (sa + sb, new_box, (sa * ha + sb * hb) / (sa + sb))
        out.append(new_box)
        near = (neighbours.pop(a) | neighbours.pop(b)) - {a, b}
        sims = {k: v for k, v in sims.items() if a not in k and b not in k}
        neighbours[nxt] = near
        for c in near:
            neighbours[c] -= {a, b}
            neighbours[c].add(nxt)
            sims[(c, nxt)] = similarity(c, nxt)
        nxt += 1
    return out


def selective_search(image: np.ndarray, scales=(50, 150, 400), max_proposals: int = 100,
                     min_side: float = 4.0) -> np.ndarray:
    """Proposals (k, 4) xyxy for one (3, H, W) image in [0, 1], smallest regions first within
    each scale's hierarchy, duplicates removed, at most ``max_proposals``.

    Raises:
        ImportError with the install line when scikit-image is missing.
    """
    boxes = []
    for scale in scales:
        boxes += _group(np.asarray(image, np.float64), superpixels(image, scale))
    b = np.asarray(boxes, np.float64).reshape(-1, 4)
    ok = ((b[:, 2] - b[:, 0]) >= min_side) & ((b[:, 3] - b[:, 1]) >= min_side)
    b = b[ok]
    _, first = np.unique(b, axis=0, return_index=True)
    b = b[np.sort(first)]
    if len(b) > max_proposals:  # keep a spread over the hierarchy, not only the first merges
        b = b[np.linspace(0, len(b) - 1, max_proposals).astype(int)]
    return b


def sliding_windows(image: np.ndarray, sizes=(12, 18, 26), stride: int = 4) -> np.ndarray:
    """Every square window of each side in ``sizes`` at steps of ``stride`` pixels: the
    exhaustive "proposals" of a sliding-window detector (hundreds per image, whatever it shows)."""
    H, W = np.asarray(image).shape[-2:]
    out = []
    for s in sizes:
        ys, xs = np.meshgrid(np.arange(0, H - s + 1, stride), np.arange(0, W - s + 1, stride),
                             indexing="ij")
        xy = np.stack([xs.ravel(), ys.ravel()], 1).astype(np.float64)
        out.append(np.concatenate([xy, xy + s], 1))
    return np.concatenate(out)
