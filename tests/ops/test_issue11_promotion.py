"""Issue 11: dtype promotion follows PyTorch's rules (categories bool < int < float; 0-d tensors
and Python numbers count only when their category is higher)."""

import itertools

import numpy as np
import pytest

import striate
from striate.ops._helpers import promote_types, result_type

torch = pytest.importorskip("torch")

DTYPES = [np.bool_, np.uint8, np.int8, np.int16, np.int32, np.int64, np.float16, np.float32,
          np.float64]
TORCH = {np.dtype(d): getattr(torch, n) for d, n in [
    (np.bool_, "bool"), (np.uint8, "uint8"), (np.int8, "int8"), (np.int16, "int16"),
    (np.int32, "int32"), (np.int64, "int64"), (np.float16, "float16"),
    (np.float32, "float32"), (np.float64, "float64")]}
NUMPY = {v: k for k, v in TORCH.items()}


def _operand(kind, dtype, lib):
    """A tensor with dims, a 0-d tensor, or a Python number of ``dtype``'s category."""
    if kind == "dims":
        a = np.ones(3, dtype=dtype)
        return striate.tensor(a) if lib == "striate" else torch.tensor(a)
    if kind == "0d":
        a = np.ones((), dtype=dtype)
        return striate.tensor(a) if lib == "striate" else torch.tensor(a)
    return {"b": True, "u": 2, "i": 2, "f": 2.5}[np.dtype(dtype).kind]


def test_promote_types_matches_torch():
    for a, b in itertools.product(DTYPES, DTYPES):
        want = NUMPY[torch.promote_types(TORCH[np.dtype(a)], TORCH[np.dtype(b)])]
        assert promote_types(a, b) == want, (a, b)


@pytest.mark.parametrize("kinds", [("dims", "dims"), ("dims", "0d"), ("0d", "dims"),
                                   ("0d", "0d"), ("dims", "number"), ("0d", "number")])
def test_result_type_matches_torch(kinds):
    for a, b in itertools.product(DTYPES, DTYPES):
        if kinds[1] == "number" and np.dtype(b).kind == "u":
            continue  # one Python int per category
        xs = [_operand(k, d, "striate") for k, d in zip(kinds, (a, b))]
        ts = [_operand(k, d, "torch") for k, d in zip(kinds, (a, b))]
        want = NUMPY[torch.result_type(*ts)]
        assert result_type(*xs) == want, (kinds, a, b)


@pytest.mark.parametrize("op", ["add", "sub", "mul", "maximum", "minimum"])
def test_binary_ops_give_torch_dtype(op):
    for (ka, a), (kb, b) in itertools.product(
            [("dims", np.int64), ("dims", np.float32), ("0d", np.float64), ("dims", np.bool_),
             ("dims", np.int32), ("dims", np.float16)],
            [("dims", np.float64), ("0d", np.float64), ("0d", np.int64), ("number", np.float32),
             ("number", np.int64), ("dims", np.int16)]):
        if op in ("maximum", "minimum") and kb == "number":
            continue  # torch.maximum takes tensors only
        if op == "sub" and np.bool_ in (a, b):  # PyTorch refuses it (tested below)
            continue
        xs = [_operand(k, d, "striate") for k, d in ((ka, a), (kb, b))]
        ts = [_operand(k, d, "torch") for k, d in ((ka, a), (kb, b))]
        got = getattr(striate, op)(*xs)
        want = getattr(torch, op)(*ts)
        assert got.dtype == NUMPY[want.dtype], (op, ka, a, kb, b)
        np.testing.assert_allclose(got.array.astype(np.float64), want.double().numpy())


def test_issue_reproductions():
    # exp and / of integers give the default float dtype, not float64
    assert striate.exp(striate.tensor([1, 2])).dtype == np.float32
    assert (striate.tensor([1, 2]) / striate.tensor([2, 2])).dtype == np.float32
    np.testing.assert_allclose((striate.tensor([1, 2]) / 2).array, [0.5, 1.0])
    # float32 times a float64 0-d tensor stays float32
    assert (striate.ones(2) * striate.tensor(2.0, dtype=np.float64)).dtype == np.float32
    # int tensor times a Python float: the default float dtype; bool times an int: int64
    assert (striate.tensor([1, 2]) * 2.5).dtype == np.float32
    assert (striate.tensor([True]) * 2).dtype == np.int64
    assert (striate.tensor([True]) + striate.tensor([True])).dtype == np.bool_
    assert (striate.tensor([2]) ** 0.5).dtype == np.float32


@pytest.mark.parametrize("name", ["exp", "log", "sqrt"])
def test_float_functions_of_integers(name):
    for dt in (np.int64, np.int32, np.uint8, np.bool_):
        a = np.array([1, 2, 3]).astype(dt)
        got = getattr(striate, name)(striate.tensor(a))
        want = getattr(torch, name)(torch.tensor(a))
        assert got.dtype == NUMPY[want.dtype]
        np.testing.assert_allclose(got.array, want.numpy(), rtol=1e-6)


def test_default_dtype_float64_is_followed():
    striate.set_default_dtype(np.float64)
    try:
        assert striate.exp(striate.tensor([1, 2])).dtype == np.float64
        assert (striate.tensor([1, 2]) * 2.5).dtype == np.float64
    finally:
        striate.set_default_dtype(np.float32)


def test_mixed_dtypes_keep_gradients():
    # a float64 0-d tensor times a float32 tensor: the result is float32, and both get their
    # gradients in their own dtype, as in PyTorch
    x = striate.tensor([1.0, 2.0], requires_grad=True)
    s = striate.tensor(3.0, dtype=np.float64, requires_grad=True)
    y = x * s
    y.sum().backward()
    assert y.dtype == np.float32 and x.grad.dtype == np.float32 and s.grad.dtype == np.float64
    np.testing.assert_allclose(x.grad.array, [3.0, 3.0])
    np.testing.assert_allclose(s.grad.array, 3.0)


def test_sub_and_neg_of_bool_raise_named():
    with pytest.raises(TypeError, match="sub: subtraction of a bool"):
        striate.tensor([True]) - 1
    with pytest.raises(TypeError, match="sub: subtraction of a bool"):
        striate.tensor([1]) - striate.tensor(True)
    with pytest.raises(TypeError, match="neg: negation of a bool"):
        -striate.tensor([True])


def test_clamp_of_integers_with_float_bounds():
    for kw in ({"min": 2.5}, {"min": 2}, {"max": 3.5, "min": 0}):
        got = striate.clamp(striate.tensor([1, 5]), **kw)
        want = torch.clamp(torch.tensor([1, 5]), **kw)
        assert got.dtype == NUMPY[want.dtype]
        np.testing.assert_allclose(got.array, want.numpy())


def test_where_promotes_like_torch():
    cond = np.array([True, False, True])
    for a, b in ((1.0, 0.0), (1, 0), (np.array([1, 2, 3]), 0.5), (np.ones(3, np.float32), 2)):
        sa = striate.tensor(a) if isinstance(a, np.ndarray) else a
        ta = torch.tensor(a) if isinstance(a, np.ndarray) else a
        got = striate.where(striate.tensor(cond), sa, b)
        want = torch.where(torch.tensor(cond), ta, b)
        assert got.dtype == NUMPY[want.dtype], (a, b)
        np.testing.assert_allclose(got.array, want.numpy())
