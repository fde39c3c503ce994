"""nn.RNN/LSTM/GRU and their cells against torch.nn given the same weights (a torch state_dict
loaded into ours), Embedding, Highway, TemporalSoftmaxLoss and truncated BPTT."""

import numpy as np
import pytest
import striate.functional as F

import striate
from striate import nn, optim
from striate.autograd import gradcheck
from striate.nn import init

D, H, T, N = 3, 4, 5, 2


def _make(kind, torch, layers, batch_first, nonlinearity="tanh"):
    kw = {"num_layers": layers, "batch_first": batch_first}
    if kind == "RNN":
        return (nn.RNN(D, H, nonlinearity=nonlinearity, **kw),
                torch.nn.RNN(D, H, nonlinearity=nonlinearity, **kw))
    return getattr(nn, kind)(D, H, **kw), getattr(torch.nn, kind)(D, H, **kw)


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("kind,nonlin", [("RNN", "tanh"), ("RNN", "relu"), ("LSTM", None),
                                         ("GRU", None)])
def test_sequence_modules_match_torch(kind, nonlin, batch_first):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    ours, theirs = _make(kind, torch, 2, batch_first, nonlin or "tanh")
    theirs = theirs.double()
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    ours.double()
    rng = np.random.default_rng(1)
    x = rng.standard_normal((N, T, D) if batch_first else (T, N, D))
    h0 = rng.standard_normal((2, N, H))
    c0 = rng.standard_normal((2, N, H))
    xs, hs, cs = (striate.tensor(a, requires_grad=True) for a in (x, h0, c0))
    xt, ht, ct = (torch.tensor(a, requires_grad=True) for a in (x, h0, c0))
    if kind == "LSTM":
        out, (h_n, c_n) = ours(xs, (hs, cs))
        tout, (th_n, tc_n) = theirs(xt, (ht, ct))
        np.testing.assert_allclose(c_n.array, tc_n.detach().numpy(), atol=1e-10)
        extra, textra = (c_n * c_n).sum(), (tc_n * tc_n).sum()
    else:
        out, h_n = ours(xs, hs)
        tout, th_n = theirs(xt, ht)
        extra, textra = 0, 0
    np.testing.assert_allclose(out.array, tout.detach().numpy(), atol=1e-10)
    np.testing.assert_allclose(h_n.array, th_n.detach().numpy(), atol=1e-10)
    g = rng.standard_normal(out.shape)
    ((out * striate.tensor(g)).sum() + (h_n * h_n).sum() + extra).backward()
    ((tout * torch.tensor(g)).sum() + (th_n * th_n).sum() + textra).backward()
    for (name, p), (tname, tp) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert name == tname
        np.testing.assert_allclose(p.grad.array, tp.grad.numpy(), atol=1e-9, err_msg=name)
    np.testing.assert_allclose(xs.grad.array, xt.grad.numpy(), atol=1e-9)
    np.testing.assert_allclose(hs.grad.array, ht.grad.numpy(), atol=1e-9)
    if kind == "LSTM":
        np.testing.assert_allclose(cs.grad.array, ct.grad.numpy(), atol=1e-9)


@pytest.mark.parametrize("kind", ["RNNCell", "LSTMCell", "GRUCell"])
def test_cells_match_torch(kind):
    torch = pytest.importorskip("torch")
    theirs = getattr(torch.nn, kind)(D, H).double()
    ours = getattr(nn, kind)(D, H).double()
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    rng = np.random.default_rng(2)
    x, h = rng.standard_normal((N, D)), rng.standard_normal((N, H))
    xs, xt = striate.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    if kind == "LSTMCell":
        hx, thx = (striate.tensor(h), striate.tensor(h * 0.5)), (torch.tensor(h),
                                                                 torch.tensor(h * 0.5))
        (a, b), (ta, tb) = ours(xs, hx), theirs(xt, thx)
        out, tout = a * b, ta * tb
    else:
        out, tout = ours(xs, striate.tensor(h)), theirs(xt, torch.tensor(h))
    np.testing.assert_allclose(out.array, tout.detach().numpy(), atol=1e-12)
    out.sum().backward()
    tout.sum().backward()
    np.testing.assert_allclose(xs.grad.array, xt.grad.numpy(), atol=1e-12)
    np.testing.assert_allclose(ours.weight_hh.grad.array, theirs.weight_hh.grad.numpy(),
                               atol=1e-12)
    # unbatched input and no state
    one = ours(striate.tensor(x[0]))
    assert (one[0] if kind == "LSTMCell" else one).shape == (H,)


