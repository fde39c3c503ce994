"""PyTorch options that were refused before: LSTM(proj_size=...), Embedding(max_norm=...,
norm_type=..., scale_grad_by_freq=...) and from_pretrained, Conv1d/Conv2d padding_mode
"reflect" / "replicate" / "circular" and F.pad(mode="circular"); each against torch with copied
weights (values and gradients, float64), and against numerical gradients."""

import numpy as np
import pytest
import striate.functional as F

import striate
from striate import nn
from striate.autograd import gradcheck

TOL = dict(rtol=1e-10, atol=1e-12)


def _copy(ours, theirs):
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})


def _backward_both(torch, so, to, rng):
    w = rng.standard_normal(tuple(to.shape))
    (so * striate.tensor(w)).sum().backward()
    (to * torch.tensor(w)).sum().backward()


@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("batch_first", [False, True])
def test_lstm_proj_size_equals_torch(torch, rng, bidirectional, batch_first):
    t = torch.nn.LSTM(3, 5, num_layers=2, proj_size=2, bidirectional=bidirectional,
                      batch_first=batch_first).double()
    s = nn.LSTM(3, 5, num_layers=2, proj_size=2, bidirectional=bidirectional,
                batch_first=batch_first).double()
    assert [(k, tuple(v.shape)) for k, v in s.state_dict().items()] == \
        [(k, tuple(v.shape)) for k, v in t.state_dict().items()]
    assert repr(s) == repr(t)
    _copy(s, t)
    d = 2 if bidirectional else 1
    x = rng.standard_normal((3, 4, 3))  # (T, N, D) or (N, T, D)
    n = x.shape[0] if batch_first else x.shape[1]
    h0, c0 = rng.standard_normal((2 * d, n, 2)), rng.standard_normal((2 * d, n, 5))
    ours = [striate.tensor(a, requires_grad=True) for a in (x, h0, c0)]
    theirs = [torch.tensor(a, requires_grad=True) for a in (x, h0, c0)]
    so, (sh, sc) = s(ours[0], (ours[1], ours[2]))
    to, (th, tc) = t(theirs[0], (theirs[1], theirs[2]))
    for a, b in ((so, to), (sh, th), (sc, tc)):
        assert tuple(a.shape) == tuple(b.shape)
        np.testing.assert_allclose(a.array, b.detach().numpy(), **TOL)
    _backward_both(torch, F.cat([so.reshape(-1), sh.reshape(-1), sc.reshape(-1)]),
                   torch.cat([to.reshape(-1), th.reshape(-1), tc.reshape(-1)]), rng)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.grad.array, b.grad.numpy(), **TOL)
    for (name, p), q in zip(s.named_parameters(), t.parameters()):
        np.testing.assert_allclose(p.grad.array, q.grad.numpy(), **TOL, err_msg=name)


def test_lstm_proj_size_unbatched_default_state_and_gradcheck(rng):
    s = nn.LSTM(2, 3, proj_size=1).double()
    x = striate.tensor(rng.standard_normal((4, 2)), requires_grad=True)
    out, (h, c) = s(x)
    assert out.shape == (4, 1) and h.shape == (1, 1) and c.shape == (1, 3)
    assert gradcheck(lambda v: s(v)[0], (x,))
    with pytest.raises(ValueError, match=r"h0 must have shape .* = \(1, 2, 1\), got \(1, 2, 3\)"):
        s(striate.randn(4, 2, 2).double(), (striate.zeros(1, 2, 3).double(),
                                            striate.zeros(1, 2, 3).double()))


