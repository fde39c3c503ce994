"""The synthetic shapes set, the vocabulary and the COCO reader."""

import json

import numpy as np
import pytest

from striate.caption.coco import load_coco, read_coco_captions
from striate.caption.shapes import (
    COLOURS,
    SHAPES,
    SIZES,
    Vocabulary,
    describe,
    make_shapes,
    render_scene,
    tokenize,
)


def test_generator_is_deterministic_and_seed_dependent():
    a = make_shapes(20, 5, 5, seed=3)
    b = make_shapes(20, 5, 5, seed=3)
    c = make_shapes(20, 5, 5, seed=4)
    np.testing.assert_array_equal(a.train.images, b.train.images)
    np.testing.assert_array_equal(a.test.images, b.test.images)
    assert a.train.captions == b.train.captions
    assert a.train.captions != c.train.captions


def test_images_and_captions_are_consistent():
    d = make_shapes(60, 5, 5, size=32, seed=0)
    assert d.train.images.shape == (60, 3, 32, 32) and d.train.images.dtype == np.float32
    assert 0.0 <= d.train.images.min() and d.train.images.max() <= 1.0
    for objs, refs in zip(d.train.scenes, d.train.captions):
        assert refs == describe(objs)
        assert len(refs) == len(objs)  # two shapes: either one named first
        for o in objs:
            assert o["colour"] in COLOURS and o["shape"] in SHAPES and o["size"] in SIZES
            assert f"{o['size']} {o['colour']} {o['shape']}" in refs[0]
        if len(objs) == 2:
            a, b = objs
            rel = a["relation"]
            # the relation is true of the drawn positions, with a gap between the shapes
            if rel == "above":
                assert a["cy"] + a["r"] < b["cy"] - b["r"]
            elif rel == "below":
                assert a["cy"] - a["r"] > b["cy"] + b["r"]
            elif rel == "to the left of":
                assert a["cx"] + a["r"] < b["cx"] - b["r"]
            else:
                assert a["cx"] - a["r"] > b["cx"] + b["r"]
    assert d.max_length >= max(len(c.split()) for refs in d.train.captions for c in refs)


def test_rendered_colour_is_where_the_shape_is():
    o = {"colour": "red", "shape": "square", "size": "large", "cx": 10.0, "cy": 20.0, "r": 7.0}
    img = render_scene([o], 32)
    np.testing.assert_allclose(img[:, 20, 10], COLOURS["red"], atol=1e-6)
    np.testing.assert_allclose(img[:, 2, 30], 0.08, atol=1e-6)  # background


def test_bad_generator_arguments():
    with pytest.raises(ValueError, match="n_train"):
        make_shapes(0, 5, 5)
    with pytest.raises(ValueError, match="size"):
        make_shapes(5, 5, 5, size=8)


def test_vocabulary_roundtrip_and_specials():
    v = Vocabulary.from_captions(["a red circle", "a blue square above a red circle"])
    assert v.itos[:4] == ["<NULL>", "<START>", "<END>", "<UNK>"]
    ids = v.encode("a blue square above a red circle", max_length=10)
    assert ids.shape == (12,) and ids[0] == v.start_id
    assert list(ids[-3:]) == [v.null_id] * 3
    assert v.decode(ids) == "a blue square above a red circle"
    assert v.decode(v.encode("a green circle")) == "a <UNK> circle"
    assert Vocabulary.from_dict(v.to_dict()).itos == v.itos
    assert v.encode_batch(["a red circle", "a"], 4).shape == (2, 6)
    assert tokenize("A Dog, running.") == ["a", "dog", "running"]
    with pytest.raises(ValueError, match="unique"):
        Vocabulary(["a", "a"])


def test_pairs_cover_every_reference():
    d = make_shapes(10, 2, 2, seed=1)
    idx, caps = d.train.pairs(d.vocab, d.max_length)
    assert len(idx) == sum(len(r) for r in d.train.captions)
    for i, row in zip(idx, caps):
        assert d.vocab.decode(row) in d.train.captions[i]


def _write_coco(tmp_path, n=5):
    from PIL import Image

    folder = tmp_path / "images"
    folder.mkdir()
    images, anns = [], []
    for i in range(n):
        name = f"img{i}.png"
        Image.fromarray(np.full((20, 30, 3), 40 * i, dtype=np.uint8)).save(folder / name)
        images.append({"id": 100 + i, "file_name": name})
        anns.append({"image_id": 100 + i, "caption": f"A photo number {i}."})
        anns.append({"image_id": 100 + i, "caption": "A grey PHOTO"})
    path = tmp_path / "captions.json"
    path.write_text(json.dumps({"images": images, "annotations": anns}))
    return path, folder


def test_coco_reader_on_a_tiny_file(tmp_path):
    path, folder = _write_coco(tmp_path)
    entries = read_coco_captions(path)
    assert [e[0] for e in entries] == [100, 101, 102, 103, 104]
    assert entries[1][2] == ["a photo number 1", "a grey photo"]
    d = load_coco(path, folder, image_size=16, fractions=(0.6, 0.2, 0.2), min_count=1)
    assert (len(d.train), len(d.val), len(d.test)) == (3, 1, 1)
    assert d.train.images.shape == (3, 3, 16, 16)
    np.testing.assert_allclose(d.train.images[2], 80 / 255, atol=1e-6)
    assert d.test.ids == [104]
    assert "photo" in d.vocab and "grey" in d.vocab
    assert d.vocab.decode(d.vocab.encode(d.val.captions[0][0])) == "a photo number <UNK>"


def test_coco_reader_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="annotations file not found"):
        read_coco_captions(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text('{"images": [1, 2')
    with pytest.raises(ValueError, match="bad.json: not valid JSON"):
        read_coco_captions(bad)
    bad.write_text('{"images": []}')
    with pytest.raises(ValueError, match="'annotations'"):
        read_coco_captions(bad)
    bad.write_text('{"images": [{"id": 1, "file_name": "x.png"}], '
                   '"annotations": [{"image_id": 2, "caption": "x"}]}')
    with pytest.raises(ValueError, match="image_id 2"):
        read_coco_captions(bad)
    path, folder = _write_coco(tmp_path)
    (folder / "img3.png").unlink()
    with pytest.raises(FileNotFoundError, match="img3.png"):
        load_coco(path, folder)
    (folder / "img3.png").write_text("not an image")
    with pytest.raises(ValueError, match="cannot read COCO image"):
        load_coco(path, folder)
