"""Graph passes: each takes a :class:`Graph` and returns a new one that computes the same outputs.

- :func:`eliminate_dead_code`: drop nodes whose outputs nobody reads, and unused constants.
- :func:`constant_folding`: run, once, the nodes whose inputs are all constants.
- :func:`fold_batch_norm`: ``batch_norm(conv(x, w, b))`` in eval is one convolution with
  ``w' = w * s`` and ``b' = (b - mean) * s + beta``, ``s = gamma / sqrt(var + eps)`` per output
  channel (likewise after ``linear``): a whole pass over the activations disappears.
- :func:`fuse_activations`: ``relu(conv(...))``, ``relu(linear(...))``, ``relu(a + b)`` become
  one node that applies the ReLU in place on the fresh output, instead of a second array.
- :func:`plan_buffers`: lifetimes of the values; each is dropped after its last reader, and an
  elementwise op whose first input dies there writes its output into that input's memory.

The passes that bake parameters into new constants (folding) freeze them: the optimised graph
keeps the values of the moment, as ``torch.jit.freeze``; re-optimise after training.
"""

from __future__ import annotations

import numpy as np

from .graph import INPLACE_KERNELS, Graph, run_node

__all__ = ["eliminate_dead_code", "constant_folding", "fold_batch_norm", "fuse_activations",
           "plan_buffers", "optimize_for_inference", "planned_peak_bytes"]


def eliminate_dead_code(graph: Graph) -> Graph:
    """The graph without the nodes that no output depends on, nor the constants no node reads."""
    g = graph.copy()
    live = set(g.outputs)
    kept = []
    for node in reversed(g.nodes):
        if any(o in live for o in node.outputs):
            kept.append(node)
            live.update(i for i in node.inputs if i is not None)
    g.nodes = kept[::-1]
    g.constants = {k: v for k, v in g.constants.items() if k in live}
    g.params &= set(g.constants)
    g.meta = {k: v for k, v in g.meta.items()
              if k in live or k in g.inputs or any(k in n.outputs for n in g.nodes)}
    return g


def constant_folding(graph: Graph, include_params: bool = False) -> Graph:
    """Evaluate the nodes whose inputs are all constants and make their outputs constants.

    Args:
        include_params: count the learnable parameters as constants too (freezing them: the
            folded values no longer follow later training). Off by default.
    """
    g = graph.copy()
    frozen = set(g.constants) if include_params else set(g.constants) - g.params
    kept = []
    for node in g.nodes:
        random = node.op in ("dropout", "mask_scale")
        if not random and all(i is None or i in frozen for i in node.inputs):
            out = run_node(node, [None if i is None else g.constants[i] for i in node.inputs])
            outs = out if type(out) is tuple else (out,)
            for name, value in zip(node.outputs, outs):
                g.constants[name] = np.array(value)  # a copy: not a view of a parameter
                frozen.add(name)
        else:
            kept.append(node)
    g.nodes = kept
    return eliminate_dead_code(g)


def _only_reader(users: dict, name: str, graph: Graph) -> bool:
    return len(users.get(name, ())) == 1 and name not in graph.outputs


def fold_batch_norm(graph: Graph) -> Graph:
    """Fold every eval-mode ``batch_norm`` that reads only a ``conv2d``'s (or ``linear``'s)
    output into that op's weight and bias."""
    g = graph.copy()
    producers, users = g.producers(), g.users()
    dropped = set()
    for bn in g.nodes:
        if bn.op != "batch_norm" or bn.attrs.get("training"):
            continue
        x, gamma, beta, mean, var = (bn.inputs + [None, None])[:5]
        prev = producers.get(x)
        if prev is None or prev.op not in ("conv2d", "linear") or not _only_reader(users, x, g):
            continue
        if prev.op == "linear" and len(g.meta[x][0]) != 2:
            continue  # BatchNorm1d on (N, C, L) after a linear: channels are not its features
        w_name = prev.inputs[1]
        b_name = prev.inputs[2] if len(prev.inputs) > 2 else None
        arrays = [g.constants.get(n) if n is not None else None
                  for n in (w_name, b_name, gamma, beta, mean, var)]
        if any(n is not None and n not in g.constants
               for n in (w_name, b_name, gamma, beta, mean, var)):
            continue  # computed weights: not foldable once for all
        w, b, ga, be, mu, va = arrays
        dt = w.dtype
        s = 1.0 / np.sqrt(va.astype(np.float64) + bn.attrs["eps"])
        if ga is not None:
            s = s * ga
        shape = (-1,) + (1,) * (w.ndim - 1)
        w2 = (w * s.reshape(shape)).astype(dt)
        b2 = ((0.0 if b is None else b) - mu) * s + (0.0 if be is None else be)
        stem = w_name.rsplit(".", 1)[0] if "." in w_name else w_name
        wn, bn_name = f"{stem}.weight@bn", f"{stem}.bias@bn"
        g.constants[wn], g.constants[bn_name] = w2, b2.astype(dt)
        g.meta[wn], g.meta[bn_name] = (w2.shape, dt), (b2.shape, dt)
        prev.inputs = [prev.inputs[0], wn, bn_name]
        prev.outputs = list(bn.outputs)
        prev.scope = prev.scope or bn.scope
        dropped.add(id(bn))
    g.nodes = [n for n in g.nodes if id(n) not in dropped]
    return eliminate_dead_code(g)


