"""The Tensor's operators and methods that compute with ``striate.ops``, attached to
:class:`~striate.autograd.Tensor` when ``striate.ops`` is imported (DeZero's ``setup_variable``):
``autograd`` sits below ``ops`` and never imports it.

The arithmetic in-place methods (``add_``, ``mul_``, ``clamp_``, item assignment, ...) are here too:
while the graph is recorded they run as the out-of-place op and write its result back
(``Tensor._record_inplace``); otherwise they write the array directly and bump its version.
"""

from __future__ import annotations

import numpy as np

from .. import backend, ops
from ..autograd.function import Function
from ..autograd.tensor import Tensor

__all__: list = []


class _TensorMethods:
    """Methods copied onto Tensor by :func:`setup_tensor` (a class only to hold them)."""

    def to(self, *args, dtype=None, device=None) -> Tensor:
        """Convert to a dtype and/or move to a device: ``t.to(striate.float64)``, ``t.to("cpu")``.
        """
        for a in args:
            if isinstance(a, str):
                device = a
            else:
                dtype = a
        out = self
        if dtype is not None and np.dtype(dtype) != self.dtype:
            out = ops.cast(out, np.dtype(dtype))
        if device is not None:
            moved = backend.to_device(out.array, device)
            if moved is not out.array:
                out = Tensor(moved, requires_grad=out.requires_grad and out.is_leaf)
        return out

    def clone(self) -> Tensor:
        return ops.clone(self)

    def contiguous(self) -> Tensor:
        return ops.contiguous(self)

    # ---- operators ----------------------------------------------------------------------------

    def __add__(self, o):
        return ops.add(self, o)

    def __radd__(self, o):
        return ops.add(o, self)

    def __sub__(self, o):
        return ops.sub(self, o)

    def __rsub__(self, o):
        return ops.sub(o, self)

    def __mul__(self, o):
        return ops.mul(self, o)

    def __rmul__(self, o):
        return ops.mul(o, self)

    def __truediv__(self, o):
        return ops.div(self, o)

    def __rtruediv__(self, o):
        return ops.div(o, self)

    def __pow__(self, o):
        return ops.pow(self, o)

    def __rpow__(self, o):
        return ops.pow(o, self)

    def __neg__(self):
        return ops.neg(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return ops.abs(self)

    def __matmul__(self, o):
        return ops.matmul(self, o)

    def __rmatmul__(self, o):
        return ops.matmul(o, self)

    def __getitem__(self, index):
        return ops.getitem(self, index)

    def __lt__(self, o):
        return ops.lt(self, o)

    def __le__(self, o):
        return ops.le(self, o)

    def __gt__(self, o):
        return ops.gt(self, o)

    def __ge__(self, o):
        return ops.ge(self, o)

    def __eq__(self, o):  # noqa: D105 - elementwise, as in PyTorch
        return ops.eq(self, o)

    def __ne__(self, o):
        return ops.ne(self, o)

    def __invert__(self):
        return ops.logical_not(self)

    def __and__(self, o):
        return ops.logical_and(self, o)

    def __or__(self, o):
        return ops.logical_or(self, o)

    # ---- methods that forward to striate.ops --------------------------------------------------

    def exp(self):
        return ops.exp(self)

    def log(self):
        return ops.log(self)

    def sqrt(self):
        return ops.sqrt(self)

    def abs(self):
        return ops.abs(self)

    def pow(self, exponent):
        return ops.pow(self, exponent)

    def clip(self, min=None, max=None):  # noqa: A002
        return ops.clip(self, min, max)

    clamp = clip

    def sigmoid(self):
        return ops.sigmoid(self)

    def tanh(self):
        return ops.tanh(self)

    def relu(self):
        return ops.relu(self)

    def softmax(self, dim):
        return ops.softmax(self, dim)

    def log_softmax(self, dim):
        return ops.log_softmax(self, dim)

    def sum(self, dim=None, keepdim=False):
        return ops.sum(self, dim, keepdim)

    def mean(self, dim=None, keepdim=False):
        return ops.mean(self, dim, keepdim)

    def var(self, dim=None, keepdim=False, unbiased=True):
        return ops.var(self, dim, keepdim=keepdim, unbiased=unbiased)

    def std(self, dim=None, keepdim=False, unbiased=True):
        return ops.std(self, dim, keepdim=keepdim, unbiased=unbiased)

    def max(self, dim=None, keepdim=False):
        return ops.max(self, dim, keepdim)

    def min(self, dim=None, keepdim=False):
        return ops.min(self, dim, keepdim)

    def argmax(self, dim=None, keepdim=False):
        return ops.argmax(self, dim, keepdim)

    def argmin(self, dim=None, keepdim=False):
        return ops.argmin(self, dim, keepdim)

    def reshape(self, *shape):
        return ops.reshape(self, *shape)

    def view(self, *shape):
        return ops.view(self, *shape)

    def view_as(self, other):
        return ops.reshape(self, other.shape)

    def expand(self, *shape):
        return ops.expand(self, *shape)

    def flatten(self, start_dim=0, end_dim=-1):
        return ops.flatten(self, start_dim, end_dim)

    def transpose(self, dim0, dim1):
        return ops.transpose(self, dim0, dim1)

    def t(self):
        return ops.transpose(self, 0, 1) if self.ndim == 2 else self

    def permute(self, *dims):
        return ops.permute(self, *dims)

    def squeeze(self, dim=None):
        return ops.squeeze(self, dim)

    def unsqueeze(self, dim):
        return ops.unsqueeze(self, dim)

    def split(self, split_size_or_sections, dim=0):
        return ops.split(self, split_size_or_sections, dim)

    def chunk(self, chunks, dim=0):
        return ops.chunk(self, chunks, dim)

    def repeat(self, *sizes):
        return ops.repeat(self, *sizes)

    def matmul(self, other):
        return ops.matmul(self, other)

    def maximum(self, other):
        return ops.maximum(self, other)

    def minimum(self, other):
        return ops.minimum(self, other)

    # ---- indexing ops and comparisons as methods (striate.ops.indexing, .einsum) ---------------

    def gather(self, dim, index):
        return ops.gather(self, dim, index)

    def scatter_add(self, dim, index, src):
        return ops.scatter_add(self, dim, index, src)

    def masked_fill(self, mask, value):
        return ops.masked_fill(self, mask, value)

    def topk(self, k, dim=-1, largest=True, sorted=True):  # noqa: A002 - PyTorch's name
        return ops.topk(self, k, dim, largest, sorted)

    def sort(self, dim=-1, descending=False, stable=False):
        return ops.sort(self, dim, descending, stable)

    def argsort(self, dim=-1, descending=False, stable=False):
        return ops.argsort(self, dim, descending, stable)

    def all(self, dim=None, keepdim=False) -> Tensor:
        """Whether every element (along ``dim``) is non-zero, as a bool tensor."""
        return Tensor(np.asarray(np.all(self.array, axis=dim, keepdims=keepdim)))

    def any(self, dim=None, keepdim=False) -> Tensor:
        """Whether some element (along ``dim``) is non-zero, as a bool tensor."""
        return Tensor(np.asarray(np.any(self.array, axis=dim, keepdims=keepdim)))

    def eq(self, other):
        return ops.eq(self, other)

    def ne(self, other):
        return ops.ne(self, other)

    def lt(self, other):
        return ops.lt(self, other)

    def le(self, other):
        return ops.le(self, other)

    def gt(self, other):
        return ops.gt(self, other)

    def ge(self, other):
        return ops.ge(self, other)



    # ---- in-place arithmetic ------------------------------------------------------------------

    def add_(self, other, alpha=1) -> Tensor:
        if self._records_inplace(other):
            return self._record_inplace(
                "add_", lambda old: ops.add(old, other * alpha if alpha != 1 else other))
        self._check_inplace("add_")
        o = other.array if isinstance(other, Tensor) else other
        self.array += o * alpha if alpha != 1 else o
        return self

    def sub_(self, other, alpha=1) -> Tensor:
        if self._records_inplace(other):
            return self._record_inplace(
                "sub_", lambda old: ops.sub(old, other * alpha if alpha != 1 else other))
        return self.add_(other, alpha=-alpha)

    def mul_(self, other) -> Tensor:
        if self._records_inplace(other):
            return self._record_inplace("mul_", lambda old: ops.mul(old, other))
        self._check_inplace("mul_")
        self.array *= other.array if isinstance(other, Tensor) else other
        return self

    def div_(self, other) -> Tensor:
        if self._records_inplace(other):
            return self._record_inplace("div_", lambda old: ops.div(old, other))
        self._check_inplace("div_")
        self.array /= other.array if isinstance(other, Tensor) else other
        return self

    def clamp_(self, min=None, max=None) -> Tensor:  # noqa: A002 - PyTorch's names
        if self._records_inplace():
            return self._record_inplace("clamp_", lambda old: ops.clip(old, min, max))
        self._check_inplace("clamp_")
        np.clip(self.array, min, max, out=self.array)
        return self

    clip_ = clamp_

    def relu_(self) -> Tensor:
        if self._records_inplace():
            return self._record_inplace("relu_", lambda old: ops.relu(old))
        self._check_inplace("relu_")
        np.maximum(self.array, 0, out=self.array)
        return self

    def masked_fill_(self, mask, value) -> Tensor:
        m = mask.array if isinstance(mask, Tensor) else np.asarray(mask)
        if m.dtype != np.bool_:
            raise TypeError(f"masked_fill_: mask must be a bool tensor, got dtype {m.dtype}")
        if self._records_inplace(value):
            return self._record_inplace("masked_fill_",
                                        lambda old: ops.masked_fill(old, mask, value))
        self._check_inplace("masked_fill_")
        self.array[np.broadcast_to(m, self.shape)] = value.item() if isinstance(
            value, Tensor) else value
        return self

    def __setitem__(self, index, value):
        if isinstance(index, Tensor):
            index = index.array
        elif isinstance(index, tuple):
            index = tuple(i.array if isinstance(i, Tensor) else i for i in index)
        if self._records_inplace(value):
            return self._record_inplace(
                "__setitem__", lambda old: _IndexPut.apply(old, value, index=index))
        self._check_inplace("__setitem__")
        self.array[index] = value.array if isinstance(value, Tensor) else value


class _IndexPut(Function):
    """``out = old`` with ``out[index] = value``: item assignment out of place."""

    @staticmethod
    def forward(ctx, old, value, index):
        out = old.copy()
        out[index] = value
        ctx.index = index
        return out

    # the overwritten elements of old get no gradient; value gets the gradient at index (summed
    # by the engine over the dimensions it was broadcast along)
    @staticmethod
    def backward(ctx, g):
        g_old = None
        if ctx.needs_input_grad[0]:
            g_old = g.copy()
            g_old[ctx.index] = 0
        g_value = np.array(g[ctx.index]) if ctx.needs_input_grad[1] else None
        return g_old, g_value


def setup_tensor() -> None:
    """Attach the methods above to Tensor (called once, by ``striate.ops``)."""
    for name, value in vars(_TensorMethods).items():
        if name in ("__module__", "__qualname__", "__doc__", "__dict__", "__weakref__",
                    "__hash__"):  # __hash__: None here, since the class defines __eq__
            continue
        setattr(Tensor, name, value)
