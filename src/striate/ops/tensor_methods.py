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
from ..autograd.scalars import scalar_as
from ..autograd.tensor import Tensor
from ._helpers import broadcast_shapes, cast_wrapping, float_result, result_type

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
        # PyTorch computes ``o / t`` as ``t.reciprocal() * o``: the reciprocal takes t's float
        # dtype first (an int64 t divided into a 0-d float16 gives float32)
        return ops.mul(ops.div(1.0, self), o)

    def __pow__(self, o):
        return ops.pow(self, o)

    def __rpow__(self, o):
        return ops.pow(o, self)

    def __mod__(self, o):
        return ops.remainder(self, o)

    def __rmod__(self, o):
        return ops.remainder(o, self)

    def __floordiv__(self, o):
        return ops.floor_divide(self, o)

    def __rfloordiv__(self, o):
        return ops.floor_divide(o, self)

    def __neg__(self):
        return ops.neg(self)

    def __pos__(self):
        if self.array.dtype == np.bool_:
            raise TypeError("__pos__: the unary + operator on a bool tensor is not supported "
                            "(as in PyTorch)")
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

    # bitwise on integers, logical on bools, refused on floats (PyTorch's operators)
    def __invert__(self):
        return ops.bitwise_not(self)

    def __and__(self, o):
        return ops.bitwise_and(self, o)

    def __rand__(self, o):
        return ops.bitwise_and(o, self)

    def __or__(self, o):
        return ops.bitwise_or(self, o)

    def __ror__(self, o):
        return ops.bitwise_or(o, self)

    def __xor__(self, o):
        return ops.bitwise_xor(self, o)

    def __rxor__(self, o):
        return ops.bitwise_xor(o, self)

    # ---- methods that forward to striate.ops --------------------------------------------------

    def exp(self):
        return ops.exp(self)

    def log(self):
        return ops.log(self)

    def sqrt(self):
        return ops.sqrt(self)

    def abs(self):
        return ops.abs(self)

    def sign(self):
        return ops.sign(self)

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
        return ops.view(self, other.shape)

    def expand(self, *shape):
        return ops.expand(self, *shape)

    def flatten(self, start_dim=0, end_dim=-1):
        return ops.flatten(self, start_dim, end_dim)

    def transpose(self, dim0, dim1):
        return ops.transpose(self, dim0, dim1)

    def t(self):
        """The transpose of a 2-D tensor; a 0-d or 1-D tensor is returned as is (PyTorch)."""
        if self.ndim > 2:
            raise ValueError(
                f"t: expects a tensor with at most 2 dimensions, got shape {self.shape}; "
                "use transpose(dim0, dim1) or permute"
            )
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
        """Whether every element (along ``dim``) is non-zero, as a bool tensor (uint8 for uint8
        input, as in PyTorch)."""
        return _truth(np.all(self.array, axis=dim, keepdims=keepdim), self.array.dtype)

    def any(self, dim=None, keepdim=False) -> Tensor:
        """Whether some element (along ``dim``) is non-zero, as a bool tensor (uint8 for uint8
        input, as in PyTorch)."""
        return _truth(np.any(self.array, axis=dim, keepdims=keepdim), self.array.dtype)

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

    def remainder(self, other):
        return ops.remainder(self, other)

    def fmod(self, other):
        return ops.fmod(self, other)

    def floor_divide(self, other):
        return ops.floor_divide(self, other)

    def erf(self):
        return ops.erf(self)

    def erfc(self):
        return ops.erfc(self)

    def erfinv(self):
        return ops.erfinv(self)


    # ---- in-place arithmetic ------------------------------------------------------------------

    def add_(self, other, alpha=1) -> Tensor:
        if self._records_inplace(other):
            _inplace_dtype(self, "add_", other)
            return self._record_inplace(
                "add_", lambda old: ops.add(old, other * alpha if alpha != 1 else other))
        return _inplace(self, "add_", np.add, other, alpha)

    def sub_(self, other, alpha=1) -> Tensor:
        if isinstance(other, (bool, np.bool_)) or getattr(other, "dtype", None) == np.bool_ \
                or self.array.dtype == np.bool_:
            raise TypeError("sub_: subtraction with a bool tensor is not supported (as in "
                            "PyTorch); to invert a mask use ~ or logical_not")
        if self._records_inplace(other):
            _inplace_dtype(self, "sub_", other)
            return self._record_inplace(
                "sub_", lambda old: ops.sub(old, other * alpha if alpha != 1 else other))
        return _inplace(self, "sub_", np.subtract, other, alpha)

    def mul_(self, other) -> Tensor:
        if self._records_inplace(other):
            _inplace_dtype(self, "mul_", other)
            return self._record_inplace("mul_", lambda old: ops.mul(old, other))
        return _inplace(self, "mul_", np.multiply, other)

    def div_(self, other) -> Tensor:
        if self._records_inplace(other):
            _inplace_dtype(self, "div_", other, floating=True)
            return self._record_inplace("div_", lambda old: ops.div(old, other))
        return _inplace(self, "div_", np.true_divide, other, floating=True)

    def pow_(self, exponent) -> Tensor:
        return _inplace_op(self, "pow_", ops.pow, exponent)

    def remainder_(self, other) -> Tensor:
        return _inplace_op(self, "remainder_", ops.remainder, other)

    def fmod_(self, other) -> Tensor:
        return _inplace_op(self, "fmod_", ops.fmod, other)

    def floor_divide_(self, other) -> Tensor:
        return _inplace_op(self, "floor_divide_", ops.floor_divide, other)

    def bitwise_and_(self, other) -> Tensor:
        return _inplace_op(self, "bitwise_and_", ops.bitwise_and, other)

    def bitwise_or_(self, other) -> Tensor:
        return _inplace_op(self, "bitwise_or_", ops.bitwise_or, other)

    def bitwise_xor_(self, other) -> Tensor:
        return _inplace_op(self, "bitwise_xor_", ops.bitwise_xor, other)

    def erf_(self) -> Tensor:
        return _inplace_op(self, "erf_", ops.erf, floating=True)

    def erfc_(self) -> Tensor:
        return _inplace_op(self, "erfc_", ops.erfc, floating=True)

    def erfinv_(self) -> Tensor:
        return _inplace_op(self, "erfinv_", ops.erfinv, floating=True)

    # ---- augmented assignment: in place, as in PyTorch ----------------------------------------
    # ``x += y`` changes x's memory (views and other references see it, the version counter
    # moves, autograd records it) instead of binding x to a new tensor; x keeps its dtype, and a
    # leaf that requires grad refuses it outside no_grad(). ``@=`` has no in-place form in
    # PyTorch either: it rebinds.

    def __iadd__(self, o):
        return self.add_(o)

    def __isub__(self, o):
        return self.sub_(o)

    def __imul__(self, o):
        return self.mul_(o)

    def __itruediv__(self, o):
        return self.div_(o)

    def __imod__(self, o):
        return self.remainder_(o)

    def __ifloordiv__(self, o):
        return self.floor_divide_(o)

    def __ipow__(self, o):
        return self.pow_(o)

    def __iand__(self, o):
        return self.bitwise_and_(o)

    def __ior__(self, o):
        return self.bitwise_or_(o)

    def __ixor__(self, o):
        return self.bitwise_xor_(o)

    def clamp_(self, min=None, max=None) -> Tensor:  # noqa: A002 - PyTorch's names
        if self._records_inplace():
            return self._record_inplace("clamp_", lambda old: ops.clip(old, min, max))
        for bound in (min, max):
            if bound is not None:
                _inplace_dtype(self, "clamp_", bound)
        self._check_inplace("clamp_")
        np.clip(self.array, min, max, out=self.array)
        return self

    clip_ = clamp_

    def relu_(self) -> Tensor:
        if self._records_inplace():
            return self._record_inplace("relu_", lambda old: ops.relu(old))
        if self.array.dtype == np.bool_:
            raise TypeError("relu_: bool input is not supported (as in PyTorch)")
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
        self.array[...] = ops.masked_fill(Tensor(self.array), mask, value).array
        return self

    def __setitem__(self, index, value):
        if isinstance(index, Tensor):
            index = index.array
        elif isinstance(index, tuple):
            index = tuple(i.array if isinstance(i, Tensor) else i for i in index)
        if not isinstance(value, Tensor) and self.array.dtype.kind in "biu" and isinstance(
                value, (int, float, np.generic)):  # -1 into uint8 is 255, inf is refused
            value = scalar_as("__setitem__", value, self.array.dtype)
        if self._records_inplace(value):
            return self._record_inplace(
                "__setitem__", lambda old: _IndexPut.apply(old, value, index=index))
        self._check_inplace("__setitem__")
        _assign(self.array, index, value.array if isinstance(value, Tensor) else value)


