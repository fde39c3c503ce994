"""The graph as PyTorch shows it: ``grad_fn`` nodes with ``next_functions``, Functions with several
outputs, and ``striate.autograd.grad``."""

from __future__ import annotations

import numpy as np
import pytest

import striate
from striate.autograd import AccumulateGrad, Function, Node


def leaf(seed, *shape):
    rng = np.random.default_rng(seed)
    return striate.tensor(rng.standard_normal(shape), requires_grad=True)


# ---- grad_fn and next_functions -----------------------------------------------------------------

def test_grad_fn_is_a_node_with_next_functions():
    x, w = leaf(0, 2, 3), leaf(1, 3)
    c = striate.tensor(np.ones(3))  # needs no gradient
    y = (x * w + c).sum()
    assert x.grad_fn is None and y.grad_fn.name() == "SumBackward"
    assert isinstance(y.grad_fn, Node)
    (add, i), = y.grad_fn.next_functions
    assert i == 0 and add.name() == "AddBackward"
    (mul, _), (none, _) = add.next_functions
    assert none is None and mul.name() == "MulBackward"
    (ax, _), (aw, _) = mul.next_functions
    assert isinstance(ax, AccumulateGrad) and ax.variable is x and aw.variable is w
    assert "MulBackward" in repr(x * w)


def test_a_leaf_used_twice_has_one_accumulate_node():
    x = leaf(2, 3)
    y = x * x
    (a, _), (b, _) = y.grad_fn.next_functions
    assert a is b and a.variable is x
    y.sum().backward()
    np.testing.assert_allclose(x.grad.array, 2 * x.array)


def test_the_graph_matches_pytorchs_shape():
    torch = pytest.importorskip("torch")
    xs = np.random.default_rng(3).standard_normal((2, 3))
    x = striate.tensor(xs, requires_grad=True)
    tx = torch.tensor(xs, requires_grad=True)

    def walk(node):
        if node is None:
            return None
        return [walk(n) for n, _ in node.next_functions]

    y = (x.exp() * 2 + x).sum()
    ty = (tx.exp() * 2 + tx).sum()
    assert walk(y.grad_fn) == walk(ty.grad_fn)


# ---- Functions with several outputs -------------------------------------------------------------

