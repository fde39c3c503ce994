"""The bundled digits dataset, stratified splits and the dataset registry."""

import sys

import numpy as np
import pytest

import striate
from striate.data import (
    DATASETS,
    DataLoader,
    Split,
    digits,
    load_dataset,
    register_dataset,
    stratified_split,
)


@pytest.fixture(scope="module")
def d():
    return digits()


def test_digits_shapes_dtypes_and_meta(d):
    assert d.input_shape == (1, 8, 8) and d.num_classes == 10
    assert d.classes == [str(k) for k in range(10)]
    for s in (d.train, d.val, d.test):
        assert s.X.dtype == np.float32 and s.X.shape[1:] == (1, 8, 8)
        assert s.y.dtype == np.int64 and s.y.shape == (len(s.X),)
        assert s.X.min() >= 0.0 and s.X.max() <= 1.0
    assert d.train.X.max() == 1.0  # 16 / 16 occurs
    # values are the original 17 levels k/16
    np.testing.assert_array_equal(d.train.X * 16, np.round(d.train.X * 16))


def test_digits_split_sizes_add_up_and_are_disjoint(d):
    sizes = (len(d.train), len(d.val), len(d.test))
    assert sum(sizes) == 1797
    assert sizes == (1258, 180, 359)  # val round(179.7), test round(359.4)
    # together the splits hold every original image exactly once (as a multiset of rows)
    from sklearn.datasets import load_digits

    raw = load_digits()
    ours = np.concatenate([d.train.X, d.val.X, d.test.X]).reshape(1797, 64) * 16
    labels = np.concatenate([d.train.y, d.val.y, d.test.y])
    key = np.column_stack([ours, labels])
    ref = np.column_stack([raw.data, raw.target])
    np.testing.assert_array_equal(np.unique(key, axis=0), np.unique(ref, axis=0))
    assert len(np.unique(key, axis=0)) == len(np.unique(ref, axis=0))


def test_digits_is_stratified(d):
    total = np.bincount(np.concatenate([d.train.y, d.val.y, d.test.y]), minlength=10)
    for s, frac in ((d.val, 0.1), (d.test, 0.2)):
        counts = np.bincount(s.y, minlength=10)
        assert np.all(np.abs(counts - total * frac) <= 1.0)  # each class its share, within one
    assert np.all(np.bincount(d.train.y, minlength=10) > 0)


def test_digits_split_ignores_global_rng_and_follows_split_seed(d):
    striate.manual_seed(123)
    again = digits()
    np.testing.assert_array_equal(again.test.X, d.test.X)
    np.testing.assert_array_equal(again.train.y, d.train.y)
    other = digits(split_seed=1)
    assert not np.array_equal(other.test.X, d.test.X)
    assert len(other.test) == len(d.test)


def test_digits_custom_fractions():
    small = digits(val_fraction=0.0, test_fraction=0.5)
    assert len(small.val) == 0 and len(small.test) == 899 and len(small.train) == 898
    with pytest.raises(ValueError, match="test_fraction must be a number in"):
        digits(test_fraction=1.2)
    with pytest.raises(ValueError, match="must be below 1"):
        digits(val_fraction=0.5, test_fraction=0.5)


def test_split_object(d):
    X, y = d.val
    assert X is d.val.X and y is d.val.y
    ds = d.val.dataset()
    assert len(ds) == 180 and ds.arrays[0] is d.val.X
    x, yb = next(iter(DataLoader(ds, batch_size=32)))
    assert x.shape == (32, 1, 8, 8) and yb.dtype == np.int64
    with pytest.raises(ValueError, match="X has 3 samples but y has 2"):
        Split(np.zeros((3, 2)), np.zeros(2))


def test_stratified_split_covers_every_index_once():
    y = np.repeat(np.arange(3), [50, 30, 7])
    tr, va, te = stratified_split(y, 0.2, 0.3, seed=4)
    allidx = np.concatenate([tr, va, te])
    assert sorted(allidx.tolist()) == list(range(len(y)))
    assert len(va) == round(87 * 0.2) and len(te) == round(87 * 0.3)
    assert np.all(np.diff(tr) > 0)  # sorted
    with pytest.raises(ValueError, match="1-D labels"):
        stratified_split(np.zeros((3, 2)), 0.1, 0.1)


def test_digits_missing_sklearn_message(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn", None)
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(ImportError, match="pip install scikit-learn"):
        digits()


def test_load_dataset_registry(monkeypatch):
    assert load_dataset("digits").num_classes == 10
    assert load_dataset(" Digits ").input_shape == (1, 8, 8)
    with pytest.raises(ValueError, match=r"unknown dataset 'cifar11'.*known datasets: .*digits"):
        load_dataset("cifar11:/data")
    with pytest.raises(ValueError, match="takes no path"):
        load_dataset("digits:/tmp/x")

    monkeypatch.setattr("striate.data.datasets.DATASETS", dict(DATASETS))
    seen = []

    def fake(path):
        seen.append(path)
        return "loaded"

    register_dataset("fake", fake)
    assert load_dataset("fake:C:/data/x") == "loaded" and seen == ["C:/data/x"]
    assert load_dataset("fake") == "loaded" and seen[-1] is None
    with pytest.raises(ValueError, match="already registered"):
        register_dataset("fake", fake)
    with pytest.raises(ValueError, match="without ':'"):
        register_dataset("a:b", fake)


def test_digits_read_from_the_csv_match_load_digits_and_the_fallback(monkeypatch):
    from sklearn.datasets import load_digits

    from striate.data import datasets

    raw = load_digits()
    pixels, target = datasets._digits_arrays()  # straight from sklearn's digits.csv.gz
    np.testing.assert_array_equal(pixels, raw.data)
    np.testing.assert_array_equal(target, raw.target)
    # where the file is not found, the public API gives the same arrays
    monkeypatch.setattr(datasets.Path, "is_file", lambda self: False)
    pixels, target = datasets._digits_arrays()
    np.testing.assert_array_equal(pixels, raw.data)
    np.testing.assert_array_equal(target, raw.target)
