"""Low-rank factorisation: exact at full rank, the truncated SVD's error below it."""

import numpy as np
import pytest

import striate
from striate import nn
from striate.compress.lowrank import factorize_conv, factorize_linear, low_rank


def test_linear_full_rank_is_exact_and_truncation_is_the_svd(rng):
    lin = nn.Linear(12, 9).double()
    x = striate.tensor(rng.standard_normal((4, 12)))
    np.testing.assert_allclose(factorize_linear(lin, 9)(x).array, lin(x).array, atol=1e-10,
                               rtol=1e-10)
    two = factorize_linear(lin, 3)
    w2 = two[1].weight.array @ two[0].weight.array
    u, s, vt = np.linalg.svd(lin.weight.array)
    np.testing.assert_allclose(w2, (u[:, :3] * s[:3]) @ vt[:3], atol=1e-10, rtol=1e-10)
    # Eckart-Young: the spectral error is the first dropped singular value
    assert np.linalg.norm(lin.weight.array - w2, 2) == pytest.approx(s[3], rel=1e-8)


@pytest.mark.parametrize("stride,padding", [(1, 1), (2, 0), (2, 1)])
def test_conv_into_vertical_and_horizontal_is_exact_at_full_rank(rng, stride, padding):
    conv = nn.Conv2d(3, 5, 3, stride=stride, padding=padding).double()
    x = striate.tensor(rng.standard_normal((2, 3, 9, 8)))
    sep = factorize_conv(conv, 9)  # min(C k, F k) = 9
    assert sep[0].weight.shape == (9, 3, 3, 1) and sep[1].weight.shape == (5, 9, 1, 3)
    np.testing.assert_allclose(sep(x).array, conv(x).array, atol=1e-9, rtol=1e-9)
    low = factorize_conv(conv, 2)(x).array
    assert 0 < np.abs(low - conv(x).array).max()  # a lower rank approximates


def test_low_rank_replaces_layers_and_keeps_the_head(rng):
    net = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.Flatten(),
                        nn.Linear(4 * 5 * 5, 20), nn.ReLU(), nn.Linear(20, 3))
    x = striate.tensor(rng.standard_normal((2, 1, 5, 5)).astype(np.float32))
    before = net.num_parameters()
    net(x)
    low_rank(net, rank=0.25)
    assert isinstance(net[0], nn.Sequential) and isinstance(net[3], nn.Sequential)
    assert isinstance(net[5], nn.Linear) and net.num_parameters() < before
    assert net(x).shape == (2, 3)
    with pytest.raises(ValueError, match="factorize_linear: rank must be an int >= 1"):
        factorize_linear(nn.Linear(3, 3), 0)


def test_low_rank_keeps_the_head_of_a_model_with_nested_convs():
    from striate.models import create_model

    net = low_rank(create_model("convnet", 10, (1, 8, 8), channels=(4, 6)), rank=0.5)
    assert isinstance(net.head, nn.Linear)  # beside `features` in the model, last in forward
    assert isinstance(net.features[0], nn.Sequential) and isinstance(net.features[4],
                                                                      nn.Sequential)
