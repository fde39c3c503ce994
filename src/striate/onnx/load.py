"""``striate.onnx.load_model``: an ONNX file as a striate module that runs and fine-tunes.

The file's graph becomes a ``striate.jit`` graph whose nodes are ``striate.functional`` calls
(one small function of Tensors per ONNX operator, in :data:`_IMPORTERS`), so the module runs
through the same autograd Functions as eager code. Float initializers become parameters (the
running mean and variance of a BatchNormalization become buffers), under their ONNX names made
into Python identifiers (``onnx::Conv_193`` -> ``onnx__Conv_193``). Recurrent weights are put
back into PyTorch's gate order, so the LSTM runs on striate's fused layer.
"""

from __future__ import annotations

import re

import numpy as np

from .. import ops as F  # striate.functional
from ..autograd.tensor import Tensor
from ..jit import Graph, GraphModule, Node, eliminate_dead_code
from ._deps import require_onnx
from .export import UnsupportedOperatorError

__all__ = ["load_model", "SUPPORTED_OPSETS"]

SUPPORTED_OPSETS = range(13, 22)  # axes as inputs of Squeeze/Unsqueeze/ReduceSum (13 on)


def _ints(t) -> list:
    return [int(v) for v in np.asarray(t.array if isinstance(t, Tensor) else t).reshape(-1)]


# ---- the ONNX operators as functions of Tensors ------------------------------------------------

def _conv(x, w, b=None, *, strides, pads, dilations, group):
    top, left, bottom, right = pads
    if (top, left) != (bottom, right):
        x = F.pad(x, (left, right, top, bottom))
        top = left = 0
    return F.conv2d(x, w, b, stride=tuple(strides), padding=(top, left),
                    dilation=tuple(dilations), groups=group)


def _batch_norm(x, scale, bias, mean, var, *, epsilon):
    return F.batch_norm(x, mean, var, scale, bias, training=False, eps=epsilon)


def _pool(kind):
    def run(x, *, kernel_shape, strides, pads, ceil_mode, count_include_pad=0):
        top, left, bottom, right = pads
        if (top, left) != (bottom, right):
            raise UnsupportedOperatorError(f"onnx.load_model: {kind} with asymmetric pads {pads}")
        if kind == "MaxPool":
            return F.max_pool2d(x, tuple(kernel_shape), tuple(strides), (top, left),
                                ceil_mode=bool(ceil_mode))
        return F.avg_pool2d(x, tuple(kernel_shape), tuple(strides), (top, left),
                            ceil_mode=bool(ceil_mode), count_include_pad=bool(count_include_pad))
    return run


def _gemm(a, b, c=None, *, alpha, beta, transA, transB):
    if transA:
        a = a.t()
    y = F.linear(a, b) if transB else F.matmul(a, b)
    if alpha != 1.0:
        y = y * alpha
    if c is not None:
        y = y + (c * beta if beta != 1.0 else c)
    return y


def _flatten(x, *, axis):
    lead = int(np.prod(x.shape[:axis], dtype=np.int64))
    return x.reshape(lead, -1)


def _reshape(x, shape, *, allowzero=0):
    s = _ints(shape)
    if not allowzero:
        s = [x.shape[i] if v == 0 else v for i, v in enumerate(s)]
    return x.reshape(*s)


def _shape(x, *, start=0, end=None):
    return Tensor(np.asarray(x.shape[start:end], dtype=np.int64))


def _gather(data, idx, *, axis):
    if data.array.dtype.kind in "iu" or axis != 0:
        return Tensor(np.take(data.array, idx.array, axis=axis)) if data.array.dtype.kind in "iu" \
            else F.getitem(data, (slice(None),) * axis + (idx.array,))
    return F.embedding(idx, data)  # rows of a float table: the embedding lookup (trainable)


def _unsqueeze(x, axes):
    out = x
    n = x.ndim + len(_ints(axes))
    for a in sorted(a % n for a in _ints(axes)):
        out = out.unsqueeze(a)
    return out


