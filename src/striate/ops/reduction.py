"""Reductions: sum, mean, max, min, var, std, and the non-differentiable argmax/argmin.

``dim`` may be None (all elements), an int or a tuple of ints; ``keepdim`` keeps the reduced
axes with size 1, as in PyTorch.
"""

from __future__ import annotations

import builtins
from collections import namedtuple

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import Tensor

__all__ = ["sum", "mean", "max", "min", "var", "std", "argmax", "argmin", "amax", "amin"]

MaxMin = namedtuple("MaxMin", ["values", "indices"])


def _axes(dim, ndim: int, name: str):
    """Normalise ``dim`` to a tuple of non-negative axes (None means all)."""
    if dim is None:
        return tuple(range(ndim))
    dims = (dim,) if isinstance(dim, (int, np.integer)) else tuple(dim)
    n = builtins.max(ndim, 1)  # this module defines its own max
    out = []
    for d in dims:
        if not -n <= d < n:
            raise IndexError(
                f"{name}: dim {d} is out of range for a tensor with {ndim} dimensions"
            )
        out.append(d % n)
    return tuple(out)


def _expand_back(g, in_shape, axes, keepdim):
    """Reshape a reduced gradient so it broadcasts against the input again."""
    if not keepdim:
        shape = [1 if i in axes else n for i, n in enumerate(in_shape)]
        g = g.reshape(shape)
    return g


class Sum(Function):
    @staticmethod
    def forward(ctx, a, axes, keepdim):
        ctx.shape, ctx.axes, ctx.keepdim = a.shape, axes, keepdim
        return np.asarray(a.sum(axis=axes, keepdims=keepdim))

    @staticmethod
    def backward(ctx, g):
        # every input element contributes with slope 1: broadcast the gradient back
        g = _expand_back(g, ctx.shape, ctx.axes, ctx.keepdim)
        return np.broadcast_to(g, ctx.shape)


class Mean(Function):
    @staticmethod
    def forward(ctx, a, axes, keepdim):
        ctx.shape, ctx.axes, ctx.keepdim = a.shape, axes, keepdim
        ctx.n = int(np.prod([a.shape[i] for i in axes])) if axes else 1
        return np.asarray(a.mean(axis=axes, keepdims=keepdim))

    @staticmethod
    def backward(ctx, g):
        g = _expand_back(g, ctx.shape, ctx.axes, ctx.keepdim)
        return np.broadcast_to(g / ctx.n, ctx.shape)


class MaxReduce(Function):
    @staticmethod
    def forward(ctx, a, axes, keepdim, fn):
        y = fn(a, axis=axes, keepdims=True)
        # the gradient goes to the arg-extreme; ties share it equally (a valid subgradient)
        mask = a == y
        ctx.save_for_backward(mask)
        ctx.count = mask.sum(axis=axes, keepdims=True)
        ctx.shape, ctx.axes, ctx.keepdim = a.shape, axes, keepdim
        return np.asarray(y if keepdim else y.reshape([n for i, n in enumerate(a.shape)
                                                        if i not in axes]))

    @staticmethod
    def backward(ctx, g):
        (mask,) = ctx.saved
        g = _expand_back(g, ctx.shape, ctx.axes, ctx.keepdim)
        return mask * (g / ctx.count)


class SelectAlong(Function):
    @staticmethod
    def forward(ctx, a, index, axis, keepdim):
        # index: the arg-extreme along ``axis`` with keepdims=True, computed once by the caller
        ctx.index, ctx.axis, ctx.shape = index, axis, a.shape
        y = np.take_along_axis(a, index, axis)
        return y if keepdim else y.squeeze(axis)

    @staticmethod
    def backward(ctx, g):
        # only the selected element gets the gradient, as PyTorch's max(dim) (ties: the index)
        if g.ndim < len(ctx.shape):
            g = np.expand_dims(g, ctx.axis)
        dx = np.zeros(ctx.shape, dtype=g.dtype)
        np.put_along_axis(dx, ctx.index, g, ctx.axis)
        return dx


class Var(Function):
    @staticmethod
    def forward(ctx, a, axes, keepdim, correction):
        mu = a.mean(axis=axes, keepdims=True)
        d = a - mu
        n = int(np.prod([a.shape[i] for i in axes])) if axes else 1
        denom = n - correction
        if denom <= 0:
            raise ValueError(
                f"var: {n} element(s) per reduction is too few for correction={correction}"
            )
        ctx.save_for_backward(d)
        ctx.denom, ctx.shape, ctx.axes, ctx.keepdim = denom, a.shape, axes, keepdim
        return np.asarray((d * d).sum(axis=axes, keepdims=keepdim) / denom)

    @staticmethod
    def backward(ctx, g):
        # d var / dx_i = 2 (x_i - mean) / (n - correction); the mean's own term sums to zero
        (d,) = ctx.saved
        g = _expand_back(g, ctx.shape, ctx.axes, ctx.keepdim)
        return g * (2.0 / ctx.denom) * d


