"""``striate.jit.trace``: run a model once on example inputs and record every op into a graph.

The recording hook is ``striate.autograd.function._trace_hook``: ``Function.apply`` calls it
after each op while a trace is running (and reads one global otherwise). Values are followed by
the identity of their Tensors (and of their arrays, so ``detach()`` keeps the link); a tensor
the hook has not seen is a parameter or buffer of the model (named as in its ``state_dict``) or
else a constant captured with its value.

A trace records the ops that ran, not the Python that chose them: an ``if`` on a tensor's value
takes one branch for the example input, and the graph keeps only that one. Converting a tensor
to a Python value (``bool``, ``item``, ``float``, ``int``, ``tolist``) during the trace is how
such a choice shows, so the tracer watches those and warns (:class:`TracerWarning`) with the
line of the model that did it.
"""

from __future__ import annotations

import os
import sys
import threading
import warnings

import numpy as np

from ..autograd import function as _function
from ..autograd.grad_mode import no_grad
from ..autograd.tensor import Tensor
from ..ops.normalization import BatchNorm
from .graph import Graph, Node, op_name

__all__ = ["trace", "TracerWarning", "TracingCheckError"]

_PKG = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_LOCK = threading.Lock()


class TracerWarning(UserWarning):
    """A trace may not generalise: the model's control flow or values depend on its input."""


class TracingCheckError(RuntimeError):
    """The traced graph does not reproduce the model's output on the example input."""


class _Recorder:
    def __init__(self, model):
        self.thread = threading.get_ident()
        self.graph = Graph()
        self.names: dict = {}  # id(Tensor) -> value name
        self.arrays: dict = {}  # id(array) -> value name (params, buffers, recorded outputs)
        self.keep: list = []  # every Tensor and array seen, alive so that ids stay unique
        self.known: dict = {}  # id(array) -> state_dict name, for parameters and buffers
        self.learnable: set = set()
        self.scope: list = []
        self.sites: list = []
        self.count = 0
        if model is not None and hasattr(model, "named_parameters"):
            for name, p in model.named_parameters():
                self.known.setdefault(id(p.array), name)
                self.learnable.add(name)
            for name, b in model.named_buffers():
                self.known.setdefault(id(b.array), name)

    # ---- values -------------------------------------------------------------------------------

    def _new(self) -> str:
        name = str(self.count)
        self.count += 1
        return name

    def _constant(self, value) -> str:
        name = f"const_{len(self.graph.constants)}"
        self.graph.constants[name] = value
        return name

    def value_of_array(self, a: np.ndarray) -> str:
        name = self.arrays.get(id(a))
        if name is not None:
            return name
        g = self.graph
        known = self.known.get(id(a))
        if known is not None:
            name = known
            g.constants[name] = a
            if name in self.learnable:
                g.params.add(name)
        else:
            name = self._constant(a)
        g.meta[name] = (a.shape, a.dtype)
        self.arrays[id(a)] = name
        self.keep.append(a)
        return name

    def value_of(self, x):
        if x is None:
            return None
        if isinstance(x, Tensor):
            name = self.names.get(id(x))
            if name is None:
                name = self.value_of_array(x.array)
                self.names[id(x)] = name
                self.keep.append(x)
            return name
        if isinstance(x, np.ndarray):
            return self.value_of_array(x)
        return self._constant(x)  # a Python number: kept as it is (NumPy's scalar promotion)

    def add_input(self, t: Tensor) -> str:
        name = f"input_{len(self.graph.inputs)}"
        self.graph.inputs.append(name)
        self.graph.meta[name] = (t.shape, t.array.dtype)
        self.names[id(t)] = name
        self.arrays[id(t.array)] = name
        self.keep.append(t)
        return name

    def alias(self, t: Tensor, same_as: Tensor) -> None:
        """``t`` holds ``same_as``'s value from now on: an in-place write (``x += y``) makes x
        the op's result (the autograd layer calls this; see ``Tensor._record_inplace``)."""
        if threading.get_ident() != self.thread:
            return
        name = self.value_of(same_as)
        self.names[id(t)] = name
        self.arrays[id(t.array)] = name
        self.keep.append(t)

    # ---- the hook -----------------------------------------------------------------------------

    def __call__(self, cls, inputs, params, results):
        if threading.get_ident() != self.thread:  # a loader thread's work is not the model's
            return
        attrs = dict(params)
        ins = list(inputs)
        if cls is BatchNorm:
            stats = attrs.pop("stats")
            if stats.from_batch:
                attrs["training"] = True
            else:
                ins += [stats.mean, stats.var]
        names = [self.value_of(x) for x in ins]
        outs = []
        for r in results:
            name = self._new()
            self.names[id(r)] = name
            self.arrays[id(r.array)] = name
            self.keep.append(r)
            self.graph.meta[name] = (r.shape, r.array.dtype)
            outs.append(name)
        op = op_name(cls)
        if op == "reshape" and ins[0] is not None:
            _mark_batch(attrs, inputs[0].shape, results[0].shape)
        self.graph.nodes.append(Node(op, names, outs, attrs, cls,
                                    self.scope[-1] if self.scope else ""))

    # ---- data-dependent control flow ----------------------------------------------------------

    def converted(self, what: str) -> None:
        if threading.get_ident() != self.thread:
            return
        frame = sys._getframe(2)
        inner = os.path.join(_PKG, "")
        while frame is not None and frame.f_code.co_filename.startswith(
                (os.path.join(inner, "autograd"), os.path.join(inner, "ops"),
                 os.path.join(inner, "jit"))):
            frame = frame.f_back
        where = f"{frame.f_code.co_filename}:{frame.f_lineno}" if frame else "?"
        self.sites.append((what, where))


