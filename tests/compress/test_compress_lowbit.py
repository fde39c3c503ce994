"""Binary and ternary (TTQ) weights: values, straight-through gradients, training."""

import numpy as np
import striate.functional as F

import striate
from striate import nn
from striate.autograd import gradcheck
from striate.compress.lowbit import TernaryWeight, binarize, freeze_low_bit, ternarize


def test_binary_weights_are_a_scaled_sign_with_a_hardtanh_ste(rng):
    lin = nn.Linear(6, 4)
    binarize(lin, skip_last=False)
    lin.weight_fp.array[0, 0] = 1.5  # outside the STE window
    x = striate.tensor(rng.standard_normal((3, 6)).astype(np.float32))
    y = lin(x)
    w = lin.weight_fp.array
    expected = np.abs(w).mean(axis=1, keepdims=True) * np.where(w >= 0, 1, -1)
    np.testing.assert_allclose(lin.weight.array, expected, atol=1e-7, rtol=1e-6)
    (y * striate.tensor(np.ones((3, 4), np.float32))).sum().backward()
    dwb = np.ones((3, 4), np.float32).T @ x.array  # dL/dw_b of the layer
    np.testing.assert_allclose(lin.weight_fp.grad.array, dwb * (np.abs(w) <= 1), atol=1e-6,
                               rtol=1e-6)
    assert lin.weight_fp.grad.array[0, 0] == 0


def test_ttq_values_and_scale_gradients(rng):
    w = rng.standard_normal((5, 4))
    wp, wn = np.array([0.7]), np.array([0.4])
    delta = 0.3
    wt = TernaryWeight.apply(striate.tensor(w), striate.tensor(wp), striate.tensor(wn),
                             delta).array
    np.testing.assert_array_equal(wt, np.where(w > delta, 0.7, np.where(w < -delta, -0.4, 0)))
    # the ternary weight is linear in the two scales: their gradients check numerically
    wt_fn = lambda a, b: TernaryWeight.apply(striate.tensor(w), a, b, delta)  # noqa: E731
    gradcheck(wt_fn, [striate.tensor(wp, requires_grad=True),
                      striate.tensor(wn, requires_grad=True)])
    lat = striate.tensor(w, requires_grad=True)
    g = rng.standard_normal((5, 4))
    (TernaryWeight.apply(lat, striate.tensor(wp), striate.tensor(wn), delta)
     * striate.tensor(g)).sum().backward()
    np.testing.assert_allclose(lat.grad.array, np.where(w > delta, 0.7 * g, np.where(
        w < -delta, 0.4 * g, g)), atol=1e-12, rtol=1e-12)


def test_ternary_net_trains_and_freezes(rng):
    striate.manual_seed(0)
    net = nn.Sequential(nn.Linear(6, 32), nn.ReLU(), nn.Linear(32, 3))
    x = striate.tensor(rng.standard_normal((96, 6)).astype(np.float32))
    y = striate.tensor((x.array[:, 0] > 0).astype(np.int64) + (x.array[:, 1] > 0.5))
    ternarize(net)
    assert sorted(n for n, _ in net.named_parameters()) == [
        "0.bias", "0.weight_fp", "0.weight_neg", "0.weight_pos", "2.bias", "2.weight"]
    opt = striate.optim.Adam(net.parameters(), lr=0.02)
    losses = []
    for _ in range(60):
        loss = F.cross_entropy(net(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]
    acc = (net(x).array.argmax(1) == y.array).mean()
    freeze_low_bit(net)
    assert len(np.unique(net[0].weight.array)) <= 3
    assert sorted(net.state_dict()) == ["0.bias", "0.weight", "2.bias", "2.weight"]
    assert (net(x).array.argmax(1) == y.array).mean() == acc
