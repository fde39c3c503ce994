"""``striate.onnx.export``: trace a model (``striate.jit.trace``) and write its graph as ONNX.

Each op of the graph maps to ONNX operators by one function of :data:`_EXPORTERS` (opset 17 or
newer: ``ReduceMean`` still takes attributes there, ``Gelu`` does not exist yet). Parameters and
buffers become initializers under their ``state_dict`` names; recurrent weights are written in
ONNX's gate order (LSTM i, o, f, c; GRU z, r, h), which is not PyTorch's (i, f, g, o; r, z, n).
"""

from __future__ import annotations

import numpy as np

from ..jit import eliminate_dead_code
from ..jit.trace import record
from ._deps import require_onnx

__all__ = ["export", "UnsupportedOperatorError"]


class UnsupportedOperatorError(RuntimeError):
    """A graph op (export) or an ONNX operator (import) has no mapping."""


class _Writer:
    """Collects ONNX nodes and initializers while the graph's nodes are translated."""

    def __init__(self, graph, onnx):
        self.g, self.onnx, self.helper = graph, onnx, onnx.helper
        self.nodes: list = []
        self.inits: dict = {}
        self.count = 0

    def fresh(self, hint: str) -> str:
        self.count += 1
        return f"{hint}_{self.count}"

    def const(self, value, hint: str = "c", dtype=None) -> str:
        arr = np.asarray(value, dtype=dtype)
        name = self.fresh(hint)
        self.inits[name] = arr
        return name

    def ints(self, values, hint: str = "shape") -> str:
        return self.const(np.asarray(values, dtype=np.int64), hint)

    def value(self, name, like=None) -> str:
        """The ONNX name of graph value ``name``; a constant becomes an initializer (a Python
        number takes the dtype of ``like``, the value it is combined with)."""
        if name is None:
            return ""
        if name in self.g.constants:
            if name not in self.inits:
                v = self.g.constants[name]
                if not isinstance(v, np.ndarray):
                    dt = self.g.meta[like][1] if like in self.g.meta else np.float32
                    return self.const(np.asarray(v, dtype=dt), "scalar")
                self.inits[name] = v
        return name

    def array(self, name):
        """The array of a constant input, or None when it is computed by the graph."""
        v = self.g.constants.get(name)
        return v if isinstance(v, np.ndarray) else None

    def add(self, op: str, inputs, outputs, **attrs) -> list:
        self.nodes.append(self.helper.make_node(op, list(inputs), list(outputs),
                                                name=self.fresh(op), **attrs))
        return list(outputs)


# ---- one function per graph op: (writer, node) -> None ------------------------------------------

def _simple(onnx_op, **fixed):
    def emit(w, n):
        ins = [w.value(n.inputs[0])] + [w.value(i, like=n.inputs[0]) for i in n.inputs[1:]]
        w.add(onnx_op, ins, n.outputs, **fixed)
    return emit


def _binary(onnx_op):
    def emit(w, n):
        a, b = n.inputs
        like = a if a in w.g.meta and a not in w.g.constants else b
        w.add(onnx_op, [w.value(a, like), w.value(b, like)], n.outputs)
    return emit


def _conv(w, n):
    a = n.attrs
    ins = [w.value(i) for i in n.inputs]
    k = w.g.meta[n.inputs[1]][0][2:]
    ph, pw = a["padding"]
    w.add("Conv", [i for i in ins if i], n.outputs, kernel_shape=list(k),
          strides=list(a["stride"]), pads=[ph, pw, ph, pw],
          dilations=list(a.get("dilation", (1, 1))), group=int(a.get("groups", 1)))


def _winograd_conv(w, n):
    # conv2d_winograd(x, weight, bias, padding, tile): a stride-1 3x3 convolution, computed
    # another way; the file says what it computes
    x, weight, b, pad, _ = n.inputs
    p = int(w.g.constants[pad])
    ins = [w.value(x), w.value(weight)] + ([w.value(b)] if b else [])
    w.add("Conv", ins, n.outputs, kernel_shape=[3, 3], strides=[1, 1], pads=[p, p, p, p])


