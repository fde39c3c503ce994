"""striate.train.metrics and the babysitting checks that need no training loop."""

import math

import numpy as np
import pytest

import striate
from striate.train import AverageMeter, EMAMeter, TrainingDiverged, accuracy
from striate.train.checks import (
    DivergenceMonitor,
    initial_loss_message,
    snapshot,
    update_ratio_report,
    update_ratios,
)


def test_accuracy_top1_matches_a_manual_count():
    rng = np.random.default_rng(0)
    logits = rng.standard_normal((50, 7)).astype(np.float32)
    y = rng.integers(0, 7, 50)
    expected = np.mean(logits.argmax(1) == y)
    assert accuracy(striate.tensor(logits), striate.tensor(y)) == pytest.approx(expected)
    assert accuracy(logits, y) == pytest.approx(expected)


def test_accuracy_topk_one_hot_and_spatial():
    logits = np.array([[0.1, 0.5, 0.4], [0.9, 0.02, 0.08]])
    y = np.array([2, 1])
    assert accuracy(logits, y) == 0.0
    assert accuracy(logits, y, topk=2) == 0.5
    assert accuracy(logits, y, topk=3) == 1.0
    assert accuracy(logits, np.eye(3)[[1, 0]]) == 1.0  # one-hot targets
    seg = np.zeros((2, 3, 4, 4))
    seg[:, 1] = 1.0  # class 1 everywhere
    target = np.ones((2, 4, 4), dtype=np.int64)
    target[0, 0, 0] = 2
    assert accuracy(seg, target) == pytest.approx(31 / 32)


def test_accuracy_errors_name_the_argument():
    with pytest.raises(ValueError, match=r"targets must have shape \(4,\).*got shape \(3,\)"):
        accuracy(np.zeros((4, 3)), np.zeros(3, dtype=np.int64))
    with pytest.raises(ValueError, match="topk must be an int in"):
        accuracy(np.zeros((4, 3)), np.zeros(4, dtype=np.int64), topk=4)
    with pytest.raises(ValueError, match="integer class indices"):
        accuracy(np.zeros((4, 3)), np.zeros(4))
    with pytest.raises(ValueError, match="logits must have shape"):
        accuracy(np.zeros(4), np.zeros(4, dtype=np.int64))


def test_average_and_ema_meters():
    m = AverageMeter()
    assert math.isnan(m.avg)
    m.update(2.0, n=3)
    m.update(6.0, n=1)
    assert m.avg == 3.0 and m.count == 4 and m.val == 6.0
    m.reset()
    assert m.count == 0
    e = EMAMeter(0.5)
    assert e.update(4.0) == 4.0 and e.update(2.0) == 3.0
    with pytest.raises(ValueError, match="beta"):
        EMAMeter(1.0)


def test_initial_loss_message():
    assert initial_loss_message(math.log(10) * 1.2, 10) is None
    msg = initial_loss_message(9.0, 10)
    assert "log(10) = 2.303" in msg and "initialisation" in msg
    assert initial_loss_message(0.5, 10) is not None  # too small is suspicious too
    assert initial_loss_message(math.nan, 10) is not None


def test_divergence_monitor_ignores_one_noisy_batch_but_stops_a_climb():
    mon = DivergenceMonitor()
    for loss in [2.3] * 5 + [20.0] + [2.3] * 5:  # one spike of 9x
        mon.update(loss, epoch=1, step=0)
    mon = DivergenceMonitor()
    with pytest.raises(TrainingDiverged, match=r"smoothed loss .* exceeds 3x the initial") as e:
        for step, loss in enumerate(2.3 * 1.3 ** np.arange(40)):
            mon.update(float(loss), epoch=2, step=step, lr=0.5)
    assert e.value.epoch == 2 and e.value.step > 5 and "now 0.5" in str(e.value)
    with pytest.raises(TrainingDiverged, match="the loss is nan"):
        DivergenceMonitor().update(math.nan, 1, 0)
    assert issubclass(TrainingDiverged, RuntimeError)
    mon = DivergenceMonitor()
    mon.update(2.0, 1, 0)
    fresh = DivergenceMonitor()
    fresh.load_state_dict(mon.state_dict())
    assert fresh.initial == 2.0 and fresh.ema.value == 2.0


def test_update_ratios_and_report():
    w = striate.tensor(np.full((10,), 1.0, np.float32))
    b = striate.tensor(np.zeros(3, np.float32))
    still = striate.tensor(np.ones(4, np.float32))
    before = snapshot([("w", w), ("b", b), ("still", still)])
    w.array += 1e-3  # ||dW|| / ||W|| = 1e-3
    b.array += 1.0
    ratios = update_ratios(before)
    assert ratios["w"] == pytest.approx(1e-3, rel=1e-3)
    assert math.isnan(ratios["b"])  # zero weights: undefined, not flagged
    assert ratios["still"] == 0.0
    median, line, flagged = update_ratio_report(ratios, epoch=3)
    assert median == pytest.approx(5e-4, rel=1e-3)
    assert flagged and "too small" in line and "still" in line and "epoch 3" in line
    _, line, flagged = update_ratio_report({"w": 1e-3}, epoch=1)
    assert not flagged and "too" not in line
    _, line, flagged = update_ratio_report({"w": 0.5}, epoch=1)
    assert flagged and "too large" in line


def test_update_ratio_report_judges_only_the_given_names():
    ratios = {"fc.weight": 1e-3, "fc.bias": 0.8}
    median, line, flagged = update_ratio_report(ratios, epoch=1, judged={"fc.weight"})
    assert median == 1e-3 and not flagged and "over 1 parameters" in line
    assert update_ratio_report(ratios, epoch=1)[2]
