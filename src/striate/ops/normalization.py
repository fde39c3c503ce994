"""Normalization: batch_norm (1-D, spatial and volumetric), layer_norm and group_norm.

Each is one fused ``Function`` with the closed-form backward of the course. batch_norm works on an
(N, C*H*W) view of NCHW input (no transposed copies): per-channel sums are two matrix-vector
products (``ones @ a`` is several times faster than ``a.sum(0)``, PERFORMANCE.md) and per-channel
constants are repeated into one (C*H*W,) row. The arithmetic stays in the input's dtype.

Channels-last input (the NCHW view of NHWC memory that the convolution kernels return) is worked
on as (R, K*C) rows of whole pixels instead, and its output and gradient keep that layout: a
reshape to (N, C*H*W) would copy it and hand the next convolution an NCHW array to transpose
back. Such input goes to compiled loops when numba is installed (in training two passes over
the activations each way instead of about ten; in eval one). One thread, (128, 16, 32, 32)
float32, training forward / backward / eval forward: 1.69 / 2.13 / 0.63 ms in NumPy, 1.03 / 1.19
/ 0.22 compiled; ResNet-20's training step 508 -> 460 ms.
"""

from __future__ import annotations

import numbers

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ..kernels import compiled

__all__ = ["batch_norm", "group_norm", "layer_norm"]


