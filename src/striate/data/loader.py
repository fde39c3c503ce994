"""``DataLoader``: batches of Tensors from a dataset, shuffled by striate's seeded generator,
gathered ahead of time by a background thread.

Two ways to build a batch:

- fast path: a ``TensorDataset`` (or a ``Subset`` of one, or any dataset exposing ``arrays`` with
  ``ds[i] == tuple(a[i] for a in ds.arrays)``) is gathered with one fancy-index per array;
- generic path: ``dataset[i]`` per sample, then ``collate_fn`` (``default_collate`` by default).

The epoch's order is drawn in the calling thread when ``iter(loader)`` is called, before any
worker starts, so the global generator is consumed at a fixed point: ``striate.manual_seed`` makes
the order repeatable, and restoring the generator state reproduces a resumed epoch.
"""

from __future__ import annotations

import functools
import numbers
import queue
import threading
from collections.abc import Callable, Iterator, Mapping

import numpy as np

from .. import backend
from ..autograd.tensor import Tensor
from .dataset import Subset, TensorDataset

__all__ = ["DataLoader", "default_collate"]

WORKER_THREAD_NAME = "striate-DataLoader-prefetch"

_BATCH, _DONE, _ERROR = "batch", "done", "error"
_POLL_S = 0.05  # how often a blocked worker looks at the stop flag


def _stack(arrays: list, what: str) -> np.ndarray:
    try:
        return np.stack(arrays)
    except ValueError as e:
        shapes = sorted({tuple(a.shape) for a in arrays})
        raise ValueError(
            f"default_collate: cannot stack {what} of different shapes {shapes[:4]}; "
            f"pass a collate_fn that pads or groups them"
        ) from e


def default_collate(samples: list):
    """Stack a list of samples into one batch, keeping the samples' structure.

    Arrays and Tensors of shape S become one array of shape (B, *S) in their dtype; Python ints
    become int64, Python floats the default float dtype, NumPy scalars keep theirs; tuples, lists,
    namedtuples and dicts are collated field by field; strings stay a list. The loader wraps the
    resulting arrays in Tensors.

    Raises:
        ValueError: samples whose arrays have different shapes, or tuples of different lengths.
        TypeError: a sample type it cannot stack (pass your own ``collate_fn``).
    """
    if len(samples) == 0:
        raise ValueError("default_collate: got an empty list of samples")
    first = samples[0]
    if isinstance(first, (Tensor, np.ndarray)):
        arrays = [s.array if isinstance(s, Tensor) else np.asarray(s) for s in samples]
        return _stack(arrays, "samples")
    if isinstance(first, np.generic):
        return np.array(samples, dtype=first.dtype)
    if isinstance(first, bool):
        return np.array(samples, dtype=bool)
    if isinstance(first, numbers.Integral):
        return np.array(samples, dtype=np.int64)
    if isinstance(first, numbers.Real):
        return np.array(samples, dtype=backend.get_default_dtype())
    if isinstance(first, str):
        return list(samples)
    if isinstance(first, Mapping):
        keys = list(first)
        for s in samples:
            if not isinstance(s, Mapping) or list(s) != keys:
                got = list(s) if isinstance(s, Mapping) else type(s).__name__
                raise ValueError(f"default_collate: samples have different keys: {keys} and {got}")
        return {k: default_collate([s[k] for s in samples]) for k in keys}
    if isinstance(first, (tuple, list)):
        size = len(first)
        for s in samples:
            if not isinstance(s, (tuple, list)) or len(s) != size:
                got = len(s) if isinstance(s, (tuple, list)) else type(s).__name__
                raise ValueError(
                    f"default_collate: samples must all have {size} fields, got one with {got}"
                )
        columns = [default_collate([s[k] for s in samples]) for k in range(size)]
        if hasattr(first, "_fields"):  # a namedtuple keeps its type and field names
            return type(first)(*columns)
        return type(first)(columns) if isinstance(first, list) else tuple(columns)
    raise TypeError(
        f"default_collate: cannot batch samples of type {type(first).__name__}; "
        f"pass a collate_fn to DataLoader"
    )


