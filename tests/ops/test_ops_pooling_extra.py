"""max_pool2d(return_indices) and max_unpool2d, adaptive average/max pooling, fractional max
pooling: gradients in float64, PyTorch parity (same indices, same random windows), references."""

from __future__ import annotations

import numpy as np
import pytest
from opcheck import check_op
from opcheck import torch_or_skip as _torch

import striate
from striate import functional as F
from striate.kernels import max_pool_forward_naive

RNG = np.random.default_rng(5)


def _distinct(shape):
    """Values with no ties (ties make max pooling's gradient ambiguous for the numeric check)."""
    return RNG.permutation(np.prod(shape)).reshape(shape) / 7.0 - 3.0


@pytest.mark.parametrize("kernel,stride,padding", [(2, 2, 0), (3, 2, 1), ((2, 3), (1, 2), 1),
                                                   ((5, 6), 1, 0)])
def test_max_pool2d_indices_match_torch_and_point_at_the_maxima(kernel, stride, padding):
    x = _distinct((2, 3, 7, 9))
    y, idx = F.max_pool2d(striate.tensor(x), kernel, stride, padding, return_indices=True)
    assert idx.dtype == np.int64 and idx.shape == y.shape
    flat = x.reshape(2, 3, -1)
    np.testing.assert_array_equal(np.take_along_axis(flat, idx.array.reshape(2, 3, -1), 2),
                                  y.array.reshape(2, 3, -1))
    np.testing.assert_array_equal(y.array, max_pool_forward_naive(x, kernel, stride, padding)[0])
    torch = _torch()
    yt, it = torch.nn.functional.max_pool2d(torch.tensor(x), kernel, stride, padding,
                                            return_indices=True)
    np.testing.assert_array_equal(idx.array, it.numpy())


def test_max_pool2d_return_indices_keeps_the_gradient():
    x = striate.tensor(_distinct((1, 2, 4, 4)), requires_grad=True)
    y, idx = F.max_pool2d(x, 2, return_indices=True)
    assert y.requires_grad and not idx.requires_grad
    y.sum().backward()
    assert x.grad.array.sum() == 8 and set(np.unique(x.grad.array)) == {0.0, 1.0}


@pytest.mark.parametrize("kernel,stride,padding", [(3, 2, 0), (3, 2, 1), ((3, 2), (2, 3), (1, 1)),
                                                   (2, 3, 1)])
def test_ceil_mode_pooling_gradients_and_torch(kernel, stride, padding):
    x = _distinct((2, 3, 7, 9))
    kw = dict(kernel_size=kernel, stride=stride, padding=padding, ceil_mode=True)
    out = check_op(lambda x: F.max_pool2d(x, **kw), [x],
                   lambda x: _torch().nn.functional.max_pool2d(x, **kw))
    floor = F.max_pool2d(striate.tensor(x), kernel, stride, padding).array
    assert out.shape[2] >= floor.shape[2] and out.shape[3] >= floor.shape[3]
    np.testing.assert_array_equal(out[:, :, : floor.shape[2], : floor.shape[3]], floor)
    for cip in (True, False):
        check_op(lambda x, c=cip: F.avg_pool2d(x, count_include_pad=c, **kw), [x],
                 lambda x, c=cip: _torch().nn.functional.avg_pool2d(x, count_include_pad=c, **kw))


def test_ceil_mode_output_sizes_and_hanging_window_divisor():
    x = striate.ones(1, 1, 5, 5)
    # 5 -> ceil((5 - 2) / 2) + 1 = 3: the last window holds one real column and row
    y = F.avg_pool2d(x, 2, ceil_mode=True)
    assert y.shape == (1, 1, 3, 3)
    np.testing.assert_allclose(y.array, 1.0)  # divided by the part inside, not by 4
    assert F.max_pool2d(x, 3, 2, ceil_mode=True).shape == (1, 1, 2, 2)
    # a window that would start in the right padding is dropped: 6, k 2, s 2, p 1 -> 4
    assert F.max_pool2d(striate.ones(1, 1, 6, 6), 2, 2, 1, ceil_mode=True).shape == (1, 1, 4, 4)
    m = striate.nn.MaxPool2d(3, 2, ceil_mode=True)
    assert m(striate.ones(1, 1, 8, 8)).shape == (1, 1, 4, 4)


