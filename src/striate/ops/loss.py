"""Losses: cross_entropy, nll_loss, multi_margin_loss (the multiclass SVM), mse/l1/smooth_l1/huber,
binary_cross_entropy(_with_logits) and kl_div, with PyTorch's names and reductions.

Each loss is one fused ``Function``: forward computes the per-element loss and reduces it, backward
is the closed-form derivative. Class weights and ``pos_weight`` are constants (PyTorch does not
differentiate them either). Arguments after ``target`` (and ``weight``) are keyword-only, so a call
that passes PyTorch's legacy ``size_average``/``reduce`` positionally fails loudly.
"""

from __future__ import annotations

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import Tensor

__all__ = [
    "binary_cross_entropy", "binary_cross_entropy_with_logits", "cross_entropy", "huber_loss",
    "kl_div", "l1_loss", "mse_loss", "multi_margin_loss", "nll_loss", "smooth_l1_loss",
]  # fmt: skip

_REDUCTIONS = ("mean", "sum", "none")


def _arr(x):
    return x.array if isinstance(x, Tensor) else (None if x is None else np.asarray(x))


def _check_reduction(name: str, reduction, allowed=_REDUCTIONS) -> None:
    if reduction not in allowed:
        raise ValueError(
            f"{name}: reduction must be one of {', '.join(map(repr, allowed))}, got {reduction!r}"
        )


def _reduce(ctx, loss, reduction, denom=None):
    """Reduce the per-element loss; remember how for the backward (see :func:`_upstream`)."""
    ctx.reduction = reduction
    if reduction == "none":
        return loss
    if reduction == "sum":
        return np.asarray(loss.sum(), dtype=loss.dtype)
    ctx.denom = loss.size if denom is None else denom
    with np.errstate(invalid="ignore", divide="ignore"):  # 0/0 = nan when all are ignored
        return np.asarray(loss.sum() / ctx.denom, dtype=loss.dtype)


def _upstream(ctx, g):
    """The upstream gradient of each element of the unreduced loss (a scalar for mean/sum)."""
    if ctx.reduction == "mean":
        if not ctx.denom:
            # nothing counted (every target ignored, or zero total weight): the loss is 0/0 =
            # NaN, but no input moved it, so its gradient is 0, as in PyTorch
            return np.zeros_like(g)
        return g / ctx.denom
    return g


def _class_weight(name, weight, c, dtype):
    if weight is None:
        return None
    w = _arr(weight)
    if w.shape != (c,):
        raise ValueError(f"{name}: weight must have shape ({c},), one per class, got {w.shape}")
    return w.astype(dtype, copy=False)


def _class_target(name, x, target, ignore_index=None):
    """Check (N, C, *) scores against (N, *) integer class indices; return the index array."""
    t = _arr(target)
    want = (x.shape[0], *x.shape[2:]) if x.ndim >= 2 else ()
    if t.dtype.kind not in "iu":
        raise TypeError(
            f"{name}: target must hold integer class indices (int64) of shape {want}, "
            f"got dtype {t.dtype} and shape {t.shape}"
        )
    if t.shape != want:
        raise ValueError(
            f"{name}: target has shape {t.shape} but input of shape {x.shape} expects {want}"
        )
    c = x.shape[1] if x.ndim >= 2 else x.shape[0]
    live = t if ignore_index is None else t[t != ignore_index]
    if live.size and (live.min() < 0 or live.max() >= c):
        bad = live.min() if live.min() < 0 else live.max()
        extra = "" if ignore_index is None else f", or ignore_index={ignore_index}"
        raise IndexError(
            f"{name}: target holds class index {bad} but input has {c} classes "
            f"(valid: 0..{c - 1}{extra})"
        )
    return t


def _picked(a, t):
    """``a[n, t[n, ...], ...]`` for (N, C, *) ``a`` and (N, *) indices ``t``: shape (N, *)."""
    return np.take_along_axis(a, t[:, None], axis=1)[:, 0]


def _add_at_target(dx, t, v):
    """``dx[n, t[n, ...], ...] += v[n, ...]`` (one target per position, so no collisions)."""
    if dx.ndim == 2:
        dx[np.arange(dx.shape[0]), t] += v
    else:
        idx = t[:, None]
        np.put_along_axis(dx, idx, np.take_along_axis(dx, idx, axis=1) + v[:, None], axis=1)


