"""Matrix products: ``matmul`` (the ``@`` operator, batched and broadcasting) and ``linear``."""

from __future__ import annotations

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import Tensor

__all__ = ["matmul", "linear", "mm", "bmm"]


class MatMul(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a @ b

    @staticmethod
    def backward(ctx, g):
        # y = a b  =>  da = g b^T, db = a^T g  (vectors are treated as 1-row / 1-column matrices)
        a, b = ctx.saved
        ga = gb = None
        if a.ndim == 1 and b.ndim == 1:
            return (g * b if ctx.needs_input_grad[0] else None,
                    g * a if ctx.needs_input_grad[1] else None)
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        g2 = g
        if a.ndim == 1:
            g2 = np.expand_dims(g2, -2)
        if b.ndim == 1:
            g2 = np.expand_dims(g2, -1)
        if ctx.needs_input_grad[0]:
            ga = g2 @ np.swapaxes(b2, -1, -2)
            if a.ndim == 1:
                ga = ga.sum(axis=tuple(range(ga.ndim - 1)))  # any size, 0 included
        if ctx.needs_input_grad[1]:
            gb = np.swapaxes(a2, -1, -2) @ g2
            if b.ndim == 1:
                gb = gb[..., 0].sum(axis=tuple(range(gb.ndim - 2)))  # (..., k, 1) -> (k,)
        return ga, gb


class Linear(Function):
    @staticmethod
    def forward(ctx, x, w, b=None):
        # (..., in) is flattened to one 2-D GEMM: a batched matmul over a non-contiguous 3-D
        # view takes NumPy's slow path
        lead = x.shape[:-1]
        x2 = x.reshape(int(np.prod(lead)), x.shape[-1])  # not -1: 0 features is allowed
        ctx.save_for_backward(x2, w)
        ctx.has_bias, ctx.lead = b is not None, lead
        y = x2 @ w.T
        if b is not None:
            y += b
        return y.reshape(lead + (w.shape[0],))

    @staticmethod
    def backward(ctx, g):
        # y = x W^T + b  =>  dx = g W, dW = g^T x, db = sum of g over all rows
        x2, w = ctx.saved
        need = ctx.needs_input_grad
        g2 = g.reshape(int(np.prod(ctx.lead)), g.shape[-1])
        dx = (g2 @ w).reshape(ctx.lead + (w.shape[1],)) if need[0] else None
        dw = g2.T @ x2 if need[1] else None
        # a ones-vector product is much faster than g.sum(0) for the bias (PERFORMANCE.md)
        db = np.ones(g2.shape[0], dtype=g.dtype) @ g2 if ctx.has_bias and need[2] else None
        return dx, dw, db


def matmul(input: Tensor, other: Tensor) -> Tensor:
    """Matrix product with NumPy/PyTorch semantics: (..., n, k) @ (..., k, m) -> (..., n, m)."""
    a, b = input.array if isinstance(input, Tensor) else np.asarray(input), (
        other.array if isinstance(other, Tensor) else np.asarray(other)
    )
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(
            "matmul: both arguments must have at least 1 dimension (use * for scalars)"
        )
    ka = a.shape[-1]
    kb = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if ka != kb:
        raise ValueError(
            f"matmul: input's last dim {ka} does not match other's "
            f"{'first' if b.ndim == 1 else 'second-to-last'} dim {kb} "
            f"(input shape {a.shape}, other shape {b.shape})"
        )
    return MatMul.apply(input, other)


mm = matmul
bmm = matmul


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """Affine map ``y = x W^T + b``: x (..., in), W (out, in), b (out,) -> y (..., out)."""
    if weight.ndim != 2:
        raise ValueError(f"linear: weight must be 2-D (out, in), got shape {weight.shape}")
    if input.shape[-1] != weight.shape[1]:
        raise ValueError(
            f"linear: input has {input.shape[-1]} features but weight expects {weight.shape[1]} "
            f"(input shape {input.shape}, weight shape {weight.shape})"
        )
    if bias is not None and bias.shape != (weight.shape[0],):
        raise ValueError(
            f"linear: bias must have shape ({weight.shape[0]},), got {bias.shape}"
        )
    if bias is None:
        return Linear.apply(input, weight)
    return Linear.apply(input, weight, bias)
