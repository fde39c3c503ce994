"""``draw_graph``: a computational graph as Graphviz DOT text, and as SVG or PNG where the
``dot`` program is installed (it is optional: the DOT text is always written).

Two graphs can be drawn:

- the **backward graph** of a tensor (a loss): its ``grad_fn`` and every node reached through
  ``next_functions``, as the engine walks them; leaves (``AccumulateGrad``) show their shape,
  their name when ``params`` is given, and for small tensors their value and gradient (the notes'
  picture of a circuit with its local gradients);
- the **forward graph** of a traced module (``striate.jit.trace``) or of a ``jit.Graph``: ops
  with their attributes, values as edges labelled with their shapes.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np

__all__ = ["draw_graph"]


def _q(text: str) -> str:
    return '"' + str(text).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _small(a) -> str:
    a = np.asarray(a)
    if a.size > 4:
        return ""
    v = np.array2string(a.reshape(-1) if a.ndim else a, precision=3, separator=", ")
    return v


def _shape(s) -> str:
    return "(" + ", ".join("?" if d is None else str(d) for d in s) + ")"


def _backward_dot(t, params: dict | None) -> list:
    names = {id(p): n for n, p in (params or {}).items()}
    lines = []
    root = t.grad_fn
    if root is None:
        raise ValueError("draw_graph: the tensor has no grad_fn (a leaf, or computed under "
                         "no_grad): there is no backward graph to draw")
    ids: dict = {}

    def nid(node) -> str:
        if id(node) not in ids:
            ids[id(node)] = f"n{len(ids)}"
        return ids[id(node)]

    out_label = f"output {_shape(t.shape)}"
    if t.array.size <= 4:
        out_label += f"\n= {_small(t.array)}"
    lines.append(f'  out [shape=box, style=filled, fillcolor="#c6dbef", label={_q(out_label)}];')
    lines.append(f"  {nid(root)} -> out;")
    seen = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        var = getattr(node, "variable", None)
        if var is not None:  # a leaf
            label = names.get(id(var), "leaf") + f"\n{_shape(var.shape)}"
            if var.array.size <= 4:
                label += f"\nvalue {_small(var.array)}"
                if var.grad is not None:
                    label += f"\ngrad {_small(var.grad.array)}"
            lines.append(f'  {nid(node)} [shape=box, style=filled, fillcolor="#fdd0a2", '
                         f"label={_q(label)}];")
        else:
            meta = getattr(node, "_meta", None) or ()
            label = node.name() + "".join(f"\n{_shape(s)}" for s, _ in meta)
            lines.append(f"  {nid(node)} [label={_q(label)}];")
        for nxt, _ in getattr(node, "next_functions", ()):
            if nxt is None:
                continue
            # gradients flow from the node to its inputs' nodes: drawn input -> op, as forward
            lines.append(f"  {nid(nxt)} -> {nid(node)};")
            stack.append(nxt)
    return lines


def _attr_text(attrs: dict) -> str:
    parts = []
    for k, v in attrs.items():
        if isinstance(v, np.ndarray) or k in ("index",):
            continue
        parts.append(f"{k}={v}")
    text = ", ".join(parts)
    return text if len(text) < 60 else text[:57] + "..."


def _forward_dot(g) -> list:
    lines = []
    producer = {}
    for k, n in enumerate(g.nodes):
        for o in n.outputs:
            producer[o] = f"op{k}"
    for i in g.inputs:
        shape = g.meta.get(i, ((),))[0]
        lines.append(f'  {_q("v" + i)} [shape=box, style=filled, fillcolor="#c6dbef", '
                     f"label={_q(f'{i} {_shape(shape)}')}];")
    for k, n in enumerate(g.nodes):
        consts = [i for i in n.inputs[1:] if i is not None and i in g.constants
                  and isinstance(g.constants[i], np.ndarray)]
        label = n.op
        attrs = _attr_text(n.attrs)
        if attrs:
            label += f"\n{attrs}"
        for c in consts[:3]:
            label += f"\n{c} {_shape(g.constants[c].shape)}"
        lines.append(f"  op{k} [shape=box, style=rounded, label={_q(label)}];")
        for i in n.inputs:
            if i is None or i in g.constants:
                continue
            src = producer.get(i, _q("v" + i))
            shape = g.meta.get(i, (None,))[0]
            edge = f" [label={_q(_shape(shape))}]" if shape is not None else ""
            lines.append(f"  {src} -> op{k}{edge};")
    for j, o in enumerate(g.outputs):
        lines.append(f'  out{j} [shape=box, style=filled, fillcolor="#c6dbef", '
                     f'label={_q(f"output {j}")}];')
        src = producer.get(o, _q("v" + o))
        shape = g.meta.get(o, (None,))[0]
        edge = f" [label={_q(_shape(shape))}]" if shape is not None else ""
        lines.append(f"  {src} -> out{j}{edge};")
    return lines


def draw_graph(obj, path=None, format: str | None = None, params: dict | None = None,  # noqa: A002
               rankdir: str = "TB", dpi: int | None = None) -> str:
    """Draw a computational graph as Graphviz DOT.

    Args:
        obj: a Tensor with a ``grad_fn`` (its backward graph), a traced module (anything with a
            ``.graph``, as ``striate.jit.trace`` returns) or a ``striate.jit.Graph``.
        path: where to write; ``PATH.dot`` is always written (the suffix is replaced), and
            ``PATH.svg``/``PATH.png`` too when ``format`` asks for it and ``dot`` is installed.
        format: ``"svg"``, ``"png"`` or None (DOT only).
        params: ``dict(model.named_parameters())``, to name the leaves of a backward graph.
        rankdir: Graphviz's layout direction (``"TB"`` top to bottom, ``"LR"`` left to right).
        dpi: resolution of a PNG (Graphviz's default 96).
    Returns:
        the DOT text.
    Raises:
        TypeError: for anything else; ValueError for a tensor without a backward graph or an
        unknown format.

    Example:
        >>> import striate
        >>> x = striate.tensor([1.0, 2.0], requires_grad=True)
        >>> dot = draw_graph((x * 3).sum())
        >>> "SumBackward" in dot and "MulBackward" in dot
        True
    """
    if format not in (None, "svg", "png"):
        raise ValueError(f"draw_graph: format must be 'svg', 'png' or None, got {format!r}")
    graph = getattr(obj, "graph", obj)
    if hasattr(obj, "grad_fn") and hasattr(obj, "array"):
        body = _backward_dot(obj, params)
        title = "backward graph"
    elif hasattr(graph, "nodes") and hasattr(graph, "inputs"):
        body = _forward_dot(graph)
        title = "forward graph"
    else:
        raise TypeError(f"draw_graph: expected a Tensor, a traced module or a jit Graph, got "
                        f"{type(obj).__name__}")
    head = [f"digraph {_q(title)} {{", f"  rankdir={rankdir};"]
    if dpi is not None:
        head.append(f"  dpi={int(dpi)};")
    dot = "\n".join([*head,
                     '  node [fontname="Helvetica", fontsize=10];',
                     '  edge [fontname="Helvetica", fontsize=9];', *body, "}", ""])
    if path is not None:
        base = Path(path)
        base = base.with_suffix("") if base.suffix in (".dot", ".svg", ".png") else base
        base.parent.mkdir(parents=True, exist_ok=True)
        dot_path = base.with_suffix(".dot")
        dot_path.write_text(dot, encoding="utf-8")
        exe = shutil.which("dot")
        if format is not None and exe is not None:
            subprocess.run([exe, f"-T{format}", str(dot_path), "-o",
                            str(base.with_suffix("." + format))], check=True,
                           capture_output=True, timeout=120)
    return dot
