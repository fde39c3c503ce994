"""Layers: forward against formulas, settings, errors, repr; gradients of small nets in float64."""

import numpy as np
import pytest

import striate
from striate import nn
from striate.autograd import gradcheck


def _rand(*shape, seed=0, dtype=np.float32):
    return striate.tensor(np.random.default_rng(seed).standard_normal(shape).astype(dtype))


def test_linear_forward_shapes_and_repr():
    lin = nn.Linear(3, 2)
    x = _rand(4, 3)
    y = lin(x)
    np.testing.assert_allclose(y.array, x.array @ lin.weight.array.T + lin.bias.array, rtol=1e-6)
    assert lin.weight.shape == (2, 3) and lin.bias.shape == (2,)
    assert lin(_rand(5, 6, 3)).shape == (5, 6, 2)
    assert repr(lin) == "Linear(in_features=3, out_features=2, bias=True)"
    no_bias = nn.Linear(3, 2, bias=False)
    assert no_bias.bias is None and len(list(no_bias.parameters())) == 1
    assert nn.Linear(3, 2, dtype=np.float64).weight.dtype == np.float64
    with pytest.raises(ValueError, match="Linear: in_features must be a positive int, got 0"):
        nn.Linear(0, 2)
    with pytest.raises(ValueError, match="input has 4 features but weight expects 3"):
        lin(_rand(2, 4))


def test_conv2d_shapes_settings_and_repr():
    conv = nn.Conv2d(3, 8, 3, stride=2, padding=1)
    assert conv.weight.shape == (8, 3, 3, 3) and conv.bias.shape == (8,)
    assert conv.kernel_size == (3, 3) and conv.stride == (2, 2) and conv.padding == (1, 1)
    assert conv(_rand(2, 3, 9, 9)).shape == (2, 8, 5, 5)
    assert repr(conv) == "Conv2d(3, 8, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1))"
    rect = nn.Conv2d(1, 2, (1, 3), bias=False)
    assert rect.weight.shape == (2, 1, 1, 3) and rect.bias is None
    assert repr(rect) == "Conv2d(1, 2, kernel_size=(1, 3), stride=(1, 1), bias=False)"
    with pytest.raises(ValueError, match="Conv2d: kernel_size must be >= 1, got 0"):
        nn.Conv2d(1, 2, 0)
    with pytest.raises(TypeError, match=r"Conv2d: padding must be an int or a pair of ints, "
                                        r"got \(1, 2, 3\)"):
        nn.Conv2d(1, 2, 3, padding=(1, 2, 3))
    with pytest.raises(ValueError, match="Conv2d: in_channels must be a positive int"):
        nn.Conv2d(-1, 2, 3)


def test_conv2d_matches_a_direct_loop():
    conv = nn.Conv2d(2, 3, 2, stride=1, padding=0).double()
    conv.bias.array[...] = [0.5, -1.0, 2.0]
    x = _rand(1, 2, 3, 4, dtype=np.float64)
    y = conv(x).array
    w, b, xa = conv.weight.array, conv.bias.array, x.array
    for f in range(3):
        for i in range(2):
            for j in range(3):
                want = (xa[0, :, i:i + 2, j:j + 2] * w[f]).sum() + b[f]
                assert y[0, f, i, j] == pytest.approx(want)


def test_pools():
    x = striate.arange(16.0).reshape(1, 1, 4, 4)
    mp = nn.MaxPool2d(2)
    assert mp.stride == 2
    assert mp(x).tolist() == [[[[5.0, 7.0], [13.0, 15.0]]]]
    assert nn.AvgPool2d(2)(x).tolist() == [[[[2.5, 4.5], [10.5, 12.5]]]]
    assert nn.MaxPool2d(3, stride=1)(x).tolist() == [[[[10.0, 11.0], [14.0, 15.0]]]]
    assert nn.MaxPool2d(2, padding=1)(x).shape == (1, 1, 3, 3)
    assert repr(mp) == "MaxPool2d(kernel_size=2, stride=2, padding=0)"
    with pytest.raises(ValueError, match="AvgPool2d: stride must be >= 1, got 0"):
        nn.AvgPool2d(2, stride=0)