def _array_source(dataset) -> tuple[tuple[np.ndarray, ...], np.ndarray | None] | None:
    """``(arrays, rows)`` when a batch can be gathered by fancy-indexing arrays, else None.

    ``rows`` maps the dataset's positions to the arrays' rows (a Subset chain), None for identity.
    """
    if isinstance(dataset, Subset):
        inner = _array_source(dataset.dataset)
        if inner is None:
            return None
        arrays, rows = inner
        return arrays, dataset.indices if rows is None else rows[dataset.indices]
    # a TensorDataset subclass that redefines __getitem__ wants its own code run per sample
    if isinstance(dataset, TensorDataset) and (
        type(dataset).__getitem__ is not TensorDataset.__getitem__
    ):
        return None
    arrays = getattr(dataset, "arrays", None)
    if not isinstance(arrays, (tuple, list)) or not arrays:
        return None
    n = len(dataset)
    if not all(isinstance(a, np.ndarray) and a.ndim >= 1 and a.shape[0] == n for a in arrays):
        return None
    return tuple(arrays), None


def _cast_labels(batch):
    """Integer fields after the first (the labels) become int64, the dtype losses expect."""
    if not isinstance(batch, (tuple, list)) or len(batch) < 2:
        return batch
    fields = [batch[0]]
    for f in batch[1:]:
        if isinstance(f, np.ndarray) and f.dtype.kind in "iu" and f.dtype != np.int64:
            f = f.astype(np.int64)
        fields.append(f)
    if hasattr(batch, "_fields"):
        return type(batch)(*fields)
    return fields if isinstance(batch, list) else tuple(fields)


def _apply_transform(transform: Callable, batch, rng: np.random.Generator | None = None):
    if rng is not None:  # a random transform draws from the epoch's own generator
        transform = functools.partial(transform, rng=rng)
    if isinstance(batch, (np.ndarray, Tensor)):
        return transform(batch)
    if isinstance(batch, (tuple, list)) and len(batch) > 0:
        fields = [transform(batch[0]), *batch[1:]]
        if hasattr(batch, "_fields"):
            return type(batch)(*fields)
        return fields if isinstance(batch, list) else tuple(fields)
    raise TypeError(
        f"DataLoader: transform applies to the first field of a tuple batch or to an array "
        f"batch, got a batch of type {type(batch).__name__}; transform inside the dataset instead"
    )


def _to_tensors(batch):
    if isinstance(batch, np.ndarray):
        return Tensor(batch)
    if isinstance(batch, Mapping):
        return {k: _to_tensors(v) for k, v in batch.items()}
    if isinstance(batch, (tuple, list)):
        fields = [_to_tensors(f) for f in batch]
        if hasattr(batch, "_fields"):
            return type(batch)(*fields)
        return fields if isinstance(batch, list) else tuple(fields)
    return batch


