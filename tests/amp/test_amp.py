"""Mixed precision: autocast's dtypes and rounding, GradScaler's rules against PyTorch's, and
the case loss scaling exists for (float16 gradients that flush to zero)."""

import numpy as np
import pytest
import striate.functional as F

import striate
from striate import amp, nn, optim
from striate.autograd import function


def _net():
    striate.manual_seed(0)
    return nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 4))


def _batch(rng):
    return (striate.tensor(rng.standard_normal((32, 20)).astype(np.float32)),
            striate.tensor(rng.integers(0, 4, 32)))


def test_autocast_stores_products_in_float16_and_accumulates_in_float32(rng):
    lin = nn.Linear(300, 5)
    x = striate.tensor(rng.standard_normal((4, 300)).astype(np.float32))
    with amp.autocast("cpu"):
        assert amp.is_autocast_enabled()
        y = lin(x)
        loss = F.cross_entropy(y, striate.tensor(np.arange(4)))
        with amp.autocast("cpu", enabled=False):
            plain = lin(x)
    assert y.dtype == np.float16 and loss.dtype == np.float32 and plain.dtype == np.float32
    assert lin.weight.dtype == np.float32  # master weights stay float32
    # the product of the float16-rounded operands, summed in float32, then stored as float16
    w16 = lin.weight.array.astype(np.float16).astype(np.float32)
    x16 = x.array.astype(np.float16).astype(np.float32)
    expected = (x16 @ w16.T + lin.bias.array.astype(np.float16).astype(np.float32))
    np.testing.assert_array_equal(y.array, expected.astype(np.float16))
    assert not amp.is_autocast_enabled() and function.forward_wrapper is None


def test_float16_gradients_flush_to_zero_without_loss_scaling(rng):
    x, y = _batch(rng)
    results = {}
    for mode in ("fp32", "amp", "amp+scaler"):
        m = _net()
        opt = optim.SGD(m.parameters(), lr=1e7)  # the loss is scaled by 1e-8 below
        scaler = amp.GradScaler(init_scale=2.0 ** 24)
        first = None
        for _ in range(30):
            with amp.autocast("cpu", enabled=mode != "fp32"):
                loss = F.cross_entropy(m(x), y) * 1e-8  # gradients of ~1e-10
            opt.zero_grad()
            if mode == "amp+scaler":
                scaler.scale(loss).backward()
                scaler.step(opt)
                scaler.update()
            else:
                loss.backward()
                opt.step()
            if first is None:
                first = m[0].weight.grad.array.copy()
        with striate.no_grad():
            results[mode] = (first, float(F.cross_entropy(m(x), y).item()))
    assert (results["amp"][0] == 0).all()  # every float16 gradient underflowed
    assert results["amp"][1] == pytest.approx(np.log(4), abs=0.1)  # so nothing was learned
    np.testing.assert_allclose(results["amp+scaler"][0], results["fp32"][0], rtol=2e-2,
                               atol=2e-12)
    assert results["amp+scaler"][1] < 0.75 * np.log(4) and results["fp32"][1] < 0.75 * np.log(4)


def test_grad_scaler_skips_inf_steps_and_follows_torch(rng, torch):
    p = nn.Parameter(np.ones(3, np.float32))
    opt = optim.SGD([p], lr=0.1)
    s = amp.GradScaler(init_scale=8.0, growth_interval=2)
    tp = torch.nn.Parameter(torch.ones(3))
    topt = torch.optim.SGD([tp], lr=0.1)
    ts = torch.amp.GradScaler("cpu", init_scale=8.0, growth_interval=2)
    for g in ([1.0, 2.0, 3.0], [np.inf, 0.0, 0.0], [1.0, 1.0, 1.0], [0.5, 0.5, 0.5],
              [np.nan, 1.0, 1.0], [2.0, 0.0, 1.0]):
        for param, scaler, optimizer, wrap in ((p, s, opt, striate.tensor),
                                               (tp, ts, topt, torch.tensor)):
            optimizer.zero_grad()
            (scaler.scale((param * wrap(np.asarray(g, np.float32))).sum())).backward()
            scaler.step(optimizer)
            scaler.update()
        assert s.get_scale() == ts.get_scale()
        np.testing.assert_allclose(p.array, tp.detach().numpy(), rtol=1e-6, atol=1e-7)
    state = s.state_dict()
    s2 = amp.GradScaler()
    s2.load_state_dict(state)
    assert s2.get_scale() == s.get_scale() and s2.state_dict() == state


def test_grad_scaler_unscale_once_and_disabled():
    p = nn.Parameter(np.ones(2, np.float32))
    opt = optim.SGD([p], lr=1.0)
    s = amp.GradScaler(init_scale=4.0)
    s.scale(p.sum()).backward()
    s.unscale_(opt)
    np.testing.assert_array_equal(p.grad.array, [1.0, 1.0])
    with pytest.raises(RuntimeError, match="unscale_\\(\\) has already been called"):
        s.unscale_(opt)
    off = amp.GradScaler(enabled=False)
    assert off.scale(p) is p and off.get_scale() == 1.0
    with pytest.raises(ValueError, match="GradScaler: backoff_factor must be in \\(0, 1\\)"):
        amp.GradScaler(backoff_factor=2.0)
    with pytest.raises(ValueError, match="autocast: dtype must be float16 or float32"):
        amp.autocast("cpu", dtype=np.float64)
