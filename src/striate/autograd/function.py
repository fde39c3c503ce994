"""``Function``: one node of the graph, and the backward pass that walks them.

An operation is a subclass with two static methods on raw arrays::

    forward(ctx, *arrays, **params) -> array, or a tuple of arrays   # saves what backward needs
    backward(ctx, *grad_outputs) -> grad per input    # one gradient per output of forward

``Function.apply(*inputs, **params)`` runs forward on the inputs' arrays and, when grad mode is on
and an input requires grad, records the node: the ``ctx`` itself becomes the outputs' ``grad_fn``
(as in PyTorch), with ``next_functions`` pointing at the nodes that made the inputs (an
:class:`AccumulateGrad` for a leaf). A forward that returns a tuple gives a tuple of Tensors; its
backward receives one gradient per output, zeros for an output no gradient reached (PyTorch's
``materialize_grads`` default).

The engine (:func:`backward`, :func:`grad`) orders the nodes once with an explicit stack (no
recursion: a graph 10,000 nodes deep is fine), sums the gradients that meet at a node's output,
undoes broadcasting in one place (:func:`sum_to`), runs tensor hooks, accumulates into leaves out
of place, and frees each node's saved arrays as soon as it is done (unless ``retain_graph``).
"""

from __future__ import annotations

import weakref

import numpy as np

from .grad_mode import is_grad_enabled
from .hooks import RemovableHandle

__all__ = ["Function", "Context", "Node", "AccumulateGrad", "sum_to", "backward", "grad"]


class Node:
    """One node of the backward graph: ``Tensor.grad_fn`` (PyTorch's ``torch.autograd.graph.Node``).

    ``next_functions`` is a tuple with one ``(node, output_index)`` pair per input of the operation:
    the node that made that input (an :class:`AccumulateGrad` for a leaf), or ``(None, 0)`` for an
    input that needs no gradient.
    """

    __slots__ = ()

    def name(self) -> str:
        return type(self).__name__

    def __repr__(self) -> str:
        return f"<{self.name()} object at {id(self):#x}>"


class AccumulateGrad(Node):
    """The node of a leaf tensor that requires grad: backward adds its gradient into
    ``variable.grad``."""

    __slots__ = ("variable", "__weakref__")
    next_functions = ()

    def __init__(self, variable):
        self.variable = variable

    @property
    def _meta(self):
        a = self.variable.array
        return ((a.shape, a.dtype),)


class Context(Node):
    """What a ``forward`` leaves for its ``backward``, and, once recorded, the graph node itself
    (as in PyTorch, a custom Function's ``ctx`` is its ``grad_fn``).

    ``needs_input_grad`` is a tuple of bools, one per positional input, so a backward can skip the
    gradients nobody asked for. Anything else a forward sets on ctx lives in ``__dict__``, which
    backward clears (with ``saved``) when it is done unless asked to retain the graph.
    """

    __slots__ = ("saved", "needs_input_grad", "next_functions", "_fn", "_meta", "_versions",
                 "__dict__", "__weakref__")
    # rarely set, so class-level defaults (an instance sets them in its __dict__)
    _hooks = None  # {output index: hooks of the tensor that is that output}
    _retain = None  # {output index: weak reference to a tensor that retains its grad}
    _freed = False  # backward has run and dropped the saved arrays
    _pre_hooks = None  # {handle id: hook(grad_outputs)}, see register_prehook
    _post_hooks = None  # {handle id: hook(grad_inputs, grad_outputs)}, see register_hook

    def __init__(self):
        self.saved = ()
        self.needs_input_grad = ()

    def save_for_backward(self, *arrays) -> None:
        self.saved = arrays

    def name(self) -> str:
        return self._fn.__name__ + "Backward"

    def register_prehook(self, fn):
        """Call ``fn(grad_outputs)`` before this node's backward (PyTorch's
        ``Node.register_prehook``): ``grad_outputs`` is a tuple of Tensors, None for an output no
        gradient reached; a returned tuple replaces them. Returns a removable handle."""
        if self._pre_hooks is None:
            self._pre_hooks = {}
        handle = RemovableHandle(self._pre_hooks)
        self._pre_hooks[handle.id] = fn
        return handle

    def register_hook(self, fn):
        """Call ``fn(grad_inputs, grad_outputs)`` after this node's backward (PyTorch's
        ``Node.register_hook``): ``grad_inputs`` holds the gradients it computed for its inputs; a
        returned tuple replaces them. Returns a removable handle."""
        if self._post_hooks is None:
            self._post_hooks = {}
        handle = RemovableHandle(self._post_hooks)
        self._post_hooks[handle.id] = fn
        return handle