def _channel_sum(a, c, last=False):
    """Sum a 2-D array over its rows and, per channel, along them: shape (C,). Rows are
    channel-major (N, C*M) or, with ``last``, channels-last (R, K*C): K pixels of C channels."""
    n, cm = a.shape
    s = np.ones(n, dtype=a.dtype) @ a
    if cm == c:
        return s
    if last:
        return np.ones(cm // c, dtype=a.dtype) @ s.reshape(cm // c, c)
    return s.reshape(c, cm // c) @ np.ones(cm // c, dtype=a.dtype)


def _plane(v, m, last=False):
    """A per-channel (C,) vector laid out as one row of C*M values: each value repeated over the
    M positions of its channel, or with ``last`` the whole vector tiled M times (channels-last).

    ``x2 * _plane(v, m)`` broadcasts over rows only, with both operands contiguous; NumPy's
    per-channel ``x3 * v[:, None]`` (a stride-0 inner operand) is about 2x slower."""
    if m == 1:
        return v
    return np.tile(v, m) if last else np.repeat(v, m)


def _channels_last_rows(x):
    """For a 4/5-D x whose memory is channels-last (the NCHW view of NHWC memory that the
    convolution kernels hand out): x as a (R, K*C) view, rows of K whole pixels (K*C about
    1024 values, K dividing the pixel count), and K. None for any other layout, which then
    works as (N, C*M) rows; reshaping a channels-last x that way would copy it, and hand the
    next convolution an NCHW array to transpose back."""
    if x.ndim < 3:
        return None
    v = np.moveaxis(x, 1, -1)
    if not v.flags.c_contiguous or x.flags.c_contiguous:
        return None
    c = x.shape[1]
    pixels = x.size // c
    k = max(1, 1024 // c)
    while pixels % k:
        k -= 1
    return v.reshape(pixels // k, k * c), k


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


def _fused_forward(ctx, x, gamma, beta, rm, rv, momentum, eps):
    """Training forward on channels-last x with the compiled loops: one pass for the statistics
    (two reads), one to write y; x itself is saved instead of x - mean."""
    c, dt = x.shape[1], x.dtype
    v = np.moveaxis(x, 1, -1)
    xp = v.reshape(-1, c)  # (P, C) view
    cnt = xp.shape[0]
    mean64, var64 = np.empty(c), np.empty(c)
    compiled.batch_norm_stats(xp, mean64, var64)
    mean, var = mean64.astype(dt), var64.astype(dt)
    if rm is not None:
        rm *= 1 - momentum
        rm += (momentum * mean).astype(rm.dtype, copy=False)
    if rv is not None:  # the running estimate uses the unbiased variance
        rv *= 1 - momentum
        rv += (momentum * cnt / (cnt - 1) * var).astype(rv.dtype, copy=False)
    inv_std = (1 / np.sqrt(var + eps)).astype(dt, copy=False)
    a = inv_std if gamma is None else gamma * inv_std
    shift = -mean * a if beta is None else beta.astype(dt, copy=False) - mean * a
    y = np.empty_like(xp)
    compiled.batch_norm_apply(xp, a.astype(dt, copy=False), shift.astype(dt, copy=False), y)
    ctx.save_for_backward(xp, inv_std, gamma, mean)
    ctx.fused, ctx.cnt = True, cnt
    return np.moveaxis(y.reshape(v.shape), -1, 1)


def _fused_backward(ctx, g):
    """Training backward of :func:`_fused_forward`: one pass for sum(dy) and sum(dy (x - mu)),
    one to write dx = k dy - (x - mu) c1 - c2 (the compact form in BatchNorm.backward)."""
    xp, inv_std, gamma, mean = ctx.saved
    c, dt, cnt = xp.shape[1], xp.dtype, ctx.cnt
    gp = np.moveaxis(g, 1, -1).astype(dt, copy=False).reshape(xp.shape)  # copies other layouts
    need_x, need_w, need_b = ctx.needs_input_grad
    sg, sgx = np.empty(c), np.empty(c)
    compiled.batch_norm_grad_sums(gp, xp, mean, sg, sgx)
    dbeta, dgamma = sg.astype(dt), (sgx * inv_std).astype(dt)
    dx = None
    if need_x:
        k1 = inv_std if gamma is None else gamma * inv_std
        dxp = np.empty_like(xp)
        compiled.batch_norm_dx(gp, xp, mean, k1.astype(dt, copy=False),
                               (k1 * inv_std * dgamma / cnt).astype(dt, copy=False),
                               (k1 * dbeta / cnt).astype(dt, copy=False), dxp)
        sh = g.shape
        dx = np.moveaxis(dxp.reshape((sh[0],) + tuple(sh[2:]) + (c,)), -1, 1)
    return dx, (dgamma if need_w else None), (dbeta if need_b else None)


class BatchNorm(Function):
    @staticmethod
    def forward(ctx, x, gamma, beta, rm, rv, training, momentum, eps):
        c = x.shape[1]
        cl = _channels_last_rows(x)
        last = cl is not None
        ctx.fused = False
        gamma = None if gamma is None else gamma.astype(x.dtype, copy=False)
        if last and training and compiled.enabled(x):
            return _fused_forward(ctx, x, gamma, beta, rm, rv, momentum, eps)
        # a view: (N, C*M) rows for contiguous input, (R, K*C) for channels-last memory
        x2, m = cl if last else (x.reshape(x.shape[0], -1), int(np.prod(x.shape[2:])))
        cnt = x.size // c
        dt = x.dtype
        if training:
            mean = _channel_sum(x2, c, last) / cnt
            xc = x2 - _plane(mean, m, last)
            y = np.multiply(xc, xc)
            var = _channel_sum(y, c, last) / cnt  # biased, as in PyTorch's forward
            if rm is not None:
                rm *= 1 - momentum
                rm += (momentum * mean).astype(rm.dtype, copy=False)
            if rv is not None:
                # the running estimate uses the unbiased variance
                rv *= 1 - momentum
                rv += (momentum * cnt / (cnt - 1) * var).astype(rv.dtype, copy=False)
        else:
            xc = x2  # eval saves x itself; backward subtracts the (constant) mean in its sums
            mean, var = rm.astype(dt, copy=False), rv.astype(dt, copy=False)
            y = np.empty_like(x2)
        inv_std = 1 / np.sqrt(var + eps)
        a = inv_std if gamma is None else gamma * inv_std
        ctx.save_for_backward(xc, inv_std, gamma, mean)
        ctx.training, ctx.cnt, ctx.c, ctx.m, ctx.last = training, cnt, c, m, last
        if last and not training and compiled.enabled(x):  # y = x a + (beta - mean a) in one pass
            shift = -mean * a if beta is None else beta.astype(dt, copy=False) - mean * a
            v = np.moveaxis(x, 1, -1)
            yp = np.empty(v.shape, dtype=dt)
            compiled.batch_norm_apply(v.reshape(-1, c), a.astype(dt, copy=False),
                                      shift.astype(dt, copy=False), yp.reshape(-1, c))
            return np.moveaxis(yp, -1, 1)
        np.multiply(xc, _plane(a, m, last), out=y)  # gamma xhat (training: into the x^2 buffer)
        shift = 0 if training else -mean * a
        if beta is not None:
            shift = shift + beta.astype(dt, copy=False)
        if beta is not None or not training:
            y += _plane(shift, m, last)
        if last:  # the output keeps x's channels-last memory
            return np.moveaxis(y.reshape(np.moveaxis(x, 1, -1).shape), -1, 1)
        return y.reshape(x.shape)

    @staticmethod
    def backward(ctx, g):
        # training, with xhat = (x - mu) inv_std and gamma folded in (the course's compact form):
        # dx = (gamma inv_std / M) (M dy - sum(dy) - xhat sum(dy xhat)), M = N*H*W per channel;
        # dgamma = sum(dy xhat), dbeta = sum(dy). In eval mu, inv_std are constants: dx = k dy.
        if ctx.fused:
            return _fused_backward(ctx, g)
        xc, inv_std, gamma, mean = ctx.saved
        c, cnt, m, last = ctx.c, ctx.cnt, ctx.m, ctx.last
        g2 = (np.moveaxis(g, 1, -1) if last else g).reshape(xc.shape)  # copies other layouts
        need_x, need_w, need_b = ctx.needs_input_grad
        train_x = ctx.training and need_x
        k1 = inv_std if gamma is None else gamma * inv_std
        dbeta = _channel_sum(g2, c, last) \
            if (need_b or train_x or (need_w and not ctx.training)) else None
        dgamma = dx = None
        if need_w or train_x:
            t = g2 * xc
            s_gx = _channel_sum(t, c, last)
            if not ctx.training:  # xc is x: sum(dy (x - mu)) = sum(dy x) - mu sum(dy)
                s_gx -= mean * dbeta
            dgamma = s_gx * inv_std
        if need_x:
            dx = g2 * _plane(k1, m, last)
            if ctx.training:
                np.multiply(xc, _plane(k1 * inv_std * dgamma / cnt, m, last), out=t)
                t += _plane(k1 * dbeta / cnt, m, last)
                dx -= t
            if last:
                sh = g.shape
                dx = dx.reshape((sh[0],) + tuple(sh[2:]) + (c,))
                dx = np.moveaxis(dx, -1, 1)
            else:
                dx = dx.reshape(g.shape)
        return dx, (dgamma if need_w else None), (dbeta if need_b else None)


class LayerNorm(Function):
    @staticmethod
    def forward(ctx, x, gamma, beta, ns, eps):
        d = int(np.prod(ns))
        x2 = x.reshape(-1, d)
        gamma = None if gamma is None else gamma.astype(x.dtype, copy=False).reshape(-1)
        ones = np.ones(d, dtype=x.dtype)
        xc = x2 - ((x2 @ ones) / d)[:, None]
        var = ((xc * xc) @ ones) / d
        inv_std = (1 / np.sqrt(var + eps))[:, None]
        xhat = xc
        xhat *= inv_std
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
    @staticmethod
    def forward(ctx, x, gamma, beta, groups, eps):
        n = x.shape[0]
        m = x[0, 0].size
        gamma = None if gamma is None else gamma.astype(x.dtype, copy=False)
        xg = x.reshape(n * groups, -1)  # each row: one group of C/G channels of one sample
        d = xg.shape[1]
        ones = np.ones(d, dtype=x.dtype)
        xhat = xg - ((xg @ ones) / d)[:, None]
        var = ((xhat * xhat) @ ones) / d
        inv_std = (1 / np.sqrt(var + eps))[:, None]
        xhat *= inv_std
        y = xhat.reshape(n, -1)
        if gamma is not None:
            y = y * _plane(gamma, m)
        if beta is not None:
            y = y + _plane(beta.astype(x.dtype, copy=False), m)
        ctx.save_for_backward(xhat, inv_std, gamma)
        return y.reshape(x.shape)

    @staticmethod
    def backward(ctx, g):
        # per group, layer norm's backward with dxhat = dy gamma_c; dgamma_c = sum(dy xhat) and
        # dbeta_c = sum(dy) over the batch and the positions of channel c
        xhat, inv_std, gamma = ctx.saved
        n, c = g.shape[:2]
        m = g[0, 0].size
        g2 = g.reshape(n, -1)
        need_x, need_w, need_b = ctx.needs_input_grad
        dx = None
        if need_x:
            dxhat = g2 if gamma is None else g2 * _plane(gamma, m)
            dx = _row_norm_backward(dxhat.reshape(xhat.shape), xhat, inv_std).reshape(g.shape)
        dgamma = _channel_sum(g2 * xhat.reshape(g2.shape), c) if need_w else None
        dbeta = _channel_sum(g2, c) if need_b else None
        return dx, dgamma, dbeta


def _per_channel(name, arg, value, c, shape):
    if value is None:
        return None
    v = value.array if isinstance(value, Tensor) else np.asarray(value)
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
        if x.size // c <= 1:
            raise ValueError(
                f"batch_norm: expected more than 1 value per channel when training, "
                f"got input shape {x.shape}"
            )
    elif rm is None or rv is None:
        raise ValueError("batch_norm: running_mean and running_var are needed in eval mode")
    return BatchNorm.apply(input, weight, bias, rm=rm, rv=rv, training=bool(training),
                           momentum=float(momentum), eps=float(eps))


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
    return GroupNorm.apply(input, weight, bias, groups=int(num_groups), eps=float(eps))