def _mark_batch(attrs: dict, in_shape, out_shape) -> None:
    """A reshape that keeps the leading (batch) dim says so, so the graph runs on any batch."""
    if len(in_shape) and len(out_shape) and in_shape[0] == out_shape[0]:
        attrs["keep_batch"] = True


_CONVERSIONS = ("__bool__", "item", "tolist", "__float__", "__int__", "__index__")


class _Watch:
    """Tensor's conversions to Python values report to the recorder while a trace runs."""

    def __init__(self, rec: _Recorder):
        self.rec = rec
        self.saved = {}

    def __enter__(self):
        for name in _CONVERSIONS:
            original = Tensor.__dict__[name]
            self.saved[name] = original
            setattr(Tensor, name, self._wrap(name, original))
        return self

    def _wrap(self, name, original):
        rec = self.rec
        label = {"__bool__": "bool()", "__float__": "float()", "__int__": "int()",
                 "__index__": "an index"}.get(name, f".{name}()")

        def converted(self, *a, **k):
            rec.converted(label)
            return original(self, *a, **k)
        return converted

    def __exit__(self, *exc):
        for name, original in self.saved.items():
            setattr(Tensor, name, original)


class _Scopes:
    """Hooks that keep the dotted path of the module whose forward is running."""

    def __init__(self, model, rec: _Recorder):
        self.handles = []
        if model is None or not hasattr(model, "named_modules"):
            return
        for name, m in model.named_modules():
            if not name:
                continue

            def pre(mod, args, _name=name):
                rec.scope.append(_name)

            def post(mod, args, out):
                rec.scope.pop()
            self.handles += [m.register_forward_pre_hook(pre), m.register_forward_hook(post)]

    def remove(self):
        for h in self.handles:
            h.remove()


def _flatten_outputs(out, rec: _Recorder, where: str, names: list):
    """The output's tensors appended to ``names``; returns the nesting (an index for a tensor,
    a tuple or list of nestings)."""
    if isinstance(out, Tensor):
        names.append(rec.value_of(out))
        return len(names) - 1
    if isinstance(out, (tuple, list)):
        return type(out)(_flatten_outputs(o, rec, where, names) for o in out)
    raise TypeError(f"jit.trace: {where} must return Tensors (in tuples or lists), got "
                    f"{type(out).__name__}")


def _leaves(out) -> list:
    if isinstance(out, Tensor):
        return [out]
    return [t for o in out for t in _leaves(o)]


