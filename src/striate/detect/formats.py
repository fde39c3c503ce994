"""Readers for the two annotation formats detection data sets ship in: COCO's detection JSON
(boxes, categories, polygon and RLE masks) and Pascal VOC's per-image XML.

Both return one record per image, ``{"file_name", "width", "height", "boxes" (k, 4) xyxy float32,
"labels" (k,) int64, ...}``, with COCO's category ids (VOC's class names mapped to 1..C). A bad
file gives one :class:`AnnotationError` line naming the file and the entry: malformed JSON or XML,
a missing field, a box outside its image, a category that was not declared.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np

__all__ = ["AnnotationError", "read_coco", "read_voc", "polygon_to_mask", "rle_decode",
           "rle_encode", "rle_from_string", "rle_to_string", "voc_object_names", "VOC_CLASSES"]


class AnnotationError(ValueError):
    """A malformed annotation file or entry (the message names the file and the entry)."""


# ----------------------------------------------------------------------------- masks


def polygon_to_mask(polygons, height: int, width: int) -> np.ndarray:
    """A (height, width) bool mask of pixels whose centres lie inside any of COCO's polygons
    ``[[x1, y1, x2, y2, ...], ...]`` (even-odd rule, one vectorised pass per edge)."""
    yy, xx = np.mgrid[0:height, 0:width] + 0.5
    mask = np.zeros((height, width), bool)
    for poly in polygons:
        pts = np.asarray(poly, np.float64).reshape(-1, 2)
        inside = np.zeros((height, width), bool)
        for (x0, y0), (x1, y1) in zip(pts, np.roll(pts, -1, 0)):
            crosses = (y0 > yy) != (y1 > yy)
            with np.errstate(divide="ignore", invalid="ignore"):
                x_at = x0 + (yy - y0) * (x1 - x0) / (y1 - y0)
            inside ^= crosses & (xx < x_at)
        mask |= inside
    return mask


def rle_decode(counts, height: int, width: int) -> np.ndarray:
    """COCO's run-length encoding -> (height, width) bool mask. ``counts`` alternate runs of 0s
    and 1s (starting with 0s) over the pixels in column-major (Fortran) order."""
    counts = np.asarray(counts, np.int64)
    if counts.sum() != height * width:
        raise ValueError(f"RLE counts add up to {counts.sum()}, not {height}*{width} pixels")
    values = np.arange(len(counts)) % 2 == 1
    return np.repeat(values, counts).reshape(width, height).T


def rle_encode(mask: np.ndarray) -> list[int]:
    """(H, W) bool mask -> COCO's uncompressed RLE counts (column-major, starting with 0s)."""
    flat = np.asarray(mask, bool).T.ravel()
    change = np.flatnonzero(flat[1:] != flat[:-1]) + 1
    bounds = np.concatenate([[0], change, [flat.size]])
    runs = np.diff(bounds).tolist()
    return ([0] + runs) if flat.size and flat[0] else runs


def rle_from_string(s: str) -> list[int]:
    """COCO's compressed RLE string -> counts: each count is written in 5-bit groups (characters
    from '0' = 48, bit 0x20 = more groups follow, bit 0x10 of the last = negative), and from the
    third count on, as the difference from the count two places before."""
    counts, p = [], 0
    while p < len(s):
        x, k, more = 0, 0, True
        while more:
            if p >= len(s):
                raise ValueError("compressed RLE string ends inside a count")
            c = ord(s[p]) - 48
            x |= (c & 0x1F) << (5 * k)
            more = bool(c & 0x20)
            p += 1
            k += 1
            if not more and c & 0x10:
                x |= -1 << (5 * k)
        if len(counts) > 2:
            x += counts[-2]
        counts.append(x)
    return counts


def rle_to_string(counts) -> str:
    """Counts -> COCO's compressed RLE string (the inverse of :func:`rle_from_string`)."""
    out = []
    for i, x in enumerate(counts):
        x = int(x) - (int(counts[i - 2]) if i > 2 else 0)
        more = True
        while more:
            c = x & 0x1F
            x >>= 5
            more = not ((c & 0x10) == 0 and x == 0 or (c & 0x10) and x == -1)
            if more:
                c |= 0x20
            out.append(chr(c + 48))
    return "".join(out)


# ----------------------------------------------------------------------------- COCO


def _load_json(path: Path):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise AnnotationError(f"{path}: malformed JSON at line {e.lineno} column {e.colno}: "
                              f"{e.msg}") from None


def _need(entry: dict, key: str, path: Path, what: str):
    if not isinstance(entry, dict) or key not in entry:
        raise AnnotationError(f"{path}: {what} has no {key!r} field")
    return entry[key]


