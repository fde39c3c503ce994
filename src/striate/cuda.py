"""``striate.cuda``: whether a GPU can be used, for code written as
``torch.device("cuda" if torch.cuda.is_available() else "cpu")``.

striate runs on a GPU through CuPy (``t.to("cuda")``); there are no streams or events to manage.
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
    """True when CuPy is installed and sees a GPU, so ``t.to("cuda")`` works."""
    return device_count() > 0