class Function:
    """Base class of every differentiable operation (see the module docstring)."""

    @staticmethod
    def forward(ctx: Context, *arrays, **params):  # pragma: no cover - abstract
        raise NotImplementedError("a Function subclass must define forward")

    @staticmethod
    def backward(ctx: Context, *grad_outputs):  # pragma: no cover - abstract
        raise NotImplementedError("a Function subclass must define backward")

    @classmethod
    def apply(cls, *inputs, **params):
        """Run forward on the inputs (Tensors, arrays or scalars) and record the node if needed.

        Returns a Tensor, or a tuple of Tensors when forward returned a tuple of arrays.
        """
        arrays = []
        needs = []
        any_grad = False
        record = is_grad_enabled()
        tensors = []
        for x in inputs:
            if isinstance(x, Tensor):
                arrays.append(x.array)
                tensors.append(x)
                rg = record and x.requires_grad
                needs.append(rg)
                any_grad = any_grad or rg
            else:
                arrays.append(x)
                needs.append(False)
        ctx = Context()
        ctx.needs_input_grad = tuple(needs)
        if forward_wrapper is None:
            out = cls.forward(ctx, *arrays, **params)
        else:  # mixed precision (striate.amp.autocast) decides the dtypes the forward sees
            out = forward_wrapper(cls, ctx, arrays, params)
        multi = type(out) is tuple
        results = tuple(Tensor(o) for o in out) if multi else (Tensor(out),)
        for i, r in enumerate(results):
            if r.array.base is not None:  # a view of an input shares its version counter
                root = _root(r.array)
                for x in tensors:
                    if _root(x.array) is root:
                        r._version = x._version
                        r._is_view = True
                        # how to make this view again, for a recorded in-place write through it
                        # (Tensor._record_view_inplace, PyTorch's CopySlices)
                        r._view_of = (x, cls, inputs, params, i if multi else None)
                        break
        if any_grad:
            ctx._fn = cls
            ctx.next_functions = tuple([_edge(x) if n else _NO_EDGE
                                        for x, n in zip(inputs, needs)])
            ctx._meta = tuple([(r.array.shape, r.array.dtype) for r in results])
            for i, r in enumerate(results):
                # an integer or bool output (a cast, argmax indices) has no gradient
                if r.array.dtype.kind in "fc":
                    r.requires_grad = True
                    r._node = ctx
                    r._out_index = i
            # each tensor's version now; backward compares (cheap), and only on a change looks
            # whether the context kept that tensor's memory
            ctx._versions = tuple([(t._version, t._version[0], t.array)
                                   for t in (*tensors, *results)])
        if _trace_hook is not None:
            _trace_hook(cls, inputs, params, results)
        return results if multi else results[0]


# set by striate.jit while it records a forward: called as hook(cls, inputs, params, outputs)
# after each op; None otherwise, so an op pays one global read for it
_trace_hook = None


_NO_EDGE = (None, 0)

# ``fn(cls, ctx, arrays, params) -> output`` that runs every Function's forward instead of
# ``cls.forward(ctx, *arrays, **params)``, or None; ``striate.amp`` installs one (the layers
# above cannot be imported from here, so they hook in)
forward_wrapper = None


def _edge(t) -> tuple:
    """The ``(node, output_index)`` a gradient for tensor ``t`` flows into."""
    node = t._node
    if node is not None:
        return (node, t._out_index)
    return (_accumulator(t), 0)


def _accumulator(t) -> AccumulateGrad:
    """The leaf's AccumulateGrad node: one per leaf while a graph holds it (the leaf keeps only a
    weak reference, so no cycle outlives the graph)."""
    ref = t._acc
    acc = ref() if ref is not None else None
    if acc is None:
        acc = AccumulateGrad(t)
        t._acc = weakref.ref(acc)
    return acc


def _root(a):
    """The object that owns a's memory: the end of its chain of ``.base``s (views of one array
    share it)."""
    while True:
        b = getattr(a, "base", None)
        if b is None:
            return a
        a = b


