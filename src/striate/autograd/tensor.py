"""``Tensor``: an array, whether it requires grad, its ``.grad``, and the node that made it.

The raw array is ``t.array`` (a NumPy array); ``t.data`` is, as in PyTorch, a detached
Tensor sharing that array. Operators and methods call the differentiable operations of
``striate.ops``; creation functions (``tensor``, ``zeros``, ``randn``, ...) live here too.
"""

from __future__ import annotations

import numbers

import numpy as np

from .. import backend
from .function import backward as _run_backward

__all__ = [
    "Tensor",
    "tensor",
    "as_tensor",
    "from_numpy",
    "zeros",
    "ones",
    "full",
    "empty",
    "zeros_like",
    "ones_like",
    "full_like",
    "randn",
    "rand",
    "randint",
    "randperm",
    "arange",
    "linspace",
    "eye",
]


def _to_array(data, dtype=None) -> np.ndarray:
    """An array from Python data: floats take the default dtype, ints int64, bools bool."""
    if isinstance(data, Tensor):
        data = data.array
    try:
        arr = np.array(data)
    except ValueError as e:  # ragged nested lists
        raise ValueError(f"tensor: data must be a rectangular nesting of numbers: {e}") from None
    if arr.dtype.kind in "USVO":
        # strings, bytes and objects are no numbers: refuse them here (as PyTorch does) rather
        # than fail later inside NumPy
        what = {"U": "strings", "S": "bytes", "V": "raw records"}.get(arr.dtype.kind)
        raise TypeError(
            f"tensor: data must be numbers, bools or nested lists of them, got "
            f"{what or 'objects'} ({type(data).__name__} {_short(data)})"
        )
    if dtype is not None:
        return arr.astype(np.dtype(dtype), copy=False)  # arr is already a copy of data
    if arr.dtype.kind == "f" and not isinstance(data, np.ndarray) and not np.isscalar(data):
        arr = arr.astype(backend.get_default_dtype())
    elif arr.dtype.kind == "f" and isinstance(data, float) and not isinstance(data, np.generic):
        # a Python float (np.float64 subclasses float, but keeps its dtype as a NumPy scalar)
        arr = arr.astype(backend.get_default_dtype())
    return arr


def _short(data) -> str:
    r = repr(data)
    return r if len(r) <= 40 else r[:37] + "..."


