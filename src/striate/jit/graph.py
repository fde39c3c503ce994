"""The static graph: nodes are ops of ``striate.functional`` with their attributes, edges are
named values (tensors), parameters and buffers are named constants.

A :class:`Graph` is plain data (lists and dicts), so a pass is a function from graph to graph
and the same graph can be run (:func:`run_graph`), drawn (``striate.utils.draw_graph``) or
written as ONNX (``striate.onnx.export``).

Every node knows how to run in two ways:

- on raw arrays (inference): the op's ``Function.forward`` with a context that asks for no
  gradient, or a kernel of :data:`KERNELS` (the fused ops that the passes make);
- on Tensors through ``Function.apply`` (training): the same autograd nodes as eager mode, so a
  traced or imported model fine-tunes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from ..autograd.function import Context
from ..autograd.grad_mode import no_grad
from ..autograd.tensor import Tensor
from ..kernels.batchnorm import batch_stats, fixed_stats
from ..kernels.conv import conv_relu_forward
from ..ops.activation import ReLU
from ..ops.normalization import BatchNorm
from ..ops.shape import Reshape

__all__ = ["Node", "Graph", "op_name", "run_graph", "run_node", "nest", "KERNELS",
           "INPLACE_KERNELS"]

# Function class name -> op name (the functional's name) where snake_case would not give it
_OP_NAMES = {
    "Conv2d": "conv2d", "ConvTranspose2d": "conv_transpose2d", "BatchNorm": "batch_norm",
    "ReLU": "relu", "LeakyReLU": "leaky_relu", "PReLU": "prelu", "ELU": "elu", "GELU": "gelu",
    "MaxPool2d": "max_pool2d", "AvgPool2d": "avg_pool2d", "LogSoftmax": "log_softmax",
    "AdaptiveAvgPool2d": "adaptive_avg_pool2d", "AdaptiveMaxPool2d": "adaptive_max_pool2d",
    "MatMul": "matmul", "GetItem": "getitem", "BasicGetItem": "getitem", "Cat": "cat",
    "ConstantPad": "pad", "MaxReduce": "amax", "LSTMLayer": "lstm", "GRULayer": "gru",
    "RNNLayer": "rnn", "LocalResponseNorm": "local_response_norm", "LayerNorm": "layer_norm",
    "GroupNorm": "group_norm", "Cast": "to", "ScaledDotProductAttention":
    "scaled_dot_product_attention",
}


def op_name(fn) -> str:
    """The graph's name for a Function class: the functional it implements (``Conv2d`` ->
    ``conv2d``, ``LogSoftmax`` -> ``log_softmax``)."""
    n = fn.__name__
    return _OP_NAMES.get(n) or re.sub(r"(?<!^)(?=[A-Z])", "_", n).lower()


@dataclass
class Node:
    """One op: ``outputs = op(*inputs, **attrs)``.

    ``inputs`` are value names (None for an absent optional input such as a bias); ``fn`` is
    the ``Function`` class that computes it (None for a fused op of :data:`KERNELS`), or a
    function of Tensors built from ``striate.functional`` (an imported ONNX op); ``scope``
    is the dotted path of the module whose forward ran it (``layer1.0.conv1``), for messages.
    """

    op: str
    inputs: list
    outputs: list
    attrs: dict = field(default_factory=dict)
    fn: object = None
    scope: str = ""
    inplace: bool = False  # buffer planning: write the output into the first input's memory

    def __repr__(self) -> str:
        ins = ", ".join("None" if i is None else f"%{i}" for i in self.inputs)
        outs = ", ".join(f"%{o}" for o in self.outputs)
        attrs = "".join(f", {k}={_short(v)}" for k, v in self.attrs.items())
        where = f"  # {self.scope}" if self.scope else ""
        return f"{outs} = {self.op}({ins}{attrs}){where}"


def _short(v) -> str:
    if isinstance(v, np.ndarray):
        return f"array{v.shape}"
    r = repr(v)
    return r if len(r) < 40 else r[:37] + "..."


@dataclass
class Graph:
    """A static graph.

    ``inputs``/``outputs`` are value names; ``constants`` maps names to arrays (parameters and
    buffers under their ``state_dict`` names, other captured tensors as ``const_k``);
    ``params`` is the set of constants that are learnable parameters; ``meta`` maps every value
    to its ``(shape, dtype)`` as traced; ``output_tree`` says how the outputs nest (``None``:
    one tensor; a tuple or list of indices into ``outputs``).
    """

    inputs: list = field(default_factory=list)
    outputs: list = field(default_factory=list)
    nodes: list = field(default_factory=list)
    constants: dict = field(default_factory=dict)
    params: set = field(default_factory=set)
    meta: dict = field(default_factory=dict)
    output_tree: object = None
    free: dict | None = None  # buffer plan: node index -> values whose last reader it is

    def copy(self) -> Graph:
        """A new graph with new node objects (constants' arrays shared): what a pass starts from."""
        return Graph(list(self.inputs), list(self.outputs),
                     [Node(n.op, list(n.inputs), list(n.outputs), dict(n.attrs), n.fn, n.scope,
                           n.inplace) for n in self.nodes],
                     dict(self.constants), set(self.params), dict(self.meta), self.output_tree,
                     None if self.free is None else dict(self.free))

    def users(self) -> dict:
        """value name -> list of the nodes that read it."""
        out: dict = {}
        for n in self.nodes:
            for i in n.inputs:
                if i is not None:
                    out.setdefault(i, []).append(n)
        return out

    def producers(self) -> dict:
        """value name -> the node that computes it."""
        return {o: n for n in self.nodes for o in n.outputs}

    def op_counts(self) -> dict:
        counts: dict = {}
        for n in self.nodes:
            counts[n.op] = counts.get(n.op, 0) + 1
        return counts

    def __str__(self) -> str:
        lines = [f"graph({', '.join('%' + i for i in self.inputs)}):"]
        lines += [f"  {n!r}" for n in self.nodes]
        lines.append(f"  return ({', '.join('%' + o for o in self.outputs)})")
        return "\n".join(lines)


def nest(tree, values: list):
    """The outputs as the model returned them: ``values`` placed into ``tree``'s nesting."""
    if tree is None:
        return values[0]
    if isinstance(tree, int):
        return values[tree]
    return type(tree)(nest(t, values) for t in tree)


# ---- running a graph ------------------------------------------------------------------------


def _ctx(n: int) -> Context:
    c = Context()
    c.needs_input_grad = (False,) * n
    return c


def _batch_norm_arrays(x, w, b, mean=None, var=None, *, eps, training=False):
    stats = batch_stats(x) if training else fixed_stats(mean, var, x)
    return BatchNorm.forward(_ctx(3), x, w, b, stats=stats, eps=eps)


def _relu_inplace(y):
    return np.maximum(y, 0, out=y) if y.flags.writeable else np.maximum(y, 0)


def _fused(fn, activation):
    """A kernel that runs ``fn``'s forward, then the activation in place on its fresh output."""
    def run(*arrays, **attrs):
        y = fn.forward(_ctx(len(arrays)), *arrays, **attrs)
        return activation(y)
    return run


def _add_relu(a, b):
    return _relu_inplace(np.add(a, b))


def _conv_fused(x, w, b=None, *, stride, padding, dilation=(1, 1), groups=1):
    if dilation != (1, 1) or groups != 1:
        from ..ops.conv import Conv2d

        return _fused(Conv2d, _relu_inplace)(x, w, b, stride=stride, padding=padding,
                                             dilation=dilation, groups=groups)
    return conv_relu_forward(x, w, b, stride, padding)  # bias and ReLU per GEMM chunk


def _linear_fused(*arrays, **attrs):
    from ..ops.linalg import Linear

    return _fused(Linear, _relu_inplace)(*arrays, **attrs)


def _reshape_shape(x_shape, attrs) -> tuple:
    shape = tuple(attrs["shape"])
    if attrs.get("keep_batch") and shape:
        shape = (x_shape[0], *shape[1:])
    return shape


def _reshape(x, *, shape, keep_batch=False):
    return x.reshape(_reshape_shape(x.shape, {"shape": shape, "keep_batch": keep_batch}))


# op name -> kernel on arrays, for the ops that are not one Function's forward as recorded
KERNELS = {
    "reshape": _reshape,
    "batch_norm": _batch_norm_arrays,
    "conv2d_relu": _conv_fused,
    "linear_relu": _linear_fused,
    "add_relu": _add_relu,
}

# ops that may write their output over their first input (buffer planning), as array kernels
INPLACE_KERNELS = {
    "relu": lambda x: np.maximum(x, 0, out=x),
    "add": lambda a, b: np.add(a, b, out=a),
    "add_relu": lambda a, b: np.maximum(np.add(a, b, out=a), 0, out=a),
    "mul": lambda a, b: np.multiply(a, b, out=a),
}


def _functional(node: Node, arrays: list):
    """A node whose ``fn`` is a function of Tensors (an imported model's op, written with
    ``striate.functional``), run on arrays."""
    with no_grad():
        out = node.fn(*[Tensor(a) if isinstance(a, np.ndarray) else a for a in arrays],
                      **node.attrs)
    if type(out) is tuple:
        return tuple(None if o is None else o.array for o in out)
    return out.array


def run_node(node: Node, arrays: list):
    """One node on raw arrays: its outputs (an array, or a tuple of arrays)."""
    if node.inplace:
        return INPLACE_KERNELS[node.op](*arrays)
    if node.fn is not None and not isinstance(node.fn, type):
        return _functional(node, arrays)
    kernel = KERNELS.get(node.op)
    if kernel is not None:
        return kernel(*arrays, **node.attrs)
    return node.fn.forward(_ctx(len(arrays)), *arrays, **node.attrs)


def _run_tensors(node: Node, tensors: list):
    if node.fn is not None and not isinstance(node.fn, type):
        return node.fn(*tensors, **node.attrs)
    if node.op == "batch_norm":
        x, w, b, *mv = tensors
        a = [None if t is None else t.array for t in (x, *mv)]
        stats = batch_stats(a[0]) if node.attrs.get("training") else fixed_stats(a[1], a[2], a[0])
        return BatchNorm.apply(x, w, b, stats=stats, eps=node.attrs["eps"])
    if node.op == "reshape":
        return Reshape.apply(tensors[0], shape=_reshape_shape(tensors[0].shape, node.attrs))
    if node.op == "add_relu":  # a fused node stays differentiable: its two ops again
        return ReLU.apply(tensors[0] + tensors[1])
    if node.fn is None:
        raise RuntimeError(
            f"run_graph: node {node.op!r} ({node.scope or 'top level'}) has no autograd form; "
            "this graph was optimised for inference: run it under striate.no_grad(), or "
            "train the unoptimised trace")
    out = node.fn.apply(*tensors, **node.attrs)
    if node.op.endswith("_relu"):
        out = ReLU.apply(out)
    return out


def run_graph(graph: Graph, inputs, constants: dict, *, grad: bool = False,
              free: dict | None = None):
    """Evaluate ``graph`` on ``inputs`` (arrays, or Tensors when ``grad``).

    Args:
        graph: the graph.
        inputs: one array (Tensor) per ``graph.inputs``.
        constants: name -> array (Tensor when ``grad``) for the graph's constants; the caller's
            live parameters, so a trained or reloaded model runs with its current weights.
        grad: run through ``Function.apply`` on Tensors (records autograd nodes).
        free: node index -> names whose last reader that node is (default: the graph's buffer
            plan, if any); they are dropped as soon as it has run, so memory follows the plan.
    Returns:
        the list of output values (arrays, or Tensors when ``grad``), in ``graph.outputs`` order.
    """
    if free is None:
        free = graph.free
    env = dict(constants)
    env.update(zip(graph.inputs, inputs))
    run = _run_tensors if grad else run_node
    for k, node in enumerate(graph.nodes):
        args = [None if i is None else env[i] for i in node.inputs]
        out = run(node, args)
        if type(out) is tuple:
            env.update(zip(node.outputs, out))
        else:
            env[node.outputs[0]] = out
        if free is not None:
            for name in free.get(k, ()):
                env.pop(name, None)
    return [env[o] for o in graph.outputs]

