"""Deep Compression's schedule and retraining: geometric pruning steps, phases that end on their
best validation epoch along a cosine rate, and a test split that never steers anything."""

import math

import numpy as np
import pytest

import striate
from striate import compress, nn
from striate.data import DataLoader, TensorDataset


def _mlp(hidden=32):
    return nn.Sequential(nn.Flatten(), nn.Linear(16, hidden), nn.ReLU(), nn.Linear(hidden, 3))


def _blobs(seed, n=96, shuffle=True, noise=1.0):
    """Three clusters of 16-d points (overlapping with a larger ``noise``)."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    centres = np.random.default_rng(0).standard_normal((3, 16)) * 2
    x = (centres[y] + noise * rng.standard_normal((n, 16))).astype(np.float32)
    return DataLoader(TensorDataset(x, y.astype(np.int64)), batch_size=32, shuffle=shuffle)


def test_geometric_schedule_removes_the_same_fraction_of_survivors_each_step():
    steps = compress.prune_schedule([0.9, 0.7], 4)
    density = 1 - np.array(steps)  # (steps, layers)
    np.testing.assert_allclose(density[-1], [0.1, 0.3], atol=1e-12, rtol=0)
    kept = density / np.vstack([np.ones(2), density[:-1]])  # surviving fraction of each step
    np.testing.assert_allclose(kept, np.broadcast_to(kept[0], kept.shape), atol=1e-12, rtol=0)
    np.testing.assert_allclose(kept[0], [0.1 ** 0.25, 0.3 ** 0.25], atol=1e-12, rtol=0)
    # the linear schedule's last step is the harshest: from 67.5% to 90% it keeps 31% of what
    # was left, where every geometric step keeps 56%
    lin = compress.prune_schedule(0.9, 4, "linear")
    assert lin == pytest.approx([0.225, 0.45, 0.675, 0.9], abs=1e-12)
    assert (1 - lin[-1]) / (1 - lin[-2]) < kept[0, 0] - 0.2


@pytest.mark.parametrize("args, match", [
    ((0.9, 0), "prune_schedule: steps must be an int >= 1, got 0"),
    ((1.0, 3), "prune_schedule: sparsity must be a fraction in \\[0, 1\\)"),
    ((0.9, 3, "cubic"), "prune_schedule: schedule must be 'geometric' or 'linear', got 'cubic'"),
])
def test_prune_schedule_names_bad_arguments(args, match):
    with pytest.raises(ValueError, match=match):
        compress.prune_schedule(*args)


def test_finetune_with_validation_ends_on_its_best_epoch():
    train, val = _blobs(1, noise=2.5), _blobs(2, noise=2.5, shuffle=False)
    striate.manual_seed(0)
    m = _mlp()
    hist = compress.finetune(m, train, 6, lr=0.05, val_loader=val)
    keys = [(h["val_acc"], -h["val_loss"]) for h in hist]
    best = max(range(6), key=lambda i: (keys[i], i)) + 1  # the later epoch among exact ties
    assert best < 6, "the test needs a last epoch that is not the best; change the data"
    # the same seed trained for exactly ``best`` epochs, without validation, is the same net
    striate.manual_seed(0)
    ref = _mlp()
    compress.finetune(ref, train, best, lr=0.05)
    for (k, a), b in zip(m.state_dict().items(), ref.state_dict().values()):
        np.testing.assert_array_equal(a.array, b.array, err_msg=k)


def test_finetune_min_lr_follows_a_cosine():
    hist = compress.finetune(_mlp(), _blobs(1), 4, lr=1e-2, min_lr=1e-3)
    expected = [1e-3 + 9e-3 * (1 + math.cos(math.pi * t / 4)) / 2 for t in range(4)]
    assert [h["lr"] for h in hist] == pytest.approx(expected, rel=1e-9, abs=0)


def _compressed(test_loader, val_loader):
    striate.manual_seed(3)
    m = _mlp(64)
    train = _blobs(1)
    compress.finetune(m, train, epochs=2, lr=1e-2)
    return compress.deep_compression(m, train, test_loader, sparsity=[0.7, 0.5], steps=2, bits=3,
                                     retrain_epochs=2, centroid_epochs=2, anneal_epochs=1,
                                     lr=1e-2, weight_decay=1e-4, val_loader=val_loader)


def test_deep_compression_selects_on_validation_never_on_test():
    val = _blobs(2, shuffle=False)
    m1, report, _ = _compressed(_blobs(3, shuffle=False), val)
    assert [sorted(r) for r in report] == [
        ["accuracy", "bytes", "ratio", "sparsity", "stage", "val_accuracy"]] * 4
    assert report[-1]["val_accuracy"] == compress.evaluate(m1, val)
    # the same run measured on a test split whose labels are noise gives the same net
    noise = _blobs(3, shuffle=False)
    y = noise.dataset.arrays[1]
    y[...] = np.random.default_rng(9).permutation(y)
    m2, report2, _ = _compressed(noise, val)
    for (k, a), b in zip(m1.state_dict().items(), m2.state_dict().values()):
        np.testing.assert_array_equal(a.array, b.array, err_msg=k)
    assert [r["val_accuracy"] for r in report2] == [r["val_accuracy"] for r in report]
    assert report2[0]["accuracy"] != report[0]["accuracy"]
