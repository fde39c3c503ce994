"""A frozen backbone computes the same features after training: its BatchNorm layers keep their
running statistics (they stay in eval mode while the head trains)."""

import numpy as np

import striate
from striate import nn, optim
from striate.data import DataLoader, TensorDataset
from striate.models import create_model
from striate.train import Trainer, freeze, unfreeze
from striate.train.transfer import keep_frozen_norms_in_eval


def _features(model, x):
    model.eval()
    with striate.no_grad():
        return model.features(x).numpy().copy()


def test_frozen_backbone_features_are_unchanged_by_training():
    striate.manual_seed(0)
    model = create_model("convnet", num_classes=3, input_shape=(1, 8, 8))
    rng = np.random.default_rng(0)
    # data far from the running statistics' start (mean 0, var 1), so they would move
    x = striate.tensor((5 + 3 * rng.standard_normal((32, 1, 8, 8))).astype(np.float32))
    y = striate.tensor(rng.integers(0, 3, 32))
    freeze(model, exclude="head")
    before = _features(model, x)
    head_before = model.head.weight.detach().numpy().copy()
    Trainer(model, optim.SGD(model.parameters(), lr=0.1), progress=False, checks=False).fit(
        DataLoader(TensorDataset(x, y), batch_size=8, shuffle=True), epochs=2)
    np.testing.assert_array_equal(_features(model, x), before)
    assert not np.array_equal(model.head.weight.detach().numpy(), head_before)  # the head did train
    bns = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    model.train()
    assert keep_frozen_norms_in_eval(model) == len(bns) == 3
    assert not any(m.training for m in bns) and model.head.training
    unfreeze(model)
    model.train()
    assert keep_frozen_norms_in_eval(model) == 0 and all(m.training for m in bns)
