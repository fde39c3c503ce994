"""conv2d with dilation, groups (grouped, depthwise), 1x1 and 'same' padding; conv_transpose2d.

Gradients in float64, PyTorch parity (where installed), and agreement with the naive loops.
"""

from __future__ import annotations

import numpy as np
import pytest
from opcheck import check_op
from opcheck import functional_or_skip as _tf

import striate
from striate import functional as F
from striate.kernels import conv_backward, conv_forward, conv_transpose_forward_naive
from striate.kernels.naive import conv_backward_naive, conv_forward_naive

RNG = np.random.default_rng(11)


# (x shape, w shape, stride, padding, dilation, groups)
CONV_CASES = [
    ((2, 3, 7, 6), (4, 3, 3, 3), 1, 2, 2, 1),  # dilated
    ((2, 3, 9, 8), (4, 3, 3, 2), (2, 1), (1, 0), (2, 3), 1),  # dilated, strided, rectangular
    ((2, 4, 6, 5), (6, 2, 3, 3), 1, 1, 1, 2),  # grouped
    ((1, 6, 7, 7), (6, 2, 3, 3), 2, 1, 2, 3),  # grouped, strided, dilated
    ((1, 9, 6, 5), (6, 3, 3, 3), (2, 1), 1, 1, 3),  # 3 channels per group (24-byte items)
    # grouped at stride 1: dx as a grouped convolution (dilated, rectangular, unpadded)
    ((2, 6, 7, 8), (9, 2, 3, 2), 1, (2, 1), (2, 1), 3),
    ((1, 4, 6, 6), (4, 2, 2, 3), 1, 0, 1, 2),
    ((2, 4, 6, 5), (4, 1, 3, 3), 1, 1, 1, 4),  # depthwise
    ((2, 3, 7, 6), (6, 1, 3, 2), 2, 1, 1, 3),  # depthwise with channel multiplier 2
    ((2, 5, 6, 5), (3, 5, 1, 1), 1, 0, 1, 1),  # 1x1: a GEMM
    ((2, 5, 7, 6), (3, 5, 1, 1), 2, 0, 1, 1),  # 1x1 strided (a ResNet shortcut)
]


@pytest.mark.parametrize("xs,ws,stride,padding,dilation,groups", CONV_CASES)
def test_conv2d_general_gradients_torch_and_naive(xs, ws, stride, padding, dilation, groups):
    x, w, b = RNG.standard_normal(xs), RNG.standard_normal(ws), RNG.standard_normal(ws[0])
    kw = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
    out = check_op(lambda x, w, b: F.conv2d(x, w, b, **kw), [x, w, b],
                   lambda x, w, b: _tf().conv2d(x, w, b, **kw))
    ref, cache = conv_forward_naive(x, w, b, stride, padding, dilation, groups)
    np.testing.assert_allclose(out, ref, atol=1e-10)
    # fast backward kernels against the naive loops
    fast, fcache = conv_forward(x, w, b, stride, padding, dilation, groups)
    dout = RNG.standard_normal(fast.shape)
    for got, want in zip(conv_backward(dout, fcache), conv_backward_naive(dout, cache)):
        np.testing.assert_allclose(got, want, atol=1e-10)


def test_depthwise_and_grouped_float32_on_channels_last_input():
    # the output of one conv (channels-last memory) feeds a depthwise then a grouped conv
    x = striate.randn(4, 8, 10, 10, requires_grad=True)
    w1 = striate.randn(8, 8, 3, 3, requires_grad=True)
    w2 = striate.randn(8, 1, 3, 3, requires_grad=True)
    w3 = striate.randn(16, 2, 3, 3, requires_grad=True)
    h = F.conv2d(x, w1, padding=1)
    assert h.array.transpose(0, 2, 3, 1).flags.c_contiguous
    y = F.conv2d(F.conv2d(h, w2, padding=1, groups=8), w3, padding=2, dilation=2, groups=4)
    assert y.dtype == np.float32 and y.shape == (4, 16, 10, 10)
    y.sum().backward()
    a = lambda t: t.array.astype(np.float64)  # noqa: E731
    ref = conv_forward_naive(a(h), a(w2), None, 1, 1, 1, 8)[0]
    ref = conv_forward_naive(ref, a(w3), None, 1, 2, 2, 4)[0]
    np.testing.assert_allclose(y.array, ref, rtol=1e-4, atol=1e-3)
    assert all(t.grad.dtype == np.float32 for t in (x, w1, w2, w3))


