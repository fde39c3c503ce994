"""Learning-rate schedules: closed forms by hand, and the same lr sequence as torch's schedulers."""

import math

import numpy as np
import pytest

import striate
from striate import Tensor
from striate.optim import SGD, Adam
from striate.optim import lr_scheduler as sched


def _opt(lrs=(1.0,)):
    groups = [{"params": [striate.tensor(np.zeros(2), requires_grad=True)], "lr": lr} for lr in lrs]
    return SGD(groups, lr=lrs[0])


def _sequence(scheduler, n):
    """lr of every group at counts 0..n-1 (construction gives count 0)."""
    out = [scheduler.get_last_lr()]
    for _ in range(n - 1):
        scheduler.step()
        out.append(scheduler.get_last_lr())
    return np.array(out)


def test_step_lr_is_step_decay():
    opt = _opt()
    s = sched.StepLR(opt, step_size=3, gamma=0.5)
    seq = _sequence(s, 8)[:, 0]
    np.testing.assert_allclose(seq, [1, 1, 1, 0.5, 0.5, 0.5, 0.25, 0.25])
    assert opt.param_groups[0]["lr"] == 0.25 and s.last_epoch == 7


def test_multistep_and_exponential():
    s = sched.MultiStepLR(_opt((2.0,)), milestones=[5, 2], gamma=0.1)
    np.testing.assert_allclose(_sequence(s, 7)[:, 0], [2, 2, 0.2, 0.2, 0.2, 0.02, 0.02])
    e = sched.ExponentialLR(_opt(), gamma=0.9)
    np.testing.assert_allclose(_sequence(e, 5)[:, 0], 0.9 ** np.arange(5))