class DataLoader:
    """Iterate over a dataset in batches of Tensors.

    Args:
        dataset: a ``Dataset`` or any object with ``__len__`` and ``__getitem__``.
        batch_size: samples per batch (B); the last batch may be smaller unless ``drop_last``.
        shuffle: draw a new order each epoch from ``striate.backend.get_rng()``, at
            ``iter(loader)`` time, in the calling thread.
        drop_last: drop the last batch when it has fewer than ``batch_size`` samples.
        transform: called on the first field of each batch (the inputs, e.g. an (B, C, H, W)
            array), in the prefetch thread; it should not draw from striate's global generator.
            A random transform (one with ``needs_rng`` true, as those of
            ``striate.data.augment`` and a ``Compose`` holding one) is called as
            ``transform(x, rng=generator)``: each epoch gets its own ``numpy.random.Generator``
            seeded by one draw from the global generator at ``iter(loader)``, in the calling
            thread, so augmented batches are fixed by ``striate.manual_seed`` whatever the
            threads' timing.
        prefetch: batches the background thread prepares ahead (a bounded queue); 0 builds
            each batch in the calling thread when it is asked for.
        collate_fn: turns a list of samples into a batch (``default_collate`` when None). When
            given, every batch goes through it, even for a ``TensorDataset``.
        num_workers: PyTorch's option, mapped onto the prefetch thread: 0 builds every batch in
            the calling thread (``prefetch=0``), as PyTorch's ``num_workers=0`` does; N > 0 keeps
            ``2 * N`` batches ready (PyTorch's default ``prefetch_factor`` of 2 per worker) in the
            one background thread. None (the default) leaves ``prefetch`` as given.
        pin_memory: accepted for PyTorch code; page-locked memory only matters for copies to a
            CUDA device, so it changes nothing here.
        sampler: an iterable of dataset indices with a length (e.g.
            :class:`striate.data.DistributedSampler`), read once per epoch at ``iter(loader)``;
            it replaces ``shuffle``.

    Yields:
        One batch per step with the samples' structure, e.g. ``(x, y)`` for a ``TensorDataset``:
        x of shape (B, *S) in the dataset's float dtype, y int64 of shape (B,).

    Example:
        >>> import numpy as np
        >>> from striate.data import TensorDataset
        >>> ds = TensorDataset(np.ones((10, 3), np.float32), np.arange(10))
        >>> loader = DataLoader(ds, batch_size=4)
        >>> len(loader), [tuple(x.shape) for x, y in loader]
        (3, [(4, 3), (4, 3), (2, 3)])
    """

    def __init__(
        self,
        dataset,
        batch_size: int = 1,
        shuffle: bool = False,
        drop_last: bool = False,
        transform: Callable | None = None,
        prefetch: int = 2,
        collate_fn: Callable | None = None,
        num_workers: int | None = None,
        pin_memory: bool = False,
        sampler=None,
    ):
        if not (hasattr(dataset, "__len__") and hasattr(dataset, "__getitem__")):
            raise TypeError(
                f"DataLoader: dataset must have __len__ and __getitem__, got "
                f"{type(dataset).__name__}"
            )
        if isinstance(batch_size, bool) or not isinstance(batch_size, (numbers.Integral)):
            raise TypeError(
                f"DataLoader: batch_size must be a positive int, got {type(batch_size).__name__}"
            )
        if batch_size <= 0:
            raise ValueError(f"DataLoader: batch_size must be a positive int, got {batch_size}")
        if isinstance(prefetch, bool) or not isinstance(prefetch, numbers.Integral):
            raise TypeError(
                f"DataLoader: prefetch must be an int >= 0, got {type(prefetch).__name__}"
            )
        if prefetch < 0:
            raise ValueError(f"DataLoader: prefetch must be an int >= 0, got {prefetch}")
        if num_workers is not None:
            if isinstance(num_workers, bool) or not isinstance(num_workers, numbers.Integral) \
                    or num_workers < 0:
                raise ValueError(f"DataLoader: num_workers must be an int >= 0, got "
                                 f"{num_workers!r}")
            prefetch = 2 * int(num_workers)
        for name, fn in (("transform", transform), ("collate_fn", collate_fn)):
            if fn is not None and not callable(fn):
                raise TypeError(
                    f"DataLoader: {name} must be callable or None, got {type(fn).__name__}"
                )
        if sampler is not None:
            if shuffle:
                raise ValueError("DataLoader: sampler and shuffle=True are mutually exclusive "
                                 "(the sampler decides the order)")
            if not (hasattr(sampler, "__iter__") and hasattr(sampler, "__len__")):
                raise TypeError(f"DataLoader: sampler must be an iterable of indices with a "
                                f"length, got {type(sampler).__name__}")
        self.sampler = sampler
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.transform = transform
        self.prefetch = int(prefetch)
        self.collate_fn = collate_fn

    def __len__(self) -> int:
        n = len(self.dataset) if self.sampler is None else len(self.sampler)
        if self.drop_last:
            return n // self.batch_size
        return (n + self.batch_size - 1) // self.batch_size

    def __iter__(self) -> Iterator:
        n = len(self.dataset)
        # drawn here, in the caller's thread, before any worker exists: the global generator is
        # consumed at the same point of every run, whatever the threads do later
        if self.sampler is not None:
            order = np.fromiter(iter(self.sampler), dtype=np.int64)
            n = len(order)
        else:
            order = backend.get_rng().permutation(n) if self.shuffle else np.arange(n)
        stop = len(self) * self.batch_size if self.drop_last else n
        index_batches = [order[i : i + self.batch_size] for i in range(0, stop, self.batch_size)]
        source = _array_source(self.dataset) if self.collate_fn is None else None
        rng = None
        if getattr(self.transform, "needs_rng", False):  # drawn here too, in the caller's thread
            rng = np.random.default_rng(int(backend.get_rng().integers(2**63)))
        make = _BatchMaker(self.dataset, source, self.collate_fn, self.transform, rng)
        if self.prefetch == 0 or not index_batches:
            return (make(idx) for idx in index_batches)
        return _prefetching(make, index_batches, self.prefetch)

    def __repr__(self) -> str:
        return (
            f"DataLoader(dataset={self.dataset!r}, batch_size={self.batch_size}, "
            f"shuffle={self.shuffle}, drop_last={self.drop_last}, prefetch={self.prefetch})"
        )


