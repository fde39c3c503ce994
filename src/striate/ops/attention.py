"""Attention: ``scaled_dot_product_attention`` (one graph node) and ``multi_head_attention_forward``
(PyTorch's functional multi-head attention, a composition of projections around it).

``softmax(q k^T * scale + mask) v`` over the last two dims; every leading dim (batch, heads) is
broadcast. The node keeps the attention probabilities ``p`` for its backward:

    dv = p^T dout,   dp = dout v^T,   ds = p * (dp - sum(dp * p, -1)),   dq = ds k scale,
    dk = ds^T q scale,   d(float mask) = ds.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from .. import backend
from ..autograd.function import Function
from ..autograd.tensor import Tensor
from .activation import softmax
from .dropout import dropout
from .linalg import linear, matmul
from .shape import cat

__all__ = ["multi_head_attention_forward", "scaled_dot_product_attention"]


def _arr(t):
    return t.array if isinstance(t, Tensor) else t


def _safe_softmax(s: np.ndarray) -> np.ndarray:
    """Softmax over the last dim; a row masked everywhere (all -inf) gives zeros, not NaN, as
    PyTorch's ``scaled_dot_product_attention`` does."""
    m = s.max(axis=-1, keepdims=True)
    dead = np.isneginf(m)
    e = np.exp(s - np.where(dead, 0, m))  # subtract the max: exp never overflows
    z = e.sum(axis=-1, keepdims=True)
    return np.where(dead, 0, e / np.where(dead, 1, z)).astype(s.dtype, copy=False)


class ScaledDotProductAttention(Function):
    @staticmethod
    def forward(ctx, q, k, v, mask, scale, dropout_p, keep):
        s = np.matmul(q, np.swapaxes(k, -1, -2)) * scale
        if mask is not None:
            s = s + mask
        p = _safe_softmax(s)
        pd = p if keep is None else p * keep  # keep: the dropout mask, already / (1 - p)
        ctx.save_for_backward(q, k, v, p, keep)
        ctx.scale = scale
        return np.matmul(pd, v)

    @staticmethod
    def backward(ctx, g):
        q, k, v, p, keep = ctx.saved
        pd = p if keep is None else p * keep
        dv = np.matmul(np.swapaxes(pd, -1, -2), g)
        dp = np.matmul(g, np.swapaxes(v, -1, -2))
        if keep is not None:
            dp = dp * keep
        # softmax's Jacobian applied row by row: p * (dp - <dp, p>)
        ds = p * (dp - (dp * p).sum(axis=-1, keepdims=True))
        dq = np.matmul(ds, k) * ctx.scale
        dk = np.matmul(np.swapaxes(ds, -1, -2), q) * ctx.scale
        return dq, dk, dv, (ds if ctx.needs_input_grad[3] else None)


def _additive_mask(mask, fn: str, name: str, dtype, true_means_keep: bool):
    """A float mask to add to the scores: a bool mask becomes 0 / -inf (``true_means_keep``
    says which of True and False is -inf); a float mask is returned as is (Tensor or array)."""
    if mask is None:
        return None
    a = _arr(mask)
    if not hasattr(a, "dtype"):
        raise TypeError(f"{fn}: {name} must be a Tensor, got {type(mask).__name__}")
    if a.dtype == np.bool_:
        blocked = ~a if true_means_keep else a
        return np.where(blocked, -np.inf, 0.0).astype(dtype)
    if a.dtype.kind != "f":
        raise TypeError(f"{fn}: {name} must be bool or floating, got dtype {a.dtype}")
    return mask if isinstance(mask, Tensor) and mask.requires_grad else a.astype(dtype,
                                                                                 copy=False)


