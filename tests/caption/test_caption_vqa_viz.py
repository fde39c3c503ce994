"""VQA questions and model; drawing attention."""

import numpy as np
import pytest

import striate
from striate.caption.shapes import make_shapes
from striate.caption.viz import attention_mass, draw_attention, upsample_attention
from striate.caption.vqa import (
    ANSWERS,
    VQAModel,
    encode_questions,
    make_questions,
    question_vocab,
    train_vqa,
    vqa_data,
)


@pytest.fixture(scope="module")
def data():
    return make_shapes(30, 6, 6, seed=0)


def test_questions_have_true_answers(data):
    qs = make_questions(data.train, per_image=10, seed=0)
    assert len(qs) > 2 * len(data.train)
    for i, q, a, t in zip(qs.image_index, qs.questions, qs.answers, qs.types):
        objs, answer = data.train.scenes[i], ANSWERS[a]
        if t == "count":
            assert answer == ("one" if len(objs) == 1 else "two")
        elif t == "colour":
            (o,) = [o for o in objs if o["shape"] == q.split()[-1]]
            assert answer == o["colour"]
        elif t == "exists":
            c, s = q.split()[-2:]
            assert answer == ("yes" if any(o["colour"] == c and o["shape"] == s for o in objs)
                              else "no")
        elif t == "relation":
            assert len(objs) == 2 and answer in ("circle", "square", "triangle")
    assert set(qs.types) == {"count", "colour", "shape", "size", "relation", "exists"}
    again = make_questions(data.train, per_image=10, seed=0)
    assert again.questions == qs.questions
    with pytest.raises(ValueError, match="no scenes"):
        make_questions(type(data.train)(data.train.images, data.train.captions))


def test_question_encoding_and_model_shapes(data):
    v = question_vocab()
    ids, n = encode_questions(v, ["what colour is the circle", "how many shapes are there"])
    assert ids.shape == (2, 10) and list(n) == [5, 5]
    assert v.unk_id not in ids
    striate.manual_seed(0)
    m = VQAModel(len(v), hidden_dim=16, channels=(4, 8, 8))
    out = m(striate.Tensor(data.train.images[:2]), ids, n)
    assert out.shape == (2, len(ANSWERS))


def test_vqa_training_reduces_the_loss(data):
    striate.manual_seed(0)
    train, val, _ = vqa_data(data, per_image=4)
    v = question_vocab()
    m = VQAModel(len(v), hidden_dim=16, channels=(4, 8, 8))
    h = train_vqa(m, train, val, v, epochs=3, batch_size=32, lr=1e-2, log=lambda s: None)
    assert h[-1]["train_loss"] < h[0]["train_loss"]
    assert 0.0 <= h[-1]["val_accuracy"] <= 1.0


def test_upsample_and_mass():
    alpha = np.zeros(4)
    alpha[1] = 1.0  # the top-right cell of a 2x2 grid
    m = upsample_attention(alpha, (2, 2), (4, 4))
    assert m[:2, 2:].sum() == 4 and m.sum() == 4
    top_right = {"cx": 2.5, "cy": 0.5, "r": 1.0}
    assert attention_mass(alpha, (2, 2), (4, 4), top_right) == pytest.approx(1.0)
    assert attention_mass(alpha, (2, 2), (4, 4), {"cx": 0.5, "cy": 2.5, "r": 0.5}) == 0.0


def test_draw_attention_writes_a_png(tmp_path, data):
    att = np.random.default_rng(0).random((2, 5, 64))
    path = draw_attention(tmp_path / "a.png", data.test.images[:2],
                          [["a", "red", "circle"], ["a", "blue", "square"]], att, (8, 8),
                          title="t")
    from PIL import Image

    with Image.open(path) as im:
        assert im.size[0] > 100 and im.size[1] > 100
