"""COCO and VOC data sets on disk read as Scenes: exact round trips of synthetic scenes written in
the official formats, resizing, class mapping, splits, and one-line errors naming the file and
the entry."""

import json

import numpy as np
import pytest
from detection_files import write_coco, write_voc
from PIL import Image

from striate.detect.datasets import (
    coco_scenes,
    load_splits,
    one_object,
    parse_source,
    read_source,
    save_coco,
    save_voc,
    seeded_split,
    voc_scenes,
)
from striate.detect.formats import AnnotationError, read_coco
from striate.detect.scenes import CLASSES, make_splits


def test_coco_round_trip_and_resize(tmp_path):
    ann, images, want = write_coco(tmp_path, n=5, size=32, empty=1)
    notes = []
    got = coco_scenes(ann, images, 32, log=notes.append)
    assert got.classes == CLASSES  # ids 10, 20, 30 are circle, square, triangle
    assert len(got) == 5 and "skipped 1 without objects" in notes[0]
    np.testing.assert_allclose(got.images, want.images, atol=0.5 / 255 + 1e-6, rtol=0)
    np.testing.assert_array_equal(got.semantic, want.semantic)
    for k in range(5):
        np.testing.assert_array_equal(got.boxes[k], want.boxes[k])
        np.testing.assert_array_equal(got.labels[k], want.labels[k])
        np.testing.assert_array_equal(got.instance_masks[k], want.instance_masks[k])
    half = coco_scenes(ann, images, 16)
    assert half.images.shape == (5, 3, 16, 16)
    for k in range(5):
        np.testing.assert_allclose(half.boxes[k], want.boxes[k] / 2, atol=1e-6, rtol=0)
        # pixel centres of the 16x16 image fall on the odd rows and columns of the 32x32 one
        np.testing.assert_array_equal(half.instance_masks[k],
                                      want.instance_masks[k][:, 1::2, 1::2])


def test_coco_classes_by_name_crowd_and_max_images(tmp_path):
    ann, images, want = write_coco(tmp_path, n=4)
    got = coco_scenes(ann, images, 32, classes=["triangle", "circle", "square"])
    remap = np.array([0, 2, 3, 1])
    assert [lab.tolist() for lab in got.labels] == [remap[lab].tolist() for lab in want.labels]
    doc = json.loads(ann.read_text())
    first = doc["annotations"][0]
    first["iscrowd"] = 1  # a crowd: painted in the semantic map, not an object to detect
    ann.write_text(json.dumps(doc))
    got = coco_scenes(ann, images, 32, max_images=2)
    assert len(got) == 2
    assert len(got.boxes[0]) == len(want.boxes[0]) - 1
    np.testing.assert_array_equal(got.semantic[0], want.semantic[0])
    assert len(read_coco(ann, max_images=1)["images"]) == 1


def test_polygon_masks_scale_with_the_image(tmp_path):
    doc = {"images": [{"id": 1, "file_name": "a.png", "width": 8, "height": 6}],
           "categories": [{"id": 1, "name": "box"}],
           "annotations": [{"id": 5, "image_id": 1, "category_id": 1, "bbox": [0, 0, 4, 3],
                            "segmentation": [[0, 0, 4, 0, 4, 3, 0, 3]]}]}
    (tmp_path / "a.json").write_text(json.dumps(doc))
    m = read_coco(tmp_path / "a.json", mask_size=(4, 4))["images"][0]["masks"][0]
    want = np.zeros((4, 4), bool)
    want[:2, :2] = True  # the top-left quarter of the image, at any size
    np.testing.assert_array_equal(m, want)


def test_coco_errors_name_the_file_and_entry(tmp_path):
    ann, images, _ = write_coco(tmp_path, n=3)
    with pytest.raises(AnnotationError, match=r"instances\.json: annotation \d+: category "
                       r"'(square|triangle)' \(id [23]0\) is not one of the 1 classes"):
        coco_scenes(ann, images, 32, classes=["circle"])
    Image.new("RGB", (20, 20)).save(images / "im1.png")
    with pytest.raises(AnnotationError, match=r"instances\.json: image 101 \(im1\.png\): im1\.png "
                       "is 20x20 pixels, the annotations say 32x32"):
        coco_scenes(ann, images, 32)
    (images / "im1.png").unlink()
    with pytest.raises(AnnotationError, match=r"image 101 \(im1\.png\): no image file"):
        coco_scenes(ann, images, 32)
    doc = json.loads(ann.read_text())
    doc["annotations"][0].pop("segmentation")
    ann.write_text(json.dumps(doc))
    with pytest.raises(AnnotationError, match=r"image 100 \(im0\.png\): an annotation has no "
                       "'segmentation'"):
        coco_scenes(ann, images, 32, need_masks=True)
    doc["annotations"] = []
    ann.write_text(json.dumps(doc))
    with pytest.raises(AnnotationError, match=r"instances\.json: no annotations"):
        coco_scenes(ann, images, 32)


