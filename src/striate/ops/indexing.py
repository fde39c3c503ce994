"""Index-driven operations with PyTorch's names: ``gather``, ``scatter_add``, ``masked_fill``,
``topk``, ``sort`` and ``argsort``.

``gather`` reads ``input`` at positions given by an index tensor along one dimension; its backward
is the matching scatter-add (a position read twice receives both gradients). ``scatter_add`` is the
transpose: its backward gathers. ``topk`` and ``sort`` compute indices without gradient and read
their values with ``gather``, so the values are differentiable as in PyTorch.
"""

from __future__ import annotations

import numbers
from collections import namedtuple

import numpy as np

from ..autograd.function import Function
from ..autograd.scalars import scalar_as
from ..autograd.tensor import Tensor
from .elementwise import Clone

__all__ = ["argsort", "gather", "masked_fill", "scatter_add", "sort", "topk"]

#: what ``topk`` and ``sort`` return: ``values`` (differentiable) and int64 ``indices``
ValuesIndices = namedtuple("ValuesIndices", ["values", "indices"])


def _dim(dim, ndim: int, name: str) -> int:
    n = max(ndim, 1)
    if not isinstance(dim, numbers.Integral) or not -n <= dim < n:
        raise IndexError(f"{name}: dim {dim!r} is out of range for a tensor with {ndim} dims")
    return int(dim) % n


def _index_array(index, name: str, arg: str = "index") -> np.ndarray:
    a = index.array if isinstance(index, Tensor) else np.asarray(index)
    if a.dtype.kind not in "iu":
        raise TypeError(f"{name}: {arg} must be an integer tensor, got dtype {a.dtype}")
    return a


def _positions(index: np.ndarray, dim: int, shape: tuple, name: str) -> np.ndarray:
    """Flat positions in an array of ``shape`` addressed by ``index`` along ``dim``: element
    ``(i, j, k)`` of ``index`` (dim 0) addresses ``(index[i, j, k], j, k)``."""
    if not shape:
        raise ValueError(f"{name}: the input is 0-d; it needs at least one dim to index along")
    if index.ndim != len(shape):
        raise ValueError(
            f"{name}: index must have as many dims as the tensor it addresses ({len(shape)}), "
            f"got index shape {index.shape} for shape {shape}"
        )
    for d, (m, n) in enumerate(zip(index.shape, shape)):
        if d != dim and m > n:
            raise ValueError(
                f"{name}: index shape {index.shape} exceeds shape {shape} in dim {d} "
                f"(only dim {dim} may differ freely)"
            )
    if index.size and (index.min() < -shape[dim] or index.max() >= shape[dim]):
        raise IndexError(
            f"{name}: index values must lie in [{-shape[dim]}, {shape[dim]}) along dim {dim}, "
            f"got min {index.min()} and max {index.max()}"
        )
    grids = list(np.ogrid[tuple(slice(0, m) for m in index.shape)]) if index.ndim else []
    grids[dim] = index % shape[dim]
    return np.ravel_multi_index(tuple(np.broadcast_arrays(*grids)), shape)


def _scatter_sum(flat: np.ndarray, values: np.ndarray, shape: tuple) -> np.ndarray:
    """An array of ``shape`` holding, at each flat position, the sum of the values sent there."""
    size = int(np.prod(shape))
    out = np.bincount(flat.ravel(), weights=values.ravel(), minlength=size)
    return out.astype(values.dtype, copy=False).reshape(shape)


class Gather(Function):
    @staticmethod
    def forward(ctx, a, flat):
        ctx.shape = a.shape
        ctx.flat = flat
        return a.reshape(-1)[flat]

    @staticmethod
    def backward(ctx, g):
        # d out[p] / d a[flat[p]] = 1: scatter-add the gradient back; repeated reads accumulate
        return _scatter_sum(ctx.flat, g, ctx.shape)


class ScatterAdd(Function):
    @staticmethod
    def forward(ctx, a, src, flat, src_slice):
        ctx.flat, ctx.src_shape, ctx.src_slice = flat, src.shape, src_slice
        out = np.array(a, copy=True, order="C")  # C order: ``flat`` counts positions that way
        vals = src[src_slice].astype(out.dtype, copy=False)
        out += _scatter_sum(flat, vals, out.shape)
        return out

    @staticmethod
    def backward(ctx, g):
        # out = a + S src: da = g, dsrc = S^T g, a gather of g (zero where src was not used)
        dsrc = None
        if ctx.needs_input_grad[1]:
            dsrc = np.zeros(ctx.src_shape, dtype=g.dtype)
            dsrc[ctx.src_slice] = g.reshape(-1)[ctx.flat]
        return g, dsrc


