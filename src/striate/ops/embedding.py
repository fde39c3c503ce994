"""``embedding``: rows of a weight matrix looked up by integer index, and its scatter-add backward.
"""

from __future__ import annotations

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import Tensor

__all__ = ["embedding"]


class Embedding(Function):
    @staticmethod
    def forward(ctx, idx, weight, padding_idx=None):
        ctx.idx, ctx.shape, ctx.padding_idx = idx, weight.shape, padding_idx
        return weight[idx]

    @staticmethod
    def backward(ctx, g):
        # out[k] = W[idx[k]]  =>  dW[v] = sum of g[k] over the k with idx[k] == v (a scatter-add);
        # the padding row is a constant and gets no gradient, as in PyTorch
        dw = np.zeros(ctx.shape, dtype=g.dtype)
        np.add.at(dw, ctx.idx.reshape(-1), g.reshape(ctx.idx.size, ctx.shape[1]))
        if ctx.padding_idx is not None:
            dw[ctx.padding_idx] = 0
        return None, dw


def embedding(input: Tensor, weight: Tensor, padding_idx: int | None = None) -> Tensor:
    """Look up rows of ``weight``: input (*) integer indices, weight (V, E) -> (*, E).

    Args:
        input: integer indices in [0, V).
        weight: the embedding matrix (V, E).
        padding_idx: an index whose row receives no gradient (negative counts from the end).
    Raises:
        TypeError for non-integer indices; IndexError for an index outside [0, V).

    Example:
        >>> import numpy as np, striate, striate.functional as F
        >>> w = striate.tensor(np.arange(6.0).reshape(3, 2))
        >>> F.embedding(striate.tensor([2, 0]), w).tolist()
        [[4.0, 5.0], [0.0, 1.0]]
    """
    idx = input.array if isinstance(input, Tensor) else np.asarray(input)
    w = weight.array if isinstance(weight, Tensor) else np.asarray(weight)
    if w.ndim != 2:
        raise ValueError(f"embedding: weight must be 2-D (num_embeddings, dim), got {w.shape}")
    if idx.dtype.kind not in "iu":
        raise TypeError(f"embedding: input must hold integer indices, got dtype {idx.dtype}")
    v = w.shape[0]
    if idx.size and (idx.min() < 0 or idx.max() >= v):
        bad = idx.min() if idx.min() < 0 else idx.max()
        raise IndexError(f"embedding: index {int(bad)} is out of range for {v} embeddings")
    if padding_idx is not None:
        if not -v <= padding_idx < v:
            raise ValueError(f"embedding: padding_idx must be in [-{v}, {v}), got {padding_idx}")
        padding_idx = int(padding_idx) % v
    return Embedding.apply(idx, weight, padding_idx=padding_idx)
