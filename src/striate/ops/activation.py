"""Activation functions: sigmoid, tanh, relu, leaky_relu, prelu, elu, maxout, softmax,
log_softmax. Each backward reuses what forward already computed (usually the output)."""

from __future__ import annotations

import numpy as np

from .. import backend
from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ..kernels.relu import relu_backward, relu_forward
from ._helpers import require_float

__all__ = [
    "sigmoid", "tanh", "relu", "leaky_relu", "prelu", "elu", "maxout", "softmax", "log_softmax",
]  # fmt: skip


class Sigmoid(Function):
    @staticmethod
    def forward(ctx, x):
        # exp of a non-positive number only, so large |x| never overflows
        e = np.exp(-np.abs(x))
        y = np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        # d sigmoid(x)/dx = y (1 - y), reuse the saved output y
        (y,) = ctx.saved
        return g * y * (1 - y)


class Tanh(Function):
    @staticmethod
    def forward(ctx, x):
        y = np.tanh(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        # d tanh(x)/dx = 1 - y**2, reuse the saved output y
        (y,) = ctx.saved
        return g * (1 - y * y)


class ReLU(Function):
    @staticmethod
    def forward(ctx, x):
        out, mask = relu_forward(x)  # mask = x > 0; how (layout, compiled loop): kernels.relu
        ctx.save_for_backward(mask)
        return out

    @staticmethod
    def backward(ctx, g):
        # d relu(x)/dx = 1 where x > 0, else 0
        (mask,) = ctx.saved
        return relu_backward(g, mask)


class LeakyReLU(Function):
    @staticmethod
    def forward(ctx, x, slope):
        scale = np.where(x > 0, 1, slope).astype(x.dtype)
        ctx.save_for_backward(scale)
        return x * scale

    @staticmethod
    def backward(ctx, g):
        # slope 1 for x > 0, ``negative_slope`` otherwise
        (scale,) = ctx.saved
        return g * scale


class PReLU(Function):
    @staticmethod
    def forward(ctx, x, a):
        # a has one value per channel (dim 1) or a single value; broadcast it over the rest
        a_b = a.reshape((1, -1) + (1,) * (x.ndim - 2)) if a.size > 1 else a.reshape(())
        neg = x <= 0
        ctx.save_for_backward(x, a_b, neg)
        ctx.a_shape = a.shape
        return np.where(neg, a_b * x, x)

    @staticmethod
    def backward(ctx, g):
        # dy/dx = 1 or a; dy/da = x where x <= 0, summed over everything but the channel
        x, a_b, neg = ctx.saved
        dx = g * np.where(neg, a_b, 1).astype(g.dtype)
        da = g * x * neg
        if a_b.ndim:
            axes = (0,) + tuple(range(2, x.ndim))
            da = da.sum(axis=axes)
        else:
            da = da.sum()
        return dx, da.reshape(ctx.a_shape)


class ELU(Function):
    @staticmethod
    def forward(ctx, x, alpha):
        neg = x <= 0
        e = alpha * np.expm1(np.minimum(x, 0))
        y = np.where(neg, e, x).astype(x.dtype, copy=False)
        ctx.save_for_backward(neg, e)
        ctx.alpha = alpha
        return y

    @staticmethod
    def backward(ctx, g):
        # dy/dx = 1 for x > 0, alpha exp(x) = y + alpha for x <= 0
        neg, e = ctx.saved
        return g * np.where(neg, e + ctx.alpha, 1).astype(g.dtype)


class Softmax(Function):
    @staticmethod
    def forward(ctx, x, axis):
        # subtract the max before exp: same result, no overflow (initial: a size-0 dim is fine)
        z = x - x.max(axis=axis, keepdims=True, initial=-np.inf)
        e = np.exp(z)
        y = e / e.sum(axis=axis, keepdims=True)
        ctx.save_for_backward(y)
        ctx.axis = axis
        return y

    @staticmethod
    def backward(ctx, g):
        # dx = y * (g - sum(g * y)) : the Jacobian diag(y) - y y^T applied to g
        (y,) = ctx.saved
        return y * (g - (g * y).sum(axis=ctx.axis, keepdims=True))


class LogSoftmax(Function):
    @staticmethod
    def forward(ctx, x, axis):
        z = x - x.max(axis=axis, keepdims=True, initial=-np.inf)
        lse = np.log(np.exp(z).sum(axis=axis, keepdims=True))
        y = z - lse
        ctx.save_for_backward(y)
        ctx.axis = axis
        return y

    @staticmethod
    def backward(ctx, g):
        # dx = g - softmax(x) * sum(g)
        (y,) = ctx.saved
        return g - np.exp(y) * g.sum(axis=ctx.axis, keepdims=True)


def _dim(dim, ndim, name):
    if dim is None:
        raise TypeError(f"{name}: dim must be given (as in PyTorch), e.g. dim=1 for (N, C) scores")
    n = max(ndim, 1)  # a 0-d tensor accepts dim 0 and -1, as in PyTorch
    if not -n <= dim < n:
        raise IndexError(f"{name}: dim {dim} is out of range for a tensor with {ndim} dimensions")
    return dim % n if ndim else ()


def _to_float(input: Tensor) -> Tensor:
    """An integer or bool input as the default float dtype (PyTorch's sigmoid, tanh, ... of
    integers give floats); a floating input as it is."""
    if input.array.dtype.kind in "fc":
        return input
    return Tensor(input.array.astype(backend.get_default_dtype()))


def sigmoid(input: Tensor) -> Tensor:
    """Elementwise logistic function ``1 / (1 + exp(-x))`` (integer input gives floats)."""
    return Sigmoid.apply(_to_float(input))


def tanh(input: Tensor) -> Tensor:
    """Elementwise hyperbolic tangent (integer input gives floats)."""
    return Tanh.apply(_to_float(input))


def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """Elementwise ``max(0, x)`` (NaN stays NaN); integer input stays integer, as in PyTorch."""
    if input.array.dtype == np.bool_:
        raise TypeError("relu: bool input is not supported (as in PyTorch); convert it first")
    return ReLU.apply(input)


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """Elementwise ``x`` for x > 0, ``negative_slope * x`` otherwise."""
    require_float(input, "leaky_relu")
    return LeakyReLU.apply(input, slope=negative_slope)


def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """Leaky ReLU with a learned slope: one per channel (dim 1), or one shared value."""
    require_float(input, "prelu")
    if weight.array.size not in (1, input.shape[1] if input.ndim > 1 else 1):
        raise ValueError(
            f"prelu: weight has {weight.array.size} values but input has "
            f"{input.shape[1] if input.ndim > 1 else 1} channels (input shape {input.shape})"
        )
    return PReLU.apply(input, weight)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """Elementwise ``x`` for x > 0, ``alpha (exp(x) - 1)`` otherwise."""
    require_float(input, "elu")
    return ELU.apply(input, alpha=alpha)


def maxout(input: Tensor, pool_size: int, dim: int = 1) -> Tensor:
    """Maxout (Goodfellow et al.): the maximum over groups of ``pool_size`` consecutive features
    along ``dim``: (N, k*m, ...) -> (N, m, ...)."""
    from .reduction import amax
    from .shape import reshape

    if input.ndim == 0:
        raise ValueError("maxout: input must have at least one dimension, got a 0-d tensor")
    d = _dim(dim, input.ndim, "maxout")
    c = input.shape[d]
    if c % pool_size:
        raise ValueError(
            f"maxout: dim {dim} has {c} features, not a multiple of pool_size {pool_size}"
        )
    shape = input.shape[:d] + (c // pool_size, pool_size) + input.shape[d + 1 :]
    return amax(reshape(input, shape), dim=d + 1)


def softmax(input: Tensor, dim: int | None = None) -> Tensor:
    """``exp(x) / sum(exp(x))`` along ``dim``."""
    require_float(input, "softmax")
    return Softmax.apply(input, axis=_dim(dim, input.ndim, "softmax"))


def log_softmax(input: Tensor, dim: int | None = None) -> Tensor:
    """``log(softmax(x))`` along ``dim``, computed stably."""
    require_float(input, "log_softmax")
    return LogSoftmax.apply(input, axis=_dim(dim, input.ndim, "log_softmax"))
