"""DataLoader: batching, shuffling under the seeded generator, the prefetch thread."""

import threading
import time
from collections import namedtuple

import numpy as np
import pytest

import striate
from striate import backend
from striate.autograd.tensor import Tensor
from striate.data import DataLoader, Dataset, Subset, TensorDataset, default_collate
from striate.data.loader import WORKER_THREAD_NAME


def _ds(n=23, label_dtype=np.int64):
    X = np.arange(n * 2, dtype=np.float32).reshape(n, 2)
    y = (np.arange(n) % 5).astype(label_dtype)
    return TensorDataset(X, y)


def _workers():
    return [t for t in threading.enumerate() if t.name == WORKER_THREAD_NAME and t.is_alive()]


def _ids(loader):
    """Sample ids per batch (column 0 of X is 2 * id)."""
    return [(x.array[:, 0] // 2).astype(int).tolist() for x, _ in loader]


def _flat(batches):
    return [i for b in batches for i in b]


class ListDataset(Dataset):
    """A generic dataset (no arrays): the loader must go sample by sample."""

    def __init__(self, n):
        self.n = n

    def __getitem__(self, i):
        if not 0 <= i < self.n:
            raise IndexError(i)
        return np.array([2 * i, 2 * i + 1], np.float32), i % 5

    def __len__(self):
        return self.n


@pytest.mark.parametrize("prefetch", [0, 2])
def test_batches_shapes_dtypes_len(prefetch):
    loader = DataLoader(_ds(23, np.int32), batch_size=5, prefetch=prefetch)
    batches = list(loader)
    assert len(loader) == len(batches) == 5
    assert [tuple(x.shape) for x, _ in batches] == [(5, 2)] * 4 + [(3, 2)]
    x, y = batches[0]
    assert isinstance(x, Tensor) and x.dtype == np.float32
    assert y.dtype == np.int64  # int32 labels are widened for the losses
    assert _ids(loader) == [list(range(k, min(k + 5, 23))) for k in range(0, 23, 5)]


def test_float64_dataset_stays_float64():
    ds = TensorDataset(np.zeros((4, 3)), np.zeros(4, np.int64))
    x, _ = next(iter(DataLoader(ds, batch_size=4)))
    assert x.dtype == np.float64


def test_drop_last_and_len():
    loader = DataLoader(_ds(23), batch_size=5, drop_last=True)
    assert len(loader) == 4
    assert [len(b) for b in _ids(loader)] == [5, 5, 5, 5]
    assert len(DataLoader(_ds(20), batch_size=5, drop_last=True)) == 4
    assert len(DataLoader(_ds(20), batch_size=5)) == 4
    assert len(DataLoader(_ds(3), batch_size=5, drop_last=True)) == 0
    assert list(DataLoader(_ds(3), batch_size=5, drop_last=True)) == []


@pytest.mark.parametrize("prefetch", [0, 3])
def test_shuffle_sees_every_sample_once_per_epoch(prefetch):
    striate.manual_seed(0)
    loader = DataLoader(_ds(23), batch_size=4, shuffle=True, prefetch=prefetch)
    epoch1 = _flat(_ids(loader))
    epoch2 = _flat(_ids(loader))
    assert sorted(epoch1) == sorted(epoch2) == list(range(23))
    assert epoch1 != list(range(23)) and epoch1 != epoch2  # a new order each epoch


def test_shuffle_is_repeatable_and_resumable():
    loader = DataLoader(_ds(30), batch_size=7, shuffle=True)
    striate.manual_seed(42)
    run1 = [_ids(loader) for _ in range(3)]
    striate.manual_seed(42)
    run2 = [_ids(loader) for _ in range(3)]
    assert run1 == run2
    # resume: restore the generator state saved after epoch 1, replay epochs 2 and 3
    striate.manual_seed(42)
    _ids(loader)
    state = backend.get_rng_state()
    backend.manual_seed(7)
    _ids(loader)  # something else consumes the generator meanwhile
    backend.set_rng_state(state)
    assert [_ids(loader) for _ in range(2)] == run1[1:]


def test_order_drawn_at_iter_in_calling_thread():
    # the permutation is drawn by iter(), before any batch is built: the generator's state
    # after iter() does not depend on how far the worker got
    striate.manual_seed(1)
    it = iter(DataLoader(_ds(10), batch_size=2, shuffle=True))
    after_iter = backend.get_rng_state()
    next(it)
    time.sleep(0.05)
    assert backend.get_rng_state() == after_iter
    del it
    striate.manual_seed(1)
    expected = backend.get_rng().permutation(10)
    striate.manual_seed(1)
    got = _flat(_ids(DataLoader(_ds(10), batch_size=2, shuffle=True)))
    assert got == expected.tolist()


def test_prefetch_gives_the_same_batches_as_no_prefetch():
    def run(prefetch):
        striate.manual_seed(5)
        loader = DataLoader(_ds(50), batch_size=8, shuffle=True, prefetch=prefetch)
        return [(x.array.copy(), y.array.copy()) for _ in range(2) for x, y in loader]

    a, b = run(0), run(2)
    assert len(a) == len(b) == 14
    for (xa, ya), (xb, yb) in zip(a, b, strict=True):
        np.testing.assert_array_equal(xa, xb)
        np.testing.assert_array_equal(ya, yb)


def test_fast_path_matches_generic_path():
    striate.manual_seed(9)
    fast = [(x.array, y.array) for x, y in DataLoader(_ds(17), batch_size=4, shuffle=True)]
    striate.manual_seed(9)
    slow = [(x.array, y.array) for x, y in DataLoader(ListDataset(17), batch_size=4, shuffle=True)]
    for (xf, yf), (xs, ys) in zip(fast, slow, strict=True):
        np.testing.assert_array_equal(xf, xs)
        np.testing.assert_array_equal(yf, ys)
        assert xf.dtype == xs.dtype and yf.dtype == ys.dtype == np.int64


def test_fast_path_gathers_without_getitem(monkeypatch):
    ds = _ds(12)

    def boom(self, i):
        raise AssertionError("the fast path must not index samples one by one")

    # patched on the class itself, so the loader still sees a plain TensorDataset
    monkeypatch.setattr(TensorDataset, "__getitem__", boom)
    sub = Subset(ds, [11, 0, 5])
    assert _ids(DataLoader(sub, batch_size=3)) == [[11, 0, 5]]
    assert len(_ids(DataLoader(ds, batch_size=5, prefetch=0))) == 3


def test_tensor_dataset_subclass_with_own_getitem_uses_it():
    class Doubled(TensorDataset):
        def __getitem__(self, i):
            x, y = super().__getitem__(i)
            return Tensor(x.array * 2), y

    ds = Doubled(np.ones((4, 2), np.float32), np.zeros(4, np.int64))
    x, _ = next(iter(DataLoader(ds, batch_size=4)))
    np.testing.assert_array_equal(x.array, 2 * np.ones((4, 2)))


def test_default_collate_structures():
    Pair = namedtuple("Pair", "img label")
    samples = [Pair(np.ones((2, 2), np.float32) * i, i) for i in range(3)]
    batch = default_collate(samples)
    assert isinstance(batch, Pair) and batch.img.shape == (3, 2, 2)
    assert batch.label.dtype == np.int64 and batch.label.tolist() == [0, 1, 2]
    d = default_collate([{"x": 1.5, "tag": "a"}, {"x": 2.5, "tag": "b"}])
    assert d["x"].dtype == np.float32 and d["tag"] == ["a", "b"]
    assert default_collate([np.float64(1), np.float64(2)]).dtype == np.float64
    nested = default_collate([(Tensor(np.zeros(3)), (1, 2.0))] * 2)
    assert nested[0].shape == (2, 3) and nested[1][0].dtype == np.int64
    with pytest.raises(ValueError, match=r"different shapes \[\(2,\), \(3,\)\]"):
        default_collate([np.zeros(2), np.zeros(3)])
    with pytest.raises(ValueError, match="2 fields, got one with 3"):
        default_collate([(1, 2), (1, 2, 3)])
    with pytest.raises(TypeError, match="cannot batch samples of type object"):
        default_collate([object()])


def test_generic_loader_with_dict_samples_and_collate_fn():
    class Dicts(Dataset):
        def __getitem__(self, i):
            return {"x": np.full(3, i, np.float32), "y": i}

        def __len__(self):
            return 5

    batches = list(DataLoader(Dicts(), batch_size=2))
    assert isinstance(batches[0]["x"], Tensor) and batches[0]["y"].array.tolist() == [0, 1]

    def count_collate(samples):
        return np.array([len(samples)])

    sizes = [b.array[0] for b in DataLoader(_ds(5), batch_size=2, collate_fn=count_collate)]
    assert sizes == [2, 2, 1]  # collate_fn is used even for a TensorDataset


def test_transform_applies_to_inputs_per_batch_in_worker():
    calls = []

    def t(x):
        calls.append((threading.current_thread().name, x.shape))
        return x * 10

    loader = DataLoader(_ds(6), batch_size=4, transform=t, prefetch=1)
    (x0, y0), _ = list(loader)
    assert calls == [(WORKER_THREAD_NAME, (4, 2)), (WORKER_THREAD_NAME, (2, 2))]
    np.testing.assert_array_equal(x0.array[:, 0], 10 * 2 * np.arange(4))
    assert y0.array.tolist() == [0, 1, 2, 3]  # labels untouched


def test_early_break_leaves_no_threads():
    assert _workers() == []
    loader = DataLoader(_ds(200), batch_size=2, prefetch=2)
    for k, _ in enumerate(loader):
        if k == 3:
            break
    assert _workers() == []
    it = iter(loader)
    next(it)
    assert len(_workers()) == 1
    del it
    assert _workers() == []


def test_many_abandoned_epochs_do_not_accumulate_threads():
    before = threading.active_count()
    loader = DataLoader(_ds(100), batch_size=1, shuffle=True, prefetch=4)
    for _ in range(20):
        for _ in loader:
            break
    assert threading.active_count() == before and _workers() == []


def test_error_in_the_consumer_leaves_no_threads():
    with pytest.raises(ZeroDivisionError):
        for _ in DataLoader(_ds(100), batch_size=2, prefetch=2):
            1 / 0  # noqa: B018
    assert _workers() == []


def test_full_epoch_leaves_no_threads():
    list(DataLoader(_ds(30), batch_size=4, prefetch=2))
    assert _workers() == []


class Faulty(Dataset):
    def __getitem__(self, i):
        if i == 7:
            raise KeyError(f"sample {i} is corrupt")
        return np.zeros(2, np.float32), 0

    def __len__(self):
        return 12


@pytest.mark.parametrize("prefetch", [0, 2])
def test_worker_exception_propagates_with_traceback(prefetch):
    loader = DataLoader(Faulty(), batch_size=3, prefetch=prefetch)
    seen = 0
    with pytest.raises(KeyError, match="sample 7 is corrupt") as info:
        for _ in loader:
            seen += 1
    assert seen == 2  # batches before the failing one arrived
    frames = [entry.name for entry in info.traceback]
    assert "__getitem__" in frames  # the original frame where it was raised
    assert _workers() == []
    if prefetch:
        assert any("prefetch thread" in n for n in info.value.__notes__)


def test_transform_exception_propagates():
    def bad(x):
        raise ValueError("transform failed")

    with pytest.raises(ValueError, match="transform failed"):
        list(DataLoader(_ds(4), batch_size=2, transform=bad))
    assert _workers() == []


def test_empty_dataset_yields_nothing():
    loader = DataLoader(TensorDataset(np.zeros((0, 3), np.float32)), batch_size=2, shuffle=True)
    assert len(loader) == 0 and list(loader) == []


def test_bad_arguments():
    ds = _ds(4)
    with pytest.raises(ValueError, match="batch_size must be a positive int, got 0"):
        DataLoader(ds, batch_size=0)
    with pytest.raises(ValueError, match="got -3"):
        DataLoader(ds, batch_size=-3)
    with pytest.raises(TypeError, match="batch_size must be a positive int, got float"):
        DataLoader(ds, batch_size=2.0)
    with pytest.raises(ValueError, match="prefetch must be an int >= 0, got -1"):
        DataLoader(ds, prefetch=-1)
    with pytest.raises(TypeError, match="dataset must have __len__ and __getitem__"):
        DataLoader(42)
    with pytest.raises(TypeError, match="transform must be callable"):
        DataLoader(ds, transform="flip")


def test_num_workers_maps_onto_the_prefetch_thread():
    ds = TensorDataset(np.arange(20, dtype=np.float32).reshape(10, 2), np.arange(10))
    assert DataLoader(ds, num_workers=0).prefetch == 0
    assert DataLoader(ds, num_workers=2, pin_memory=True).prefetch == 4
    assert DataLoader(ds, prefetch=3).prefetch == 3
    with pytest.raises(ValueError, match="num_workers must be an int >= 0, got -1"):
        DataLoader(ds, num_workers=-1)
    a = [y.tolist() for _, y in DataLoader(ds, batch_size=3, num_workers=2)]
    b = [y.tolist() for _, y in DataLoader(ds, batch_size=3, num_workers=0)]
    assert a == b == [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]
