"""``striate.nn.parallel``: ``DataParallel`` and ``data_parallel`` as pass-throughs on the one
device striate runs on (its kernels already use every core), so programs written for several
GPUs run unchanged; ``DistributedDataParallel`` averages gradients over the processes of a
``striate.distributed`` job (MPI). As in PyTorch, the wrapped model is ``.module`` and the wrapper's
``state_dict`` keys start with ``module.``."""

from __future__ import annotations

import contextlib
import weakref

import numpy as np

from .. import distributed as dist
from ..autograd.grad_mode import is_grad_enabled, no_grad
from ..autograd.tensor import Tensor
from .module import Module

__all__ = ["DataParallel", "DistributedDataParallel", "data_parallel"]


class DataParallel(Module):
    """Wraps ``module``; ``forward`` calls it directly (no scatter, no replicas, no gather).

    Args: module; device_ids, output_device, dim: accepted and ignored (one device).
    """

    def __init__(self, module: Module, device_ids=None, output_device=None, dim: int = 0):
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"DataParallel: module must be a Module, got {type(module).__name__}")
        self.module = module
        self.device_ids = [] if device_ids is None else list(device_ids)
        self.output_device, self.dim = output_device, dim

    def forward(self, *inputs, **kwargs):
        return self.module(*inputs, **kwargs)


class DistributedDataParallel(Module):
    """Data-parallel training over the processes of :mod:`striate.distributed` (PyTorch's
    ``DistributedDataParallel``).

    At construction the parameters and buffers of rank 0 are broadcast to every rank, so all
    replicas start equal. During backward each parameter's gradient, once accumulated, is copied
    into a bucket (several parameters per message, about ``bucket_cap_mb`` MiB, in reverse order
    of ``parameters()``, roughly the order backward produces them); a full bucket's all-reduce
    starts at once while backward goes on with earlier layers, buckets always in the same order
    on every rank. When the last gradient is in, the averaged buckets are written back into the
    parameters' ``.grad``: every rank then takes the same optimizer step.

    Args:
        module: the model.
        broadcast_buffers: broadcast rank 0's buffers (BatchNorm's running statistics) before
            each forward in training mode.
        bucket_cap_mb: the size of a bucket in MiB (default 25, as PyTorch's).
        find_unused_parameters: walk the graph of each forward's outputs and count the
            parameters it does not reach as ready (with a zero gradient); without it, a forward
            that leaves a parameter unused makes the next forward raise, naming the parameters.
        device_ids, output_device, dim, process_group, and other PyTorch arguments: accepted;
            striate has one device and one process group.

    With one process (or no process group) it passes ``forward`` through and touches no
    gradient. ``no_sync()`` accumulates gradients locally for the steps inside it; the next
    backward outside it averages the accumulated sums.
    """

    def __init__(self, module: Module, device_ids=None, output_device=None, dim: int = 0,
                 broadcast_buffers: bool = True, process_group=None, bucket_cap_mb=None,
                 find_unused_parameters: bool = False, **kwargs):
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"DistributedDataParallel: module must be a Module, got "
                            f"{type(module).__name__}")
        cap = 25.0 if bucket_cap_mb is None else float(bucket_cap_mb)
        if not cap > 0:
            raise ValueError(f"DistributedDataParallel: bucket_cap_mb must be > 0, got "
                             f"{bucket_cap_mb!r}")
        self.module = module
        self.device_ids = [] if device_ids is None else list(device_ids)
        self.output_device, self.dim = output_device, dim
        self.broadcast_buffers = bool(broadcast_buffers)
        self.find_unused_parameters = bool(find_unused_parameters)
        self.bucket_cap_mb = cap
        world = dist.get_world_size() if dist.is_initialized() else 1
        reducer = _Reducer(module, cap) if world > 1 else None
        object.__setattr__(self, "_reducer", reducer)
        if reducer is not None:  # the parameters stop reporting to this wrapper once it is gone
            weakref.finalize(self, reducer.remove_hooks)

    def forward(self, *inputs, **kwargs):
        r = self._reducer
        if r is None:
            return self.module(*inputs, **kwargs)
        r.prepare_forward()
        if self.broadcast_buffers and self.training:
            for b in self.module.buffers():
                dist.broadcast(b, src=0)
        out = self.module(*inputs, **kwargs)
        if self.find_unused_parameters and is_grad_enabled():
            r.mark_unreached(out)
        return out

    @contextlib.contextmanager
    def no_sync(self):
        """Accumulate gradients locally (no communication) for the backward passes inside."""
        r = self._reducer
        old = None if r is None else r.enabled
        if r is not None:
            r.enabled = False
        try:
            yield
        finally:
            if r is not None:
                r.enabled = old


class _Bucket:
    def __init__(self, params, dtype):
        self.params = params
        self.offsets = []
        n = 0
        for p in params:
            self.offsets.append(n)
            n += p.array.size
        self.buffer = np.zeros(n, dtype)
        self.ready = 0
        self.work = None


