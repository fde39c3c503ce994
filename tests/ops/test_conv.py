"""conv2d: gradients in float64, PyTorch parity, dtypes, layouts, and clear errors."""

from __future__ import annotations

import numpy as np
import pytest
from opcheck import check_op
from opcheck import functional_or_skip as _tf

import striate
from striate import functional as F
from striate.kernels import conv_forward_naive

RNG = np.random.default_rng(3)


CASES = [
    ((2, 3, 5, 5), (4, 3, 3, 3), 1, 1),
    ((2, 2, 7, 6), (3, 2, 3, 2), (2, 1), (1, 0)),
    ((1, 17, 4, 5), (2, 17, 2, 2), 2, 1),
]


@pytest.mark.parametrize("x_shape,w_shape,stride,padding", CASES)
def test_conv2d_gradients_and_torch_parity(x_shape, w_shape, stride, padding):
    x = RNG.standard_normal(x_shape)
    w = RNG.standard_normal(w_shape)
    b = RNG.standard_normal(w_shape[0])
    out = check_op(
        lambda x, w, b: F.conv2d(x, w, b, stride=stride, padding=padding),
        [x, w, b],
        lambda x, w, b: _tf().conv2d(x, w, b, stride=stride, padding=padding),
    )
    np.testing.assert_allclose(out, conv_forward_naive(x, w, b, stride, padding)[0], atol=1e-10)


def test_conv2d_without_bias():
    x, w = RNG.standard_normal((2, 2, 4, 4)), RNG.standard_normal((3, 2, 3, 3))
    check_op(
        lambda x, w: F.conv2d(x, w, padding=1), [x, w], lambda x, w: _tf().conv2d(x, w, padding=1)
    )


def test_float32_in_float32_out():
    x = striate.randn(2, 3, 6, 6, requires_grad=True)
    w = striate.randn(4, 3, 3, 3, requires_grad=True)
    b = striate.zeros(4, requires_grad=True)
    y = F.conv2d(x, w, b, padding=1)
    assert y.dtype == np.float32
    y.sum().backward()
    assert x.grad.dtype == w.grad.dtype == b.grad.dtype == np.float32


def test_non_contiguous_input():
    a = RNG.standard_normal((2, 3, 6, 5))
    w = RNG.standard_normal((4, 3, 3, 3))
    x = striate.tensor(a.transpose(0, 1, 3, 2).copy(), requires_grad=True)
    xt = x.transpose(2, 3)  # a transposed view: (2, 3, 6, 5), not contiguous
    assert not xt.array.flags.c_contiguous
    y = F.conv2d(xt, striate.tensor(w), padding=1)
    np.testing.assert_allclose(y.array, conv_forward_naive(a, w, None, 1, 1)[0], atol=1e-10)
    y.sum().backward()
    assert x.grad.shape == (2, 3, 5, 6)


def test_frozen_weight_still_gives_the_input_gradient_and_no_grad_records_nothing():
    x = striate.tensor(RNG.standard_normal((1, 2, 5, 5)), requires_grad=True)
    w = striate.tensor(RNG.standard_normal((3, 2, 3, 3)))
    y = F.conv2d(x, w, padding=1)
    y.sum().backward(retain_graph=True)
    g1 = x.grad.array.copy()
    y.sum().backward()  # the cache survives a retained graph
    np.testing.assert_allclose(x.grad.array, 2 * g1)
    with striate.no_grad():
        z = F.conv2d(x, w, padding=1)
    assert not z.requires_grad and z.grad_fn is None


def test_conv2d_errors():
    x = striate.randn(8, 3, 32, 32)
    with pytest.raises(ValueError) as e:
        F.conv2d(x, striate.randn(16, 1, 3, 3))
    assert str(e.value) == (
        "conv2d: input has 3 channels but weight expects 1 "
        "(input shape (8, 3, 32, 32), weight shape (16, 1, 3, 3))"
    )
    w = striate.randn(16, 3, 3, 3)
    with pytest.raises(ValueError, match=r"input must be 4-D .* got shape \(3, 32, 32\).*unsq"):
        F.conv2d(striate.randn(3, 32, 32), w)
    with pytest.raises(ValueError, match=r"weight must be 4-D"):
        F.conv2d(x, striate.randn(16, 3, 3))
    with pytest.raises(ValueError, match=r"bias must have shape \(16,\).* got \(8,\)"):
        F.conv2d(x, w, striate.zeros(8))
    with pytest.raises(ValueError, match=r"kernel size \(3, 3\) is larger than the padded input"):
        F.conv2d(striate.randn(1, 3, 2, 2), w)
    with pytest.raises(TypeError, match="same dtype, got input float32 and weight float64"):
        F.conv2d(x, striate.tensor(RNG.standard_normal((16, 3, 3, 3))))
    with pytest.raises(TypeError, match="bias must have the input's dtype float32"):
        F.conv2d(x, w, striate.tensor(np.zeros(16)))
    with pytest.raises(TypeError, match="input must be a floating tensor, got dtype int64"):
        F.conv2d(striate.tensor(np.zeros((1, 3, 4, 4), np.int64)), w)
    with pytest.raises(ValueError, match=r"conv2d: dilation must be >= 1, got 0"):
        F.conv2d(x, w, dilation=0)
    with pytest.raises(ValueError, match="conv2d: groups 3 must divide both the input channels 3 "
                                         "and the output channels 16"):
        F.conv2d(x, w, groups=3)
    with pytest.raises(ValueError, match=r"expects 6 \(3 per group x 2 groups\)"):
        F.conv2d(striate.randn(1, 4, 5, 5), striate.randn(4, 3, 3, 3), groups=2)
    with pytest.raises(ValueError, match=r"stride must be >= 1, got 0"):
        F.conv2d(x, w, stride=0)
    with pytest.raises(ValueError, match=r"padding must be >= 0, got \(1, -1\)"):
        F.conv2d(x, w, padding=(1, -1))
    with pytest.raises(ValueError, match=r"padding must be an int, a pair, 'valid' or 'same', "
                                         r"got 'full'"):
        F.conv2d(x, w, padding="full")
    with pytest.raises(ValueError, match=r"padding='same' needs stride 1"):
        F.conv2d(x, w, padding="same", stride=2)
