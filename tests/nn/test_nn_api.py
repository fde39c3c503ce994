"""PyTorch's API surface of ``striate.nn``: constructor signatures, default initialisation (the
bounds and statistics of PyTorch's formulas), the course's scheme one call away, sub-module
re-assignment order, ``nn.parallel`` and the ``nn.modules`` import paths."""

import importlib
import inspect
import math

import numpy as np
import pytest

import striate
from striate import nn
from striate.nn import init


def _names(fn):
    return [p.name for p in inspect.signature(fn).parameters.values()
            if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]


# PyTorch builds these from *args (RNNBase's parameters, without ``mode``)
_RNN_ARGS = ["input_size", "hidden_size", "num_layers", "bias", "batch_first", "dropout",
             "bidirectional", "proj_size", "device", "dtype"]


def test_constructor_signatures_match_torch():
    tnn = pytest.importorskip("torch.nn")
    checked = 0
    for name in sorted(nn.__all__):
        ours = getattr(nn, name)
        if not isinstance(ours, type) or not hasattr(tnn, name):
            continue
        theirs = _names(getattr(tnn, name).__init__)
        if name in ("LSTM", "GRU"):
            theirs = _RNN_ARGS
        elif name == "RNN":  # PyTorch reads nonlinearity as the 4th positional argument
            theirs = _RNN_ARGS[:3] + ["nonlinearity"] + _RNN_ARGS[3:7]
        mine = _names(ours.__init__)
        assert mine[:len(theirs)] == theirs, f"{name}: {mine} vs PyTorch's {theirs}"
        # anything of ours beyond PyTorch's is keyword-only or has a default
        extra = list(inspect.signature(ours.__init__).parameters.values())[len(theirs) + 1:]
        assert all(p.default is not p.empty or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
                   for p in extra), name
        checked += 1
    assert checked >= 50


def test_device_and_dtype_arguments():
    lin = nn.Linear(3, 2, True, "cpu", striate.float64)
    assert lin.weight.dtype == np.float64
    for layer in (nn.Conv1d(2, 3, 3, device="cpu"), nn.LSTM(2, 3, device="cpu"),
                  nn.BatchNorm1d(3, device="cpu"), nn.LayerNorm(3, device="cpu"),
                  nn.Embedding(4, 2, device="cpu"), nn.MultiheadAttention(4, 2, device="cpu"),
                  nn.TransformerEncoderLayer(4, 2, 8, device="cpu")):
        assert all(p.dtype == np.float32 for p in layer.parameters())
    with pytest.raises(ValueError, match="Linear: device must be 'cpu' or 'cuda'"):
        nn.Linear(3, 2, device="tpu")


def _uniform_ok(a, bound):
    """Within [-bound, bound], filling it (max near the bound) with U(-b, b)'s std b/sqrt(3)."""
    a = np.asarray(a, dtype=np.float64).ravel()
    assert np.abs(a).max() <= bound * (1 + 1e-6)
    assert np.abs(a).max() > 0.9 * bound
    assert abs(a.std() - bound / math.sqrt(3)) < 0.1 * bound


def test_default_init_is_pytorchs():
    striate.manual_seed(0)
    lin = nn.Linear(400, 300)  # kaiming_uniform(a=sqrt(5)): bound sqrt(6 / ((1 + 5) fan_in))
    _uniform_ok(lin.weight.array, 1 / math.sqrt(400))
    _uniform_ok(lin.bias.array, 1 / math.sqrt(400))
    conv = nn.Conv2d(16, 64, 3, groups=2)  # fan_in = 16 / 2 * 9
    _uniform_ok(conv.weight.array, 1 / math.sqrt(72))
    _uniform_ok(conv.bias.array, 1 / math.sqrt(72))
    conv1 = nn.Conv1d(32, 64, 5)
    _uniform_ok(conv1.weight.array, 1 / math.sqrt(160))
    tconv = nn.ConvTranspose2d(32, 48, 3)  # weight (C_in, C_out, k, k): fan_in = 48 * 9
    _uniform_ok(tconv.weight.array, 1 / math.sqrt(48 * 9))
    _uniform_ok(tconv.bias.array, 1 / math.sqrt(48 * 9))
    emb = nn.Embedding(300, 200)  # N(0, 1)
    assert abs(emb.weight.array.std() - 1) < 0.02 and abs(emb.weight.array.mean()) < 0.02
    for rnn in (nn.LSTM(20, 100, 2), nn.GRU(20, 100), nn.RNN(20, 100), nn.LSTMCell(20, 100)):
        for _, p in rnn.named_parameters():  # every one U(-1/sqrt(H), 1/sqrt(H)), no forget=1
            _uniform_ok(p.array, 0.1)
    for norm in (nn.BatchNorm1d(5), nn.BatchNorm2d(5), nn.LayerNorm(5), nn.GroupNorm(1, 5)):
        assert (norm.weight.array == 1).all() and not norm.bias.array.any()


def test_default_init_against_torch_layers():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    striate.manual_seed(0)
    for ours, theirs in ((nn.Linear(300, 200), torch.nn.Linear(300, 200)),
                         (nn.Conv2d(8, 64, 3), torch.nn.Conv2d(8, 64, 3)),
                         (nn.LSTM(10, 50), torch.nn.LSTM(10, 50))):
        for (n, p), (tn, tp) in zip(ours.named_parameters(), theirs.named_parameters()):
            assert n == tn
            t = tp.detach().numpy()
            n_ = t.size  # sampling noise shrinks with the number of draws
            assert abs(np.abs(p.array).max() - np.abs(t).max()) < (0.02 + 5 / n_) * np.abs(t).max()
            assert abs(p.array.std() - t.std()) < (0.05 + 3 / math.sqrt(n_)) * t.std()


