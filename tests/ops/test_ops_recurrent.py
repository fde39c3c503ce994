"""Fused recurrent Functions (RNN/LSTM/GRU layers and cells), embedding and the temporal softmax
loss: float64 gradient checks, PyTorch parity, and the course's formula for the loss."""

import numpy as np
import pytest
import striate.functional as F
from opcheck import HAVE_TORCH, check_op

import striate
from striate.autograd import gradcheck

T, N, D, H = 4, 3, 3, 5
GATES = {"rnn_tanh": 1, "rnn_relu": 1, "lstm": 4, "gru": 3}


def _weights(rng, g, d=D, h=H):
    return [rng.standard_normal(s) * 0.6 for s in [(g * h, d), (g * h, h), (g * h,), (g * h,)]]


def _run(kind, x, h0, c0, w_ih, w_hh, b_ih, b_hh, batch_first):
    """Our layer, reduced to one tensor (output, and c_T for the LSTM) for gradcheck."""
    if kind == "lstm":
        out, c = F.lstm_layer(x, h0, c0, w_ih, w_hh, b_ih, b_hh, batch_first=batch_first)
        return F.cat([out.reshape(-1), c.reshape(-1)])
    if kind == "gru":
        return F.gru_layer(x, h0, w_ih, w_hh, b_ih, b_hh, batch_first=batch_first)
    return F.rnn_layer(x, h0, w_ih, w_hh, b_ih, b_hh, nonlinearity=kind[4:],
                       batch_first=batch_first)


def _torch_run(kind, x, h0, c0, w_ih, w_hh, b_ih, b_hh, batch_first):
    import torch
    from torch.func import functional_call

    d, h = x.shape[-1], w_hh.shape[1]
    if kind == "lstm":
        m = torch.nn.LSTM(d, h, batch_first=batch_first)
    elif kind == "gru":
        m = torch.nn.GRU(d, h, batch_first=batch_first)
    else:
        m = torch.nn.RNN(d, h, nonlinearity=kind[4:], batch_first=batch_first)
    m = m.to(x.dtype)
    p = {"weight_ih_l0": w_ih, "weight_hh_l0": w_hh, "bias_ih_l0": b_ih, "bias_hh_l0": b_hh}
    if kind == "lstm":
        out, (_, c) = functional_call(m, p, (x, (h0[None], c0[None])))
        return torch.cat([out.reshape(-1), c.reshape(-1)])
    return functional_call(m, p, (x, h0[None]))[0]


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("kind", list(GATES))
def test_layer_gradcheck_and_torch(kind, batch_first):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((N, T, D) if batch_first else (T, N, D))
    h0, c0 = rng.standard_normal((N, H)), rng.standard_normal((N, H))
    inputs = [x, h0, c0, *_weights(rng, GATES[kind])]
    grad_inputs = None if kind == "lstm" else [0, 1, 3, 4, 5, 6]  # c0 is the LSTM's only
    out = check_op(lambda *a: _run(kind, *a, batch_first),
                   inputs, torch_fn=lambda *a: _torch_run(kind, *a, batch_first),
                   grad_inputs=grad_inputs)
    seq = (N, T, H) if batch_first else (T, N, H)
    assert out.shape == ((T * N * H + N * H,) if kind == "lstm" else seq)


@pytest.mark.parametrize("kind", ["rnn_tanh", "lstm", "gru"])
def test_layer_without_bias_and_initial_state(kind):
    rng = np.random.default_rng(4)
    x = striate.tensor(rng.standard_normal((T, N, D)), requires_grad=True)
    w_ih, w_hh, _, _ = [striate.tensor(a, requires_grad=True) for a in _weights(rng, GATES[kind])]
    zeros = striate.zeros(N, H, dtype=np.float64)
    zb = striate.zeros(GATES[kind] * H, dtype=np.float64)
    a = _run(kind, x, None, None, w_ih, w_hh, None, None, False)
    b = _run(kind, x, zeros, zeros, w_ih, w_hh, zb, zb, False)
    np.testing.assert_allclose(a.array, b.array, atol=1e-12)
    assert gradcheck(lambda x, wi, wh: _run(kind, x, None, None, wi, wh, None, None, False),
                     [x, w_ih, w_hh], atol=1e-7, rtol=1e-5)


