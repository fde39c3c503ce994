"""Shape operations: reshape/view, transpose/permute, flatten, squeeze/unsqueeze, expand,
indexing (basic and integer-array), cat, stack, split/chunk and pad.

Their backwards move gradients back to where the elements came from: the inverse reshape or
permutation, a scatter-add for indexing (repeated indices accumulate), slices for cat/split.
"""

from __future__ import annotations

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ._helpers import promote_types
from .elementwise import cast

__all__ = [
    "reshape", "view", "flatten", "transpose", "permute", "squeeze", "unsqueeze", "expand",
    "getitem", "cat", "concatenate", "stack", "split", "chunk", "pad", "repeat",
]  # fmt: skip


def _shape_arg(shape) -> tuple:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    return tuple(int(s) for s in shape)


def _check_dim(dim, ndim, name, extra=0):
    n = ndim + extra
    if not -n <= dim < n:
        raise IndexError(f"{name}: dim {dim} is out of range for a tensor with {ndim} dimensions")
    return dim % n


class Reshape(Function):
    @staticmethod
    def forward(ctx, a, shape):
        ctx.shape = a.shape
        return a.reshape(shape)

    @staticmethod
    def backward(ctx, g):
        return g.reshape(ctx.shape)


class Permute(Function):
    @staticmethod
    def forward(ctx, a, dims):
        ctx.dims = dims
        return a.transpose(dims)

    @staticmethod
    def backward(ctx, g):
        # the inverse permutation puts every axis back where it was
        return g.transpose(np.argsort(ctx.dims))


class Expand(Function):
    @staticmethod
    def forward(ctx, a, shape):
        return np.broadcast_to(a, shape)

    @staticmethod
    def backward(ctx, g):
        return g  # the engine sums the broadcast axes back (sum_to)


class Repeat(Function):
    @staticmethod
    def forward(ctx, a, reps):
        ctx.in_shape = (1,) * (len(reps) - a.ndim) + a.shape
        ctx.reps = reps
        return np.tile(a, reps)

    @staticmethod
    def backward(ctx, g):
        # split every axis into (repeat, size) and sum over the repeats
        shape = []
        for r, n in zip(ctx.reps, ctx.in_shape):
            shape += [r, n]
        g = g.reshape(shape).sum(axis=tuple(range(0, len(shape), 2)))
        return g


class GetItem(Function):
    @staticmethod
    def forward(ctx, a, index):
        ctx.shape, ctx.dtype, ctx.index = a.shape, a.dtype, index
        out = a[index]
        return np.asarray(out)

    @staticmethod
    def backward(ctx, g):
        # scatter the gradient back; np.add.at accumulates repeated integer indices
        dx = np.zeros(ctx.shape, dtype=g.dtype)
        np.add.at(dx, ctx.index, g)
        return dx


class BasicGetItem(GetItem):
    """Indexing with slices/ints only: positions are unique, so plain assignment scatters."""

    @staticmethod
    def backward(ctx, g):
        dx = np.zeros(ctx.shape, dtype=g.dtype)
        dx[ctx.index] = g
        return dx


class Cat(Function):
    @staticmethod
    def forward(ctx, *arrays, axis):
        ctx.axis = axis
        ctx.bounds = np.cumsum([a.shape[axis] for a in arrays])[:-1]
        return np.concatenate(arrays, axis=axis)

    @staticmethod
    def backward(ctx, g):
        return tuple(np.split(g, ctx.bounds, axis=ctx.axis))


class Stack(Function):
    @staticmethod
    def forward(ctx, *arrays, axis):
        ctx.axis = axis
        return np.stack(arrays, axis=axis)

    @staticmethod
    def backward(ctx, g):
        return tuple(np.moveaxis(g, ctx.axis, 0))


class ConstantPad(Function):
    @staticmethod
    def forward(ctx, a, widths, value):
        ctx.slices = tuple(slice(lo, lo + n) for (lo, _), n in zip(widths, a.shape))
        return np.pad(a, widths, mode="constant", constant_values=value)

    @staticmethod
    def backward(ctx, g):
        # constant padding: the gradient of the pad is dropped, the interior passes through
        return g[ctx.slices]


