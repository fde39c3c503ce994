"""Checks and rules the public ops share, written once: argument checks in the user's terms
(each public function checks here, before its Function runs; the layers below trust what they
are handed), PyTorch's dtype promotion, broadcasting and dim arguments, each reporting a bad
argument in the op's own words (never NumPy's message).
"""

from __future__ import annotations

import numbers

import numpy as np

from .. import backend
from ..autograd.tensor import Tensor

__all__ = ["array_of", "check_groups", "pair_arg", "require_float", "require_ndim",
           "promote_types", "result_type", "float_result", "cast_wrapping", "broadcast_shapes",
           "reduce_dims"]


def array_of(t) -> np.ndarray:
    """The array behind a Tensor, or ``np.asarray`` of anything else."""
    return t.array if isinstance(t, Tensor) else np.asarray(t)


def _is_int(v) -> bool:
    return isinstance(v, numbers.Integral) and not isinstance(v, bool)


def pair_arg(v, name: str, fn: str, minimum: int) -> tuple[int, int]:
    """``v`` as an (h, w) pair of ints (an int is used for both), each ``>= minimum``.

    Raises:
        TypeError: not an int or a pair of ints, naming ``fn`` and ``name``.
        ValueError: a value below ``minimum``.
    """
    if type(v) is tuple and len(v) == 2 and _is_int(v[0]) and _is_int(v[1]):
        p = (int(v[0]), int(v[1]))  # the common case: a layer hands its stored pair on
    elif _is_int(v):
        p = (int(v), int(v))
    elif isinstance(v, (tuple, list)) and len(v) == 2 and all(_is_int(e) for e in v):
        p = (int(v[0]), int(v[1]))
    else:
        raise TypeError(f"{fn}: {name} must be an int or a pair of ints, got {v!r}")
    if min(p) < minimum:
        raise ValueError(f"{fn}: {name} must be >= {minimum}, got {v!r}")
    return p


def check_groups(fn: str, groups, c_in: int, c_out: int) -> int:
    """``groups`` as a positive int dividing both channel counts."""
    if isinstance(groups, bool) or not isinstance(groups, (int, np.integer)) or groups < 1:
        raise ValueError(f"{fn}: groups must be a positive int, got {groups!r}")
    if c_in % groups or c_out % groups:
        raise ValueError(
            f"{fn}: groups {groups} must divide both the input channels {c_in} and the "
            f"output channels {c_out}"
        )
    return int(groups)


def require_float(input: Tensor, name: str) -> None:
    """Refuse integer and bool input, as PyTorch does for ops that would truncate them."""
    if input.array.dtype.kind not in "fc":
        raise TypeError(
            f"{name}: input must be a floating tensor, got dtype {input.array.dtype} "
            f"(convert it with .float() first)"
        )


def require_ndim(fn: str, a: np.ndarray, ndim: int, what: str = "input",
                 layout: str = "(N, C, H, W)") -> None:
    """Raise unless ``a`` has ``ndim`` dims, e.g. "conv2d: input must be 4-D (N, C, H, W), got
    shape (3, 32, 32) (add a batch dimension with unsqueeze(0))"."""
    if a.ndim != ndim:
        hint = " (add a batch dimension with unsqueeze(0))" \
            if what == "input" and a.ndim == ndim - 1 else ""
        raise ValueError(f"{fn}: {what} must be {ndim}-D {layout}, got shape {a.shape}{hint}")



_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}


def promote_types(a, b) -> np.dtype:
    """PyTorch's ``promote_types``: the smallest dtype holding both, except that a float (or
    complex) type wins over any integer or bool whatever its size (float16 + int64 is float16;
    NumPy would answer float64)."""
    a, b = np.dtype(a), np.dtype(b)
    ca, cb = _CATEGORY[a.kind], _CATEGORY[b.kind]
    if ca != cb and max(ca, cb) == 2:
        return a if ca > cb else b
    return np.promote_types(a, b)


def _kind(x):
    """(group, dtype) of an operand: 0 a tensor with dims, 1 a 0-d tensor, 2 a Python number."""
    if isinstance(x, Tensor):
        x = x.array
    if isinstance(x, np.ndarray):
        return (0 if x.ndim else 1), x.dtype
    if isinstance(x, np.generic):
        return 1, x.dtype
    if isinstance(x, (bool, np.bool_)):
        return 2, np.dtype(np.bool_)
    if isinstance(x, numbers.Integral):
        return 2, np.dtype(np.int64)
    if isinstance(x, numbers.Real):
        return 2, backend.get_default_dtype()
    if isinstance(x, numbers.Complex):
        return 2, np.dtype(np.complex64 if backend.get_default_dtype() == np.float32
                           else np.complex128)
    raise TypeError(f"expected a Tensor or a number, got {type(x).__name__}")