def _inplace_dtype(self: Tensor, name: str, other, floating: bool = False) -> np.dtype:
    """The dtype an in-place op computes in (PyTorch's promotion of self and other), checked to
    cast back into self: a float result can't go into an integer tensor, nor an integer into a
    bool one."""
    dtype = result_type(self, other.item() if isinstance(other, np.generic) else other)
    if floating:
        dtype = float_result(dtype)
    rank = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}
    if rank[dtype.kind] > rank[self.array.dtype.kind]:
        raise TypeError(f"{name}: the result type {dtype} can't be cast to the tensor's dtype "
                        f"{self.array.dtype}")
    return dtype


def _inplace(self: Tensor, name: str, ufunc, other, alpha=1, floating=False) -> Tensor:
    """``self = ufunc(self, alpha * other)`` in self's memory, as PyTorch: other broadcast to
    self's shape (not beyond), computed in the promoted dtype and cast back (integers wrap)."""
    a = self.array
    o = other.array if isinstance(other, Tensor) else other
    if np.shape(o) != a.shape:
        shape = broadcast_shapes(name, np.shape(o), a.shape)
        if shape != a.shape:
            raise ValueError(f"{name}: an operand of shape {np.shape(o)} can't be broadcast to "
                             f"the shape {a.shape} of the tensor written in place")
    dtype = _inplace_dtype(self, name, other, floating)
    if alpha != 1:
        if dtype.kind in "biu" and not isinstance(alpha, (int, np.integer)):
            raise TypeError(f"{name}: alpha must be an integer for integer tensors, got {alpha!r}")
        o = cast_wrapping(o, dtype) * cast_wrapping(alpha, dtype)
    self._check_inplace(name)
    if dtype == a.dtype:
        ufunc(a, cast_wrapping(o, dtype), out=a)
    else:
        a[...] = ufunc(a.astype(dtype), cast_wrapping(o, dtype))
    return self