def _coco_mask(seg, h: int, w: int, path: Path, where: str, out=None) -> np.ndarray:
    """The (h, w) mask of one annotation, or, with ``out = (rows, cols)``, that mask sampled at
    the pixel centres of an image resized to ``out`` (polygons are scaled and drawn at that size,
    so a large image's full mask never exists)."""
    if isinstance(seg, list):
        if out is None:
            return polygon_to_mask(seg, h, w)
        sx, sy = out[1] / w, out[0] / h
        return polygon_to_mask([np.asarray(q, np.float64).reshape(-1, 2) * [sx, sy]
                                for q in seg], *out)
    if isinstance(seg, dict) and "counts" in seg:
        size = seg.get("size", [h, w])
        if list(size) != [h, w]:
            raise AnnotationError(f"{path}: {where}: RLE size {size} differs from the image's "
                                  f"{[h, w]}")
        counts = seg["counts"]
        try:
            if isinstance(counts, str):
                counts = rle_from_string(counts)
            mask = rle_decode(counts, h, w)
        except ValueError as e:
            raise AnnotationError(f"{path}: {where}: {e}") from None
        if out is None:
            return mask
        rows = ((np.arange(out[0]) + 0.5) * h / out[0]).astype(np.int64)
        cols = ((np.arange(out[1]) + 0.5) * w / out[1]).astype(np.int64)
        return mask[rows[:, None], cols[None, :]]
    raise AnnotationError(f"{path}: {where}: segmentation must be polygons or an RLE dict")


def read_coco(path, masks: bool = True, mask_size: tuple | None = None,
              max_images: int | None = None) -> dict:
    """Read a COCO detection/instances JSON file.

    Args:
        path: the annotations file (``instances_val2017.json`` and the like).
        masks: decode each annotation's ``segmentation`` (polygons, or RLE, compressed or not).
        mask_size: ``(rows, cols)`` to give every mask at that size (sampled at the resized
            image's pixel centres) instead of its image's: what a loader that resizes the
            images wants, without holding full-size masks for a whole data set.
        max_images: keep only the first this many entries of ``images`` (file order); the
            annotations of the others are checked for their image id only, not decoded.
    Returns:
        ``{"categories": {id: name}, "images": [record, ...]}``; each record has ``id``,
        ``file_name``, ``width``, ``height``, ``boxes`` (k, 4) xyxy, ``labels`` (k,) category
        ids, ``iscrowd`` (k,), ``annotation_ids`` (k,) and, with ``masks``, ``masks`` (k, H, W)
        bool (``mask_size`` when given) where every annotation of the image has a
        ``segmentation``.
    Raises:
        AnnotationError naming the file and the entry.
    """
    path = Path(path)
    data = _load_json(path)
    if not isinstance(data, dict):
        raise AnnotationError(f"{path}: expected a JSON object with 'images', 'annotations' and "
                              f"'categories', got {type(data).__name__}")
    cats = {}
    for k, c in enumerate(_need(data, "categories", path, "the file")):
        cid = _need(c, "id", path, f"categories[{k}]")
        cats[int(cid)] = str(_need(c, "name", path, f"category {cid}"))
    images, order = {}, []
    for k, im in enumerate(_need(data, "images", path, "the file")):
        iid = _need(im, "id", path, f"images[{k}]")
        rec = {"id": iid, "file_name": _need(im, "file_name", path, f"image {iid}"),
               "width": int(_need(im, "width", path, f"image {iid}")),
               "height": int(_need(im, "height", path, f"image {iid}")),
               "boxes": [], "labels": [], "iscrowd": [], "annotation_ids": [], "masks": []}
        images[iid] = rec
        order.append(iid)
    skipped = set(order[max_images:]) if max_images is not None else set()
    order = [iid for iid in order if iid not in skipped]
    for k, ann in enumerate(_need(data, "annotations", path, "the file")):
        aid = ann.get("id", k) if isinstance(ann, dict) else k
        where = f"annotation {aid}"
        iid = _need(ann, "image_id", path, where)
        if iid not in images:
            raise AnnotationError(f"{path}: {where}: image_id {iid} is not in 'images'")
        if iid in skipped:
            continue
        rec = images[iid]
        cid = _need(ann, "category_id", path, where)
        if cid not in cats:
            raise AnnotationError(f"{path}: {where}: category_id {cid} is not declared in "
                                  f"'categories' (declared: {sorted(cats)})")
        bbox = _need(ann, "bbox", path, where)
        if not (isinstance(bbox, list) and len(bbox) == 4):
            raise AnnotationError(f"{path}: {where}: bbox must be [x, y, width, height], "
                                  f"got {bbox!r}")
        x, y, bw, bh = (float(v) for v in bbox)
        W, H = rec["width"], rec["height"]
        if bw < 0 or bh < 0 or x < 0 or y < 0 or x + bw > W + 1e-6 or y + bh > H + 1e-6:
            raise AnnotationError(f"{path}: {where}: bbox {bbox} lies outside its "
                                  f"{W}x{H} image {rec['file_name']!r}")
        rec["boxes"].append([x, y, x + bw, y + bh])
        rec["labels"].append(int(cid))
        rec["iscrowd"].append(int(ann.get("iscrowd", 0)))
        rec["annotation_ids"].append(aid)
        if masks and "segmentation" in ann:
            rec["masks"].append(_coco_mask(ann["segmentation"], H, W, path, where, mask_size))
    out = []
    for iid in order:
        rec = images[iid]
        rec["boxes"] = np.asarray(rec["boxes"], np.float32).reshape(-1, 4)
        rec["labels"] = np.asarray(rec["labels"], np.int64)
        rec["iscrowd"] = np.asarray(rec["iscrowd"], np.int64)
        if masks and len(rec["masks"]) == len(rec["labels"]):
            shape = mask_size or (rec["height"], rec["width"])
            rec["masks"] = np.asarray(rec["masks"], bool).reshape(-1, *shape)
        else:
            del rec["masks"]
        out.append(rec)
    return {"categories": cats, "images": out}


