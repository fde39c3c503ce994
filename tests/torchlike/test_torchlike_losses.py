"""Loss modules against torch.nn's: values and input gradients for every option."""

from __future__ import annotations

import numpy as np
import pytest

import striate
import striate.nn as snn

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(3)
X = RNG.standard_normal((6, 5))
Y = np.array([0, 1, -100, 3, 4, 1])
Y_ALL = np.array([0, 1, 2, 3, 4, 1])
W = RNG.random(5) + 0.5
Q = RNG.random((6, 5))
Q /= Q.sum(1, keepdims=True)
P = 1 / (1 + np.exp(-X))
T = RNG.random((6, 5))
LOGP = np.log(Q[::-1].copy())


def _compare(name, kwargs, x, target, tensor_kwargs=()):
    skw = {k: (striate.tensor(v) if k in tensor_kwargs else v) for k, v in kwargs.items()}
    tkw = {k: (torch.tensor(v) if k in tensor_kwargs else v) for k, v in kwargs.items()}
    s_loss = getattr(snn, name)(**skw)
    t_loss = getattr(torch.nn, name)(**tkw)
    a = striate.tensor(x, requires_grad=True)
    b = torch.tensor(x, requires_grad=True)
    ls, lt = s_loss(a, striate.tensor(target)), t_loss(b, torch.tensor(target))
    np.testing.assert_allclose(ls.array, lt.detach().numpy(), rtol=1e-10, atol=1e-12)
    g = RNG.standard_normal(ls.shape)
    ls.backward(striate.tensor(g))
    lt.backward(torch.tensor(g))
    np.testing.assert_allclose(a.grad.array, b.grad.numpy(), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.2])
@pytest.mark.parametrize("weight", [None, W])
def test_cross_entropy_options(reduction, label_smoothing, weight):
    kw = {"reduction": reduction, "label_smoothing": label_smoothing}
    if weight is not None:
        kw["weight"] = weight
    _compare("CrossEntropyLoss", kw, X, Y, ("weight",))  # -100: ignored by default


def test_cross_entropy_ignore_index_probabilities_and_spatial():
    _compare("CrossEntropyLoss", {"ignore_index": 1, "weight": W, "label_smoothing": 0.1},
             X, Y_ALL, ("weight",))
    _compare("CrossEntropyLoss", {"weight": W, "label_smoothing": 0.1}, X, Q, ("weight",))
    x4 = RNG.standard_normal((2, 5, 3, 3))
    y4 = RNG.integers(0, 5, (2, 3, 3))
    y4[0, 0, 0] = -100
    _compare("CrossEntropyLoss", {"weight": W, "label_smoothing": 0.1}, x4, y4, ("weight",))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_binary_losses(reduction):
    _compare("BCELoss", {"weight": W, "reduction": reduction}, P, T, ("weight",))
    _compare("BCELoss", {"reduction": reduction}, P, (T > 0.5).astype(float))
    _compare("BCEWithLogitsLoss", {"weight": W, "pos_weight": W, "reduction": reduction}, X, T,
             ("weight", "pos_weight"))


@pytest.mark.filterwarnings("ignore:reduction. 'mean' divides")
@pytest.mark.parametrize("reduction", ["mean", "sum", "none", "batchmean"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div(reduction, log_target):
    _compare("KLDivLoss", {"reduction": reduction, "log_target": log_target}, LOGP,
             np.log(Q) if log_target else Q)


def test_other_losses():
    _compare("NLLLoss", {"weight": W}, LOGP, Y, ("weight",))
    _compare("NLLLoss", {"reduction": "none", "ignore_index": 3}, LOGP, Y_ALL)
    _compare("MultiMarginLoss", {"p": 2, "margin": 0.5, "weight": W}, X, Y_ALL, ("weight",))
    _compare("MultiMarginLoss", {}, X, Y_ALL)
    for name in ("MSELoss", "L1Loss", "SmoothL1Loss"):
        for reduction in ("mean", "sum", "none"):
            _compare(name, {"reduction": reduction}, X, T)
    _compare("SmoothL1Loss", {"beta": 0.3}, X, T)


def test_loss_module_holds_weight_as_a_buffer():
    loss = snn.CrossEntropyLoss(weight=striate.tensor(W))
    assert list(loss.state_dict()) == list(torch.nn.CrossEntropyLoss(
        weight=torch.tensor(W)).state_dict()) == ["weight"]