class MaskedFill(Function):
    @staticmethod
    def forward(ctx, a, value, mask):
        ctx.save_for_backward(mask)
        return np.where(mask, np.asarray(value, dtype=a.dtype), a)

    @staticmethod
    def backward(ctx, g):
        # the kept elements pass the gradient; the filled ones send theirs to ``value``
        (mask,) = ctx.saved
        da = g * ~mask
        dv = (g * mask).sum() if ctx.needs_input_grad[1] else None
        return da, dv


def gather(input: Tensor, dim: int, index: Tensor) -> Tensor:
    """``out[i][j][k] = input[index[i][j][k]][j][k]`` for ``dim=0`` (and so on), as in PyTorch.

    Args:
        input: a tensor of any shape ``S``.
        dim: the dimension along which to index.
        index: an integer tensor with ``input``'s number of dims; its size may exceed ``S[dim]``
            along ``dim`` and must not exceed ``S[d]`` along the other dims.

    Returns:
        a tensor of ``index``'s shape. Differentiable in ``input`` (repeated indices accumulate).

    Example:
        >>> import striate
        >>> x = striate.tensor([[1.0, 2.0], [3.0, 4.0]])
        >>> striate.gather(x, 1, striate.tensor([[0, 0], [1, 0]])).tolist()
        [[1.0, 1.0], [4.0, 3.0]]
    """
    idx = _index_array(index, "gather")
    d = _dim(dim, input.ndim, "gather")
    flat = _positions(idx, d, input.shape, "gather")
    return Gather.apply(input, flat)