@pytest.mark.parametrize("c,f,groups", [(6, 9, 3), (15, 5, 5), (8, 16, 2)])
def test_grouped_float32_odd_group_widths_against_naive(c, f, groups):
    # C/G * 4 bytes = 8, 12 and 16: uint64 and void items in the group-major copies
    x = RNG.standard_normal((2, c, 7, 6)).astype(np.float32)
    w = RNG.standard_normal((f, c // groups, 3, 3)).astype(np.float32)
    out, cache = conv_forward(x, w, None, (2, 1), 1, 1, groups)
    dout = RNG.standard_normal(out.shape).astype(np.float32)
    ref, rcache = conv_forward_naive(x.astype(np.float64), w.astype(np.float64), None, (2, 1), 1,
                                     1, groups)
    np.testing.assert_allclose(out, ref, rtol=1e-4, atol=1e-4)
    for got, want in zip(conv_backward(dout, cache, need_db=False),
                         conv_backward_naive(dout.astype(np.float64), rcache)[:2]):
        assert got.dtype == np.float32
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("compiled", [False, True])
@pytest.mark.parametrize("ws,stride,dilation,dtype", [
    ((4, 1, 3, 3), 1, 1, np.float64), ((8, 1, 3, 2), 2, 2, np.float64),
    ((12, 1, 3, 3), (1, 2), 1, np.float32),
])
def test_depthwise_numpy_and_compiled_paths_against_naive(monkeypatch, compiled, ws, stride,
                                                          dilation, dtype):
    from striate.kernels import compiled as C

    if compiled and not C.available():
        pytest.skip("numba is not installed (the 'fast' extra)")
    monkeypatch.setattr(C, "USE_COMPILED", compiled)
    x = RNG.standard_normal((2, 4, 7, 6))
    w = RNG.standard_normal(ws)
    out, cache = conv_forward(x.astype(dtype), w.astype(dtype), None, stride, 1, dilation, 4)
    ref, rcache = conv_forward_naive(x, w, None, stride, 1, dilation, 4)
    tol = 1e-10 if dtype == np.float64 else 1e-4
    np.testing.assert_allclose(out, ref, rtol=tol, atol=tol)
    dout = RNG.standard_normal(out.shape)
    got = conv_backward(dout.astype(dtype), cache, need_db=False)
    for g, want in zip(got, conv_backward_naive(dout, rcache)[:2]):
        assert g.dtype == dtype
        np.testing.assert_allclose(g, want, rtol=tol, atol=tol)
    # dx alone (a frozen weight keeps no input) and dw alone
    frozen = cache._replace(patches=None)
    np.testing.assert_allclose(conv_backward(dout.astype(dtype), frozen, need_dw=False,
                                             need_db=False)[0], got[0], rtol=tol, atol=tol)
    np.testing.assert_allclose(conv_backward(dout.astype(dtype), cache, need_dx=False,
                                             need_db=False)[1], got[1], rtol=tol, atol=tol)


def test_conv2d_1x1_fast_path_matches_the_general_3x3_code():
    # a 1x1 kernel is a 3x3 kernel that is zero except at its centre, with padding 1
    x, w = RNG.standard_normal((2, 6, 5, 4)), RNG.standard_normal((3, 6, 1, 1))
    w3 = np.zeros((3, 6, 3, 3))
    w3[:, :, 1, 1] = w[:, :, 0, 0]
    out1, c1 = conv_forward(x, w, None, 2, 0)
    out3, c3 = conv_forward(x, w3, None, 2, 1)
    np.testing.assert_allclose(out1, out3, atol=1e-12)
    dout = RNG.standard_normal(out1.shape)
    dx1, dw1, _ = conv_backward(dout, c1)
    dx3, dw3, _ = conv_backward(dout, c3)
    np.testing.assert_allclose(dx1, dx3, atol=1e-12)
    np.testing.assert_allclose(dw1[:, :, 0, 0], dw3[:, :, 1, 1], atol=1e-12)


@pytest.mark.parametrize("kernel,dilation", [(3, 1), (4, 1), (3, 2), ((2, 3), (1, 2))])
def test_conv2d_same_and_valid_padding(kernel, dilation):
    x = RNG.standard_normal((2, 3, 7, 6))
    w = RNG.standard_normal((4, 3) + ((kernel, kernel) if isinstance(kernel, int) else kernel))
    out = check_op(lambda x, w: F.conv2d(x, w, padding="same", dilation=dilation), [x, w],
                   lambda x, w: _tf().conv2d(x, w, padding="same", dilation=dilation))
    assert out.shape == (2, 4, 7, 6)
    valid = F.conv2d(striate.tensor(x), striate.tensor(w), padding="valid", dilation=dilation)
    np.testing.assert_allclose(valid.array, conv_forward_naive(x, w, None, 1, 0, dilation)[0],
                               atol=1e-10)


def test_conv2d_frozen_weight_with_groups_keeps_no_patches():
    x = striate.tensor(RNG.standard_normal((1, 4, 5, 5)), requires_grad=True)
    w = striate.tensor(RNG.standard_normal((4, 2, 3, 3)))
    y = F.conv2d(x, w, padding=1, groups=2)
    assert y.grad_fn.cache.patches is None
    y.sum().backward()
    ref, cache = conv_forward_naive(x.array, w.array, None, 1, 1, 1, 2)
    dx = conv_backward_naive(np.ones_like(ref), cache)[0]
    np.testing.assert_allclose(x.grad.array, dx, atol=1e-10)


# (x shape, w shape, stride, padding, output_padding, dilation, groups)
TRANSPOSE_CASES = [
    ((2, 3, 4, 5), (3, 2, 3, 3), 2, 1, 1, 1, 1),  # the usual 2x upsampling
    ((2, 3, 4, 4), (3, 4, 4, 4), 2, 1, 0, 1, 1),  # 4x4 stride 2 (DCGAN)
    ((1, 2, 3, 4), (2, 3, 3, 2), (2, 3), (1, 0), (1, 2), 1, 1),
    ((2, 2, 4, 3), (2, 2, 3, 3), 1, 1, 1, 2, 1),  # output_padding < dilation, stride 1
    ((2, 4, 3, 4), (4, 3, 3, 3), 2, 1, 1, 1, 2),  # grouped
    ((2, 4, 3, 3), (4, 1, 3, 3), 2, 0, 0, 1, 4),  # depthwise
    ((2, 3, 4, 4), (3, 5, 1, 1), 1, 0, 0, 1, 1),  # 1x1
]


@pytest.mark.parametrize("xs,ws,stride,padding,opad,dilation,groups", TRANSPOSE_CASES)
def test_conv_transpose2d_gradients_torch_and_naive(xs, ws, stride, padding, opad, dilation,
                                                    groups):
    x, w = RNG.standard_normal(xs), RNG.standard_normal(ws)
    b = RNG.standard_normal(ws[1] * groups)
    kw = dict(stride=stride, padding=padding, output_padding=opad, groups=groups,
              dilation=dilation)
    out = check_op(lambda x, w, b: F.conv_transpose2d(x, w, b, **kw), [x, w, b],
                   lambda x, w, b: _tf().conv_transpose2d(x, w, b, **kw))
    ref = conv_transpose_forward_naive(x, w, b, stride, padding, opad, dilation, groups)
    np.testing.assert_allclose(out, ref, atol=1e-10)


def test_conv_transpose2d_is_the_adjoint_of_conv2d():
    # <conv(x), y> = <x, conv_transpose(y)> for the same weights and arguments
    x = RNG.standard_normal((2, 3, 9, 8))
    w = RNG.standard_normal((5, 3, 3, 3))
    kw = dict(stride=2, padding=1)
    cx = F.conv2d(striate.tensor(x), striate.tensor(w), **kw).array
    y = RNG.standard_normal(cx.shape)
    ty = F.conv_transpose2d(striate.tensor(y), striate.tensor(w), output_padding=(0, 1), **kw)
    ty = ty.array
    assert ty.shape == x.shape
    np.testing.assert_allclose(np.sum(cx * y), np.sum(x * ty), rtol=1e-10)


def test_conv_transpose2d_without_bias_and_float32():
    x = striate.randn(2, 4, 5, 5, requires_grad=True)
    w = striate.randn(4, 3, 3, 3, requires_grad=True)
    y = F.conv_transpose2d(x, w, stride=2, padding=1, output_padding=1)
    assert y.shape == (2, 3, 10, 10) and y.dtype == np.float32
    y.sum().backward()
    assert x.grad.dtype == w.grad.dtype == np.float32


def test_conv_errors():
    x = striate.randn(2, 4, 8, 8)
    with pytest.raises(ValueError, match="groups 3 must divide both the input channels 4"):
        F.conv2d(x, striate.randn(6, 1, 3, 3), groups=3)
    with pytest.raises(ValueError, match=r"groups must be a positive int, got 0"):
        F.conv2d(x, striate.randn(6, 4, 3, 3), groups=0)
    with pytest.raises(ValueError, match=r"kernel size \(3, 3\) is larger .*\(dilation \(4, 4\)"):
        F.conv2d(x, striate.randn(6, 4, 3, 3), dilation=4)
    w = striate.randn(4, 3, 3, 3)
    with pytest.raises(ValueError, match=r"output_padding \(2, 2\) must be smaller than the "
                                         r"stride \(2, 2\)"):
        F.conv_transpose2d(x, w, stride=2, output_padding=2)
    with pytest.raises(ValueError, match=r"input has 4 channels but weight expects 3"):
        F.conv_transpose2d(x, striate.randn(3, 3, 3, 3))
    with pytest.raises(ValueError, match=r"bias must have shape \(3,\), got \(4,\)"):
        F.conv_transpose2d(x, w, striate.zeros(4))
    with pytest.raises(ValueError, match=r"weight must be 4-D"):
        F.conv_transpose2d(x, striate.randn(4, 3, 3))
