"""``striate.linalg``: the norms of ``torch.linalg`` (``vector_norm``, ``norm``)."""

from __future__ import annotations

from .autograd.tensor import Tensor
from .ops.reduction import vector_norm

__all__ = ["norm", "vector_norm"]


def norm(A: Tensor, ord=None, dim=None, keepdim: bool = False, dtype=None) -> Tensor:
    """``torch.linalg.norm``: the 2-norm of a vector, the Frobenius norm of a matrix (``ord``
    None or ``'fro'``), or the vector ``ord``-norm over ``dim`` when ``dim`` is an int."""
    if ord is None or ord == "fro":
        if dim is None and A.ndim > 2:
            raise ValueError(f"linalg.norm: input of {A.ndim} dimensions needs dim (1 or 2 dims)")
        return vector_norm(A, 2, dim=dim, keepdim=keepdim, dtype=dtype)
    if isinstance(dim, int) or (dim is None and A.ndim == 1):
        return vector_norm(A, ord, dim=dim, keepdim=keepdim, dtype=dtype)
    raise ValueError(f"linalg.norm: matrix norm ord={ord!r} is not supported (only 'fro'); "
                     "use linalg.vector_norm for element-wise norms")