def _cell(kind, x, h, c, w_ih, w_hh, b_ih, b_hh):
    if kind == "lstm":
        h2, c2 = F.lstm_cell(x, (h, c), w_ih, w_hh, b_ih, b_hh)
        return F.cat([h2, c2], 1)
    if kind == "gru":
        return F.gru_cell(x, h, w_ih, w_hh, b_ih, b_hh)
    return F.rnn_cell(x, h, w_ih, w_hh, b_ih, b_hh, nonlinearity=kind[4:])


def _torch_cell(kind, x, h, c, w_ih, w_hh, b_ih, b_hh):
    import torch

    if kind == "lstm":
        h2, c2 = torch._VF.lstm_cell(x, (h, c), w_ih, w_hh, b_ih, b_hh)
        return torch.cat([h2, c2], 1)
    if kind == "gru":
        return torch._VF.gru_cell(x, h, w_ih, w_hh, b_ih, b_hh)
    fn = torch._VF.rnn_tanh_cell if kind == "rnn_tanh" else torch._VF.rnn_relu_cell
    return fn(x, h, w_ih, w_hh, b_ih, b_hh)


@pytest.mark.parametrize("kind", list(GATES))
def test_cell_gradcheck_and_torch(kind):
    rng = np.random.default_rng(5)
    inputs = [rng.standard_normal((N, D)), rng.standard_normal((N, H)),
              rng.standard_normal((N, H)), *_weights(rng, GATES[kind])]
    grad_inputs = None if kind == "lstm" else [0, 1, 3, 4, 5, 6]
    out = check_op(lambda *a: _cell(kind, *a), inputs,
                   torch_fn=lambda *a: _torch_cell(kind, *a), grad_inputs=grad_inputs)
    assert out.shape == (N, 2 * H if kind == "lstm" else H)


def test_thousand_step_sequence_and_cell_loop_backward():
    # one node per layer for the fused layer; 1,000 cell steps build a deep graph that the
    # iterative backward must walk without hitting Python's recursion limit
    rng = np.random.default_rng(6)
    x = striate.tensor(rng.standard_normal((1000, 2, 3)).astype(np.float32), requires_grad=True)
    w = [striate.tensor(a.astype(np.float32), requires_grad=True) for a in _weights(rng, 4, 3, 4)]
    out, c = F.lstm_layer(x, None, None, *w)
    out.sum().backward()
    assert x.grad.shape == (1000, 2, 3) and np.isfinite(x.grad.array).all()
    h = c = None
    for t in range(1000):
        h, c = F.lstm_cell(x[t], None if h is None else (h, c), *w)
    h.sum().backward()
    assert np.abs(x.grad.array).sum() > 0


def test_layer_errors_name_the_argument():
    x = striate.randn(T, N, D)
    w_ih, w_hh = striate.randn(4 * H, D), striate.randn(4 * H, H)
    with pytest.raises(ValueError, match="w_ih must have shape"):
        F.lstm_layer(x, None, None, striate.randn(4 * H, D + 1), w_hh)
    with pytest.raises(ValueError, match="h0 must have shape"):
        F.lstm_layer(x, striate.randn(N + 1, H), None, w_ih, w_hh)
    with pytest.raises(ValueError, match="input must be 3-D"):
        F.gru_layer(striate.randn(N, D), None, striate.randn(3 * H, D), striate.randn(3 * H, H))
    with pytest.raises(ValueError, match="nonlinearity"):
        F.rnn_layer(x, None, striate.randn(H, D), striate.randn(H, H), nonlinearity="sigmoid")


