"""OneCycleLR: the same learning-rate and momentum sequence as torch's."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import striate
from striate.optim.lr_scheduler import OneCycleLR


def _sequence(lib, scheduler_cls, opt_name, steps, **kw):
    p = lib.zeros(2, requires_grad=True)
    extra = {"momentum": 0.9} if opt_name == "SGD" else {}
    opt = getattr(lib.optim, opt_name)([p], lr=0.1, **extra)
    sched = scheduler_cls(opt, **kw)
    out = []
    for _ in range(steps):
        g = opt.param_groups[0]
        out.append((g["lr"], g["momentum"] if "momentum" in g else g["betas"][0]))
        opt.step()
        sched.step()
    return np.array(out)


CASES = [
    {"max_lr": 1.0, "total_steps": 20},
    {"max_lr": 0.5, "total_steps": 17, "three_phase": True, "anneal_strategy": "linear"},
    {"max_lr": 2.0, "epochs": 2, "steps_per_epoch": 5, "pct_start": 0.5, "div_factor": 10.0,
     "final_div_factor": 100.0, "base_momentum": 0.8, "max_momentum": 0.9},
    {"max_lr": 0.3, "total_steps": 12, "cycle_momentum": False},
]


@pytest.mark.parametrize("kw", CASES)
@pytest.mark.parametrize("opt_name", ["SGD", "Adam"])
def test_one_cycle_matches_torch(kw, opt_name):
    torch = pytest.importorskip("torch")
    steps = kw.get("total_steps") or kw["epochs"] * kw["steps_per_epoch"]
    ours = _sequence(striate, OneCycleLR, opt_name, steps, **kw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = _sequence(torch, torch.optim.lr_scheduler.OneCycleLR, opt_name, steps, **kw)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-15)


def test_one_cycle_shape_and_limits():
    opt = striate.optim.SGD([striate.zeros(1, requires_grad=True)], lr=0.1, momentum=0.9)
    s = OneCycleLR(opt, max_lr=1.0, total_steps=10)
    lrs = [s.get_last_lr()[0]]
    for _ in range(9):
        s.step()
        lrs.append(s.get_last_lr()[0])
    assert lrs[0] == pytest.approx(1.0 / 25) and max(lrs) == pytest.approx(1.0, rel=0.05)
    assert lrs[-1] == pytest.approx(1.0 / 25 / 1e4)
    assert np.argmax(lrs) == 2  # 30% of 10 steps climbing
    s.step()  # the step count may reach total_steps, as in torch
    with pytest.raises(ValueError, match="total_steps is 10"):
        s.step()
    state = s.state_dict()
    assert "optimizer" not in state and state["total_steps"] == 10


def test_one_cycle_errors():
    opt = striate.optim.SGD([striate.zeros(1, requires_grad=True)], lr=0.1)
    with pytest.raises(ValueError, match="total_steps, or both epochs"):
        OneCycleLR(opt, max_lr=1.0)
    with pytest.raises(ValueError, match="anneal_strategy"):
        OneCycleLR(opt, max_lr=1.0, total_steps=5, anneal_strategy="exp")
    with pytest.raises(ValueError, match="pct_start"):
        OneCycleLR(opt, max_lr=1.0, total_steps=5, pct_start=1.5)
    with pytest.raises(ValueError, match="one per param group"):
        OneCycleLR(opt, max_lr=[1.0, 2.0], total_steps=5)
    adagrad = striate.optim.Adagrad([striate.zeros(1, requires_grad=True)], lr=0.1)
    with pytest.raises(ValueError, match="cycle_momentum=False"):
        OneCycleLR(adagrad, max_lr=1.0, total_steps=5)
    OneCycleLR(adagrad, max_lr=1.0, total_steps=5, cycle_momentum=False)
