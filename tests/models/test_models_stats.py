"""Parameter and multiply-add counting, and building models without initialising them."""

import numpy as np
import pytest

import striate
from striate import nn
from striate.models.stats import (
    count_macs,
    count_parameters,
    format_count,
    model_stats,
    output_shape,
    skip_init,
)


def _net():
    return nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(8, 4, 3, stride=2, groups=4, bias=False), nn.Flatten(),
                         nn.Linear(4 * 1 * 1, 5))


def test_macs_of_conv_and_linear_layers():
    # conv1: 8 maps of 6x6, each 3*3*3 MACs; pool to 3x3; grouped conv2: 4 maps of 1x1, each
    # (8/4)*3*3; linear 4 -> 5
    model = _net()
    assert count_macs(model, (3, 6, 6)) == 8 * 36 * 27 + 4 * 1 * 2 * 9 + 4 * 5
    assert output_shape(model, (3, 6, 6)) == (1, 5)


def test_counting_leaves_the_model_as_it_was():
    model = _net()
    before = [p.array.copy() for p in model.parameters()]
    count_macs(model, (3, 6, 6))
    assert model.training
    assert all("forward" not in m.__dict__ for m in model.modules())
    for b, p in zip(before, model.parameters()):
        np.testing.assert_array_equal(b, p.array)
    assert model(striate.randn(2, 3, 6, 6)).shape == (2, 5)  # the real forward is back


def test_count_parameters_counts_shared_ones_once_and_trainable_ones():
    fc = nn.Linear(3, 4)
    model = nn.Sequential(fc, nn.ReLU(), fc)  # the same layer twice
    assert count_parameters(model) == 16
    fc.bias.requires_grad_(False)
    assert count_parameters(model, trainable_only=True) == 12


def test_skip_init_leaves_zeros_and_restores_init():
    with skip_init():
        layer = nn.Linear(50, 40)
        striate.nn.init.normal_(layer.weight)
    assert not layer.weight.array.any()
    assert nn.Linear(50, 40).weight.array.std() > 0  # initialisers work again after the block


def test_model_stats_of_resnet18():
    s = model_stats("resnet18", 1000, (3, 224, 224))
    # torchvision: 11,689,512 parameters and 1.81 GFLOPS (its "GFLOPS" are multiply-adds)
    assert s["params"] == 11_689_512
    assert round(s["macs"] / 1e9, 2) == 1.81


def test_too_small_an_input_is_reported():
    model = nn.Sequential(nn.Conv2d(1, 2, 5))
    with pytest.raises(ValueError, match="too small for its kernel"):
        count_macs(model, (1, 3, 3))


def test_format_count():
    assert format_count(11_689_512) == "11.69M"
    assert format_count(1_814_073_344) == "1.81G"
    assert format_count(61_706) == "61.71K"
    assert format_count(12) == "12"