def _squeeze(x, axes=None):
    if axes is None:
        return x.reshape(*[d for d in x.shape if d != 1])
    drop = {a % x.ndim for a in _ints(axes)}
    return x.reshape(*[d for i, d in enumerate(x.shape) if i not in drop])


def _concat(*xs, axis):
    if all(x.array.dtype.kind in "iu" for x in xs):  # shape arithmetic
        return Tensor(np.concatenate([x.array for x in xs], axis=axis))
    return F.cat(list(xs), axis)


def _expand(x, shape):
    target = np.broadcast_shapes(tuple(x.shape), tuple(_ints(shape)))
    return x.expand(*target)


def _constant_of_shape(shape, *, value=None):
    v = np.zeros(1, np.float32) if value is None else value
    return Tensor(np.full(_ints(shape), v.reshape(-1)[0], dtype=v.dtype))


def _slice(x, starts, ends, axes=None, steps=None):
    starts, ends = _ints(starts), _ints(ends)
    axes = list(range(len(starts))) if axes is None else _ints(axes)
    steps = [1] * len(starts) if steps is None else _ints(steps)
    index = [slice(None)] * x.ndim
    for s, e, a, st in zip(starts, ends, axes, steps):
        big = np.iinfo(np.int64).max // 2
        index[a % x.ndim] = slice(s, None if abs(e) >= big else e, st)
    return F.getitem(x, tuple(index))


def _pad(x, pads, value=None, axes=None, *, mode="constant"):
    if mode != "constant":
        raise UnsupportedOperatorError(f"onnx.load_model: Pad mode {mode!r} (constant only)")
    p = _ints(pads)
    n = len(p) // 2
    widths = []
    for k in reversed(range(n)):  # F.pad takes (last dim lo, hi, previous dim lo, hi, ...)
        widths += [p[k], p[k + n]]
    fill = 0.0 if value is None else float(value.array.reshape(-1)[0])
    return F.pad(x, tuple(widths), value=fill)


def _reduce_mean(x, axes=None, *, keepdims=1, axes_attr=None):
    ax = axes_attr if axes is None else _ints(axes)
    return F.mean(x, dim=None if ax is None else tuple(ax), keepdim=bool(keepdims))


def _reduce_sum(x, axes=None, *, keepdims=1):
    return F.sum(x, dim=None if axes is None else tuple(_ints(axes)), keepdim=bool(keepdims))


def _lstm(x, w_ih, w_hh, b_ih, b_hh, h0=None, c0=None, *, layout):
    from ..ops.recurrent import lstm_layer

    if layout:
        x = x.transpose(0, 1)
    h0 = None if h0 is None else h0[0]
    c0 = None if c0 is None else c0[0]
    out, c = lstm_layer(x, h0, c0, w_ih, w_hh, b_ih, b_hh)
    y = out.unsqueeze(1)  # (T, num_directions = 1, N, H)
    y_h, y_c = out[-1].unsqueeze(0), c.unsqueeze(0)
    if layout:
        y, y_h, y_c = y.permute(2, 0, 1, 3), y_h.transpose(0, 1), y_c.transpose(0, 1)
    return y, y_h, y_c


def _per_axis(v: np.ndarray, ndim: int, axis: int) -> np.ndarray:
    """A scale or zero point (scalar, or 1-D along ``axis``) shaped to broadcast on ndim dims."""
    if v.ndim == 0 or ndim < 2:
        return v
    shape = [1] * ndim
    shape[axis % ndim] = -1
    return v.reshape(shape)


def _quantize_linear(x, scale, zero_point=None, *, axis=1, saturate=1):
    # round(x / scale) + zero point, half to even, saturated to the zero point's integer type
    # (uint8 without one); a constant of the graph (no gradient), as ONNX has it
    zp = np.uint8(0) if zero_point is None else zero_point.array
    lo, hi = np.iinfo(zp.dtype).min, np.iinfo(zp.dtype).max
    s = _per_axis(scale.array, x.ndim, axis)
    z = _per_axis(np.asarray(zp, np.float32), x.ndim, axis)
    return Tensor(np.clip(np.round(x.array / s) + z, lo, hi).astype(zp.dtype))


