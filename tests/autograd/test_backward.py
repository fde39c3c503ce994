"""The backward pass: deep graphs, shared nodes, accumulation, freeing, retain_graph, hooks."""

from __future__ import annotations

import numpy as np
import pytest

import striate
from striate.autograd import Function, sum_to


def leaf(values, dtype=np.float64):
    return striate.tensor(np.asarray(values, dtype=dtype), requires_grad=True)


def test_deep_graph_has_no_recursion_limit():
    x = leaf([1.0, 2.0])
    y = x
    for _ in range(10_000):
        y = y * 1.0001 + 0.0
    y.sum().backward()
    np.testing.assert_allclose(x.grad.array, np.full(2, 1.0001**10_000), rtol=1e-9)
    del y  # tearing down a 20,000-node chain must not recurse either


def test_deep_graph_then_second_backward_is_also_iterative():
    x = leaf(0.5)
    y = x
    for _ in range(10_000):
        y = striate.tanh(y)
    y.backward(retain_graph=True)
    g1 = x.grad.item()
    y.backward()
    assert x.grad.item() == pytest.approx(2 * g1)


def test_diamond_sums_gradients():
    x = leaf([0.3, -1.2, 2.0])
    a = x * 2.0
    b = striate.exp(x)
    y = (a * b).sum()  # d/dx (2x e^x) = 2 e^x + 2x e^x
    y.backward()
    xv = x.array
    np.testing.assert_allclose(x.grad.array, 2 * np.exp(xv) * (1 + xv))


def test_diamond_with_deep_branches_is_ordered():
    # one branch much longer than the other: x's gradient must be complete before it is used
    x = leaf(1.5)
    h = x * 1.0
    long_branch = h
    for _ in range(50):
        long_branch = long_branch + 0.0
    y = long_branch * h  # h^2
    y.backward()
    assert x.grad.item() == pytest.approx(3.0)


def test_same_tensor_twice_in_one_op():
    x = leaf([1.0, -2.0, 3.0])
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.array, [2.0, -4.0, 6.0])
    x.grad = None
    (x + x + x).sum().backward()
    np.testing.assert_allclose(x.grad.array, [3.0, 3.0, 3.0])
    x.grad = None
    (x / x).sum().backward()
    np.testing.assert_allclose(x.grad.array, [0.0, 0.0, 0.0], atol=1e-15)


def test_leaf_grad_accumulates_across_backward_calls():
    x = leaf([1.0, 2.0])
    (x * 3.0).sum().backward()
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.array, [3.0 + 2.0, 3.0 + 4.0])


def test_gradients_of_two_leaves_are_separate_writable_arrays():
    # optimizers and clip_grad_norm_ update .grad arrays in place: they must not alias each other,
    # the caller's gradient array, or a read-only broadcast view
    a, b = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    g = np.array([1.0, 1.0])
    (a + b).backward(striate.tensor(g))
    assert not np.shares_memory(a.grad.array, b.grad.array)
    assert not np.shares_memory(a.grad.array, g)
    c = leaf(np.ones((2, 3)))
    c.sum().backward()  # Sum's backward is a broadcast view
    assert c.grad.array.flags.writeable
    c.grad.array *= 2.0
    np.testing.assert_array_equal(c.grad.array, np.full((2, 3), 2.0))
    np.testing.assert_array_equal(g, [1.0, 1.0])


def test_second_backward_through_freed_graph_raises():
    x = leaf([1.0, 2.0])
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="second time.*retain_graph=True"):
        y.backward()


def test_retain_graph_allows_a_second_backward():
    x = leaf([1.0, 2.0])
    y = (striate.exp(x) * x).sum()
    y.backward(retain_graph=True)
    first = x.grad.array.copy()
    y.backward()
    np.testing.assert_allclose(x.grad.array, 2 * first)


def _nodes(root):
    """The Function nodes of root's graph (not the leaves' AccumulateGrad nodes)."""
    seen, stack, out = set(), [root.grad_fn], []
    while stack:
        n = stack.pop()
        if n is None or id(n) in seen or not n.next_functions and n.name() == "AccumulateGrad":
            continue
        seen.add(id(n))
        out.append(n)
        stack.extend(nxt for nxt, _ in n.next_functions)
    return out


def test_saved_arrays_freed_after_backward():
    x = leaf(np.arange(1.0, 5.0))
    y = (striate.sigmoid(x * x) * striate.exp(x)).sum()
    inner = _nodes(y)
    assert len(inner) == 5 and all(not n._freed and n.saved is not None for n in inner)
    assert any(n.saved for n in inner)
    y.backward()
    assert all(n._freed and n.saved is None and set(vars(n)) == {"_freed"} for n in inner)


def test_saved_arrays_kept_with_retain_graph():
    x = leaf([1.0, 2.0])
    y = (x * x).sum()
    y.backward(retain_graph=True)
    assert all(not n._freed for n in _nodes(y))
    y.backward()
    np.testing.assert_allclose(x.grad.array, [4.0, 8.0])


def test_retain_grad_on_non_leaf():
    x = leaf([1.0, 2.0, 3.0])
    h = x * 2.0
    h.retain_grad()
    z = x * 5.0  # not retained
    ((h * h).sum() + z.sum()).backward()
    np.testing.assert_allclose(h.grad.array, 2 * h.array)
    assert z.grad is None
    np.testing.assert_allclose(x.grad.array, 8 * x.array + 5.0)


