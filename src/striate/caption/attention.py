"""Soft (additive) attention over a set of locations, as one fused ``Function``.

Show, Attend and Tell's attention at one decoding step, for N images with L locations each::

    a     = tanh(P + q)          P = W_f f (N, L, A) precomputed once per image, q = W_h h (N, A)
    e     = a w                  scores (N, L)
    alpha = softmax(e)           weights over the locations, each row sums to 1
    z     = sum_l alpha_l f_l    context (N, C)

As one node instead of eight: the captioner calls it at every step, so fewer, fatter nodes are
less Python per step (docs/performance.md). A bias on the scores would cancel in the softmax, so
there is none.
"""

from __future__ import annotations

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import Tensor

__all__ = ["soft_attention"]


class SoftAttention(Function):
    @staticmethod
    def forward(ctx, proj, feats, q, w):
        a = np.tanh(proj + q[:, None, :])  # (N, L, A)
        e = a @ w  # (N, L)
        e = e - e.max(axis=1, keepdims=True)
        alpha = np.exp(e)
        alpha /= alpha.sum(axis=1, keepdims=True)
        z = (alpha[:, None, :] @ feats)[:, 0]  # (N, C)
        ctx.save_for_backward(a, alpha, feats, w)
        return np.concatenate([z, alpha], axis=1)

    @staticmethod
    def backward(ctx, g):
        a, alpha, feats, w = ctx.saved
        c = feats.shape[2]
        gz, galpha = g[:, :c], g[:, c:]
        need = ctx.needs_input_grad
        # z = alpha f: dalpha_l = f_l . gz (plus alpha's own upstream gradient), df_l = alpha_l gz
        galpha = galpha + (feats @ gz[:, :, None])[:, :, 0]
        dfeats = alpha[:, :, None] * gz[:, None, :] if need[1] else None
        # softmax: de = alpha * (dalpha - sum(alpha * dalpha))
        de = alpha * (galpha - (alpha * galpha).sum(axis=1, keepdims=True))
        n, n_loc, dim = a.shape
        dw = a.reshape(-1, dim).T @ de.reshape(-1) if need[3] else None
        # e = a w, a = tanh(pre): dpre = (de w) * (1 - a^2)
        dpre = de[:, :, None] * w * (1.0 - a * a)
        dproj = dpre if need[0] else None
        dq = dpre.sum(axis=1) if need[2] else None
        return dproj, dfeats, dq, dw


def soft_attention(proj: Tensor, feats: Tensor, q: Tensor, w: Tensor) -> tuple[Tensor, Tensor]:
    """Attention weights and context of one step (see the module docstring).

    Args:
        proj: projected locations P (N, L, A).
        feats: the locations' features f (N, L, C).
        q: projected hidden state (N, A).
        w: score vector (A,).
    Returns:
        (alpha (N, L), context (N, C)).
    """
    if proj.ndim != 3 or feats.ndim != 3 or proj.shape[:2] != feats.shape[:2]:
        raise ValueError(f"soft_attention: proj (N, L, A) and feats (N, L, C) must agree on N and "
                         f"L, got shapes {tuple(proj.shape)} and {tuple(feats.shape)}")
    n, n_loc, dim = proj.shape
    if tuple(q.shape) != (n, dim):
        raise ValueError(f"soft_attention: q must be ({n}, {dim}), got shape {tuple(q.shape)}")
    if tuple(w.shape) != (dim,):
        raise ValueError(f"soft_attention: w must be ({dim},), got shape {tuple(w.shape)}")
    out = SoftAttention.apply(proj, feats, q, w)
    c = feats.shape[2]
    return out[:, c:], out[:, :c]
