"""Normalization: batch_norm (1-D, spatial and volumetric), layer_norm and group_norm.

Each is one fused ``Function`` with the closed-form backward of the course. How batch norm is
computed fast (the layouts, the compiled loops) lives in :mod:`striate.kernels.batchnorm`.
"""

from __future__ import annotations

import numbers

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ..kernels.batchnorm import (
    batch_stats,
    batchnorm_backward,
    batchnorm_forward,
    channel_plane,
    channel_sum,
    fixed_stats,
)
from ._helpers import array_of

__all__ = ["batch_norm", "group_norm", "layer_norm"]


def _row_norm_backward(dxhat, xhat, inv_std):
    """Backward of ``xhat = (x - mean) / std`` per row of (R, D) arrays, the course's compact form:
    dx = (inv_std / D) (D dxhat - sum(dxhat) - xhat sum(dxhat xhat)), sums along each row."""
    d = xhat.shape[1]
    ones = np.ones(d, dtype=xhat.dtype)
    s1 = (dxhat @ ones)[:, None]
    s2 = ((dxhat * xhat) @ ones)[:, None]
    dx = dxhat * d
    dx -= s1
    dx -= xhat * s2
    dx *= inv_std / d
    return dx


class BatchNorm(Function):
    # forward, per channel c over the N*H*W = M values of the batch (the course's steps):
    #   mu = mean(x), var = mean((x - mu)^2)       the batch's statistics (``stats``), or in eval
    #                                              the running estimates
    #   xhat = (x - mu) / sqrt(var + eps)
    #   y = gamma xhat + beta
    @staticmethod
    def forward(ctx, x, gamma, beta, *, stats, eps):
        out, ctx.cache = batchnorm_forward(x, gamma, beta, stats, eps)
        return out

    @staticmethod
    def backward(ctx, g):
        # dbeta = sum(dy), dgamma = sum(dy xhat). In training mu and var depend on x, and with
        # gamma folded in (the course's compact form):
        #   dx = (gamma / (M sqrt(var + eps))) (M dy - sum(dy) - xhat sum(dy xhat));
        # in eval they are constants: dx = gamma / sqrt(var + eps) dy
        need_x, need_w, need_b = ctx.needs_input_grad
        return batchnorm_backward(g, ctx.cache, need_x, need_w, need_b)


def _normalize_rows(x2, eps):
    """xhat = (x - mean) / sqrt(var + eps) per row of x2 (R, D), and inv_std (R, 1).

    Float32 squares overflow above ~1.8e19 (var = inf would make xhat 0): rows whose statistics
    are not finite are redone in float64, which holds any float32's square."""
    d = x2.shape[1]
    ones = np.ones(d, dtype=x2.dtype)
    xhat = x2 - ((x2 @ ones) / d)[:, None]
    with np.errstate(over="ignore"):  # checked below
        var = ((xhat * xhat) @ ones) / d
    inv_std = (1 / np.sqrt(var + eps))[:, None]
    xhat *= inv_std
    if x2.dtype.itemsize < 8 and not np.isfinite(var).all():
        bad = ~np.isfinite(var)
        r = x2[bad].astype(np.float64)  # rows holding inf or NaN stay NaN, as before
        rc = r - r.mean(axis=1, keepdims=True)
        r_inv = 1 / np.sqrt((rc * rc).mean(axis=1, keepdims=True) + eps)
        xhat[bad] = rc * r_inv
        inv_std[bad] = r_inv
    return xhat, inv_std