def test_flatten_identity_activations_repr():
    x = _rand(2, 3, 4, 5)
    assert nn.Flatten()(x).shape == (2, 60)
    assert nn.Flatten(0, 1)(x).shape == (6, 4, 5)
    assert repr(nn.Flatten()) == "Flatten(start_dim=1, end_dim=-1)"
    assert nn.Identity(3, foo=1)(x) is x
    a = x.array
    np.testing.assert_allclose(nn.ReLU()(x).array, np.maximum(a, 0))
    np.testing.assert_allclose(nn.LeakyReLU(0.2)(x).array, np.where(a > 0, a, 0.2 * a),
                               rtol=1e-6)
    np.testing.assert_allclose(nn.ELU(0.5)(x).array, np.where(a > 0, a, 0.5 * np.expm1(a)),
                               rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(nn.Sigmoid()(x).array, 1 / (1 + np.exp(-a)), rtol=1e-5)
    np.testing.assert_allclose(nn.Tanh()(x).array, np.tanh(a), rtol=1e-5, atol=1e-7)
    sm = nn.Softmax(dim=1)(x).array
    np.testing.assert_allclose(sm.sum(axis=1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(nn.LogSoftmax(dim=1)(x).array, np.log(sm), rtol=1e-4, atol=1e-5)
    assert repr(nn.ReLU()) == "ReLU()"
    assert repr(nn.LeakyReLU()) == "LeakyReLU(negative_slope=0.01)"
    assert repr(nn.ELU()) == "ELU(alpha=1.0)"
    assert repr(nn.Softmax(dim=-1)) == "Softmax(dim=-1)"


def test_prelu_learns_a_slope_per_channel():
    p = nn.PReLU()
    assert p.weight.shape == (1,) and float(p.weight.array[0]) == pytest.approx(0.25)
    x = _rand(2, 3, 4, 4)
    a = x.array
    np.testing.assert_allclose(p(x).array, np.where(a > 0, a, 0.25 * a), rtol=1e-6)
    pc = nn.PReLU(3, init=0.1)
    pc.weight.array[...] = [0.1, 0.2, 0.3]
    slope = np.array([0.1, 0.2, 0.3], np.float32).reshape(1, 3, 1, 1)
    np.testing.assert_allclose(pc(x).array, np.where(a > 0, a, slope * a), rtol=1e-6)
    assert repr(pc) == "PReLU(num_parameters=3)"
    with pytest.raises(ValueError, match="PReLU: num_parameters must be a positive int"):
        nn.PReLU(0)


def test_maxout_is_max_over_consecutive_linear_pieces():
    m = nn.Maxout(4, 3, pool_size=2)
    assert m.weight.shape == (6, 4) and m.bias.shape == (6,)
    m.bias.array[...] = np.arange(6)
    x = _rand(5, 4)
    lin = x.array @ m.weight.array.T + m.bias.array
    np.testing.assert_allclose(m(x).array, lin.reshape(5, 3, 2).max(axis=2), rtol=1e-6)
    assert m(_rand(2, 7, 4)).shape == (2, 7, 3)
    assert repr(m) == "Maxout(in_features=4, out_features=3, pool_size=2, bias=True)"
    with pytest.raises(ValueError, match="Maxout: pool_size must be a positive int"):
        nn.Maxout(4, 3, 0)


def test_batchnorm2d_train_vs_eval():
    bn = nn.BatchNorm2d(3)
    assert [n for n, _ in bn.named_buffers()] == ["running_mean", "running_var",
                                                  "num_batches_tracked"]
    assert list(bn.state_dict()) == ["weight", "bias", "running_mean", "running_var",
                                     "num_batches_tracked"]
    x = _rand(8, 3, 5, 5, dtype=np.float32) * 2 + 3
    a = x.array.astype(np.float64)
    y = bn(x).array
    # training: each channel normalised with the batch's own statistics
    np.testing.assert_allclose(y.mean(axis=(0, 2, 3)), 0, atol=1e-5)
    np.testing.assert_allclose(y.var(axis=(0, 2, 3)), 1, atol=1e-3)
    mean, var = a.mean(axis=(0, 2, 3)), a.var(axis=(0, 2, 3), ddof=1)
    np.testing.assert_allclose(bn.running_mean.array, 0.1 * mean, rtol=1e-5)
    np.testing.assert_allclose(bn.running_var.array, 0.9 + 0.1 * var, rtol=1e-5)
    assert int(bn.num_batches_tracked.item()) == 1
    # eval: the running statistics, which are not updated
    bn.eval()
    rm, rv = bn.running_mean.array.copy(), bn.running_var.array.copy()
    y_eval = bn(x).array
    want = (a - rm.reshape(1, 3, 1, 1)) / np.sqrt(rv.reshape(1, 3, 1, 1) + 1e-5)
    np.testing.assert_allclose(y_eval, want, rtol=1e-4, atol=1e-5)
    np.testing.assert_array_equal(bn.running_mean.array, rm)
    assert int(bn.num_batches_tracked.item()) == 1
    assert repr(bn) == (
        "BatchNorm2d(3, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)"
    )


def test_batchnorm_options_and_errors():
    x = _rand(6, 4, seed=1)
    cma = nn.BatchNorm1d(4, momentum=None)
    cma(x)
    cma(_rand(6, 4, seed=2))
    # cumulative average: the mean of the two batch means
    np.testing.assert_allclose(
        cma.running_mean.array, (x.array.mean(0) + _rand(6, 4, seed=2).array.mean(0)) / 2,
        rtol=1e-5, atol=1e-7,
    )
    plain = nn.BatchNorm1d(4, affine=False, track_running_stats=False)
    assert list(plain.parameters()) == [] and list(plain.state_dict()) == []
    plain.eval()  # without running stats, eval uses the batch statistics too
    np.testing.assert_allclose(plain(x).array.mean(0), 0, atol=1e-5)
    assert nn.BatchNorm1d(4)(_rand(5, 4, 7)).shape == (5, 4, 7)
    with pytest.raises(ValueError, match=r"BatchNorm2d: expected 4D input \(N, C, H, W\), "
                                         r"got 2D input of shape \(6, 4\)"):
        nn.BatchNorm2d(4)(x)
    with pytest.raises(ValueError, match="BatchNorm1d: expected 2D or 3D input"):
        nn.BatchNorm1d(4)(_rand(2, 4, 3, 3))
    with pytest.raises(ValueError, match="input has 4 channels .* expects 5"):
        nn.BatchNorm1d(5)(x)
    with pytest.raises(ValueError, match="momentum must be in"):
        nn.BatchNorm2d(3, momentum=2.0)


def test_layernorm():
    ln = nn.LayerNorm(5)
    assert ln.weight.shape == (5,) and ln.bias.shape == (5,)
    x = _rand(3, 4, 5) * 3 + 1
    y = ln(x).array
    np.testing.assert_allclose(y.mean(-1), 0, atol=1e-5)
    np.testing.assert_allclose(y.var(-1), 1, atol=1e-3)
    ln2 = nn.LayerNorm((4, 5), elementwise_affine=False)
    assert list(ln2.parameters()) == []
    np.testing.assert_allclose(ln2(x).array.reshape(3, -1).mean(-1), 0, atol=1e-5)
    assert repr(ln) == "LayerNorm((5,), eps=1e-05, elementwise_affine=True, bias=True)"
    with pytest.raises(ValueError, match=r"layer_norm: normalized_shape \(5,\) must match the last "
                                         r"dims of input shape \(3, 4\)"):
        ln(_rand(3, 4))


def test_dropout_train_and_eval():
    d = nn.Dropout(0.25)
    x = striate.ones(200, 100)
    striate.manual_seed(0)
    y = d(x).array
    kept = y != 0
    assert abs(1 - kept.mean() - 0.25) < 0.02
    np.testing.assert_allclose(y[kept], 1 / 0.75, rtol=1e-6)
    striate.manual_seed(0)
    np.testing.assert_array_equal(d(x).array, y)  # seeded masks repeat
    d.eval()
    z = _rand(4, 5)
    np.testing.assert_array_equal(d(z).array, z.array)
    assert repr(d) == "Dropout(p=0.25, inplace=False)"
    with pytest.raises(ValueError, match="between 0 and 1, but got 1.5"):
        nn.Dropout(1.5)


def test_mlp_gradients_float64():
    striate.manual_seed(0)
    net = nn.Sequential(
        nn.Linear(5, 8), nn.BatchNorm1d(8), nn.Tanh(), nn.Maxout(8, 4, 2), nn.LayerNorm(4),
        nn.PReLU(), nn.Linear(4, 3),
    ).double()
    x = striate.tensor(np.random.default_rng(0).standard_normal((6, 5)), requires_grad=True)
    target = striate.tensor(np.array([0, 1, 2, 0, 1, 2]))
    loss_fn = nn.CrossEntropyLoss()
    params = list(net.parameters())
    assert gradcheck(lambda *_: loss_fn(net(x), target), params + [x])


def test_convnet_gradients_float64():
    striate.manual_seed(0)
    net = nn.Sequential(
        nn.Conv2d(2, 3, 3, padding=1), nn.BatchNorm2d(3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(3, 2, 2), nn.AvgPool2d(1), nn.Flatten(), nn.Linear(2, 2),
    ).double()
    x = striate.tensor(np.random.default_rng(1).standard_normal((2, 2, 4, 4)),
                       requires_grad=True)
    assert gradcheck(lambda *_: net(x), list(net.parameters()) + [x])


def test_loss_modules():
    scores = _rand(4, 3, dtype=np.float64)
    target = striate.tensor(np.array([0, 2, 1, 2]))
    s = scores.array
    logp = s - np.log(np.exp(s).sum(1, keepdims=True))
    want = -logp[np.arange(4), target.array]
    assert float(nn.CrossEntropyLoss()(scores, target)) == pytest.approx(want.mean())
    np.testing.assert_allclose(nn.CrossEntropyLoss(reduction="none")(scores, target).array, want)
    assert repr(nn.CrossEntropyLoss(reduction="sum")) == "CrossEntropyLoss(reduction='sum')"
    w = striate.tensor([1.0, 2.0, 3.0], dtype=np.float64)
    ce_w = nn.CrossEntropyLoss(weight=w)
    assert "weight" in ce_w.state_dict()
    ww = w.array[target.array]
    assert float(ce_w(scores, target)) == pytest.approx((ww * want).sum() / ww.sum())
    assert float(nn.NLLLoss()(striate.tensor(logp), target)) == pytest.approx(want.mean())
    t = _rand(4, 3, seed=5, dtype=np.float64)
    assert float(nn.MSELoss()(scores, t)) == pytest.approx(((s - t.array) ** 2).mean())
    assert float(nn.L1Loss(reduction="sum")(scores, t)) == pytest.approx(
        np.abs(s - t.array).sum())
    assert float(nn.HuberLoss(delta=100.0)(scores, t)) == pytest.approx(
        (0.5 * (s - t.array) ** 2).mean())
    assert float(nn.SmoothL1Loss(beta=100.0)(scores, t)) == pytest.approx(
        (0.5 * (s - t.array) ** 2 / 100).mean())
    prob = striate.tensor(1 / (1 + np.exp(-s)))
    y01 = striate.tensor((t.array > 0).astype(np.float64))
    bce = nn.BCELoss()(prob, y01)
    assert float(nn.BCEWithLogitsLoss()(scores, y01)) == pytest.approx(float(bce), rel=1e-6)
    margins = np.maximum(0, 1 - s[np.arange(4), target.array][:, None] + s)
    margins[np.arange(4), target.array] = 0
    assert float(nn.MultiMarginLoss()(scores, target)) == pytest.approx((margins.sum(1) / 3).mean())
    q = striate.tensor(np.exp(logp))
    assert float(nn.KLDivLoss(reduction="batchmean")(striate.tensor(logp), q)) == pytest.approx(
        0.0, abs=1e-12)
