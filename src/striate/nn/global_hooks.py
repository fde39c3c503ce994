"""Global module hooks: ``torch.nn.modules.module.register_module_*_hook``. Every module's call
runs them before its own hooks of the same kind (as PyTorch); each returns a removable handle."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable

from .hooks import RemovableHandle

__all__ = ["register_module_backward_hook", "register_module_forward_hook",
           "register_module_forward_pre_hook", "register_module_full_backward_hook",
           "register_module_full_backward_pre_hook"]

forward_pre_hooks: OrderedDict = OrderedDict()
forward_hooks: OrderedDict = OrderedDict()
backward_pre_hooks: OrderedDict = OrderedDict()
backward_hooks: OrderedDict = OrderedDict()
flags: dict = {}  # {forward hook id: ("kwargs", "always")}, as Module._hook_flags
state = {"full": None}  # whether the global backward hooks are full ones (None: none yet)


def _add(store: OrderedDict, hook: Callable) -> RemovableHandle:
    handle = RemovableHandle(store)
    store[handle.id] = hook
    return handle


def register_module_forward_pre_hook(hook: Callable) -> RemovableHandle:
    """``hook(module, args)`` before every module's forward (see
    ``Module.register_forward_pre_hook``)."""
    return _add(forward_pre_hooks, hook)


def register_module_forward_hook(hook: Callable, *, with_kwargs: bool = False,
                                 always_call: bool = False) -> RemovableHandle:
    """``hook(module, args, output)`` after every module's forward (see
    ``Module.register_forward_hook``)."""
    handle = _add(forward_hooks, hook)
    if with_kwargs or always_call:
        flags[handle.id] = ("kwargs",) * with_kwargs + ("always",) * always_call
    return handle


def register_module_full_backward_pre_hook(hook: Callable) -> RemovableHandle:
    """``hook(module, grad_output)`` for every module (see
    ``Module.register_full_backward_pre_hook``)."""
    return _add(backward_pre_hooks, hook)


def register_module_full_backward_hook(hook: Callable) -> RemovableHandle:
    """``hook(module, grad_input, grad_output)`` for every module (see
    ``Module.register_full_backward_hook``)."""
    if state["full"] is False:
        raise RuntimeError("Cannot use both regular backward hooks and full backward hooks as a "
                           "global Module hook. Please use only one of them.")
    state["full"] = True
    return _add(backward_hooks, hook)


def register_module_backward_hook(hook: Callable) -> RemovableHandle:
    """Deprecated, as ``Module.register_backward_hook``, for every module."""
    if state["full"] is True:
        raise RuntimeError("Cannot use both regular backward hooks and full backward hooks as a "
                           "global Module hook. Please use only one of them.")
    state["full"] = False
    return _add(backward_hooks, hook)