def test_unbatched_sequence_and_shapes():
    lstm = nn.LSTM(D, H, num_layers=3)
    out, (h, c) = lstm(striate.randn(T, D))
    assert out.shape == (T, H) and h.shape == (3, H) and c.shape == (3, H)
    gru = nn.GRU(D, H, num_layers=2, batch_first=True)
    out, h = gru(striate.randn(N, T, D))
    assert out.shape == (N, T, H) and h.shape == (2, N, H)
    np.testing.assert_allclose(h.array[-1], out.array[:, -1])
    with pytest.raises(ValueError, match="input_size = 3"):
        gru(striate.randn(N, T, D + 1))
    with pytest.raises(ValueError,
                       match=r"hx must have shape \(num_layers \* num_directions, N, H\)"):
        gru(striate.randn(N, T, D), striate.randn(1, N, H))
    with pytest.raises(ValueError, match="proj_size has to be smaller than hidden_size"):
        nn.LSTM(D, H, proj_size=H)
    with pytest.raises(ValueError, match="proj_size is only supported for LSTM"):
        nn.GRU(D, H, proj_size=2)


def test_lstm_forget_bias_starts_at_one_in_course_defaults():
    with init.course_defaults():
        lstm = nn.LSTM(D, H, num_layers=2)
        cell = nn.LSTMCell(D, H)
    for k in range(2):
        b_ih = getattr(lstm, f"bias_ih_l{k}").array
        b_hh = getattr(lstm, f"bias_hh_l{k}").array
        assert np.all(b_ih[H : 2 * H] == 1) and np.all(b_hh[H : 2 * H] == 0)
        assert np.all(np.abs(b_ih[:H]) <= 1 / np.sqrt(H)) and np.any(b_ih[:H] != 0)
    assert np.all(cell.bias_ih.array[H : 2 * H] == 1)
    for plain in (nn.LSTM(D, H), nn.LSTM(D, H, forget_bias=None), nn.LSTMCell(D, H)):
        b = dict(plain.named_parameters())["bias_ih_l0" if "bias_ih_l0" in
                                            dict(plain.named_parameters()) else "bias_ih"]
        assert not np.all(b.array[H : 2 * H] == 1)  # PyTorch's uniform init
    assert np.all(nn.LSTM(D, H, forget_bias=1.0).bias_ih_l0.array[H : 2 * H] == 1)


def test_dropout_between_layers_only_in_training():
    striate.manual_seed(0)
    lstm = nn.LSTM(D, H, num_layers=2, dropout=0.5)
    x = striate.randn(T, N, D)
    lstm.eval()
    a, _ = lstm(x)
    b, _ = lstm(x)
    np.testing.assert_array_equal(a.array, b.array)
    lstm.train()
    c, _ = lstm(x)
    assert not np.allclose(a.array, c.array)


def test_embedding_module_padding_row():
    emb = nn.Embedding(7, 3, padding_idx=0)
    assert np.all(emb.weight.array[0] == 0)
    idx = striate.tensor(np.array([[0, 1, 0], [2, 2, 6]]))
    out = emb(idx)
    assert out.shape == (2, 3, 3)
    out.sum().backward()
    assert np.all(emb.weight.grad.array[0] == 0) and np.all(emb.weight.grad.array[2] == 2)