def _conv_transpose(w, n):
    a = n.attrs
    ins = [w.value(i) for i in n.inputs]
    k = w.g.meta[n.inputs[1]][0][2:]
    ph, pw = a["padding"]
    w.add("ConvTranspose", [i for i in ins if i], n.outputs, kernel_shape=list(k),
          strides=list(a["stride"]), pads=[ph, pw, ph, pw], dilations=list(a["dilation"]),
          group=int(a["groups"]), output_padding=list(a["output_padding"]))


def _batch_norm(w, n):
    if n.attrs.get("training"):
        raise UnsupportedOperatorError(
            f"onnx.export: batch_norm at {n.scope or 'top level'} uses batch statistics "
            "(training mode); export calls model.eval() unless training is asked for")
    x, gamma, beta, mean, var = n.inputs
    c = w.g.meta[x][0][1]
    dt = w.g.meta[x][1]
    scale = w.value(gamma) if gamma else w.const(np.ones(c, dt), "ones")
    bias = w.value(beta) if beta else w.const(np.zeros(c, dt), "zeros")
    w.add("BatchNormalization", [w.value(x), scale, bias, w.value(mean), w.value(var)],
          n.outputs, epsilon=float(n.attrs["eps"]))


def _linear(w, n):
    x, weight, *b = n.inputs
    b = b[0] if b else None
    wt = w.array(weight)
    _emit_linear(w, w.value(x), len(w.g.meta[x][0]), w.value(weight), w.value(b) if b else None,
                 n.outputs, None if wt is None else np.ascontiguousarray(wt.T))


def _emit_linear(w, x, ndim, weight, bias, outputs, weight_t=None):
    """``x @ weight^T (+ bias)`` for ONNX names x (ndim dims), weight and bias (or None): Gemm
    for a matrix, MatMul with the transposed weight (``weight_t``, its array when known) else."""
    if ndim == 2:
        w.add("Gemm", [x, weight] + ([bias] if bias else []), outputs, transB=1)
        return
    if weight_t is not None:
        rhs = w.const(weight_t, "weight_t")
    else:
        rhs = w.add("Transpose", [weight], [w.fresh("wt")], perm=[1, 0])[0]
    if bias:
        y = w.add("MatMul", [x, rhs], [w.fresh("mm")])[0]
        w.add("Add", [y, bias], outputs)
    else:
        w.add("MatMul", [x, rhs], outputs)


def _reshape(w, n):
    shape = list(n.attrs["shape"])
    if n.attrs.get("keep_batch") and shape:
        shape[0] = 0  # ONNX Reshape: 0 copies the input's dim, so any batch size works
    w.add("Reshape", [w.value(n.inputs[0]), w.ints(shape)], n.outputs)


def _pool_pads(n):
    ph, pw = n.attrs["padding"]
    return [ph, pw, ph, pw]


def _max_pool(w, n):
    if n.attrs.get("return_indices"):
        raise UnsupportedOperatorError(
            f"onnx.export: max_pool2d with return_indices at {n.scope or 'top level'} has no "
            "ONNX mapping here")
    w.add("MaxPool", [w.value(n.inputs[0])], n.outputs[:1],
          kernel_shape=list(n.attrs["kernel"]), strides=list(n.attrs["stride"]),
          pads=_pool_pads(n), ceil_mode=int(bool(n.attrs.get("ceil_mode"))))


def _avg_pool(w, n):
    if n.attrs.get("divisor") is not None:
        raise UnsupportedOperatorError(
            f"onnx.export: avg_pool2d with divisor_override at {n.scope or 'top level'} has no "
            "ONNX mapping")
    w.add("AveragePool", [w.value(n.inputs[0])], n.outputs,
          kernel_shape=list(n.attrs["kernel"]), strides=list(n.attrs["stride"]),
          pads=_pool_pads(n), ceil_mode=int(bool(n.attrs.get("ceil_mode"))),
          count_include_pad=int(bool(n.attrs["count_include_pad"])))


