"""Dataset, TensorDataset, Subset and random_split."""

import numpy as np
import pytest

import striate
from striate.autograd.tensor import Tensor
from striate.data import Dataset, Subset, TensorDataset, random_split


def _toy(n=10):
    X = np.arange(n * 3, dtype=np.float32).reshape(n, 3)
    y = np.arange(n) % 3
    return X, y


def test_dataset_is_abstract():
    with pytest.raises(TypeError):
        Dataset()

    class Squares(Dataset):
        def __getitem__(self, i):
            return i * i

        def __len__(self):
            return 4

    assert [Squares()[i] for i in range(4)] == [0, 1, 4, 9]


def test_tensor_dataset_items_and_len():
    X, y = _toy()
    ds = TensorDataset(Tensor(X), y)
    assert len(ds) == 10
    x3, y3 = ds[3]
    assert isinstance(x3, Tensor) and isinstance(y3, Tensor)
    np.testing.assert_array_equal(x3.array, X[3])
    assert x3.dtype == np.float32 and y3.shape == () and int(y3.array) == y[3]
    np.testing.assert_array_equal(ds[-1][0].array, X[-1])
    assert ds.arrays[0] is X  # kept without a copy
    assert ds.tensors[1].array is y


def test_tensor_dataset_keeps_float64_scalars():
    ds = TensorDataset(np.linspace(0, 1, 5))  # a float64 0-d item must not become float32
    assert ds[2][0].dtype == np.float64


def test_tensor_dataset_size_mismatch_names_sizes():
    with pytest.raises(ValueError, match=r"same first dimension.*\[10, 9\]"):
        TensorDataset(np.zeros((10, 3)), np.zeros(9))
    with pytest.raises(ValueError, match="at least one"):
        TensorDataset()
    with pytest.raises(ValueError, match="scalar"):
        TensorDataset(np.zeros(()))


def test_tensor_dataset_index_errors():
    ds = TensorDataset(*_toy(5))
    with pytest.raises(IndexError, match="index 5 is out of range for 5"):
        ds[5]
    with pytest.raises(TypeError, match="index must be an int"):
        ds[1.5]
    assert list(ds)[-1][0].array.tolist() == [12.0, 13.0, 14.0]  # iteration stops at IndexError


def test_subset_maps_indices_and_checks_range():
    X, y = _toy()
    sub = Subset(TensorDataset(X, y), [7, 2, 2])
    assert len(sub) == 3
    assert [int(sub[i][1].array) for i in range(3)] == [y[7], y[2], y[2]]
    with pytest.raises(IndexError, match="index 10 is out of range"):
        Subset(TensorDataset(X, y), [1, 10])
    with pytest.raises(TypeError, match="1-D sequence of ints"):
        Subset(TensorDataset(X, y), [0.5])
    assert len(Subset(TensorDataset(X, y), [])) == 0


def test_random_split_ints_cover_everything_once():
    ds = TensorDataset(*_toy(10))
    striate.manual_seed(0)
    parts = random_split(ds, [6, 3, 1])
    assert [len(p) for p in parts] == [6, 3, 1]
    seen = np.concatenate([p.indices for p in parts])
    assert sorted(seen.tolist()) == list(range(10))
    assert not np.array_equal(seen, np.arange(10))  # actually shuffled


def test_random_split_fractions_and_remainder():
    ds = TensorDataset(*_toy(10))
    parts = random_split(ds, [0.5, 0.25, 0.25])
    # floor gives 5, 2, 2: the one left over goes to the first split
    assert [len(p) for p in parts] == [6, 2, 2]
    assert sorted(np.concatenate([p.indices for p in parts]).tolist()) == list(range(10))


def test_random_split_is_seeded_by_striate():
    ds = TensorDataset(*_toy(20))
    striate.manual_seed(3)
    a = random_split(ds, [0.7, 0.3])
    striate.manual_seed(3)
    b = random_split(ds, [0.7, 0.3])
    c = random_split(ds, [0.7, 0.3])
    assert np.array_equal(a[0].indices, b[0].indices)
    assert not np.array_equal(b[0].indices, c[0].indices)
    g1 = random_split(ds, [10, 10], generator=np.random.default_rng(5))
    g2 = random_split(ds, [10, 10], generator=5)
    assert np.array_equal(g1[1].indices, g2[1].indices)


def test_random_split_bad_lengths():
    ds = TensorDataset(*_toy(10))
    with pytest.raises(ValueError, match=r"sum to 9 but the dataset has 10"):
        random_split(ds, [5, 4])
    with pytest.raises(ValueError, match="sum to 1"):
        random_split(ds, [0.5, 0.4])
    with pytest.raises(ValueError, match="non-negative"):
        random_split(ds, [-1, 11])
    with pytest.raises(TypeError, match="generator"):
        random_split(ds, [5, 5], generator="seed")