@pytest.mark.parametrize("kernel,stride,padding", [(2, 2, 0), (3, 3, 1), ((2, 3), (2, 3), 0)])
def test_max_unpool2d_gradients_and_torch(kernel, stride, padding):
    x = _distinct((2, 3, 6, 9))
    _, idx = F.max_pool2d(striate.tensor(x), kernel, stride, padding, return_indices=True)
    vals = RNG.standard_normal(idx.shape)

    def ours(v):
        return F.max_unpool2d(v, idx, kernel, stride, padding, output_size=x.shape)

    def theirs(v):
        import torch

        return torch.nn.functional.max_unpool2d(v, torch.tensor(idx.array), kernel, stride,
                                                padding, output_size=x.shape[2:])

    out = check_op(ours, [vals], theirs)
    assert out.shape == x.shape
    # the unpooled map holds each value at its index and zeros elsewhere
    assert np.count_nonzero(out) == np.count_nonzero(vals)


def test_max_unpool2d_default_size_and_errors():
    y, idx = F.max_pool2d(striate.tensor(_distinct((1, 1, 4, 6))), 2, return_indices=True)
    assert F.max_unpool2d(y, idx, 2).shape == (1, 1, 4, 6)
    with pytest.raises(ValueError, match=r"indices must lie in \[0, 4\) for the output size"):
        F.max_unpool2d(y, idx, 2, output_size=(2, 2))
    with pytest.raises(ValueError, match=r"indices must have input's shape"):
        F.max_unpool2d(y, idx[:, :, :1], 2)
    with pytest.raises(TypeError, match="indices must be integers"):
        F.max_unpool2d(y, y, 2)


def _adaptive_reference(x, out_hw, reduce):
    """PyTorch's adaptive windows by their definition, with loops."""
    H, W = x.shape[2:]
    Ho, Wo = out_hw
    out = np.empty(x.shape[:2] + (Ho, Wo))
    for i in range(Ho):
        r0, r1 = (i * H) // Ho, -(-((i + 1) * H) // Ho)
        for j in range(Wo):
            c0, c1 = (j * W) // Wo, -(-((j + 1) * W) // Wo)
            out[:, :, i, j] = reduce(x[:, :, r0:r1, c0:c1], axis=(2, 3))
    return out


@pytest.mark.parametrize("output_size", [1, (3, 4), (5, None), (2, 7), (4, 2)])
def test_adaptive_avg_pool2d_gradients_and_torch(output_size):
    x = RNG.standard_normal((2, 3, 7, 9))
    out = check_op(lambda x: F.adaptive_avg_pool2d(x, output_size), [x],
                   lambda x: _torch().nn.functional.adaptive_avg_pool2d(x, output_size))
    np.testing.assert_allclose(out, _adaptive_reference(x, out.shape[2:], np.mean), atol=1e-12)
    if output_size == 1:
        np.testing.assert_allclose(out[:, :, 0, 0], x.mean(axis=(2, 3)), atol=1e-12)


def test_global_average_pooling_on_channels_last_float32():
    w = striate.randn(8, 3, 3, 3)
    h = F.conv2d(striate.randn(4, 3, 6, 6, requires_grad=True), w, padding=1)
    y = F.adaptive_avg_pool2d(h, 1)
    assert y.shape == (4, 8, 1, 1) and y.dtype == np.float32
    np.testing.assert_allclose(y.array[:, :, 0, 0], h.array.mean(axis=(2, 3)), rtol=1e-5,
                               atol=1e-6)


@pytest.mark.parametrize("output_size", [1, (3, 4), (2, 7), (4, 2)])
def test_adaptive_max_pool2d_gradients_indices_and_torch(output_size):
    x = _distinct((2, 3, 7, 9))
    out = check_op(lambda x: F.adaptive_max_pool2d(x, output_size), [x],
                   lambda x: _torch().nn.functional.adaptive_max_pool2d(x, output_size))
    np.testing.assert_array_equal(out, _adaptive_reference(x, out.shape[2:], np.max))
    _, idx = F.adaptive_max_pool2d(striate.tensor(x), output_size, return_indices=True)
    torch = _torch()
    _, it = torch.nn.functional.adaptive_max_pool2d(torch.tensor(x), output_size, True)
    np.testing.assert_array_equal(idx.array, it.numpy())


