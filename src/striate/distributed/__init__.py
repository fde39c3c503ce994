"""``striate.distributed``: data-parallel training over MPI, with PyTorch's names.

Every process of a job runs the same program on its own shard of each batch; after backward the
gradients are averaged with an all-reduce, so every process takes the same optimizer step and
the replicas never drift apart (:class:`striate.nn.parallel.DistributedDataParallel`). The
messages travel over MPI through mpi4py: the engine behind Horovod and most HPC training, on one
machine (``mpirun -n 2``) or on a cluster (``mpirun -n 64 --hostfile HOSTS``). The ``distributed``
extra installs Open MPI and mpi4py from pip; any MPI that a cluster already has works the same
through mpi4py.

Collectives act in place on a Tensor's memory (and bump its version, as every write does) or on a
NumPy array::

    import striate.distributed as dist
    dist.init_process_group("mpi")
    t = striate.ones(3) * dist.get_rank()
    dist.all_reduce(t)                       # every rank now holds the sum over ranks

``bytes_sent()`` counts the payload this process has handed to the collectives (for the
throughput report in ``bench/bench_distributed.py``).
"""

from __future__ import annotations

import enum
import os
import sys

import numpy as np

__all__ = [
    "ReduceOp", "Work", "init_process_group", "is_available", "is_initialized", "get_rank",
    "get_world_size", "get_backend", "barrier", "all_reduce", "all_reduce_async", "broadcast",
    "all_gather", "broadcast_object_list", "destroy_process_group", "bytes_sent", "abort",
    "DistributedError",
]

EXTRA_HINT = 'pip install "striate[distributed]"'


class DistributedError(RuntimeError):
    """A misuse of the process group (not initialised, a bad rank, ...)."""


class ReduceOp(enum.Enum):
    """How :func:`all_reduce` combines the ranks' values (PyTorch's names)."""

    SUM = "sum"
    PRODUCT = "product"
    MIN = "min"
    MAX = "max"
    AVG = "avg"  # SUM, then divided by the world size


_group = None  # the default process group: a _Group once init_process_group ran


class _Group:
    def __init__(self, comm, backend: str):
        self.comm = comm
        self.backend = backend
        self.rank = comm.Get_rank()
        self.size = comm.Get_size()
        self.sent = 0  # payload bytes this rank handed to collectives


def _mpi():
    try:
        from mpi4py import MPI
    except ImportError as e:
        raise ImportError(f"striate.distributed needs mpi4py and an MPI library: "
                          f"{EXTRA_HINT} ({e})") from None
    return MPI


def is_available() -> bool:
    """Whether the MPI backend can be used (mpi4py imports)."""
    try:
        _mpi()
    except ImportError:
        return False
    return True


def init_process_group(backend: str = "mpi", init_method=None, world_size: int = -1,
                       rank: int = -1, timeout=None, **kwargs) -> None:
    """Join the job's default process group.

    Args:
        backend: ``"mpi"`` (the only backend: the processes are those ``mpirun`` started).
        init_method, timeout: accepted for PyTorch's signature; MPI's launcher already knows the
            processes.
        world_size, rank: -1 (take them from MPI), or the values MPI gives (checked).

    Raises:
        ValueError: another backend, or a world size / rank that disagrees with MPI's.
        DistributedError: called twice without :func:`destroy_process_group`.
    """
    global _group
    if backend != "mpi":
        raise ValueError(f"init_process_group: backend must be 'mpi' (striate runs its "
                         f"processes over MPI), got {backend!r}")
    if _group is not None:
        raise DistributedError("init_process_group: the default process group is already "
                               "initialised (call destroy_process_group first)")
    MPI = _mpi()
    comm = MPI.COMM_WORLD.Dup()
    g = _Group(comm, backend)
    if world_size not in (-1, g.size):
        raise ValueError(f"init_process_group: world_size={world_size} but mpirun started "
                         f"{g.size} process(es)")
    if rank not in (-1, g.rank):
        raise ValueError(f"init_process_group: rank={rank} but MPI says this is rank {g.rank}")
    _group = g


def is_initialized() -> bool:
    return _group is not None


def _g(fn: str) -> _Group:
    if _group is None:
        raise DistributedError(f"{fn}: the default process group is not initialised; call "
                               f"striate.distributed.init_process_group('mpi') first")
    return _group


def get_rank(group=None) -> int:
    """This process's rank, 0 .. world size - 1."""
    return _g("get_rank").rank


def get_world_size(group=None) -> int:
    """The number of processes in the job."""
    return _g("get_world_size").size


def get_backend(group=None) -> str:
    return _g("get_backend").backend


def barrier(group=None) -> None:
    """Wait until every rank has reached this call."""
    _g("barrier").comm.Barrier()


def destroy_process_group(group=None) -> None:
    """Leave the process group (MPI itself stays up until the process exits)."""
    global _group
    if _group is not None:
        _group.comm.Free()
        _group = None


def bytes_sent() -> int:
    """Payload bytes this rank has handed to collectives since :func:`init_process_group`."""
    return 0 if _group is None else _group.sent


def abort(message: str, code: int = 1) -> None:
    """End every rank of the job now: print ``message`` on this rank's stderr, then
    ``MPI_Abort`` (mpirun stops the other processes within moments; no rank is left waiting in
    a collective)."""
    print(message, file=sys.stderr, flush=True)
    if _group is not None:
        _group.comm.Abort(code)
    else:  # pragma: no cover - without a group there is nobody else to stop
        os._exit(code)


