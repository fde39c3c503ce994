"""Reductions: sum, mean, max, min, var, std, and the non-differentiable argmax/argmin.

``dim`` may be None (all elements), an int or a tuple of ints; ``keepdim`` keeps the reduced
axes with size 1, as in PyTorch.
"""

from __future__ import annotations

import warnings
from collections import namedtuple

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ._helpers import reduce_dims

__all__ = ["sum", "mean", "max", "min", "var", "std", "argmax", "argmin", "amax", "amin"]

MaxMin = namedtuple("MaxMin", ["values", "indices"])


def _axes(dim, ndim: int, name: str):
    """Normalise ``dim`` to a tuple of non-negative axes: None and () mean all (as PyTorch);
    dim 0 or -1 of a 0-d tensor means none; repeated or out-of-range dims raise."""
    return reduce_dims(name, dim, ndim)


def _nonempty(name: str, shape: tuple, axes: tuple, dim) -> None:
    """A max/min/argmax has no value over nothing: refuse an empty reduced dim, naming it."""
    if dim is None:
        if 0 in shape:
            raise ValueError(f"{name}: the input is empty (shape {shape}); give a dim whose "
                             "size is not 0")
        return
    for a in axes:
        if shape[a] == 0:
            raise IndexError(
                f"{name}: cannot reduce over dim {a} of size 0 (input shape {shape}); "
                "the max or min of nothing is undefined"
            )


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
        # integers and bools sum into int64, as in PyTorch (NumPy sums uint8 into uint64)
        dtype = np.int64 if a.dtype.kind in "biu" else None
        return np.asarray(a.sum(axis=axes, keepdims=keepdim, dtype=dtype))

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
        denom = np.float64(n - correction if n > correction else 0)  # (max is shadowed here)
        if denom == 0:  # PyTorch warns and divides by 0: NaN (or inf), not an error
            warnings.warn(f"var: degrees of freedom is <= 0 ({n} element(s) per reduction, "
                          f"correction={correction}); the result is NaN or inf", stacklevel=4)
        ctx.save_for_backward(d)
        ctx.denom, ctx.shape, ctx.axes, ctx.keepdim = denom, a.shape, axes, keepdim
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.asarray((d * d).sum(axis=axes, keepdims=keepdim) / denom).astype(
                a.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        # d var / dx_i = 2 (x_i - mean) / (n - correction); the mean's own term sums to zero
        (d,) = ctx.saved
        g = _expand_back(g, ctx.shape, ctx.axes, ctx.keepdim)
        with np.errstate(divide="ignore", invalid="ignore"):
            return (g * (2.0 / ctx.denom) * d).astype(d.dtype, copy=False)


class Std(Function):
    @staticmethod
    def forward(ctx, a, axes, keepdim, correction):
        var = Var.forward(ctx, a, axes, keepdim, correction)
        y = np.sqrt(var)
        ctx.y = y
        return y

    @staticmethod
    def backward(ctx, g):
        # d std = d var / (2 std); where std = 0 (a constant row) the slope is taken as 0, as
        # PyTorch does, instead of 0 * inf = NaN
        with np.errstate(divide="ignore", invalid="ignore"):
            gv = np.where(ctx.y == 0, 0, g / (2 * ctx.y)).astype(g.dtype, copy=False)
        return Var.backward(ctx, gv)


def sum(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:  # noqa: A001
    """Sum over ``dim`` (all elements when None)."""
    return Sum.apply(input, axes=_axes(dim, input.ndim, "sum"), keepdim=keepdim)


def mean(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """Mean over ``dim`` (all elements when None)."""
    return Mean.apply(input, axes=_axes(dim, input.ndim, "mean"), keepdim=keepdim)


def _extreme(input, dim, keepdim, fn, argfn, name):
    if dim is None:
        _nonempty(name, input.shape, (), None)
        return MaxReduce.apply(input, axes=_axes(None, input.ndim, name), keepdim=False, fn=fn)
    axes = _axes(dim, input.ndim, name)
    _nonempty(name, input.shape, axes, dim)
    if input.ndim != 0 and len(axes) != 1:
        return MaxReduce.apply(input, axes=axes, keepdim=keepdim, fn=fn)
    if input.ndim == 0:  # dim 0 or -1 of a 0-d tensor: itself, at index 0
        index = np.zeros((), dtype=np.int64)
        return MaxMin(MaxReduce.apply(input, axes=(), keepdim=keepdim, fn=fn), Tensor(index))
    (axis,) = axes
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
    axes = _axes(dim, input.ndim, "amax")
    _nonempty("amax", input.shape, axes, dim)
    return MaxReduce.apply(input, axes=axes, keepdim=keepdim, fn=np.max)


def amin(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """Minimum values over one or several dims (no indices)."""
    axes = _axes(dim, input.ndim, "amin")
    _nonempty("amin", input.shape, axes, dim)
    return MaxReduce.apply(input, axes=axes, keepdim=keepdim, fn=np.min)


def var(input: Tensor, dim=None, keepdim: bool = False, unbiased: bool = True,
        correction: int | None = None) -> Tensor:
    """Variance over ``dim``; unbiased (divide by n - 1) by default, as in PyTorch."""
    if correction is None:
        correction = 1 if unbiased else 0
    return Var.apply(input, axes=_axes(dim, input.ndim, "var"), keepdim=keepdim,
                     correction=correction)


def std(input: Tensor, dim=None, keepdim: bool = False, unbiased: bool = True,
        correction: int | None = None) -> Tensor:
    """Standard deviation: the square root of :func:`var` (gradient 0 where it is 0)."""
    if correction is None:
        correction = 1 if unbiased else 0
    return Std.apply(input, axes=_axes(dim, input.ndim, "std"), keepdim=keepdim,
                     correction=correction)


def argmax(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """Index of the maximum (of the flattened tensor when ``dim`` is None). Not differentiable."""
    return _arg_extreme(input, dim, keepdim, np.argmax, "argmax")


def _arg_extreme(input, dim, keepdim, argfn, name):
    a = input.array if isinstance(input, Tensor) else np.asarray(input)
    if dim is not None and not isinstance(dim, (int, np.integer)):
        raise TypeError(f"{name}: dim must be an int or None, got {dim!r}")
    axes = _axes(dim, a.ndim, name)
    _nonempty(name, a.shape, axes, dim)
    if dim is None or a.ndim == 0:
        idx = np.asarray(argfn(a), dtype=np.int64)
        return Tensor(idx.reshape((1,) * a.ndim) if keepdim else idx)  # keepdim: every dim, 1
    (axis,) = axes
    return Tensor(argfn(a, axis=axis, keepdims=keepdim).astype(np.int64))


def argmin(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """Index of the minimum (of the flattened tensor when ``dim`` is None). Not differentiable."""
    return _arg_extreme(input, dim, keepdim, np.argmin, "argmin")


# ---- prod, cumsum, cumprod, logsumexp, norms ---------------------------------------------------

__all__ += ["prod", "cumsum", "cumprod", "logsumexp", "norm", "vector_norm"]


def _exclusive_products(a: np.ndarray, axis: int) -> np.ndarray:
    """For each element, the product of every other element along ``axis`` (zeros allowed)."""
    a = np.moveaxis(a, axis, -1)
    ones = np.ones(a.shape[:-1] + (1,), dtype=a.dtype)
    left = np.cumprod(np.concatenate([ones, a[..., :-1]], axis=-1), axis=-1)
    right = np.cumprod(np.concatenate([ones, a[..., :0:-1]], axis=-1), axis=-1)[..., ::-1]
    return np.moveaxis(left * right, -1, axis)


class Prod(Function):
    @staticmethod
    def forward(ctx, a, axis=None, keepdim=False):
        ctx.axis, ctx.keepdim, ctx.shape = axis, keepdim, a.shape
        ctx.save_for_backward(a)
        return np.asarray(np.prod(a, axis=axis, keepdims=keepdim))

    @staticmethod
    def backward(ctx, g):
        # d prod/dx_i = product of the others (not prod / x_i, which fails at zeros)
        (a,) = ctx.saved
        if a.size == 0:  # no element, no gradient
            return np.zeros(a.shape, dtype=g.dtype)
        if ctx.axis is None:
            others = _exclusive_products(a.reshape(-1), 0).reshape(a.shape)
            return g.reshape(()) * others if g.ndim == 0 else g.reshape((1,) * a.ndim) * others
        if not ctx.keepdim:
            g = np.expand_dims(g, ctx.axis)
        return g * _exclusive_products(a, ctx.axis)


class Cumsum(Function):
    @staticmethod
    def forward(ctx, a, axis):
        ctx.axis = axis
        return np.cumsum(a, axis=axis)

    @staticmethod
    def backward(ctx, g):
        # y_j = sum_{i<=j} x_i, so dx_i = sum_{j>=i} g_j: a reversed cumulative sum
        return np.flip(np.cumsum(np.flip(g, ctx.axis), axis=ctx.axis), ctx.axis)


class Cumprod(Function):
    @staticmethod
    def forward(ctx, a, axis):
        y = np.cumprod(a, axis=axis)
        ctx.axis = axis
        ctx.save_for_backward(a, y)
        return y

    @staticmethod
    def backward(ctx, g):
        # dx_i = sum_{j>=i} g_j * prod_{k<=j, k!=i} x_k; with no zero that is
        # revcumsum(g * y)_i / x_i, otherwise each i is done with x_i set to 1
        a, y = ctx.saved
        axis = ctx.axis
        if np.all(a != 0):
            rev = np.flip(np.cumsum(np.flip(g * y, axis), axis=axis), axis)
            return rev / a
        a_m, g_m = np.moveaxis(a, axis, -1), np.moveaxis(g, axis, -1)
        out = np.empty_like(a_m)
        for i in range(a_m.shape[-1]):
            b = a_m.copy()
            b[..., i] = 1
            out[..., i] = (g_m[..., i:] * np.cumprod(b, axis=-1)[..., i:]).sum(-1)
        return np.moveaxis(out, -1, axis)


class LogSumExp(Function):
    @staticmethod
    def forward(ctx, a, axes, keepdim):
        m = np.max(a, axis=axes, keepdims=True, initial=-np.inf)  # an empty dim gives -inf
        m = np.where(np.isfinite(m), m, 0)  # all -inf: the result is -inf, not nan
        y = m + np.log(np.sum(np.exp(a - m), axis=axes, keepdims=True))
        ctx.axes, ctx.keepdim = axes, keepdim
        ctx.save_for_backward(a, y)
        return y if keepdim else np.squeeze(y, axis=axes)

    @staticmethod
    def backward(ctx, g):
        # d logsumexp/dx_i = softmax(x)_i = exp(x_i - y)
        a, y = ctx.saved
        if not ctx.keepdim:
            g = np.expand_dims(g, ctx.axes)
        return g * np.exp(a - y)


class PNorm(Function):
    @staticmethod
    def forward(ctx, a, p, axes, keepdim):
        absa = np.abs(a)
        y = np.sum(absa**p, axis=axes, keepdims=True) ** (1.0 / p)
        ctx.p, ctx.axes, ctx.keepdim = p, axes, keepdim
        ctx.save_for_backward(a, y)
        return y if keepdim else np.squeeze(y, axis=axes)

    @staticmethod
    def backward(ctx, g):
        # d ||x||_p/dx_i = sign(x_i) |x_i|^(p-1) / ||x||_p^(p-1); 0 where the norm is 0
        a, y = ctx.saved
        if not ctx.keepdim:
            g = np.expand_dims(g, ctx.axes)
        p = ctx.p
        safe_y = np.where(y == 0, 1, y)
        scale = np.where(y == 0, 0, g / safe_y ** (p - 1))
        return scale * np.sign(a) * np.abs(a) ** (p - 1)


def prod(input: Tensor, dim=None, keepdim: bool = False, dtype=None) -> Tensor:
    """Product of the elements (over ``dim``, one int, or over all). Gradient correct at zeros."""
    if dtype is not None:
        input = input.to(dtype)
    if dim is None:
        return Prod.apply(input)
    if input.ndim == 0:  # dim 0 or -1 of a 0-d tensor: the value itself, as PyTorch
        _axes(dim, 1, "prod")
        return Prod.apply(input)
    (axis,) = _axes(dim, input.ndim, "prod")
    return Prod.apply(input, axis=axis, keepdim=keepdim)


def cumsum(input: Tensor, dim: int, dtype=None) -> Tensor:
    """Cumulative sum along ``dim``: ``y_j = x_0 + ... + x_j``."""
    if dtype is not None:
        input = input.to(dtype)
    if input.ndim == 0:  # a 0-d tensor takes dim 0 or -1, as PyTorch: the value itself
        _axes(dim, 1, "cumsum")
        return cumsum(input.reshape(1), 0).reshape(())
    (axis,) = _axes(dim, input.ndim, "cumsum")
    return Cumsum.apply(input, axis=axis)


def cumprod(input: Tensor, dim: int, dtype=None) -> Tensor:
    """Cumulative product along ``dim``: ``y_j = x_0 * ... * x_j``."""
    if dtype is not None:
        input = input.to(dtype)
    if input.ndim == 0:  # a 0-d tensor takes dim 0 or -1, as PyTorch: the value itself
        _axes(dim, 1, "cumprod")
        return cumprod(input.reshape(1), 0).reshape(())
    (axis,) = _axes(dim, input.ndim, "cumprod")
    return Cumprod.apply(input, axis=axis)


def logsumexp(input: Tensor, dim, keepdim: bool = False) -> Tensor:
    """``log(sum(exp(x)))`` over ``dim`` (int or tuple), shifted by the max so nothing overflows."""
    axes = _axes(dim, input.ndim, "logsumexp")
    return LogSumExp.apply(input, axes=axes, keepdim=keepdim)


def vector_norm(x: Tensor, ord=2, dim=None, keepdim: bool = False, dtype=None) -> Tensor:
    """``(sum |x|^ord)^(1/ord)`` over ``dim`` (all elements by default); ``ord`` may be inf,
    -inf or 0 (count of non-zeros), as ``torch.linalg.vector_norm``."""
    if dtype is not None:
        x = x.to(dtype)
    axes = tuple(range(x.ndim)) if dim is None else _axes(dim, x.ndim, "vector_norm")
    if ord in (float("inf"), float("-inf")) and any(x.shape[a] == 0 for a in axes):
        raise ValueError(f"vector_norm: the {ord} norm of nothing is undefined (dim {dim} of "
                         f"input shape {tuple(x.shape)} is empty)")
    if ord == float("inf"):
        return amax(x.abs(), dim=axes, keepdim=keepdim)
    if ord == float("-inf"):
        return amin(x.abs(), dim=axes, keepdim=keepdim)
    if ord == 0:
        return Tensor(np.sum(x.array != 0, axis=axes, keepdims=keepdim).astype(x.dtype))
    if not isinstance(ord, (int, float)) or ord < 0:
        raise ValueError(f"vector_norm: ord must be a number >= 0 or +-inf, got {ord!r}")
    return PNorm.apply(x, p=float(ord), axes=axes, keepdim=keepdim)


def norm(input: Tensor, p="fro", dim=None, keepdim: bool = False, dtype=None) -> Tensor:
    """``torch.norm``: the vector ``p``-norm over ``dim`` (all elements by default); ``'fro'`` is
    the 2-norm of the elements. Matrix norms (``'nuc'``) are not provided."""
    if p == "fro" and dim is not None and not isinstance(dim, (int, np.integer)) \
            and len(dim) > 2:
        raise ValueError(f"norm: p='fro' is a vector or matrix norm: dim must have at most 2 "
                         f"dims, got {dim!r}")
    if p == "fro" or p is None:
        p = 2
    if isinstance(p, str):
        raise ValueError(f"norm: p={p!r} is not supported (only 'fro' and numbers)")
    return vector_norm(input, ord=p, dim=dim, keepdim=keepdim, dtype=dtype)
