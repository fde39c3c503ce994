"""Modules that run a static graph: :class:`GraphModule` (any graph, its weights as parameters)
and :class:`TracedModule` (what ``jit.trace`` returns: the traced model's own parameters)."""

from __future__ import annotations

import numpy as np

from ..autograd.grad_mode import is_grad_enabled
from ..autograd.tensor import Tensor
from ..nn.module import Module
from ..nn.parameter import Parameter
from .graph import Graph, nest, run_graph

__all__ = ["GraphModule", "TracedModule"]


class GraphModule(Module):
    """A Module whose forward runs ``graph``.

    Without gradients (``no_grad``, or nothing requires grad) the nodes run on raw arrays, with
    the buffer plan of ``optimize_for_inference`` when there is one; with gradients they run
    through the same autograd Functions as eager code, so the module trains.

    Args:
        graph: the graph.
        model: the module whose parameters and buffers the graph names (shared, with their
            sub-modules, so ``state_dict`` keys are the model's); None builds sub-modules from
            the graph's dotted constant names, parameters for ``graph.params``, the other named
            constants as buffers.
    """

    def __init__(self, graph: Graph, model: Module | None = None):
        super().__init__()
        self.graph = graph
        if model is not None:
            for name, child in model._modules.items():
                self.add_module(name, child)
            for name, p in model._parameters.items():
                self.register_parameter(name, p)
            for name, b in model._buffers.items():
                self.register_buffer(name, b, name not in model._non_persistent_buffers_set)
            self.training = model.training
        else:
            for name, value in graph.constants.items():
                *path, leaf = name.split(".")
                if (not isinstance(value, np.ndarray) or name.startswith("const_")
                        or not leaf.isidentifier()
                        or not all(p.isidentifier() or p.isdigit() for p in path)):
                    continue  # an unnamed or derived constant stays the graph's own
                owner = self
                for part in path:
                    child = owner._modules.get(part)
                    if child is None:
                        child = Module()
                        owner.add_module(part, child)
                    owner = child
                if name in graph.params:
                    owner.register_parameter(leaf, Parameter(value))
                else:
                    owner.register_buffer(leaf, Tensor(value))

    @property
    def code(self) -> str:
        """The graph as text, one node a line (PyTorch's ``.code`` shows Python; this shows
        the ops with their attributes and the module each came from)."""
        return str(self.graph)

    def _live(self) -> dict:
        live = dict(self.named_parameters())
        live.update(self.named_buffers())
        return live

    def forward(self, *inputs):
        g = self.graph
        if len(inputs) != len(g.inputs):
            raise TypeError(f"{type(self).__name__}: expected {len(g.inputs)} input(s), got "
                            f"{len(inputs)}")
        tensors = [x if isinstance(x, Tensor) else Tensor(np.asarray(x)) for x in inputs]
        for k, (name, t) in enumerate(zip(g.inputs, tensors)):
            shape, dtype = g.meta[name]
            if t.ndim != len(shape) or any(d is not None and d != e
                                           for d, e in zip(shape[1:], t.shape[1:])):
                raise ValueError(
                    f"{type(self).__name__}: input {k} has shape {tuple(t.shape)} but the graph "
                    f"was traced for {tuple(shape)} (only the first, batch dim may change)")
        live = self._live()
        grad = is_grad_enabled() and (any(t.requires_grad for t in live.values())
                                      or any(t.requires_grad for t in tensors))
        if grad:
            consts = {k: Tensor(v) if isinstance(v, np.ndarray) else v
                      for k, v in g.constants.items()}
            consts.update(live)
            outs = run_graph(g, tensors, consts, grad=True)
        else:
            consts = dict(g.constants)
            consts.update({k: t.array for k, t in live.items()})
            outs = [Tensor(o) for o in run_graph(g, [t.array for t in tensors], consts)]
        return nest(g.output_tree, outs)


class TracedModule(GraphModule):
    """What :func:`striate.jit.trace` returns: the traced model's graph, run with the model's
    own (shared) parameters. ``data_dependent`` lists the conversions of tensors to Python
    values seen while tracing (empty: the control flow did not look at the data)."""

    data_dependent: list = []