def _collect(obj, roots: set, depth: int) -> None:
    """Add the memory owners (by id) of the arrays in obj to roots, looking ``depth`` levels
    into tuples, lists and dicts (a kernel's cache)."""
    if isinstance(obj, np.ndarray):
        roots.add(id(_root(obj)))
    elif depth and isinstance(obj, (tuple, list)):
        for o in obj:
            _collect(o, roots, depth - 1)
    elif depth and isinstance(obj, dict):
        for o in obj.values():
            _collect(o, roots, depth - 1)


def _check_versions(ctx) -> None:
    """Raise if a tensor whose memory ctx's node kept for its backward changed in place since
    (PyTorch raises the same way)."""
    changed = [a for counter, version, a in ctx._versions if counter[0] != version]
    if not changed:
        return
    kept: set = set()
    _collect(ctx.saved, kept, 1)
    _collect({k: v for k, v in ctx.__dict__.items() if k not in ("_hooks", "_retain")}, kept, 2)
    if any(id(_root(a)) in kept for a in changed):
        raise RuntimeError(
            f"backward: one of the variables needed for gradient computation has been modified "
            f"by an inplace operation: an array that {ctx._fn.__name__} saved for its gradient "
            "was changed by an in-place write (add_, mul_, copy_, an optimizer step, ...) after "
            "the forward; change a copy (clone()) instead, or change it after backward"
        )


def sum_to(grad: np.ndarray, shape: tuple) -> np.ndarray:
    """Sum ``grad`` down to ``shape``: the gradient of broadcasting ``shape`` up to grad's shape."""
    if grad.shape == shape:
        return grad
    lead = grad.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        i + lead for i, n in enumerate(shape) if n == 1 and grad.shape[i + lead] != 1
    )
    g = grad.sum(axis=axes, keepdims=True) if axes else grad
    if lead:
        g = g.reshape(g.shape[lead:])
    return g.reshape(shape)


def _topological_order(roots) -> list:
    """Nodes reachable from ``roots``, each before every node it feeds a gradient to."""
    order = []
    visited = set()
    stack = [(n, False) for n in roots]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if node in visited:
            continue
        visited.add(node)
        stack.append((node, True))
        for nxt, _ in node.next_functions:
            if nxt is not None and nxt not in visited:
                stack.append((nxt, False))
    order.reverse()  # post-order reversed: outputs first, leaves last
    return order


def _root_gradient(t, g, fname: str) -> np.ndarray:
    if not t.requires_grad:
        raise RuntimeError(
            f"{fname}: the tensor does not require grad and has no graph; "
            "did you compute it under no_grad() or from tensors without requires_grad=True?"
        )
    if g is None:
        if t.array.size != 1:
            raise RuntimeError(
                f"{fname}: grad can be implicitly created only for a tensor with one element, "
                f"got shape {tuple(t.shape)}; pass a gradient of that shape"
            )
        return np.ones_like(t.array)
    g = g.array if isinstance(g, Tensor) else np.asarray(g, dtype=t.dtype)
    if g.shape != t.shape:
        raise ValueError(f"{fname}: grad has shape {g.shape} but the tensor has shape {t.shape}")
    return g


