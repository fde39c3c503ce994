"""Grad mode, per thread: ``no_grad`` stops recording the graph inside its block.

The flag is thread-local (as in Chainer), so a DataLoader thread or an evaluation thread never
switches recording off for the training thread.
"""

from __future__ import annotations

import functools
import threading

__all__ = ["no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled"]

_local = threading.local()


def is_grad_enabled() -> bool:
    """Whether operations on this thread record the graph for backward."""
    return getattr(_local, "enabled", True)


def _set(enabled: bool) -> None:
    _local.enabled = bool(enabled)


class _GradMode:
    """Context manager and decorator that sets grad mode for its block, then restores it."""

    _mode = True

    def __new__(cls, *args):
        # ``@no_grad`` without parentheses, as PyTorch allows: wrap the function directly
        if len(args) == 1 and callable(args[0]) and cls is not set_grad_enabled:
            return cls()(args[0])
        return super().__new__(cls)

    def _clone(self):
        return self.__class__()

    def __enter__(self):
        self._prev = is_grad_enabled()
        _set(self._mode)
        return self

    def __exit__(self, *exc):
        _set(self._prev)
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self._clone():
                return fn(*args, **kwargs)

        return wrapper


class no_grad(_GradMode):  # noqa: N801 - PyTorch's name
    """Inside ``with striate.no_grad():`` no graph is recorded (evaluation, optimizer updates)."""

    _mode = False


class enable_grad(_GradMode):  # noqa: N801 - PyTorch's name
    """Re-enable recording inside a ``no_grad`` block."""

    _mode = True


class set_grad_enabled(_GradMode):  # noqa: N801 - PyTorch's name
    """Set grad mode to ``mode`` for a block, or for the thread when called as a function."""

    def __init__(self, mode: bool):
        self._prev = is_grad_enabled()
        self._mode = bool(mode)
        _set(self._mode)

    def _clone(self):
        return set_grad_enabled(self._mode)

    def __call__(self, fn):
        # used as a decorator, construction must not change the mode of the defining thread
        _set(self._prev)
        return super().__call__(fn)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        _set(self._prev)
        return False
