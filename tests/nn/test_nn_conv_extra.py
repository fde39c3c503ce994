"""The layer modules of issue 4: Conv2d with dilation/groups, ConvTranspose2d, MaxUnpool2d,
Upsample, BedOfNails, adaptive and fractional pooling, GroupNorm, LocalResponseNorm, Dropout2d,
StochasticDepth, DropConnectLinear. PyTorch parity with the same weights where torch has them."""

from __future__ import annotations

import numpy as np
import pytest
from opcheck import torch_or_skip as _torch

import striate
from striate import nn

RNG = np.random.default_rng(4)


def _parity(ours, theirs, x_np, atol=1e-10):
    """Copy torch's weights in (names and shapes must match), compare outputs and gradients."""
    torch = _torch()
    state = {k: v.detach().numpy() for k, v in theirs.state_dict().items()}
    res = ours.load_state_dict(state)
    assert res.missing_keys == [] and res.unexpected_keys == []
    x, tx = striate.tensor(x_np, requires_grad=True), torch.tensor(x_np, requires_grad=True)
    y, ty = ours(x), theirs(tx)
    np.testing.assert_allclose(y.array, ty.detach().numpy(), atol=atol, rtol=atol)
    g = RNG.standard_normal(y.shape)
    y.backward(striate.tensor(g))
    ty.backward(torch.tensor(g))
    np.testing.assert_allclose(x.grad.array, tx.grad.numpy(), atol=atol * 10, rtol=atol * 10)
    tp = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad.array, tp[name].grad.numpy(), atol=atol * 10,
                                   rtol=atol * 10, err_msg=name)


@pytest.mark.parametrize("kw", [
    dict(dilation=2, padding=2), dict(groups=2, padding=1), dict(groups=4, stride=2, padding=1),
    dict(groups=4, dilation=(2, 1), padding="same"), dict(padding="valid", groups=2),
])
def test_conv2d_dilation_groups_match_torch(kw):
    torch = _torch()
    torch.manual_seed(0)
    theirs = torch.nn.Conv2d(4, 8, 3, **kw).double()
    ours = nn.Conv2d(4, 8, 3, **kw).double()
    assert ours.weight.shape == tuple(theirs.weight.shape)
    _parity(ours, theirs, RNG.standard_normal((2, 4, 7, 6)))


def test_conv2d_module_repr_init_and_errors():
    conv = nn.Conv2d(8, 16, 3, padding=2, dilation=2, groups=4, bias=False)
    assert conv.weight.shape == (16, 2, 3, 3)
    assert repr(conv) == ("Conv2d(8, 16, kernel_size=(3, 3), stride=(1, 1), padding=(2, 2), "
                          "dilation=(2, 2), groups=4, bias=False)")
    # PyTorch's kaiming_uniform(a=sqrt(5)): U(-1/sqrt(fan_in), ...) with fan_in = 64/32 * 9 = 18
    big = nn.Conv2d(64, 256, 3, groups=32)
    assert abs(big.weight.array.std() - np.sqrt(1 / 18 / 3)) < 0.02
    assert np.abs(big.weight.array).max() <= 1 / np.sqrt(18)
    with pytest.raises(ValueError, match="must both be divisible by groups 3"):
        nn.Conv2d(8, 16, 3, groups=3)
    with pytest.raises(ValueError, match="padding='same' needs stride 1"):
        nn.Conv2d(8, 16, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match="padding_mode must be 'zeros', 'reflect'"):
        nn.Conv2d(8, 16, 3, padding_mode="mirror")


@pytest.mark.parametrize("kw", [
    dict(stride=2, padding=1, output_padding=1), dict(stride=2, groups=2),
    dict(stride=(2, 1), padding=(1, 0), dilation=2, output_padding=(1, 0), bias=False),
])
def test_conv_transpose2d_module_matches_torch(kw):
    torch = _torch()
    torch.manual_seed(1)
    theirs = torch.nn.ConvTranspose2d(4, 6, 3, **kw).double()
    ours = nn.ConvTranspose2d(4, 6, 3, **kw).double()
    _parity(ours, theirs, RNG.standard_normal((2, 4, 5, 4)))


