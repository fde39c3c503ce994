"""``Tensor``: an array, whether it requires grad, its ``.grad``, and the node that made it.

The raw array is ``t.array`` (a NumPy array); ``t.data`` is, as in PyTorch, a detached
Tensor sharing that array. Operators and methods call the differentiable operations of
``striate.ops``; creation functions (``tensor``, ``zeros``, ``randn``, ...) live here too.
"""

from __future__ import annotations

import copy
import functools
import inspect
import numbers
import weakref

import numpy as np

from .. import backend
from . import function as _function
from .function import Context, Function
from .function import backward as _run_backward
from .scalars import scalar_as

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
        "_node",
        "_out_index",
        "_acc",
        "_is_view",
        "_view_of",
        "_hooks",
        "_post_acc_hooks",
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
        self._node = None  # the grad_fn: the graph node that made this tensor (None for a leaf)
        self._out_index = 0  # which output of that node this tensor is
        self._acc = None  # a weak reference to the leaf's AccumulateGrad node
        self._is_view = False  # made by an op as a view of another tensor's memory
        self._view_of = None  # for a view: (base, Function, inputs, params, output index)
        self._hooks = ()
        self._post_acc_hooks = ()  # a leaf's hook(tensor) calls after .grad was accumulated
        self._retains_grad = False
        # bumped by every in-place change; shared by views and detach() (not by .data, as in
        # PyTorch), so a backward can tell that an array it saved has changed since
        self._version = [0]

    def __deepcopy__(self, memo) -> Tensor:
        """A new leaf with a copy of the values (and of ``.grad``): no history, no hooks, a
        version counter of its own. Copying the graph fields instead would leave the copy's
        gradient accumulator pointing at the original's, so ``backward`` through the copy would
        fill the original's ``.grad``. A tensor with history (an op's output) copies to its
        values alone, not requiring grad: a graph cannot be copied. PyTorch refuses that case;
        here it lets a pruned module, whose ``weight`` its hook computes, be deep-copied (the hook
        recomputes it on the next forward)."""
        new = type(self).__new__(type(self))
        memo[id(self)] = new
        leaf = self._node is None
        Tensor.__init__(new, copy.deepcopy(self.array, memo),
                        requires_grad=self.requires_grad and leaf)
        new.grad = copy.deepcopy(self.grad, memo) if leaf else None
        return new

    # ---- autograd -----------------------------------------------------------------------------

    def backward(self, gradient=None, retain_graph: bool | None = None,
                 inputs=None) -> None:
        """Accumulate the gradient of this tensor into every leaf's ``.grad`` (with ``inputs``:
        into those tensors' ``.grad`` only)."""
        _run_backward((self,), (gradient,), retain_graph=retain_graph, inputs=inputs)

    @property
    def is_leaf(self) -> bool:
        return self._node is None

    @property
    def grad_fn(self):
        """The graph node that produced this tensor (with ``next_functions`` and ``name()``), or
        None for a leaf."""
        return self._node

    @property
    def _version_number(self) -> int:
        return self._version[0]

    def detach(self) -> Tensor:
        """A new leaf sharing this array (and its version counter), cut from the graph."""
        out = Tensor(self.array)
        out._version = self._version
        return out

    def detach_(self) -> Tensor:
        self._node = None
        self._out_index = 0
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
        node = self._node
        if node is not None:
            if node._retain is None:
                node._retain = {}
            node._retain[self._out_index] = weakref.ref(self)

    @property
    def retains_grad(self) -> bool:
        return self._retains_grad and self._node is not None

    def register_hook(self, hook):
        """Call ``hook(grad)`` when this tensor's gradient is computed; a returned tensor replaces
        the gradient. Returns a handle whose ``remove()`` unregisters it."""
        if not self.requires_grad:
            raise RuntimeError("register_hook: the tensor does not require grad")
        node = self._node
        if node is None:
            self._hooks = self._hooks + (hook,)
            return _HookHandle(self, hook)
        # a non-leaf's hooks live on its node's output, so they run even if the tensor is gone
        if node._hooks is None:
            node._hooks = {}
        i = self._out_index
        node._hooks[i] = node._hooks.get(i, ()) + (hook,)
        return _NodeHookHandle(node, i, hook)

    def register_post_accumulate_grad_hook(self, hook):
        """Call ``hook(tensor)`` after backward has accumulated this leaf's gradient into
        ``.grad`` (PyTorch 2.1's hook: what data-parallel training uses to send each gradient as
        soon as it is final). Returns a handle whose ``remove()`` unregisters it."""
        if not self.requires_grad:
            raise RuntimeError("register_post_accumulate_grad_hook: the tensor does not require "
                               "grad")
        if self._node is not None:
            raise RuntimeError("register_post_accumulate_grad_hook: post accumulate grad hooks "
                               "cannot be registered on non-leaf tensors")
        self._post_acc_hooks = self._post_acc_hooks + (hook,)
        return _HookHandle(self, hook, "_post_acc_hooks")

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
        if dim is None:
            return self.array.shape
        n = max(self.array.ndim, 1)  # a 0-d tensor has no sizes but accepts dim 0 and -1
        if not -n <= dim < n or self.array.ndim == 0:
            raise IndexError(f"size: dim {dim} is out of range for a tensor with "
                             f"{self.array.ndim} dimensions (expected a dim in [{-n}, {n - 1}])")
        return self.array.shape[dim]

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
        if self._node is not None:
            extra += f", grad_fn=<{self._node.name()}>"
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

    # ---- in-place -----------------------------------------------------------------------------
    # Every write to the array bumps the version counter (views and detach() share it), so a
    # backward that saved this memory raises instead of reading changed values. While the graph
    # is recorded and the tensor (or the value written) requires grad, the write is also recorded
    # as PyTorch does: the tensor's grad_fn becomes the in-place op's node, whose input is the
    # tensor's old history. The arithmetic in-place methods (add_, mul_, ...) are attached by
    # striate.ops (ops/tensor_methods.py), which they compute with.

    def _bump_version(self) -> None:
        """Record that the array was written in place (for code that writes ``t.array``
        directly: optimizers, running statistics, loaders)."""
        self._version[0] += 1

    def _check_inplace(self, name):
        if self.requires_grad and self.is_leaf and _grad_enabled():
            raise RuntimeError(
                f"{name}: a leaf Variable that requires grad is being used in an in-place "
                "operation (change a leaf tensor that requires grad under striate.no_grad())"
            )
        self._version[0] += 1

    def _records_inplace(self, *others) -> bool:
        """Whether an in-place op on self with these operands must be recorded in the graph."""
        if not _grad_enabled():
            # while striate.jit traces (under no_grad) the write is recorded too, so that the
            # traced graph has the op; a leaf that requires grad is written directly
            return _function._trace_hook is not None and not (self.requires_grad and
                                                              self._node is None)
        return self.requires_grad or any(isinstance(o, Tensor) and o.requires_grad
                                         for o in others)

    def _record_inplace(self, name, compute) -> Tensor:
        """Write ``compute(old)`` (an out-of-place, recorded op on a tensor holding self's old
        values and history) into self's array, and make its node self's grad_fn."""
        grad = _grad_enabled()  # off while striate.jit traces (see _records_inplace)
        if self.requires_grad and self._node is None and grad:
            raise RuntimeError(
                f"{name}: a leaf Variable that requires grad is being used in an in-place "
                "operation (change a leaf tensor that requires grad under striate.no_grad())"
            )
        if self._is_view:
            note = getattr(getattr(self._node, "_fn", None), "inplace_error", None)
            view_of = _view_maker(self) if self._view_of is not None and not note else None
            if view_of is not None:
                return self._record_view_inplace(name, compute, view_of)
            if not grad:  # tracing: written as outside a trace (the graph misses it)
                r = compute(Tensor(self.array.copy()))
                self.array[...] = r.array
                self._version[0] += 1
                return self
            if note:  # a Function whose outputs must not change in place says why
                raise RuntimeError(f"{name}: {note}")
            raise RuntimeError(
                f"{name}: in-place change of a view while the graph is recorded is not supported "
                "(the gradient of the tensor it views would be wrong); change a clone() of it, "
                "or apply the operation out of place to the whole tensor"
            )
        r = self._compute_on_copy(name, compute)
        self.array[...] = r.array
        self._version[0] += 1
        if grad:
            self._node, self._out_index = r._node, r._out_index
            self.requires_grad = r.requires_grad
        _trace_alias(self, r)
        return self

    def _compute_on_copy(self, name, compute) -> Tensor:
        """``compute`` applied to a copy of this tensor that carries its history (the op's
        backward may read the old values, which the in-place write replaces), with the result's
        shape checked against this tensor's."""
        old = Tensor(self.array.copy())
        old.requires_grad = self.requires_grad
        old._node, old._out_index = self._node, self._out_index
        _trace_alias(old, self)
        r = compute(old)
        if r.shape != self.shape:
            raise RuntimeError(
                f"{name}: the result has shape {tuple(r.shape)} but the tensor written in place "
                f"has shape {tuple(self.shape)}"
            )
        return r

    def _record_view_inplace(self, name, compute, view_of) -> Tensor:
        """A recorded in-place write through a view, as PyTorch's CopySlices records it: the new
        values ``compute(old view)`` are written into the base tensor's region (a recorded
        write on the base, which may itself be a view), then the view's history becomes the view
        op replayed on the base's new history."""
        base, fn, inputs, params, index = self._view_of
        r = self._compute_on_copy(name, compute)
        base._record_inplace(name, lambda base_old: CopySlices.apply(base_old, r,
                                                                      view_of=view_of))
        again = fn.apply(*[base if t is base else t for t in inputs], **params)
        again = again if index is None else again[index]
        if _grad_enabled():
            self._node, self._out_index = again._node, again._out_index
            self.requires_grad = again.requires_grad
        _trace_alias(self, again)
        return self

    def zero_(self) -> Tensor:
        if self._records_inplace():
            return self._record_inplace("zero_", lambda old: _Copy.apply(old, 0))
        self._check_inplace("zero_")
        self.array[...] = 0
        return self

    def fill_(self, value) -> Tensor:
        if self._records_inplace(value):
            return self._record_inplace("fill_", lambda old: _Copy.apply(old, value))
        self._check_inplace("fill_")
        self.array[...] = value.array if isinstance(value, Tensor) else scalar_as(
            "fill_", value, self.array.dtype)
        return self

    def copy_(self, src) -> Tensor:
        if self._records_inplace(src):
            return self._record_inplace("copy_", lambda old: _Copy.apply(old, src))
        self._check_inplace("copy_")
        src = src.array if isinstance(src, Tensor) else np.asarray(src)
        _check_copy_shape(src, self.array)
        try:
            self.array[...] = src
        except ValueError as e:
            raise ValueError(
                f"copy_: src of shape {np.shape(src)} can't be copied into shape {self.shape}"
            ) from e
        return self

    def uniform_(self, a: float = 0.0, b: float = 1.0) -> Tensor:
        new = backend.get_rng().uniform(a, b, self.shape)
        if self._records_inplace():
            return self._record_inplace("uniform_", lambda old: _Copy.apply(old, new))
        self._check_inplace("uniform_")
        self.array[...] = new
        return self

    def normal_(self, mean: float = 0.0, std: float = 1.0) -> Tensor:
        new = backend.get_rng().normal(mean, std, self.shape)
        if self._records_inplace():
            return self._record_inplace("normal_", lambda old: _Copy.apply(old, new))
        self._check_inplace("normal_")
        self.array[...] = new
        return self


