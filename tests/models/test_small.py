"""The small models, and the notes' first sanity checks on a two-layer net."""

import math

import numpy as np
import pytest
import striate.functional as F

import striate
from striate import optim
from striate.data import digits
from striate.models import ZOO, create_model, list_models


# the architecture zoo is tested in test_models_zoo.py (running all of it here would take minutes)
@pytest.mark.parametrize("name", [n for n in list_models() if n not in ZOO])
@pytest.mark.parametrize("shape", [(1, 8, 8), (3, 32, 32)])
def test_models_map_images_to_class_scores(name, shape):
    striate.manual_seed(0)
    model = create_model(name, num_classes=7, input_shape=shape)
    out = model(striate.randn(5, *shape))
    assert out.shape == (5, 7)
    out.sum().backward()
    assert all(p.grad is not None for p in model.parameters())


def test_unknown_model_lists_the_known_ones():
    with pytest.raises(ValueError, match="known models: .*convnet"):
        create_model("resnet9000", num_classes=10, input_shape=(1, 8, 8))


def test_two_layer_net_starts_at_log_c():
    # small random weights give near-uniform scores, so the softmax loss starts at log(10)
    striate.manual_seed(0)
    data = digits()
    model = create_model("twolayer", num_classes=10, input_shape=(1, 8, 8))
    for p in model.parameters():
        if p.ndim == 2:
            p.array[...] = 0.001 * np.random.default_rng(0).standard_normal(p.shape)
    loss = F.cross_entropy(model(striate.tensor(data.train.X[:200])),
                           striate.tensor(data.train.y[:200]))
    assert abs(loss.item() - math.log(10)) < 0.02


def test_two_layer_net_overfits_fifty_images():
    # the notes' sanity check: no regularisation, a tiny training set, accuracy 100%
    striate.manual_seed(0)
    data = digits()
    x, y = striate.tensor(data.train.X[:50]), striate.tensor(data.train.y[:50])
    model = create_model("twolayer", num_classes=10, input_shape=(1, 8, 8))
    opt = optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(200):
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    acc = (model(x).argmax(dim=1).array == y.array).mean()
    assert acc == 1.0
    assert loss.item() < 0.05
