"""The temporal softmax loss of the course's captioning and language models: a softmax
cross-entropy at every time step, with a mask that leaves out padding."""

from __future__ import annotations

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import Tensor

__all__ = ["temporal_softmax_loss"]

_NORMALIZE = ("batch", "tokens")


class TemporalSoftmaxLoss(Function):
    @staticmethod
    def forward(ctx, x, y, mask, normalize="batch"):
        n, t, v = x.shape
        x2 = x.reshape(n * t, v)
        p = x2 - x2.max(axis=1, keepdims=True)  # exp of non-positive numbers only
        yf = y.reshape(-1)
        picked = p[np.arange(n * t), yf]
        np.exp(p, out=p)  # in place: one (N T, V) buffer serves as scores, exp and softmax
        z = p.sum(axis=1, keepdims=True)
        logp = picked - np.log(z[:, 0])
        m = mask.reshape(-1).astype(x.dtype)
        denom = n if normalize == "batch" else max(float(m.sum()), 1.0)
        p *= 1 / z
        ctx.save_for_backward(p, yf, m)
        ctx.denom, ctx.shape = denom, x.shape
        return np.asarray(-(m @ logp) / denom, dtype=x.dtype)

    @staticmethod
    def backward(ctx, g):
        # d(-log softmax(x)[y])/dx = softmax(x) - onehot(y), weighted by the mask
        p, yf, m = ctx.saved
        dx = p
        dx[np.arange(yf.shape[0]), yf] -= 1
        dx *= (m * (g / ctx.denom))[:, None]
        return dx.reshape(ctx.shape), None, None


def temporal_softmax_loss(x: Tensor, y: Tensor, mask: Tensor | None = None,
                          normalize: str = "batch") -> Tensor:
    """Softmax cross-entropy summed over time steps where ``mask`` is true.

    ``loss = -sum_{n,t} mask[n,t] log softmax(x[n,t])[y[n,t]] / N`` (the course's convention:
    summed over time, averaged over the batch); ``normalize='tokens'`` divides by the number of
    unmasked steps instead (the mean loss per token).

    Args:
        x: scores (N, T, V).
        y: integer targets (N, T) in [0, V).
        mask: (N, T) booleans (or 0/1), True where the step counts; None counts every step.
        normalize: 'batch' (divide by N) or 'tokens' (divide by the number of counted steps).
    Returns:
        a scalar Tensor.

    Example:
        >>> import numpy as np, striate, striate.functional as F
        >>> x = striate.zeros(2, 3, 4)
        >>> y = striate.tensor(np.zeros((2, 3), dtype=np.int64))
        >>> round(F.temporal_softmax_loss(x, y).item(), 4)  # 3 steps of log(4)
        4.1589
    """
    xa = x.array if isinstance(x, Tensor) else np.asarray(x)
    ya = y.array if isinstance(y, Tensor) else np.asarray(y)
    if xa.ndim != 3:
        raise ValueError(f"temporal_softmax_loss: x must be 3-D (N, T, V), got shape {xa.shape}")
    if ya.dtype.kind not in "iu":
        raise TypeError(f"temporal_softmax_loss: y must hold integer class indices, got dtype "
                        f"{ya.dtype}")
    if ya.shape != xa.shape[:2]:
        raise ValueError(f"temporal_softmax_loss: y must have shape (N, T) = {xa.shape[:2]}, "
                         f"got {ya.shape}")
    if ya.size and (ya.min() < 0 or ya.max() >= xa.shape[2]):
        raise IndexError(f"temporal_softmax_loss: a target is outside [0, {xa.shape[2]}) "
                         f"(min {ya.min()}, max {ya.max()})")
    if mask is None:
        ma = np.ones(ya.shape, dtype=bool)
    else:
        ma = mask.array if isinstance(mask, Tensor) else np.asarray(mask)
        if ma.shape != ya.shape:
            raise ValueError(f"temporal_softmax_loss: mask must have shape (N, T) = {ya.shape}, "
                             f"got {ma.shape}")
    if normalize not in _NORMALIZE:
        raise ValueError(f"temporal_softmax_loss: normalize must be 'batch' or 'tokens', got "
                         f"{normalize!r}")
    return TemporalSoftmaxLoss.apply(x, ya, ma, normalize=normalize)