class Tensor:
    """A multi-dimensional array that records the operations applied to it, for backprop.

    Args:
        data: an array (wrapped without a copy) or anything ``numpy.array`` accepts.
        requires_grad: whether backward should compute d(output)/d(this tensor).

    Example:
        >>> import striate
        >>> x = striate.tensor([1.0, 2.0, 3.0], requires_grad=True)
        >>> (x * x).sum().backward()
        >>> x.grad.tolist()
        [2.0, 4.0, 6.0]
    """

    __slots__ = (
        "array",
        "requires_grad",
        "grad",
        "_fn",
        "_ctx",
        "_parents",
        "_hooks",
        "_retains_grad",
        "_version",
        "__weakref__",
    )
    __array_priority__ = 1000  # so ndarray (op) Tensor defers to Tensor's reflected operators

    def __init__(self, data, requires_grad: bool = False):
        if isinstance(data, np.ndarray) or type(data).__module__.startswith("cupy"):
            self.array = data
        elif isinstance(data, np.generic):  # a NumPy scalar keeps its dtype (float64 is a float)
            self.array = np.asarray(data)
        else:
            self.array = _to_array(data)
        if requires_grad and self.array.dtype.kind not in "fc":
            raise RuntimeError(
                f"Tensor: only floating tensors can require grad, got dtype {self.array.dtype}"
            )
        self.requires_grad = bool(requires_grad)
        self.grad: Tensor | None = None
        self._fn = None
        self._ctx = None
        self._parents = ()
        self._hooks = ()
        self._retains_grad = False
        # bumped by every in-place change; shared by views and detach() (not by .data, as in
        # PyTorch), so a backward can tell that an array it saved has changed since
        self._version = [0]

    # ---- autograd -----------------------------------------------------------------------------

    def backward(self, gradient=None, retain_graph: bool = False) -> None:
        """Accumulate the gradient of this tensor into every leaf's ``.grad``."""
        _run_backward(self, gradient, retain_graph=retain_graph)

    @property
    def is_leaf(self) -> bool:
        return self._fn is None

    @property
    def grad_fn(self):
        """The Function class that produced this tensor, or None for a leaf."""
        return self._fn

    def detach(self) -> Tensor:
        """A new leaf sharing this array (and its version counter), cut from the graph."""
        out = Tensor(self.array)
        out._version = self._version
        return out

    def detach_(self) -> Tensor:
        self._fn = self._ctx = None
        self._parents = ()
        self.requires_grad = False
        return self

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        if requires_grad and self.array.dtype.kind != "f":
            raise RuntimeError(
                f"requires_grad_: only floating tensors can require grad, got {self.array.dtype}"
            )
        if not self.is_leaf and not requires_grad:
            raise RuntimeError("requires_grad_: cannot switch it off on a non-leaf; use detach()")
        self.requires_grad = requires_grad
        return self

    def retain_grad(self) -> None:
        """Keep ``.grad`` on this non-leaf tensor after backward (leaves always keep it)."""
        if not self.requires_grad:
            raise RuntimeError("retain_grad: the tensor does not require grad")
        self._retains_grad = True

    def register_hook(self, hook):
        """Call ``hook(grad)`` when this tensor's gradient is computed; a returned tensor replaces
        the gradient. Returns a handle whose ``remove()`` unregisters it."""
        if not self.requires_grad:
            raise RuntimeError("register_hook: the tensor does not require grad")
        self._hooks = self._hooks + (hook,)
        return _HookHandle(self, hook)

    # ---- data access --------------------------------------------------------------------------

    @property
    def data(self) -> Tensor:
        """A detached tensor sharing this array (PyTorch's ``.data``)."""
        return Tensor(self.array)

    @data.setter
    def data(self, value) -> None:
        self.array = value.array if isinstance(value, Tensor) else np.asarray(value)

    @property
    def shape(self) -> tuple:
        return self.array.shape

    @property
    def dtype(self) -> np.dtype:
        return self.array.dtype

    @property
    def ndim(self) -> int:
        return self.array.ndim

    @property
    def device(self) -> str:
        return "cpu" if backend.get_array_module(self.array) is np else "cuda"

    @property
    def T(self) -> Tensor:  # noqa: N802 - PyTorch's name
        return self.permute(*reversed(range(self.ndim)))

    def size(self, dim: int | None = None):
        return self.array.shape if dim is None else self.array.shape[dim]

    def dim(self) -> int:
        return self.array.ndim

    def numel(self) -> int:
        return int(self.array.size)

    def __len__(self) -> int:
        if self.array.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.array.shape[0]

    def numpy(self) -> np.ndarray:
        """The array (shared, not copied); raises if the tensor requires grad, as PyTorch does."""
        if self.requires_grad:
            raise RuntimeError(
                "numpy: can't call numpy() on a tensor that requires grad; use detach().numpy()"
            )
        if backend.get_array_module(self.array) is not np:  # pragma: no cover - GPU only
            raise TypeError("numpy: the tensor is on the GPU; call .cpu() first")
        return self.array

    def item(self):
        """The value of a one-element tensor as a Python number."""
        if self.array.size != 1:
            raise ValueError(
                f"item: only one-element tensors can be converted to a Python scalar, "
                f"got shape {self.shape}"
            )
        return self.array.reshape(()).item()

    def tolist(self):
        return self.array.tolist()

    def __repr__(self) -> str:
        body = np.array2string(np.asarray(self.array), separator=", ", precision=4)
        extra = ""
        if self.array.dtype != backend.get_default_dtype() and self.array.dtype.kind == "f":
            extra += f", dtype={self.array.dtype}"
        if self._fn is not None:
            extra += f", grad_fn=<{self._fn.__name__}>"
        elif self.requires_grad:
            extra += ", requires_grad=True"
        return f"tensor({body}{extra})"

    def __bool__(self) -> bool:
        if self.array.size != 1:
            raise RuntimeError(
                f"bool: the truth value of a tensor with {self.array.size} elements is ambiguous"
            )
        return bool(self.array)

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        if self.array.dtype.kind not in "iu" or self.array.size != 1:
            raise TypeError("only integer tensors of a single element can be used as an index")
        return int(self.item())

    __hash__ = object.__hash__

    def __array__(self, dtype=None, copy=None):
        return np.asarray(self.array, dtype=dtype)

    # ---- dtype and device ---------------------------------------------------------------------

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

    def cpu(self) -> Tensor:
        return self.to("cpu")

    def float(self) -> Tensor:
        return self.to(np.float32)

    def double(self) -> Tensor:
        return self.to(np.float64)

    def half(self) -> Tensor:
        return self.to(np.float16)

    def long(self) -> Tensor:
        return self.to(np.int64)

    def int(self) -> Tensor:
        return self.to(np.int32)

    def bool(self) -> Tensor:
        return self.to(np.bool_)

    def type(self, dtype) -> Tensor:
        return self.to(dtype)

    def clone(self) -> Tensor:
        return ops.clone(self)

    def contiguous(self) -> Tensor:
        return ops.contiguous(self)

    # ---- in-place (on the array; not recorded in the graph) -----------------------------------

    def _check_inplace(self, name):
        if self.requires_grad and self.is_leaf and _grad_enabled():
            raise RuntimeError(
                f"{name}: a leaf tensor that requires grad is used in an in-place operation; "
                "do it under striate.no_grad()"
            )
        self._version[0] += 1

    def zero_(self) -> Tensor:
        self._check_inplace("zero_")
        self.array[...] = 0
        return self

    def fill_(self, value) -> Tensor:
        self._check_inplace("fill_")
        self.array[...] = value
        return self

    def copy_(self, src) -> Tensor:
        self._check_inplace("copy_")
        src = src.array if isinstance(src, Tensor) else np.asarray(src)
        try:
            self.array[...] = src
        except ValueError as e:
            raise ValueError(
                f"copy_: src of shape {np.shape(src)} can't be copied into shape {self.shape}"
            ) from e
        return self

    def add_(self, other, alpha=1) -> Tensor:
        self._check_inplace("add_")
        o = other.array if isinstance(other, Tensor) else other
        self.array += o * alpha if alpha != 1 else o
        return self

    def sub_(self, other, alpha=1) -> Tensor:
        return self.add_(other, alpha=-alpha)

    def mul_(self, other) -> Tensor:
        self._check_inplace("mul_")
        self.array *= other.array if isinstance(other, Tensor) else other
        return self

    def div_(self, other) -> Tensor:
        self._check_inplace("div_")
        self.array /= other.array if isinstance(other, Tensor) else other
        return self

    def clamp_(self, min=None, max=None) -> Tensor:  # noqa: A002 - PyTorch's names
        self._check_inplace("clamp_")
        np.clip(self.array, min, max, out=self.array)
        return self

    def uniform_(self, a: float = 0.0, b: float = 1.0) -> Tensor:
        self._check_inplace("uniform_")
        self.array[...] = backend.get_rng().uniform(a, b, self.shape)
        return self

    def normal_(self, mean: float = 0.0, std: float = 1.0) -> Tensor:
        self._check_inplace("normal_")
        self.array[...] = backend.get_rng().normal(mean, std, self.shape)
        return self

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

    def __setitem__(self, index, value):
        self._check_inplace("__setitem__")
        if isinstance(index, Tensor):
            index = index.array
        elif isinstance(index, tuple):
            index = tuple(i.array if isinstance(i, Tensor) else i for i in index)
        value = value.array if isinstance(value, Tensor) else value
        two = ops.shape.split_int_index(ops.shape._normalize_index(index)[0])  # as getitem
        try:
            if two is None:
                self.array[index] = value
            else:
                self.array[two[0]][two[1]] = value
        except (IndexError, ValueError) as e:
            raise type(e)(
                f"__setitem__: can't assign a value of shape {np.shape(value)} to index "
                f"{index!r} of a tensor of shape {self.shape}: {e}"
            ) from None

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
        return ops.reshape(self, other.shape)

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

    def masked_fill_(self, mask, value) -> Tensor:
        """In place on the array (not recorded in the graph), as the other ``*_`` methods."""
        self._check_inplace("masked_fill_")
        m = mask.array if isinstance(mask, Tensor) else np.asarray(mask)
        if m.dtype != np.bool_:
            raise TypeError(f"masked_fill_: mask must be a bool tensor, got dtype {m.dtype}")
        self.array[np.broadcast_to(m, self.shape)] = value.item() if isinstance(
            value, Tensor) else value
        return self

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