def scatter_add(input: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:
    """A copy of ``input`` with ``src[i][j]`` added at ``[index[i][j]][j]`` (``dim=0``), as
    ``torch.scatter_add``; several sources sent to one position are all added.

    Args:
        input: the tensor added into, shape ``S``.
        dim: the dimension along which ``index`` addresses ``input``.
        index: integer tensor with ``input``'s number of dims, no larger than ``src`` in any dim
            (and than ``S`` except along ``dim``).
        src: the values; only its leading ``index.shape`` block is used.

    Returns:
        a tensor of shape ``S``. Differentiable in ``input`` and ``src``.
    """
    idx = _index_array(index, "scatter_add")
    d = _dim(dim, input.ndim, "scatter_add")
    src_arr = src.array if isinstance(src, Tensor) else np.asarray(src)
    if src_arr.ndim != idx.ndim or any(m > n for m, n in zip(idx.shape, src_arr.shape)):
        raise ValueError(
            f"scatter_add: index shape {idx.shape} must not exceed src shape {src_arr.shape} "
            "in any dim (and both must have the same number of dims)"
        )
    flat = _positions(idx, d, input.shape, "scatter_add")
    src_slice = tuple(slice(0, m) for m in idx.shape)
    return ScatterAdd.apply(input, src, flat=flat, src_slice=src_slice)


def masked_fill(input: Tensor, mask: Tensor, value) -> Tensor:
    """``value`` where the bool ``mask`` (broadcastable to ``input``) is True, else ``input``.

    Args:
        input: a tensor of shape ``S``.
        mask: a bool tensor broadcastable to ``S``.
        value: a number, or a 0-d tensor (then differentiable: it receives the sum of the
            gradients of the positions it fills).

    Returns:
        a tensor of shape ``S``.
    """
    m = mask.array if isinstance(mask, Tensor) else np.asarray(mask)
    if m.dtype != np.bool_:
        raise TypeError(f"masked_fill: mask must be a bool tensor, got dtype {m.dtype}")
    try:
        shape = np.broadcast_shapes(m.shape, input.shape)
    except ValueError:
        shape = None
    if shape != tuple(input.shape):
        raise ValueError(
            f"masked_fill: mask of shape {m.shape} is not broadcastable to input shape "
            f"{input.shape}"
        )
    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise ValueError(
                f"masked_fill: value must be a number or a 0-d tensor, got shape {value.shape}"
            )
    elif not isinstance(value, (numbers.Number, np.generic)):
        raise TypeError(
            f"masked_fill: value must be a number or a 0-d tensor, got {type(value).__name__}"
        )
    elif input.array.dtype.kind in "biu":  # -1 into uint8 is 255, inf is refused (PyTorch's)
        value = scalar_as("masked_fill", value, input.array.dtype).item()
    return MaskedFill.apply(input, value, np.broadcast_to(m, input.shape))


def _order(a: np.ndarray, axis: int, descending: bool) -> np.ndarray:
    """Stable argsort along ``axis``; descending keeps equal elements in their original order."""
    if not descending:
        return np.argsort(a, axis=axis, kind="stable")
    if a.dtype.kind == "f" and np.isnan(a).any():
        # PyTorch counts NaN as larger than everything: NaNs first (NumPy puts them last), by a
        # second stable sort on "is a number" that keeps the first sort's order within each group
        order = np.argsort(-a, axis=axis, kind="stable")
        number = np.take_along_axis(~np.isnan(a), order, axis)
        return np.take_along_axis(order, np.argsort(number, axis=axis, kind="stable"), axis)
    if a.dtype.kind in "fi":
        return np.argsort(-a, axis=axis, kind="stable")
    # bool and unsigned ints: reverse the order of a stable sort of the reversed array
    n = a.shape[axis]
    rev = np.flip(np.argsort(np.flip(a, axis), axis=axis, kind="stable"), axis)
    return (n - 1) - rev


def _values_at(input: Tensor, order: np.ndarray, axis: int) -> Tensor:
    if input.array.dtype.kind not in "fc":  # integer input: no graph, take the values directly
        return Tensor(np.take_along_axis(input.array, order, axis))
    return Gather.apply(input, _positions(order, axis, input.shape, "sort"))


def sort(input: Tensor, dim: int = -1, descending: bool = False, stable: bool = False):
    """Sort along ``dim``; returns ``(values, indices)`` like ``torch.sort``.

    Equal elements keep their original order (the sort is always stable). ``values`` is
    differentiable: each gets the gradient of the element it came from.
    """
    if input.ndim == 0:
        return ValuesIndices(Clone.apply(input), Tensor(np.zeros((), np.int64)))
    axis = _dim(dim, input.ndim, "sort")
    order = _order(input.array, axis, descending).astype(np.int64)
    return ValuesIndices(_values_at(input, order, axis), Tensor(order))


def argsort(input: Tensor, dim: int = -1, descending: bool = False, stable: bool = False) -> Tensor:
    """The int64 indices that sort ``input`` along ``dim`` (not differentiable)."""
    return sort(input, dim, descending, stable).indices


def topk(input: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True):  # noqa: A002
    """The ``k`` largest (or smallest) elements along ``dim``: ``(values, indices)``, each of
    ``input``'s shape with ``k`` along ``dim``, in order from the most extreme (PyTorch also
    sorts with ``sorted=True``; here they always are). ``values`` is differentiable.
    """
    axis = _dim(dim, input.ndim, "topk")
    n = input.shape[axis] if input.ndim else 1
    if not isinstance(k, numbers.Integral) or not 0 <= k <= n:
        raise ValueError(f"topk: k must be an int in [0, {n}] (the size of dim {dim}), got {k!r}")
    if input.ndim == 0:
        return sort(input)
    a = input.array
    nan = a.dtype.kind == "f" and np.isnan(a).any()  # NaN counts as the largest (PyTorch)
    if 0 < k < n // 8 and (a.dtype.kind in "fi" or not largest) and not nan:
        # preselect with a partition (linear time), then sort only the k picked elements
        key = -a if largest else a
        part = np.take(np.argpartition(key, k - 1, axis=axis), np.arange(k), axis=axis)
        sub = np.take_along_axis(key, part, axis)
        order = np.take_along_axis(part, np.argsort(sub, axis=axis, kind="stable"), axis)
    else:
        order = np.take(_order(a, axis, largest), np.arange(k), axis=axis)
    order = order.astype(np.int64)
    return ValuesIndices(_values_at(input, order, axis), Tensor(order))


# ---- one_hot ------------------------------------------------------------------------------------

__all__ += ["one_hot"]


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """int64 tensor of shape ``tensor.shape + (num_classes,)`` with a 1 at each index.

    ``num_classes = -1`` uses ``max(tensor) + 1``, as PyTorch. Not differentiable (integer output).
    """
    a = _index_array(tensor, "one_hot", "tensor")
    if a.size and a.min() < 0:
        raise ValueError(f"one_hot: class values must be >= 0, got {int(a.min())}")
    if num_classes == -1:
        if not a.size:
            raise ValueError("one_hot: can't infer the number of classes from an empty tensor; "
                             "give num_classes")
        num_classes = int(a.max()) + 1
    if a.size and a.max() >= num_classes:
        raise ValueError(f"one_hot: class value {int(a.max())} is out of range for "
                         f"num_classes={num_classes}")
    return Tensor((a[..., None] == np.arange(num_classes)).astype(np.int64))