def _combine(higher, lower):
    """Merge a lower-priority group's dtype into a higher one's: it counts only when it belongs
    to a higher category (an int tensor times a float 0-d tensor becomes float)."""
    if higher is None:
        return lower
    if lower is None:
        return higher
    ch, cl = _CATEGORY[higher.kind], _CATEGORY[lower.kind]
    if cl > ch:
        return promote_types(higher, lower)
    return higher


def result_type(*operands) -> np.dtype:
    """The dtype PyTorch gives an elementwise op of ``operands`` (Tensors, arrays, numbers).

    Tensors with dims decide among themselves; 0-d tensors, and after them Python numbers, count
    only when their category (bool < integer < float < complex) is higher: float32 times a
    float64 0-d tensor stays float32, an int64 tensor times 2.5 becomes the default float dtype.
    """
    groups = [None, None, None]
    for x in operands:
        g, dt = _kind(x)
        groups[g] = dt if groups[g] is None else promote_types(groups[g], dt)
    return _combine(groups[0], _combine(groups[1], groups[2]))


def cast_wrapping(x, dtype) -> np.ndarray:
    """``x`` (a Tensor, array or number) as an array of ``dtype``, integers wrapping around as in
    C and PyTorch (-3 as uint8 is 253, where NumPy refuses the Python int)."""
    if isinstance(x, np.generic):
        x = x.item()
    a = np.asarray(array_of(x))
    return a if a.dtype == dtype else a.astype(dtype)


def float_result(dtype) -> np.dtype:
    """The dtype of a float function (exp, log, sqrt, true division) of ``dtype``: itself when
    floating, else the default float dtype (PyTorch's rule for integer and bool inputs)."""
    dtype = np.dtype(dtype)
    return dtype if dtype.kind in "fc" else backend.get_default_dtype()


def broadcast_shapes(name: str, *shapes) -> tuple:
    """The broadcast of ``shapes``, or a ValueError naming ``name`` and the dim that clashes."""
    try:
        return np.broadcast_shapes(*shapes)
    except ValueError:
        pass
    ndim = max(len(s) for s in shapes)
    for k in range(1, ndim + 1):
        sizes = {s[-k] for s in shapes if len(s) >= k} - {1}
        if len(sizes) > 1:
            a, b = sorted(sizes)[:2]
            raise ValueError(
                f"{name}: shapes {' and '.join(str(tuple(s)) for s in shapes)} are not "
                f"broadcastable: sizes {a} and {b} meet at dim {ndim - k} (counting from the "
                "left of the longer shape; sizes must match or be 1)"
            )
    raise ValueError(f"{name}: shapes {shapes} are not broadcastable")  # pragma: no cover


def reduce_dims(name: str, dim, ndim: int) -> tuple:
    """Normalise a reduction's ``dim`` (None, an int or a sequence of ints) to sorted-free,
    non-negative axes; None and ``()`` mean every dim, as in PyTorch. A 0-d tensor accepts dim
    0 and -1 (it is reduced over nothing). Out-of-range or repeated dims raise, naming ``name``.
    """
    if dim is None:
        return tuple(range(ndim))
    dims = (dim,) if isinstance(dim, (numbers.Integral, np.integer)) else tuple(dim)
    if not dims:
        return tuple(range(ndim))
    n = max(ndim, 1)
    out = []
    for d in dims:
        if not isinstance(d, (numbers.Integral, np.integer)) or isinstance(d, bool):
            raise TypeError(f"{name}: dim must be an int or a tuple of ints, got {dim!r}")
        if not -n <= d < n:
            raise IndexError(
                f"{name}: dim {d} is out of range for a tensor with {ndim} dimensions "
                f"(expected a dim in [{-n}, {n - 1}])"
            )
        d = int(d) % n
        if d in out:
            raise ValueError(f"{name}: dim {d} appears more than once in dim={dim!r}")
        out.append(d)
    if ndim == 0:
        return ()
    return tuple(out)
