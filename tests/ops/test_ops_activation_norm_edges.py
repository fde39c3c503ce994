"""Regressions (issue 11) for activations and normalization: non-contiguous views, integer
inputs, huge float32 values and empty batches/dims give PyTorch's answer or a clear error."""

from __future__ import annotations

import numpy as np
import pytest
import striate.functional as F

import striate
from striate.kernels import compiled

PATHS = ["numpy"] + (["compiled"] if compiled.available() else [])


@pytest.mark.parametrize("path", PATHS)
def test_relu_of_a_noncontiguous_view_keeps_minus_inf_and_zero_sign(path, monkeypatch):
    torch = pytest.importorskip("torch")
    monkeypatch.setattr(compiled, "USE_COMPILED", path == "compiled")
    b = np.zeros((1, 8))
    b[:, ::2] = [1, -np.inf, 3, -2]
    got = F.relu(striate.Tensor(b[:, ::2])).array
    want = torch.relu(torch.tensor(b[:, ::2])).numpy()
    np.testing.assert_array_equal(got, want)
    assert not np.signbit(got).any()  # no -0.0 for negative inputs


@pytest.mark.parametrize("path", PATHS)
def test_relu_of_strided_4d_view_matches_torch_values_and_grads(path, monkeypatch):
    torch = pytest.importorskip("torch")
    monkeypatch.setattr(compiled, "USE_COMPILED", path == "compiled")
    rng = np.random.default_rng(0)
    x0 = rng.standard_normal((2, 3, 6, 8)).astype(np.float32)
    x0[0, 0, 0, :4] = [-np.inf, np.inf, np.nan, -0.5]
    view = x0[:, :, ::2, 1::2]
    xt = striate.tensor(view, requires_grad=True)
    y = F.relu(xt)
    y.sum().backward()
    tt = torch.tensor(view, requires_grad=True)
    yt = torch.relu(tt)
    yt.sum().backward()
    np.testing.assert_array_equal(y.array, yt.detach().numpy())
    np.testing.assert_array_equal(xt.grad.array, tt.grad.numpy())


@pytest.mark.parametrize("name", ["sigmoid", "tanh"])
@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.bool_])
def test_sigmoid_tanh_of_integers_are_default_floats(name, dtype):
    torch = pytest.importorskip("torch")
    a = np.array([1, 0, 2, 3]).astype(dtype)
    got = getattr(F, name)(striate.tensor(a))
    want = getattr(torch, name)(torch.tensor(a))
    assert got.array.dtype == striate.get_default_dtype() == np.float32
    np.testing.assert_allclose(got.array, want.numpy(), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("name, call", [
    ("elu", lambda x: F.elu(x)),
    ("leaky_relu", lambda x: F.leaky_relu(x)),
    ("prelu", lambda x: F.prelu(x, striate.tensor([1]))),
    ("softmax", lambda x: F.softmax(x, dim=0)),
    ("log_softmax", lambda x: F.log_softmax(x, dim=0)),
])
def test_activations_refuse_integers_naming_the_op_and_dtype(name, call):
    with pytest.raises(TypeError, match=rf"{name}: input must be a floating tensor, got dtype "
                                        r"int64"):
        call(striate.tensor(np.array([1, -2, 3])))


def test_relu_keeps_integers_and_refuses_bool():
    y = F.relu(striate.tensor(np.array([1, -2, 3])))
    assert y.array.dtype == np.int64
    np.testing.assert_array_equal(y.array, [1, 0, 3])
    with pytest.raises(TypeError, match="relu: bool input"):
        F.relu(striate.tensor(np.array([True, False])))


def test_layer_norm_of_huge_float32_values_normalises():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    x = (rng.standard_normal((3, 5)) * 1e20).astype(np.float32)
    x[1] = [2e19, 3e19, -1e19, 5e19, 0]
    w = rng.standard_normal(5).astype(np.float32)
    b = rng.standard_normal(5).astype(np.float32)
    got = F.layer_norm(striate.tensor(x), (5,), striate.tensor(w), striate.tensor(b)).array
    # PyTorch's float32 kernel gives NaN here; its float64 result is the exact answer
    want = torch.nn.functional.layer_norm(torch.tensor(x, dtype=torch.float64), (5,),
                                          torch.tensor(w, dtype=torch.float64),
                                          torch.tensor(b, dtype=torch.float64)).numpy()
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_group_norm_of_huge_float32_values_normalises():
    torch = pytest.importorskip("torch")
    x = (np.random.default_rng(2).standard_normal((2, 4, 3)) * 1e25).astype(np.float32)
    got = F.group_norm(striate.tensor(x), 2).array
    want = torch.nn.functional.group_norm(torch.tensor(x, dtype=torch.float64), 2).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("shape", [(0, 4), (0, 4, 3, 3)])
def test_batch_norm_eval_of_an_empty_batch_is_empty(path, shape, monkeypatch):
    torch = pytest.importorskip("torch")
    monkeypatch.setattr(compiled, "USE_COMPILED", path == "compiled")
    x = np.zeros(shape, np.float32)
    rm, rv = np.arange(4, dtype=np.float32), np.ones(4, np.float32)
    xt = striate.tensor(x, requires_grad=True)
    y = F.batch_norm(xt, striate.tensor(rm), striate.tensor(rv), training=False)
    want = torch.nn.functional.batch_norm(torch.tensor(x), torch.tensor(rm), torch.tensor(rv))
    assert y.shape == tuple(want.shape)
    y.sum().backward()
    assert xt.grad.shape == shape


def test_group_norm_of_an_empty_batch_is_empty():
    torch = pytest.importorskip("torch")
    x = np.zeros((0, 4, 3, 3), np.float32)
    w, b = striate.ones(4, requires_grad=True), striate.zeros(4, requires_grad=True)
    xt = striate.tensor(x, requires_grad=True)
    y = F.group_norm(xt, 2, w, b)
    assert y.shape == tuple(torch.nn.functional.group_norm(torch.tensor(x), 2).shape)
    y.sum().backward()
    assert xt.grad.shape == x.shape
    np.testing.assert_array_equal(w.grad.array, np.zeros(4))


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize("shape, dim", [((2, 0), 1), ((0, 3), 1), ((3, 0, 2), 1)])
def test_softmax_over_an_empty_dim_is_empty(name, shape, dim):
    torch = pytest.importorskip("torch")
    xt = striate.zeros(*shape, requires_grad=True)
    y = getattr(F, name)(xt, dim=dim)
    want = getattr(torch.nn.functional, name)(torch.zeros(shape), dim=dim)
    assert y.shape == tuple(want.shape) and y.array.dtype == np.float32
    y.sum().backward()
    assert xt.grad.shape == shape


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "leaky_relu", "elu", "softmax"])
def test_activations_of_noncontiguous_views_match_torch(name):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    base = rng.standard_normal((4, 10))
    base[0, :4] = [-np.inf, np.inf, -30, 30]
    view = base[:, ::2].T  # strided and transposed
    kw = {"dim": 1} if name == "softmax" else {}
    xt = striate.tensor(view, requires_grad=True)
    y = getattr(F, name)(xt, **kw)
    (y * striate.tensor(np.arange(view.size).reshape(view.shape))).sum().backward()
    tt = torch.tensor(view, requires_grad=True)
    fn = getattr(torch.nn.functional, name) if name != "tanh" else torch.tanh
    yt = fn(tt, **kw)
    (yt * torch.arange(view.size).reshape(view.shape)).sum().backward()
    np.testing.assert_allclose(y.array, yt.detach().numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(xt.grad.array, tt.grad.numpy(), rtol=1e-10, atol=1e-12)