def test_conv_transpose2d_output_size_and_repr():
    up = nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1)
    x = striate.randn(1, 3, 4, 4)
    assert up(x).shape == (1, 2, 7, 7)
    assert up(x, output_size=(1, 2, 8, 8)).shape == (1, 2, 8, 8)
    with pytest.raises(ValueError, match="output_size .* is not reachable"):
        up(x, output_size=(10, 10))
    assert repr(up) == "ConvTranspose2d(3, 2, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1))"
    assert up.weight.shape == (3, 2, 3, 3)


def test_maxpool_with_indices_and_unpool_modules_round_trip():
    pool, unpool = nn.MaxPool2d(2, return_indices=True), nn.MaxUnpool2d(2)
    x = striate.tensor(RNG.permutation(64).reshape(1, 1, 8, 8).astype(np.float64),
                       requires_grad=True)
    y, idx = pool(x)
    z = unpool(y, idx)
    assert z.shape == x.shape
    # what survives is each window's max, in its place
    kept = z.array != 0
    np.testing.assert_array_equal(z.array[kept], x.array[kept])
    assert kept.sum() == 16
    z.sum().backward()
    np.testing.assert_array_equal(x.grad.array, kept.astype(float))
    assert unpool(y, idx, output_size=(9, 9)).shape == (1, 1, 9, 9)


def test_upsample_bed_of_nails_and_adaptive_pool_modules():
    x = striate.randn(2, 3, 5, 6)
    assert nn.Upsample(scale_factor=2)(x).shape == (2, 3, 10, 12)
    assert nn.UpsamplingNearest2d(size=(7, 7))(x).shape == (2, 3, 7, 7)
    assert nn.BedOfNails(3)(x).shape == (2, 3, 15, 18)
    gap = nn.AdaptiveAvgPool2d(1)
    np.testing.assert_allclose(gap(x).array[:, :, 0, 0], x.array.mean((2, 3)), rtol=1e-5,
                               atol=1e-6)
    assert nn.AdaptiveAvgPool2d((2, None))(x).shape == (2, 3, 2, 6)
    y, idx = nn.AdaptiveMaxPool2d(2, return_indices=True)(x)
    assert y.shape == idx.shape == (2, 3, 2, 2)
    assert repr(gap) == "AdaptiveAvgPool2d(output_size=1)"
    with pytest.raises(ValueError, match="mode must be 'nearest', 'bilinear' or 'bicubic'"):
        nn.Upsample(scale_factor=2, mode="trilinear")


@pytest.mark.parametrize("mode", ["bilinear", "bicubic"])
@pytest.mark.parametrize("align_corners", [False, True])
def test_upsample_interpolating_modes_match_torch(mode, align_corners):
    torch = _torch()
    x = RNG.standard_normal((2, 3, 4, 5))
    for kw in ({"size": (7, 3)}, {"scale_factor": 1.5}):
        ours = nn.Upsample(mode=mode, align_corners=align_corners, **kw)
        theirs = torch.nn.Upsample(mode=mode, align_corners=align_corners, **kw)
        xs, xt = striate.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        ys, yt = ours(xs), theirs(xt)
        np.testing.assert_allclose(ys.array, yt.detach().numpy(), rtol=1e-7, atol=1e-10)
        w = RNG.standard_normal(tuple(yt.shape))
        (ys * striate.tensor(w)).sum().backward()
        (yt * torch.tensor(w)).sum().backward()
        np.testing.assert_allclose(xs.grad.array, xt.grad.numpy(), rtol=1e-7, atol=1e-10)
    y = nn.UpsamplingBilinear2d(scale_factor=2)(striate.tensor(x))
    ref = torch.nn.UpsamplingBilinear2d(scale_factor=2)(torch.tensor(x))
    np.testing.assert_allclose(y.array, ref.numpy(), rtol=1e-7, atol=1e-10)


def test_adaptive_pool_modules_match_torch():
    torch = _torch()
    x = RNG.standard_normal((2, 3, 7, 5))
    for ours, theirs in [(nn.AdaptiveAvgPool2d((3, 2)), torch.nn.AdaptiveAvgPool2d((3, 2))),
                         (nn.AdaptiveMaxPool2d(3), torch.nn.AdaptiveMaxPool2d(3))]:
        _parity(ours, theirs, x)