class SinCos(Function):
    """Two outputs from one node: (sin x, cos x)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.sin(x), np.cos(x)

    # d sin/dx = cos, d cos/dx = -sin
    @staticmethod
    def backward(ctx, g_sin, g_cos):
        (x,) = ctx.saved
        ctx.received = (g_sin.copy(), g_cos.copy())
        return g_sin * np.cos(x) - g_cos * np.sin(x)


def test_multi_output_function_gets_one_gradient_per_output():
    x = leaf(4, 5)
    s, c = SinCos.apply(x)
    assert s.grad_fn is c.grad_fn and (s._out_index, c._out_index) == (0, 1)
    (s * 2 + c * 3).sum().backward()
    np.testing.assert_allclose(x.grad.array, 2 * np.cos(x.array) - 3 * np.sin(x.array))


def test_an_unused_output_gets_zeros_as_in_pytorch():
    x = leaf(5, 4)
    s, c = SinCos.apply(x)
    node = s.grad_fn
    s.sum().backward(retain_graph=True)
    np.testing.assert_allclose(x.grad.array, np.cos(x.array))
    # the node itself saw zeros for cos (PyTorch's materialize_grads default)
    torch = pytest.importorskip("torch")

    class TSinCos(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x.sin(), x.cos()

        @staticmethod
        def backward(ctx, g_sin, g_cos):
            (x,) = ctx.saved_tensors
            TSinCos.seen = g_cos.clone()
            return g_sin * x.cos() - g_cos * x.sin()

    tx = torch.tensor(x.array, requires_grad=True)
    ts, _ = TSinCos.apply(tx)
    ts.sum().backward()
    assert node is not None
    np.testing.assert_array_equal(TSinCos.seen.numpy(), np.zeros(4))
    np.testing.assert_allclose(x.grad.array, tx.grad.numpy())


def test_multi_output_gradcheck():
    x = striate.tensor(np.random.default_rng(6).standard_normal(3), requires_grad=True)

    def f(x):
        s, c = SinCos.apply(x)
        return s * c + s

    assert striate.autograd.gradcheck(f, (x,))


def test_multi_output_with_an_integer_output():
    class MaxWithIndex(Function):
        @staticmethod
        def forward(ctx, x):
            i = x.argmax(axis=1)
            ctx.i, ctx.shape = i, x.shape
            return np.take_along_axis(x, i[:, None], 1)[:, 0], i

        @staticmethod
        def backward(ctx, g, g_index):
            dx = np.zeros(ctx.shape)
            np.put_along_axis(dx, ctx.i[:, None], g[:, None], 1)
            return dx

    x = leaf(7, 3, 4)
    v, i = MaxWithIndex.apply(x)
    assert v.requires_grad and not i.requires_grad and i.dtype == np.int64
    v.sum().backward()
    expected = np.zeros((3, 4))
    expected[np.arange(3), x.array.argmax(1)] = 1
    np.testing.assert_array_equal(x.grad.array, expected)


# ---- striate.autograd.grad ----------------------------------------------------------------------

def test_grad_matches_torch_and_leaves_dot_grad_alone():
    torch = pytest.importorskip("torch")
    xs = np.random.default_rng(8).standard_normal((3, 4))
    ws = np.random.default_rng(9).standard_normal((4, 2))
    x, w = striate.tensor(xs, requires_grad=True), striate.tensor(ws, requires_grad=True)
    tx, tw = torch.tensor(xs, requires_grad=True), torch.tensor(ws, requires_grad=True)
    h, th = (x @ w).tanh(), (tx @ tw).tanh()
    gx, gh = striate.autograd.grad(h.sum() * 2, (x, h))
    tgx, tgh = torch.autograd.grad(th.sum() * 2, (tx, th))
    np.testing.assert_allclose(gx.array, tgx.numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(gh.array, tgh.numpy(), rtol=1e-12, atol=1e-12)
    assert x.grad is None and w.grad is None


def test_grad_with_grad_outputs_and_several_outputs():
    torch = pytest.importorskip("torch")
    xs = np.random.default_rng(10).standard_normal(5)
    go = np.random.default_rng(11).standard_normal(5)
    x, tx = striate.tensor(xs, requires_grad=True), torch.tensor(xs, requires_grad=True)
    (g,) = striate.autograd.grad([x * x, x.exp()], [x], [striate.tensor(go), striate.ones(5,
                                 dtype=np.float64)])
    (tg,) = torch.autograd.grad([tx * tx, tx.exp()], [tx], [torch.tensor(go),
                                torch.ones(5, dtype=torch.float64)])
    np.testing.assert_allclose(g.array, tg.numpy(), rtol=1e-12, atol=1e-12)


def test_grad_unused_input():
    torch = pytest.importorskip("torch")
    x, z = leaf(12, 3), leaf(13, 3)
    with pytest.raises(RuntimeError, match="appears to not have been used in the graph"):
        striate.autograd.grad((x * 2).sum(), (x, z), retain_graph=True)
    gx, gz = striate.autograd.grad((x * 2).sum(), (x, z), allow_unused=True)
    assert gz is None
    np.testing.assert_allclose(gx.array, 2.0)
    tx, tz = (torch.zeros(3, requires_grad=True) for _ in range(2))
    with pytest.raises(RuntimeError, match="appears to not have been used in the graph"):
        torch.autograd.grad((tx * 2).sum(), (tx, tz))


def test_grad_frees_the_graph_unless_retained_and_refuses_create_graph():
    x = leaf(14, 3)
    y = x.exp().sum()
    striate.autograd.grad(y, x, retain_graph=True)
    striate.autograd.grad(y, x)
    with pytest.raises(RuntimeError, match="second time"):
        striate.autograd.grad(y, x)
    with pytest.raises(RuntimeError, match="higher-order"):
        striate.autograd.grad(x.exp().sum(), x, create_graph=True)
    with pytest.raises(RuntimeError, match="does not require grad"):
        striate.autograd.grad(y, striate.ones(3))


def test_hooks_on_non_leaves_run_once_with_the_summed_gradient():
    x = leaf(15, 3)
    h = x * 2
    seen = []
    handle = h.register_hook(lambda g: seen.append(g.array.copy()))
    h.retain_grad()
    loss = (h * h + h).sum()
    loss.backward(retain_graph=True)
    assert len(seen) == 1
    np.testing.assert_allclose(seen[0], 2 * h.array + 1)
    np.testing.assert_allclose(h.grad.array, 2 * h.array + 1)
    handle.remove()
    loss.backward()
    assert len(seen) == 1
