"""Disagreements with PyTorch that the fuzz suite finds today, one entry per (op, condition).

Each entry is machine-readable: `op` (a key of `optable.SPECS`), `aspect` (what differs: value,
dtype, shape, grad, accepts = striate accepts what PyTorch refuses, raises = striate raises where
PyTorch computes, error = striate's error is NumPy's or names nothing), `when` (a predicate on a
generated `Case`: the property test forgives a mismatch of that aspect only on cases it holds
for), a one-line `reason`, and `repro`, a minimal `Case` (with `grad` for gradient entries).
`test_known_disagreements_still_happen` runs every repro and FAILS when the disagreement no
longer happens, so the list cannot rot: delete the entry when the fix lands.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .engine import Arr, Case
from .optable import SPECS


@dataclass
class Known:
    ops: tuple  # keys of optable.SPECS sharing one cause (and one repro)
    aspect: str
    when: object  # Case -> bool
    reason: str
    repro: Case
    grad: bool = False


def A(values, dtype="float64", layout="contiguous"):  # noqa: N802 - a short literal maker
    return Arr(np.array(values, dtype=dtype), layout)


def C(*args, **kwargs):  # noqa: N802
    return Case(args, kwargs)


def FT(*names):  # noqa: N802 - "F.x" and "Tensor.x" (where Tensor has it) for each name
    return tuple(f"{p}.{n}" for n in names for p in ("F", "Tensor") if f"{p}.{n}" in SPECS)


def T(*names):  # noqa: N802
    return tuple(f"Tensor.{n}" for n in names)


# conditions
ANY = lambda c: True  # noqa: E731
INT = lambda c: c.has_int  # noqa: E731
BOOL = lambda c: "bool" in c.dtypes or any(isinstance(v, bool) for v in c.args)  # noqa: E731
EMPTY = lambda c: c.has_empty  # noqa: E731
ZERO_D = lambda c: c.has_zero_d  # noqa: E731
NAN_OR_INF = lambda c: c.has_nan or c.has_inf  # noqa: E731


def PROMO(c):  # noqa: N802 - integers, bools, or floats of two widths meet
    floats = {d for d in c.dtypes if d.startswith("float")}
    return c.has_int or len(floats) > 1 or (
        floats and any(isinstance(v, float) for v in c.args))


def DIMS(pred):  # noqa: N802 - a condition on the dim= argument
    def when(c):
        d = c.kwargs.get("dim", c.args[1] if len(c.args) > 1 else None)
        return pred(d, c)
    return when


def _dup(d, c):
    if not isinstance(d, tuple):
        return False
    nd = max(c.first().ndim, 1)
    return len({x % nd for x in d}) < len(d)


REDUCE = FT("sum", "mean", "std", "var") + ("F.amax", "F.amin")
BINARY = FT("add", "sub", "mul", "div", "pow", "maximum", "minimum") + T(
    "__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__", "__truediv__",
    "__rtruediv__", "__pow__", "__rpow__")
COMPARE = FT("lt", "le", "gt", "ge") + T("__lt__", "__le__", "__gt__", "__ge__")
U8 = "uint8"

# Empty since issue 11's remainder: every disagreement the suite found is fixed, or is a documented
# decision in deliberate.py. A new finding goes here, grouped by cause, until its fix lands.
KNOWN: list[Known] = []


def match(op: str, aspect: str, case: Case) -> Known | None:
    for k in KNOWN:
        if op in k.ops and k.aspect == aspect and k.when(case):
            return k
    return None