class _BatchMaker:
    """Builds the batch for one array of sample indices (runs in the prefetch thread)."""

    def __init__(self, dataset, source, collate_fn, transform, rng=None):
        self.dataset = dataset
        self.source = source
        self.collate_fn = collate_fn
        self.transform = transform
        self.rng = rng  # the epoch's generator; batches are made in order, by one thread

    def __call__(self, idx: np.ndarray):
        if self.source is not None:
            arrays, rows = self.source
            rows = idx if rows is None else rows[idx]
            batch = tuple(a[rows] for a in arrays)  # one gather per array, no per-sample loop
        else:
            samples = [self.dataset[int(i)] for i in idx]
            batch = (self.collate_fn or default_collate)(samples)
        if self.collate_fn is None:
            batch = _cast_labels(batch)
        if self.transform is not None:
            batch = _apply_transform(self.transform, batch, self.rng)
        return _to_tensors(batch)


def _put(q: queue.Queue, item, stop: threading.Event) -> bool:
    """Put ``item``, giving up (False) once ``stop`` is set, so a full queue never traps us."""
    while not stop.is_set():
        try:
            q.put(item, timeout=_POLL_S)
            return True
        except queue.Full:
            pass
    return False


def _worker(make: _BatchMaker, index_batches: list, q: queue.Queue, stop: threading.Event):
    try:
        for idx in index_batches:
            if stop.is_set() or not _put(q, (_BATCH, make(idx)), stop):
                return
        _put(q, (_DONE, None), stop)
    # anything, KeyboardInterrupt included, goes to the consumer, which re-raises it
    except BaseException as e:  # noqa: BLE001
        _put(q, (_ERROR, e), stop)


def _get(q: queue.Queue, thread: threading.Thread):
    while True:
        try:
            return q.get(timeout=0.1)  # returns as soon as an item arrives; the timeout only
        except queue.Empty:  # lets us notice a worker that died without a word
            if not thread.is_alive():
                try:
                    return q.get_nowait()
                except queue.Empty:
                    raise RuntimeError(
                        "DataLoader: the prefetch thread stopped without a result"
                    ) from None


def _prefetching(make: _BatchMaker, index_batches: list, depth: int) -> Iterator:
    """Yield ``make(idx)`` for each index batch, built up to ``depth`` ahead by one thread.

    The thread is stopped and joined when the epoch ends, when the consumer stops early (the
    generator is closed: ``break``, ``del``, garbage collection) and when an error is raised.
    The worker holds no reference to this generator, so dropping it is enough to close it.
    """
    q: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()
    thread = threading.Thread(
        target=_worker, args=(make, index_batches, q, stop), name=WORKER_THREAD_NAME, daemon=True
    )
    thread.start()
    try:
        while True:
            kind, payload = _get(q, thread)
            if kind == _DONE:
                return
            if kind == _ERROR:
                payload.add_note("(raised in the DataLoader prefetch thread)")
                raise payload
            yield payload
    finally:
        stop.set()
        while True:  # free the queued batches, and a worker blocked on a full queue
            try:
                q.get_nowait()
            except queue.Empty:
                break
        thread.join()