def test_embedding_matches_torch_and_padding_gets_no_gradient():
    rng = np.random.default_rng(7)
    idx = rng.integers(0, 6, size=(4, 5))
    idx[0, :2] = 2
    w = rng.standard_normal((6, 3))
    check_op(lambda i, w: F.embedding(i, w), [idx, w], grad_inputs=[1],
             torch_fn=lambda i, w: __import__("torch").nn.functional.embedding(i, w))
    # the padding row's gradient is zero by definition, not the numerical one: torch parity only
    check_op(lambda i, w: F.embedding(i, w, padding_idx=2), [idx, w], grad_inputs=[1],
             check_grad=False,
             torch_fn=lambda i, w: __import__("torch").nn.functional.embedding(i, w, 2))
    ws = striate.tensor(w, requires_grad=True)
    F.embedding(striate.tensor(idx), ws, padding_idx=2).sum().backward()
    assert np.all(ws.grad.array[2] == 0) and np.all(ws.grad.array[0] == (idx == 0).sum())
    with pytest.raises(IndexError, match="out of range"):
        F.embedding(striate.tensor([6]), ws)
    with pytest.raises(TypeError, match="integer"):
        F.embedding(striate.tensor([0.5]), ws)


def _temporal_loss_numpy(x, y, mask):
    n, t, v = x.shape
    xf = x.reshape(n * t, v)
    p = np.exp(xf - xf.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    return -np.sum(mask.reshape(-1) * np.log(p[np.arange(n * t), y.reshape(-1)])) / n


def test_temporal_softmax_loss_matches_formula_and_gradchecks():
    rng = np.random.default_rng(8)
    x = rng.standard_normal((3, 4, 6))
    y = rng.integers(0, 6, size=(3, 4))
    mask = rng.random((3, 4)) > 0.4
    want = _temporal_loss_numpy(x, y, mask)
    got = F.temporal_softmax_loss(striate.tensor(x), striate.tensor(y), striate.tensor(mask))
    assert abs(got.item() - want) < 1e-12
    tok = F.temporal_softmax_loss(striate.tensor(x), striate.tensor(y), mask, normalize="tokens")
    assert abs(tok.item() - want * 3 / mask.sum()) < 1e-12
    check_op(lambda x: F.temporal_softmax_loss(x, y, mask), [x])
    xs = striate.tensor(x, requires_grad=True)
    F.temporal_softmax_loss(xs, y, mask).backward()
    assert np.all(xs.grad.array[~mask] == 0)  # padding steps get no gradient


def test_temporal_softmax_loss_errors():
    x = striate.randn(2, 3, 4)
    with pytest.raises(ValueError, match=r"y must have shape \(N, T\)"):
        F.temporal_softmax_loss(x, striate.tensor(np.zeros((2, 4), dtype=np.int64)))
    with pytest.raises(ValueError, match="mask must have shape"):
        F.temporal_softmax_loss(x, striate.tensor(np.zeros((2, 3), dtype=np.int64)),
                                np.ones((3, 2), bool))
    with pytest.raises(IndexError, match="outside"):
        F.temporal_softmax_loss(x, striate.tensor(np.full((2, 3), 4)))


@pytest.mark.skipif(not HAVE_TORCH, reason="needs torch")
def test_temporal_softmax_loss_matches_torch_cross_entropy():
    import torch

    rng = np.random.default_rng(9)
    x = rng.standard_normal((5, 7, 11)).astype(np.float32)
    y = rng.integers(0, 11, size=(5, 7))
    mask = rng.random((5, 7)) > 0.3
    xs = striate.tensor(x, requires_grad=True)
    loss = F.temporal_softmax_loss(xs, striate.tensor(y), mask)
    loss.backward()
    xt = torch.tensor(x, requires_grad=True)
    nll = torch.nn.functional.cross_entropy(xt.reshape(-1, 11), torch.tensor(y).reshape(-1),
                                            reduction="none")
    lt = (nll * torch.tensor(mask.reshape(-1).astype(np.float32))).sum() / 5
    lt.backward()
    assert abs(loss.item() - lt.item()) < 1e-4
    np.testing.assert_allclose(xs.grad.array, xt.grad.numpy(), atol=1e-6)
