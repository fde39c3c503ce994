"""Parity with PyTorch: same weights in (by state_dict, so names must match torch's), same
outputs, gradients and running statistics out. Skipped where torch is not installed."""

import numpy as np
import pytest

import striate
from striate import nn
from striate.nn import init


def _copy_from_torch(ours, theirs):
    """Load torch's state_dict into our module, strictly (the names and shapes must match)."""
    result = ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    assert result.missing_keys == [] and result.unexpected_keys == []


def _compare(ours, theirs, x_np, train=True, atol=1e-10):
    torch = pytest.importorskip("torch")
    ours.train(train)
    theirs.train(train)
    x = striate.tensor(x_np, requires_grad=True)
    tx = torch.tensor(x_np, requires_grad=True)
    y, ty = ours(x), theirs(tx)
    np.testing.assert_allclose(y.array, ty.detach().numpy(), atol=atol, rtol=atol)
    g = np.random.default_rng(9).standard_normal(y.shape)
    y.backward(striate.tensor(g))
    ty.backward(torch.tensor(g))
    np.testing.assert_allclose(x.grad.array, tx.grad.numpy(), atol=atol * 10, rtol=atol * 10)
    tparams = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad.array, tparams[name].grad.numpy(), atol=atol * 10,
                                   rtol=atol * 10, err_msg=name)
    tbuf = dict(theirs.named_buffers())
    for name, b in ours.named_buffers():
        np.testing.assert_allclose(b.array, tbuf[name].numpy(), atol=atol, err_msg=name)


def test_linear_and_conv2d_match_torch_with_the_same_weights():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    tl = torch.nn.Linear(5, 3).double()
    lin = nn.Linear(5, 3).double()
    _copy_from_torch(lin, tl)
    _compare(lin, tl, rng.standard_normal((4, 5)))
    for kw in [{}, {"stride": 2, "padding": 1}, {"stride": (1, 2), "padding": (2, 0)}]:
        tc = torch.nn.Conv2d(3, 4, (3, 2), **kw).double()
        conv = nn.Conv2d(3, 4, (3, 2), **kw).double()
        _copy_from_torch(conv, tc)
        _compare(conv, tc, rng.standard_normal((2, 3, 7, 6)))


def test_small_convnet_matches_torch_in_train_and_eval():
    torch = pytest.importorskip("torch")
    tn = torch.nn
    torch.manual_seed(0)
    theirs = tn.Sequential(
        tn.Conv2d(3, 4, 3, padding=1), tn.BatchNorm2d(4), tn.ReLU(), tn.MaxPool2d(2),
        tn.Conv2d(4, 6, 3), tn.PReLU(), tn.AvgPool2d(2), tn.Flatten(), tn.Dropout(0.5),
        tn.Linear(6, 5), tn.BatchNorm1d(5), tn.ELU(), tn.LayerNorm(5), tn.Linear(5, 2),
    ).double()
    ours = nn.Sequential(
        nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(4, 6, 3), nn.PReLU(), nn.AvgPool2d(2), nn.Flatten(), nn.Dropout(0.5),
        nn.Linear(6, 5), nn.BatchNorm1d(5), nn.ELU(), nn.LayerNorm(5), nn.Linear(5, 2),
    ).double()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    _copy_from_torch(ours, theirs)
    rng = np.random.default_rng(1)
    ours[8].p = theirs[8].p = 0.0  # dropout masks differ between libraries; compare without
    for _ in range(2):  # two steps: running statistics accumulate identically
        ours.zero_grad()
        theirs.zero_grad()
        _compare(ours, theirs, rng.standard_normal((4, 3, 8, 8)), train=True)
    _compare(ours, theirs, rng.standard_normal((4, 3, 8, 8)), train=False)
    # and our state_dict loads strictly into torch
    theirs.load_state_dict({k: torch.from_numpy(v.array) for k, v in ours.state_dict().items()})