@pytest.mark.parametrize("norm_type", [2.0, 1.0, float("inf")])
def test_embedding_max_norm_and_scale_grad_by_freq_equal_torch(torch, rng, norm_type):
    t = torch.nn.Embedding(6, 4, padding_idx=1, max_norm=1.5, norm_type=norm_type,
                           scale_grad_by_freq=True).double()
    s = nn.Embedding(6, 4, padding_idx=1, max_norm=1.5, norm_type=norm_type,
                     scale_grad_by_freq=True).double()
    _copy(s, t)
    assert repr(s) == repr(t)
    idx = np.array([[0, 1, 2, 2], [5, 2, 0, 3]])
    version = s.weight._version[0]
    so, to = s(striate.tensor(idx)), t(torch.tensor(idx))
    # the looked-up rows were renormalised in place (row 4 was not looked up: unchanged)
    np.testing.assert_allclose(s.weight.array, t.weight.detach().numpy(), **TOL)
    assert s.weight._version[0] > version
    np.testing.assert_allclose(so.array, to.detach().numpy(), **TOL)
    _backward_both(torch, so, to, rng)
    np.testing.assert_allclose(s.weight.grad.array, t.weight.grad.numpy(), **TOL)
    # the functional form does the same to a plain weight
    w0 = rng.standard_normal((6, 4)) * 3
    w, tw = striate.tensor(w0.copy()), torch.tensor(w0.copy())
    out = F.embedding(striate.tensor(idx), w, max_norm=1.0, norm_type=norm_type)
    tout = torch.nn.functional.embedding(torch.tensor(idx), tw, max_norm=1.0,
                                         norm_type=norm_type)
    np.testing.assert_allclose(out.array, tout.numpy(), **TOL)
    np.testing.assert_allclose(w.array, tw.numpy(), **TOL)


def test_embedding_from_pretrained(torch):
    w = np.arange(12.0).reshape(4, 3)
    s = nn.Embedding.from_pretrained(striate.tensor(w))
    t = torch.nn.Embedding.from_pretrained(torch.tensor(w))
    assert not s.weight.requires_grad and repr(s) == repr(t)
    np.testing.assert_array_equal(s(striate.tensor([3, 0])).array,
                                  t(torch.tensor([3, 0])).numpy())
    assert nn.Embedding.from_pretrained(w, freeze=False).weight.requires_grad
    with pytest.raises(ValueError, match="from_pretrained: embeddings must be 2-D"):
        nn.Embedding.from_pretrained(np.zeros(3))


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
def test_conv_padding_modes_equal_torch(torch, rng, mode):
    cases = [(nn.Conv2d(3, 4, 3, padding=(1, 2), padding_mode=mode),
              torch.nn.Conv2d(3, 4, 3, padding=(1, 2), padding_mode=mode), (2, 3, 6, 5)),
             (nn.Conv2d(3, 2, 4, padding="same", dilation=2, padding_mode=mode),
              torch.nn.Conv2d(3, 2, 4, padding="same", dilation=2, padding_mode=mode),
              (1, 3, 7, 7)),
             (nn.Conv1d(3, 4, 3, padding=2, stride=2, padding_mode=mode),
              torch.nn.Conv1d(3, 4, 3, padding=2, stride=2, padding_mode=mode), (2, 3, 8))]
    for s, t, shape in cases:
        s, t = s.double(), t.double()
        _copy(s, t)
        assert repr(s) == repr(t)
        x = rng.standard_normal(shape)
        sx, tx = striate.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        so, to = s(sx), t(tx)
        np.testing.assert_allclose(so.array, to.detach().numpy(), **TOL)
        _backward_both(torch, so, to, rng)
        np.testing.assert_allclose(sx.grad.array, tx.grad.numpy(), **TOL)
        np.testing.assert_allclose(s.weight.grad.array, t.weight.grad.numpy(), **TOL)


def test_pad_circular_equals_torch_and_gradcheck(torch, rng):
    x = rng.standard_normal((2, 3, 4, 5))
    sx = striate.tensor(x, requires_grad=True)
    out = F.pad(sx, (2, 1, 1, 3), mode="circular")
    tout = torch.nn.functional.pad(torch.tensor(x), (2, 1, 1, 3), mode="circular")
    np.testing.assert_allclose(out.array, tout.numpy(), **TOL)
    assert gradcheck(lambda v: F.pad(v, (1, 2), mode="circular"), (sx,))
    with pytest.raises(ValueError, match="pad: mode must be constant, reflect, replicate or "
                                         "circular, got 'wrap'"):
        F.pad(sx, (1, 1), mode="wrap")


def test_embedding_max_norm_renorm_is_an_inplace_write(torch):
    """As PyTorch documents: a graph that saved the weight before a max_norm lookup cannot
    backpropagate (the renormalisation wrote it in place)."""
    for lib in (striate, torch):
        emb = lib.nn.Embedding(5, 3, max_norm=0.1)
        x = lib.ones(1, 3, requires_grad=True)
        out = lib.nn.functional.linear(x, emb.weight)  # saves the weight for x's gradient
        emb(lib.tensor([1]))
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            out.sum().backward()