class LayerNorm(Function):
    # per row of D = prod(normalized_shape) values: xhat = (x - mean) / sqrt(var + eps),
    # y = gamma xhat + beta (gamma, beta elementwise over the row)
    @staticmethod
    def forward(ctx, x, gamma, beta, ns, eps):
        d = int(np.prod(ns))
        x2 = x.reshape(x.size // d if d else 0, d)
        gamma = None if gamma is None else gamma.astype(x.dtype, copy=False).reshape(-1)
        xhat, inv_std = _normalize_rows(x2, eps)
        y = xhat if gamma is None else xhat * gamma
        if beta is not None:
            y = y + beta.astype(x.dtype, copy=False).reshape(-1)
        ctx.save_for_backward(xhat, inv_std, gamma)
        ctx.ns = ns
        return y.reshape(x.shape)

    @staticmethod
    def backward(ctx, g):
        # dxhat = dy gamma; dx = (inv_std / D) (D dxhat - sum(dxhat) - xhat sum(dxhat xhat)) per
        # row (see _row_norm_backward); dgamma = sum over rows of dy xhat, dbeta = sum of dy
        xhat, inv_std, gamma = ctx.saved
        g2 = g.reshape(xhat.shape)
        need_x, need_w, need_b = ctx.needs_input_grad
        ones = np.ones(g2.shape[0], dtype=g2.dtype)
        dx = dgamma = dbeta = None
        if need_x:
            dxhat = g2 if gamma is None else g2 * gamma
            dx = _row_norm_backward(dxhat, xhat, inv_std).reshape(g.shape)
        if need_w:
            dgamma = (ones @ (g2 * xhat)).reshape(ctx.ns)
        if need_b:
            dbeta = (ones @ g2).reshape(ctx.ns)
        return dx, dgamma, dbeta


class GroupNorm(Function):
    # per sample and group of C/G channels: xhat = (x - mean) / sqrt(var + eps) over the group's
    # channels and positions, then y = gamma_c xhat + beta_c per channel
    @staticmethod
    def forward(ctx, x, gamma, beta, groups, eps):
        n, c = x.shape[:2]
        m = int(np.prod(x.shape[2:]))
        gamma = None if gamma is None else gamma.astype(x.dtype, copy=False)
        # each row: one group of C/G channels of one sample
        xhat, inv_std = _normalize_rows(x.reshape(n * groups, c // groups * m), eps)
        y = xhat.reshape(n, c * m)
        if gamma is not None:
            y = y * channel_plane(gamma, m)
        if beta is not None:
            y = y + channel_plane(beta.astype(x.dtype, copy=False), m)
        ctx.save_for_backward(xhat, inv_std, gamma)
        return y.reshape(x.shape)

    @staticmethod
    def backward(ctx, g):
        # per group, layer norm's backward with dxhat = dy gamma_c; dgamma_c = sum(dy xhat) and
        # dbeta_c = sum(dy) over the batch and the positions of channel c
        xhat, inv_std, gamma = ctx.saved
        n, c = g.shape[:2]
        m = int(np.prod(g.shape[2:]))
        g2 = g.reshape(n, c * m)
        need_x, need_w, need_b = ctx.needs_input_grad
        dx = None
        if need_x:
            dxhat = g2 if gamma is None else g2 * channel_plane(gamma, m)
            dx = _row_norm_backward(dxhat.reshape(xhat.shape), xhat, inv_std).reshape(g.shape)
        dgamma = channel_sum(g2 * xhat.reshape(g2.shape), c) if need_w else None
        dbeta = channel_sum(g2, c) if need_b else None
        return dx, dgamma, dbeta


def _per_channel(name, arg, value, c, shape):
    if value is None:
        return None
    v = array_of(value)
    if v.shape != (c,):
        raise ValueError(
            f"{name}: {arg} has {v.size} elements (shape {v.shape}) but input has {c} channels "
            f"(input shape {shape}); expected shape ({c},)"
        )
    return v


def batch_norm(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None,
               weight: Tensor | None = None, bias: Tensor | None = None, training: bool = False,
               momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Batch normalization over the batch and spatial dims:
    ``y = (x - mean_c) / sqrt(var_c + eps) * weight_c + bias_c`` for each channel c (dim 1).

    Training uses the batch's statistics (biased variance) and updates ``running_mean`` and
    ``running_var`` in place, as PyTorch: ``r = (1 - momentum) r + momentum stat``, the variance
    unbiased (times M/(M-1), M = N*H*W). Eval uses the running averages.

    Args:
        input: (N, C), (N, C, L), (N, C, H, W) or (N, C, D, H, W).
        running_mean, running_var: (C,) buffers, or None (only in training: nothing is tracked).
        weight, bias: (C,) scale gamma and shift beta, or None (1 and 0).
    Returns:
        a tensor of input's shape and dtype.
    Raises:
        ValueError for a channel count that does not match, or a single value per channel in
        training.
    """
    x = input.array
    if x.ndim < 2:
        raise ValueError(f"batch_norm: input must be (N, C, *), got shape {x.shape}")
    c = x.shape[1]
    rm = _per_channel("batch_norm", "running_mean", running_mean, c, x.shape)
    rv = _per_channel("batch_norm", "running_var", running_var, c, x.shape)
    _per_channel("batch_norm", "weight", weight, c, x.shape)
    _per_channel("batch_norm", "bias", bias, c, x.shape)
    if training:
        if c and x.size // c == 1:
            raise ValueError(
                f"batch_norm: expected more than 1 value per channel when training, "
                f"got input shape {x.shape}"
            )
    elif rm is None or rv is None:
        raise ValueError("batch_norm: running_mean and running_var are needed in eval mode")
    if training and x.size == 0:
        # an empty batch, as in PyTorch: an empty output, the running estimates untouched, and
        # zero gradients for weight and bias (sums over nothing)
        stats = fixed_stats(np.zeros(c), np.ones(c), x)
    elif training:
        stats = batch_stats(x)
        _update_running_stats(running_mean, running_var, stats, float(momentum))
    else:
        stats = fixed_stats(rm, rv, x)
    return BatchNorm.apply(input, weight, bias, stats=stats, eps=float(eps))


def _update_running_stats(running_mean, running_var, stats, momentum):
    """``r = (1 - momentum) r + momentum stat`` in place, the variance unbiased (times M/(M-1));
    outside the Function: a running estimate is state, not part of the graph. Tensors are updated
    through their in-place methods, which bump their version counters."""
    cnt = stats.count
    for r, stat in ((running_mean, stats.mean), (running_var, stats.var * (cnt / (cnt - 1)))):
        if r is None:
            continue
        if isinstance(r, Tensor):
            r.mul_(1 - momentum).add_((momentum * stat).astype(r.dtype, copy=False))
        else:
            r *= 1 - momentum
            r += (momentum * stat).astype(r.dtype, copy=False)


def layer_norm(input: Tensor, normalized_shape, weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Layer normalization: each sample normalised over its last ``len(normalized_shape)`` dims,
    then scaled by ``weight`` and shifted by ``bias`` (both of ``normalized_shape``, or None).

    Args:
        input: (*, *normalized_shape); normalized_shape: an int or a tuple of ints.
    Returns a tensor of input's shape.
    """
    ns = (normalized_shape,) if isinstance(normalized_shape, numbers.Integral) \
        else tuple(normalized_shape)
    x = input.array
    k = len(ns)
    if k == 0 or x.ndim < k or tuple(x.shape[x.ndim - k:]) != ns:
        raise ValueError(
            f"layer_norm: normalized_shape {ns} must match the last dims of input shape {x.shape}"
        )
    for arg, v in (("weight", weight), ("bias", bias)):
        if v is not None and tuple(v.shape) != ns:
            raise ValueError(
                f"layer_norm: {arg} has shape {tuple(v.shape)} but normalized_shape is {ns}"
            )
    return LayerNorm.apply(input, weight, bias, ns=ns, eps=float(eps))


def group_norm(input: Tensor, num_groups: int, weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Group normalization (Wu & He): the C channels split into ``num_groups`` groups, each
    sample's group normalised over its channels and spatial positions, then a per-channel
    ``weight`` and ``bias`` (C,). One group is layer norm over (C, H, W); C groups are instance
    norm.

    Args:
        input: (N, C, *) with C divisible by num_groups.
    Returns a tensor of input's shape.
    """
    x = input.array
    if x.ndim < 2:
        raise ValueError(f"group_norm: input must be (N, C, *), got shape {x.shape}")
    c = x.shape[1]
    if num_groups <= 0 or c % num_groups:
        raise ValueError(
            f"group_norm: num_groups {num_groups} must divide the {c} channels "
            f"(input shape {x.shape})"
        )
    _per_channel("group_norm", "weight", weight, c, x.shape)
    _per_channel("group_norm", "bias", bias, c, x.shape)
    if x.shape[0] * c // num_groups * int(np.prod(x.shape[2:])) == 1:
        # PyTorch's check: a single sample whose every group holds one value normalises to 0
        raise ValueError(
            f"group_norm: expected more than 1 value per group, got input shape {x.shape} with "
            f"num_groups {num_groups}"
        )
    return GroupNorm.apply(input, weight, bias, groups=int(num_groups), eps=float(eps))