def scaled_dot_product_attention(query: Tensor, key: Tensor, value: Tensor,
                                 attn_mask: Tensor | None = None, dropout_p: float = 0.0,
                                 is_causal: bool = False, scale: float | None = None,
                                 enable_gqa: bool = False) -> Tensor:
    """``softmax(query key^T * scale + mask) value``, PyTorch's semantics, as one graph node.

    Args:
        query: (..., L, E). key: (..., S, E). value: (..., S, Ev); leading dims broadcast.
        attn_mask: broadcastable to (..., L, S); bool (True = may attend) or float (added).
        dropout_p: dropout on the attention probabilities (applied whenever > 0, as PyTorch's
            functional form: pass 0 in evaluation).
        is_causal: query i attends to keys j <= i (a lower-triangular (L, S) mask); not with
            ``attn_mask``.
        scale: default ``1 / sqrt(E)``.
    Returns (..., L, Ev). A query row that may attend to nothing gives zeros.
    """
    fn = "scaled_dot_product_attention"
    for name, t in (("query", query), ("key", key), ("value", value)):
        if not isinstance(t, Tensor):
            raise TypeError(f"{fn}: {name} must be a Tensor, got {type(t).__name__}")
        if t.ndim < 2:
            raise ValueError(f"{fn}: {name} must have at least 2 dims, got shape {t.shape}")
    if query.shape[-1] != key.shape[-1] or key.shape[-2] != value.shape[-2]:
        raise ValueError(f"{fn}: expected query (..., L, E), key (..., S, E), value (..., S, Ev); "
                         f"got {query.shape}, {key.shape}, {value.shape}")
    if enable_gqa:
        raise ValueError(f"{fn}: enable_gqa=True is not supported")
    if isinstance(dropout_p, bool) or not isinstance(dropout_p, numbers.Real) or \
            not 0.0 <= dropout_p <= 1.0:
        raise ValueError(f"{fn}: dropout_p must be in [0, 1], got {dropout_p!r}")
    dtype = query.dtype
    L, S = query.shape[-2], key.shape[-2]
    if is_causal:
        if attn_mask is not None:
            raise ValueError(f"{fn}: give attn_mask or is_causal=True, not both")
        attn_mask = np.tril(np.ones((L, S), dtype=bool))
    mask = _additive_mask(attn_mask, fn, "attn_mask", dtype, true_means_keep=True)
    scale = 1.0 / math.sqrt(query.shape[-1]) if scale is None else float(scale)
    keep = None
    if dropout_p > 0:
        shape = np.broadcast_shapes(query.shape[:-1] + (S,), key.shape[:-2] + (L, S))
        u = backend.get_rng().random(shape)
        keep = np.where(u >= dropout_p, 1.0 / (1.0 - dropout_p), 0.0).astype(dtype) \
            if dropout_p < 1 else np.zeros(shape, dtype=dtype)
    return ScaledDotProductAttention.apply(query, key, value, mask, scale=scale,
                                           dropout_p=dropout_p, keep=keep)


