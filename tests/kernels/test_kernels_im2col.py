"""im2col / col2im: patches against an explicit gather, col2im as the exact adjoint, layouts."""

from __future__ import annotations

import numpy as np
import pytest

from striate.kernels import col2im, im2col, output_size, pad_nhwc, pair, to_nhwc, window_view

RNG = np.random.default_rng(0)


def _gather(x, kh, kw, sh, sw, ph, pw):
    """Rows of patches in (n, ho, wo) order, columns in (i, j, c) order, by plain loops."""
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    N, _, Hp, Wp = xp.shape
    Ho, Wo = (Hp - kh) // sh + 1, (Wp - kw) // sw + 1
    rows = []
    for n in range(N):
        for a in range(Ho):
            for b in range(Wo):
                patch = xp[n, :, a * sh : a * sh + kh, b * sw : b * sw + kw]  # (C, kh, kw)
                rows.append(patch.transpose(1, 2, 0).ravel())
    return np.array(rows)


CASES = [
    ((2, 3, 5, 7), (3, 3), (1, 1), (1, 1)),
    ((1, 2, 7, 6), (3, 2), (2, 3), (1, 0)),
    ((3, 1, 4, 4), (1, 1), (1, 1), (0, 0)),
    ((2, 4, 6, 5), (2, 2), (2, 2), (0, 2)),
]


@pytest.mark.parametrize("shape,kernel,stride,pad", CASES)
def test_im2col_matches_an_explicit_gather(shape, kernel, stride, pad):
    x = RNG.standard_normal(shape)
    cols = im2col(x, kernel, stride, pad)
    np.testing.assert_array_equal(cols, _gather(x, *kernel, *stride, *pad))


@pytest.mark.parametrize("shape,kernel,stride,pad", CASES)
def test_col2im_is_the_adjoint_of_im2col(shape, kernel, stride, pad):
    # <im2col(x), D> == <x, col2im(D)> for every x and D: col2im is exactly the transpose map
    x = RNG.standard_normal(shape)
    cols = im2col(x, kernel, stride, pad)
    d = RNG.standard_normal(cols.shape)
    dx = col2im(d, shape, kernel, stride, pad)
    assert dx.shape == shape
    np.testing.assert_allclose(np.sum(cols * d), np.sum(x * dx), rtol=1e-12)


def test_pad_nhwc_fills_the_border_and_keeps_the_interior():
    x = RNG.standard_normal((2, 3, 4, 5)).astype(np.float32)
    xp = pad_nhwc(x, (1, 2), value=-7.0)
    assert xp.shape == (2, 6, 9, 3) and xp.dtype == np.float32 and xp.flags.c_contiguous
    np.testing.assert_array_equal(xp[:, 1:5, 2:7], x.transpose(0, 2, 3, 1))
    border = np.ones(xp.shape[1:3], bool)
    border[1:5, 2:7] = False
    assert np.all(xp[:, border] == -7.0)


def test_channels_last_input_is_not_copied():
    nhwc = RNG.standard_normal((2, 5, 5, 3))
    x = nhwc.transpose(0, 3, 1, 2)  # NCHW shape, channels-last memory
    assert np.shares_memory(to_nhwc(x), nhwc)
    assert np.shares_memory(pad_nhwc(x, (0, 0)), nhwc)
    y = RNG.standard_normal((2, 3, 5, 5))  # NCHW memory needs one transpose copy
    assert not np.shares_memory(to_nhwc(y), y)
    np.testing.assert_array_equal(to_nhwc(y), y.transpose(0, 2, 3, 1))


def test_pair_and_output_size():
    assert pair(3) == (3, 3) and pair((2, 1)) == (2, 1) and pair([1, 4]) == (1, 4)
    assert output_size(32, 3, 1, 1) == 32 and output_size(7, 3, 2, 0) == 3
    with pytest.raises(TypeError, match=r"stride must be an int or a pair of ints, got 1.5"):
        pair(1.5, "stride")
    with pytest.raises(TypeError, match="pad must be"):
        pair((1, 2, 3), "pad")


def test_window_view_is_a_read_only_view_and_checks_its_size():
    xp = RNG.standard_normal((1, 5, 6, 2))
    win = window_view(xp, (3, 2), (2, 2))
    assert win.shape == (1, 2, 3, 3, 2, 2) and np.shares_memory(win, xp)
    np.testing.assert_array_equal(win[0, 1, 2], xp[0, 2:5, 4:6])
    assert not win.flags.writeable
    with pytest.raises(ValueError, match=r"kernel \(7, 2\) is larger than the input \(5, 6\)"):
        window_view(xp, (7, 2), (1, 1))