def _check_copy_shape(src, dst) -> None:
    """copy_ broadcasts src to dst's shape only: a larger src (NumPy would drop its leading 1s)
    is refused, as in PyTorch."""
    shape = np.shape(src)
    if len(shape) > dst.ndim or any(s not in (1, d) for s, d in zip(shape[::-1], dst.shape[::-1])):
        raise ValueError(f"copy_: src of shape {shape} can't be broadcast to the tensor's shape "
                         f"{dst.shape}")


class _Copy(Function):
    """``old.copy_(src)`` out of place: src broadcast to old's shape and dtype."""

    @staticmethod
    def forward(ctx, old, src):
        _check_copy_shape(src, old)
        out = np.empty_like(old)
        try:
            out[...] = src
        except ValueError as e:
            raise ValueError(
                f"copy_: src of shape {np.shape(src)} can't be copied into shape {old.shape}"
            ) from e
        return out

    # the old values are overwritten: they get a zero gradient (PyTorch's too); src gets g,
    # summed over the broadcast dimensions by the engine
    @staticmethod
    def backward(ctx, g):
        return (np.zeros_like(g) if ctx.needs_input_grad[0] else None,
                g if ctx.needs_input_grad[1] else None)


def _view_maker(view: Tensor):
    """``f(array) -> the same view of array`` for a view made by an op (the op's forward replayed
    on raw arrays), or None when that is no writable view of its base (a broadcast)."""
    base, fn, inputs, params, index = view._view_of

    def view_of(a):
        arrays = [a if t is base else (t.array if isinstance(t, Tensor) else t) for t in inputs]
        out = fn.forward(Context(), *arrays, **params)
        return out if index is None else out[index]

    probe = np.empty_like(base.array, order="C")
    v = view_of(probe)
    if not (isinstance(v, np.ndarray) and v.flags.writeable and np.shares_memory(v, probe)):
        return None
    if v.size > 1 and 0 in v.strides:  # one element seen twice (expand): no in-place write
        return None
    return view_of


