"""Winograd F(2x2, 3x3) and F(4x4, 3x3): equal to the direct convolution, forward and backward,
on the compiled and the NumPy transforms."""

import numpy as np
import pytest
from opcheck import check_op

import striate
from striate import nn
from striate.compress import use_winograd
from striate.kernels import compiled
from striate.kernels.conv import conv_backward, conv_forward
from striate.kernels.winograd import TILES, transforms, winograd_backward, winograd_forward
from striate.nn.winograd import WinogradConv2d
from striate.ops.winograd import conv2d_winograd

# relative to the largest value; F(4x4)'s transforms (entries up to 8 and 1/24) round more
TOL = {(np.float64, 2): 1e-12, (np.float64, 4): 1e-11, (np.float32, 2): 2e-5,
       (np.float32, 4): 1e-4}


@pytest.mark.parametrize("tile", TILES)
def test_transforms_compute_a_3x3_correlation(tile):
    # the defining identity: A^T [(G g) * (B^T d)] = the valid correlation of d with g, in 1-D
    rng = np.random.default_rng(0)
    bt, g, at = transforms(tile)
    d, k = rng.standard_normal(tile + 2), rng.standard_normal(3)
    want = np.array([d[i:i + 3] @ k for i in range(tile)])
    np.testing.assert_allclose(at @ ((g @ k) * (bt @ d)), want, atol=1e-12, rtol=1e-12)


@pytest.mark.parametrize("use_compiled", [True, False], ids=["compiled", "numpy"])
@pytest.mark.parametrize("tile", TILES)
@pytest.mark.parametrize("shape,pad", [((2, 3, 7, 6), 0), ((2, 3, 7, 6), 1), ((1, 5, 8, 8), 1),
                                       ((3, 2, 3, 3), 0), ((2, 4, 9, 5), 2),
                                       ((5, 16, 12, 12), 1)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_kernels_equal_direct_convolution(monkeypatch, use_compiled, tile, shape, pad, dtype):
    if use_compiled and not compiled.available():
        pytest.skip("numba is not installed")
    monkeypatch.setattr(compiled, "USE_COMPILED", use_compiled)
    rng = np.random.default_rng(1)
    tol = TOL[dtype, tile]
    x = rng.standard_normal(shape).astype(dtype)
    w = rng.standard_normal((4, shape[1], 3, 3)).astype(dtype)
    b = rng.standard_normal(4).astype(dtype)
    out, cache = winograd_forward(x, w, b, pad, tile)
    ref, rcache = conv_forward(x, w, b, 1, pad)
    np.testing.assert_allclose(out, ref, atol=tol * np.abs(ref).max(), rtol=tol)
    dout = rng.standard_normal(out.shape).astype(dtype)
    for got, want in zip(winograd_backward(dout, cache), conv_backward(dout, rcache)):
        assert got.dtype == want.dtype
        np.testing.assert_allclose(got, want, atol=tol * np.abs(want).max(), rtol=tol)


@pytest.mark.parametrize("tile", TILES)
def test_compiled_and_numpy_transforms_agree_on_a_batch_split_over_threads(monkeypatch, tile):
    if not compiled.available():
        pytest.skip("numba is not installed")
    rng = np.random.default_rng(2)
    # enough images for several chunks per thread, and sizes that leave partial tiles
    x = rng.standard_normal((40, 8, 11, 13)).astype(np.float32)
    w = rng.standard_normal((6, 8, 3, 3)).astype(np.float32)
    dout = rng.standard_normal((40, 6, 11, 13)).astype(np.float32)
    results = []
    for use in (True, False):
        monkeypatch.setattr(compiled, "USE_COMPILED", use)
        with striate.parallel.num_threads(2):
            out, cache = winograd_forward(x, w, None, 1, tile)
            results.append((out, *winograd_backward(dout, cache)[:2]))
    for got, want in zip(*results):
        np.testing.assert_allclose(got, want, atol=1e-5 * np.abs(want).max(), rtol=1e-5)


@pytest.mark.parametrize("tile", TILES)
def test_op_gradients_and_torch(rng, tile):
    x = rng.standard_normal((2, 3, 6, 5))
    w = rng.standard_normal((4, 3, 3, 3))
    b = rng.standard_normal(4)
    check_op(lambda x_, w_, b_: conv2d_winograd(x_, w_, b_, padding=1, tile=tile), [x, w, b],
             torch_fn=lambda x_, w_, b_: __import__("torch").nn.functional.conv2d(
                 x_, w_, b_, padding=1))


def test_op_rejects_bad_arguments():
    with pytest.raises(ValueError, match="conv2d_winograd: needs input .* weight \\(F, C, 3, 3"):
        conv2d_winograd(striate.zeros(1, 3, 4, 4), striate.zeros(2, 3, 5, 5))
    with pytest.raises(ValueError, match="conv2d_winograd: tile must be one of \\(2, 4\\), got 3"):
        conv2d_winograd(striate.zeros(1, 3, 4, 4), striate.zeros(2, 3, 3, 3), tile=3)
    with pytest.raises(ValueError, match="use_winograd: tile must be one of"):
        use_winograd(nn.Conv2d(2, 2, 3), "always", tile=6)


@pytest.mark.parametrize("mode,tile", [("always", 2), ("always", 4), ("auto", 2),
                                       ("never", 2)])
def test_use_winograd_per_layer(rng, mode, tile):
    net = nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), nn.ReLU(), nn.Conv2d(4, 4, 3, stride=2),
                        nn.Conv2d(4, 3, 3, padding=1))
    x = striate.tensor(rng.standard_normal((2, 2, 9, 9)).astype(np.float32))
    ref = net(x).array
    layers = use_winograd(net, mode, tile)
    assert layers == [net[0], net[3]]  # the stride-2 conv is not eligible
    np.testing.assert_allclose(net(x).array, ref, atol=1e-4, rtol=1e-4)
    assert isinstance(net[0], WinogradConv2d) and type(net[2]) is nn.Conv2d
    if mode == "auto":
        assert net[0].algorithm in ("winograd", "im2col") and set(net[0].timings) == {
            "im2col", "winograd F(2x2)", "winograd F(4x4)"}
        fastest = min(net[0].timings, key=net[0].timings.get)
        assert (net[0].algorithm, net[0].tile if fastest != "im2col" else None) == (
            ("im2col", None) if fastest == "im2col" else ("winograd", int(fastest[10])))
    else:
        assert net[0].algorithm == {"always": "winograd", "never": "im2col"}[mode]
        assert net[0].tile == tile
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


