"""``Function``: one node of the graph, and the backward pass that walks them.

An operation is a subclass with two static methods on raw arrays::

    forward(ctx, *arrays, **params) -> array     # saves what backward needs on ctx
    backward(ctx, grad_out) -> grad per input     # local gradient times upstream gradient

``Function.apply(*inputs, **params)`` runs forward on the inputs' arrays and, when grad mode is on
and an input requires grad, records the node on the output tensor. ``backward`` below walks the
graph once in reverse topological order with an explicit stack (no recursion: a graph 10,000 nodes
deep is fine), sums the gradients that meet at a node, undoes broadcasting in one place
(:func:`sum_to`), and frees each node's saved arrays as soon as it is done.
"""

from __future__ import annotations

import numpy as np

from .grad_mode import is_grad_enabled

__all__ = ["Function", "Context", "sum_to", "backward"]


class Context:
    """What a ``forward`` leaves for its ``backward``: saved arrays and any other attributes.

    ``needs_input_grad`` is a tuple of bools, one per positional input, so a backward can skip the
    gradients nobody asked for.
    """

    __slots__ = ("saved", "needs_input_grad", "__dict__")

    def __init__(self):
        self.saved = ()
        self.needs_input_grad = ()

    def save_for_backward(self, *arrays) -> None:
        self.saved = arrays


class Function:
    """Base class of every differentiable operation (see the module docstring)."""

    @staticmethod
    def forward(ctx: Context, *arrays, **params):  # pragma: no cover - abstract
        raise NotImplementedError("a Function subclass must define forward")

    @staticmethod
    def backward(ctx: Context, grad_out):  # pragma: no cover - abstract
        raise NotImplementedError("a Function subclass must define backward")

    @classmethod
    def apply(cls, *inputs, **params):
        """Run forward on the inputs (Tensors, arrays or scalars) and record the node if needed."""
        from .tensor import Tensor

        arrays = []
        needs = []
        any_grad = False
        record = is_grad_enabled()
        for x in inputs:
            if isinstance(x, Tensor):
                arrays.append(x.array)
                rg = record and x.requires_grad
                needs.append(rg)
                any_grad = any_grad or rg
            else:
                arrays.append(x)
                needs.append(False)
        ctx = Context()
        ctx.needs_input_grad = tuple(needs)
        out = cls.forward(ctx, *arrays, **params)
        result = Tensor(out)
        tensors = [x for x in inputs if isinstance(x, Tensor)]
        if out.base is not None:  # a view of an input shares its version counter
            root = _root(out)
            for x in tensors:
                if _root(x.array) is root:
                    result._version = x._version
                    break
        # an integer or bool output (a cast to int64, say) has no gradient: it is not recorded
        if any_grad and result.array.dtype.kind in "fc":
            result.requires_grad = True
            result._fn = cls
            result._ctx = ctx
            result._parents = tuple(
                x if isinstance(x, Tensor) and n else None for x, n in zip(inputs, needs)
            )
            # each tensor's version now; backward compares (cheap), and only on a change looks
            # whether the context kept that tensor's memory
            ctx._versions = tuple((t._version, t._version[0], t.array)
                                  for t in (*tensors, result))
        return result


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


def _check_versions(t) -> None:
    """Raise if a tensor whose memory t's node kept for its backward changed in place since
    (PyTorch raises the same way)."""
    ctx = t._ctx
    changed = [a for counter, version, a in getattr(ctx, "_versions", ())
               if counter[0] != version]
    if not changed:
        return
    kept: set = set()
    _collect(ctx.saved, kept, 1)
    _collect({k: v for k, v in ctx.__dict__.items() if k != "_versions"}, kept, 2)
    if any(id(_root(a)) in kept for a in changed):
        raise RuntimeError(
            f"backward: an array that {t._fn.__name__} saved for its gradient was changed by an "
            "in-place operation (add_, mul_, copy_, item assignment, ...) after the forward; "
            "change a copy (clone()) instead, or change it after backward"
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


def _topological_order(root) -> list:
    """Tensors reachable from ``root`` that require grad, each after every tensor it feeds."""
    order = []
    visited = set()
    stack = [(root, False)]
    while stack:
        t, expanded = stack.pop()
        if expanded:
            order.append(t)
            continue
        if id(t) in visited:
            continue
        visited.add(id(t))
        stack.append((t, True))
        for p in t._parents:
            if p is not None and id(p) not in visited:
                stack.append((p, False))
    order.reverse()  # post-order reversed: outputs first, leaves last
    return order


def backward(root, grad=None, retain_graph: bool = False) -> None:
    """Backpropagate from ``root``: accumulate d(root)/d(leaf) into each leaf's ``.grad``."""
    from .tensor import Tensor

    if not root.requires_grad:
        raise RuntimeError(
            "backward: the tensor does not require grad and has no graph; "
            "did you compute it under no_grad() or from tensors without requires_grad=True?"
        )
    if grad is None:
        if root.array.size != 1:
            raise RuntimeError(
                f"backward: grad can be implicitly created only for a tensor with one element, "
                f"got shape {tuple(root.shape)}; pass grad= of that shape"
            )
        g0 = np.ones_like(root.array)
    else:
        g0 = grad.array if isinstance(grad, Tensor) else np.asarray(grad, dtype=root.dtype)
        if g0.shape != root.shape:
            raise ValueError(
                f"backward: grad has shape {g0.shape} but the tensor has shape {root.shape}"
            )

    grads = {id(root): g0}
    handed = {id(g0)}  # arrays someone else holds: the caller's gradient, earlier .grad's
    for t in _topological_order(root):
        g = grads.pop(id(t), None)
        if g is None:
            continue
        for hook in t._hooks:
            r = hook(Tensor(g))
            if r is not None:
                g = r.array if isinstance(r, Tensor) else np.asarray(r)
        if t._fn is None or t._retains_grad:
            # a leaf (or a tensor asked to retain its grad): accumulate, never in place, so that
            # one array returned by a backward for two inputs is never aliased into two .grad's
            if t.grad is None:
                # optimizers and clipping update .grad in place, so it must be an array of its
                # own: not a read-only broadcast view, not a view of another array, and not the
                # one array a backward returned for two inputs (Add's g, g)
                if id(g) in handed or g.base is not None or not g.flags.writeable:
                    g = g.copy()
                handed.add(id(g))
                t.grad = Tensor(g)
            else:
                t.grad = Tensor(t.grad.array + g)
        if t._fn is None:
            continue
        if t._ctx is None:
            raise RuntimeError(
                "backward: trying to backward through the graph a second time; the saved arrays "
                "were freed after the first backward. Use backward(retain_graph=True) the "
                "first time"
            )
        _check_versions(t)
        in_grads = t._fn.backward(t._ctx, g)
        if not isinstance(in_grads, tuple):
            in_grads = (in_grads,)
        for p, pg in zip(t._parents, in_grads):
            if p is None or pg is None:
                continue
            if pg.shape != p.array.shape:
                pg = sum_to(pg, p.array.shape)
            if pg.dtype != p.array.dtype:
                pg = pg.astype(p.array.dtype, copy=False)
            k = id(p)
            prev = grads.get(k)
            grads[k] = pg if prev is None else prev + pg
        if not retain_graph:
            t._ctx = None