def sum(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:  # noqa: A001
    """Sum over ``dim`` (all elements when None)."""
    return Sum.apply(input, axes=_axes(dim, input.ndim, "sum"), keepdim=keepdim)


def mean(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """Mean over ``dim`` (all elements when None)."""
    return Mean.apply(input, axes=_axes(dim, input.ndim, "mean"), keepdim=keepdim)


def _extreme(input, dim, keepdim, fn, argfn, name):
    if input.array.size == 0:
        raise ValueError(f"{name}: the input is empty (shape {input.shape})")
    if dim is None:
        return MaxReduce.apply(input, axes=_axes(None, input.ndim, name), keepdim=False, fn=fn)
    axes = _axes(dim, input.ndim, name)
    if len(axes) != 1:
        return MaxReduce.apply(input, axes=axes, keepdim=keepdim, fn=fn)
    (axis,) = axes
    if input.ndim == 0:  # dim 0 or -1 of a 0-d tensor: itself, at index 0
        index = np.zeros((), dtype=np.int64)
        return MaxMin(MaxReduce.apply(input, axes=(), keepdim=keepdim, fn=fn), Tensor(index))
    index = argfn(input.array, axis=axis, keepdims=True).astype(np.int64)
    values = SelectAlong.apply(input, index=index, axis=axis, keepdim=keepdim)
    return MaxMin(values, Tensor(index if keepdim else index.squeeze(axis)))


def max(input: Tensor, dim=None, keepdim: bool = False):  # noqa: A001
    """The maximum of all elements, or ``(values, indices)`` along ``dim`` as in PyTorch."""
    if isinstance(dim, Tensor):  # torch.max(a, b) is the elementwise maximum
        from .elementwise import maximum

        return maximum(input, dim)
    return _extreme(input, dim, keepdim, np.max, np.argmax, "max")


def min(input: Tensor, dim=None, keepdim: bool = False):  # noqa: A001
    """The minimum of all elements, or ``(values, indices)`` along ``dim`` as in PyTorch."""
    if isinstance(dim, Tensor):
        from .elementwise import minimum

        return minimum(input, dim)
    return _extreme(input, dim, keepdim, np.min, np.argmin, "min")


def amax(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """Maximum values over one or several dims (no indices)."""
    return MaxReduce.apply(input, axes=_axes(dim, input.ndim, "amax"), keepdim=keepdim, fn=np.max)


def amin(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    return MaxReduce.apply(input, axes=_axes(dim, input.ndim, "amin"), keepdim=keepdim, fn=np.min)


def var(input: Tensor, dim=None, keepdim: bool = False, unbiased: bool = True,
        correction: int | None = None) -> Tensor:
    """Variance over ``dim``; unbiased (divide by n - 1) by default, as in PyTorch."""
    if correction is None:
        correction = 1 if unbiased else 0
    return Var.apply(input, axes=_axes(dim, input.ndim, "var"), keepdim=keepdim,
                     correction=correction)


def std(input: Tensor, dim=None, keepdim: bool = False, unbiased: bool = True,
        correction: int | None = None) -> Tensor:
    """Standard deviation: the square root of :func:`var`."""
    from .elementwise import sqrt

    return sqrt(var(input, dim, keepdim, unbiased, correction))


def argmax(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """Index of the maximum (of the flattened tensor when ``dim`` is None). Not differentiable."""
    a = input.array if isinstance(input, Tensor) else np.asarray(input)
    if dim is None:
        return Tensor(np.asarray(np.argmax(a), dtype=np.int64))
    (axis,) = _axes(dim, a.ndim, "argmax")
    return Tensor(np.argmax(a, axis=axis, keepdims=keepdim).astype(np.int64))


def argmin(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    a = input.array if isinstance(input, Tensor) else np.asarray(input)
    if dim is None:
        return Tensor(np.asarray(np.argmin(a), dtype=np.int64))
    (axis,) = _axes(dim, a.ndim, "argmin")
    return Tensor(np.argmin(a, axis=axis, keepdims=keepdim).astype(np.int64))