def test_activations_and_losses_match_torch():
    torch = pytest.importorskip("torch")
    tn = torch.nn
    rng = np.random.default_rng(2)
    x = rng.standard_normal((4, 3, 5))
    pairs = [
        (nn.ReLU(), tn.ReLU()), (nn.LeakyReLU(0.1), tn.LeakyReLU(0.1)), (nn.ELU(0.7), tn.ELU(0.7)),
        (nn.Sigmoid(), tn.Sigmoid()), (nn.Tanh(), tn.Tanh()), (nn.Softmax(1), tn.Softmax(1)),
        (nn.LogSoftmax(-1), tn.LogSoftmax(-1)), (nn.PReLU(3), tn.PReLU(3)),
        (nn.Flatten(), tn.Flatten()), (nn.Identity(), tn.Identity()),
        (nn.BatchNorm1d(3, momentum=None), tn.BatchNorm1d(3, momentum=None)),
        (nn.LayerNorm((3, 5)), tn.LayerNorm((3, 5))),
        (nn.BatchNorm1d(3, bias=False), tn.BatchNorm1d(3, bias=False)),
    ]
    for ours, theirs in pairs:
        ours.double()
        theirs.double()
        _copy_from_torch(ours, theirs)
        _compare(ours, theirs, x)
    scores = rng.standard_normal((6, 4))
    target = np.array([0, 3, 1, 2, 3, 0])
    w = np.array([1.0, 0.5, 2.0, 1.5])
    for ours, theirs in [
        (nn.CrossEntropyLoss(), tn.CrossEntropyLoss()),
        (nn.CrossEntropyLoss(weight=striate.tensor(w), label_smoothing=0.1),
         tn.CrossEntropyLoss(weight=torch.tensor(w), label_smoothing=0.1)),
        (nn.MultiMarginLoss(), tn.MultiMarginLoss()),
    ]:
        got = ours(striate.tensor(scores), striate.tensor(target))
        want = theirs(torch.tensor(scores), torch.tensor(target))
        assert float(got) == pytest.approx(float(want), rel=1e-10)


def test_repr_matches_torch():
    torch = pytest.importorskip("torch")
    tn = torch.nn
    theirs = tn.Sequential(
        tn.Conv2d(3, 8, 3, stride=2, padding=1), tn.BatchNorm2d(8), tn.ReLU(),
        tn.AvgPool2d(2), tn.Flatten(), tn.Dropout(0.3), tn.Linear(8, 4, bias=False),
        tn.LayerNorm(4), tn.Sequential(tn.LeakyReLU(0.2), tn.Softmax(dim=1)),
        tn.BatchNorm1d(3, affine=False), tn.BatchNorm1d(3, bias=False), tn.LayerNorm(2, bias=False),
        tn.PReLU(), tn.ELU(),
    )
    ours = nn.Sequential(
        nn.Conv2d(3, 8, 3, stride=2, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
        nn.AvgPool2d(2), nn.Flatten(), nn.Dropout(0.3), nn.Linear(8, 4, bias=False),
        nn.LayerNorm(4), nn.Sequential(nn.LeakyReLU(0.2), nn.Softmax(dim=1)),
        nn.BatchNorm1d(3, affine=False), nn.BatchNorm1d(3, bias=False), nn.LayerNorm(2, bias=False),
        nn.PReLU(), nn.ELU(),
    )
    assert repr(ours) == repr(theirs)


def test_init_fans_and_gains_match_torch():
    torch = pytest.importorskip("torch")
    for shape in [(7, 3), (16, 3, 5, 5), (4, 2, 3)]:
        ours = init._calculate_fan_in_and_fan_out(striate.zeros(*shape))
        theirs = torch.nn.init._calculate_fan_in_and_fan_out(torch.zeros(*shape))
        assert ours == theirs
    for name, param in [("linear", None), ("conv2d", None), ("sigmoid", None), ("tanh", None),
                        ("relu", None), ("leaky_relu", None), ("leaky_relu", 0.3),
                        ("selu", None)]:
        assert init.calculate_gain(name, param) == pytest.approx(
            torch.nn.init.calculate_gain(name, param))
