"""Adversarial examples: FGSM and PGD against PyTorch and their constraints, adversarial
training's objective, transfer and ensemble attacks."""

import numpy as np
import pytest

import striate
from striate import adversarial as A
from striate import nn, optim
from striate.data import DataLoader, TensorDataset
from striate.train import Trainer


def _linear(rng, c=3, d=12):
    m = nn.Sequential(nn.Flatten(), nn.Linear(d, c))
    m[1].weight.array[...] = rng.standard_normal((c, d)).astype(np.float32)
    m[1].bias.array[...] = rng.standard_normal(c).astype(np.float32)
    return m


def _data(rng, n=40, d=12):
    return rng.random((n, 1, 3, 4)).astype(np.float32), rng.integers(0, 3, n)


def test_fgsm_matches_pytorch(rng, torch):
    m = _linear(rng)
    x, y = _data(rng)
    adv = A.fgsm(m, x, y, eps=0.1).array
    t = torch.nn.Linear(12, 3)
    with torch.no_grad():
        t.weight.copy_(torch.from_numpy(m[1].weight.array))
        t.bias.copy_(torch.from_numpy(m[1].bias.array))
    xt = torch.from_numpy(x).requires_grad_()
    torch.nn.functional.cross_entropy(t(xt.flatten(1)), torch.from_numpy(y)).backward()
    ref = (xt + 0.1 * xt.grad.sign()).clamp(0, 1).detach().numpy()
    np.testing.assert_allclose(adv, ref, atol=1e-6, rtol=0)
    assert m[1].weight.grad is None  # the attack leaves parameters' gradients alone


@pytest.mark.parametrize("norm", ["inf", 2])
def test_pgd_stays_in_the_ball_and_raises_the_loss(rng, norm):
    m = _linear(rng)
    x, y = _data(rng)
    eps = 0.05 if norm == "inf" else 0.3
    adv = A.pgd(m, x, y, eps=eps, steps=8, norm=norm).array
    d = (adv - x).reshape(len(x), -1)
    size = np.abs(d).max(axis=1) if norm == "inf" else np.linalg.norm(d, axis=1)
    assert (size <= eps + 1e-5).all() and adv.min() >= 0 and adv.max() <= 1
    loss = striate.functional.cross_entropy
    clean = float(loss(m(striate.tensor(x)), striate.tensor(y)).item())
    worst = float(loss(m(striate.tensor(adv)), striate.tensor(y)).item())
    one_step = float(loss(m(A.fgsm(m, x, y, eps=eps if norm == "inf" else 0.0)),
                          striate.tensor(y)).item())
    assert worst > clean and (norm != "inf" or worst >= one_step - 1e-4)


def test_targeted_pgd_reaches_the_target(rng):
    m = _linear(rng)
    x, _ = _data(rng)
    target = np.full(len(x), 2)
    adv = A.pgd(m, x, target, eps=1.0, steps=30, alpha=0.1, targeted=True, clamp=None)
    hit = (m(adv).array.argmax(1) == 2).mean()
    before = (m(striate.tensor(x)).array.argmax(1) == 2).mean()
    assert hit > 0.95 and hit > before


def test_normalized_wraps_the_input_normalisation(rng):
    m = _linear(rng)
    x, _ = _data(rng)
    mean, std = np.float32(0.4), np.float32(0.25)
    np.testing.assert_allclose(A.Normalized(m, mean, std)(striate.tensor(x)).array,
                               m(striate.tensor((x - mean) / std)).array, atol=1e-6, rtol=1e-6)


def test_adversarial_training_objective_and_trainer(rng):
    x, y = _data(rng, 64)
    m = _linear(rng)
    obj = A.AdversarialObjective("fgsm", eps=0.1)
    assert obj.mix == 0.5 and A.AdversarialObjective("pgd").mix == 0.0
    loss_fn = striate.functional.cross_entropy
    xt, yt = striate.tensor(x), striate.tensor(y)
    clean = loss_fn(m(xt), yt)
    mixed = obj(m, loss_fn, xt, yt, clean)
    adv = loss_fn(m(A.fgsm(m, x, y, 0.1)), yt)
    np.testing.assert_allclose(mixed.item(), 0.5 * clean.item() + 0.5 * adv.item(), rtol=1e-5,
                               atol=1e-6)
    loader = DataLoader(TensorDataset(x, y), batch_size=32)
    tr = Trainer(m, optim.SGD(m.parameters(), lr=0.1), progress=False, checks=False, log=False,
                 monitor="train_loss", adversarial=A.AdversarialObjective("pgd", eps=0.05,
                                                                          steps=2))
    hist = tr.fit(loader, None, epochs=2)
    assert hist[1]["train_loss"] < hist[0]["train_loss"]
    with pytest.raises(ValueError, match="AdversarialObjective: method must be 'fgsm' or 'pgd'"):
        A.AdversarialObjective("cw")


def test_transfer_rate_ensemble_and_curve(rng):
    x, y = _data(rng, 60)
    a, b = _linear(rng), _linear(rng)
    b[1].weight.array[...] = a[1].weight.array + 0.5 * b[1].weight.array  # related, not equal
    b[1].bias.array[...] = a[1].bias.array
    same = A.transfer_rate(a, a, x, y, eps=0.3)
    assert same["transfer_rate"] == 1.0 and same["n"] > 0  # a model fools itself
    other = A.transfer_rate(a, b, x, y, eps=0.3)
    assert other["n"] > 0 and 0.0 <= other["transfer_rate"] <= 1.0
    ens = A.EnsembleModel([a, b])
    lp = striate.functional.log_softmax
    xt = striate.tensor(x)
    np.testing.assert_allclose(ens(xt).array, ((lp(a(xt), dim=1) + lp(b(xt), dim=1)) / 2).array,
                               atol=1e-6, rtol=1e-6)
    curve = A.robustness_curve(a, x, y, [0.0, 0.1, 0.5])
    accs = [acc for _, acc in curve]
    assert accs[0] == (a(xt).array.argmax(1) == y).mean() and accs[2] <= accs[0]


def test_bad_arguments_are_named(rng):
    m = _linear(rng)
    x, y = _data(rng, 4)
    with pytest.raises(ValueError, match="fgsm: eps must be a number >= 0, got -1"):
        A.fgsm(m, x, y, eps=-1)
    with pytest.raises(ValueError, match="pgd: norm must be 'inf' or 2, got 1"):
        A.pgd(m, x, y, eps=0.1, norm=1)
    with pytest.raises(ValueError, match="attack: method must be one of"):
        A.attack(m, x, y, method="deepfool")
