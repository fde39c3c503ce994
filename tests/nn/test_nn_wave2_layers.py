"""Conv1d, ConvTranspose1d, 1-d pooling, PixelShuffle, GELU, BatchNorm1d on (N, C, L),
Dropout2d on 2-D input and bidirectional RNN/LSTM/GRU: float64 gradient checks of the ops and
PyTorch parity of the modules with copied weights."""

import warnings

import numpy as np
import pytest
from opcheck import check_nn

import striate
from striate import nn

torch = pytest.importorskip("torch")
from torchpair import compare, copy_weights  # noqa: E402


def test_conv1d_op_gradcheck_and_torch():
    rng = np.random.default_rng(0)
    x, w, b = rng.standard_normal((2, 4, 9)), rng.standard_normal((6, 2, 3)), rng.standard_normal(6)
    check_nn(lambda F, x, w, b: F.conv1d(x, w, b, stride=2, padding=1, dilation=2, groups=2),
             [x, w, b])
    check_nn(lambda F, x, w: F.conv1d(x, w, padding="same"), [x, rng.standard_normal((3, 4, 3))])
    check_nn(lambda F, x, w: F.conv1d(x, w), [x[0], rng.standard_normal((3, 4, 2))])  # (C, L)
    wt = rng.standard_normal((4, 3, 3))
    check_nn(lambda F, x, w, b: F.conv_transpose1d(x, w, b, stride=2, padding=1,
                                                   output_padding=1), [x, wt, b[:3]])


def test_pool1d_ops_gradcheck_and_torch():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 3, 11))
    check_nn(lambda F, x: F.max_pool1d(x, 3, 2, 1), [x])
    check_nn(lambda F, x: F.max_pool1d(x, 2, ceil_mode=True), [x])
    check_nn(lambda F, x: F.avg_pool1d(x, 3, 2, 1, count_include_pad=False), [x])
    check_nn(lambda F, x: F.avg_pool1d(x, 4), [x[0]])
    out, idx = striate.functional.max_pool1d(striate.tensor(x), 3, return_indices=True)
    tout, tidx = torch.nn.functional.max_pool1d(torch.tensor(x), 3, return_indices=True)
    np.testing.assert_array_equal(idx.array, tidx.numpy())


def test_pixel_shuffle_and_gelu_ops():
    rng = np.random.default_rng(2)
    check_nn(lambda F, x: F.pixel_shuffle(x, 2), [rng.standard_normal((2, 8, 3, 4))])
    check_nn(lambda F, x: F.pixel_shuffle(x, 3), [rng.standard_normal((9, 2, 2))])
    check_nn(lambda F, x: F.pixel_unshuffle(x, 2), [rng.standard_normal((2, 3, 4, 6))])
    x = rng.standard_normal((3, 7)) * 3
    check_nn(lambda F, x: F.gelu(x), [x])
    check_nn(lambda F, x: F.gelu(x, approximate="tanh"), [x])
    with pytest.raises(ValueError, match="pixel_shuffle: input must be"):
        striate.functional.pixel_shuffle(striate.randn(1, 6, 2, 2), 2)


def _pair(name, *args, **kw):
    t = getattr(torch.nn, name)(*args, **kw).double()
    s = getattr(nn, name)(*args, dtype=np.float64, **kw)
    copy_weights(s, t)
    return s, t


def test_1d_modules_match_torch():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 4, 10))
    compare(*_pair("Conv1d", 4, 6, 3, stride=2, padding=1, groups=2), [x])
    compare(*_pair("Conv1d", 4, 5, 3, padding="same", bias=False), [x])
    compare(*_pair("ConvTranspose1d", 4, 3, 3, stride=2), [x])
    for s, t in ((nn.MaxPool1d(3, 2), torch.nn.MaxPool1d(3, 2)),
                 (nn.AvgPool1d(2), torch.nn.AvgPool1d(2)),
                 (nn.PixelShuffle(2), torch.nn.PixelShuffle(2)),
                 (nn.PixelUnshuffle(2), torch.nn.PixelUnshuffle(2)),
                 (nn.GELU(), torch.nn.GELU())):
        arr = x.reshape(2, 4, 2, 5)[:, :, :, :4] if "Pixel" in type(s).__name__ else x
        compare(s, t, [np.ascontiguousarray(arr)])
    assert repr(nn.Conv1d(4, 6, 3)) == repr(torch.nn.Conv1d(4, 6, 3))


def test_batchnorm1d_on_sequences_train_and_eval():
    rng = np.random.default_rng(4)
    s, t = _pair("BatchNorm1d", 4)
    for _ in range(3):
        compare(s, t, [rng.standard_normal((5, 4, 7))])
    np.testing.assert_allclose(s.running_mean.array, t.running_mean.numpy(), atol=1e-12)
    np.testing.assert_allclose(s.running_var.array, t.running_var.numpy(), atol=1e-12)
    s.eval()
    t.eval()
    compare(s, t, [rng.standard_normal((5, 4, 7))])
    compare(s, t, [rng.standard_normal((5, 4))])


def test_dropout2d_on_2d_input_warns_and_drops_elementwise():
    striate.manual_seed(0)
    d = nn.Dropout2d(0.5)
    with pytest.warns(UserWarning, match="Received a 2-D input to dropout2d"):
        y = d(striate.ones(64, 32)).array
    assert set(np.unique(y)) == {0.0, 2.0}
    assert len({tuple(r) for r in y}) > 2  # not whole rows: elementwise
    d.eval()
    with pytest.warns(UserWarning, match="2-D input"):  # PyTorch warns in eval mode too
        assert (d(striate.ones(4, 3)).array == 1).all()
    d.train()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = d(striate.ones(8, 16, 5)).array
    assert all(len(set(r)) == 1 for r in y.reshape(-1, 5).tolist())  # (N, C, L): per channel


@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("batch_first", [False, True])
def test_bidirectional_matches_torch(name, batch_first):
    rng = np.random.default_rng(5)
    s, t = _pair(name, 3, 4, num_layers=2, bidirectional=True, batch_first=batch_first)
    assert "weight_ih_l1_reverse" in dict(s.named_parameters())
    assert s.weight_ih_l1.shape == (t.weight_ih_l1.shape)  # layer 2 reads 2 H features
    x = rng.standard_normal((2, 5, 3) if batch_first else (5, 2, 3))
    h0 = rng.standard_normal((4, 2, 4))
    if name == "LSTM":
        c0 = rng.standard_normal((4, 2, 4))

        def call(m, x, h, c):
            out, (h_n, c_n) = m(x, (h, c))
            return out, h_n * 2 + c_n  # both final states reach the compared gradient
        out = compare(s, t, [x, h0, c0], call=call)
    else:
        out = compare(s, t, [x, h0])
    assert out[0].shape[-1] == 8 and out[1].shape == (4, 2, 4)
    s.flatten_parameters()
    # unbatched input, zero initial state
    compare(s, t, [x[:, 0] if batch_first else x[:, 0]], grad=False)
