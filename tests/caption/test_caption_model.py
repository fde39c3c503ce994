"""Captioning models: loss, decoding (greedy, beam), attention, gradients."""

import itertools

import numpy as np
import pytest
import striate.functional as F
from opcheck import check_op

import striate
from striate import backend
from striate.autograd import gradcheck
from striate.caption.attention import soft_attention
from striate.caption.model import AttentionCaptioningModel, CaptioningModel, build_captioner
from striate.caption.shapes import make_shapes

TINY = dict(wordvec_dim=6, hidden_dim=12, channels=(4, 8, 8))


@pytest.fixture(scope="module")
def data():
    return make_shapes(24, 4, 4, seed=0)


def _batch(data, n=8):
    idx, caps = data.train.pairs(data.vocab, data.max_length)
    return striate.Tensor(data.train.images[idx[:n]]), caps[:n]


@pytest.mark.parametrize("attention", [False, True])
def test_a_few_steps_reduce_the_loss(data, attention):
    striate.manual_seed(0)
    model = build_captioner({"attention": attention, **TINY}, len(data.vocab), data.image_shape)
    x, caps = _batch(data)
    opt = striate.optim.Adam(model.parameters(), lr=3e-2)
    losses = []
    for _ in range(10):
        loss = model.loss(x, caps)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    # untrained, each of the ~13 words costs about log(V)
    words = (caps[:, 1:] != data.vocab.null_id).sum() / len(caps)
    assert losses[0] == pytest.approx(words * np.log(len(data.vocab)), rel=0.15)
    assert losses[-1] < 0.7 * losses[0]


def test_rnn_cell_and_scores_shape(data):
    striate.manual_seed(0)
    model = CaptioningModel(len(data.vocab), data.image_shape, cell="rnn", **TINY)
    x, caps = _batch(data, 3)
    assert model(x, caps[:, :-1]).shape == (3, caps.shape[1] - 1, len(data.vocab))
    assert model.greedy(x, 5).shape == (3, 5)


def test_bad_inputs_are_named(data):
    model = CaptioningModel(len(data.vocab), data.image_shape, **TINY)
    x, caps = _batch(data, 2)
    with pytest.raises(ValueError, match=r"images must be \(N, 3, 32, 32\)"):
        model.loss(striate.zeros(2, 3, 16, 16), caps)
    with pytest.raises(ValueError, match="2 images but 1 captions"):
        model.loss(x, caps[:1])
    with pytest.raises(ValueError, match="integer ids"):
        model.loss(x, caps.astype(np.float32))
    with pytest.raises(ValueError, match="cell must be"):
        CaptioningModel(len(data.vocab), cell="gru")
    with pytest.raises(ValueError, match="beam_size"):
        model.beam_search(x, 0)


@pytest.mark.parametrize("cls", [CaptioningModel, AttentionCaptioningModel])
def test_beam_one_is_greedy(data, cls):
    striate.manual_seed(1)
    model = cls(len(data.vocab), data.image_shape, **TINY)
    x, _ = _batch(data, 6)
    np.testing.assert_array_equal(model.beam_search(x, 1, 10), model.greedy(x, 10))


def _log_prob(model, x, words, end_id):
    """Summed log-probability of one word sequence (ending with <END> or cut at max length)."""
    cin = np.asarray([[model.start_id] + list(words[:-1])], dtype=np.int64)
    with striate.no_grad():
        model.eval()
        logp = F.log_softmax(model(x, cin), dim=2).array[0]
    return float(sum(logp[t, w] for t, w in enumerate(words)))


def test_wide_beam_finds_the_exact_best_caption():
    # a 6-word vocabulary and 3 steps: a beam as wide as every sequence searches exhaustively
    striate.manual_seed(2)
    model = CaptioningModel(6, (3, 8, 8), wordvec_dim=4, hidden_dim=8, channels=(4,))
    x = striate.Tensor(np.random.default_rng(0).random((1, 3, 8, 8)).astype(np.float32))
    # sharpen the output so the best sequence is well separated from the rest
    model.head.weight.array *= 8.0
    seqs = [s + (2,) for k in range(3) for s in itertools.product(range(6), repeat=k)
            if 2 not in s]
    seqs += [s for s in itertools.product(range(6), repeat=3) if 2 not in s]
    best = max(seqs, key=lambda s: _log_prob(model, x, s, 2))

    def words(ids):  # up to and including the first <END> (the model may emit <NULL> too)
        ids = [int(w) for w in ids]
        return tuple(ids[:ids.index(2) + 1] if 2 in ids else ids)

    got = words(model.beam_search(x, 216, max_length=3)[0])
    assert got == tuple(best)
    assert _log_prob(model, x, got, 2) >= _log_prob(model, x, words(model.greedy(x, 3)[0]), 2)


def test_attention_weights_sum_to_one(data):
    striate.manual_seed(0)
    model = AttentionCaptioningModel(len(data.vocab), data.image_shape, **TINY)
    x, _ = _batch(data, 4)
    ids, att = model.greedy(x, 6, return_attention=True)
    assert model.feature_grid == (8, 8)
    assert att.shape == (4, 6, 64)
    steps = att.sum(axis=2)
    # every emitted step sums to 1; steps after all captions ended stay zero
    ran = steps > 0
    np.testing.assert_allclose(steps[ran], 1.0, rtol=1e-5)
    assert ran[:, 0].all() and (att >= 0).all()


def test_soft_attention_op_gradients_and_torch():
    rng = np.random.default_rng(0)
    proj, feats = rng.standard_normal((2, 5, 3)), rng.standard_normal((2, 5, 4))
    q, w = rng.standard_normal((2, 3)), rng.standard_normal(3)

    def fn(p, f, h, v):
        alpha, z = soft_attention(p, f, h, v)
        return F.cat([alpha * 1.5, z], 1)

    def torch_fn(p, f, h, v):
        import torch

        e = torch.tanh(p + h[:, None, :]) @ v
        alpha = torch.softmax(e, 1)
        z = (alpha[:, :, None] * f).sum(1)
        return torch.cat([alpha * 1.5, z], 1)

    out = check_op(fn, [proj, feats, q, w], torch_fn=torch_fn)
    np.testing.assert_allclose(out[:, :5].sum(1) / 1.5, 1.0)
    with pytest.raises(ValueError, match="q must be"):
        soft_attention(*(striate.tensor(a) for a in (proj, feats, q[:, :2], w)))


@pytest.mark.parametrize("attention", [False, True])
def test_model_gradients_float64(attention):
    backend.set_default_dtype(np.float64)
    try:
        striate.manual_seed(3)
        model = build_captioner({"attention": attention, "wordvec_dim": 3, "hidden_dim": 4,
                                 "attention_dim": 3, "channels": (2, 2)}, 6, (3, 4, 4))
        rng = np.random.default_rng(0)
        x = striate.Tensor(rng.random((2, 3, 4, 4)))
        caps = np.asarray([[1, 4, 5, 2, 0], [1, 3, 2, 0, 0]], dtype=np.int64)
        params = dict(model.named_parameters())
        names = ["embed.weight", "head.weight", "encoder.net.0.weight", "encoder.net.4.bias"]
        names += ["att_score", "att_hidden.weight", "cell.weight_hh"] if attention else \
            ["proj.weight", "rnn.weight_hh_l0"]
        inputs = [params[k] for k in names]
        assert all(p.dtype == np.float64 for p in inputs)
        assert gradcheck(lambda *_: model.loss(x, caps), inputs)
    finally:
        backend.set_default_dtype(np.float32)
