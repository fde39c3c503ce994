"""nn.Unflatten: the inverse of Flatten, as PyTorch's."""

import numpy as np
import pytest

import striate
from striate import nn


def test_unflatten_matches_pytorch_and_inverts_flatten(rng, torch):
    x = rng.standard_normal((3, 24)).astype(np.float32)
    for size in ((2, 3, 4), (-1, 4), (24,)):
        got = nn.Unflatten(1, size)(striate.tensor(x))
        want = torch.nn.Unflatten(1, size)(torch.tensor(x))
        assert got.shape == tuple(want.shape)
        np.testing.assert_array_equal(got.array, want.numpy())
        np.testing.assert_array_equal(nn.Flatten()(got).array, x)


def test_unflatten_gradient_flows_back_unchanged(rng):
    x = striate.tensor(rng.standard_normal((2, 6)), requires_grad=True)
    g = rng.standard_normal((2, 2, 3))
    nn.Unflatten(-1, (2, 3))(x).backward(striate.tensor(g))
    np.testing.assert_array_equal(x.grad.array, g.reshape(2, 6))


def test_unflatten_errors_name_the_sizes():
    with pytest.raises(ValueError, match=r"Unflatten: dim 1 of size 24 cannot be split into "
                                         r"\(5, 5\)"):
        nn.Unflatten(1, (5, 5))(striate.zeros(3, 24))
    with pytest.raises(IndexError, match="Unflatten: dim 2 is out of range"):
        nn.Unflatten(2, (2, 12))(striate.zeros(3, 24))
