"""Argument checks the public ops share, written once: each public function checks its arguments
here, in the user's terms, before its Function runs; the layers below (Functions, kernels) trust
what they are handed.
"""

from __future__ import annotations

import numbers

import numpy as np

from ..autograd.tensor import Tensor

__all__ = ["array_of", "check_groups", "pair_arg", "require_ndim"]


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


def require_ndim(fn: str, a: np.ndarray, ndim: int, what: str = "input",
                 layout: str = "(N, C, H, W)") -> None:
    """Raise unless ``a`` has ``ndim`` dims, e.g. "conv2d: input must be 4-D (N, C, H, W), got
    shape (3, 32, 32) (add a batch dimension with unsqueeze(0))"."""
    if a.ndim != ndim:
        hint = " (add a batch dimension with unsqueeze(0))" \
            if what == "input" and a.ndim == ndim - 1 else ""
        raise ValueError(f"{fn}: {what} must be {ndim}-D {layout}, got shape {a.shape}{hint}")