def _batched(x, t):
    """Unbatched (C,) scores with a () target become a batch of one."""
    return (x[None], t[None], True) if x.ndim == 1 else (x, t, False)


class CrossEntropy(Function):
    @staticmethod
    def forward(ctx, x, t, weight, ignore_index, reduction, eps):
        x, t, ctx.unbatched = _batched(x, t)
        c = x.shape[1]
        with np.errstate(invalid="ignore"):  # an inf row gives NaN here, masked below if ignored
            z = x - x.max(axis=1, keepdims=True)  # subtract the max: exp never overflows
        p = np.exp(z)
        s = p.sum(axis=1, keepdims=True)
        log_s = np.log(s)
        valid = t != ignore_index
        t = np.where(valid, t, 0)
        # -log softmax(x)_y = log(sum exp z) - z_y, without a full log-softmax array
        wy = valid.astype(x.dtype) if weight is None else weight[t] * valid
        # ignored rows count as 0 even when their logits are inf (0 * NaN would be NaN)
        loss = np.where(valid, (1 - eps) * wy * (log_s[:, 0] - _picked(z, t)), 0)
        wc = 1
        if eps:
            # label smoothing adds eps/C * sum_c w_c (-log p_c) for every counted sample
            wc = 1 if weight is None else weight.reshape((1, c) + (1,) * (x.ndim - 2))
            wsum = c if weight is None else weight.sum()
            smooth = wsum * log_s[:, 0] - (z * wc).sum(axis=1)
            loss = loss + np.where(valid, (eps / c) * smooth, 0)
        else:
            wsum = 0
        p /= s
        ctx.save_for_backward(p, t, wy, valid)
        ctx.eps, ctx.wc, ctx.wsum = eps, wc, wsum
        out = _reduce(ctx, loss, reduction, wy.sum())
        return out[0] if ctx.unbatched and reduction == "none" else out

    @staticmethod
    def backward(ctx, g):
        # loss = -sum_c A_c log p_c with A_c = (1-eps) w_y [c == y] + (eps/C) w_c, so
        # d loss/d x_c = p_c sum(A) - A_c (the classic p - onehot(y) when eps = 0, w = 1)
        p, t, wy, valid = ctx.saved
        c = p.shape[1]
        gn = np.broadcast_to(_upstream(ctx, g), wy.shape)
        a_y = (1 - ctx.eps) * wy * gn
        if ctx.eps:
            a_c = gn * valid * (ctx.eps / c)
            dx = p * (a_y + a_c * ctx.wsum)[:, None]
            dx -= a_c[:, None] * ctx.wc
        else:
            dx = p * a_y[:, None]
        _add_at_target(dx, t, -a_y)
        return (dx[0] if ctx.unbatched else dx), None, None


