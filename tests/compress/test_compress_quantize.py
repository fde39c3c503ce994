"""int8 quantization: the integer kernels against float computations with the same rounding,
batch-norm folding, calibration, and fake quantization's straight-through gradient."""

import numpy as np
import pytest
import striate.functional as F

import striate
from striate import nn
from striate.compress import quantize as Q


def test_weight_and_activation_grids():
    w = np.array([[0.5, -1.0, 0.25], [0.01, 0.02, -0.04]])
    scale, zp = Q.weight_qparams(w, per_channel=True, symmetric=True)
    np.testing.assert_allclose(scale.reshape(-1), [1.0 / 127, 0.04 / 127], rtol=1e-12, atol=0)
    q = Q.quantize_tensor(w, scale, zp, -127, 127)
    assert np.abs(q).max(axis=1).tolist() == [127, 127]  # each row uses its whole range
    s, z = Q.activation_qparams(-1.0, 3.0)
    assert Q.quantize_tensor(np.array([0.0]), s, z, 0, 255)[0] == z  # 0.0 is exact
    # the ends of the grid: the range, shifted by the rounding of the zero point
    np.testing.assert_allclose(Q.dequantize(np.array([0, 255]), s, z), [-1.0, 3.0],
                               atol=s / 2 + 1e-6, rtol=0)


@pytest.mark.parametrize("per_channel,symmetric", [(True, True), (False, False)])
def test_quantized_linear_equals_float_on_the_same_grid(rng, per_channel, symmetric):
    lin = nn.Linear(40, 7)
    x = rng.standard_normal((5, 40)).astype(np.float32)
    q = Q.QuantizedLinear.from_float(lin, (x.min(), x.max()), per_channel, symmetric)
    out = q(striate.tensor(x)).array
    # the same computation in float64 on the dequantized operands
    xq = Q.dequantize(q.quantize_input(x), q.x_scale, q.x_zp).astype(np.float64)
    wq = (np.asarray(q.w_scale).reshape(-1, 1) * (q.qw.astype(np.float64)
                                                  - np.asarray(q.w_zp).reshape(-1, 1)))
    expected = xq @ wq.T + q.qb * q.acc_scale
    np.testing.assert_allclose(out, expected, atol=1e-5, rtol=1e-5)
    assert q.qw.dtype == np.int8 and q.qb.dtype == np.int32
    # and close to the float layer: the rounding error of 8 bits, not more
    np.testing.assert_allclose(out, lin(striate.tensor(x)).array, atol=0.05, rtol=0.05)


def test_quantized_conv_equals_float_conv_on_the_same_grid(rng):
    conv = nn.Conv2d(3, 6, 3, padding=1, stride=2).double()
    x = rng.random((2, 3, 9, 9)) - 0.3  # zero padding must be the exact zero point
    q = Q.QuantizedConv2d.from_float(conv, (x.min(), x.max()))
    out = q(striate.tensor(x)).array
    xq = Q.dequantize(q.quantize_input(x), q.x_scale, q.x_zp).astype(np.float64)
    wq = q.w_scale * q.qw.astype(np.float64)
    bq = q.qb * q.acc_scale
    ref = F.conv2d(striate.tensor(xq), striate.tensor(wq), striate.tensor(bq), stride=2,
                   padding=1).array
    np.testing.assert_allclose(out, ref, atol=1e-5, rtol=1e-5)


def test_fold_batchnorm_keeps_the_eval_function(rng):
    net = nn.Sequential(nn.Conv2d(2, 4, 3), nn.BatchNorm2d(4), nn.ReLU())
    net.train()
    for _ in range(3):
        net(striate.tensor(rng.standard_normal((8, 2, 6, 6)).astype(np.float32)))
    net.eval()
    x = striate.tensor(rng.standard_normal((3, 2, 6, 6)).astype(np.float32))
    before = net(x).array
    Q.fold_batchnorm(net)
    assert isinstance(net[1], nn.Identity)
    np.testing.assert_allclose(net(x).array, before, atol=1e-5, rtol=1e-4)


def test_quantize_model_calibrates_and_stays_close(rng):
    striate.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
                        nn.Flatten(), nn.Linear(8 * 6 * 6, 5))
    xs = [striate.tensor(rng.random((16, 1, 6, 6)).astype(np.float32)) for _ in range(3)]
    net.train()
    net(xs[0])
    net.eval()
    ref = net(xs[1]).array
    Q.quantize_model(net, xs)
    assert isinstance(net[0], Q.QuantizedConv2d) and isinstance(net[4], Q.QuantizedLinear)
    out = net(xs[1]).array
    assert np.abs(out - ref).max() <= 0.05 * np.abs(ref).max()
    assert (out.argmax(1) == ref.argmax(1)).mean() >= 0.9
    assert Q.model_bytes_int8(net) < 0.3 * 4 * (8 * 9 + 8 + 8 * 36 * 5 + 5)
    with pytest.raises(ValueError, match="quantize_model: calibration yielded no batches"):
        Q.quantize_model(nn.Sequential(nn.Linear(2, 2)), [])


def test_fake_quantize_matches_torch_and_passes_gradients_straight_through(rng, torch):
    x = (rng.standard_normal(50) * 2).astype(np.float32)
    xt = striate.tensor(x, requires_grad=True)
    y = Q.fake_quantize(xt, 0.05, 10, 0, 255)
    (y * striate.tensor(np.arange(50, dtype=np.float32))).sum().backward()
    tx = torch.tensor(x, requires_grad=True)
    ty = torch.fake_quantize_per_tensor_affine(tx, 0.05, 10, 0, 255)
    (ty * torch.arange(50, dtype=torch.float32)).sum().backward()
    np.testing.assert_allclose(y.array, ty.detach().numpy(), atol=1e-6, rtol=0)
    np.testing.assert_allclose(xt.grad.array, tx.grad.numpy(), atol=0, rtol=0)


def test_qat_trains_through_fake_quant_and_converts(rng):
    striate.manual_seed(0)
    net = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 3))
    x = striate.tensor(rng.standard_normal((64, 6)).astype(np.float32))
    y = striate.tensor((x.array[:, 0] > 0).astype(np.int64) + (x.array[:, 1] > 1))
    Q.prepare_qat(net)
    assert sorted(net.state_dict()) == ["0.bias", "0.weight_fp", "2.bias", "2.weight_fp"]
    opt = striate.optim.Adam(net.parameters(), lr=0.02)
    losses = []
    for _ in range(40):
        loss = F.cross_entropy(net(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]
    w = net[0].weight.array  # the fake-quantized weight: at most 255 levels per row
    assert max(len(np.unique(r)) for r in w) <= 255
    Q.convert_qat(net)
    assert sorted(net.state_dict()) == ["0.bias", "0.weight", "2.bias", "2.weight"]
    ref = net(x).array.argmax(1)
    Q.quantize_model(net, [x])
    assert (net(x).array.argmax(1) == ref).mean() >= 0.95