_NONE = object()


def _inplace_op(self: Tensor, name: str, op, other=_NONE, floating: bool = False) -> Tensor:
    """``self = op(self[, other])`` in self's memory, for ops without a NumPy ``out=`` form:
    computed out of place, checked to keep self's shape and dtype (PyTorch refuses a float result
    in an integer tensor), then written back; recorded in the graph like ``add_``."""
    others = () if other is _NONE else (other,)
    if others:
        _inplace_dtype(self, name, other, floating)
    elif floating and self.array.dtype.kind not in "fc":
        raise TypeError(f"{name}: the result type {float_result(self.array.dtype)} can't be "
                        f"cast to the tensor's dtype {self.array.dtype}")
    if self._records_inplace(*others):
        return self._record_inplace(name, lambda old: op(old, *others))
    r = op(Tensor(self.array), *others)  # nothing requires grad here: nothing is recorded
    if r.shape != self.shape:
        raise ValueError(f"{name}: an operand of shape {np.shape(_arr_of(other))} "
                         f"can't be broadcast to the shape {self.shape} of the tensor written "
                         "in place")
    self._check_inplace(name)
    self.array[...] = r.array
    return self


def _arr_of(x):
    return x.array if isinstance(x, Tensor) else x


def _truth(result, dtype) -> Tensor:
    """all/any's answer: bool, except uint8 for a uint8 input (PyTorch's legacy mask dtype)."""
    result = np.asarray(result)
    return Tensor(result.astype(np.uint8) if dtype == np.uint8 else result)


def _split(index):
    """``(ints_part, rest)`` of an index that mixes integers and arrays, else None: PyTorch applies
    the integers first (see ``ops.shape.split_int_index``)."""
    return ops.shape.split_int_index(ops.shape._normalize_index(index)[0])


def _assign(a: np.ndarray, index, value) -> None:
    """``a[index] = value`` with PyTorch's reading of an index that mixes integers and arrays
    (integers first: see ``ops.shape.split_int_index``), and an error that names the op."""
    two = _split(index)
    try:
        if two is None:
            a[index] = value
        else:
            a[two[0]][two[1]] = value
    except (IndexError, ValueError) as e:
        raise type(e)(
            f"__setitem__: can't assign a value of shape {np.shape(value)} to index "
            f"{index!r} of a tensor of shape {a.shape}: {e}"
        ) from None


def _at(a: np.ndarray, index) -> np.ndarray:
    """``a[index]`` read as :func:`_assign` writes it."""
    two = _split(index)
    return a[index] if two is None else a[two[0]][two[1]]


class _IndexPut(Function):
    """``out = old`` with ``out[index] = value``: item assignment out of place."""

    @staticmethod
    def forward(ctx, old, value, index):
        out = old.copy()
        _assign(out, index, value)
        ctx.index = index
        return out

    # the overwritten elements of old get no gradient; value gets the gradient at index (summed
    # by the engine over the dimensions it was broadcast along)
    @staticmethod
    def backward(ctx, g):
        g_old = None
        if ctx.needs_input_grad[0]:
            g_old = g.copy()
            _assign(g_old, ctx.index, 0)
        g_value = np.array(_at(g, ctx.index)) if ctx.needs_input_grad[1] else None
        return g_old, g_value