def multi_head_attention_forward(
    query: Tensor, key: Tensor, value: Tensor, embed_dim_to_check: int, num_heads: int,
    in_proj_weight: Tensor | None, in_proj_bias: Tensor | None, bias_k: Tensor | None,
    bias_v: Tensor | None, add_zero_attn: bool, dropout_p: float, out_proj_weight: Tensor,
    out_proj_bias: Tensor | None, training: bool = True, key_padding_mask: Tensor | None = None,
    need_weights: bool = True, attn_mask: Tensor | None = None,
    use_separate_proj_weight: bool = False, q_proj_weight: Tensor | None = None,
    k_proj_weight: Tensor | None = None, v_proj_weight: Tensor | None = None,
    static_k=None, static_v=None, average_attn_weights: bool = True, is_causal: bool = False,
):
    """PyTorch's ``F.multi_head_attention_forward``: project, split heads, attend, merge, project.

    query (L, N, E), key (S, N, kdim), value (S, N, vdim), or unbatched (L, E) / (S, kdim) /
    (S, vdim). ``attn_mask`` (L, S) or (N * num_heads, L, S), ``key_padding_mask`` (N, S):
    bool (True = may NOT attend) or float (added). Returns ``(output (L, N, E), weights)`` with
    weights (N, L, S) averaged over heads, (N, num_heads, L, S) if not ``average_attn_weights``,
    or None without ``need_weights``. With ``need_weights`` the weights are computed by small
    ops (so they are differentiable outputs); otherwise one ``scaled_dot_product_attention``
    node does the work.
    """
    fn = "multi_head_attention_forward"
    if static_k is not None or static_v is not None:
        raise ValueError(f"{fn}: static_k / static_v are not supported")
    batched = query.ndim == 3
    if query.ndim not in (2, 3) or key.ndim != query.ndim or value.ndim != query.ndim:
        raise ValueError(f"{fn}: query, key and value must all be 3-D (seq, batch, feature) or "
                         f"all 2-D (unbatched); got {query.shape}, {key.shape}, {value.shape}")
    if not batched:
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.reshape(1, -1) if isinstance(
                key_padding_mask, Tensor) else np.asarray(key_padding_mask).reshape(1, -1)
    L, N, E = query.shape
    S = key.shape[0]
    if E != embed_dim_to_check:
        raise ValueError(f"{fn}: query's feature size is {E}, expected embed_dim "
                         f"{embed_dim_to_check}")
    if E % num_heads:
        raise ValueError(f"{fn}: embed_dim {E} is not divisible by num_heads {num_heads}")
    if key.shape[:2] != value.shape[:2] or key.shape[1] != N:
        raise ValueError(f"{fn}: key {key.shape} and value {value.shape} must share (S, N) with "
                         f"N = {N} from query {query.shape}")
    if is_causal and attn_mask is None:
        raise ValueError(f"{fn}: is_causal=True needs attn_mask (the causal mask itself), as "
                         "PyTorch's")
    hd = E // num_heads
    dtype = query.dtype

    if use_separate_proj_weight:
        bq = bk = bv = None
        if in_proj_bias is not None:
            bq, bk, bv = in_proj_bias[:E], in_proj_bias[E:2 * E], in_proj_bias[2 * E:]
        q = linear(query, q_proj_weight, bq)
        k = linear(key, k_proj_weight, bk)
        v = linear(value, v_proj_weight, bv)
    else:
        w, b = in_proj_weight, in_proj_bias
        q = linear(query, w[:E], None if b is None else b[:E])
        k = linear(key, w[E:2 * E], None if b is None else b[E:2 * E])
        v = linear(value, w[2 * E:], None if b is None else b[2 * E:])

    mask = _additive_mask(attn_mask, fn, "attn_mask", dtype, true_means_keep=False)
    if mask is not None and _arr(mask).ndim == 2:
        mask = mask.reshape(1, L, S) if isinstance(mask, Tensor) else mask[None]
    kpm = _additive_mask(key_padding_mask, fn, "key_padding_mask", dtype, true_means_keep=False)
    if kpm is not None and _arr(kpm).shape != (N, S):
        raise ValueError(f"{fn}: key_padding_mask must be (N, S) = {(N, S)}, got "
                         f"{_arr(kpm).shape}")

    def pad_masks(mask, kpm):  # one more key (bias_kv or the zero key): nothing masks it
        if mask is not None:
            mask = _cat_zero_column(mask)
        if kpm is not None:
            kpm = _cat_zero_column(kpm)
        return mask, kpm

    if bias_k is not None:
        k = cat([k, bias_k.reshape(1, 1, E).expand(1, N, E)], 0)
        v = cat([v, bias_v.reshape(1, 1, E).expand(1, N, E)], 0)
        mask, kpm = pad_masks(mask, kpm)
    # (seq, N, E) -> (N, heads, seq, hd)
    q = q.reshape(L, N, num_heads, hd).permute(1, 2, 0, 3)
    k = k.reshape(k.shape[0], N, num_heads, hd).permute(1, 2, 0, 3)
    v = v.reshape(v.shape[0], N, num_heads, hd).permute(1, 2, 0, 3)
    if add_zero_attn:
        zeros = Tensor(np.zeros((N, num_heads, 1, hd), dtype=dtype))
        k, v = cat([k, zeros], 2), cat([v, zeros], 2)
        mask, kpm = pad_masks(mask, kpm)
    S2 = k.shape[2]
    if mask is not None:  # (1 or N * heads, L, S) -> broadcastable to (N, heads, L, S)
        m0 = _arr(mask).shape[0]
        if m0 not in (1, N * num_heads):
            raise ValueError(f"{fn}: a 3-D attn_mask must be (N * num_heads, L, S) = "
                             f"{(N * num_heads, L, S)}, got {_arr(mask).shape}")
        mask = mask.reshape(m0 // num_heads if m0 > 1 else 1, num_heads if m0 > 1 else 1, L, S2)
    if kpm is not None:
        kpm = kpm.reshape(N, 1, 1, S2)
        mask = kpm if mask is None else mask + kpm
    p_drop = dropout_p if training else 0.0

    if need_weights:
        scores = matmul(q * (1.0 / math.sqrt(hd)), k.transpose(-2, -1))
        if mask is not None:
            scores = scores + mask
        weights = softmax(scores, -1)
        if p_drop > 0:
            weights = dropout(weights, p_drop, True)
        out = matmul(weights, v)
    else:
        if mask is not None and not isinstance(mask, Tensor):
            mask = mask.astype(dtype, copy=False)
        out = scaled_dot_product_attention(q, k, v, mask, p_drop)
        weights = None
    # (N, heads, L, hd) -> (L, N, E)
    out = linear(out.permute(2, 0, 1, 3).reshape(L, N, E), out_proj_weight, out_proj_bias)
    if weights is not None and average_attn_weights:
        weights = weights.mean(1)
    if not batched:
        out = out.squeeze(1)
        if weights is not None:
            weights = weights.squeeze(0)
    return out, weights


def _cat_zero_column(mask):
    """A zero (attend-freely) column appended on the last dim of an additive mask."""
    if isinstance(mask, Tensor):
        z = Tensor(np.zeros(mask.shape[:-1] + (1,), dtype=mask.dtype))
        return cat([mask, z], -1)
    return np.concatenate([mask, np.zeros(mask.shape[:-1] + (1,), dtype=mask.dtype)], -1)