def test_highway_carries_input_when_gate_is_closed_and_gradchecks():
    hw = nn.Highway(4, gate_bias=-30.0).double()
    x = striate.tensor(np.random.default_rng(3).standard_normal((5, 4)), requires_grad=True)
    np.testing.assert_allclose(hw(x).array, x.array, atol=1e-10)
    hw = nn.Highway(4).double()
    # the parameters are perturbed in place, so hw(x) alone is a function of all four inputs
    assert gradcheck(lambda x, wt, bt, wh: hw(x), [x, hw.weight_t, hw.bias_t, hw.weight_h],
                     atol=1e-7, rtol=1e-5)


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_two_layer_modules_gradcheck(kind):
    m = getattr(nn, kind)(2, 3, num_layers=2, batch_first=True).double()
    rng = np.random.default_rng(5)
    x = striate.tensor(rng.standard_normal((2, 4, 2)), requires_grad=True)
    h0 = striate.tensor(rng.standard_normal((2, 2, 3)), requires_grad=True)
    state = (h0, h0 * 0.5) if kind == "LSTM" else h0
    assert gradcheck(lambda x, h0, w: m(x, (h0, h0 * 0.5) if kind == "LSTM" else h0)[0],
                     [x, h0, m.weight_hh_l0], atol=1e-7, rtol=1e-5)
    assert m(x, state)[0].shape == (2, 4, 3)


def test_temporal_softmax_loss_module():
    x = striate.randn(2, 3, 5)
    y = striate.tensor(np.array([[1, 2, 3], [0, 0, 4]]))
    mask = np.array([[1, 1, 0], [1, 0, 0]], bool)
    a = nn.TemporalSoftmaxLoss()(x, y, mask)
    b = F.temporal_softmax_loss(x, y, mask)
    assert a.item() == b.item()
    assert abs(nn.TemporalSoftmaxLoss("tokens")(x, y, mask).item() - a.item() * 2 / 3) < 1e-5


def test_tbptt_backward_only_touches_the_last_chunk():
    striate.manual_seed(1)
    lstm = nn.LSTM(D, H, batch_first=True).double()
    x = striate.tensor(np.random.default_rng(4).standard_normal((N, 12, D)), requires_grad=True)
    chunks = list(nn.tbptt_chunks(lstm, x, 5))
    assert [c.start for c in chunks] == [0, 5, 10]
    last = chunks[-1]
    last.output.sum().backward()
    g = x.grad.array
    assert np.all(g[:, :10] == 0) and np.all(g[:, 10:] != 0)
    # the state entering the last chunk was detached: the parameter gradients are those of a
    # fresh run over the last chunk alone, started from that state as a constant
    got = {n: p.grad.array.copy() for n, p in lstm.named_parameters()}
    lstm.zero_grad()
    prev = chunks[-2].state
    h0, c0 = striate.tensor(prev[0].array), striate.tensor(prev[1].array)
    out, _ = lstm(x.detach()[:, 10:], (h0, c0))
    np.testing.assert_allclose(out.array, last.output.array)
    out.sum().backward()
    for n, p in lstm.named_parameters():
        np.testing.assert_allclose(got[n], p.grad.array, atol=1e-12, err_msg=n)


def test_tbptt_train_learns_to_continue_a_long_sequence():
    striate.manual_seed(2)
    seq = np.sin(np.arange(401) * 0.3)[None, :, None]  # one long sequence, predict the next value
    x, y = striate.tensor(seq[:, :-1]), striate.tensor(seq[:, 1:])
    lstm = nn.LSTM(1, 16, batch_first=True).double()
    head = nn.Linear(16, 1).double()

    def model(chunk, state):
        out, state = lstm(chunk, state)
        return head(out), state

    params = list(lstm.parameters()) + list(head.parameters())
    opt = optim.Adam(params, lr=0.02)
    first = None
    for _ in range(6):
        losses, state = nn.tbptt_train(model, x, y, F.mse_loss, opt, chunk_len=25,
                                       parameters=params)
        first = losses[0] if first is None else first
        assert len(losses) == 16 and not state[0].requires_grad
    assert np.mean(losses[-4:]) < 0.1 * first


def test_detach_state():
    a = striate.randn(2, requires_grad=True) * 2
    out = nn.detach_state((a, [a, None]))
    assert not out[0].requires_grad and isinstance(out[1], list) and out[1][1] is None
    with pytest.raises(TypeError, match="detach_state"):
        nn.detach_state(3)