def _grad_enabled() -> bool:
    from .grad_mode import is_grad_enabled

    return is_grad_enabled()


class _HookHandle:
    def __init__(self, tensor: Tensor, hook):
        self._tensor = tensor
        self._hook = hook

    def remove(self) -> None:
        self._tensor._hooks = tuple(h for h in self._tensor._hooks if h is not self._hook)


# ---- creation -----------------------------------------------------------------------------------


def _dtype(dtype):
    return backend.get_default_dtype() if dtype is None else np.dtype(dtype)


def _shape(shape) -> tuple:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    for s in shape:
        if not isinstance(s, (numbers.Integral,)) or s < 0:
            raise ValueError(f"shape must be non-negative ints, got {shape}")
    return tuple(int(s) for s in shape)


def tensor(data, dtype=None, requires_grad: bool = False) -> Tensor:
    """A new tensor holding a copy of ``data`` (Python floats become the default dtype)."""
    return Tensor(_to_array(data, dtype), requires_grad=requires_grad)


def as_tensor(data, dtype=None) -> Tensor:
    """A tensor sharing ``data``'s memory where it can (an ndarray of the right dtype)."""
    if isinstance(data, Tensor):
        return data if dtype is None else data.to(dtype)
    if isinstance(data, np.ndarray):
        return Tensor(data if dtype is None else data.astype(dtype, copy=False))
    return tensor(data, dtype)


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing ``array``'s memory, with its dtype."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected a numpy.ndarray, got {type(array).__name__}")
    return Tensor(array)


