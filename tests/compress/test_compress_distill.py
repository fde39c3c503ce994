"""Knowledge distillation's loss against PyTorch, its gradient, and a student that learns."""

import numpy as np
import pytest
from opcheck import check_op

import striate
from striate import compress, nn
from striate.compress.distill import distillation_loss
from striate.data import DataLoader, TensorDataset


def test_distillation_loss_matches_torch_and_its_gradient(rng):
    s = rng.standard_normal((6, 5))
    t = rng.standard_normal((6, 5)) * 3
    y = rng.integers(0, 5, 6)

    def torch_fn(s_, t_, y_):
        import torch.nn.functional as tF

        soft = tF.kl_div(tF.log_softmax(s_ / 3.0, dim=1), tF.softmax(t_ / 3.0, dim=1),
                         reduction="batchmean")
        return soft * (0.7 * 9.0) + tF.cross_entropy(s_, y_) * 0.3

    check_op(lambda s_, t_, y_: distillation_loss(s_, t_.detach(), y_, 3.0, 0.7), [s, t, y],
             torch_fn=torch_fn, grad_inputs=[0])


def test_bad_temperature_and_alpha_are_named():
    z = striate.zeros(2, 3)
    with pytest.raises(ValueError, match="distillation_loss: temperature must be > 0, got 0"):
        distillation_loss(z, z, striate.tensor([0, 1]), temperature=0)
    with pytest.raises(ValueError, match="distillation_loss: alpha must be in \\[0, 1\\]"):
        distillation_loss(z, z, striate.tensor([0, 1]), alpha=2)


def test_student_learns_the_teachers_function(rng):
    x = rng.standard_normal((128, 8)).astype(np.float32)
    teacher = nn.Sequential(nn.Linear(8, 32), nn.Tanh(), nn.Linear(32, 3))
    with striate.no_grad():
        y = teacher(striate.tensor(x)).array.argmax(1)
    loader = DataLoader(TensorDataset(x, y), batch_size=32, shuffle=True)
    student = nn.Sequential(nn.Linear(8, 8), nn.Tanh(), nn.Linear(8, 3))
    hist = compress.distill(student, teacher, loader, epochs=15, lr=1e-2)
    assert hist[-1] < 0.75 * hist[0]
    with striate.no_grad():
        agree = (student(striate.tensor(x)).array.argmax(1) == y).mean()
    assert agree > 0.85


def test_unlabelled_examples_learn_from_the_teacher_alone(rng):
    s = rng.standard_normal((6, 5))
    t = rng.standard_normal((6, 5)) * 3
    y = np.array([2, -100, 0, -100, -100, 4])

    def torch_fn(s_, t_, y_):
        import torch.nn.functional as tF

        soft = tF.kl_div(tF.log_softmax(s_ / 2.0, dim=1), tF.softmax(t_ / 2.0, dim=1),
                         reduction="batchmean")
        return soft * (0.6 * 4.0) + tF.cross_entropy(s_, y_, ignore_index=-100) * 0.4

    check_op(lambda s_, t_, y_: distillation_loss(s_, t_.detach(), y_, 2.0, 0.6), [s, t, y],
             torch_fn=torch_fn, grad_inputs=[0])
    # a batch without a single label is the soft term alone (not cross_entropy's 0/0 = nan)
    none = distillation_loss(striate.tensor(s), t, striate.tensor(np.full(6, -100)), 2.0, 0.6)
    soft_only = distillation_loss(striate.tensor(s), t, striate.tensor(np.zeros(6, np.int64)),
                                  2.0, 1.0)
    np.testing.assert_allclose(none.item(), 0.6 * soft_only.item(), rtol=1e-12, atol=1e-12)


def test_transfer_set_keeps_a_stratified_fraction_of_labels(rng):
    y = np.repeat(np.arange(4), [40, 20, 10, 1])
    out = compress.transfer_set(y, 0.2, seed=5)
    kept = out != -100
    assert [int(kept[y == k].sum()) for k in range(4)] == [8, 4, 2, 1]  # one label at least
    np.testing.assert_array_equal(out[kept], y[kept])
    np.testing.assert_array_equal(compress.transfer_set(y, 0.2, seed=5), out)
    assert (compress.transfer_set(y, 0.2, seed=6) != out).any()
    assert (compress.transfer_set(y, 1.0) == y).all()
    with pytest.raises(ValueError, match=r"transfer_set: labelled must be a fraction in \(0, 1\]"
                                         r", got 0"):
        compress.transfer_set(y, 0)
    with pytest.raises(ValueError, match="transfer_set: targets must be a 1-d array"):
        compress.transfer_set(y.astype(np.float32), 0.5)