class CrossEntropyProb(Function):
    @staticmethod
    def forward(ctx, x, q, weight, reduction, eps):
        q = q.astype(x.dtype, copy=False)
        c = x.shape[1] if x.ndim > 1 else x.shape[0]
        axis = 1 if x.ndim > 1 else 0
        z = x - x.max(axis=axis, keepdims=True)
        e = np.exp(z)
        s = e.sum(axis=axis, keepdims=True)
        logp = z - np.log(s)
        wc = 1 if weight is None else weight.reshape((c,) + (1,) * (x.ndim - 1 - axis))
        if eps:
            q = q * (1 - eps) + eps / c
        a = q * wc  # the weight on -log p_c
        loss = -(a * logp).sum(axis=axis)
        ctx.save_for_backward(e / s, a, logp if ctx.needs_input_grad[1] else None)
        ctx.axis, ctx.eps, ctx.wc = axis, eps, wc
        return _reduce(ctx, loss, reduction, x.size // c)

    @staticmethod
    def backward(ctx, g):
        # d loss/d x_c = p_c sum(A) - A_c; d loss/d q_c = -(1 - eps) w_c log p_c
        p, a, logp = ctx.saved
        gn = _upstream(ctx, g)
        if ctx.reduction == "none":
            gn = np.expand_dims(gn, ctx.axis)
        dx = (p * a.sum(axis=ctx.axis, keepdims=True) - a) * gn
        dq = -(1 - ctx.eps) * ctx.wc * logp * gn if logp is not None else None
        return dx, dq, None


class NLLLoss(Function):
    @staticmethod
    def forward(ctx, x, t, weight, ignore_index, reduction):
        x, t, ctx.unbatched = _batched(x, t)
        valid = t != ignore_index
        t = np.where(valid, t, 0)
        wy = valid.astype(x.dtype) if weight is None else weight[t] * valid
        with np.errstate(invalid="ignore"):  # an ignored row's inf counts as 0, not 0 * inf
            loss = np.where(valid, -wy * _picked(x, t), 0)
        ctx.save_for_backward(t, wy)
        ctx.shape, ctx.dtype = x.shape, x.dtype
        out = _reduce(ctx, loss, reduction, wy.sum())
        return out[0] if ctx.unbatched and reduction == "none" else out

    @staticmethod
    def backward(ctx, g):
        # d loss_n / d x[n, c] = -w_y [c == y], 0 for ignored samples
        t, wy = ctx.saved
        dx = np.zeros(ctx.shape, dtype=ctx.dtype)
        _add_at_target(dx, t, -wy * _upstream(ctx, g))
        return (dx[0] if ctx.unbatched else dx), None, None


class MultiMargin(Function):
    @staticmethod
    def forward(ctx, x, t, weight, p, margin, reduction):
        x, t, ctx.unbatched = _batched(x, t)
        n, c = x.shape
        rows = np.arange(n)
        h = x - x[rows, t][:, None] + margin  # margin violation of every class
        h[rows, t] = 0  # the j = y term is not part of the sum
        h = np.maximum(h, 0)
        wy = 1 if weight is None else weight[t][:, None]
        loss = (h if p == 1 else h * h) * wy
        ctx.save_for_backward(h, t)
        ctx.p, ctx.wy = p, wy
        out = _reduce(ctx, loss.sum(axis=1) / c, reduction)
        return out[0] if ctx.unbatched and reduction == "none" else out

    @staticmethod
    def backward(ctx, g):
        # d/ds_j = (w_y/C) [h_j > 0] (p=1) or (w_y/C) 2 h_j (p=2) for j != y;
        # d/ds_y = minus the sum of those, since every h_j contains -s_y
        h, t = ctx.saved
        n, c = h.shape
        gn = np.broadcast_to(_upstream(ctx, g), (n,))[:, None] * (ctx.wy / c)
        dx = ((h > 0) * gn if ctx.p == 1 else 2 * h * gn).astype(h.dtype, copy=False)
        dx[np.arange(n), t] = -dx.sum(axis=1)
        return (dx[0] if ctx.unbatched else dx), None, None


class Regression(Function):
    @staticmethod
    def forward(ctx, x, t, kind, reduction, beta):
        d = x - t.astype(x.dtype, copy=False)
        if kind == "mse":
            loss = d * d
        elif kind == "l1":
            loss = np.abs(d)
        else:
            # Huber: 0.5 d^2 inside |d| < beta, beta (|d| - beta/2) outside; = c (d - c/2) with
            # c = clip(d, -beta, beta). smooth_l1 is Huber / beta.
            cl = np.clip(d, -beta, beta)
            loss = cl * (d - 0.5 * cl)
            if kind == "smooth_l1":
                loss /= beta
        ctx.save_for_backward(d)
        ctx.kind, ctx.beta = kind, beta
        return _reduce(ctx, loss, reduction)

    @staticmethod
    def backward(ctx, g):
        # mse: 2d; l1: sign(d); huber: clip(d, -beta, beta); smooth_l1: clip(d / beta, -1, 1),
        # with d = input - target; the target gets the negative
        (d,) = ctx.saved
        k, beta = ctx.kind, ctx.beta
        if k == "mse":
            dd = 2 * d
        elif k == "l1":
            dd = np.sign(d)
        else:
            lim = 1.0 if k == "smooth_l1" else beta
            dd = np.clip(d / beta if k == "smooth_l1" else d, -lim, lim)
        dx = dd * _upstream(ctx, g)
        return dx, (-dx if ctx.needs_input_grad[1] else None)


def _sigmoid_neg(x):
    """sigmoid(-x), exp of a non-positive number only."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, e / (1 + e), 1 / (1 + e))


class BCEWithLogits(Function):
    @staticmethod
    def forward(ctx, x, t, weight, pos_weight, reduction):
        t = t.astype(x.dtype, copy=False)
        # softplus(-x) = log(1 + exp(-x)) = log(1 + exp(-|x|)) + max(-x, 0): never overflows
        sp = np.log1p(np.exp(-np.abs(x))) + np.maximum(-x, 0)
        lw = 1 if pos_weight is None else 1 + (pos_weight - 1) * t
        loss = (1 - t) * x + lw * sp
        if weight is not None:
            loss = loss * weight
        ctx.save_for_backward(x, t, sp)
        ctx.w, ctx.pw, ctx.lw = (1 if weight is None else weight), pos_weight, lw
        return _reduce(ctx, loss, reduction)

    @staticmethod
    def backward(ctx, g):
        # dl/dx = (1 - t) - L sigmoid(-x) with L = 1 + (pw - 1) t (= sigmoid(x) - t if pw = 1);
        # dl/dt = -x + (pw - 1) softplus(-x); both times the weight
        x, t, sp = ctx.saved
        gw = _upstream(ctx, g) * ctx.w
        dx = ((1 - t) - ctx.lw * _sigmoid_neg(x)) * gw
        dt = None
        if ctx.needs_input_grad[1]:
            dt = (-x if ctx.pw is None else -x + (ctx.pw - 1) * sp) * gw
        return dx, dt, None, None


class BCE(Function):
    @staticmethod
    def forward(ctx, x, t, weight, reduction):
        t = t.astype(x.dtype, copy=False)
        with np.errstate(divide="ignore"):
            # PyTorch clamps each log at -100 so that x = 0 or 1 gives a finite loss
            lx = np.maximum(np.log(x), -100)
            l1x = np.maximum(np.log1p(-x), -100)
        loss = -(t * lx + (1 - t) * l1x)
        if weight is not None:
            loss = loss * weight
        ctx.save_for_backward(x, t, lx, l1x)
        ctx.w = 1 if weight is None else weight
        return _reduce(ctx, loss, reduction)

    @staticmethod
    def backward(ctx, g):
        # dl/dx = (x - t) / (x (1 - x)), the denominator clamped at 1e-12 (as PyTorch);
        # dl/dt = log(1 - x) - log(x)
        x, t, lx, l1x = ctx.saved
        gw = _upstream(ctx, g) * ctx.w
        dx = (x - t) / np.maximum(x * (1 - x), 1e-12) * gw
        dt = (l1x - lx) * gw if ctx.needs_input_grad[1] else None
        return dx, dt, None


class KLDiv(Function):
    @staticmethod
    def forward(ctx, x, t, reduction, log_target):
        t = t.astype(x.dtype, copy=False)
        if log_target:
            et = np.exp(t)
            loss = et * (t - x)
        else:
            # PyTorch's xlogy(t, t) - t x: 0 log 0 = 0, while a negative or NaN target gives NaN
            with np.errstate(invalid="ignore"):
                logt = np.log(np.where(t == 0, 1, t))
            et = t
            loss = t * logt - t * x
        ctx.save_for_backward(x, t, et, None if log_target else logt)
        ctx.log_target = log_target
        n = x.shape[0] if x.ndim else 1
        if reduction == "batchmean":
            return _reduce(ctx, loss, "mean", n)
        return _reduce(ctx, loss, reduction)

    @staticmethod
    def backward(ctx, g):
        # dl/dx = -t (-exp(t) for log targets); dl/dt = log t + 1 - x (exp(t)(t - x + 1))
        x, t, et, logt = ctx.saved
        gu = _upstream(ctx, g)
        dx = -et * gu
        dt = None
        if ctx.needs_input_grad[1]:
            dt = (et * (t - x + 1) if ctx.log_target else logt + 1 - x) * gu
        return dx, dt


def cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None, *,
                  ignore_index: int = -100, reduction: str = "mean",
                  label_smoothing: float = 0.0) -> Tensor:
    """The softmax loss: ``-log softmax(input)[target]``, a fused, stable log-softmax + NLL.

    Args:
        input: scores (N, C), (N, C, d1, ...) or unbatched (C,).
        target: class indices (N,) / (N, d1, ...) / () of an integer dtype, or class
            probabilities of input's shape (a float tensor, differentiable).
        weight: optional (C,) rescaling per class (a constant).
        ignore_index: class index whose positions count neither in the loss nor in the mean.
        reduction: 'mean' (divided by the summed weights of the counted targets), 'sum', 'none'.
        label_smoothing: eps in [0, 1]: the target becomes (1 - eps) onehot + eps / C.
    Returns:
        a scalar, or per-position losses of target's shape (N, d1, ...) for 'none'.
    Raises:
        TypeError for float targets of the wrong shape; ValueError for bad shapes or arguments;
        IndexError for a class index outside 0..C-1.

    Example:
        >>> import striate, striate.functional as F
        >>> x = striate.zeros(4, 10)
        >>> round(F.cross_entropy(x, striate.tensor([1, 2, 3, 4])).item(), 4)  # log(10)
        2.3026
    """
    _check_reduction("cross_entropy", reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got {label_smoothing}")
    x = input.array
    if x.ndim == 0:
        raise ValueError("cross_entropy: input must have a class dimension, got a 0-d tensor")
    c = x.shape[1] if x.ndim >= 2 else x.shape[0]
    w = _class_weight("cross_entropy", weight, c, x.dtype)
    t = _arr(target)
    if t.dtype.kind == "f" and t.shape == x.shape:
        if ignore_index >= 0:
            raise ValueError("cross_entropy: ignore_index is not supported for probability targets")
        return CrossEntropyProb.apply(input, target, w, reduction=reduction, eps=label_smoothing)
    t = _class_target("cross_entropy", x, target, ignore_index)
    return CrossEntropy.apply(input, t, w, ignore_index=ignore_index, reduction=reduction,
                              eps=label_smoothing)


def nll_loss(input: Tensor, target: Tensor, weight: Tensor | None = None, *,
             ignore_index: int = -100, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood ``-w[y] input[n, y]`` of log-probabilities input (N, C, *) or (C,)
    and class indices target (N, *) or (); 'mean' divides by the summed weights of counted targets.
    Use it after ``log_softmax``; ``cross_entropy`` does both in one stable step."""
    _check_reduction("nll_loss", reduction)
    x = input.array
    if x.ndim == 0:
        raise ValueError("nll_loss: input must have a class dimension, got a 0-d tensor")
    c = x.shape[1] if x.ndim >= 2 else x.shape[0]
    w = _class_weight("nll_loss", weight, c, x.dtype)
    t = _class_target("nll_loss", x, target, ignore_index)
    return NLLLoss.apply(input, t, w, ignore_index=ignore_index, reduction=reduction)


def multi_margin_loss(input: Tensor, target: Tensor, p: int = 1, margin: float = 1.0,
                      weight: Tensor | None = None, *, reduction: str = "mean") -> Tensor:
    """Multiclass hinge (SVM) loss, exactly as PyTorch:
    ``loss_n = sum_{j != y} w[y] max(0, margin - s_y + s_j)^p / C`` for scores s = input[n].

    The course's SVM data loss, ``mean_n sum_{j != y} max(0, s_j - s_y + delta)`` (no division by
    C), equals ``C * multi_margin_loss(scores, y, margin=delta)``.

    Args:
        input: scores (N, C) or (C,); target: class indices (N,) or ().
        p: 1 (hinge) or 2 (squared hinge); weight: optional (C,) constant.
    Returns a scalar, or (N,) losses for reduction='none'.
    """
    _check_reduction("multi_margin_loss", reduction)
    if p not in (1, 2):
        raise ValueError(f"multi_margin_loss: p must be 1 or 2, got {p}")
    x = input.array
    if x.ndim not in (1, 2):
        raise ValueError(f"multi_margin_loss: input must be (N, C) or (C,), got shape {x.shape}")
    w = _class_weight("multi_margin_loss", weight, x.shape[-1], x.dtype)
    t = _class_target("multi_margin_loss", x, target)
    return MultiMargin.apply(input, t, w, p=p, margin=float(margin), reduction=reduction)


def _pair(name, input, target, reduction):
    """Check an elementwise loss's input/target pair: same shape, floating target."""
    _check_reduction(name, reduction)
    t = _arr(target)
    if t.shape != input.shape:
        raise ValueError(
            f"{name}: target has shape {t.shape} but input has shape {input.shape}; they must match"
        )
    if t.dtype.kind != "f":
        raise TypeError(f"{name}: target must be a floating tensor like input, got {t.dtype}")
    return target if isinstance(target, Tensor) else t.astype(input.dtype, copy=False)


def mse_loss(input: Tensor, target: Tensor, *, reduction: str = "mean") -> Tensor:
    """Squared error ``(input - target)^2``, input and target of one shape."""
    target = _pair("mse_loss", input, target, reduction)
    return Regression.apply(input, target, kind="mse", reduction=reduction, beta=0.0)


def l1_loss(input: Tensor, target: Tensor, *, reduction: str = "mean") -> Tensor:
    """Absolute error ``|input - target|``, input and target of one shape."""
    target = _pair("l1_loss", input, target, reduction)
    return Regression.apply(input, target, kind="l1", reduction=reduction, beta=0.0)


def smooth_l1_loss(input: Tensor, target: Tensor, *, reduction: str = "mean",
                   beta: float = 1.0) -> Tensor:
    """``0.5 d^2 / beta`` where ``|d| < beta``, ``|d| - beta / 2`` elsewhere (d = input - target);
    beta = 0 is the L1 loss."""
    target = _pair("smooth_l1_loss", input, target, reduction)
    if beta < 0:
        raise ValueError(f"smooth_l1_loss: beta must be >= 0, got {beta}")
    kind = "smooth_l1" if beta > 0 else "l1"
    return Regression.apply(input, target, kind=kind, reduction=reduction, beta=float(beta))


def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean",
               delta: float = 1.0) -> Tensor:
    """``0.5 d^2`` where ``|d| < delta``, ``delta (|d| - delta / 2)`` elsewhere, d = input - target;
    ``huber_loss(x, t, delta=b) == b * smooth_l1_loss(x, t, beta=b)``."""
    target = _pair("huber_loss", input, target, reduction)
    if delta <= 0:
        raise ValueError(f"huber_loss: delta must be > 0, got {delta}")
    return Regression.apply(input, target, kind="huber", reduction=reduction, beta=float(delta))