_FUSABLE = {"conv2d": "conv2d_relu", "linear": "linear_relu", "add": "add_relu"}


def fuse_activations(graph: Graph) -> Graph:
    """Merge each ``relu`` into the ``conv2d``, ``linear`` or ``add`` before it, when the relu is
    that op's only reader: one node, the ReLU applied in place on the op's fresh output."""
    g = graph.copy()
    producers, users = g.producers(), g.users()
    dropped = set()
    for node in g.nodes:
        if node.op != "relu":
            continue
        prev = producers.get(node.inputs[0])
        if prev is None or prev.op not in _FUSABLE or not _only_reader(users, node.inputs[0], g):
            continue
        if prev.op == "add" and any(i not in g.meta or i in g.constants for i in prev.inputs):
            continue  # add of a Python number: keep NumPy's scalar rules in one place
        prev.op = _FUSABLE[prev.op]
        prev.outputs = list(node.outputs)
        dropped.add(id(node))
    g.nodes = [n for n in g.nodes if id(n) not in dropped]
    return eliminate_dead_code(g)


# ops whose output is a fresh array that nobody else holds (not a view of an input)
_FRESH = {"conv2d", "conv2d_relu", "linear", "linear_relu", "batch_norm", "add", "add_relu",
          "mul", "relu", "max_pool2d", "avg_pool2d", "adaptive_avg_pool2d", "cat",
          "conv_transpose2d", "sub", "div"}


def plan_buffers(graph: Graph) -> Graph:
    """Plan memory from the values' lifetimes (first write to last read).

    Every intermediate value is dropped right after its last reader (``graph.free``), so the
    allocator hands its memory to a later node whose lifetime does not overlap; and an
    elementwise node (``relu``, ``add``, ``add_relu``, ``mul``) whose first input dies at that
    node, with the output's shape and dtype, computes into that input's buffer (``inplace``):
    the two values share one buffer because their lifetimes only touch.
    """
    g = graph.copy()
    last: dict = {}
    for k, node in enumerate(g.nodes):
        for i in node.inputs:
            if i is not None:
                last[i] = k
    producers = g.producers()
    keep = set(g.outputs) | set(g.inputs) | set(g.constants)
    g.free = {}
    for name, k in last.items():
        if name not in keep:
            g.free.setdefault(k, []).append(name)
    for k, node in enumerate(g.nodes):
        if node.op not in INPLACE_KERNELS:
            continue
        first = node.inputs[0]
        prev = producers.get(first)
        if (prev is None or prev.op not in _FRESH or first in keep or last.get(first) != k
                or first in node.inputs[1:]):
            continue
        if g.meta.get(first) != g.meta.get(node.outputs[0]):
            continue
        node.inplace = True
    return g


def planned_peak_bytes(graph: Graph) -> int:
    """The largest total size of the intermediate values alive at once under the graph's plan
    (without a plan: every value lives to the end); inputs and constants not counted."""
    size = {k: int(np.prod(s)) * np.dtype(d).itemsize for k, (s, d) in graph.meta.items()}
    free = graph.free or {}
    alive, peak = 0, 0
    for k, node in enumerate(graph.nodes):
        if not node.inplace:
            alive += sum(size.get(o, 0) for o in node.outputs)
        peak = max(peak, alive)
        for name in free.get(k, ()):
            if not (node.inplace and name == node.inputs[0]):
                alive -= size.get(name, 0)
    return peak


def optimize_for_inference(module):
    """The inference graph of a traced module (``torch.jit.optimize_for_inference``): dead code
    removed, constants (parameters included, so frozen) folded, batch norms folded into their
    convolutions, ReLUs fused, buffers planned. Returns a new module of the same class; the
    input module is unchanged.

    Raises:
        ValueError: the graph has a training-mode batch norm (trace after ``model.eval()``).
    """
    from .module import GraphModule

    g = module.graph
    for n in g.nodes:
        if n.op == "batch_norm" and n.attrs.get("training"):
            raise ValueError(
                f"optimize_for_inference: batch_norm at {n.scope or 'top level'} uses the batch's "
                "statistics (traced in training mode); call model.eval() before jit.trace")
    g = eliminate_dead_code(g)
    g = constant_folding(g, include_params=True)
    g = fold_batch_norm(g)
    g = fuse_activations(g)
    g = plan_buffers(g)
    out = GraphModule.__new__(type(module))
    GraphModule.__init__(out, g, None)
    out.data_dependent = list(getattr(module, "data_dependent", []))
    out.eval()
    return out

