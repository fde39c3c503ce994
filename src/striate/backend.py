"""Arrays: which array module a tensor lives on, the default dtype and the one random generator.

Everything above this layer asks here for ``xp`` (NumPy; a CuPy backend for GPUs is not built
yet), the default floating dtype, and random numbers. One seeded generator makes every run
repeatable: ``striate.manual_seed(0)`` reseeds it.
"""

from __future__ import annotations

import contextlib
import os
import sys

import numpy as np

# glibc gives every freed array of more than a few MiB back to the OS, so the next step's arrays
# of the same size come back as fresh pages, each zeroed on its first touch (a page fault), a
# visible share of a ResNet-20 training step. Keeping freed memory up to a bound in the heap for
# reuse (as PyTorch's caching allocators do) removes them (docs/performance.md). Set
# STRIATE_KEEP_FREED_MEMORY=0 to leave the C allocator as it is.
KEEP_FREED_MEMORY = 256 << 20  # bytes the heap may keep free before trimming
_MMAP_THRESHOLD = 32 << 20  # arrays up to this size come from the heap (glibc's maximum)


def _tune_allocator() -> bool:
    """Ask glibc's malloc to keep freed memory for reuse (see above); False where this is not
    glibc or it is switched off."""
    if os.environ.get("STRIATE_KEEP_FREED_MEMORY", "1") == "0" or not sys.platform.startswith(
            "linux"):
        return False
    import ctypes

    try:
        libc = ctypes.CDLL("libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # musl and others: no mallopt
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3  # from glibc's malloc.h
    return bool(mallopt(m_trim_threshold, KEEP_FREED_MEMORY)) and bool(
        mallopt(m_mmap_threshold, _MMAP_THRESHOLD))


ALLOCATOR_TUNED = _tune_allocator()

__all__ = [
    "xp",
    "get_array_module",
    "get_default_dtype",
    "set_default_dtype",
    "manual_seed",
    "initial_seed",
    "get_rng",
    "get_rng_state",
    "batch_shard",
    "random_rows",
    "set_rng_state",
    "is_float_dtype",
    "to_device",
]

xp = np

#: whether the operations can run on CuPy arrays (a GPU); not yet: every kernel is NumPy code
GPU_BACKEND = False

_default_dtype = np.dtype(np.float32)
_seed = 0
_rng = np.random.default_rng(_seed)


def get_array_module(array) -> object:
    """Return the array module (``numpy`` or ``cupy``) that ``array`` belongs to."""
    mod = type(array).__module__
    if mod.startswith("cupy"):
        import cupy  # pragma: no cover - GPU only

        return cupy
    return np


def get_default_dtype() -> np.dtype:
    """The floating dtype new tensors get when none is given (float32 unless changed)."""
    return _default_dtype


def set_default_dtype(dtype) -> None:
    """Set the floating dtype for new tensors: float16, float32 or float64."""
    global _default_dtype
    d = np.dtype(dtype)
    if d.kind != "f":
        raise TypeError(f"set_default_dtype: dtype must be a floating type, got {d}")
    _default_dtype = d


def is_float_dtype(dtype) -> bool:
    return np.dtype(dtype).kind == "f"


def manual_seed(seed: int) -> np.random.Generator:
    """Reseed striate's one random generator; every random op draws from it."""
    global _rng, _seed
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
        raise TypeError(f"manual_seed: seed must be an int, got {type(seed).__name__}")
    _seed = int(seed)
    _rng = np.random.default_rng(_seed)
    return _rng


def initial_seed() -> int:
    """The seed last given to :func:`manual_seed` (0 at start)."""
    return _seed


def get_rng() -> np.random.Generator:
    """The generator random ops draw from (replaced by :func:`manual_seed`)."""
    return _rng


_shard = None  # (lo, hi, m): inputs are rows lo:hi of a global batch of m rows (data parallel)


@contextlib.contextmanager
def batch_shard(lo: int, hi: int, m: int):
    """Within this block the batch being computed is rows ``lo:hi`` of a global batch of ``m``
    rows (one rank of data-parallel training): :func:`random_rows` then draws the global batch's
    random numbers and keeps this rank's rows, so dropout masks, and the weights, are those of
    one process training on the whole batch."""
    global _shard
    old, _shard = _shard, (int(lo), int(hi), int(m))
    try:
        yield
    finally:
        _shard = old


def random_rows(shape: tuple, dtype) -> np.ndarray:
    """Uniform [0, 1) numbers of ``shape`` (first dim: the batch) from the global generator; in a
    :func:`batch_shard`, this rank's rows of the global batch's draw."""
    shape = tuple(shape)
    s = _shard
    if s is not None and shape and shape[0] == s[1] - s[0]:
        return _rng.random((s[2],) + shape[1:], dtype=dtype)[s[0]:s[1]]
    return _rng.random(shape, dtype=dtype)


def get_rng_state() -> dict:
    """The generator's state, as plain Python data (for checkpoints)."""
    return _rng.bit_generator.state


def set_rng_state(state: dict) -> None:
    """Restore a state from :func:`get_rng_state`, so a resumed run draws the same numbers."""
    _rng.bit_generator.state = state


def to_device(array, device: str):
    """Move ``array`` to ``"cpu"``; a no-op when it is already there.

    ``"cuda"`` is refused with a clear error: the ops are written on NumPy and no CuPy backend
    has been built and tested yet, so a GPU array would fail deep inside an op instead.
    """
    device = str(device)
    if device.startswith("cpu"):
        if get_array_module(array) is np:
            return array
        return array.get()  # pragma: no cover - a CuPy array made outside striate
    if device.startswith("cuda"):
        raise RuntimeError(
            f"to: device {device!r} is not supported yet: striate's operations run on NumPy "
            "(the CPU); striate.cuda.is_available() is False"
        )
    raise ValueError(f"to: device must be 'cpu' or 'cuda', got {device!r}")