def zeros(*shape, dtype=None, requires_grad: bool = False) -> Tensor:
    return Tensor(np.zeros(_shape(shape), _dtype(dtype)), requires_grad)


def ones(*shape, dtype=None, requires_grad: bool = False) -> Tensor:
    return Tensor(np.ones(_shape(shape), _dtype(dtype)), requires_grad)


def empty(*shape, dtype=None, requires_grad: bool = False) -> Tensor:
    return Tensor(np.empty(_shape(shape), _dtype(dtype)), requires_grad)


def full(shape, fill_value, dtype=None, requires_grad: bool = False) -> Tensor:
    if dtype is None and isinstance(fill_value, (bool, np.bool_)):
        dtype = np.bool_
    elif dtype is None and isinstance(fill_value, numbers.Integral):
        dtype = np.int64
    return Tensor(np.full(_shape((shape,)), fill_value, _dtype(dtype)), requires_grad)


def zeros_like(t: Tensor, dtype=None, requires_grad: bool = False) -> Tensor:
    return Tensor(np.zeros_like(t.array, dtype=dtype), requires_grad)


def ones_like(t: Tensor, dtype=None, requires_grad: bool = False) -> Tensor:
    return Tensor(np.ones_like(t.array, dtype=dtype), requires_grad)


def full_like(t: Tensor, fill_value, dtype=None, requires_grad: bool = False) -> Tensor:
    return Tensor(np.full_like(t.array, fill_value, dtype=dtype), requires_grad)


def randn(*shape, dtype=None, requires_grad: bool = False) -> Tensor:
    """Standard normal samples from striate's seeded generator."""
    a = backend.get_rng().standard_normal(_shape(shape), dtype=np.float64).astype(_dtype(dtype))
    return Tensor(a, requires_grad)


def rand(*shape, dtype=None, requires_grad: bool = False) -> Tensor:
    """Uniform samples in [0, 1) from striate's seeded generator."""
    a = backend.get_rng().random(_shape(shape)).astype(_dtype(dtype))
    return Tensor(a, requires_grad)


def randint(low: int, high: int | None = None, size: tuple = (), dtype=np.int64) -> Tensor:
    """Integers in [low, high) (or [0, low) when high is None)."""
    if high is None:
        low, high = 0, low
    return Tensor(backend.get_rng().integers(low, high, size=tuple(size)).astype(dtype))


def randperm(n: int, dtype=np.int64) -> Tensor:
    return Tensor(backend.get_rng().permutation(n).astype(dtype))


def arange(start, end=None, step=1, dtype=None, requires_grad: bool = False) -> Tensor:
    if end is None:
        start, end = 0, start
    if dtype is None:
        ints = all(isinstance(v, numbers.Integral) for v in (start, end, step))
        dtype = np.int64 if ints else backend.get_default_dtype()
    return Tensor(np.arange(start, end, step, dtype=np.dtype(dtype)), requires_grad)


def linspace(start, end, steps: int, dtype=None, requires_grad: bool = False) -> Tensor:
    return Tensor(np.linspace(start, end, steps, dtype=_dtype(dtype)), requires_grad)


def eye(n: int, m: int | None = None, dtype=None, requires_grad: bool = False) -> Tensor:
    return Tensor(np.eye(n, m, dtype=_dtype(dtype)), requires_grad)


# ops builds on Tensor, so it is imported last; methods above resolve it at call time.
from .. import ops  # noqa: E402
