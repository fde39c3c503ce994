"""Gradient clipping: rescale all gradients to a maximum total norm, or clamp each value.

Both work in place on the ``.grad`` arrays, between ``loss.backward()`` and ``optimizer.step()``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from ... import backend
from ...autograd.tensor import Tensor

__all__ = ["clip_grad_norm_", "clip_grad_value_"]


def _grads(parameters, name: str) -> list:
    """The gradient arrays of ``parameters`` (a Tensor or an iterable of Tensors), skipping None."""
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    grads = []
    for i, p in enumerate(parameters):
        if not isinstance(p, Tensor):
            raise TypeError(f"{name}: parameter {i} must be a Tensor, got {type(p).__name__}")
        if p.grad is not None:
            grads.append(p.grad.array if isinstance(p.grad, Tensor) else p.grad)
    return grads


def _norm(g, p: float):
    """The p-norm of an array taken as one flat vector (``p`` > 0 or inf)."""
    xp = backend.get_array_module(g)
    if p == math.inf:
        return xp.max(xp.abs(g)) if g.size else xp.zeros((), dtype=g.dtype)
    if p == 2.0:
        return xp.sqrt(xp.vdot(g.ravel(), g.ravel()))  # one BLAS call, no |g|**2 temporary
    return xp.sum(xp.abs(g) ** p) ** (1.0 / p)


def clip_grad_norm_(
    parameters: Tensor | Iterable[Tensor],
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
) -> Tensor:
    """Scale all gradients together so that their total norm is at most ``max_norm``.

    The total norm is the ``norm_type``-norm of all gradients concatenated into one vector. Each
    gradient is multiplied in place by ``min(1, max_norm / (total_norm + 1e-6))``, as in PyTorch.
    Parameters whose ``grad`` is None are skipped.

    Args:
        parameters: a Tensor or an iterable of Tensors whose ``.grad`` to clip.
        max_norm: the largest total norm allowed (>= 0).
        norm_type: the p of the p-norm, > 0, or ``float('inf')`` / ``'inf'`` for the largest
            absolute value (default 2).
        error_if_nonfinite: raise if the total norm is NaN or infinite (default False).

    Returns:
        the total norm of the gradients before clipping, a 0-d float Tensor (0 if no gradients).

    Raises:
        ValueError: ``max_norm`` < 0, ``norm_type`` <= 0, or a non-finite norm when
            ``error_if_nonfinite``.

    Example:
        >>> import numpy as np, striate
        >>> from striate.optim import clip_grad_norm_
        >>> w = striate.tensor(np.zeros(2), requires_grad=True)
        >>> w.grad = striate.tensor(np.array([3.0, 4.0]))
        >>> float(clip_grad_norm_([w], max_norm=1.0))
        5.0
        >>> np.round(w.grad.array, 4).tolist()
        [0.6, 0.8]
    """
    name = "clip_grad_norm_"
    max_norm = float(max_norm)
    p = float(norm_type)
    if not max_norm >= 0:  # also catches NaN
        raise ValueError(f"{name}: max_norm must be >= 0, got {max_norm}")
    if not p > 0:  # also catches NaN
        raise ValueError(f"{name}: norm_type must be > 0 or inf, got {norm_type!r}")
    grads = _grads(parameters, name)
    if not grads:
        return Tensor(np.zeros((), dtype=backend.get_default_dtype()))
    xp = backend.get_array_module(grads[0])
    norms = xp.stack([_norm(g, p) for g in grads])
    total = _norm(norms, p)
    if error_if_nonfinite and not bool(xp.isfinite(total)):
        raise ValueError(
            f"{name}: the total norm of order {norm_type} of the gradients is {float(total)}, so "
            "they cannot be clipped; set error_if_nonfinite=False to clip anyway"
        )
    # Multiply even when the factor is 1, as PyTorch does: a NaN or infinite total norm then
    # shows up in the gradients instead of passing silently.
    coef = min(max_norm / (float(total) + 1e-6), 1.0)
    for g in grads:
        g *= coef
    return Tensor(xp.asarray(total))


def clip_grad_value_(parameters: Tensor | Iterable[Tensor], clip_value: float) -> None:
    """Clamp every gradient value to ``[-clip_value, clip_value]``, in place.

    Args:
        parameters: a Tensor or an iterable of Tensors whose ``.grad`` to clip.
        clip_value: the largest absolute value allowed (>= 0).

    Raises:
        ValueError: ``clip_value`` < 0.
    """
    clip_value = float(clip_value)
    if not clip_value >= 0:  # also catches NaN
        raise ValueError(f"clip_grad_value_: clip_value must be >= 0, got {clip_value}")
    for g in _grads(parameters, "clip_grad_value_"):
        xp = backend.get_array_module(g)
        xp.clip(g, -clip_value, clip_value, out=g)