def test_voc_round_trip_split_files_and_errors(tmp_path):
    root = tmp_path / "VOC2007"
    want = write_voc(root, n=5, sets={"train": [0, 1, 2], "val": [3, 4]})
    got = voc_scenes(root, 32)
    names = sorted({CLASSES[int(c)] for lab in want.labels for c in lab})
    assert got.classes == ("background", *names)
    for k in range(5):  # VOC's 1-based corners come back as the scenes' boxes
        np.testing.assert_array_equal(got.boxes[k], want.boxes[k])
        assert [names[c - 1] for c in got.labels[k]] == [CLASSES[c] for c in want.labels[k]]
    with Image.open(root / "JPEGImages" / "2007000002.jpg") as im:  # JPEG: lossy, so Pillow's
        np.testing.assert_allclose(got.images[2], np.asarray(im).transpose(2, 0, 1) / 255,
                                   atol=1e-6, rtol=0)  # decoding is the reference
    splits, classes, how = load_splits(parse_source(f"voc:{root}"), 32)
    assert [len(splits[s]) for s in ("train", "val", "test")] == [3, 2, 2]
    assert splits["test"] is splits["val"] and "test = val" in how and classes == names
    with pytest.raises(AnnotationError, match="VOC annotations are boxes only"):
        read_source(parse_source(f"voc:{root}"), 32, need_masks=True)
    (root / "JPEGImages" / "2007000001.jpg").unlink()
    with pytest.raises(AnnotationError, match=r"2007000001\.xml: <filename>: no image file"):
        voc_scenes(root, 32)
    (root / "ImageSets" / "Main" / "val.txt").write_text("2007000009\n")
    with pytest.raises(AnnotationError, match=r"Main/val\.txt: entry '2007000009': no annotation"):
        load_splits(parse_source(f"voc:{root}"), 32)


def test_seeded_split_and_sources(tmp_path):
    parts = seeded_split(20, seed=3)
    assert [len(parts[s]) for s in ("train", "val", "test")] == [16, 2, 2]
    assert sorted(np.concatenate(list(parts.values())).tolist()) == list(range(20))
    again = seeded_split(20, seed=3)
    assert all(np.array_equal(parts[s], again[s]) for s in parts)
    assert [len(v) for v in seeded_split(3, 0).values()] == [1, 1, 1]
    with pytest.raises(ValueError, match="at least 3 images"):
        seeded_split(2, 0)
    ann, images, want = write_coco(tmp_path, n=4)
    splits, classes, how = load_splits(parse_source(f"coco:{ann}", str(images)), 32, seed=1)
    assert classes == list(CLASSES[1:]) and "seeded with 1" in how
    assert sum(len(s) for s in splits.values()) == 4
    assert all(len(b) == 1 for b in one_object(splits["train"]).boxes)
    for spec, images, message in [("coco:x.json", None, "need the image folder"),
                                  (f"coco:{tmp_path}/no.json", ".", "no annotations file"),
                                  (f"voc:{tmp_path}", None, "no folder .*Annotations"),
                                  ("pascal:x", None, "expected 'coco:ANNOTATIONS.json'")]:
        with pytest.raises(ValueError, match=message):
            parse_source(spec, images)


def test_save_coco_and_save_voc_read_back(tmp_path):
    splits = make_splits(3, 2, 2, size=32, seed=4)
    ann = save_coco(splits["train"], tmp_path / "coco" / "train.json", tmp_path / "coco" / "im")
    got = coco_scenes(ann, tmp_path / "coco" / "im", 32)
    want = splits["train"]
    np.testing.assert_allclose(got.images, want.images, atol=0.5 / 255 + 1e-6, rtol=0)
    np.testing.assert_array_equal(got.semantic, want.semantic)
    for k in range(3):
        np.testing.assert_array_equal(got.boxes[k], want.boxes[k])
        np.testing.assert_array_equal(got.labels[k], want.labels[k])
        np.testing.assert_array_equal(got.instance_masks[k], want.instance_masks[k])
    root = save_voc(splits, tmp_path / "VOC")
    b = want.boxes[0][0]
    assert f"<xmin>{int(b[0]) + 1}</xmin>" in (root / "Annotations" / "000000.xml").read_text()
    back, classes, how = load_splits(parse_source(f"voc:{root}"), 32)
    assert how == "ImageSets/Main train/val/test"
    for name, scenes in splits.items():
        assert len(back[name]) == len(scenes)
        for k in range(len(scenes)):
            np.testing.assert_array_equal(back[name].boxes[k], scenes.boxes[k])
            assert [classes[c - 1] for c in back[name].labels[k]] == \
                [CLASSES[c] for c in scenes.labels[k]]
