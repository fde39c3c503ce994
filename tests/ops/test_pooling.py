"""max_pool2d / avg_pool2d: gradients, PyTorch parity (ties included), dtypes, layouts, errors."""

from __future__ import annotations

import numpy as np
import pytest
from opcheck import check_op
from opcheck import functional_or_skip as _tf

import striate
from striate import functional as F

RNG = np.random.default_rng(4)


POOLS = [
    ((2, 3, 4, 6), 2, None, 0),
    ((1, 2, 7, 5), 3, 2, 1),
    ((2, 2, 5, 6), (2, 3), (1, 2), (1, 1)),
]


@pytest.mark.parametrize("shape,kernel,stride,padding", POOLS)
def test_max_pool2d_gradients_and_torch_parity(shape, kernel, stride, padding):
    x = RNG.standard_normal(shape)
    check_op(
        lambda x: F.max_pool2d(x, kernel, stride, padding),
        [x],
        lambda x: _tf().max_pool2d(x, kernel, stride, padding),
    )


@pytest.mark.parametrize("count_include_pad", [True, False])
@pytest.mark.parametrize("shape,kernel,stride,padding", POOLS)
def test_avg_pool2d_gradients_and_torch_parity(shape, kernel, stride, padding, count_include_pad):
    x = RNG.standard_normal(shape)
    kw = {"count_include_pad": count_include_pad}
    check_op(
        lambda x: F.avg_pool2d(x, kernel, stride, padding, **kw),
        [x],
        lambda x: _tf().avg_pool2d(x, kernel, stride, padding, **kw),
    )


def test_avg_pool2d_divisor_override_matches_torch():
    x = RNG.standard_normal((1, 2, 4, 6))
    check_op(
        lambda x: F.avg_pool2d(x, 2, divisor_override=3),
        [x],
        lambda x: _tf().avg_pool2d(x, 2, divisor_override=3),
    )


@pytest.mark.parametrize("kernel,stride,padding", [(2, None, 0), (3, 2, 1), (3, 1, 1)])
def test_max_pool2d_ties_match_torch(kernel, stride, padding):
    torch = pytest.importorskip("torch")
    a = RNG.integers(0, 2, size=(2, 3, 8, 8)).astype(np.float32)  # ties everywhere
    x = striate.tensor(a, requires_grad=True)
    t = torch.tensor(a, requires_grad=True)
    y = F.max_pool2d(x, kernel, stride, padding)
    ty = torch.nn.functional.max_pool2d(t, kernel, stride, padding)
    g = RNG.standard_normal(y.shape).astype(np.float32)
    y.backward(striate.tensor(g))
    ty.backward(torch.tensor(g))
    np.testing.assert_array_equal(y.array, ty.detach().numpy())
    np.testing.assert_allclose(x.grad.array, t.grad.numpy(), atol=1e-6)


def test_constant_input_routes_each_gradient_to_one_element():
    x = striate.zeros(1, 1, 4, 4, requires_grad=True)
    F.max_pool2d(x, 2).sum().backward()
    assert x.grad.array.sum() == 4
    np.testing.assert_array_equal(x.grad.array[0, 0, ::2, ::2], np.ones((2, 2)))


@pytest.mark.parametrize("pool", [F.max_pool2d, F.avg_pool2d])
def test_float32_and_non_contiguous_input(pool):
    a = RNG.standard_normal((2, 3, 6, 8)).astype(np.float32)
    want = pool(striate.tensor(a), 2).array
    x = striate.tensor(a.transpose(0, 1, 3, 2).copy(), requires_grad=True)
    xt = x.transpose(2, 3)
    assert not xt.array.flags.c_contiguous
    y = pool(xt, 2)
    assert y.dtype == np.float32
    np.testing.assert_array_equal(y.array, want)
    y.sum().backward()
    assert x.grad.dtype == np.float32 and x.grad.shape == (2, 3, 8, 6)


def test_no_grad_pooling_records_nothing():
    x = striate.randn(2, 3, 4, 4, requires_grad=True)
    with striate.no_grad():
        y = F.max_pool2d(x, 2)
    assert not y.requires_grad and y.shape == (2, 3, 2, 2)


