"""Tiny detection data sets on disk in the official formats, for the reader and command tests:
synthetic scenes saved as PNG (COCO) or JPEG (VOC) files, with a COCO instances JSON (masks as
uncompressed RLE, compressed RLE strings and polygons) or one VOC XML file per image."""

import json

import numpy as np
from PIL import Image

from striate.detect.formats import rle_encode, rle_to_string
from striate.detect.scenes import CLASSES, make_scenes

COCO_IDS = {1: 10, 2: 20, 3: 30}  # label -> the category id written in the file


def _png(image: np.ndarray, path) -> None:
    Image.fromarray(np.round(image.transpose(1, 2, 0) * 255).astype(np.uint8)).save(path)


def write_coco(folder, n: int = 6, size: int = 32, seed: int = 0, empty: int = 0):
    """``n`` scenes as ``folder/images/im{k}.png`` and ``folder/instances.json``, plus ``empty``
    images without annotations. Returns (annotations path, image folder, the scenes)."""
    scenes = make_scenes(n, size, seed)
    images = folder / "images"
    images.mkdir(parents=True, exist_ok=True)
    doc = {"info": {"description": "striate test"}, "images": [], "annotations": [],
           "categories": [{"id": COCO_IDS[k], "name": CLASSES[k], "supercategory": "shape"}
                          for k in (3, 1, 2)]}  # declared out of order: labels follow the ids
    aid = 1
    for i in range(n + empty):
        name = f"im{i}.png"
        _png(scenes.images[i % n], images / name)
        doc["images"].append({"id": 100 + i, "file_name": name, "width": size, "height": size})
        if i >= n:
            continue
        for j, (b, lab, m) in enumerate(zip(scenes.boxes[i], scenes.labels[i],
                                            scenes.instance_masks[i])):
            counts = rle_encode(m)
            seg = {"size": [size, size], "counts": counts if j % 2 else rle_to_string(counts)}
            doc["annotations"].append({
                "id": aid, "image_id": 100 + i, "category_id": COCO_IDS[int(lab)],
                "bbox": [float(b[0]), float(b[1]), float(b[2] - b[0]), float(b[3] - b[1])],
                "area": int(m.sum()), "iscrowd": 0, "segmentation": seg})
            aid += 1
    path = folder / "instances.json"
    path.write_text(json.dumps(doc))
    return path, images, scenes


VOC_XML = """<annotation>
  <folder>VOC2007</folder>
  <filename>{file}</filename>
  <source><database>striate test</database></source>
  <size><width>{w}</width><height>{h}</height><depth>3</depth></size>
  <segmented>0</segmented>
{objects}</annotation>
"""
VOC_OBJECT = """  <object>
    <name>{name}</name><pose>Unspecified</pose><truncated>0</truncated><difficult>0</difficult>
    <bndbox><xmin>{x1}</xmin><ymin>{y1}</ymin><xmax>{x2}</xmax><ymax>{y2}</ymax></bndbox>
  </object>
"""


def write_voc(root, n: int = 6, size: int = 32, seed: int = 1, sets=None):
    """``n`` scenes in the VOCdevkit layout under ``root`` (JPEG images, 1-based box corners);
    ``sets`` ({"train": [k, ...], "val": [...], ...}) writes ``ImageSets/Main`` lists.
    Returns the scenes."""
    scenes = make_scenes(n, size, seed)
    (root / "Annotations").mkdir(parents=True, exist_ok=True)
    (root / "JPEGImages").mkdir(exist_ok=True)
    for i in range(n):
        stem = f"{2007_000000 + i:06d}"
        Image.fromarray(np.round(scenes.images[i].transpose(1, 2, 0) * 255).astype(np.uint8)) \
            .save(root / "JPEGImages" / f"{stem}.jpg", quality=95)
        objects = "".join(VOC_OBJECT.format(name=CLASSES[int(lab)], x1=int(b[0]) + 1,
                                            y1=int(b[1]) + 1, x2=int(b[2]), y2=int(b[3]))
                          for b, lab in zip(scenes.boxes[i], scenes.labels[i]))
        (root / "Annotations" / f"{stem}.xml").write_text(
            VOC_XML.format(file=f"{stem}.jpg", w=size, h=size, objects=objects))
    if sets:
        (root / "ImageSets" / "Main").mkdir(parents=True)
        for name, ks in sets.items():
            (root / "ImageSets" / "Main" / f"{name}.txt").write_text(
                "".join(f"{2007_000000 + k:06d}\n" for k in ks))
    return scenes