def _adaptive(kind):
    def emit(w, n):
        oh, ow = n.attrs["out_hw"]
        h, wd = w.g.meta[n.inputs[0]][0][2:]
        x = w.value(n.inputs[0])
        if (oh, ow) == (1, 1):
            w.add(f"Global{kind}Pool", [x], n.outputs[:1])
        elif h % oh == 0 and wd % ow == 0:  # equal windows: a plain pooling
            k = [h // oh, wd // ow]
            w.add(f"{kind}Pool", [x], n.outputs[:1], kernel_shape=k, strides=k)
        else:
            raise UnsupportedOperatorError(
                f"onnx.export: adaptive pooling from {h}x{wd} to {oh}x{ow} (unequal windows) at "
                f"{n.scope or 'top level'} has no ONNX mapping")
    return emit


def _cat(w, n):
    w.add("Concat", [w.value(i) for i in n.inputs], n.outputs, axis=int(n.attrs["axis"]))


def _stack(w, n):
    axis = int(n.attrs["axis"])
    axes = w.ints([axis], "axes")
    parts = [w.add("Unsqueeze", [w.value(i), axes], [w.fresh("unsq")])[0] for i in n.inputs]
    w.add("Concat", parts, n.outputs, axis=axis)


def _getitem(w, n):
    index = n.attrs["index"]
    index = index if isinstance(index, tuple) else (index,)
    shape = w.g.meta[n.inputs[0]][0]
    if Ellipsis in index:
        k = index.index(Ellipsis)
        index = index[:k] + (slice(None),) * (len(shape) - len(index) + 1) + index[k + 1:]
    starts, ends, axes, steps, squeeze = [], [], [], [], []
    for axis, ix in enumerate(index):
        if isinstance(ix, (int, np.integer)):
            starts.append(int(ix))
            ends.append(int(ix) + 1 if ix != -1 else np.iinfo(np.int64).max)
            axes.append(axis)
            steps.append(1)
            squeeze.append(axis)
        elif isinstance(ix, slice):
            if ix == slice(None):
                continue
            step = 1 if ix.step is None else int(ix.step)
            big = np.iinfo(np.int64).max
            starts.append(int(ix.start) if ix.start is not None else (0 if step > 0 else -1))
            ends.append(int(ix.stop) if ix.stop is not None else (big if step > 0 else -big))
            axes.append(axis)
            steps.append(step)
        else:
            raise UnsupportedOperatorError(
                f"onnx.export: indexing with {type(ix).__name__} at {n.scope or 'top level'} has "
                "no ONNX mapping here (slices and integers do)")
    x = w.value(n.inputs[0])
    if not axes:
        w.add("Identity", [x], n.outputs)
        return
    out = n.outputs if not squeeze else [w.fresh("slice")]
    w.add("Slice", [x, w.ints(starts, "starts"), w.ints(ends, "ends"), w.ints(axes, "axes"),
                    w.ints(steps, "steps")], out)
    if squeeze:
        w.add("Squeeze", [out[0], w.ints(squeeze, "axes")], n.outputs)


def _pad(w, n):
    widths = n.attrs["widths"]
    pads = [lo for lo, _ in widths] + [hi for _, hi in widths]
    dt = w.g.meta[n.inputs[0]][1]
    w.add("Pad", [w.value(n.inputs[0]), w.ints(pads, "pads"),
                  w.const(np.asarray(n.attrs["value"], dtype=dt), "pad_value")], n.outputs,
          mode="constant")


def _lrn(w, n):
    a = n.attrs
    if a["size"] % 2 == 0:
        raise UnsupportedOperatorError(
            f"onnx.export: local_response_norm with an even size ({a['size']}) at "
            f"{n.scope or 'top level'}: ONNX's LRN centres the window differently")
    w.add("LRN", [w.value(n.inputs[0])], n.outputs, size=int(a["size"]), alpha=float(a["alpha"]),
          beta=float(a["beta"]), bias=float(a["k"]))


def _embedding(w, n):
    idx, weight = n.inputs
    w.add("Gather", [w.value(weight), w.value(idx)], n.outputs, axis=0)


def _reorder(a, order, gates):
    blocks = np.split(a, gates, axis=0)
    return np.concatenate([blocks[k] for k in order], axis=0)


def _recurrent(kind):
    gates, order = {"LSTM": (4, [0, 3, 1, 2]), "GRU": (3, [1, 0, 2]), "RNN": (1, [0])}[kind]

    def emit(w, n):
        if kind == "LSTM":
            x, h0, c0, w_ih, w_hh, b_ih, b_hh = n.inputs
        else:
            x, h0, w_ih, w_hh, b_ih, b_hh = n.inputs
            c0 = None
        arrays = [w.array(v) for v in (w_ih, w_hh)]
        if any(a is None for a in arrays):
            raise UnsupportedOperatorError(
                f"onnx.export: {kind.lower()} at {n.scope or 'top level'} with computed weights "
                "has no ONNX mapping (its weights must be parameters)")
        wi, wh = (_reorder(a, order, gates)[None] for a in arrays)
        hsize = wh.shape[-1]
        dt = wi.dtype
        bi, bh = (np.zeros(gates * hsize, dt) if b is None else _reorder(w.array(b), order, gates)
                  for b in (b_ih, b_hh))
        stem = (n.scope or kind.lower()).replace(".", "_")
        ins = [None, w.const(wi, f"{stem}_W"), w.const(wh, f"{stem}_R"),
               w.const(np.concatenate([bi, bh])[None], f"{stem}_B"), ""]
        batch_first = n.attrs.get("batch_first", False)
        xv = w.value(x)
        ins[0] = w.add("Transpose", [xv], [w.fresh("tm")], perm=[1, 0, 2])[0] \
            if batch_first else xv
        for state in (h0, c0) if kind == "LSTM" else (h0,):
            arr = w.array(state)
            if arr is not None and not arr.any():
                ins.append("")  # zeros: ONNX's default, and free of the traced batch size
            else:
                axes = w.ints([0], "axes")
                ins.append(w.add("Unsqueeze", [w.value(state), axes], [w.fresh("state")])[0])
        while ins and ins[-1] == "":
            ins.pop()
        y, yh, yc = w.fresh("Y"), w.fresh("Y_h"), w.fresh("Y_c")
        attrs = {"hidden_size": int(hsize)}
        if kind == "GRU":
            attrs["linear_before_reset"] = 1  # PyTorch's: r multiplies (h W_hn^T + b_hn)
        if kind == "RNN":
            attrs["activations"] = ["Relu" if n.attrs.get("nonlinearity") == "relu" else "Tanh"]
        w.add(kind, ins, [y, yh, yc] if kind == "LSTM" else [y, yh], **attrs)
        seq = w.add("Squeeze", [y, w.ints([1], "axes")], [w.fresh("seq")])[0]
        if batch_first:
            w.add("Transpose", [seq], [n.outputs[0]], perm=[1, 0, 2])
        else:
            w.add("Identity", [seq], [n.outputs[0]])
        if kind == "LSTM":
            w.add("Squeeze", [yc, w.ints([0], "axes")], [n.outputs[1]])
    return emit


def _flip(w, n):
    axes = [int(a) for a in n.attrs["axes"]]
    big = np.iinfo(np.int64).max
    w.add("Slice", [w.value(n.inputs[0]), w.ints([-1] * len(axes), "starts"),
                    w.ints([-big] * len(axes), "ends"), w.ints(axes, "axes"),
                    w.ints([-1] * len(axes), "steps")], n.outputs)


def _permute(w, n):
    w.add("Transpose", [w.value(n.inputs[0])], n.outputs, perm=[int(d) for d in n.attrs["dims"]])


def _axis_op(onnx_op):
    def emit(w, n):
        w.add(onnx_op, [w.value(n.inputs[0])], n.outputs, axis=int(n.attrs["axis"]))
    return emit


def _reduce(onnx_op):
    def emit(w, n):
        axes = n.attrs["axes"]
        shape = w.g.meta[n.inputs[0]][0]
        axes = list(range(len(shape))) if axes is None else [int(a) for a in np.atleast_1d(axes)]
        keep = int(bool(n.attrs["keepdim"]))
        if onnx_op == "ReduceSum":  # opset 13+: axes is an input
            w.add(onnx_op, [w.value(n.inputs[0]), w.ints(axes, "axes")], n.outputs, keepdims=keep)
        else:  # ReduceMean takes axes as an attribute up to opset 17
            w.add(onnx_op, [w.value(n.inputs[0])], n.outputs, axes=axes, keepdims=keep)
    return emit


def _cast(w, n):
    from onnx import helper

    w.add("Cast", [w.value(n.inputs[0])], n.outputs,
          to=helper.np_dtype_to_tensor_dtype(np.dtype(n.attrs["dtype"])))


def _leaky(w, n):
    w.add("LeakyRelu", [w.value(n.inputs[0])], n.outputs, alpha=float(n.attrs["slope"]))


def _elu(w, n):
    w.add("Elu", [w.value(n.inputs[0])], n.outputs, alpha=float(n.attrs["alpha"]))


def _expand(w, n):
    w.add("Expand", [w.value(n.inputs[0]), w.ints(n.attrs["shape"])], n.outputs)


def _soft_attention(w, n):
    # the captioner's attention (striate.caption): alpha = softmax_L(tanh(proj + q) w),
    # z = sum_L alpha f; the op returns [z, alpha] side by side
    proj, feats, q, vec = (w.value(i) for i in n.inputs)
    axes1 = w.ints([1], "axes")
    qa = w.add("Unsqueeze", [q, axes1], [w.fresh("q")])[0]
    a = w.add("Tanh", [w.add("Add", [proj, qa], [w.fresh("pre")])[0]], [w.fresh("a")])[0]
    e = w.add("MatMul", [a, vec], [w.fresh("e")])[0]
    alpha = w.add("Softmax", [e], [w.fresh("alpha")], axis=1)[0]
    al = w.add("Unsqueeze", [alpha, axes1], [w.fresh("al")])[0]
    z = w.add("Squeeze", [w.add("MatMul", [al, feats], [w.fresh("z")])[0], axes1],
              [w.fresh("z")])[0]
    w.add("Concat", [z, alpha], n.outputs, axis=1)


def _int8_layer(w, n):
    """An int8 layer (``nn.quantized``) in ONNX's QDQ form: the input quantized to its uint8
    grid and back (QuantizeLinear, DequantizeLinear), the int8 weight dequantized per output
    channel (or per tensor), the int32 bias as its real value, then the float Conv or Gemm.
    The values are the integer layer's (a runtime such as onnxruntime may fuse the pattern
    into integer kernels); the sums run in float32, so they match to float32 rounding."""
    from ..nn.quantized import QuantizedConv2d

    x, layer = n.inputs[0], w.g.constants[n.inputs[1]]
    xs = w.const(np.float32(layer.x_scale), "input_scale")
    xz = w.const(np.uint8(layer.x_zp), "input_zero_point")
    q = w.add("QuantizeLinear", [w.value(x), xs, xz], [w.fresh("input_q")])[0]
    xd = w.add("DequantizeLinear", [q, xs, xz], [w.fresh("input_dq")])[0]
    per_channel = np.asarray(layer.w_scale).size > 1
    shape = (-1,) if per_channel else ()
    ws = w.const(np.asarray(layer.w_scale, np.float32).reshape(shape), "weight_scale")
    wz = w.const(np.asarray(layer.w_zp).astype(np.int8).reshape(shape), "weight_zero_point")
    wd = w.add("DequantizeLinear", [w.const(layer.qw, "weight_int8"), ws, wz],
               [w.fresh("weight_dq")], axis=0)[0]
    bias = None if layer.qb is None else w.const(
        (layer.qb * layer.acc_scale).astype(np.float32), "bias")
    if isinstance(layer, QuantizedConv2d):
        (ph, pw), k = layer.padding, layer.kernel
        w.add("Conv", [xd, wd] + ([bias] if bias else []), n.outputs, kernel_shape=list(k),
              strides=list(layer.stride), pads=[ph, pw, ph, pw])
    else:
        _emit_linear(w, xd, len(w.g.meta[x][0]), wd, bias, n.outputs)


_EXPORTERS = {
    "soft_attention": _soft_attention, "__int8_apply": _int8_layer,
    "conv2d": _conv, "conv_transpose2d": _conv_transpose, "batch_norm": _batch_norm,
    "winograd_conv2d": _winograd_conv,
    "linear": _linear, "matmul": _binary("MatMul"), "reshape": _reshape,
    "max_pool2d": _max_pool, "avg_pool2d": _avg_pool,
    "adaptive_avg_pool2d": _adaptive("Average"), "adaptive_max_pool2d": _adaptive("Max"),
    "add": _binary("Add"), "sub": _binary("Sub"), "mul": _binary("Mul"), "div": _binary("Div"),
    "pow": _binary("Pow"), "maximum": _binary("Max"), "minimum": _binary("Min"),
    "relu": _simple("Relu"), "tanh": _simple("Tanh"), "sigmoid": _simple("Sigmoid"),
    "exp": _simple("Exp"), "log": _simple("Log"), "sqrt": _simple("Sqrt"), "neg": _simple("Neg"),
    "abs": _simple("Abs"), "clone": _simple("Identity"), "leaky_relu": _leaky, "elu": _elu,
    "softmax": _axis_op("Softmax"), "log_softmax": _axis_op("LogSoftmax"),
    "cat": _cat, "stack": _stack, "getitem": _getitem, "pad": _pad, "permute": _permute,
    "flip": _flip,
    "expand": _expand, "local_response_norm": _lrn, "embedding": _embedding,
    "lstm": _recurrent("LSTM"), "gru": _recurrent("GRU"), "rnn": _recurrent("RNN"),
    "sum": _reduce("ReduceSum"), "mean": _reduce("ReduceMean"), "to": _cast,
}


def _tensor_type(onnx, name, shape, dtype, dyn: dict):
    dims = [dyn.get(k, d) for k, d in enumerate(shape)]
    elem = onnx.helper.np_dtype_to_tensor_dtype(np.dtype(dtype))
    return onnx.helper.make_tensor_value_info(name, elem, dims)


def _dynamic(dynamic_axes, name) -> dict:
    axes = (dynamic_axes or {}).get(name)
    if axes is None:
        return {}
    if isinstance(axes, dict):
        return {int(k): str(v) for k, v in axes.items()}
    return {int(k): f"{name}_dim{k}" for k in axes}


def to_onnx_model(graph, input_names=None, output_names=None, dynamic_axes=None,
                  opset_version: int = 17, producer: str = "striate"):
    """The ``onnx.ModelProto`` of a striate graph (see :func:`export`)."""
    onnx = require_onnx("onnx.export")
    if opset_version < 17:
        raise ValueError(f"onnx.export: opset_version must be 17 or newer, got {opset_version}")
    g = eliminate_dead_code(graph)
    rename = {}
    for names, values, what in ((input_names, g.inputs, "input"),
                                (output_names, g.outputs, "output")):
        if names is None:
            continue
        if len(names) > len(values):
            raise ValueError(f"onnx.export: {len(names)} {what}_names for {len(values)} "
                             f"{what}s")
        rename.update(zip(values, names))
    w = _Writer(g, onnx)
    for node in g.nodes:
        emit = _EXPORTERS.get(node.op)
        if emit is None:
            fn = node.fn.__name__ if node.fn is not None else node.op
            raise UnsupportedOperatorError(
                f"onnx.export: op {node.op!r} (Function {fn}) in module "
                f"{node.scope or '(top level)'} has no ONNX mapping")
        emit(w, node)
    # graph outputs that are inputs or constants, or listed twice, need a node of their own
    seen = set()
    outputs = []
    for o in g.outputs:
        if o in seen or o in g.inputs or o in g.constants:
            alias = w.fresh("out")
            w.add("Identity", [w.value(o)], [alias])
            o = alias
        seen.add(o)
        outputs.append(o)
    ren = {**rename, **{new: rename.get(old, new) for old, new in zip(g.outputs, outputs)}}
    for n in w.nodes:
        n.input[:] = [ren.get(i, i) for i in n.input]
        n.output[:] = [ren.get(o, o) for o in n.output]
    inputs = [_tensor_type(onnx, ren.get(i, i), *g.meta[i], _dynamic(dynamic_axes, ren.get(i, i)))
              for i in g.inputs]
    outs = [_tensor_type(onnx, ren.get(new, new), *g.meta[old],
                         _dynamic(dynamic_axes, ren.get(new, new)))
            for old, new in zip(g.outputs, outputs)]
    inits = [onnx.numpy_helper.from_array(np.ascontiguousarray(v), name)
             for name, v in w.inits.items()]
    graph_proto = onnx.helper.make_graph(w.nodes, "striate", inputs, outs, inits)
    model = onnx.helper.make_model(
        graph_proto, producer_name=producer,
        opset_imports=[onnx.helper.make_opsetid("", int(opset_version))])
    model.ir_version = min(model.ir_version, 8)  # readable by onnxruntime releases of 2023 on
    onnx.checker.check_model(model)
    return model


def export(model, args, f=None, *, kwargs=None, export_params: bool = True, verbose=None,
           input_names=None, output_names=None, opset_version: int | None = None,
           dynamic_axes=None, training=None, do_constant_folding: bool = True,
           keep_initializers_as_inputs: bool = False, dynamo: bool = False, **unused):
    """Write ``model`` as an ONNX file, with ``torch.onnx.export``'s signature.

    The model is traced (``striate.jit.trace``) in eval mode on ``args`` (its mode is restored
    after), so the file holds the ops that ran, with the shapes of ``args``; ``dynamic_axes``
    names the dims that may vary (the batch dim of inputs and outputs: reshapes that keep the
    batch dim are written with ONNX's "copy this dim" 0).

    Args:
        model: a Module (or function of Tensors).
        args: a Tensor or a tuple of Tensors.
        f: a path or a binary file object; None returns the ``ModelProto`` only.
        input_names, output_names: names of the graph's inputs and outputs, in order.
        dynamic_axes: ``{name: {dim: "label"}}`` or ``{name: [dims]}``.
        opset_version: 17 (default) or newer.
        do_constant_folding: fold the subgraphs that depend on parameters only.
    Returns:
        the ``onnx.ModelProto`` (PyTorch returns None; having it is handy).
    Raises:
        UnsupportedOperatorError: an op with no ONNX mapping, naming the op and the module.
        ImportError: the ``onnx`` extra is missing.
    """
    require_onnx("onnx.export")
    if kwargs:
        raise TypeError("onnx.export: kwargs= is not supported; pass inputs positionally")
    if not export_params:
        raise ValueError("onnx.export: export_params=False is not supported")
    args = args if isinstance(args, tuple) else (args,)
    was_training = getattr(model, "training", None)
    if was_training is not None and not training:
        model.eval()
    try:
        graph, _, _ = record(model, args)
    finally:
        if was_training is not None:
            model.train(was_training)
    if do_constant_folding:
        from ..jit import constant_folding

        graph = constant_folding(graph, include_params=True)
    proto = to_onnx_model(graph, input_names, output_names, dynamic_axes, opset_version or 17)
    if verbose:
        print(proto.graph)
    if f is not None:
        data = proto.SerializeToString()
        if hasattr(f, "write"):
            f.write(data)
        else:
            with open(f, "wb") as fh:
                fh.write(data)
    return proto
