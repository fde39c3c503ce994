"""In-place changes after a forward: an error where a backward would read changed memory (as in
PyTorch), no error where nothing saved was touched."""

from __future__ import annotations

import numpy as np
import pytest

import striate
from striate import functional as F

RNG = np.random.default_rng(21)


def leaf(*shape):
    return striate.tensor(RNG.standard_normal(shape), requires_grad=True)


def test_changing_a_saved_output_raises():
    x = leaf(3, 4)
    y = F.sigmoid(x)  # backward reads y
    y.add_(1.0)
    with pytest.raises(RuntimeError, match="Sigmoid saved .* in-place"):
        y.sum().backward()


def test_changing_a_saved_input_raises_also_through_a_view_or_detach():
    for change in (lambda a: a.mul_(3.0), lambda a: a[0].add_(1.0),
                   lambda a: a.detach().zero_()):
        x, w = leaf(2, 3), leaf(3, 4)
        a = x * 2.0
        z = a @ w  # backward reads a and w
        # (the write through the view a[0] already raises: striate records no in-place change
        # of a view of a tensor in the graph)
        with pytest.raises(RuntimeError, match="in-place"):
            change(a)
            z.sum().backward()


def test_changing_an_input_a_kernel_cache_kept_raises():
    x, w = leaf(2, 3, 6, 6), leaf(4, 3, 3, 3)
    h = x * 1.0
    out = F.conv2d(h, w, padding=1)  # the convolution's cache keeps h's memory for dW
    h.add_(1.0)
    with pytest.raises(RuntimeError, match="Conv"):
        out.sum().backward()


def test_harmless_changes_do_not_raise():
    x = leaf(3, 4)
    a = x * 2.0
    z = a + 1.0  # addition saves nothing
    a.add_(5.0)
    z.sum().backward()
    np.testing.assert_allclose(x.grad.array, 2.0)
    # relu keeps a private mask, not its output
    x.grad = None
    y = F.relu(x)
    y.add_(7.0)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.array, (x.array > 0).astype(float))
    # .data is not tracked (PyTorch's .data): a deliberate, unchecked change
    x.grad = None
    s = F.sigmoid(x)
    s.data.mul_(1.0)
    s.sum().backward()
    assert x.grad is not None


def test_a_second_backward_after_a_change_raises():
    x = leaf(3)
    y = F.sigmoid(x)
    y.sum().backward(retain_graph=True)
    with striate.no_grad():
        y.add_(0.0)  # the version moves; a second backward would read changed memory
    with pytest.raises(RuntimeError, match="in-place"):
        y.sum().backward()
