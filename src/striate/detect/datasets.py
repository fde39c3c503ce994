"""Detection data sets on disk as :class:`~striate.detect.scenes.Scenes`, the form every model
here trains on: COCO (an instances JSON and its image folder) and Pascal VOC (the VOCdevkit
layout: ``Annotations/*.xml``, ``JPEGImages/``, optionally ``ImageSets/Main/{train,val,test}.txt``).

Every image is resized to ``size`` x ``size`` (the models' square input); its boxes are scaled by
the same factors and its masks sampled at the resized image's pixel centres. Labels are
1..C in the order of the class list: a COCO file's categories by id, a VOC folder's object names
sorted (which for VOC's own 20 classes is VOC's order); a trained model's list maps a new file's
categories by name. Crowd annotations (``iscrowd``) are painted into the semantic map but are
not objects to detect; objects under a pixel wide at ``size`` are left out (no model could see
them, and a zero-width box has no log-size to regress); images left without objects are skipped.

A data source is a plain dict, so a run folder's ``config.json`` can hold it and ``eval`` reads
the same images again: ``{"format": "coco", "annotations": FILE, "images": DIR}`` or
``{"format": "voc", "root": DIR}``, see :func:`parse_source` and :func:`load_splits`.
:func:`save_coco` and :func:`save_voc` write Scenes in the two formats (the synthetic data for
other tools, or to check a reader against).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .formats import AnnotationError, read_coco, read_voc, voc_object_names
from .scenes import Scenes

__all__ = ["parse_source", "read_image", "coco_scenes", "voc_scenes", "voc_split_ids",
           "seeded_split", "load_splits", "one_object", "read_source", "voc_classes",
           "save_coco", "save_voc"]

FRACTIONS = (0.8, 0.1, 0.1)  # train / val / test shares when the files name no split


def parse_source(spec: str, images: str | None = None) -> dict:
    """``coco:ANNOTATIONS.json`` (with ``images``, the folder the ``file_name`` entries are
    relative to) or ``voc:ROOT`` -> a data-source dict with absolute paths.

    Raises:
        ValueError naming the spec and what is wrong with it.
    """
    kind, sep, where = spec.partition(":")
    if not sep or kind not in ("coco", "voc") or not where:
        raise ValueError(f"data source {spec!r}: expected 'coco:ANNOTATIONS.json' or 'voc:ROOT'")
    path = Path(where).expanduser()
    if kind == "coco":
        if images is None:
            raise ValueError(f"data source {spec!r}: COCO data need the image folder too "
                             "(--images DIR, the folder its file_name entries are relative to)")
        if not path.is_file():
            raise ValueError(f"data source {spec!r}: no annotations file {path}")
        folder = Path(images).expanduser()
        if not folder.is_dir():
            raise ValueError(f"data source {spec!r}: no image folder {folder}")
        return {"format": "coco", "annotations": str(path.resolve()),
                "images": str(folder.resolve())}
    if images is not None:
        raise ValueError(f"data source {spec!r}: VOC images are ROOT/JPEGImages; --images is "
                         "for COCO")
    if not (path / "Annotations").is_dir():
        raise ValueError(f"data source {spec!r}: no folder {path / 'Annotations'} (ROOT is the "
                         "folder holding Annotations/ and JPEGImages/, e.g. VOCdevkit/VOC2007)")
    return {"format": "voc", "root": str(path.resolve())}


def read_image(path, size: int) -> tuple[np.ndarray, np.ndarray]:
    """An image file -> (the image (H, W, 3) float32 in [0, 1], the image resized bilinearly to
    (3, size, size)).

    Raises:
        FileNotFoundError when there is no such file; ValueError when Pillow cannot read it.
    """
    from PIL import Image, UnidentifiedImageError

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no such image: {path}")
    try:
        with Image.open(path) as im:
            rgb = im.convert("RGB")
            original = np.asarray(rgb, np.float32) / 255.0
            small = np.asarray(rgb.resize((size, size), Image.BILINEAR), np.float32) / 255.0
    except (OSError, UnidentifiedImageError, Image.DecompressionBombError) as e:
        raise ValueError(f"cannot read image {path}: {e}") from None
    return original, small.transpose(2, 0, 1)


def _image_for(path: Path, file: Path, size: int, width: int, height: int, where: str):
    """The resized image of one annotation entry, after checking the file is there and has the
    size the annotations give."""
    if not file.is_file():
        raise AnnotationError(f"{path}: {where}: no image file {file}")
    try:
        original, small = read_image(file, size)
    except ValueError as e:
        raise AnnotationError(f"{path}: {where}: {e}") from None
    if original.shape[:2] != (height, width):
        raise AnnotationError(f"{path}: {where}: {file.name} is {original.shape[1]}x"
                              f"{original.shape[0]} pixels, the annotations say {width}x{height}")
    return small


def _scene_arrays(boxes, labels, masks, width, height, size):
    """Scale the boxes to ``size``, drop objects under a pixel wide there."""
    scale = np.array([size / width, size / height] * 2, np.float32)
    b = boxes.astype(np.float32) * scale
    keep = ((b[:, 2] - b[:, 0]) >= 1) & ((b[:, 3] - b[:, 1]) >= 1)
    return b[keep], labels[keep], masks[keep], int((~keep).sum())


def _progress(items, desc: str, on: bool):
    if not on:
        return items
    from tqdm import tqdm

    return tqdm(items, desc=desc, leave=False, unit="image")


def _finish(path, images, boxes, labels, masks, semantic, classes, skipped, small, log):
    if not images:
        raise AnnotationError(f"{path}: no annotations: none of its images has an object to "
                              "detect")
    if log is not None and (skipped or small):
        log(f"{path}: read {len(images)} images; skipped {skipped} without objects; left out "
            f"{small} objects under a pixel wide at the input size")
    return Scenes(np.stack(images), boxes, labels, masks, np.stack(semantic),
                  ("background", *classes))


def coco_scenes(annotations, image_dir, size: int = 64, classes=None, need_masks: bool = False,
                max_images: int | None = None, progress: bool = False, log=None) -> Scenes:
    """A COCO instances file and its images as Scenes at ``size`` x ``size``.

    Args:
        annotations: the JSON file. image_dir: the folder of its ``file_name`` entries.
        size: the side the images are resized to.
        classes: the class names (no background) in label order; None: the file's categories,
            by id. With a list, a category of another name is an error.
        need_masks: every object must have a ``segmentation`` (the mask models); otherwise an
            image without masks gets empty ones.
        max_images: read only the first this many images of the file.
        progress: a tqdm bar over the images. log: where a note about skipped images goes.
    Raises:
        AnnotationError naming the file and the entry: a missing or unreadable image file, an
        image whose file has another size, a category outside ``classes``, an object without a
        mask when masks are needed, a file without any annotated image.
    """
    path = Path(annotations)
    data = read_coco(path, masks=True, mask_size=(size, size), max_images=max_images)
    cats = data["categories"]
    if classes is None:
        classes = [cats[c] for c in sorted(cats)]
    index = {name: k + 1 for k, name in enumerate(classes)}
    records = data["images"]
    images, boxes, labels, masks, semantic = [], [], [], [], []
    skipped = small = 0
    for rec in _progress(records, "reading images", progress):
        where = f"image {rec['id']} ({rec['file_name']})"
        lab = np.zeros(len(rec["labels"]), np.int64)
        for j, (cid, aid) in enumerate(zip(rec["labels"], rec["annotation_ids"])):
            if cats[cid] not in index:
                raise AnnotationError(
                    f"{path}: annotation {aid}: category {cats[cid]!r} (id {cid}) is not one of "
                    f"the {len(classes)} classes the model knows ({', '.join(classes[:25])})")
            lab[j] = index[cats[cid]]
        if "masks" in rec:
            m = rec["masks"]
        elif need_masks and len(lab):
            raise AnnotationError(f"{path}: {where}: an annotation has no 'segmentation' (the "
                                  "mask models and segmentation need one on every object)")
        else:
            m = np.zeros((len(lab), size, size), bool)
        sem = np.zeros((size, size), np.int64)
        for mk, c in zip(m, lab):  # later annotations paint over earlier ones
            sem[mk] = c
        crowd = rec["iscrowd"] > 0
        b, lb, mb, n_small = _scene_arrays(rec["boxes"][~crowd], lab[~crowd], m[~crowd],
                                            rec["width"], rec["height"], size)
        small += n_small
        if not len(b):
            skipped += 1
            continue
        file = Path(image_dir) / rec["file_name"]
        images.append(_image_for(path, file, size, rec["width"], rec["height"], where))
        boxes.append(b)
        labels.append(lb)
        masks.append(mb)
        semantic.append(sem)
    return _finish(path, images, boxes, labels, masks, semantic, classes, skipped, small, log)


def _voc_files(root: Path, ids, listed_in=None) -> list[Path]:
    files = []
    for i in ids:
        f = root / "Annotations" / f"{i}.xml"
        if not f.is_file():
            raise AnnotationError(f"{listed_in or root}: entry {i!r}: no annotation file {f}")
        files.append(f)
    return files


def voc_split_ids(root) -> dict | None:
    """The ids of ``ImageSets/Main/{train,val,test}.txt`` when train and val are both there
    (test is optional), else None.

    Raises:
        AnnotationError naming a listed id without an annotation file (before any image is
        read).
    """
    root = Path(root)
    lists = {}
    for name in ("train", "val", "test"):
        f = root / "ImageSets" / "Main" / f"{name}.txt"
        if f.is_file():
            lists[name] = [line.split()[0] for line in f.read_text().splitlines() if line.strip()]
            _voc_files(root, lists[name], f)
    return lists if "train" in lists and "val" in lists else None


def _all_voc_ids(root: Path) -> list[str]:
    return sorted(p.stem for p in (root / "Annotations").glob("*.xml"))


def voc_scenes(root, size: int = 64, classes=None, ids=None, max_images: int | None = None,
               progress: bool = False, log=None) -> Scenes:
    """A VOC-layout folder's annotations and images as Scenes at ``size`` x ``size``.

    VOC's corners are 1-based pixel indices (``xmin = 1`` is the first pixel), so a box becomes
    ``(xmin - 1, ymin - 1, xmax, ymax)`` in the continuous coordinates used here. Objects marked
    ``difficult`` are kept as ordinary objects (VOC's own evaluation ignores them; the mAP here
    has no "ignore", so it is the stricter one). VOC XML has no masks: instance masks and the
    semantic map are empty.

    Args:
        root: the folder holding ``Annotations/`` and ``JPEGImages/``.
        classes: the class names in label order; None: every object name of the folder, sorted.
        ids: the image ids (file stems) to read; None: every ``Annotations/*.xml``.
        max_images: at most this many of them (the first).
    Raises:
        AnnotationError naming the file and the entry.
    """
    root = Path(root)
    ids = _all_voc_ids(root) if ids is None else list(ids)
    if max_images is not None:
        ids = ids[:max_images]
    files = _voc_files(root, ids)
    if classes is None:
        classes = sorted({n for f in files for n in voc_object_names(f)})
    else:  # a model's classes: say so when a file names another
        for f in files:
            for k, name in enumerate(voc_object_names(f)):
                if name not in classes:
                    raise AnnotationError(
                        f"{f}: object {k} ({name}): class {name!r} is not one of the "
                        f"{len(classes)} classes the model knows ({', '.join(classes[:25])})")
    images, boxes, labels, masks, semantic = [], [], [], [], []
    skipped = small = 0
    for f in _progress(files, "reading images", progress):
        r = read_voc(f, classes)
        b = r["boxes"].copy()
        b[:, :2] -= 1
        b, lab, m, n_small = _scene_arrays(b, r["labels"], np.zeros((len(b), size, size), bool),
                                           r["width"], r["height"], size)
        sem = np.zeros((size, size), np.int64)
        small += n_small
        if not len(b):
            skipped += 1
            continue
        file = root / "JPEGImages" / r["file_name"]
        images.append(_image_for(f, file, size, r["width"], r["height"], "<filename>"))
        boxes.append(b)
        labels.append(lab)
        masks.append(m)
        semantic.append(sem)
    return _finish(root, images, boxes, labels, masks, semantic, classes, skipped, small, log)


def seeded_split(n: int, seed: int, fractions=FRACTIONS) -> dict:
    """Index arrays ``train``, ``val``, ``test`` of a seeded permutation of ``range(n)`` by
    ``fractions``, each at least one long.

    Raises:
        ValueError when ``n < 3``.
    """
    if n < 3:
        raise ValueError(f"seeded_split: need at least 3 images for train, val and test, got {n}")
    order = np.random.default_rng(seed).permutation(n)
    n_val = max(1, int(round(fractions[1] * n)))
    n_test = max(1, int(round(fractions[2] * n)))
    n_train = n - n_val - n_test  # >= 1: each share is at most a tenth of n plus a half
    return {"train": np.sort(order[:n_train]), "val": np.sort(order[n_train:n_train + n_val]),
            "test": np.sort(order[n_train + n_val:])}


def voc_classes(root) -> list[str]:
    """The class list of a VOC-layout folder: the object names of all its annotations, sorted
    (VOC has no category list; for VOC's own 20 classes this is VOC's order)."""
    root = Path(root)
    return sorted({n for f in _voc_files(root, _all_voc_ids(root)) for n in voc_object_names(f)})


def read_source(source: dict, size: int = 64, classes=None, need_masks: bool = False, ids=None,
                max_images: int | None = None, progress: bool = False, log=None) -> Scenes:
    """All the images of one data source (or, for VOC, those of ``ids``) as Scenes: see
    :func:`coco_scenes` and :func:`voc_scenes`."""
    if source["format"] == "coco":
        return coco_scenes(source["annotations"], source["images"], size, classes, need_masks,
                           max_images, progress, log)
    if need_masks:
        raise AnnotationError(f"{source['root']}: VOC annotations are boxes only (no masks); the "
                              "mask models and segmentation need COCO data with segmentations")
    return voc_scenes(source["root"], size, classes, ids, max_images, progress, log)


def load_splits(source: dict, size: int = 64, classes=None, need_masks: bool = False,
                val_source: dict | None = None, max_images: int | None = None, seed: int = 0,
                progress: bool = False, log=None) -> tuple[dict, list[str], str]:
    """Train, val and test Scenes of a data source.

    The split comes from the files when they have one: ``val_source`` (a second file or folder)
    is the validation data, or a VOC folder's ``ImageSets/Main`` lists; with train and val only,
    the test split is the val split. Otherwise the annotated images are split by a permutation
    seeded with ``seed`` into 80% / 10% / 10%.

    Args:
        source, val_source: data-source dicts (:func:`parse_source`).
        size: the models' input side. classes: the class names (None: the source's own).
        need_masks: the model trains on masks (see :func:`coco_scenes`).
        max_images: read at most this many images of each file (or image set list).
    Returns:
        ``({"train", "val", "test"}: Scenes, classes, a one-line description of the split)``.
    """
    if classes is None and source["format"] == "voc":
        classes = voc_classes(source["root"])
    read = dict(size=size, need_masks=need_masks, max_images=max_images, progress=progress,
                log=log)
    if val_source is not None:
        train = read_source(source, classes=classes, **read)
        classes = list(train.classes[1:])
        val = read_source(val_source, classes=classes, **read)
        return ({"train": train, "val": val, "test": val}, classes,
                "train: the --data source; val and test: the --val-data source")
    lists = voc_split_ids(source["root"]) if source["format"] == "voc" else None
    if lists is not None:
        splits = {name: read_source(source, classes=classes, ids=lists[name], **read)
                  for name in lists}
        if "test" not in splits:
            splits["test"] = splits["val"]
        how = "ImageSets/Main " + ("train/val/test" if "test" in lists else
                                   "train/val (test = val)")
        return splits, classes, how
    everything = read_source(source, classes=classes, **read)
    classes = list(everything.classes[1:])
    parts = seeded_split(len(everything), seed)
    return ({name: everything.subset(idx) for name, idx in parts.items()}, classes,
            f"a split of {len(everything)} images seeded with {seed} (80/10/10)")


def one_object(scenes: Scenes) -> Scenes:
    """The scenes with exactly one object (what classification + localization trains on)."""
    return scenes.subset(np.flatnonzero([len(b) == 1 for b in scenes.boxes]))


# ----------------------------------------------------------------------------- writing


def _save_image(image: np.ndarray, path: Path) -> None:
    from PIL import Image

    a = np.round(np.clip(image.transpose(1, 2, 0), 0, 1) * 255).astype(np.uint8)
    Image.fromarray(a).save(path, **({"quality": 95} if path.suffix == ".jpg" else {}))


def save_coco(scenes: Scenes, annotations, image_dir, start_id: int = 1) -> Path:
    """Write Scenes as a COCO instances file and PNG images (``image_dir/{id:06d}.png``); masks
    as compressed RLE, categories numbered 1..C as the labels. The inverse of
    :func:`coco_scenes` up to the images' 8-bit rounding.

    Returns:
        the annotations path.
    """
    from .formats import rle_encode, rle_to_string

    annotations, image_dir = Path(annotations), Path(image_dir)
    image_dir.mkdir(parents=True, exist_ok=True)
    H, W = scenes.images.shape[2:]
    doc = {"info": {"description": "striate synthetic scenes"}, "images": [], "annotations": [],
           "categories": [{"id": k, "name": name} for k, name in enumerate(scenes.classes)
                          if k > 0]}
    for i in range(len(scenes)):
        iid = start_id + i
        name = f"{iid:06d}.png"
        _save_image(scenes.images[i], image_dir / name)
        doc["images"].append({"id": iid, "file_name": name, "width": W, "height": H})
        for b, lab, m in zip(scenes.boxes[i], scenes.labels[i], scenes.instance_masks[i]):
            x1, y1, x2, y2 = (float(v) for v in b)
            doc["annotations"].append({
                "id": len(doc["annotations"]) + 1, "image_id": iid, "category_id": int(lab),
                "bbox": [x1, y1, x2 - x1, y2 - y1], "area": int(m.sum()), "iscrowd": 0,
                "segmentation": {"size": [H, W], "counts": rle_to_string(rle_encode(m))}})
    annotations.parent.mkdir(parents=True, exist_ok=True)
    annotations.write_text(json.dumps(doc))
    return annotations


def save_voc(splits: dict, root) -> Path:
    """Write ``{"train": Scenes, "val": ..., ...}`` in the VOCdevkit layout under ``root``: JPEG
    images, one XML file per image (1-based corners: pixel columns ``x1 + 1 .. x2``; boxes are
    rounded to whole pixels) and ``ImageSets/Main/<split>.txt``. The inverse of
    :func:`voc_scenes` up to JPEG's loss and the rounding."""
    from xml.sax.saxutils import escape

    root = Path(root)
    for sub in ("Annotations", "JPEGImages", "ImageSets/Main"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    n = 0
    for split, scenes in splits.items():
        H, W = scenes.images.shape[2:]
        ids = []
        for i in range(len(scenes)):
            stem = f"{n:06d}"
            n += 1
            ids.append(stem)
            _save_image(scenes.images[i], root / "JPEGImages" / f"{stem}.jpg")
            objects = "".join(
                f"  <object><name>{escape(scenes.classes[int(lab)])}</name>"
                f"<difficult>0</difficult><bndbox><xmin>{round(b[0]) + 1}</xmin>"
                f"<ymin>{round(b[1]) + 1}</ymin><xmax>{round(b[2])}</xmax>"
                f"<ymax>{round(b[3])}</ymax></bndbox></object>\n"
                for b, lab in zip(scenes.boxes[i].tolist(), scenes.labels[i]))
            (root / "Annotations" / f"{stem}.xml").write_text(
                f"<annotation>\n  <filename>{stem}.jpg</filename>\n  <size><width>{W}</width>"
                f"<height>{H}</height><depth>3</depth></size>\n{objects}</annotation>\n")
        (root / "ImageSets" / "Main" / f"{split}.txt").write_text("".join(s + "\n" for s in ids))
    return root