def test_retain_grad_needs_requires_grad():
    with pytest.raises(RuntimeError, match="retain_grad"):
        striate.ones(2).retain_grad()


def test_hook_on_leaf_modifies_gradient_and_remove():
    x = leaf([1.0, 2.0])
    seen = []

    def hook(g):
        seen.append(g.array.copy())
        return g * 10.0

    handle = x.register_hook(hook)
    (x * 3.0).sum().backward()
    np.testing.assert_allclose(x.grad.array, [30.0, 30.0])
    np.testing.assert_allclose(seen[0], [3.0, 3.0])
    handle.remove()
    x.grad = None
    (x * 3.0).sum().backward()
    np.testing.assert_allclose(x.grad.array, [3.0, 3.0])
    assert len(seen) == 1


def test_hook_on_non_leaf_changes_what_flows_back():
    x = leaf([1.0, -1.0])
    h = x * 2.0
    h.register_hook(lambda g: g * 0.0 + 1.0)  # replace the gradient by ones
    observed = []
    h.register_hook(lambda g: observed.append(g.array.copy()))  # returning None keeps it
    (h * h).sum().backward()
    np.testing.assert_allclose(observed[0], [1.0, 1.0])  # hooks run in order
    np.testing.assert_allclose(x.grad.array, [2.0, 2.0])


def test_register_hook_needs_requires_grad():
    with pytest.raises(RuntimeError, match="register_hook"):
        striate.ones(2).register_hook(lambda g: g)


def test_backward_non_scalar_without_gradient_names_shape():
    x = leaf(np.ones((2, 3)))
    with pytest.raises(RuntimeError, match=r"one element.*shape \(2, 3\)"):
        (x * 2.0).backward()


def test_backward_with_explicit_gradient():
    x = leaf(np.ones((2, 3)))
    g = np.arange(6.0).reshape(2, 3)
    (x * 2.0).backward(striate.tensor(g))
    np.testing.assert_allclose(x.grad.array, 2 * g)
    with pytest.raises(
        ValueError, match=r"grad has shape \(3,\) but the tensor has shape \(2, 3\)"
    ):
        (x * 2.0).backward(striate.tensor(np.ones(3)))


def test_backward_without_graph_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        striate.ones(3).sum().backward()


def test_detach_cuts_the_graph():
    x = leaf([1.0, 2.0])
    d = (x * 3.0).detach()
    assert not d.requires_grad and d.is_leaf and d.grad_fn is None
    y = (d * x).sum()  # d is a constant here
    y.backward()
    np.testing.assert_allclose(x.grad.array, [3.0, 6.0])
    assert d.grad is None
    assert np.shares_memory(x.detach().array, x.array)
    assert not x.data.requires_grad and np.shares_memory(x.data.array, x.array)


def test_requires_grad_propagates_only_from_requiring_inputs():
    a = leaf([1.0])
    b = striate.tensor([2.0])
    assert (a * b).requires_grad and not (b * b).requires_grad
    assert (b * b).grad_fn is None and (a * b).grad_fn is not None
    assert a.is_leaf and not (a * b).is_leaf


def test_needs_input_grad_reaches_backward():
    calls = []

    class Scale(Function):
        @staticmethod
        def forward(ctx, a, b):
            ctx.save_for_backward(a, b)
            return a * b

        @staticmethod
        def backward(ctx, g):
            calls.append(ctx.needs_input_grad)
            a, b = ctx.saved
            return (
                g * b if ctx.needs_input_grad[0] else None,
                g * a if ctx.needs_input_grad[1] else None,
            )

    x, c = leaf([2.0]), striate.tensor([5.0])
    Scale.apply(x, c).sum().backward()
    assert calls == [(True, False)]
    np.testing.assert_allclose(x.grad.array, [5.0])
    assert c.grad is None


def test_function_returning_broadcast_gradient_is_summed_centrally():
    class AddRow(Function):
        @staticmethod
        def forward(ctx, a, b):
            return a + b

        @staticmethod
        def backward(ctx, g):
            return g, g  # both at the output's shape; the engine sums b's back to (3,)

    a, b = leaf(np.zeros((4, 3))), leaf(np.zeros(3))
    AddRow.apply(a, b).sum().backward()
    np.testing.assert_array_equal(b.grad.array, [4.0, 4.0, 4.0])


@pytest.mark.parametrize(
    "grad_shape, shape, want",
    [
        ((4, 3), (3,), np.full(3, 4.0)),
        ((2, 4, 3), (4, 1), np.full((4, 1), 6.0)),
        ((5,), (5,), np.ones(5)),
        ((2, 3), (), np.array(6.0)),
        ((2, 3), (1, 1), np.full((1, 1), 6)),
    ],
)
def test_sum_to(grad_shape, shape, want):
    got = sum_to(np.ones(grad_shape), shape)
    assert got.shape == shape
    np.testing.assert_array_equal(got, want)


def test_float32_graph_keeps_float32_gradients():
    x = leaf([0.5, 1.5], dtype=np.float32)
    w = leaf([[1.0, 2.0], [3.0, 4.0]], dtype=np.float32)
    y = striate.tanh(x @ w) * 2.0 + 1.0
    y.sum().backward()
    assert y.dtype == np.float32 and x.grad.dtype == np.float32 and w.grad.dtype == np.float32


def test_inplace_on_leaf_requiring_grad_raises_outside_no_grad():
    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match="in-place"):
        x.add_(1.0)
    with striate.no_grad():
        x.add_(1.0)
    np.testing.assert_array_equal(x.array, [2.0, 3.0])