def _run(roots, root_grads, retain_graph: bool, capture=None) -> None:
    """The backward engine: walk the graph from ``roots`` (tensors) once, outputs first.

    Gradients meeting at a node's output are summed (undoing broadcasting with :func:`sum_to`
    as they arrive), the output's hooks run, then the node's backward. Leaves accumulate into
    ``.grad``; with ``capture`` (a dict ``(node, index) -> None``, for :func:`grad`) the
    gradients reaching those outputs are stored there instead and no ``.grad`` is touched.
    """
    grads = {}  # node -> list with one summed gradient (or None) per output
    handed = set()  # ids of arrays someone else holds: the caller's gradients, earlier .grad's
    for t, g in zip(roots, root_grads):
        node, i = _edge(t)
        handed.add(id(g))
        gl = grads.setdefault(node, [None] * len(node._meta))
        gl[i] = g if gl[i] is None else gl[i] + g
    for node in _topological_order(list(grads)):
        gl = grads.pop(node, None)
        if gl is None:
            continue
        if type(node) is AccumulateGrad:
            t = node.variable
            g = gl[0]
            for hook in t._hooks:
                r = hook(Tensor(g))
                if r is not None:
                    g = r.array if isinstance(r, Tensor) else np.asarray(r)
            if capture is not None:
                if (node, 0) in capture:
                    capture[(node, 0)] = g
                continue
            _accumulate(t, g, handed)
            for hook in t._post_acc_hooks:
                hook(t)
            continue
        if node._hooks is not None or node._retain is not None:
            _output_hooks(node, gl, handed, capture is None)
        if node._pre_hooks:
            gl = _node_pre_hooks(node, gl)
        if capture is not None:
            for i, g in enumerate(gl):
                if (node, i) in capture:
                    capture[(node, i)] = g
        if node._freed:
            raise RuntimeError(
                "backward: trying to backward through the graph a second time; the saved arrays "
                "were freed after the first backward. Use backward(retain_graph=True) the "
                "first time"
            )
        _check_versions(node)
        meta = node._meta
        if len(meta) == 1 and gl[0] is not None:
            in_grads = node._fn.backward(node, gl[0])
        else:
            # as PyTorch (materialize_grads): an output no gradient reached gets zeros
            in_grads = node._fn.backward(node, *(
                np.zeros(m[0], m[1]) if g is None else g for g, m in zip(gl, meta)))
        if not isinstance(in_grads, tuple):
            in_grads = (in_grads,)
        if node._post_hooks:
            in_grads = _node_post_hooks(node, in_grads, gl)
        for (nxt, i), pg in zip(node.next_functions, in_grads):
            if nxt is None or pg is None:
                continue
            shape, dtype = nxt._meta[i]
            if pg.shape != shape:
                pg = sum_to(pg, shape)
            if pg.dtype != dtype:
                pg = pg.astype(dtype, copy=False)
            ngl = grads.get(nxt)
            if ngl is None:
                ngl = grads[nxt] = [None] * len(nxt._meta)
                ngl[i] = pg
            else:
                prev = ngl[i]
                ngl[i] = pg if prev is None else prev + pg
        if not retain_graph:
            node.saved = None
            node.__dict__.clear()
            node._versions = ()
            node._freed = True


def _output_hooks(node, gl, handed, keep: bool) -> None:
    """Run the hooks registered on a non-leaf tensor's gradient, and retain it if asked."""
    for i in range(len(gl)):
        g = gl[i]
        if g is None:
            continue
        for hook in (node._hooks or {}).get(i, ()):
            r = hook(Tensor(g))
            if r is not None:
                g = r.array if isinstance(r, Tensor) else np.asarray(r)
        gl[i] = g
        ref = (node._retain or {}).get(i)
        t = ref() if ref is not None else None
        if t is not None and keep:
            _accumulate(t, g, handed)


def _wrap(grads) -> tuple:
    return tuple(None if g is None else Tensor(g) for g in grads)


def _unwrap(result, like, node, what: str) -> list:
    """A hook's returned gradients as arrays, checked against the ones they replace."""
    if not isinstance(result, (tuple, list)) or len(result) != len(like):
        raise RuntimeError(
            f"backward: a hook of {node.name()} returned {result!r}; expected a tuple of "
            f"{len(like)} {what} (Tensors or None)"
        )
    out = []
    for i, (r, old) in enumerate(zip(result, like)):
        if r is not None:
            r = r.array if isinstance(r, Tensor) else np.asarray(r)
            if old is not None and r.shape != old.shape:
                raise RuntimeError(
                    f"backward: a hook of {node.name()} has changed the size of {what}[{i}]: "
                    f"{tuple(old.shape)} -> {tuple(r.shape)}"
                )
        out.append(r)
    return out


def _node_pre_hooks(node, gl) -> list:
    """Run ``node.register_prehook`` hooks on the gradients of its outputs."""
    for hook in list(node._pre_hooks.values()):
        r = hook(_wrap(gl))
        if r is not None:
            gl = _unwrap(r, gl, node, "grad_outputs")
    return gl


def _node_post_hooks(node, in_grads, gl) -> tuple:
    """Run ``node.register_hook`` hooks on the gradients its backward computed."""
    grad_outputs = _wrap(gl)
    for hook in list(node._post_hooks.values()):
        r = hook(_wrap(in_grads), grad_outputs)
        if r is not None:
            in_grads = tuple(_unwrap(r, in_grads, node, "grad_inputs"))
    return in_grads


def _accumulate(t, g, handed: set) -> None:
    """Add g into t.grad, never in place, so that one array returned by a backward for two
    inputs is never aliased into two .grad's."""
    if t.grad is None:
        # optimizers and clipping update .grad in place, so it must be an array of its own: not a
        # read-only broadcast view, not a view of another array, and not the one array a
        # backward returned for two inputs (Add's g, g)
        if id(g) in handed or g.base is not None or not g.flags.writeable:
            g = g.copy()
        handed.add(id(g))
        t.grad = Tensor(g)
    else:
        t.grad = Tensor(t.grad.array + g)