def _dequantize_linear(x, scale, zero_point=None, *, axis=1):
    z = 0 if zero_point is None else _per_axis(zero_point.array.astype(np.float32), x.ndim, axis)
    s = _per_axis(scale.array, x.ndim, axis)
    return Tensor(((x.array.astype(np.float32) - z) * s).astype(scale.array.dtype))


def _unary(name):
    return lambda x: getattr(F, name)(x)


def _binary(fn):
    return lambda a, b: fn(a, b)


_IMPORTERS = {
    "Conv": _conv, "BatchNormalization": _batch_norm, "MaxPool": _pool("MaxPool"),
    "AveragePool": _pool("AveragePool"), "Gemm": _gemm, "Flatten": _flatten,
    "Reshape": _reshape, "Shape": _shape, "Gather": _gather, "Unsqueeze": _unsqueeze,
    "Squeeze": _squeeze, "Concat": _concat, "Expand": _expand,
    "ConstantOfShape": _constant_of_shape, "Slice": _slice, "Pad": _pad,
    "ReduceMean": _reduce_mean, "ReduceSum": _reduce_sum, "LSTM": _lstm,
    "GlobalAveragePool": lambda x: F.adaptive_avg_pool2d(x, 1),
    "Relu": _unary("relu"), "Sigmoid": _unary("sigmoid"), "Tanh": _unary("tanh"),
    "Exp": _unary("exp"), "Log": _unary("log"), "Sqrt": _unary("sqrt"), "Neg": _unary("neg"),
    "Abs": _unary("abs"), "Identity": lambda x: x, "Dropout": lambda x, *rest: x,
    "Add": _binary(F.add), "Sub": _binary(F.sub), "Mul": _binary(F.mul), "Div": _binary(F.div),
    "Pow": _binary(F.pow), "MatMul": _binary(F.matmul),
    "Transpose": lambda x, *, perm=None: x.permute(*(perm or range(x.ndim)[::-1])),
    "Softmax": lambda x, *, axis=-1: F.softmax(x, axis),
    "LogSoftmax": lambda x, *, axis=-1: F.log_softmax(x, axis),
    "LeakyRelu": lambda x, *, alpha=0.01: F.leaky_relu(x, alpha),
    "QuantizeLinear": _quantize_linear, "DequantizeLinear": _dequantize_linear,
}

# attribute defaults of the ONNX specification, for the operators that need them
_DEFAULTS = {
    "Conv": dict(strides=None, pads=None, dilations=None, group=1),
    "MaxPool": dict(strides=None, pads=None, ceil_mode=0),
    "AveragePool": dict(strides=None, pads=None, ceil_mode=0, count_include_pad=0),
    "Gemm": dict(alpha=1.0, beta=1.0, transA=0, transB=0),
    "BatchNormalization": dict(epsilon=1e-5),
    "Flatten": dict(axis=1),
    "Gather": dict(axis=0),
    "Concat": dict(),
    "LSTM": dict(layout=0),
}

# attributes read but not passed on, and values they may take
_IGNORED = {"BatchNormalization": {"momentum"}, "Dropout": {"seed"},
            "LSTM": {"hidden_size"}}


def _attrs(node, onnx) -> dict:
    out = {}
    for a in node.attribute:
        v = onnx.helper.get_attribute_value(a)
        if isinstance(v, bytes):
            v = v.decode()
        elif isinstance(v, onnx.TensorProto):
            v = onnx.numpy_helper.to_array(v)
        out[a.name] = v
    return out