class _Reducer:
    """The gradient buckets of one DistributedDataParallel and the hooks that fill them."""

    def __init__(self, module: Module, cap_mb: float):
        self.module = module
        self.enabled = True
        with no_grad():  # every replica starts from rank 0's weights
            for t in list(module.parameters()) + list(module.buffers()):
                dist.broadcast(t, src=0)
        params = [p for p in module.parameters() if p.requires_grad]
        self.names = {id(p): n for n, p in module.named_parameters()}
        cap = int(cap_mb * 2**20)
        self.buckets: list[_Bucket] = []
        self.where = {}  # id(param) -> (bucket index, position in it)
        self.handles = []
        current, size, dtype = [], 0, None
        for p in reversed(params):  # backward meets the last layers first
            nbytes = p.array.nbytes
            if current and (size + nbytes > cap or p.array.dtype != dtype):
                self.buckets.append(_Bucket(current, dtype))
                current, size = [], 0
            current.append(p)
            size += nbytes
            dtype = p.array.dtype
        if current:
            self.buckets.append(_Bucket(current, dtype))
        for bi, b in enumerate(self.buckets):
            for pi, p in enumerate(b.params):
                self.where[id(p)] = (bi, pi)
                self.handles.append(p.register_post_accumulate_grad_hook(self._ready))
        self.total = len(params)
        self.pending = 0  # gradients in so far this backward
        self.launched = 0  # buckets whose all-reduce has started, in order
        self.seen = set()

    def remove_hooks(self) -> None:
        for h in self.handles:
            h.remove()
        self.handles = []

    def prepare_forward(self) -> None:
        if self.pending:
            missing = [self.names.get(id(p), "?") for b in self.buckets for p in b.params
                       if id(p) not in self.seen]
            self._reset()
            raise RuntimeError(
                f"DistributedDataParallel: the previous backward did not produce gradients for "
                f"{len(missing)} parameter(s) ({', '.join(missing[:5])}"
                f"{', ...' if len(missing) > 5 else ''}), so their reduction never finished; pass "
                f"find_unused_parameters=True if the model does not use every parameter in "
                f"every forward")

    def _reset(self) -> None:
        self.pending = 0
        self.launched = 0
        self.seen = set()
        for b in self.buckets:
            b.ready = 0
            b.work = None

    def mark_unreached(self, out) -> None:
        """Count the parameters the graph of ``out`` does not reach as ready (zero gradient)."""
        reached = set()
        stack = [t.grad_fn for t in _tensors(out) if t.grad_fn is not None]
        stack += [t._acc() for t in _tensors(out) if t.grad_fn is None and t._acc is not None]
        seen = set()
        while stack:
            node = stack.pop()
            if node is None or id(node) in seen:
                continue
            seen.add(id(node))
            var = getattr(node, "variable", None)
            if var is not None:
                reached.add(id(var))
            stack.extend(n for n, _ in getattr(node, "next_functions", ()))
        for b in self.buckets:
            for p in b.params:
                if id(p) not in reached:
                    self._ready(p, unused=True)

    def _ready(self, p, unused: bool = False) -> None:
        if not self.enabled or id(p) in self.seen:
            return
        self.seen.add(id(p))
        bi, pi = self.where[id(p)]
        b = self.buckets[bi]
        n, off = p.array.size, b.offsets[pi]
        if unused or p.grad is None:
            b.buffer[off:off + n] = 0
        else:
            b.buffer[off:off + n] = p.grad.array.reshape(-1)
        b.ready += 1
        self.pending += 1
        # start every full bucket whose predecessors have started: the same order on every rank
        while self.launched < len(self.buckets):
            nb = self.buckets[self.launched]
            if nb.ready < len(nb.params):
                break
            nb.work = dist.all_reduce_async(nb.buffer, dist.ReduceOp.AVG)
            self.launched += 1
        if self.pending == self.total:
            self._finish()

    def _finish(self) -> None:
        for b in self.buckets:
            b.work.wait()
            for p, off in zip(b.params, b.offsets):
                avg = b.buffer[off:off + p.array.size].reshape(p.array.shape)
                if p.grad is None:
                    p.grad = Tensor(avg.astype(p.array.dtype, copy=True))
                else:
                    p.grad.array[...] = avg
                    p.grad._bump_version()
        self._reset()


def _tensors(out):
    if isinstance(out, Tensor):
        return [out]
    if isinstance(out, (tuple, list)):
        return [t for o in out for t in _tensors(o)]
    if isinstance(out, dict):
        return [t for o in out.values() for t in _tensors(o)]
    return []


def data_parallel(module: Module, inputs, device_ids=None, output_device=None, dim: int = 0,
                  module_kwargs=None):
    """``module(*inputs, **module_kwargs)``: PyTorch's functional data parallelism, on one
    device."""
    if not isinstance(inputs, tuple):
        inputs = (inputs,)
    return module(*inputs, **(module_kwargs or {}))
