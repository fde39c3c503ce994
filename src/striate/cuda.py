"""``striate.cuda``: whether a GPU can be used, for code written as
``torch.device("cuda" if torch.cuda.is_available() else "cpu")``.

striate's operations run on NumPy, on the CPU: the GPU backend (CuPy) is not built yet, so
``is_available()`` is False whatever the machine has, and such scripts pick ``"cpu"``.
``device_count()`` still reports the GPUs CuPy can see, for information.
"""

from __future__ import annotations

import importlib.util

__all__ = ["device_count", "is_available"]


def device_count() -> int:
    """How many CUDA GPUs CuPy sees (0 without CuPy or without a GPU)."""
    if importlib.util.find_spec("cupy") is None:
        return 0
    try:
        import cupy

        return int(cupy.cuda.runtime.getDeviceCount())
    except Exception:  # noqa: BLE001 - CuPy raises driver-specific errors when no GPU is usable
        return 0


def is_available() -> bool:
    """Whether striate can compute on a GPU: not yet (the ops are NumPy-only), so False."""
    from .backend import GPU_BACKEND

    return GPU_BACKEND and device_count() > 0