def record(func, example_inputs) -> tuple[Graph, list, list]:
    """Run ``func(*example_inputs)`` once under the recorder: the graph, the eager outputs and
    the conversions to Python values seen (what, file:line)."""
    if isinstance(example_inputs, Tensor):
        example_inputs = (example_inputs,)
    if not isinstance(example_inputs, (tuple, list)) or not all(
            isinstance(t, Tensor) for t in example_inputs):
        raise TypeError("jit.trace: example_inputs must be a Tensor or a tuple of Tensors, got "
                        f"{type(example_inputs).__name__}")
    model = func if hasattr(func, "named_parameters") else None
    if model is None and hasattr(getattr(func, "__self__", None), "named_parameters"):
        model = func.__self__  # a method of a module (``captioner.scores``): its names
    rec = _Recorder(model)
    for t in example_inputs:
        rec.add_input(t)
    scopes = _Scopes(model, rec)
    with _LOCK:
        if _function._trace_hook is not None:
            raise RuntimeError("jit.trace: a trace is already running (traces do not nest)")
        _function._trace_hook = rec
        try:
            with _Watch(rec), no_grad():
                out = func(*example_inputs)
        finally:
            _function._trace_hook = None
            scopes.remove()
    what = f"{type(func).__name__}.forward" if model is not None else getattr(
        func, "__name__", "the function")
    names: list = []
    tree = _flatten_outputs(out, rec, what, names)
    rec.graph.outputs = names
    rec.graph.output_tree = None if tree == 0 else tree
    return rec.graph, _leaves(out), rec.sites


def trace(func, example_inputs, check_trace: bool = True, check_tolerance: float = 1e-5):
    """Record one forward of ``func`` (a Module or a function of Tensors) into a static graph,
    as ``torch.jit.trace``.

    Args:
        func: the model (its parameters and buffers become the graph's named constants, shared
            with it: training either changes both) or a function.
        example_inputs: a Tensor or a tuple of Tensors; the trace keeps their shapes, except
            that the batch (first) dim may change between calls.
        check_trace: run the graph on the example inputs and compare with the eager outputs.
        check_tolerance: atol and rtol of that comparison.
    Returns:
        a :class:`~striate.jit.TracedModule`, called like the model; ``.graph`` is the graph.
    Warns:
        TracerWarning: when the forward turned a tensor into a Python value (an ``if`` on a
        tensor, ``.item()``): the trace keeps the branch taken for this input only.
    Raises:
        TracingCheckError: the graph's outputs differ from the model's.

    Example:
        >>> import striate
        >>> m = striate.nn.Sequential(striate.nn.Linear(4, 3), striate.nn.ReLU()).eval()
        >>> t = striate.jit.trace(m, striate.randn(2, 4))
        >>> [n.op for n in t.graph.nodes]
        ['linear', 'relu']
    """
    from .module import TracedModule

    graph, outs, sites = record(func, example_inputs)
    if sites:
        where = "; ".join(f"{w} at {s}" for w, s in sites[:3])
        more = f" (and {len(sites) - 3} more)" if len(sites) > 3 else ""
        warnings.warn(
            f"jit.trace: the forward converted a tensor to a Python value ({where}{more}): if "
            "that value chose a branch or a loop count, the trace recorded only the path taken "
            "for the example input and will be wrong for inputs that take another",
            TracerWarning, stacklevel=2)
    traced = TracedModule(graph, func if hasattr(func, "named_parameters") else None)
    traced.data_dependent = list(sites)
    if check_trace:
        ex = (example_inputs,) if isinstance(example_inputs, Tensor) else tuple(example_inputs)
        training = getattr(func, "training", False) and "dropout" in graph.op_counts()
        if not training:
            with no_grad():
                got = traced(*ex)
            got = _leaves(got)
            for k, (a, b) in enumerate(zip(got, outs)):
                if a.shape != b.shape or not np.allclose(a.array, b.array, rtol=check_tolerance,
                                                         atol=check_tolerance):
                    raise TracingCheckError(
                        f"jit.trace: output {k} of the traced graph differs from the model's on "
                        "the example input (an op the tracer cannot see, such as a NumPy "
                        "computation on .array, or randomness)")
    return traced