def test_inverse_time_is_the_notes_one_over_t_decay():
    s = sched.InverseTimeLR(_opt((0.5,)), decay=0.1)
    t = np.arange(10)
    np.testing.assert_allclose(_sequence(s, 10)[:, 0], 0.5 / (1 + 0.1 * t))
    st = sched.InverseTimeLR(_opt((0.5,)), decay=1.0, decay_steps=3, staircase=True)
    np.testing.assert_allclose(_sequence(st, 7)[:, 0], 0.5 / (1 + t[:7] // 3))


def test_cosine_annealing_endpoints_and_middle():
    s = sched.CosineAnnealingLR(_opt((1.0,)), T_max=10, eta_min=0.1)
    seq = _sequence(s, 21)[:, 0]
    assert seq[0] == pytest.approx(1.0)
    assert seq[5] == pytest.approx(0.55)
    assert seq[10] == pytest.approx(0.1)
    assert seq[20] == pytest.approx(1.0)  # past T_max it rises again, as the cosine does
    assert np.all(np.diff(seq[:11]) < 0)


def test_linear_warmup_and_lambda_per_group():
    s = sched.LinearLR(_opt((1.0,)), start_factor=0.25, end_factor=1.0, total_iters=3)
    np.testing.assert_allclose(_sequence(s, 6)[:, 0], [0.25, 0.5, 0.75, 1, 1, 1])
    opt = _opt((1.0, 0.1))
    lam = sched.LambdaLR(opt, [lambda t: 1 / (t + 1), lambda t: 2.0**t])
    np.testing.assert_allclose(_sequence(lam, 3), [[1, 0.1], [0.5, 0.2], [1 / 3, 0.4]])


def test_sequential_warmup_then_cosine():
    opt = _opt((1.0,))
    warm = sched.LinearLR(opt, start_factor=0.5, total_iters=2)
    cos = sched.CosineAnnealingLR(opt, T_max=4)
    s = sched.SequentialLR(opt, [warm, cos], milestones=[2])
    expected = [0.5, 0.75] + [(1 + math.cos(math.pi * t / 4)) / 2 for t in range(5)]
    np.testing.assert_allclose(_sequence(s, 7)[:, 0], expected, atol=1e-15)


def test_scheduled_lr_is_what_the_optimizer_uses():
    p = striate.tensor(np.zeros(1), requires_grad=True)
    opt = SGD([p], lr=1.0)
    s = sched.StepLR(opt, step_size=1, gamma=0.5)
    moves = []
    for _ in range(3):
        before = p.array.copy()
        p.grad = Tensor(np.ones(1))
        opt.step()
        moves.append(float(before[0] - p.array[0]))
        s.step()
    np.testing.assert_allclose(moves, [1.0, 0.5, 0.25])


def test_state_dict_round_trip_and_resume():
    opt = _opt((1.0,))
    s = sched.CosineAnnealingLR(opt, T_max=10)
    for _ in range(4):
        s.step()
    sd = s.state_dict()
    assert "optimizer" not in sd and sd["last_epoch"] == 4 and sd["T_max"] == 10

    opt2 = _opt((1.0,))
    s2 = sched.CosineAnnealingLR(opt2, T_max=3)
    s2.load_state_dict(sd)
    assert s2.T_max == 10 and s2.last_epoch == 4
    s.step()
    s2.step()
    assert s2.get_last_lr() == s.get_last_lr()

    # resuming from last_epoch needs initial_lr in the groups
    with pytest.raises(ValueError, match="needs 'initial_lr' .* group 0"):
        sched.StepLR(_opt(), step_size=2, last_epoch=3)
    s3 = sched.StepLR(opt, step_size=2, gamma=0.5, last_epoch=3)  # opt has initial_lr
    assert s3.last_epoch == 4 and s3.get_last_lr() == [0.25]


def test_lambda_state_dict_leaves_out_the_functions():
    s = sched.LambdaLR(_opt(), lambda t: 0.5**t)
    s.step()
    sd = s.state_dict()
    assert "lr_lambdas" not in sd and sd["last_epoch"] == 1


def test_reduce_on_plateau_waits_patience_then_reduces():
    opt = _opt((1.0,))
    s = sched.ReduceLROnPlateau(opt, mode="min", factor=0.5, patience=2, cooldown=1)
    lrs = []
    for loss in [1.0, 0.9, 0.95, 0.95, 0.95, 0.95, 0.95, 0.95]:
        s.step(loss)
        lrs.append(s.get_last_lr()[0])
    # best 0.9 at step 2; bad steps 3, 4, 5 -> reduce at 5; cooldown 1, then 2 more bad... at 8
    assert lrs == [1.0, 1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.5]
    s2 = sched.ReduceLROnPlateau(_opt((1.0,)), mode="max", patience=0, min_lr=0.3)
    for acc in [0.5, 0.4, 0.3]:
        s2.step(acc)
    assert s2.get_last_lr() == [0.3]


@pytest.mark.parametrize(
    "make,err,match",
    [
        (lambda o: sched.StepLR(o, step_size=0), ValueError, "step_size must be an int >= 1"),
        (lambda o: sched.StepLR("sgd", step_size=2), TypeError, "optimizer must be"),
        (lambda o: sched.ExponentialLR(o, gamma=-0.5), ValueError, "gamma=-0.5"),
        (lambda o: sched.CosineAnnealingLR(o, T_max=0), ValueError, "T_max"),
        (lambda o: sched.LinearLR(o, start_factor=0), ValueError, "start_factor must be > 0"),
        (lambda o: sched.LinearLR(o, end_factor=1.5), ValueError, "end_factor"),
        (lambda o: sched.LambdaLR(o, [lambda t: 1, lambda t: 1]), ValueError, "expected 1"),
        (lambda o: sched.LambdaLR(o, 3), TypeError, "callable"),
        (lambda o: sched.InverseTimeLR(o, decay=-1), ValueError, "decay"),
        (lambda o: sched.ReduceLROnPlateau(o, mode="up"), ValueError, "mode must be"),
        (lambda o: sched.ReduceLROnPlateau(o, factor=1.0), ValueError, "factor"),
        (
            lambda o: sched.SequentialLR(o, [sched.StepLR(o, 2)], milestones=[3]),
            ValueError,
            "expected 0 milestones",
        ),
        (
            lambda o: sched.SequentialLR(o, [sched.StepLR(_opt(), 2)], milestones=[]),
            ValueError,
            "another optimizer",
        ),
    ],
)
def test_bad_arguments_raise_clear_errors(make, err, match):
    with pytest.raises(err, match=match):
        make(_opt())


# ---- PyTorch parity ---------------------------------------------------------------------------

TORCH_CASES = {
    "StepLR": lambda m, o: m.StepLR(o, step_size=4, gamma=0.3),
    "MultiStepLR": lambda m, o: m.MultiStepLR(o, milestones=[3, 7, 7, 12], gamma=0.5),
    "ExponentialLR": lambda m, o: m.ExponentialLR(o, gamma=0.9),
    "CosineAnnealingLR": lambda m, o: m.CosineAnnealingLR(o, T_max=8, eta_min=0.01),
    "LambdaLR": lambda m, o: m.LambdaLR(o, lambda t: 0.95**t / (1 + t % 3)),
    "LinearLR": lambda m, o: m.LinearLR(o, start_factor=0.1, end_factor=0.8, total_iters=6),
    "SequentialLR": lambda m, o: m.SequentialLR(
        o,
        [m.LinearLR(o, start_factor=0.2, total_iters=4), m.CosineAnnealingLR(o, T_max=10)],
        milestones=[4],
    ),
}


@pytest.mark.parametrize("name", list(TORCH_CASES))
def test_lr_sequence_matches_torch(name):
    torch = pytest.importorskip("torch")
    import warnings

    ours = TORCH_CASES[name](sched, _opt((0.5, 0.02)))
    groups = [{"params": [torch.zeros(2, requires_grad=True)], "lr": lr} for lr in (0.5, 0.02)]
    topt = torch.optim.SGD(groups, lr=0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = TORCH_CASES[name](torch.optim.lr_scheduler, topt)
    got, want = [ours.get_last_lr()], [theirs.get_last_lr()]
    for _ in range(24):
        topt.step()
        ours.step()
        theirs.step()
        got.append(ours.get_last_lr())
        want.append(theirs.get_last_lr())
    np.testing.assert_allclose(np.array(got), np.array(want), rtol=1e-9, atol=1e-12)


def test_reduce_on_plateau_matches_torch():
    torch = pytest.importorskip("torch")
    kwargs = {"mode": "max", "factor": 0.5, "patience": 1, "threshold": 0.01, "cooldown": 2}
    ours = sched.ReduceLROnPlateau(
        Adam([striate.tensor(np.zeros(1), requires_grad=True)]), **kwargs
    )
    topt = torch.optim.Adam([torch.zeros(1, requires_grad=True)])
    theirs = torch.optim.lr_scheduler.ReduceLROnPlateau(topt, **kwargs)
    rng = np.random.default_rng(0)
    metrics = np.cumsum(rng.normal(0.002, 0.01, size=40))
    for m in metrics:
        ours.step(float(m))
        theirs.step(float(m))
        assert ours.get_last_lr() == pytest.approx(theirs.get_last_lr(), rel=1e-12)
    assert ours.get_last_lr()[0] < 1e-3  # it did reduce, so the comparison saw reductions