class CopySlices(Function):
    """``base`` with the region a view covers replaced by ``values`` (PyTorch's CopySlices)."""

    @staticmethod
    def forward(ctx, base, values, view_of):
        out = np.array(base, copy=True, order="C")
        view_of(out)[...] = values
        ctx.view_of = view_of
        return out

    # the overwritten region of base gets no gradient; the new values get the gradient there
    @staticmethod
    def backward(ctx, g):
        g_base = g_values = None
        if ctx.needs_input_grad[0]:
            g_base = np.array(g, copy=True, order="C")
            ctx.view_of(g_base)[...] = 0
        if ctx.needs_input_grad[1]:
            g_values = np.array(ctx.view_of(np.ascontiguousarray(g)))
        return g_base, g_values


def _trace_alias(t: Tensor, same_as: Tensor) -> None:
    """Tell a running ``striate.jit`` trace that ``t`` now holds ``same_as``'s value (after an
    in-place write, or for the copy of the old values an in-place op computes from)."""
    hook = _function._trace_hook
    if hook is not None and hasattr(hook, "alias"):
        hook.alias(t, same_as)


def _grad_enabled() -> bool:
    from .grad_mode import is_grad_enabled

    return is_grad_enabled()


class _HookHandle:
    def __init__(self, tensor: Tensor, hook, where: str = "_hooks"):
        self._tensor = tensor
        self._hook = hook
        self._where = where

    def remove(self) -> None:
        hooks = getattr(self._tensor, self._where)
        setattr(self._tensor, self._where, tuple(h for h in hooks if h is not self._hook))


