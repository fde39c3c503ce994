"""interpolate (nearest, bilinear, bicubic) and bed-of-nails upsampling: gradients, PyTorch,
references."""

from __future__ import annotations

import numpy as np
import pytest
from opcheck import check_op
from opcheck import functional_or_skip as _tf

import striate
from striate import functional as F

RNG = np.random.default_rng(8)


@pytest.mark.parametrize("size,scale_factor", [
    (None, 2), (None, 3), (None, (2, 3)), (None, 1.5), (None, 0.5), (None, 2.7),
    ((10, 13), None), ((5, 4), None), (7, None),
])
def test_interpolate_nearest_gradients_and_torch(size, scale_factor):
    x = RNG.standard_normal((2, 3, 5, 6))
    out = check_op(lambda x: F.interpolate(x, size, scale_factor),
                   [x], lambda x: _tf().interpolate(x, size, scale_factor, mode="nearest"))
    if scale_factor in (2, 3):
        s = scale_factor
        np.testing.assert_array_equal(out, x.repeat(s, axis=2).repeat(s, axis=3))


def test_interpolate_recompute_scale_factor_and_float32_layout():
    x = RNG.standard_normal((1, 2, 7, 7))
    check_op(lambda x: F.interpolate(x, scale_factor=1.7, recompute_scale_factor=True), [x],
             lambda x: _tf().interpolate(x, scale_factor=1.7, mode="nearest",
                                         recompute_scale_factor=True))
    h = F.conv2d(striate.randn(2, 3, 4, 4), striate.randn(5, 3, 3, 3), padding=1)
    h.requires_grad = True
    y = F.interpolate(h, scale_factor=2)
    assert y.shape == (2, 5, 8, 8) and y.dtype == np.float32
    assert y.array.transpose(0, 2, 3, 1).flags.c_contiguous  # stays channels-last
    y.sum().backward()
    # each input pixel was copied into a 2x2 block: its gradient is 4
    np.testing.assert_array_equal(h.grad.array, np.full(h.shape, 4, np.float32))


@pytest.mark.parametrize("mode", ["bilinear", "bicubic"])
@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("size,scale_factor", [
    (None, 2), (None, 0.5), (None, (1.7, 2.5)), ((7, 3), None), ((1, 6), None),
])
def test_interpolate_bilinear_bicubic_gradients_and_torch(mode, align_corners, size,
                                                          scale_factor):
    x = RNG.standard_normal((2, 2, 4, 5))
    check_op(lambda x: F.interpolate(x, size, scale_factor, mode, align_corners), [x],
             lambda x: _tf().interpolate(x, size, scale_factor, mode=mode,
                                         align_corners=align_corners))


def test_interpolate_bilinear_values_by_hand():
    x = striate.tensor([[[[0.0, 4.0], [8.0, 12.0]]]])
    # corners aligned: the 3 x 3 output puts the midpoints between the four corners
    y = F.interpolate(x, size=3, mode="bilinear", align_corners=True).array[0, 0]
    np.testing.assert_allclose(y, [[0, 2, 4], [4, 6, 8], [8, 10, 12]])
    # centres aligned at scale 2: output centre 1 sits at input position 0.25
    y = F.interpolate(x, scale_factor=2, mode="bilinear").array[0, 0]
    np.testing.assert_allclose(y[0], [0, 1, 3, 4])
    np.testing.assert_allclose(y[:, 0], [0, 2, 6, 8])


def test_interpolate_inf_under_a_zero_weight_is_nan_as_in_pytorch():
    torch = pytest.importorskip("torch")
    x = np.array([[[[np.inf, 1.0], [2.0, 3.0]]]])
    for mode, size in (("bilinear", (2, 3)), ("bilinear", (4, 4)), ("bicubic", (3, 2))):
        ours = F.interpolate(striate.tensor(x), size=size, mode=mode).array
        ref = torch.nn.functional.interpolate(torch.tensor(x), size=size, mode=mode).numpy()
        np.testing.assert_array_equal(np.isnan(ours), np.isnan(ref))
        np.testing.assert_allclose(ours, ref)
    # an axis that keeps its size is copied, whatever the scale factor says (PyTorch's rule)
    y = F.interpolate(striate.tensor([[[[0.0], [10.0]]]]), scale_factor=(1.2, 1), mode="bilinear")
    assert y.flatten().tolist() == [0.0, 10.0]


def test_bed_of_nails_values_and_gradients():
    x = RNG.standard_normal((2, 3, 4, 5))
    out = check_op(lambda x: F.bed_of_nails(x, 2), [x])
    assert out.shape == (2, 3, 8, 10)
    np.testing.assert_array_equal(out[:, :, ::2, ::2], x)
    mask = np.ones(out.shape, bool)
    mask[:, :, ::2, ::2] = False
    assert not out[mask].any()
    rect = check_op(lambda x: F.bed_of_nails(x, (3, 1)), [x])
    assert rect.shape == (2, 3, 12, 5)
    np.testing.assert_array_equal(rect[:, :, ::3], x)


def test_bed_of_nails_is_max_unpool_with_top_left_indices():
    # bed of nails = unpooling with every window's "maximum" in its top-left corner
    x = RNG.standard_normal((1, 2, 3, 3))
    idx = (np.arange(3)[:, None] * 2 * 6 + np.arange(3) * 2).astype(np.int64)
    idx = np.broadcast_to(idx, x.shape).copy()
    a = F.bed_of_nails(striate.tensor(x), 2).array
    b = F.max_unpool2d(striate.tensor(x), striate.tensor(idx), 2).array
    np.testing.assert_array_equal(a, b)


def test_upsample_errors():
    x = striate.randn(1, 2, 4, 4)
    with pytest.raises(ValueError, match="interpolate: mode must be one of"):
        F.interpolate(x, scale_factor=2, mode="trilinear")
    with pytest.raises(ValueError, match="align_corners only applies to interpolating modes"):
        F.interpolate(x, scale_factor=2, align_corners=True)
    with pytest.raises(ValueError, match="exactly one of size and scale_factor"):
        F.interpolate(x)
    with pytest.raises(ValueError, match="scale_factor must be a positive number"):
        F.interpolate(x, scale_factor=-1)
    with pytest.raises(ValueError, match=r"input must be 4-D"):
        F.interpolate(striate.randn(2, 4, 4), scale_factor=2)
    with pytest.raises(ValueError, match=r"scale must be >= 1, got 0"):
        F.bed_of_nails(x, 0)