# ---- collectives ------------------------------------------------------------------------------

def _array(tensor, fn: str) -> np.ndarray:
    a = getattr(tensor, "array", tensor)
    if not isinstance(a, np.ndarray):
        raise TypeError(f"{fn}: tensor must be a striate Tensor or a NumPy array, got "
                        f"{type(tensor).__name__}")
    if not a.flags.c_contiguous:
        raise ValueError(f"{fn}: tensor must be contiguous (call .contiguous() first)")
    return a


def _written(tensor) -> None:
    bump = getattr(tensor, "_bump_version", None)
    if bump is not None:
        bump()


def _mpi_op(op: ReduceOp, fn: str):
    MPI = _mpi()
    table = {ReduceOp.SUM: MPI.SUM, ReduceOp.AVG: MPI.SUM, ReduceOp.PRODUCT: MPI.PROD,
             ReduceOp.MIN: MPI.MIN, ReduceOp.MAX: MPI.MAX}
    if op not in table:
        raise ValueError(f"{fn}: op must be a striate.distributed.ReduceOp, got {op!r}")
    return table[op]


class Work:
    """A collective in flight (``async_op=True``): :meth:`wait` finishes it."""

    def __init__(self, request, finish=None):
        self._request, self._finish = request, finish
        self._done = False

    def wait(self) -> bool:
        if not self._done:
            self._request.Wait()
            self._done = True
            if self._finish is not None:
                self._finish()
        return True

    def is_completed(self) -> bool:
        return self._done or bool(self._request.Test())


def all_reduce(tensor, op: ReduceOp = ReduceOp.SUM, group=None, async_op: bool = False):
    """Combine ``tensor`` over all ranks, in place: afterwards every rank holds the result.

    With ``async_op=True`` returns a :class:`Work` whose ``wait()`` completes it (the tensor
    must not be read before then); otherwise None.
    """
    g = _g("all_reduce")
    a = _array(tensor, "all_reduce")
    mop = _mpi_op(op, "all_reduce")
    g.sent += a.nbytes

    def finish():
        if op is ReduceOp.AVG:
            np.divide(a, g.size, out=a, casting="unsafe")
        _written(tensor)

    if async_op:
        return Work(g.comm.Iallreduce(_mpi().IN_PLACE, a, op=mop), finish)
    g.comm.Allreduce(_mpi().IN_PLACE, a, op=mop)
    finish()
    return None


def all_reduce_async(array: np.ndarray, op: ReduceOp = ReduceOp.SUM) -> Work:
    """:func:`all_reduce` of a NumPy buffer, started now and finished by ``wait()``: what
    ``DistributedDataParallel`` uses for its gradient buckets."""
    return all_reduce(array, op, async_op=True)


def broadcast(tensor, src: int, group=None, async_op: bool = False):
    """Copy rank ``src``'s ``tensor`` into every other rank's, in place."""
    g = _g("broadcast")
    if not (isinstance(src, int) and 0 <= src < g.size):
        raise ValueError(f"broadcast: src must be a rank in 0..{g.size - 1}, got {src!r}")
    a = _array(tensor, "broadcast")
    if g.rank == src:
        g.sent += a.nbytes * (g.size - 1)
    req = g.comm.Ibcast(a, root=src)
    work = Work(req, lambda: _written(tensor) if g.rank != src else None)
    if async_op:
        return work
    work.wait()
    return None


def all_gather(tensor_list: list, tensor, group=None, async_op: bool = False):
    """Fill ``tensor_list`` (one tensor per rank, each of ``tensor``'s shape and dtype) with
    every rank's ``tensor``."""
    g = _g("all_gather")
    if not isinstance(tensor_list, list) or len(tensor_list) != g.size:
        raise ValueError(f"all_gather: tensor_list must be a list of {g.size} tensors (one per "
                         f"rank), got {type(tensor_list).__name__} of length "
                         f"{len(tensor_list) if hasattr(tensor_list, '__len__') else '?'}")
    a = _array(tensor, "all_gather")
    outs = [_array(t, "all_gather") for t in tensor_list]
    for i, o in enumerate(outs):
        if o.shape != a.shape or o.dtype != a.dtype:
            raise ValueError(f"all_gather: tensor_list[{i}] is {o.dtype}{list(o.shape)}, "
                             f"expected {a.dtype}{list(a.shape)} like tensor")
    buf = np.empty((g.size,) + a.shape, a.dtype)
    g.sent += a.nbytes * (g.size - 1)
    req = g.comm.Iallgather(a, buf)

    def finish():
        for o, t, part in zip(outs, tensor_list, buf):
            o[...] = part
            _written(t)

    work = Work(req, finish)
    if async_op:
        return work
    work.wait()
    return None


def broadcast_object_list(object_list: list, src: int = 0, group=None) -> None:
    """Replace the items of ``object_list`` on every rank by rank ``src``'s (any picklable
    objects: a run folder's path, a config)."""
    g = _g("broadcast_object_list")
    if not isinstance(object_list, list):
        raise TypeError(f"broadcast_object_list: object_list must be a list, got "
                        f"{type(object_list).__name__}")
    if not (isinstance(src, int) and 0 <= src < g.size):
        raise ValueError(f"broadcast_object_list: src must be a rank in 0..{g.size - 1}, got "
                         f"{src!r}")
    object_list[:] = g.comm.bcast(list(object_list) if g.rank == src else None, root=src)
