"""Structured pruning that removes channels: which layers can lose channels (traced), the masks
that make whole channels exact zeros, and the smaller model that computes the same function."""

import numpy as np
import pytest

import striate
from striate import compress, nn
from striate.models import create_model
from striate.nn.utils import prune


def _settle(model, rng, shape, steps=2):
    """A few train-mode forwards so the batch norms hold non-trivial running statistics, and
    random scales and shifts: the removed model must match on all of them."""
    model.train()
    for m in model.modules():
        if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            m.weight.array = rng.uniform(0.5, 1.5, m.weight.shape).astype(m.weight.array.dtype)
            m.bias.array = rng.normal(0, 0.3, m.bias.shape).astype(m.bias.array.dtype)
    with striate.no_grad():
        for _ in range(steps):
            model(striate.tensor(rng.standard_normal(shape)))
    return model.eval()


def _prune_and_remove(model, x, amount):
    """(output with the channels zeroed, output after removing them, rows of the removal)."""
    compress.channel_prune(model, amount, x[:2])
    compress.finalize(model)
    with striate.no_grad():
        zeroed = model(x).array
    rows = compress.remove_channels(model, x[:2])
    with striate.no_grad():
        removed = model(x).array
    return zeroed, removed, rows


def _parameters(model):
    return sum(p.numel() for p in model.parameters())


def test_channel_prune_zeros_whole_filters_with_their_bias():
    m = nn.Sequential(nn.Conv2d(1, 8, 3), nn.ReLU(), nn.Flatten(), nn.Linear(8 * 4 * 4, 5))
    x = striate.randn(2, 1, 6, 6)
    compress.channel_prune(m, 0.25, x)
    w = m[0].weight.array
    dead = (w.reshape(8, -1) == 0).all(axis=1)
    assert dead.sum() == 2 and (w.reshape(8, -1)[~dead] != 0).all()
    assert (m[0].bias.array[dead] == 0).all() and (m[0].bias.array[~dead] != 0).all()
    assert not prune.is_pruned(m[3])  # the class-score layer stays whole
    norms = np.linalg.norm(m[0].weight_orig.array.reshape(8, -1), axis=1)
    assert norms[dead].max() <= norms[~dead].min()


def test_convnet_loses_filters_and_computes_the_same_function(rng):
    model = create_model("convnet", 10, (1, 8, 8), channels=(8, 12, 16)).double()
    _settle(model, rng, (16, 1, 8, 8))
    x = striate.tensor(rng.standard_normal((6, 1, 8, 8)))
    before = _parameters(model)
    zeroed, removed, rows = _prune_and_remove(model, x, 0.5)
    np.testing.assert_allclose(removed, zeroed, atol=1e-12, rtol=1e-12)
    assert [(r["layer"], r["channels_after"]) for r in rows] == [
        ("features.0", 4), ("features.4", 6), ("features.8", 8)]
    f = model.features
    assert (f[0].out_channels, f[1].num_features, f[4].in_channels) == (4, 4, 4)
    assert f[8].weight.shape == (8, 6, 3, 3) and f[9].running_mean.shape == (8,)
    assert model.head.in_features == 8  # 8 channels of 1 x 1 after the flatten
    assert _parameters(model) < 0.35 * before


def test_mlp_with_batch_norm_loses_hidden_units(rng):
    model = create_model("mlp", 3, (1, 4, 4), hidden=(10, 6)).double()
    _settle(model, rng, (16, 1, 4, 4))
    x = striate.tensor(rng.standard_normal((5, 1, 4, 4)))
    zeroed, removed, rows = _prune_and_remove(model, x, 0.5)
    np.testing.assert_allclose(removed, zeroed, atol=1e-12, rtol=1e-12)
    assert [r["channels_after"] for r in rows] == [5, 3]
    assert model[1].weight.shape == (5, 16) and model[4].weight.shape == (3, 5)
    assert model[7].weight.shape == (3, 3)  # the head: fewer inputs, all its outputs


def test_flatten_into_a_linear_removes_each_channels_columns(rng):
    model = nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Linear(4 * 3 * 3, 3)).double().eval()
    x = striate.tensor(rng.standard_normal((3, 2, 6, 6)))
    zeroed, removed, _ = _prune_and_remove(model, x, 0.5)
    np.testing.assert_allclose(removed, zeroed, atol=1e-12, rtol=1e-12)
    assert model[4].weight.shape == (3, 2 * 3 * 3)


def test_resnet_prunes_inside_blocks_and_keeps_what_meets_an_add(rng):
    model = create_model("resnet20", 10, (1, 8, 8)).double()
    x = striate.tensor(rng.standard_normal((2, 1, 8, 8)))
    groups, skipped = compress.channel_groups(model, x)
    producers = [g.producer for g in groups]
    assert len(producers) == 9 and all(p.endswith(".conv1") for p in producers)
    assert "add" in skipped["layers.0.conv2"]  # the block's sum
    assert "read by 2 ops" in skipped["conv1"]  # the stem feeds a block and its shortcut
    assert "output" in skipped["fc"]
    _settle(model, rng, (4, 1, 8, 8), steps=1)
    zeroed, removed, _ = _prune_and_remove(model, x, 0.5)
    np.testing.assert_allclose(removed, zeroed, atol=1e-10, rtol=1e-10)
    assert model.layers[0].conv1.out_channels == 8 and model.layers[0].conv2.in_channels == 8


def test_channel_prune_refuses_a_model_without_prunable_layers():
    with pytest.raises(ValueError, match="channel_prune: the model has no layer"):
        compress.channel_prune(nn.Sequential(nn.Flatten(), nn.Linear(4, 2)), 0.5,
                               striate.randn(1, 4))