def setup_tensor() -> None:
    """Attach the methods above to Tensor (called once, by ``striate.ops``)."""
    for name, value in vars(_TensorMethods).items():
        if name in ("__module__", "__qualname__", "__doc__", "__dict__", "__weakref__",
                    "__hash__"):  # __hash__: None here, since the class defines __eq__
            continue
        setattr(Tensor, name, value)
    _attach_torch_functions()


def _new(self: Tensor, array, dtype, requires_grad: bool) -> Tensor:
    return Tensor(np.asarray(array, dtype=dtype if dtype is not None else self.dtype),
                  requires_grad=requires_grad)


def _size(size, name="size") -> tuple:
    if not size:
        raise TypeError(f"{name}: a size is required (as in PyTorch), e.g. {name}(2, 3)")
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        return tuple(size[0])
    return tuple(size)


def _attach_torch_functions() -> None:
    """Methods for the torch functions added with the ops (``t.cumsum(0)``, ``t.new_zeros``);
    a method the block above defines is kept."""
    from . import elementwise, indexing, linalg, random, reduction, shape

    def new_zeros(self, *size, dtype=None, device=None, requires_grad=False):
        """Zeros of ``size`` with this tensor's dtype (unless ``dtype``)."""
        return _new(self, np.zeros(_size(size, "new_zeros")), dtype, requires_grad)

    def new_ones(self, *size, dtype=None, device=None, requires_grad=False):
        """Ones of ``size`` with this tensor's dtype (unless ``dtype``)."""
        return _new(self, np.ones(_size(size, "new_ones")), dtype, requires_grad)

    def new_full(self, size, fill_value, dtype=None, device=None, requires_grad=False):
        """``fill_value`` everywhere, shape ``size``, this tensor's dtype (unless ``dtype``)."""
        return _new(self, np.full(tuple(size), fill_value), dtype, requires_grad)

    def new_tensor(self, data, dtype=None, device=None, requires_grad=False):
        """A copy of ``data`` as a tensor with this tensor's dtype (unless ``dtype``)."""
        data = data.array if isinstance(data, Tensor) else data
        return _new(self, np.array(data), dtype, requires_grad)

    def add(self, other, *, alpha=1):
        """``self + alpha * other``."""
        return elementwise.add(self, other, alpha=alpha)

    def sub(self, other, *, alpha=1):
        """``self - alpha * other``."""
        return elementwise.sub(self, other, alpha=alpha)

    def div(self, other, *, rounding_mode=None):
        """``self / other``; ``rounding_mode`` 'trunc' or 'floor' rounds the quotient."""
        return elementwise.div(self, other, rounding_mode=rounding_mode)

    def flip(self, *dims):
        return shape.flip(self, _size(dims, "flip"))

    def multinomial(self, num_samples, replacement=False, generator=None):
        return random.multinomial(self, num_samples, replacement, generator)

    def __format__(self, spec):
        # format(t, ".2f") formats a 0-d tensor's value, as PyTorch does
        if self.ndim == 0 and spec:
            return format(self.item(), spec)
        return format(str(self), spec)

    methods = {
        "new_zeros": new_zeros, "new_ones": new_ones, "new_full": new_full,
        "new_tensor": new_tensor, "add": add, "sub": sub,
        "mul": lambda self, other: elementwise.mul(self, other), "div": div,
        "log1p": elementwise.log1p, "expm1": elementwise.expm1, "sin": elementwise.sin,
        "cos": elementwise.cos, "isclose": elementwise.isclose, "allclose": elementwise.allclose,
        "tril": shape.tril, "triu": shape.triu, "flip": flip, "roll": shape.roll,
        "narrow": shape.narrow, "prod": reduction.prod, "cumsum": reduction.cumsum,
        "cumprod": reduction.cumprod, "logsumexp": reduction.logsumexp, "norm": reduction.norm,
        "amax": reduction.amax, "amin": reduction.amin, "mm": linalg.mm, "bmm": linalg.bmm,
        "multinomial": multinomial, "__format__": __format__,
    }  # fmt: skip
    for name, fn in methods.items():
        if name not in Tensor.__dict__ or getattr(Tensor.__dict__[name], "_striate_extra", False):
            fn._striate_extra = True
            setattr(Tensor, name, fn)
    if "is_cuda" not in Tensor.__dict__:
        Tensor.is_cuda = property(lambda self: False, doc="False: striate tensors live on the CPU")
    del indexing  # one_hot is a function only, as in PyTorch
