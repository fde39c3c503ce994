"""``striate.nn.parallel``: ``DataParallel`` and ``data_parallel`` as pass-throughs on the one
device striate runs on (its kernels already use every core), so programs written for several
GPUs run unchanged. As in PyTorch, the wrapped model is ``.module`` and the wrapper's
``state_dict`` keys start with ``module.``."""

from __future__ import annotations

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


class DistributedDataParallel(DataParallel):
    """One process, one device: a pass-through like :class:`DataParallel` (the gradient
    all-reduce of a single process is the identity)."""

    def __init__(self, module: Module, device_ids=None, output_device=None, dim: int = 0,
                 broadcast_buffers: bool = True, process_group=None, bucket_cap_mb=None,
                 find_unused_parameters: bool = False, **kwargs):
        super().__init__(module, device_ids, output_device, dim)


def data_parallel(module: Module, inputs, device_ids=None, output_device=None, dim: int = 0,
                  module_kwargs=None):
    """``module(*inputs, **module_kwargs)``: PyTorch's functional data parallelism, on one
    device."""
    if not isinstance(inputs, tuple):
        inputs = (inputs,)
    return module(*inputs, **(module_kwargs or {}))