def _fix_attrs(op: str, a: dict, nd: int, where: str) -> dict:
    a = {k: v for k, v in a.items() if k not in _IGNORED.get(op, ())}
    if op in ("Conv", "MaxPool", "AveragePool"):
        if a.pop("auto_pad", "NOTSET") not in ("NOTSET", "VALID"):
            raise UnsupportedOperatorError(f"onnx.load_model: {where}: auto_pad SAME_* is not "
                                           "supported; export with explicit pads")
        k = a.pop("kernel_shape", None)
        if op != "Conv":
            a["kernel_shape"] = k
        a["strides"] = a.get("strides") or [1] * nd
        a["pads"] = a.get("pads") or [0] * (2 * nd)
        if op == "Conv":
            a["dilations"] = a.get("dilations") or [1] * nd
        if op == "MaxPool" and (a.pop("dilations", None) or [1]) != [1] * nd:
            raise UnsupportedOperatorError(f"onnx.load_model: {where}: dilated MaxPool")
        a.pop("storage_order", None)
    if op == "ReduceMean" and "axes" in a:
        a["axes_attr"] = a.pop("axes")
    if op == "Squeeze" and "axes" in a:
        raise UnsupportedOperatorError(f"onnx.load_model: {where}: axes attribute (opset < 13)")
    if op == "LSTM":
        for bad, ok in (("direction", "forward"), ("input_forget", 0)):
            if a.pop(bad, ok) != ok:
                raise UnsupportedOperatorError(f"onnx.load_model: {where}: LSTM {bad} other "
                                               f"than {ok!r}")
        if "activations" in a or "clip" in a:
            raise UnsupportedOperatorError(f"onnx.load_model: {where}: LSTM with custom "
                                           "activations or clip")
    return a


def _identifier(name: str, taken: set) -> str:
    """A dotted name of Python identifiers (module paths may be digits) for an ONNX name."""
    parts = []
    for p in name.split("."):
        p = re.sub(r"\W", "_", p) or "_"
        parts.append(p)
    if not parts[-1].isidentifier():
        parts[-1] = "p_" + parts[-1]
    for k, p in enumerate(parts[:-1]):
        if not (p.isidentifier() or p.isdigit()):
            parts[k] = "m_" + p
    out = ".".join(parts)
    base, n = out, 1
    while out in taken:
        n += 1
        out = f"{base}_{n}"
    taken.add(out)
    return out


def _lstm_params(g: Graph, ins: list, where: str, taken: set) -> list:
    """ONNX LSTM (X, W, R, B, sequence_lens, initial_h, initial_c) -> (X, w_ih, w_hh, b_ih, b_hh,
    h0, c0) in PyTorch's gate order (ONNX: i, o, f, c; PyTorch: i, f, g, o)."""
    x, w, r, b, seq, h0, c0 = (ins + [None] * 7)[:7]
    if seq:
        raise UnsupportedOperatorError(f"onnx.load_model: {where}: LSTM sequence_lens")
    arrays = [g.constants.get(v) for v in (w, r)]
    if any(a is None for a in arrays):
        raise UnsupportedOperatorError(f"onnx.load_model: {where}: LSTM weights must be "
                                       "initializers")
    order = [0, 2, 3, 1]  # pytorch block k comes from onnx block order[k]

    def back(a):
        return np.concatenate([np.split(a, 4, axis=0)[k] for k in order], axis=0)

    w_ih, w_hh = back(arrays[0][0]), back(arrays[1][0])
    hsize = w_hh.shape[1]
    bias = g.constants.get(b) if b else np.zeros((1, 8 * hsize), w_ih.dtype)
    stem = _identifier(w + "_lstm", taken)
    names = []
    for suffix, v in (("weight_ih", w_ih), ("weight_hh", w_hh),
                      ("bias_ih", back(bias[0, :4 * hsize])),
                      ("bias_hh", back(bias[0, 4 * hsize:]))):
        name = f"{stem}.{suffix}"
        g.constants[name] = np.ascontiguousarray(v)
        g.params.add(name)
        g.meta[name] = (v.shape, v.dtype)
        names.append(name)
    return [x, *names, h0 or None, c0 or None]


