"""matmul (every rank combination, batched with broadcasting) and linear."""

from __future__ import annotations

import importlib

import numpy as np
import pytest
from opcheck import check_op
from opcheck import torch_or_skip as _torch

import striate
from striate import functional as F

RNG = np.random.default_rng(3)


def randn(*shape):
    return RNG.standard_normal(shape)


@pytest.mark.parametrize(
    "shape_a, shape_b",
    [
        ((4,), (4,)),  # 1-D @ 1-D: a scalar
        ((4,), (4, 3)),  # 1-D @ 2-D
        ((3, 4), (4,)),  # 2-D @ 1-D
        ((3, 4), (4, 5)),
        ((2, 3, 4), (2, 4, 5)),  # batched
        ((2, 1, 3, 4), (5, 4, 2)),  # batched with broadcasting on both sides
        ((3, 4), (2, 4, 5)),  # a 2-D matrix against a batch
        ((2, 3, 4), (4, 5)),
        ((2, 3, 4), (4,)),  # batch @ vector
        ((4,), (2, 4, 5)),  # vector @ batch
    ],
)
def test_matmul(shape_a, shape_b):
    a, b = randn(*shape_a), randn(*shape_b)
    out = check_op(lambda x, y: x @ y, [a, b], torch_fn=lambda x, y: x @ y)
    assert out.shape == np.matmul(a, b).shape
    np.testing.assert_allclose(out, np.matmul(a, b), atol=1e-12)
    check_op(F.matmul, [a, b], torch_fn=lambda x, y: _torch().matmul(x, y))


def test_matmul_only_one_side_requires_grad():
    a = striate.tensor(randn(3, 4), requires_grad=True)
    b = striate.tensor(randn(4, 2))
    (a @ b).sum().backward()
    np.testing.assert_allclose(a.grad.array, np.ones((3, 2)) @ b.array.T)
    assert b.grad is None


def test_matmul_non_contiguous():
    a, b = randn(4, 3), randn(5, 4)
    check_op(
        lambda x, y: x.transpose(0, 1) @ y.transpose(0, 1),
        [a, b],
        torch_fn=lambda x, y: x.transpose(0, 1) @ y.transpose(0, 1),
    )


def test_matmul_with_ndarray_operand():
    a = striate.tensor(randn(3, 4), requires_grad=True)
    w = randn(4, 2)
    y = a @ w
    assert isinstance(y, striate.Tensor) and y.requires_grad
    y.sum().backward()
    np.testing.assert_allclose(a.grad.array, np.ones((3, 2)) @ w.T)


def test_matmul_float32():
    a = striate.tensor(randn(2, 3, 4).astype(np.float32), requires_grad=True)
    b = striate.tensor(randn(4).astype(np.float32), requires_grad=True)
    y = a @ b
    assert y.dtype == np.float32
    y.sum().backward()
    assert a.grad.dtype == np.float32 and b.grad.dtype == np.float32
    assert b.grad.shape == (4,)


def test_matmul_shape_mismatch_names_both_shapes():
    with pytest.raises(
        ValueError,
        match=r"matmul: .*last dim 4 .* dim 5 "
        r"\(input shape \(3, 4\), other shape \(5, 2\)\)",
    ):
        striate.ones(3, 4) @ striate.ones(5, 2)
    with pytest.raises(ValueError, match=r"input shape \(2, 3\), other shape \(4,\)"):
        F.matmul(striate.ones(2, 3), striate.ones(4))
    with pytest.raises(ValueError, match="at least 1 dimension"):
        F.matmul(striate.tensor(2.0), striate.ones(3))


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("x_shape", [(5, 4), (2, 3, 4), (4,)])
def test_linear(bias, x_shape):
    inputs = [randn(*x_shape), randn(3, 4)] + ([randn(3)] if bias else [])
    out = check_op(
        F.linear,
        inputs,
        torch_fn=lambda *t: importlib.import_module("torch.nn.functional").linear(*t),
    )
    want = inputs[0] @ inputs[1].T + (inputs[2] if bias else 0)
    np.testing.assert_allclose(out, want, atol=1e-12)


def test_linear_float32_and_only_some_grads():
    x = striate.tensor(randn(6, 4).astype(np.float32))
    w = striate.tensor(randn(3, 4).astype(np.float32), requires_grad=True)
    b = striate.tensor(randn(3).astype(np.float32), requires_grad=True)
    y = F.linear(x, w, b)
    assert y.dtype == np.float32
    y.sum().backward()
    assert x.grad is None
    assert w.grad.dtype == np.float32 and b.grad.dtype == np.float32
    np.testing.assert_allclose(b.grad.array, np.full(3, 6.0))


def test_linear_errors_named():
    with pytest.raises(
        ValueError,
        match=r"linear: input has 5 features but weight expects 4 "
        r"\(input shape \(2, 5\), weight shape \(3, 4\)\)",
    ):
        F.linear(striate.ones(2, 5), striate.ones(3, 4))
    with pytest.raises(ValueError, match=r"linear: bias must have shape \(3,\), got \(4,\)"):
        F.linear(striate.ones(2, 4), striate.ones(3, 4), striate.ones(4))
    with pytest.raises(ValueError, match="linear: weight must be 2-D"):
        F.linear(striate.ones(2, 4), striate.ones(4))
