"""Read captions in the COCO format: an annotations JSON plus a folder of images.

The JSON (e.g. ``captions_train2014.json``) holds ``images`` (each with ``id`` and
``file_name``) and ``annotations`` (each with ``image_id`` and ``caption``); an image has any
number of captions (COCO has five). Images are read with Pillow, converted to RGB and resized to a
square, so a folder of COCO images becomes one float array. Nothing is downloaded: point the
reader at files you have.

Example (``striate caption train --data coco:captions_val2014.json:val2014``)::

    data = load_coco("captions_val2014.json", "val2014", image_size=64, max_images=5000)
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .shapes import CaptionData, CaptionSplit, Vocabulary, tokenize

__all__ = ["read_coco_captions", "load_coco"]


def _fail(path, what) -> ValueError:
    return ValueError(f"COCO annotations {path}: {what}")


def _read_json(path: Path) -> dict:
    if not path.is_file():
        raise FileNotFoundError(f"COCO annotations file not found: {path}")
    try:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
    except json.JSONDecodeError as e:
        raise _fail(path, f"not valid JSON ({e.msg} at line {e.lineno}, column {e.colno})") \
            from None
    except UnicodeDecodeError as e:
        raise _fail(path, f"not UTF-8 text ({e.reason})") from None
    if not isinstance(doc, dict):
        raise _fail(path, f"expected a JSON object at the top, got a {type(doc).__name__}")
    for key in ("images", "annotations"):
        if not isinstance(doc.get(key), list):
            raise _fail(path, f"expected a list under {key!r}, got "
                        f"{type(doc.get(key)).__name__ if key in doc else 'nothing'}")
    return doc


def read_coco_captions(annotations_json) -> list[tuple[int, str, list[str]]]:
    """(image id, file name, captions) for every image with at least one caption, by image id.

    Raises:
        FileNotFoundError for a missing file; ValueError for a file that is not valid JSON or
        lacks the COCO fields (the message names the file and the entry).
    """
    path = Path(annotations_json)
    doc = _read_json(path)
    names: dict[int, str] = {}
    for k, im in enumerate(doc["images"]):
        if not isinstance(im, dict) or "id" not in im or "file_name" not in im:
            raise _fail(path, f"images[{k}] needs 'id' and 'file_name', got {im!r:.80}")
        names[im["id"]] = str(im["file_name"])
    caps: dict[int, list[str]] = {}
    for k, a in enumerate(doc["annotations"]):
        if not isinstance(a, dict) or "image_id" not in a or "caption" not in a:
            raise _fail(path, f"annotations[{k}] needs 'image_id' and 'caption', got {a!r:.80}")
        if a["image_id"] not in names:
            raise _fail(path, f"annotations[{k}] refers to image_id {a['image_id']!r}, which is "
                        "not in 'images'")
        caps.setdefault(a["image_id"], []).append(" ".join(tokenize(str(a["caption"]))))
    return [(i, names[i], caps[i]) for i in sorted(caps)]


def _read_image(path: Path, size: int) -> np.ndarray:
    from PIL import Image, UnidentifiedImageError

    if not path.is_file():
        raise FileNotFoundError(f"COCO image not found: {path}")
    try:
        with Image.open(path) as im:
            im = im.convert("RGB").resize((size, size), Image.BILINEAR)
            a = np.asarray(im, dtype=np.float32) / 255.0
    except (UnidentifiedImageError, OSError) as e:
        raise ValueError(f"cannot read COCO image {path}: {e}") from None
    return a.transpose(2, 0, 1)


def load_coco(annotations_json, image_dir, image_size: int = 64, max_images: int | None = None,
              fractions: tuple = (0.8, 0.1, 0.1), max_length: int = 16,
              min_count: int = 2) -> CaptionData:
    """A captioning data set from a COCO annotations file and its image folder.

    The images (by id order, the first ``max_images``) are split train/val/test by
    ``fractions``; the vocabulary holds the training captions' words seen ``min_count`` times.

    Args:
        annotations_json: path of the captions JSON.
        image_dir: folder holding each image's ``file_name``.
        image_size: side the images are resized to.
        max_images: read at most this many images (None: all).
        fractions: train/val/test shares, summing to 1.
        max_length: captions are cut to this many words.
        min_count: rarer training words become ``<UNK>``.
    Returns:
        a :class:`~striate.caption.shapes.CaptionData` with images (N, 3, S, S) in [0, 1].
    """
    if len(fractions) != 3 or abs(sum(fractions) - 1) > 1e-6 or min(fractions) < 0:
        raise ValueError(f"load_coco: fractions must be 3 shares summing to 1, got {fractions}")
    image_dir = Path(image_dir)
    if not image_dir.is_dir():
        raise FileNotFoundError(f"COCO image folder not found: {image_dir}")
    entries = read_coco_captions(annotations_json)
    if max_images is not None:
        entries = entries[:max_images]
    if len(entries) < 3:
        raise ValueError(f"COCO annotations {annotations_json}: need at least 3 captioned images "
                         f"for a train/val/test split, got {len(entries)}")
    images = np.stack([_read_image(image_dir / name, image_size) for _, name, _ in entries])
    n = len(entries)
    n_train = max(1, int(round(fractions[0] * n)))
    n_val = max(1, int(round(fractions[1] * n)))
    n_train = min(n_train, n - n_val - 1)
    bounds = [(0, n_train), (n_train, n_train + n_val), (n_train + n_val, n)]
    splits = []
    for lo, hi in bounds:
        caps = [[" ".join(c.split()[:max_length]) for c in e[2]] for e in entries[lo:hi]]
        splits.append(CaptionSplit(images[lo:hi], caps, None, [e[0] for e in entries[lo:hi]]))
    vocab = Vocabulary.from_captions([c for refs in splits[0].captions for c in refs],
                                     min_count=min_count)
    longest = max(len(c.split()) for s in splits for refs in s.captions for c in refs)
    return CaptionData(*splits, vocab=vocab, max_length=min(max_length, max(longest, 1)),
                       name="coco")