def test_fractional_max_pool_module_draws_new_windows_each_call():
    striate.manual_seed(0)
    pool = nn.FractionalMaxPool2d(2, output_ratio=(0.7, 0.7))
    x = striate.tensor(RNG.permutation(2 * 3 * 100).reshape(2, 3, 10, 10) / 10.0)
    a, b = pool(x), pool(x)
    assert a.shape == (2, 3, 7, 7)
    assert not np.array_equal(a.array, b.array)
    fixed = nn.FractionalMaxPool2d(2, output_size=5, return_indices=True,
                                   _random_samples=RNG.random((2, 3, 2)))
    y, idx = fixed(x)
    np.testing.assert_array_equal(
        np.take_along_axis(x.array.reshape(2, 3, -1), idx.array.reshape(2, 3, -1), 2),
        y.array.reshape(2, 3, -1))


def test_group_norm_and_lrn_modules_match_torch():
    torch = _torch()
    torch.manual_seed(2)
    theirs = torch.nn.GroupNorm(3, 6).double()
    with torch.no_grad():
        theirs.weight.normal_()
        theirs.bias.normal_()
    ours = nn.GroupNorm(3, 6).double()
    _parity(ours, theirs, RNG.standard_normal((2, 6, 4, 3)))
    args = (5, 1e-2, 0.75, 2.0)
    _parity(nn.LocalResponseNorm(*args), torch.nn.LocalResponseNorm(*args),
            RNG.standard_normal((2, 7, 3, 3)))
    assert repr(nn.GroupNorm(2, 4)) == "GroupNorm(2, 4, eps=1e-05, affine=True)"
    with pytest.raises(ValueError, match="num_channels 6 must be divisible by num_groups 4"):
        nn.GroupNorm(4, 6)
    with pytest.raises(ValueError, match=r"expected input \(N, 6, \*\)"):
        nn.GroupNorm(3, 6)(striate.randn(2, 4, 3, 3))


def test_dropout2d_stochastic_depth_dropconnect_train_and_eval():
    x = striate.ones(32, 8, 2, 2)
    for layer in (nn.Dropout2d(0.5), nn.StochasticDepth(0.5, "row")):
        striate.manual_seed(0)
        y = layer(x)
        assert (y.array == 0).any() and (y.array == 2).any()
        layer.eval()
        assert layer(x) is x
    assert repr(nn.StochasticDepth(0.1, "batch")) == "StochasticDepth(p=0.1, mode=batch)"
    dc = nn.DropConnectLinear(8, 4, p=0.5)
    assert dc.weight.shape == (4, 8) and "p=0.5" in repr(dc)
    h = striate.randn(3, 8)
    striate.manual_seed(1)
    a = dc(h).array
    striate.manual_seed(2)
    b = dc(h).array
    assert not np.allclose(a, b)  # a new weight mask per call
    dc.eval()
    np.testing.assert_allclose(dc(h).array, h.array @ dc.weight.array.T + dc.bias.array,
                               rtol=1e-6)
    with pytest.raises(ValueError, match="probability p has to be between 0 and 1"):
        nn.Dropout2d(2.0)
    with pytest.raises(ValueError, match="mode must be 'row' or 'batch'"):
        nn.StochasticDepth(0.1, "sample")


def test_dropout2d_matches_torch_in_eval():
    torch = _torch()
    x = RNG.standard_normal((2, 3, 4, 4))
    ours, theirs = nn.Dropout2d(0.3), torch.nn.Dropout2d(0.3)
    ours.eval()
    theirs.eval()
    _parity(ours, theirs, x)


def test_pool_modules_ceil_mode_and_count_include_pad_match_torch():
    torch = _torch()
    x = RNG.standard_normal((2, 3, 7, 8))
    pairs = [
        (nn.MaxPool2d(3, 2, ceil_mode=True), torch.nn.MaxPool2d(3, 2, ceil_mode=True)),
        (nn.AvgPool2d(3, 2, 1, ceil_mode=True, count_include_pad=False),
         torch.nn.AvgPool2d(3, 2, 1, ceil_mode=True, count_include_pad=False)),
        (nn.AvgPool2d(2, divisor_override=3), torch.nn.AvgPool2d(2, divisor_override=3)),
    ]
    for ours, theirs in pairs:
        _parity(ours, theirs, x)