def reshape(input: Tensor, *shape) -> Tensor:
    """The same elements in a new shape (one dimension may be -1)."""
    return _reshape("reshape", input, _shape_arg(shape))


def _reshape(name: str, input: Tensor, shape: tuple) -> Tensor:
    size = input.array.size
    known = int(np.prod([s for s in shape if s != -1]))
    free = shape.count(-1)
    if free > 1 or (free == 0 and known != size) or (free == 1 and (known == 0 or size % known)):
        raise ValueError(
            f"{name}: shape {shape} is invalid for input of shape {input.shape} ({size} elements)"
        )
    return Reshape.apply(input, shape=shape)


def view(input: Tensor, *shape) -> Tensor:
    """Alias of :func:`reshape` (NumPy decides when a copy is needed)."""
    return _reshape("view", input, _shape_arg(shape))


def flatten(input: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge dims ``start_dim..end_dim`` into one; ``(N, C, H, W) -> (N, C*H*W)`` with start 1."""
    nd = max(input.ndim, 1)
    s = _check_dim(start_dim, nd, "flatten")
    e = _check_dim(end_dim, nd, "flatten")
    if s > e:
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
    shape = input.shape
    new = shape[:s] + (int(np.prod(shape[s : e + 1])),) + shape[e + 1 :]
    return Reshape.apply(input, shape=new)


def permute(input: Tensor, *dims) -> Tensor:
    """Reorder the dimensions: ``permute(x, 0, 2, 3, 1)`` turns NCHW into NHWC."""
    dims = _shape_arg(dims)
    if len(dims) != input.ndim:
        raise ValueError(
            f"permute: dims {dims} is not a permutation of the {input.ndim} dims of "
            f"shape {input.shape}"
        )
    dims = tuple(_check_dim(d, input.ndim, "permute") for d in dims)
    if len(set(dims)) != len(dims):
        raise ValueError(f"permute: dims {dims} is not a permutation: a dim repeats "
                         f"(input shape {input.shape})")
    return Permute.apply(input, dims=dims)


def transpose(input: Tensor, dim0: int, dim1: int) -> Tensor:
    """Swap two dimensions."""
    nd = input.ndim
    if nd == 0:  # a 0-d tensor accepts dims 0 and -1, as in PyTorch: nothing to swap
        _check_dim(dim0, 1, "transpose"), _check_dim(dim1, 1, "transpose")
        return Permute.apply(input, dims=())
    d0, d1 = _check_dim(dim0, nd, "transpose"), _check_dim(dim1, nd, "transpose")
    dims = list(range(nd))
    dims[d0], dims[d1] = dims[d1], dims[d0]
    return Permute.apply(input, dims=tuple(dims))


def squeeze(input: Tensor, dim=None) -> Tensor:
    """Remove dimensions of size 1 (only ``dim`` when given)."""
    if dim is None:
        shape = tuple(n for n in input.shape if n != 1)
    elif input.ndim == 0:  # dim 0 or -1 of a 0-d tensor, as in PyTorch: nothing to remove
        _check_dim(dim, 1, "squeeze")
        shape = ()
    else:
        d = _check_dim(dim, input.ndim, "squeeze")
        shape = input.shape if input.shape[d] != 1 else input.shape[:d] + input.shape[d + 1 :]
    return Reshape.apply(input, shape=shape)


def unsqueeze(input: Tensor, dim: int) -> Tensor:
    """Insert a dimension of size 1 at ``dim``."""
    d = _check_dim(dim, input.ndim, "unsqueeze", extra=1)
    return Reshape.apply(input, shape=input.shape[:d] + (1,) + input.shape[d:])


def expand(input: Tensor, *shape) -> Tensor:
    """Broadcast to ``shape`` without copying (-1 keeps a dimension)."""
    shape = _shape_arg(shape)
    lead = len(shape) - input.ndim
    full = tuple(input.shape[i - lead] if s == -1 else s for i, s in enumerate(shape))
    # each existing dim must equal the target or be 1 (broadcastable *to* full, not just with it)
    ok = lead >= 0 and all(n in (1, t) for n, t in zip(input.shape, full[lead:]))
    if not ok or any(s == -1 for s in shape[: max(lead, 0)]):
        raise ValueError(f"expand: shape {input.shape} can't be expanded to {shape}")
    return Expand.apply(input, shape=full)


def repeat(input: Tensor, *sizes) -> Tensor:
    """Tile the tensor ``sizes[i]`` times along each dimension (PyTorch's ``repeat``)."""
    sizes = _shape_arg(sizes)
    if len(sizes) < input.ndim:
        raise ValueError(
            f"repeat: {len(sizes)} repeat counts given for a tensor of {input.ndim} dims"
        )
    return Repeat.apply(input, reps=sizes)


def _normalize_index(index):
    """Tensors inside an index become arrays; report whether it is basic (slices/ints only)."""
    items = index if isinstance(index, tuple) else (index,)
    out, basic = [], True
    for i in items:
        if isinstance(i, Tensor):
            i = i.array
        if isinstance(i, (list, np.ndarray)):
            i = np.asarray(i)
            basic = False
        out.append(i)
    return (tuple(out) if isinstance(index, tuple) else out[0]), basic


def split_int_index(index):
    """PyTorch applies the integers of an index before its arrays, so ``x[0, :, [0, 1]]`` on a
    (2, 3, 4) tensor is ``x[0][:, [0, 1]]``, of shape (3, 2); NumPy instead counts an integer as
    one more advanced index and moves the broadcast dims to the front, giving (2, 3). For an index
    mixing integers and arrays, return the two indices ``(basic, rest)`` to apply one after the
    other (the first keeps ints, slices, None and Ellipsis); otherwise None.
    """
    if not isinstance(index, tuple):
        return None
    items = [int(i) if isinstance(i, np.ndarray) and i.ndim == 0 and i.dtype.kind in "iu"
             else i for i in index]
    ints = any(isinstance(i, (int, np.integer)) and not isinstance(i, bool) for i in items)
    arrays = any(isinstance(i, np.ndarray) for i in items)
    if not (ints and arrays):
        return None
    first, rest = [], []
    for i in items:
        if isinstance(i, np.ndarray):
            first += [slice(None)] * (i.ndim if i.dtype == np.bool_ else 1)
            rest.append(i)
        elif isinstance(i, (int, np.integer)):
            first.append(i)
        elif i is Ellipsis:
            first.append(i)
            rest.append(i)
        else:  # a slice, or None (a new dim of size 1 that the second step keeps whole)
            first.append(i)
            rest.append(slice(None))
    return tuple(first), tuple(rest)


def getitem(input: Tensor, index) -> Tensor:
    """``input[index]`` with slices, ints, None, Ellipsis, bool masks or integer arrays, with
    PyTorch's shapes (integers are applied before arrays: see :func:`split_int_index`)."""
    index, basic = _normalize_index(index)
    two = None if basic else split_int_index(index)
    try:
        if two is None:
            input.array[index]
        else:
            input.array[two[0]][two[1]]
    except IndexError as e:
        raise IndexError(
            f"getitem: index {index!r} is invalid for shape {input.shape}: {e}"
        ) from None
    if two is not None:
        return GetItem.apply(BasicGetItem.apply(input, index=two[0]), index=two[1])
    return (BasicGetItem if basic else GetItem).apply(input, index=index)


def cat(tensors, dim: int = 0) -> Tensor:
    """Concatenate tensors along an existing dimension."""
    tensors = list(tensors)
    if not tensors:
        raise ValueError("cat: expected a non-empty list of tensors")
    ref = tensors[0].shape
    d = _check_dim(dim, len(ref), "cat")
    for i, t in enumerate(tensors):
        if t.ndim != len(ref) or any(
            a != b for k, (a, b) in enumerate(zip(t.shape, ref)) if k != d
        ):
            raise ValueError(
                f"cat: tensors[{i}] has shape {t.shape} but tensors[0] has shape {ref}; "
                f"all dims except dim {dim} must match"
            )
    return Cat.apply(*_same_dtype(tensors), axis=d)


concatenate = cat


def stack(tensors, dim: int = 0) -> Tensor:
    """Stack same-shaped tensors along a new dimension."""
    tensors = list(tensors)
    if not tensors:
        raise ValueError("stack: expected a non-empty list of tensors")
    for i, t in enumerate(tensors):
        if t.shape != tensors[0].shape:
            raise ValueError(
                f"stack: tensors[{i}] has shape {t.shape} but tensors[0] has shape "
                f"{tensors[0].shape}; all must match"
            )
    d = _check_dim(dim, tensors[0].ndim, "stack", extra=1)
    return Stack.apply(*_same_dtype(tensors), axis=d)


def _same_dtype(tensors) -> list:
    """cat/stack's inputs cast (differentiably) to their promoted dtype, as PyTorch promotes
    them: an int64 and a float32 tensor give float32 (NumPy would give float64)."""
    dtype = tensors[0].dtype
    if all(t.dtype == dtype for t in tensors):
        return tensors
    for t in tensors[1:]:
        dtype = promote_types(dtype, t.dtype)
    return [t if t.dtype == dtype else cast(t, dtype) for t in tensors]


def split(tensor: Tensor, split_size_or_sections, dim: int = 0) -> tuple:
    """Split into chunks of ``split_size`` (last may be smaller) or of the given sizes."""
    d = _check_dim(dim, tensor.ndim, "split")
    n = tensor.shape[d]
    if isinstance(split_size_or_sections, (int, np.integer)):
        size = int(split_size_or_sections)
        if size <= 0:
            raise ValueError(f"split: split_size must be positive, got {size}")
        # an empty dim still gives one (empty) chunk, as in PyTorch
        sizes = [size] * (n // size) + ([n % size] if n % size or n == 0 else [])
    else:
        sizes = [int(s) for s in split_size_or_sections]
        if sum(sizes) != n:
            raise ValueError(f"split: sections {sizes} sum to {sum(sizes)}, not to dim size {n}")
    out, start = [], 0
    for s in sizes:
        idx = (slice(None),) * d + (slice(start, start + s),)
        out.append(BasicGetItem.apply(tensor, index=idx))
        start += s
    return tuple(out)


def chunk(input: Tensor, chunks: int, dim: int = 0) -> tuple:
    """Split into ``chunks`` pieces of (almost) equal size, as in PyTorch."""
    if not isinstance(chunks, (int, np.integer)) or chunks <= 0:
        raise ValueError(f"chunk: chunks must be a positive int, got {chunks!r}")
    d = _check_dim(dim, input.ndim, "chunk")
    if input.shape[d] == 0:  # PyTorch gives ``chunks`` empty pieces
        return split(input, [0] * int(chunks), d)
    size = -(-input.shape[d] // chunks)
    return split(input, size, d)


def pad(input: Tensor, pad: tuple, mode: str = "constant", value: float = 0.0) -> Tensor:
    """Pad the last ``len(pad) // 2`` dims; ``pad`` lists (left, right) pairs from the last dim
    backwards, as in ``torch.nn.functional.pad``: ``(1, 1, 2, 2)`` pads W by 1 and H by 2."""
    if len(pad) % 2 or len(pad) // 2 > input.ndim:
        raise ValueError(
            f"pad: pad must have an even length of at most 2 * ndim = {2 * input.ndim}, got {pad}"
        )
    if any(p < 0 for p in pad):
        raise ValueError(f"pad: negative padding is not supported, got {pad}")
    if mode not in ("constant", "reflect", "replicate", "edge", "circular"):
        raise ValueError(
            f"pad: mode must be constant, reflect, replicate or circular, got {mode!r}")
    widths = [(0, 0)] * input.ndim
    for i in range(len(pad) // 2):
        widths[input.ndim - 1 - i] = (int(pad[2 * i]), int(pad[2 * i + 1]))
    np_mode = {"replicate": "edge", "circular": "wrap"}.get(mode, mode)
    if np_mode != "constant":
        return _pad_general(input, tuple(widths), np_mode)
    return ConstantPad.apply(input, widths=tuple(widths), value=value)


def _pad_general(input, widths, mode):
    """Reflect/replicate padding, differentiable by indexing with a gather of source positions."""
    idx = np.arange(input.array.size).reshape(input.shape)
    src = np.pad(idx, widths, mode=mode)
    flat = reshape(input, -1)
    return reshape(GetItem.apply(flat, index=src.ravel()), src.shape)


# ---- tril, triu, flip, roll, narrow ------------------------------------------------------------

__all__ += ["tril", "triu", "flip", "roll", "narrow"]


class _Masked(Function):
    @staticmethod
    def forward(ctx, a, mask):
        ctx.mask = mask
        return np.where(mask, a, 0).astype(a.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        # the kept triangle passes its gradient, the zeroed one gets none
        return np.where(ctx.mask, g, 0).astype(g.dtype, copy=False)


def _triangle(input: Tensor, diagonal: int, name: str, lower: bool) -> Tensor:
    if input.ndim < 2:
        raise ValueError(f"{name}: expected a tensor with at least 2 dimensions, got shape "
                         f"{tuple(input.shape)}")
    rows, cols = input.shape[-2:]
    mask = (np.tri(rows, cols, diagonal, dtype=bool) if lower
            else ~np.tri(rows, cols, diagonal - 1, dtype=bool))
    return _Masked.apply(input, mask=mask)


def tril(input: Tensor, diagonal: int = 0) -> Tensor:
    """The lower triangle of the last two dims (``j <= i + diagonal``), zeros above."""
    return _triangle(input, diagonal, "tril", lower=True)


def triu(input: Tensor, diagonal: int = 0) -> Tensor:
    """The upper triangle of the last two dims (``j >= i + diagonal``), zeros below."""
    return _triangle(input, diagonal, "triu", lower=False)


class Flip(Function):
    @staticmethod
    def forward(ctx, a, axes):
        ctx.axes = axes
        return np.flip(a, axes).copy()

    @staticmethod
    def backward(ctx, g):
        return np.flip(g, ctx.axes)


class Roll(Function):
    @staticmethod
    def forward(ctx, a, shifts, axes):
        ctx.shifts, ctx.axes = shifts, axes
        return np.roll(a, shifts, axes)

    @staticmethod
    def backward(ctx, g):
        # rolling back by the same amounts undoes the permutation
        return np.roll(g, tuple(-s for s in ctx.shifts) if ctx.axes is not None else -ctx.shifts,
                       ctx.axes)


def _dims(dims, ndim: int, name: str) -> tuple:
    dims = (dims,) if isinstance(dims, (int, np.integer)) else tuple(dims)
    return tuple(_check_dim(d, ndim, name) for d in dims)


def flip(input: Tensor, dims) -> Tensor:
    """Reverse the order of elements along ``dims`` (an int or a tuple)."""
    axes = _dims(dims, max(input.ndim, 1), "flip")  # a 0-d tensor accepts dim 0 and -1
    if len(set(axes)) < len(axes):
        raise ValueError(f"flip: a dim appears more than once in dims={dims!r}")
    return Flip.apply(input, axes=axes if input.ndim else ())


def roll(input: Tensor, shifts, dims=None) -> Tensor:
    """Shift elements cyclically by ``shifts`` along ``dims`` (flattened when ``dims`` is None)."""
    if dims is None:
        if not isinstance(shifts, (int, np.integer)):
            raise ValueError(f"roll: without dims, shifts must be one int, got {shifts!r}")
        return Roll.apply(input, shifts=int(shifts), axes=None)
    axes = _dims(dims, input.ndim, "roll")
    shifts = (shifts,) if isinstance(shifts, (int, np.integer)) else tuple(shifts)
    if len(shifts) != len(axes):
        raise ValueError(f"roll: shifts {shifts} and dims {axes} must have the same length")
    return Roll.apply(input, shifts=tuple(int(s) for s in shifts), axes=axes)


def narrow(input: Tensor, dim: int, start: int, length: int) -> Tensor:
    """``input`` restricted to ``start <= i < start + length`` along ``dim``."""
    axis = _check_dim(dim, input.ndim, "narrow")
    size = input.shape[axis]
    if start < 0:
        start += size
    if not (0 <= start <= size and 0 <= length and start + length <= size):
        raise IndexError(f"narrow: start {start} + length {length} exceeds dimension {dim} of "
                         f"size {size}")
    index = [slice(None)] * input.ndim
    index[axis] = slice(start, start + length)
    return getitem(input, tuple(index))