class _NodeHookHandle:
    def __init__(self, node, index: int, hook):
        self._node, self._index, self._hook = node, index, hook

    def remove(self) -> None:
        hooks = self._node._hooks or {}
        hooks[self._index] = tuple(h for h in hooks.get(self._index, ()) if h is not self._hook)


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



def takes_device(factory):
    """Give a factory function PyTorch's ``device=`` keyword: "cpu" (or None) makes the tensor
    where every striate tensor lives; "cuda" is refused by name, as ``Tensor.to`` refuses it."""
    sig = inspect.signature(factory)
    params = list(sig.parameters.values())
    params.append(inspect.Parameter("device", inspect.Parameter.KEYWORD_ONLY, default=None))

    @functools.wraps(factory)
    def make(*args, device=None, **kwargs):
        out = factory(*args, **kwargs)
        if device is None:
            return out
        try:
            moved = backend.to_device(out.array, device)
        except (RuntimeError, ValueError) as e:
            raise type(e)(f"{factory.__name__}: {str(e).split(': ', 1)[1]}") from None
        return out if moved is out.array else Tensor(moved, requires_grad=out.requires_grad)

    make.__signature__ = sig.replace(parameters=params)
    return make

@takes_device
def tensor(data, dtype=None, requires_grad: bool = False) -> Tensor:
    """A new tensor holding a copy of ``data`` (Python floats become the default dtype)."""
    return Tensor(_to_array(data, dtype), requires_grad=requires_grad)