def _as_tuple(x) -> tuple:
    if x is None:
        return ()
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def backward(tensors, grad_tensors=None, retain_graph: bool | None = None,
             inputs=None) -> None:
    """Backpropagate from ``tensors``: accumulate d(sum of tensors . grads)/d(leaf) into each
    leaf's ``.grad`` (``torch.autograd.backward``); with ``inputs``, into those tensors' ``.grad``
    only (leaves or not; one the graph does not reach keeps its ``.grad``)."""
    tensors = _as_tuple(tensors)
    grads = _as_tuple(grad_tensors) or (None,) * len(tensors)
    if len(grads) != len(tensors):
        raise ValueError(f"backward: got {len(tensors)} tensors but {len(grads)} gradients")
    root_grads = [_root_gradient(t, g, "backward") for t, g in zip(tensors, grads)]
    if inputs is None:
        _run(tensors, root_grads, bool(retain_graph))
        return
    inputs = list({id(t): t for t in _as_tuple(inputs)}.values())
    if not inputs:
        raise RuntimeError("backward: the inputs argument cannot be empty")
    for i, t in enumerate(inputs):
        if not isinstance(t, Tensor) or not t.requires_grad:
            raise RuntimeError(f"backward: inputs[{i}] does not require grad "
                               "(requires_grad=False), so no gradient can be accumulated into it")
    edges = [_edge(t) for t in inputs]
    capture = dict.fromkeys(edges)
    _run(tensors, root_grads, bool(retain_graph), capture)
    handed = {id(g) for g in root_grads}
    for t, e in zip(inputs, edges):
        if capture[e] is not None:
            _accumulate(t, capture[e], handed)


def grad(outputs, inputs, grad_outputs=None, retain_graph: bool | None = None,
         create_graph: bool = False, allow_unused: bool | None = None,
         materialize_grads: bool = False) -> tuple:
    """The gradients of ``outputs`` with respect to ``inputs``, returned, not accumulated
    (``torch.autograd.grad``, first order): no tensor's ``.grad`` changes.

    Args:
        outputs: a tensor or sequence of tensors to differentiate.
        inputs: a tensor or sequence of tensors that require grad (leaves or not).
        grad_outputs: the vector of the vector-Jacobian product, one per output (None: ones, for
            one-element outputs).
        retain_graph: keep the saved arrays for another backward (default: False).
        create_graph: must be False: higher-order gradients are not supported.
        allow_unused: return None for an input the outputs do not depend on instead of raising.
        materialize_grads: return zeros instead of None for unused inputs.

    Returns:
        A tuple with one Tensor (or None) per input.
    """
    if create_graph:
        raise RuntimeError(
            "grad: create_graph=True asks for a differentiable gradient (higher-order "
            "derivatives), which striate does not support; gradients are computed on arrays"
        )
    if materialize_grads:
        allow_unused = True
    outputs = _as_tuple(outputs)
    inputs = _as_tuple(inputs)
    for i, t in enumerate(inputs):
        if not isinstance(t, Tensor) or not t.requires_grad:
            raise RuntimeError(f"grad: input {i} does not require grad (requires_grad=False)")
    gos = _as_tuple(grad_outputs) or (None,) * len(outputs)
    if len(gos) != len(outputs):
        raise ValueError(f"grad: got {len(outputs)} outputs but {len(gos)} grad_outputs")
    root_grads = [_root_gradient(t, g, "grad") for t, g in zip(outputs, gos)]
    edges = [_edge(t) for t in inputs]
    capture = dict.fromkeys(edges)
    _run(outputs, root_grads, bool(retain_graph), capture)
    result = []
    for i, (t, e) in enumerate(zip(inputs, edges)):
        g = capture[e]
        if g is None:
            if not allow_unused:
                raise RuntimeError(
                    f"grad: one of the differentiated Tensors (input {i}) appears to not have "
                    "been used in the graph. Set allow_unused=True if this is the desired "
                    "behavior."
                )
            result.append(Tensor(np.zeros_like(t.array)) if materialize_grads else None)
        else:
            result.append(Tensor(g.copy() if g.base is not None or not g.flags.writeable else g))
    return tuple(result)


from .tensor import Tensor  # noqa: E402 - tensor.py builds on this module
