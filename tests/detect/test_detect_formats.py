"""COCO JSON and Pascal VOC XML readers on small hand-written files in the official formats."""

import json

import numpy as np
import pytest

from striate.detect.formats import (
    AnnotationError,
    polygon_to_mask,
    read_coco,
    read_voc,
    rle_decode,
    rle_encode,
    rle_from_string,
    rle_to_string,
)

COCO = {
    "info": {"description": "hand-written"},
    "images": [{"id": 7, "file_name": "a.jpg", "width": 6, "height": 4},
               {"id": 9, "file_name": "b.jpg", "width": 5, "height": 5}],
    "categories": [{"id": 1, "name": "cat", "supercategory": "animal"},
                   {"id": 3, "name": "dog", "supercategory": "animal"}],
    "annotations": [
        {"id": 100, "image_id": 7, "category_id": 3, "bbox": [1, 0, 3, 2], "area": 6,
         "iscrowd": 0, "segmentation": [[1, 0, 4, 0, 4, 2, 1, 2]]},
        # column-major runs over 4x6: column 0 empty (4 zeros), column 1 rows 1-2 set
        {"id": 101, "image_id": 7, "category_id": 1, "bbox": [1, 1, 1, 2], "area": 2,
         "iscrowd": 1, "segmentation": {"size": [4, 6], "counts": [5, 2, 17]}},
        {"id": 102, "image_id": 9, "category_id": 1, "bbox": [0, 0, 5, 5], "area": 25,
         "iscrowd": 0, "segmentation": {"size": [5, 5], "counts": "0i00"}},
    ],
}


def _write(tmp_path, data, name="instances.json"):
    p = tmp_path / name
    p.write_text(data if isinstance(data, str) else json.dumps(data))
    return p


def test_read_coco_boxes_polygons_and_rle(tmp_path):
    d = read_coco(_write(tmp_path, COCO))
    assert d["categories"] == {1: "cat", 3: "dog"}
    a, b = d["images"]
    assert (a["file_name"], a["width"], a["height"]) == ("a.jpg", 6, 4)
    np.testing.assert_array_equal(a["boxes"], [[1, 0, 4, 2], [1, 1, 2, 3]])
    assert a["labels"].tolist() == [3, 1] and a["iscrowd"].tolist() == [0, 1]
    want = np.zeros((4, 6), bool)
    want[0:2, 1:4] = True
    np.testing.assert_array_equal(a["masks"][0], want)
    want = np.zeros((4, 6), bool)
    want[1:3, 1] = True
    np.testing.assert_array_equal(a["masks"][1], want)
    assert b["masks"].shape == (1, 5, 5) and b["masks"].all()  # "0i00" = [0, 25, 0]


def test_rle_strings_by_hand_and_round_trip(rng):
    assert rle_from_string("532") == [5, 3, 2]
    assert rle_from_string("1232") == [1, 2, 3, 4]  # the 4th count is stored as 4 - 2
    assert rle_from_string("153M") == [1, 5, 3, 2]  # 2 - 5 = -3 is 'M' (29 + 48)
    assert rle_from_string("0i00") == [0, 25, 0]  # 25 = 0b11001 needs two groups
    m = rng.random((7, 9)) > 0.6
    counts = rle_encode(m)
    np.testing.assert_array_equal(rle_decode(counts, 7, 9), m)
    assert rle_from_string(rle_to_string(counts)) == counts


def test_polygon_triangle():
    # the corner below the diagonal x + y = 4 holds the pixel centres with x + y < 4
    m = polygon_to_mask([[0, 0, 4, 0, 0, 4]], 4, 4)
    yy, xx = np.mgrid[0:4, 0:4] + 0.5
    np.testing.assert_array_equal(m, xx + yy < 4)
    assert m.sum() == 6


@pytest.mark.parametrize("edit,message", [
    (lambda d: d["annotations"][0].update(bbox=[4, 0, 3, 2]), "annotation 100: bbox .* outside"),
    (lambda d: d["annotations"][1].update(category_id=5), "annotation 101: category_id 5 is not"),
    (lambda d: d["annotations"][2].update(image_id=1), "annotation 102: image_id 1"),
    (lambda d: d["annotations"][1]["segmentation"].update(counts=[1, 2]), "annotation 101"),
    (lambda d: d.pop("categories"), "the file has no 'categories'"),
])
def test_coco_errors_name_file_and_entry(tmp_path, edit, message):
    d = json.loads(json.dumps(COCO))
    edit(d)
    with pytest.raises(AnnotationError, match=r"instances\.json: " + message):
        read_coco(_write(tmp_path, d))
    with pytest.raises(AnnotationError, match="bad.json: malformed JSON at line 1"):
        read_coco(_write(tmp_path, '{"images": [', "bad.json"))


VOC = """<annotation>
  <folder>VOC2007</folder>
  <filename>000005.jpg</filename>
  <size><width>500</width><height>375</height><depth>3</depth></size>
  <segmented>0</segmented>
  <object>
    <name>chair</name><pose>Rear</pose><truncated>0</truncated><difficult>0</difficult>
    <bndbox><xmin>263</xmin><ymin>211</ymin><xmax>324</xmax><ymax>339</ymax></bndbox>
  </object>
  <object>
    <name>person</name><pose>Unspecified</pose><truncated>1</truncated><difficult>1</difficult>
    <bndbox><xmin>5</xmin><ymin>1</ymin><xmax>67</xmax><ymax>{ymax}</ymax></bndbox>
  </object>
</annotation>
"""


def test_read_voc_and_errors(tmp_path):
    p = tmp_path / "000005.xml"
    p.write_text(VOC.format(ymax=100))
    r = read_voc(p)
    assert (r["file_name"], r["width"], r["height"]) == ("000005.jpg", 500, 375)
    np.testing.assert_array_equal(r["boxes"], [[263, 211, 324, 339], [5, 1, 67, 100]])
    assert r["labels"].tolist() == [9, 15] and r["difficult"].tolist() == [False, True]
    assert read_voc(p, classes=["person", "chair"])["labels"].tolist() == [2, 1]
    with pytest.raises(AnnotationError, match=r"000005.xml: object 1 \(person\): class 'person'"):
        read_voc(p, classes=["chair"])
    p.write_text(VOC.format(ymax=400))
    with pytest.raises(AnnotationError, match=r"000005.xml: object 1 \(person\): box .* outside"):
        read_voc(p)
    p.write_text(VOC.format(ymax=100)[:-20])
    with pytest.raises(AnnotationError, match="000005.xml: malformed XML"):
        read_voc(p)