def test_reset_parameters_everywhere():
    layers = [nn.Linear(4, 3), nn.Conv1d(2, 3, 3), nn.Conv2d(2, 3, 3), nn.ConvTranspose2d(2, 3, 3),
              nn.Embedding(5, 3), nn.LSTM(3, 4), nn.GRUCell(3, 4), nn.BatchNorm1d(3),
              nn.LayerNorm(3), nn.GroupNorm(1, 3), nn.MultiheadAttention(4, 2), nn.PReLU()]
    for layer in layers:
        before = [p.array.copy() for p in layer.parameters()]
        for p in layer.parameters():
            p.array[...] = 7
        layer.reset_parameters()
        after = [p.array for p in layer.parameters()]
        assert all(not (a == 7).all() for a in after), type(layer).__name__
        assert [a.shape for a in after] == [b.shape for b in before]


def test_course_defaults_scheme_and_models_use_it():
    striate.manual_seed(0)
    with init.course_defaults():
        lin = nn.Linear(500, 400)
        lstm = nn.LSTM(4, 8)
        with init.course_defaults():  # nested blocks are fine
            conv = nn.Conv2d(16, 32, 3)
    assert abs(lin.weight.array.std() - math.sqrt(2 / 500)) < 0.02 * math.sqrt(2 / 500)
    assert not lin.bias.array.any() and not conv.bias.array.any()
    assert (lstm.bias_ih_l0.array[8:16] == 1).all()
    lin.reset_parameters()  # a layer keeps the scheme it was built with
    assert not lin.bias.array.any()
    assert nn.Linear(4, 3).bias.array.any()  # outside the block: PyTorch's
    from striate.models import create_model

    mlp = create_model("mlp", num_classes=10, input_shape=(1, 8, 8))
    assert all(not m.bias.array.any() for m in mlp.modules() if isinstance(m, nn.Linear))
    from striate.models.charnn import CharRNN

    assert (CharRNN(10, 4, 8, 1).lstm.bias_ih_l0.array[8:16] == 1).all()


class _Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Linear(4, 8), nn.ReLU())
        self.fc = nn.Linear(8, 3)
        self.scale = nn.Parameter(striate.ones(1))
        self.head = nn.Linear(3, 2)

    def forward(self, x):
        return self.head(self.fc(self.features(x)) * self.scale)


def test_reassigned_submodule_keeps_its_place():
    net = _Net()
    keys = list(net.state_dict())
    net.fc = nn.Linear(8, 3)
    net.scale = nn.Parameter(striate.zeros(1))
    assert list(net.state_dict()) == keys
    assert [n for n, _ in net.named_children()] == ["features", "fc", "head"]
    net.head = nn.Identity()  # the usual way of cutting a head off
    assert [n for n, _ in net.named_children()] == ["features", "fc", "head"]
    body = nn.Sequential(*list(net.children())[:-1])
    assert body(striate.randn(5, 4)).shape == (5, 3)
    net.fc = None  # None keeps the slot, as PyTorch
    assert [n for n, _ in net.named_children()] == ["features", "head"]
    assert list(net._modules) == ["features", "fc", "head"]


def test_data_parallel_is_a_pass_through():
    from striate.nn.parallel import DataParallel, data_parallel

    net = _Net()
    assert nn.DataParallel is DataParallel
    dp = nn.DataParallel(net, device_ids=[0])
    x = striate.randn(4, 4)
    np.testing.assert_array_equal(dp(x).array, net(x).array)
    assert dp.module is net
    assert list(dp.state_dict()) == ["module." + k for k in net.state_dict()]
    np.testing.assert_array_equal(data_parallel(net, x).array, net(x).array)
    np.testing.assert_array_equal(nn.parallel.data_parallel(net, (x,)).array, net(x).array)


@pytest.mark.parametrize("path,names", [
    ("rnn", ["LSTM", "GRU", "RNN", "LSTMCell", "RNNBase"]),
    ("activation", ["ReLU", "Softmax", "MultiheadAttention", "GELU"]),
    ("linear", ["Linear", "Identity"]),
    ("conv", ["Conv1d", "Conv2d", "ConvTranspose2d"]),
    ("loss", ["CrossEntropyLoss", "MSELoss", "NLLLoss"]),
    ("container", ["Sequential", "ModuleList"]),
    ("module", ["Module"]),
    ("batchnorm", ["BatchNorm1d", "BatchNorm2d"]),
    ("pooling", ["MaxPool1d", "MaxPool2d", "AdaptiveAvgPool2d"]),
    ("sparse", ["Embedding"]),
    ("transformer", ["Transformer", "TransformerEncoderLayer"]),
    ("dropout", ["Dropout", "Dropout2d"]),
])
def test_nn_modules_import_paths(path, names):
    mod = importlib.import_module(f"striate.nn.modules.{path}")
    for n in names:
        assert getattr(mod, n) is getattr(nn, n, getattr(mod, n)), (path, n)
    assert nn.modules.Linear is nn.Linear


def test_losses_take_pytorchs_legacy_arguments():
    assert nn.MSELoss(None, None, "sum").reduction == "sum"
    assert nn.MSELoss(size_average=False).reduction == "sum"
    assert nn.L1Loss(reduce=False).reduction == "none"
    assert nn.CrossEntropyLoss(None, None, -1).ignore_index == -1
    assert nn.CrossEntropyLoss(label_smoothing=0.1).reduction == "mean"
