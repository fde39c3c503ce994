"""Winograd F(2x2, 3x3): equal to the direct convolution, forward and backward."""

import numpy as np
import pytest
from opcheck import check_op

import striate
from striate import nn
from striate.compress import use_winograd
from striate.kernels.conv import conv_backward, conv_forward
from striate.kernels.winograd import winograd_backward, winograd_forward
from striate.nn.winograd import WinogradConv2d
from striate.ops.winograd import conv2d_winograd


@pytest.mark.parametrize("shape,pad", [((2, 3, 7, 6), 0), ((2, 3, 7, 6), 1), ((1, 5, 8, 8), 1),
                                       ((3, 2, 3, 3), 0)])
@pytest.mark.parametrize("dtype,tol", [(np.float64, 1e-12), (np.float32, 2e-5)])
def test_kernels_equal_direct_convolution(rng, shape, pad, dtype, tol):
    x = rng.standard_normal(shape).astype(dtype)
    w = rng.standard_normal((4, shape[1], 3, 3)).astype(dtype)
    b = rng.standard_normal(4).astype(dtype)
    out, cache = winograd_forward(x, w, b, pad)
    ref, rcache = conv_forward(x, w, b, 1, pad)
    scale = np.abs(ref).max()
    np.testing.assert_allclose(out, ref, atol=tol * scale, rtol=tol)
    dout = rng.standard_normal(out.shape).astype(dtype)
    for got, want in zip(winograd_backward(dout, cache), conv_backward(dout, rcache)):
        np.testing.assert_allclose(got, want, atol=tol * np.abs(want).max(), rtol=tol)


def test_op_gradients_and_torch(rng):
    x = rng.standard_normal((2, 3, 6, 5))
    w = rng.standard_normal((4, 3, 3, 3))
    b = rng.standard_normal(4)
    check_op(lambda x_, w_, b_: conv2d_winograd(x_, w_, b_, padding=1), [x, w, b],
             torch_fn=lambda x_, w_, b_: __import__("torch").nn.functional.conv2d(
                 x_, w_, b_, padding=1))
    with pytest.raises(ValueError, match="conv2d_winograd: needs input .* weight \\(F, C, 3, 3"):
        conv2d_winograd(striate.zeros(1, 3, 4, 4), striate.zeros(2, 3, 5, 5))


@pytest.mark.parametrize("mode", ["always", "auto", "never"])
def test_use_winograd_per_layer(rng, mode):
    net = nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), nn.ReLU(), nn.Conv2d(4, 4, 3, stride=2),
                        nn.Conv2d(4, 3, 3, padding=1))
    x = striate.tensor(rng.standard_normal((2, 2, 9, 9)).astype(np.float32))
    ref = net(x).array
    layers = use_winograd(net, mode)
    assert layers == [net[0], net[3]]  # the stride-2 conv is not eligible
    np.testing.assert_allclose(net(x).array, ref, atol=1e-4, rtol=1e-4)
    assert isinstance(net[0], WinogradConv2d) and type(net[2]) is nn.Conv2d
    if mode == "auto":
        assert net[0].algorithm in ("winograd", "im2col") and set(net[0].timings) == {
            "im2col", "winograd"}
    else:
        assert net[0].algorithm == {"always": "winograd", "never": "im2col"}[mode]
    assert sorted(net.state_dict()) == ["0.bias", "0.weight", "2.bias", "2.weight", "3.bias",
                                        "3.weight"]


def test_bench_builds_resnet20_with_winograd_chosen_per_layer():
    from striate.benchmark import MODELS, striate_model

    assert "resnet20-winograd" in MODELS
    striate.manual_seed(0)
    plain = striate_model("resnet20")
    striate.manual_seed(0)
    wino = striate_model("resnet20-winograd")
    convs = [m for m in wino.modules() if isinstance(m, WinogradConv2d)]
    assert len(convs) == 17 and all(m.algorithm == "auto" for m in convs)
    x = striate.randn(2, 3, 32, 32)
    plain.eval()
    wino.eval()
    np.testing.assert_allclose(wino(x).array, plain(x).array, atol=1e-4, rtol=1e-4)
    assert all(m.algorithm in ("winograd", "im2col") for m in convs)