def _broadcastable(name, arg, value, shape, dtype):
    if value is None:
        return None
    v = _arr(value)
    try:
        ok = np.broadcast_shapes(v.shape, shape) == tuple(shape)
    except ValueError:
        ok = False
    if not ok:
        raise ValueError(
            f"{name}: {arg} of shape {v.shape} does not broadcast to input's shape {shape}"
        )
    return v.astype(dtype, copy=False)


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor,
                                     weight: Tensor | None = None, *, reduction: str = "mean",
                                     pos_weight: Tensor | None = None) -> Tensor:
    """Sigmoid + binary cross-entropy in one stable step:
    ``-w [pw t log sigmoid(x) + (1 - t) log(1 - sigmoid(x))]`` for logits x, targets t in [0, 1].

    Args:
        input: logits of any shape; target: same shape, floats in [0, 1].
        weight: constant broadcast to input; pos_weight: weight of positives, broadcast along the
            last dimension (C,).
    """
    target = _pair("binary_cross_entropy_with_logits", input, target, reduction)
    name = "binary_cross_entropy_with_logits"
    w = _broadcastable(name, "weight", weight, input.shape, input.dtype)
    pw = _broadcastable(name, "pos_weight", pos_weight, input.shape, input.dtype)
    return BCEWithLogits.apply(input, target, w, pw, reduction=reduction)


