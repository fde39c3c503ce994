"""``striate.backends.cudnn``: PyTorch's cuDNN flags, accepted and without effect.

There is no cuDNN behind striate (its convolutions are NumPy/numba kernels, deterministic for a
given seed and thread count), so ``benchmark``, ``deterministic`` and ``enabled`` are plain module
attributes a program may read and set; ``is_available()`` is False and ``version()`` is None, as
PyTorch reports on a machine without cuDNN.
"""

from __future__ import annotations

__all__ = ["allow_tf32", "benchmark", "deterministic", "enabled", "is_available", "version"]

benchmark: bool = False
deterministic: bool = False
enabled: bool = True
allow_tf32: bool = True


def is_available() -> bool:
    """Whether cuDNN can be used: never in striate."""
    return False


def version() -> int | None:
    """cuDNN's version number, None as there is none."""
    return None
