"""``striate.accelerator``: PyTorch 2.6+'s device-agnostic accelerator queries.

PyTorch defines an accelerator as a device other than the CPU (CUDA, MPS, XPU, ...) that the
current process can use; ``current_accelerator()`` returns it as a ``device``, or None when there
is none. striate computes on the CPU with NumPy, so there is no accelerator: programs written as
``torch.accelerator.current_accelerator() if torch.accelerator.is_available() else "cpu"`` pick
the CPU.
"""

from __future__ import annotations

from . import cuda
from .devices import device

__all__ = ["current_accelerator", "device_count", "is_available"]


def is_available() -> bool:
    """Whether an accelerator can be used (False: striate's ops run on the CPU)."""
    return cuda.is_available()


def current_accelerator(check_available: bool = False) -> device | None:
    """The accelerator as a ``device`` (``device("cuda")``), or None when there is none.

    Args:
        check_available: if True, return None unless the accelerator is also available (as
            PyTorch); without an accelerator the answer is None either way.
    """
    if not cuda.is_available():
        return None
    return device("cuda")


def device_count() -> int:
    """How many accelerator devices can be used (0 without an accelerator)."""
    return cuda.device_count() if cuda.is_available() else 0