def binary_cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None, *,
                         reduction: str = "mean") -> Tensor:
    """``-w [t log x + (1 - t) log(1 - x)]`` for probabilities x in [0, 1] (each log clamped at
    -100, as PyTorch); prefer ``binary_cross_entropy_with_logits`` on logits."""
    target = _pair("binary_cross_entropy", input, target, reduction)
    x = input.array
    if x.size and (x.min() < 0 or x.max() > 1):
        raise ValueError(
            f"binary_cross_entropy: input must hold probabilities in [0, 1], got values in "
            f"[{x.min():.4g}, {x.max():.4g}]; use binary_cross_entropy_with_logits on scores"
        )
    w = _broadcastable("binary_cross_entropy", "weight", weight, input.shape, input.dtype)
    return BCE.apply(input, target, w, reduction=reduction)


def kl_div(input: Tensor, target: Tensor, *, reduction: str = "mean",
           log_target: bool = False) -> Tensor:
    """KL divergence ``target (log target - input)`` for log-probabilities input (target given as
    probabilities, or as log-probabilities with ``log_target=True``). 'batchmean' divides the sum
    by the batch size (the true KL per sample); 'mean' divides by the element count, as PyTorch."""
    _check_reduction("kl_div", reduction, (*_REDUCTIONS, "batchmean"))
    target = _pair("kl_div", input, target, "none")
    return KLDiv.apply(input, target, reduction=reduction, log_target=bool(log_target))
