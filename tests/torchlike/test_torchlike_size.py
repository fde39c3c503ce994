"""``striate.Size`` behaves as ``torch.Size`` where programs use it."""

import pytest

import striate
from striate import distributions as D


def test_size_is_a_tuple_of_ints_like_torchs(torch):
    for dims in ([], [3], [2, 3, 4]):
        ours, theirs = striate.Size(dims), torch.Size(dims)
        assert ours == theirs == tuple(dims)
        assert ours.numel() == theirs.numel()
        assert isinstance(ours, tuple)
    assert striate.zeros(2, 3).shape == striate.Size([2, 3])
    assert D.Normal(striate.zeros(3), 1.0).sample(striate.Size([5])).shape == (5, 3)
    with pytest.raises(TypeError, match="Size: expected a sequence of ints, got an element float"):
        striate.Size([2.5])
    with pytest.raises(TypeError):
        torch.Size([2.5])