@pytest.mark.parametrize("need", [(True, False, False), (False, True, True), (False, False, True)])
def test_backward_computes_only_the_gradients_asked_for(need):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((3, 4, 6, 6))
    w = rng.standard_normal((5, 4, 3, 3))
    b = rng.standard_normal(5)
    out, cache = winograd_forward(x, w, b, 1, 4)
    dout = rng.standard_normal(out.shape)
    full = winograd_backward(dout, cache)
    part = winograd_backward(dout, cache, *need)
    for want, got, asked in zip(full, part, need):
        if asked:
            np.testing.assert_allclose(got, want, atol=1e-12, rtol=1e-12)
        else:
            assert got is None
    # through the op: a frozen weight and an input without grad get no gradient work
    xt, wt = striate.tensor(x), striate.tensor(w, requires_grad=True)
    conv2d_winograd(xt, wt, None, 1, 4).sum().backward()
    np.testing.assert_allclose(wt.grad.array, winograd_backward(np.ones_like(out), cache)[1],
                               atol=1e-10, rtol=1e-10)
    assert xt.grad is None


def test_autocast_treats_a_winograd_conv_as_a_conv():
    rng = np.random.default_rng(4)
    x = striate.tensor(rng.standard_normal((2, 3, 8, 8)).astype(np.float32))
    conv = nn.Conv2d(3, 4, 3, padding=1)
    with striate.amp.autocast("cpu"):
        ref = conv(x)
    use_winograd(conv, "always", tile=4)
    with striate.amp.autocast("cpu"):
        got = conv(x)
    assert got.dtype == ref.dtype == np.float16
    np.testing.assert_allclose(got.array.astype(np.float32), ref.array.astype(np.float32),
                               atol=2e-3, rtol=2e-3)