# ----------------------------------------------------------------------------- VOC


def _text(node, tag: str, path: Path, where: str) -> str:
    child = node.find(tag)
    if child is None or child.text is None:
        raise AnnotationError(f"{path}: {where} has no <{tag}>")
    return child.text.strip()


def _number(node, tag, path, where) -> float:
    text = _text(node, tag, path, where)
    try:
        return float(text)
    except ValueError:
        raise AnnotationError(f"{path}: {where}: <{tag}> is not a number: {text!r}") from None


def _voc_root(path: Path):
    """The ``<annotation>`` element of a VOC XML file."""
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as e:
        raise AnnotationError(f"{path}: malformed XML: {e}") from None
    if root.tag != "annotation":
        raise AnnotationError(f"{path}: root element is <{root.tag}>, expected <annotation>")
    return root


def voc_object_names(path) -> list[str]:
    """The ``<name>`` of every ``<object>`` in one VOC XML file, in file order: what a data set
    in VOC's layout but with its own classes declares (VOC has no category list)."""
    path = Path(path)
    return [_text(obj, "name", path, f"object {k}")
            for k, obj in enumerate(_voc_root(path).findall("object"))]


def read_voc(path, classes=None) -> dict:
    """Read one Pascal VOC annotation XML file.

    Args:
        path: the ``Annotations/*.xml`` file.
        classes: the class names, in label order starting at 1; None means VOC's 20
            (:data:`VOC_CLASSES`). An object of another name is an error.
    Returns:
        ``{"file_name", "width", "height", "boxes" (k, 4) xyxy as written (VOC's 1-based
        pixel corners), "labels" (k,) 1..C, "names", "difficult" (k,) bool}``.
    Raises:
        AnnotationError naming the file and the object.
    """
    path = Path(path)
    root = _voc_root(path)
    names = list(VOC_CLASSES if classes is None else classes)
    size = root.find("size")
    if size is None:
        raise AnnotationError(f"{path}: <annotation> has no <size>")
    W, H = _number(size, "width", path, "<size>"), _number(size, "height", path, "<size>")
    boxes, labels, got, difficult = [], [], [], []
    for k, obj in enumerate(root.findall("object")):
        where = f"object {k}"
        name = _text(obj, "name", path, where)
        where = f"object {k} ({name})"
        if name not in names:
            shown = ", ".join(names) if len(names) <= 25 else f"{len(names)} names"
            raise AnnotationError(f"{path}: {where}: class {name!r} is not one of the "
                                  f"{len(names)} declared classes ({shown})")
        bb = obj.find("bndbox")
        if bb is None:
            raise AnnotationError(f"{path}: {where} has no <bndbox>")
        b = [_number(bb, t, path, where) for t in ("xmin", "ymin", "xmax", "ymax")]
        if b[0] < 0 or b[1] < 0 or b[2] > W or b[3] > H or b[2] < b[0] or b[3] < b[1]:
            raise AnnotationError(f"{path}: {where}: box {b} lies outside its "
                                  f"{W:g}x{H:g} image")
        boxes.append(b)
        labels.append(names.index(name) + 1)
        got.append(name)
        d = obj.find("difficult")
        difficult.append(d is not None and (d.text or "0").strip() == "1")
    return {"file_name": _text(root, "filename", path, "<annotation>"), "width": int(W),
            "height": int(H), "boxes": np.asarray(boxes, np.float32).reshape(-1, 4),
            "labels": np.asarray(labels, np.int64), "names": got,
            "difficult": np.asarray(difficult, bool)}


VOC_CLASSES = ("aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat", "chair",
               "cow", "diningtable", "dog", "horse", "motorbike", "person", "pottedplant",
               "sheep", "sofa", "train", "tvmonitor")
