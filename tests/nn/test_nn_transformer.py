"""Transformer layers against PyTorch with copied weights: outputs and every gradient, in
evaluation and in training with dropout 0, post-norm and pre-norm, relu / gelu / a callable,
masks and padding, batch_first, bias=False."""

import numpy as np
import pytest

import striate
from striate import nn

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.filterwarnings("ignore:Support for mismatched")
from torchpair import compare, copy_weights  # noqa: E402

D, H, FF = 8, 2, 16


def _layers(kind, **kw):
    t = getattr(torch.nn, kind)(D, H, FF, dropout=0.0, **kw).double()
    if kw.get("activation") is torch.nn.functional.silu:
        kw["activation"] = lambda x: x * x.sigmoid()
    s = getattr(nn, kind)(D, H, FF, dropout=0.0, dtype=np.float64, **kw)
    copy_weights(s, t)
    return s, t


@pytest.mark.parametrize("kw", [{}, {"norm_first": True}, {"activation": "gelu"},
                                {"batch_first": True, "norm_first": True},
                                {"bias": False, "layer_norm_eps": 1e-3},
                                {"activation": torch.nn.functional.silu}])
@pytest.mark.parametrize("training", [False, True])
def test_encoder_layer_matches_torch(kw, training):
    rng = np.random.default_rng(0)
    s, t = _layers("TransformerEncoderLayer", **kw)
    s.train(training)
    t.train(training)
    x = rng.standard_normal((3, 5, D) if kw.get("batch_first") else (5, 3, D))
    pad = np.zeros((3, 5), dtype=bool)
    pad[0, 3:] = True
    causal = torch.nn.Transformer.generate_square_subsequent_mask(5, dtype=torch.float64).numpy()
    compare(s, t, [x], src_mask=causal, src_key_padding_mask=pad)
    s.zero_grad()
    t.zero_grad()
    compare(s, t, [x], src_mask=causal, is_causal=True)


@pytest.mark.parametrize("kw", [{}, {"norm_first": True, "activation": "gelu"},
                                {"batch_first": True}])
def test_decoder_layer_matches_torch(kw):
    rng = np.random.default_rng(1)
    s, t = _layers("TransformerDecoderLayer", **kw)
    bf = kw.get("batch_first", False)
    tgt = rng.standard_normal((2, 4, D) if bf else (4, 2, D))
    mem = rng.standard_normal((2, 6, D) if bf else (6, 2, D))
    mpad = np.zeros((2, 6), dtype=bool)
    mpad[1, 4:] = True
    causal = np.triu(np.ones((4, 4), dtype=bool), 1)
    compare(s, t, [tgt, mem], tgt_mask=causal, memory_key_padding_mask=mpad)


def test_stacks_and_full_transformer_match_torch():
    rng = np.random.default_rng(2)
    for training in (False, True):
        torch.manual_seed(0)
        t = torch.nn.Transformer(D, H, 2, 2, FF, dropout=0.0, batch_first=True).double()
        s = nn.Transformer(D, H, 2, 2, FF, dropout=0.0, batch_first=True, dtype=np.float64)
        copy_weights(s, t)
        s.train(training)
        t.train(training)
        src, tgt = rng.standard_normal((2, 6, D)), rng.standard_normal((2, 4, D))
        tgt_mask = nn.Transformer.generate_square_subsequent_mask(4, dtype=np.float64).array
        pad = np.zeros((2, 6), dtype=bool)
        pad[0, 5] = True
        compare(s, t, [src, tgt], tgt_mask=tgt_mask, src_key_padding_mask=pad,
                memory_key_padding_mask=pad, tgt_is_causal=True)
    # an encoder stack with a final norm, sequence-first
    layer_t = torch.nn.TransformerEncoderLayer(D, H, FF, dropout=0.0).double()
    enc_t = torch.nn.TransformerEncoder(layer_t, 3, norm=torch.nn.LayerNorm(D).double(),
                                        enable_nested_tensor=False)
    enc_s = nn.TransformerEncoder(nn.TransformerEncoderLayer(D, H, FF, dropout=0.0,
                                                             dtype=np.float64), 3,
                                  norm=nn.LayerNorm(D, dtype=np.float64))
    copy_weights(enc_s, enc_t)
    compare(enc_s, enc_t, [rng.standard_normal((5, 2, D))])
    dec_t = torch.nn.TransformerDecoder(
        torch.nn.TransformerDecoderLayer(D, H, FF, dropout=0.0).double(), 2)
    dec_s = nn.TransformerDecoder(nn.TransformerDecoderLayer(D, H, FF, dropout=0.0,
                                                             dtype=np.float64), 2)
    copy_weights(dec_s, dec_t)
    compare(dec_s, dec_t, [rng.standard_normal((3, 2, D)), rng.standard_normal((5, 2, D))])


def test_square_subsequent_mask_and_init():
    m = nn.Transformer.generate_square_subsequent_mask(4)
    ref = torch.nn.Transformer.generate_square_subsequent_mask(4).numpy()
    np.testing.assert_array_equal(m.array, ref)
    striate.manual_seed(0)
    tr = nn.Transformer(16, 2, 1, 1, 32)
    w = tr.encoder.layers[0].linear1.weight.array  # xavier_uniform over every matrix
    bound = np.sqrt(6 / (16 + 32))
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound
    # the copies of a stack start equal, as PyTorch's deep copies do
    enc = nn.TransformerEncoder(nn.TransformerEncoderLayer(16, 2, 32), 2)
    np.testing.assert_array_equal(enc.layers[0].linear1.weight.array,
                                  enc.layers[1].linear1.weight.array)
    with pytest.raises(ValueError, match="activation must be"):
        nn.TransformerEncoderLayer(16, 2, activation="swish")


def test_transformer_trains_a_copy_task():
    striate.manual_seed(0)
    V, T = 6, 5
    emb = nn.Embedding(V, 16)
    model = nn.TransformerEncoder(nn.TransformerEncoderLayer(16, 2, 32, dropout=0.0,
                                                             batch_first=True), 1)
    head = nn.Linear(16, V)
    params = list(emb.parameters()) + list(model.parameters()) + list(head.parameters())
    opt = striate.optim.Adam(params, lr=1e-2)
    rng = np.random.default_rng(0)
    first = None
    for _ in range(60):
        x = striate.tensor(rng.integers(0, V, (8, T)))
        loss = nn.functional.cross_entropy(head(model(emb(x))).reshape(-1, V), x.reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
        first = loss.item() if first is None else first
    assert loss.item() < 0.2 * first
