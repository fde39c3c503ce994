"""conv_forward / conv_backward against the loop-based reference on odd shapes, dtypes, layouts."""

from __future__ import annotations

import importlib

import numpy as np
import pytest

from striate.kernels import (
    conv_backward,
    conv_backward_naive,
    conv_forward,
    conv_forward_naive,
    conv_output_shape,
)

conv_module = importlib.import_module("striate.kernels.conv")

RNG = np.random.default_rng(1)

# (x shape, w shape, stride, pad): stride 2, padding, non-square inputs and kernels, leftover
# rows a stride skips, 1x1 kernels, a kernel as large as the padded input; each case runs through
# every dx path (per-offset GEMMs, one GEMM + col2im, and for stride 1 the gradient convolved
# with the flipped kernel), with the patches built whole or one image at a time
CASES = [
    ((2, 3, 7, 5), (4, 3, 3, 2), (2, 1), (1, 2)),
    ((2, 1, 8, 8), (5, 1, 3, 3), 1, 1),
    ((1, 2, 9, 6), (3, 2, 2, 4), (3, 2), 0),
    ((2, 20, 6, 5), (6, 20, 3, 3), 2, 1),
    ((2, 17, 5, 7), (4, 17, 1, 1), 1, 0),
    ((1, 3, 4, 4), (2, 3, 6, 6), 1, 1),
    ((3, 4, 6, 7), (5, 4, 3, 2), 1, (1, 0)),  # stride 1, rectangular: dW from the dx patches
]


@pytest.mark.parametrize("chunked", [False, True])
@pytest.mark.parametrize("dx_path", ["per-offset", "col2im", "as-conv"])
@pytest.mark.parametrize("x_shape,w_shape,stride,pad", CASES)
def test_fast_conv_matches_naive(x_shape, w_shape, stride, pad, dx_path, chunked, monkeypatch):
    monkeypatch.setattr(conv_module, "_SMALL_C", 10**9 if dx_path == "per-offset" else 0)
    monkeypatch.setattr(conv_module, "_DX_CONV_MIN_C", 0 if dx_path == "as-conv" else 10**9)
    if chunked:  # one image per chunk of patches
        monkeypatch.setattr(conv_module, "_CHUNK_ELEMS", 1)
    x = RNG.standard_normal(x_shape)
    w = RNG.standard_normal(w_shape)
    b = RNG.standard_normal(w_shape[0])
    out, cache = conv_forward(x, w, b, stride, pad)
    ref, ref_cache = conv_forward_naive(x, w, b, stride, pad)
    assert out.shape == ref.shape
    np.testing.assert_allclose(out, ref, rtol=1e-10, atol=1e-10)
    dout = RNG.standard_normal(out.shape)
    for name, got, want in zip(
        ("dx", "dw", "db"), conv_backward(dout, cache), conv_backward_naive(dout, ref_cache)
    ):
        assert got.shape == want.shape, name
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10, err_msg=name)


def test_no_bias_and_only_the_gradients_asked_for():
    x, w = RNG.standard_normal((2, 3, 5, 5)), RNG.standard_normal((4, 3, 3, 3))
    out, cache = conv_forward(x, w, None, 1, 1)
    np.testing.assert_allclose(out, conv_forward_naive(x, w, None, 1, 1)[0], atol=1e-10)
    dout = RNG.standard_normal(out.shape)
    dx, dw, db = conv_backward(dout, cache, need_dx=False, need_db=False)
    assert dx is None and db is None and dw.shape == w.shape
    dx, dw, db = conv_backward(dout, cache.drop_patches(), need_dw=False, need_db=False)
    assert dw is None and dx.shape == x.shape
    with pytest.raises(ValueError, match="holds no patches"):
        conv_backward(dout, cache.drop_patches())


@pytest.mark.parametrize("C", [3, 16])
def test_float32_stays_float32(C):
    x = RNG.standard_normal((2, C, 6, 6)).astype(np.float32)
    w = RNG.standard_normal((5, C, 3, 3)).astype(np.float32)
    b = RNG.standard_normal(5).astype(np.float32)
    out, cache = conv_forward(x, w, b, 1, 1)
    assert out.dtype == np.float32
    ref = conv_forward_naive(x.astype(np.float64), w.astype(np.float64), b, 1, 1)[0]
    np.testing.assert_allclose(out, ref, rtol=1e-4, atol=1e-4)
    grads = conv_backward(np.ones(out.shape, np.float32), cache)
    assert all(g.dtype == np.float32 for g in grads)


def test_any_input_layout_gives_the_same_result():
    x = RNG.standard_normal((2, 3, 6, 7))
    w, b = RNG.standard_normal((4, 3, 3, 3)), RNG.standard_normal(4)
    want, _ = conv_forward_naive(x, w, b, 1, 1)
    channels_last = np.ascontiguousarray(x.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)
    swapped = np.ascontiguousarray(x.transpose(0, 1, 3, 2)).transpose(0, 1, 3, 2)  # H, W swapped
    strided = np.repeat(x, 2, axis=3)[..., ::2]  # every other column of a wider array
    for xv in (channels_last, swapped, strided):
        assert not xv.flags.c_contiguous
        out, _ = conv_forward(xv, w, b, 1, 1)
        np.testing.assert_allclose(out, want, atol=1e-10)


def test_output_and_dx_are_channels_last_views():
    x, w = RNG.standard_normal((2, 3, 5, 5)), RNG.standard_normal((4, 3, 3, 3))
    out, cache = conv_forward(x, w, None, 1, 1)
    assert out.shape == (2, 4, 5, 5) and out.transpose(0, 2, 3, 1).flags.c_contiguous
    dx = conv_backward(np.ones(out.shape), cache)[0]
    assert dx.shape == x.shape and dx.strides[1] == dx.itemsize  # channels adjacent in memory


@pytest.mark.parametrize("x_shape,w_shape,stride,pad", CASES)
def test_conv_output_shape_predicts_the_output(x_shape, w_shape, stride, pad):
    out, _ = conv_forward(np.zeros(x_shape), np.zeros(w_shape), None, stride, pad)
    assert conv_output_shape(x_shape, w_shape, stride, pad) == out.shape