def load_model(f) -> GraphModule:
    """Read an ONNX model (a path, bytes, a file object or a ``ModelProto``) as a striate
    module: called with the graph's inputs in order, it returns its output (a tuple for several),
    and its float weights are parameters, so it trains.

    Raises:
        UnsupportedOperatorError: an operator with no mapping, or an opset outside
            :data:`SUPPORTED_OPSETS`, named with the node.
        ImportError: the ``onnx`` extra is missing.
    """
    onnx = require_onnx("onnx.load_model")
    if isinstance(f, onnx.ModelProto):
        proto = f
    elif isinstance(f, (bytes, bytearray)):
        proto = onnx.load_from_string(bytes(f))
    else:
        proto = onnx.load(f)
    for imp in proto.opset_import:
        if imp.domain in ("", "ai.onnx") and imp.version not in SUPPORTED_OPSETS:
            raise UnsupportedOperatorError(
                f"onnx.load_model: opset {imp.version} is not supported (opsets "
                f"{SUPPORTED_OPSETS.start} to {SUPPORTED_OPSETS.stop - 1} are); re-export with "
                "opset_version=17")
        if imp.domain not in ("", "ai.onnx"):
            raise UnsupportedOperatorError(f"onnx.load_model: operator domain {imp.domain!r} "
                                           f"(opset {imp.version}) is not supported")
    pg = proto.graph
    g = Graph()
    taken: set = set()
    rename: dict = {}

    def name_of(v):
        return rename.get(v, v) if v else None

    bn_stats = {i for n in pg.node if n.op_type == "BatchNormalization" for i in n.input[3:5]}
    for init in pg.initializer:
        arr = onnx.numpy_helper.to_array(init).copy()
        new = _identifier(init.name, taken)
        rename[init.name] = new
        g.constants[new] = arr
        g.meta[new] = (arr.shape, arr.dtype)
        if arr.dtype.kind == "f" and arr.ndim >= 1 and init.name not in bn_stats:
            g.params.add(new)
    for inp in pg.input:
        if inp.name in rename:
            continue
        tt = inp.type.tensor_type
        dims = tuple(d.dim_value if d.HasField("dim_value") else None for d in tt.shape.dim)
        dtype = onnx.helper.tensor_dtype_to_np_dtype(tt.elem_type)
        rename[inp.name] = inp.name
        g.inputs.append(inp.name)
        g.meta[inp.name] = (dims, dtype)
    for k, node in enumerate(pg.node):
        op = node.op_type
        where = f"node {node.name or k} ({op})"
        if node.domain not in ("", "ai.onnx"):
            raise UnsupportedOperatorError(f"onnx.load_model: operator {node.domain}::{op} of "
                                           f"{where} is not supported")
        attrs = _attrs(node, onnx)
        if op == "Constant":
            value = attrs.get("value")
            if value is None:
                raise UnsupportedOperatorError(f"onnx.load_model: {where}: only 'value' "
                                               "Constants are supported")
            new = _identifier("const_" + node.output[0], taken)
            rename[node.output[0]] = new
            g.constants[new] = np.asarray(value)
            continue
        fn = _IMPORTERS.get(op)
        if fn is None:
            opset = next((i.version for i in proto.opset_import if i.domain in ("", "ai.onnx")),
                         "?")
            raise UnsupportedOperatorError(
                f"onnx.load_model: operator {op!r} (opset {opset}) of {where} has no striate "
                f"mapping; supported: {', '.join(sorted(_IMPORTERS))}")
        nd = 2
        attrs = _fix_attrs(op, {**_DEFAULTS.get(op, {}), **attrs}, nd, where)
        ins = [name_of(i) for i in node.input]
        if op == "LSTM":
            ins = _lstm_params(g, ins, where, taken)
        outs = []
        for o in node.output:
            new = o if o else f"unused_{k}_{len(outs)}"
            rename[o] = new
            outs.append(new)
        g.nodes.append(Node(op, ins, outs, attrs, fn, node.name))
    g.outputs = [name_of(o.name) for o in pg.output]
    g.output_tree = None if len(g.outputs) == 1 else tuple(range(len(g.outputs)))
    g = eliminate_dead_code(g)
    return GraphModule(g, None)
