"""A Python number written into a tensor of a given dtype, converted as PyTorch converts it.

PyTorch wraps an integer into an unsigned type two's-complement style (-1 into uint8 is 255) but
refuses a value no conversion can hold ("value cannot be converted to type uint8_t without
overflow"): an integer outside [-max, max] of an unsigned type or [min, max] of a signed one, a
float outside [min, max] (or inf, NaN) for any integer type. NumPy instead raises OverflowError
for -1 into uint8 and silently turns inf into an arbitrary integer. ``fill_``, ``masked_fill``
and item assignment share this one rule.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

__all__ = ["scalar_as"]


def scalar_as(name: str, value, dtype) -> np.ndarray:
    """``value`` (a Python or NumPy number) as a 0-d array of ``dtype``, converted as PyTorch does.

    Raises:
        OverflowError naming ``name`` when PyTorch refuses the conversion.
    """
    dtype = np.dtype(dtype)
    if isinstance(value, np.generic):
        value = value.item()
    if dtype.kind in "iu" and not isinstance(value, bool):
        info = np.iinfo(dtype)
        if isinstance(value, numbers.Integral):
            lo = -int(info.max) if dtype.kind == "u" else int(info.min)
            ok = lo <= value <= info.max
        else:
            ok = math.isfinite(value) and info.min <= value <= info.max
        if not ok:
            raise OverflowError(f"{name}: value {value!r} cannot be converted to {dtype} "
                                "without overflow")
        if isinstance(value, numbers.Integral):
            return np.array(value, dtype=np.int64).astype(dtype)  # wraps, as in C
    return np.array(value).astype(dtype)
