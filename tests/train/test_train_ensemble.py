"""striate.train.ensemble: model ensembles, snapshot ensembles and Polyak averaging (EMA)."""

import os

import numpy as np
import pytest

import striate
from striate import functional as F
from striate import nn, optim
from striate.data import DataLoader, TensorDataset
from striate.train import EMA, Ensemble, Trainer, load, snapshot_ensemble


def _mlp(seed=0):
    striate.manual_seed(seed)
    return nn.Sequential(nn.Linear(5, 8), nn.ReLU(), nn.Linear(8, 3))


def _data(n=48, seed=0):
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 3
    x = (np.eye(3, 5)[y] * 3 + rng.standard_normal((n, 5))).astype(np.float32)
    return x, y


def _softmax(s):
    e = np.exp(s - s.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


def test_ensemble_of_identical_models_equals_one_model():
    m = _mlp()
    x = striate.tensor(_data()[0])
    ens = Ensemble([m, m, m])
    p = _softmax(m(x).array.astype(np.float64))
    np.testing.assert_allclose(ens.predict_proba(x), p, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(F.softmax(ens(x), dim=1).array, p, rtol=1e-4, atol=1e-7)
    np.testing.assert_array_equal(ens(x).array.argmax(1), m(x).array.argmax(1))
    y = striate.tensor(_data()[1])
    assert abs(float(F.cross_entropy(ens(x), y).item()) - float(F.cross_entropy(m(x), y).item())) \
        < 1e-4


def test_ensemble_averages_probabilities_with_weights():
    a, b = _mlp(0), _mlp(1)
    x = striate.tensor(_data()[0])
    pa, pb = _softmax(a(x).array.astype(np.float64)), _softmax(b(x).array.astype(np.float64))
    np.testing.assert_allclose(Ensemble([a, b]).predict_proba(x), (pa + pb) / 2, rtol=1e-6)
    np.testing.assert_allclose(Ensemble([a, b], weights=[3, 1]).predict_proba(x),
                               0.75 * pa + 0.25 * pb, rtol=1e-6)
    assert len(list(Ensemble([a, b]).parameters())) == 8  # members are sub-modules
    with pytest.raises(ValueError, match="at least one"):
        Ensemble([])
    with pytest.raises(ValueError, match="weights"):
        Ensemble([a, b], weights=[1, -1])


def test_ema_math_without_and_with_warmup():
    m = nn.Linear(2, 1)
    w0 = m.weight.array.copy().astype(np.float64)
    ema = EMA(m, decay=0.5, warmup=False)
    values = [1.0, 2.0, 3.0]
    expect = w0
    for v in values:
        m.weight.array[...] = v
        ema.update()
        expect = 0.5 * expect + 0.5 * v
    np.testing.assert_allclose(ema.shadow["weight"], expect, rtol=1e-6)
    # with warmup the decay at update t is min(d, (1 + t) / (10 + t)): 1/10, then 2/11
    m2 = nn.Linear(2, 1)
    ema2 = EMA(m2, decay=0.99)
    s = m2.weight.array.copy().astype(np.float64)
    for t, v in enumerate([4.0, -2.0]):
        m2.weight.array[...] = v
        assert ema2.current_decay() == pytest.approx((1 + t) / (10 + t))
        ema2.update()
        d = (1 + t) / (10 + t)
        s = d * s + (1 - d) * v
    np.testing.assert_allclose(ema2.shadow["weight"], s, rtol=1e-6)
    with pytest.raises(ValueError, match="decay"):
        EMA(m, decay=1.0)


def test_ema_average_parameters_swaps_and_restores_and_state_round_trip():
    m = _mlp()
    ema = EMA(m, decay=0.9, warmup=False)
    live = {n: p.array.copy() for n, p in m.named_parameters()}
    for p in m.parameters():
        p.array[...] += 1.0
    ema.update()
    live = {n: p.array.copy() for n, p in m.named_parameters()}
    with ema.average_parameters():
        for n, p in m.named_parameters():
            np.testing.assert_allclose(p.array, live[n] - 0.9, rtol=1e-5, atol=1e-6)
    for n, p in m.named_parameters():
        np.testing.assert_array_equal(p.array, live[n])
    other = _mlp(5)
    ema.apply_to(other)
    np.testing.assert_array_equal(other[0].weight.array, ema.shadow["0.weight"])
    state = ema.state_dict()
    ema2 = EMA(_mlp(3), decay=0.1)
    ema2.load_state_dict(state)
    assert ema2.decay == 0.9 and ema2.num_updates == 1
    np.testing.assert_array_equal(ema2.shadow["2.bias"], ema.shadow["2.bias"])
    with pytest.raises(ValueError, match="saved averages"):
        EMA(nn.Linear(5, 3)).load_state_dict(state)


def _fit(tmp_path, epochs=3, **kw):
    x, y = _data()
    model = _mlp()
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    trainer = Trainer(model, opt, out_dir=tmp_path, progress=False, log=False, **kw)
    train = DataLoader(TensorDataset(x, y), batch_size=16, shuffle=True)
    val = DataLoader(TensorDataset(x, y), batch_size=48)
    trainer.fit(train, val, epochs=epochs)
    return trainer, model, val


def test_trainer_keeps_snapshots_and_snapshot_ensemble_uses_them(tmp_path):
    trainer, model, val = _fit(tmp_path, keep_snapshots=True)
    names = sorted(f for f in os.listdir(tmp_path) if f.startswith("checkpoint_epoch"))
    assert names == ["checkpoint_epoch1.npz", "checkpoint_epoch2.npz", "checkpoint_epoch3.npz"]
    last = load(tmp_path / "checkpoint_epoch3.npz")["model"]
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(last[k].array, v.array)
    ens = snapshot_ensemble(tmp_path, model_fn=_mlp, last=2)
    assert len(ens.members) == 2 and not ens.training
    np.testing.assert_array_equal(ens.members[1][0].weight.array, model[0].weight.array)
    x = striate.tensor(_data()[0])
    one = snapshot_ensemble(tmp_path, model_fn=_mlp, epochs=[3])
    np.testing.assert_allclose(one.predict_proba(x), _softmax(model(x).array.astype(np.float64)),
                               rtol=1e-5, atol=1e-8)
    with pytest.raises(FileNotFoundError, match="epoch"):
        snapshot_ensemble(tmp_path, model_fn=_mlp, epochs=[9])
    with pytest.raises(ValueError, match="model_fn"):
        snapshot_ensemble(tmp_path)  # a plain Trainer config names no zoo model


def test_trainer_without_snapshots_writes_none(tmp_path):
    _fit(tmp_path, epochs=1)
    assert not any(f.startswith("checkpoint_epoch") for f in os.listdir(tmp_path))


def test_trainer_ema_evaluates_with_averaged_weights_and_saves_them(tmp_path):
    trainer, model, val = _fit(tmp_path, ema_decay=0.9)
    assert trainer.ema.num_updates == 9  # 3 epochs x 3 steps
    raw = {n: p.array.copy() for n, p in model.named_parameters()}
    got = trainer.evaluate(val)
    for n, p in model.named_parameters():  # evaluate put the live weights back
        np.testing.assert_array_equal(p.array, raw[n])
    with trainer.ema.average_parameters():
        x, y = next(iter(val))
        expect = float(F.cross_entropy(model(x), y).item())
    assert got["loss"] == pytest.approx(expect, rel=1e-6)
    assert trainer.history[-1]["val_loss"] == pytest.approx(expect, rel=1e-6)
    ckpt = load(tmp_path / "checkpoint_last.npz")
    np.testing.assert_array_equal(ckpt["ema"]["shadow"]["0.weight"], trainer.ema.shadow["0.weight"])
    # a resumed trainer picks its averages up again
    model2 = _mlp(9)
    t2 = Trainer(model2, optim.SGD(model2.parameters(), lr=0.1, momentum=0.9), progress=False,
                 log=False, ema_decay=0.9)
    t2.load_checkpoint(tmp_path / "checkpoint_last.npz")
    assert t2.ema.num_updates == 9
    np.testing.assert_array_equal(t2.ema.shadow["2.weight"], trainer.ema.shadow["2.weight"])


def test_ema_averages_batchnorm_statistics_with_the_weights():
    m = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    ema = EMA(m, decay=0.5, warmup=False)
    assert "1.running_mean" in ema.shadow and "1.num_batches_tracked" not in ema.shadow
    m[1].running_mean.array[...] = 2.0  # as a training step would move them
    ema.update()
    np.testing.assert_allclose(ema.shadow["1.running_mean"], 1.0)  # 0.5 * 0 + 0.5 * 2
    with ema.average_parameters():
        np.testing.assert_allclose(m[1].running_mean.array, 1.0)
    np.testing.assert_allclose(m[1].running_mean.array, 2.0)  # the live statistics come back
