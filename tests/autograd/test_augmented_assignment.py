"""Augmented assignment changes the tensor in place, as in PyTorch: ``x += y`` is ``x.add_(y)``.

Other references and views see the change, the version counter moves, autograd records it on a
non-leaf (also through a view: PyTorch's CopySlices), a leaf that requires grad refuses it
outside no_grad(), and the tensor keeps its dtype."""

from __future__ import annotations

import operator

import numpy as np
import pytest

import striate
from striate.autograd import gradcheck

AUGMENTED = {  # operator, the in-place method it is
    "+=": (operator.iadd, "add_"), "-=": (operator.isub, "sub_"), "*=": (operator.imul, "mul_"),
    "/=": (operator.itruediv, "div_"), "%=": (operator.imod, "remainder_"),
    "//=": (operator.ifloordiv, "floor_divide_"), "**=": (operator.ipow, "pow_"),
}
BITWISE = {"&=": operator.iand, "|=": operator.ior, "^=": operator.ixor}


def _version(t) -> int:
    """The version counter's value (an int attribute in PyTorch)."""
    return t._version_number if isinstance(t, striate.Tensor) else t._version


@pytest.mark.parametrize("op", sorted(AUGMENTED))
def test_changes_the_tensor_itself_and_its_views(op, torch, rng):
    iop, _ = AUGMENTED[op]
    a = rng.uniform(0.5, 3.0, (3, 4))
    o = rng.uniform(0.5, 2.0, (4,))
    for lib in (striate, torch):
        x = lib.tensor(a)
        alias, row = x, x[1]
        before = _version(x)
        x2 = iop(x, lib.tensor(o))
        assert x2 is x and alias is x
        assert _version(x) == before + 1 and _version(row) == _version(x)
        np.testing.assert_allclose(row.numpy(), x.numpy()[1], rtol=0, atol=0)
        if lib is striate:
            mine = x.numpy().copy()
        else:
            np.testing.assert_allclose(mine, x.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("op", sorted(AUGMENTED) + sorted(BITWISE))
@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8", "bool", "float16"])
def test_dtype_is_kept_and_refusals_follow_pytorch(op, dtype, torch, rng):
    iop = BITWISE.get(op) or AUGMENTED[op][0]
    a = rng.integers(1, 6, (2, 3)).astype(dtype)
    for other in (2, 1.5, np.array([1, 2, 3], dtype="int64")):
        results = []
        for lib in (striate, torch):
            x = lib.tensor(a)
            o = lib.tensor(other) if isinstance(other, np.ndarray) else other
            try:
                iop(x, o)
                results.append((str(x.dtype).removeprefix("torch."), x.numpy().copy()))
            except (TypeError, ValueError, RuntimeError, NotImplementedError, ZeroDivisionError):
                results.append("raises")
        s, t = results
        assert (s == "raises") == (t == "raises"), (op, dtype, other, s, t)
        if s != "raises":
            assert s[0] == dtype == t[0], (op, dtype, other)
            np.testing.assert_allclose(s[1].astype(float), t[1].astype(float), rtol=1e-3,
                                       atol=1e-3)


def test_float_into_an_integer_tensor_is_refused_by_name():
    x = striate.tensor([1, 2])
    with pytest.raises(TypeError, match="add_: the result type float32 can't be cast to the "
                                        "tensor's dtype int64"):
        x += 0.5
    with pytest.raises(TypeError, match="div_"):
        x /= 2
    with pytest.raises(ValueError, match="add_: an operand of shape \\(2, 2\\) can't be broadcast"):
        x += striate.ones(2, 2, dtype=striate.int64)
    assert x.tolist() == [1, 2]


def test_a_leaf_that_requires_grad_refuses_it_outside_no_grad():
    w = striate.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="add_: a leaf Variable that requires grad is being "
                                           "used in an in-place operation"):
        w += 1.0
    with pytest.raises(RuntimeError, match="leaf Variable"):
        w[0] *= 2.0
    w.grad = striate.tensor([0.5, -1.0])
    with striate.no_grad():  # the optimizer's step
        w -= 0.1 * w.grad
    assert w.is_leaf and w.requires_grad and w.grad_fn is None
    np.testing.assert_allclose(w.array, [0.95, 2.1], rtol=1e-6)


