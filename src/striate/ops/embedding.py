"""``embedding``: rows of a weight matrix looked up by integer index, and its scatter-add backward.
"""

from __future__ import annotations

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import Tensor

__all__ = ["embedding"]


class Embedding(Function):
    @staticmethod
    def forward(ctx, idx, weight, padding_idx=None, scale_grad_by_freq=False):
        ctx.idx, ctx.shape, ctx.padding_idx = idx, weight.shape, padding_idx
        ctx.scale_grad_by_freq = scale_grad_by_freq
        return weight[idx]

    @staticmethod
    def backward(ctx, g):
        # out[k] = W[idx[k]]  =>  dW[v] = sum of g[k] over the k with idx[k] == v (a scatter-add);
        # the padding row is a constant and gets no gradient, as in PyTorch
        dw = np.zeros(ctx.shape, dtype=g.dtype)
        # (no -1 in the reshape: the embedding dim may be 0)
        np.add.at(dw, ctx.idx.reshape(-1), g.reshape(ctx.idx.size, ctx.shape[1]))
        if ctx.scale_grad_by_freq:
            # each occurrence's gradient divided by how often its index occurs in the batch
            counts = np.bincount(ctx.idx.reshape(-1), minlength=ctx.shape[0])
            dw /= np.maximum(counts, 1)[:, None].astype(dw.dtype)
        if ctx.padding_idx is not None:
            dw[ctx.padding_idx] = 0
        return None, dw


def embedding_renorm_(weight: Tensor, input, max_norm: float, norm_type: float = 2.0) -> Tensor:
    """Rescale, in place, each row of ``weight`` that ``input`` indexes and whose
    ``norm_type``-norm exceeds ``max_norm`` to norm ``max_norm`` (``torch.embedding_renorm_``;
    not recorded in the graph, as in PyTorch, which runs it under no_grad)."""
    w = weight.array if isinstance(weight, Tensor) else weight
    rows = np.unique(input.array if isinstance(input, Tensor) else np.asarray(input))
    norms = np.linalg.norm(w[rows].astype(np.float64), ord=norm_type, axis=1)
    big = norms > max_norm
    if big.any():
        # PyTorch's factor: max_norm / (norm + 1e-7)
        scale = (max_norm / (norms[big] + 1e-7)).astype(w.dtype)
        w[rows[big]] *= scale[:, None]
    if isinstance(weight, Tensor):
        weight._bump_version()
    return weight


def embedding(input: Tensor, weight: Tensor, padding_idx: int | None = None,
              max_norm: float | None = None, norm_type: float = 2.0,
              scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    """Look up rows of ``weight``: input (*) integer indices, weight (V, E) -> (*, E).

    Args:
        input: integer indices in [0, V).
        weight: the embedding matrix (V, E).
        padding_idx: an index whose row receives no gradient (negative counts from the end).
        max_norm: first rescale, in place, the looked-up rows whose ``norm_type``-norm exceeds
            it (see :func:`embedding_renorm_`), as PyTorch does.
        scale_grad_by_freq: divide each row's gradient by its index's count in ``input``.
        sparse: accepted; the gradient is dense (striate has no sparse tensors).
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
    if max_norm is not None:
        embedding_renorm_(weight, idx, max_norm, norm_type)
    return Embedding.apply(idx, weight, padding_idx=padding_idx,
                           scale_grad_by_freq=bool(scale_grad_by_freq))