def test_conv_relu_pool_linear_chain_matches_torch():
    # the layers hand channels-last views to each other; the chain must still agree with torch
    torch = pytest.importorskip("torch")
    tf = torch.nn.functional
    arrays = [
        RNG.standard_normal(s).astype(np.float32)
        for s in [(4, 3, 8, 8), (6, 3, 3, 3), (6,), (5, 6, 3, 3), (5,), (10, 5 * 2 * 2)]
    ]

    def net(lib, fn, x, w1, b1, w2, b2, w3):
        h = fn.max_pool2d(fn.relu(fn.conv2d(x, w1, b1, padding=1)), 2)
        h = fn.avg_pool2d(fn.relu(fn.conv2d(h, w2, b2, padding=1)), 2)
        return (lib.flatten(h, 1) @ w3.T).sum()

    ours = [striate.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    loss = net(striate, F, *ours)
    tloss = net(torch, tf, *theirs)
    loss.backward()
    tloss.backward()
    np.testing.assert_allclose(loss.item(), tloss.item(), rtol=1e-4)
    for o, t in zip(ours, theirs):
        np.testing.assert_allclose(o.grad.array, t.grad.numpy(), rtol=1e-3, atol=1e-4)


DILATED = [  # shape, kernel, stride, padding, dilation, ceil_mode
    ((2, 2, 7, 8), 2, 1, 0, 2, False),
    ((1, 3, 9, 7), 3, 2, 1, (2, 3), False),
    ((2, 2, 8, 9), (2, 3), (2, 1), (1, 1), (3, 2), True),
    ((1, 2, 6, 6), 2, 3, 1, 2, True),
    ((1, 1, 15, 9), (8, 9), 1, (1, 0), (2, 1), False),  # 72 taps: argmax, not the bit codes
]


@pytest.mark.parametrize("shape,kernel,stride,padding,dilation,ceil_mode", DILATED)
def test_max_pool2d_dilation_gradients_indices_and_torch(shape, kernel, stride, padding, dilation,
                                                         ceil_mode):
    x = RNG.standard_normal(shape)
    check_op(lambda x: F.max_pool2d(x, kernel, stride, padding, dilation, ceil_mode), [x],
             lambda x: _tf().max_pool2d(x, kernel, stride, padding, dilation, ceil_mode))
    torch = pytest.importorskip("torch")
    x[x > 1.5] = np.nan  # NaN wins its windows, as in PyTorch
    ours, idx = F.max_pool2d(striate.tensor(x), kernel, stride, padding, dilation, ceil_mode,
                             return_indices=True)
    ref, ref_idx = torch.nn.functional.max_pool2d(torch.tensor(x), kernel, stride, padding,
                                                  dilation, ceil_mode, return_indices=True)
    np.testing.assert_array_equal(ours.array, ref.numpy())
    np.testing.assert_array_equal(idx.array, ref_idx.numpy())


def test_max_pool2d_dilated_window_of_padding_only_is_minus_inf_with_no_index():
    # rows -1 and 1 of a 1-row input: the window holds no input element (PyTorch's indices point
    # outside the input there); striate gives -inf, index -1 and no gradient
    x = striate.randn(1, 1, 1, 5, requires_grad=True)
    y, idx = F.max_pool2d(x, 2, 1, 1, (2, 1), True, return_indices=True)
    assert np.isneginf(y.array).all() and (idx.array == -1).all()
    F.max_pool2d(x, 2, 1, 1, (2, 1), True).sum().backward()
    assert not x.grad.array.any()


def test_pooling_errors():
    x = striate.randn(2, 3, 8, 8)
    with pytest.raises(ValueError, match=r"max_pool2d: input must be 4-D .* got shape \(3, 8, 8\)"):
        F.max_pool2d(striate.randn(3, 8, 8), 2)
    with pytest.raises(ValueError, match=r"padding \(2, 2\) must be at most half the kernel size"):
        F.max_pool2d(x, 3, padding=2)
    with pytest.raises(ValueError, match=r"avg_pool2d: kernel size \(9, 9\) is larger than the"):
        F.avg_pool2d(x, 9)
    with pytest.raises(ValueError, match=r"max_pool2d: dilation must be >= 1, got 0"):
        F.max_pool2d(x, 2, dilation=0)
    with pytest.raises(ValueError, match=r"kernel size \(3, 3\) \(spanning \(9, 9\) with dilation"):
        F.max_pool2d(x, 3, dilation=4)
    with pytest.raises(TypeError, match="floating tensor, got dtype int64"):
        F.max_pool2d(striate.tensor(np.zeros((1, 1, 4, 4), np.int64)), 2)
    with pytest.raises(ValueError, match=r"kernel_size must be >= 1, got 0"):
        F.avg_pool2d(x, 0)
    with pytest.raises(ValueError, match="divisor_override must be a positive int, got 0"):
        F.avg_pool2d(x, 2, divisor_override=0)