def test_recorded_on_a_non_leaf_with_pytorch_gradients(torch, rng):
    a, b = rng.standard_normal((2, 3, 4))

    def f(lib, x, y):
        h = x * 2.0
        h += y
        h *= x
        h -= y * y
        h /= y * y + 1.0
        h **= 2
        h %= 1.5
        return h

    grads = []
    for lib in (striate, torch):
        x, y = lib.tensor(a, requires_grad=True), lib.tensor(b, requires_grad=True)
        h = f(lib, x, y)
        h.backward(lib.tensor(a + 2 * b))
        grads.append((h.detach().numpy(), x.grad.numpy(), y.grad.numpy()))
    for s, t in zip(*grads):
        np.testing.assert_allclose(s, t, rtol=1e-10, atol=1e-10)
    xs = [striate.tensor(v, requires_grad=True) for v in (a, b)]
    assert gradcheck(lambda x, y: f(striate, x, y), xs, atol=1e-7, rtol=1e-5)


def test_changing_a_tensor_a_backward_needs_raises_at_backward(torch):
    for lib in (striate, torch):
        x = lib.tensor([0.5, -1.0], requires_grad=True)
        h = x.tanh()  # tanh's backward reads its output
        h += 1.0
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            h.sum().backward()


def test_through_a_view_is_recorded_as_pytorch_records_it(torch, rng):
    a, b = rng.standard_normal((2, 3, 4))

    def f(lib, x, w):
        h = x * 1.0
        h[0] += w[0]  # getitem, then the view's in-place add, then setitem
        col = h[:, 1]
        col *= w[:, 2]  # a view kept and changed: h sees it
        t = h.transpose(0, 1)
        t[2] -= 3.0 * w[:, 3]  # a view of a permutation
        h[1:, 2:][0] /= 2.0  # a view of a view
        return h * col.sum()

    grads = []
    for lib in (striate, torch):
        x, w = lib.tensor(a, requires_grad=True), lib.tensor(b, requires_grad=True)
        out = f(lib, x, w)
        out.backward(lib.tensor(b))
        grads.append((out.detach().numpy(), x.grad.numpy(), w.grad.numpy()))
    for s, t in zip(*grads):
        np.testing.assert_allclose(s, t, rtol=1e-10, atol=1e-10)
    xs = [striate.tensor(v, requires_grad=True) for v in (a, b)]
    assert gradcheck(lambda x, w: f(striate, x, w), xs, atol=1e-7, rtol=1e-5)


def test_a_view_of_a_constant_takes_a_gradient_written_into_it(torch):
    for lib in (striate, torch):
        buf = lib.zeros(2, 3, dtype=lib.float64)
        w = lib.tensor([1.0, 2.0, 3.0], dtype=lib.float64, requires_grad=True)
        row = buf[1]
        row += w * w
        assert buf.requires_grad and buf[1].tolist() == [1.0, 4.0, 9.0]
        (buf * 2.0).sum().backward()
        assert w.grad.tolist() == [4.0, 8.0, 12.0]


def test_views_that_cannot_take_a_write_raise():
    x = striate.tensor([1.0, 2.0], requires_grad=True)
    e = (x * 1.0).expand(3, 2)  # three rows, one memory
    with pytest.raises(RuntimeError, match="view"):
        e += 1.0
    w = striate.tensor([[1.0, 2.0]], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable"):
        w[0] += 1.0  # a view of a leaf that requires grad (PyTorch refuses it too)


def test_bitwise_and_remainder_inplace_forms(torch):
    m = [True, False, True]
    for lib in (striate, torch):
        x = lib.tensor(m)
        x |= lib.tensor([False, True, False])
        x &= lib.tensor([True, True, False])
        x ^= lib.tensor([False, True, True])
        assert x.tolist() == [True, False, True]
        i = lib.tensor([7, -7, 9])
        i %= 4
        assert i.tolist() == [3, 1, 1]
        i //= 2
        assert i.tolist() == [1, 0, 0]
        f = lib.tensor([0.25, -0.5])
        f.erf_()
        f.erfinv_()
        assert np.allclose(f.numpy(), [0.25, -0.5], atol=1e-6)
        f.fmod_(0.2)
        assert np.allclose(f.numpy(), [0.05, -0.1], atol=1e-6)