@takes_device
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


@takes_device
def zeros(*shape, dtype=None, requires_grad: bool = False) -> Tensor:
    return Tensor(np.zeros(_shape(shape), _dtype(dtype)), requires_grad)


@takes_device
def ones(*shape, dtype=None, requires_grad: bool = False) -> Tensor:
    return Tensor(np.ones(_shape(shape), _dtype(dtype)), requires_grad)


@takes_device
def empty(*shape, dtype=None, requires_grad: bool = False) -> Tensor:
    return Tensor(np.empty(_shape(shape), _dtype(dtype)), requires_grad)


@takes_device
def full(shape, fill_value, dtype=None, requires_grad: bool = False) -> Tensor:
    if dtype is None and isinstance(fill_value, (bool, np.bool_)):
        dtype = np.bool_
    elif dtype is None and isinstance(fill_value, numbers.Integral):
        dtype = np.int64
    return Tensor(np.full(_shape((shape,)), fill_value, _dtype(dtype)), requires_grad)


@takes_device
def zeros_like(t: Tensor, dtype=None, requires_grad: bool = False) -> Tensor:
    return Tensor(np.zeros_like(t.array, dtype=dtype), requires_grad)


@takes_device
def ones_like(t: Tensor, dtype=None, requires_grad: bool = False) -> Tensor:
    return Tensor(np.ones_like(t.array, dtype=dtype), requires_grad)


@takes_device
def full_like(t: Tensor, fill_value, dtype=None, requires_grad: bool = False) -> Tensor:
    return Tensor(np.full_like(t.array, fill_value, dtype=dtype), requires_grad)


@takes_device
def randn(*shape, dtype=None, requires_grad: bool = False) -> Tensor:
    """Standard normal samples from striate's seeded generator."""
    a = backend.get_rng().standard_normal(_shape(shape), dtype=np.float64).astype(_dtype(dtype))
    return Tensor(a, requires_grad)


@takes_device
def rand(*shape, dtype=None, requires_grad: bool = False) -> Tensor:
    """Uniform samples in [0, 1) from striate's seeded generator."""
    a = backend.get_rng().random(_shape(shape)).astype(_dtype(dtype))
    return Tensor(a, requires_grad)


@takes_device
def randint(low: int, high: int | None = None, size: tuple = (), dtype=np.int64) -> Tensor:
    """Integers in [low, high) (or [0, low) when high is None)."""
    if high is None:
        low, high = 0, low
    return Tensor(backend.get_rng().integers(low, high, size=tuple(size)).astype(dtype))


@takes_device
def randperm(n: int, dtype=np.int64) -> Tensor:
    return Tensor(backend.get_rng().permutation(n).astype(dtype))


@takes_device
def arange(start, end=None, step=1, dtype=None, requires_grad: bool = False) -> Tensor:
    if end is None:
        start, end = 0, start
    if dtype is None:
        ints = all(isinstance(v, numbers.Integral) for v in (start, end, step))
        dtype = np.int64 if ints else backend.get_default_dtype()
    return Tensor(np.arange(start, end, step, dtype=np.dtype(dtype)), requires_grad)


@takes_device
def linspace(start, end, steps: int, dtype=None, requires_grad: bool = False) -> Tensor:
    return Tensor(np.linspace(start, end, steps, dtype=_dtype(dtype)), requires_grad)


@takes_device
def eye(n: int, m: int | None = None, dtype=None, requires_grad: bool = False) -> Tensor:
    return Tensor(np.eye(n, m, dtype=_dtype(dtype)), requires_grad)