def _fractional_reference(x, kernel, out_hw, samples):
    """Graham's pooling regions by the formula, with loops (float64 samples)."""
    N, C, H, W = x.shape
    (kh, kw), (Ho, Wo) = kernel, out_hw

    def starts(u, n_in, n_out, k):
        alpha = (n_in - k) / (n_out - 1)
        return [int((i + u) * alpha) - int(u * alpha) for i in range(n_out - 1)] + [n_in - k]

    out = np.empty((N, C, Ho, Wo))
    for n in range(N):
        for c in range(C):
            rows = starts(samples[n, c, 1], H, Ho, kh)
            cols = starts(samples[n, c, 0], W, Wo, kw)
            for i, r in enumerate(rows):
                for j, s in enumerate(cols):
                    out[n, c, i, j] = x[n, c, r : r + kh, s : s + kw].max()
    return out


@pytest.mark.parametrize("kernel,output_size,output_ratio", [
    (2, (5, 6), None), (3, (3, 4), None), ((2, 3), (4, 3), None), (2, None, (0.7, 0.6)),
])
def test_fractional_max_pool2d_reference_gradients_and_torch(kernel, output_size, output_ratio):
    x = _distinct((2, 3, 8, 9))
    samples = RNG.random((2, 3, 2))

    def ours(x):
        return F.fractional_max_pool2d(x, kernel, output_size, output_ratio,
                                       _random_samples=samples)

    def theirs(x):
        import torch

        return torch.nn.functional.fractional_max_pool2d(
            x, kernel, output_size, output_ratio,
            _random_samples=torch.tensor(samples, dtype=x.dtype))

    out = check_op(ours, [x], theirs)
    k = (kernel, kernel) if isinstance(kernel, int) else kernel
    np.testing.assert_array_equal(out, _fractional_reference(x, k, out.shape[2:], samples))
    torch = _torch()
    _, idx = F.fractional_max_pool2d(striate.tensor(x), kernel, output_size, output_ratio, True,
                                     _random_samples=samples)
    _, it = torch.nn.functional.fractional_max_pool2d(
        torch.tensor(x), kernel, output_size, output_ratio, True,
        _random_samples=torch.tensor(samples))
    np.testing.assert_array_equal(idx.array, it.numpy())


def test_fractional_max_pool2d_float32_same_windows_as_torch():
    x = _distinct((3, 4, 11, 13)).astype(np.float32)
    samples = RNG.random((3, 4, 2)).astype(np.float32)
    y = F.fractional_max_pool2d(striate.tensor(x), 2, output_ratio=(0.7, 0.7),
                                _random_samples=samples)
    assert y.shape == (3, 4, 7, 9) and y.dtype == np.float32
    torch = _torch()
    yt = torch.nn.functional.fractional_max_pool2d(torch.tensor(x), 2, output_ratio=(0.7, 0.7),
                                                   _random_samples=torch.tensor(samples))
    np.testing.assert_array_equal(y.array, yt.numpy())


def test_fractional_max_pool2d_draws_from_the_seeded_generator():
    x = striate.tensor(_distinct((2, 2, 10, 10)))
    striate.manual_seed(3)
    a = F.fractional_max_pool2d(x, 2, output_size=7).array
    striate.manual_seed(3)
    b = F.fractional_max_pool2d(x, 2, output_size=7).array
    c = F.fractional_max_pool2d(x, 2, output_size=7).array
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)  # fresh windows on the next draw


def test_pooling_extra_errors():
    x = striate.randn(1, 2, 8, 8)
    with pytest.raises(ValueError, match="give exactly one of output_size and output_ratio"):
        F.fractional_max_pool2d(x, 2)
    with pytest.raises(ValueError, match=r"output_size \(8, 8\) plus kernel_size \(2, 2\)"):
        F.fractional_max_pool2d(x, 2, output_size=8)
    with pytest.raises(ValueError, match=r"_random_samples must have shape \(1, 2, 2\)"):
        F.fractional_max_pool2d(x, 2, output_size=4, _random_samples=np.zeros((2, 2, 2)))
    with pytest.raises(ValueError, match=r"output_ratio must be in \(0, 1\)"):
        F.fractional_max_pool2d(x, 2, output_ratio=1.5)
    with pytest.raises(ValueError, match=r"input must be 4-D .*unsqueeze"):
        F.adaptive_avg_pool2d(striate.randn(2, 8, 8), 1)
    with pytest.raises(ValueError, match=r"output_size must be >= 1, got \(0, 2\)"):
        F.adaptive_max_pool2d(x, (0, 2))
