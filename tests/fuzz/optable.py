"""The table of ops the fuzz suite compares with PyTorch: one `Spec` per public op.

Each spec names the striate callable and the PyTorch one (usually one lambda with the library
swapped), a generator of calls (`gen(grad) -> strategy of Case`), whether gradients are compared,
and the names an error message may use. `EXCLUDED` lists, with the reason, every public name of
`striate.functional` and `striate.Tensor` that is not compared here; `test_coverage` fails when a
public name is in neither.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import striate.functional as F
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import striate

from .engine import ALL, FLOATS, NUM, Arr, Case, shapes, tensors, torch

TF = torch.nn.functional


@dataclass
class Spec:
    name: str  # "F.sum", "Tensor.sum", "Tensor.__add__"
    s: object  # striate callable
    t: object  # PyTorch callable
    gen: object  # gen(grad: bool) -> strategy of Case
    diff: bool = True
    names: tuple = ()


SPECS: dict[str, Spec] = {}


def add(name, s, t, gen, diff=True, names=None):
    short = name.split(".")[-1].strip("_")
    SPECS[name] = Spec(name, s, t, gen, diff, tuple(names or (short,)))


def tfn(name):
    return getattr(torch, name, None) or getattr(TF, name)


# ---- generators ---------------------------------------------------------------------------------


def unary(dtypes=ALL, **kw):
    def gen(grad):
        return tensors(dtypes=dtypes, grad=grad, **kw).map(lambda x: Case((x,)))
    return gen


@st.composite
def _binary(draw, grad, dtypes, scalar, n=2):
    bs = draw(hnp.mutually_broadcastable_shapes(num_shapes=n, min_dims=0, max_dims=4,
                                                  max_side=3))
    xs = [draw(tensors(shape=s, dtypes=dtypes, grad=grad)) for s in bs.input_shapes]
    if scalar and draw(st.integers(0, 4)) == 0:
        xs[-1] = draw(st.sampled_from([2, -1, 0, 0.5, 2.5, True]))
    return Case(tuple(xs))


def binary(dtypes=ALL, scalar=True):
    return lambda grad: _binary(grad, dtypes, scalar)


def _dim(draw, ndim, allow_none=True, allow_tuple=False):
    opts = ["int"] + (["none"] if allow_none else []) + (["tuple"] if allow_tuple else [])
    kind = draw(st.sampled_from(opts))
    lo, hi = -max(ndim, 1), max(ndim, 1) - 1
    if kind == "none":
        return None
    if kind == "int":
        return draw(st.integers(lo, hi))
    return tuple(draw(st.lists(st.integers(lo, hi), max_size=3)))


def reduce(dtypes=ALL, tuple_dims=True, none=True, extra=None, min_side=0):
    @st.composite
    def gen_(draw, grad):
        x = draw(tensors(shape=draw(shapes(min_side=min_side)), dtypes=dtypes, grad=grad))
        kw = {"dim": _dim(draw, x.a.ndim, none, tuple_dims)}
        if kw["dim"] is None and draw(st.booleans()):
            kw = {}
        if kw and draw(st.booleans()):  # PyTorch has no keepdim= without dim=
            kw["keepdim"] = draw(st.booleans())
        if extra is not None:
            kw.update(draw(extra))
        return Case((x,), kw)
    return gen_


def along_dim(dtypes=FLOATS, extra=None, min_dims=0):
    @st.composite
    def gen_(draw, grad):
        x = draw(tensors(shape=draw(shapes(min_dims=min_dims)), dtypes=dtypes, grad=grad))
        kw = {"dim": draw(st.integers(-max(x.a.ndim, 1), max(x.a.ndim, 1) - 1))}
        if extra is not None:
            kw.update(draw(extra))
        return Case((x,), kw)
    return gen_


# ---- elementwise --------------------------------------------------------------------------------

for _n in ("abs", "exp", "log", "sqrt", "neg", "sigmoid", "tanh", "sign", "isnan", "isfinite",
           "logical_not", "clone"):
    add(f"F.{_n}", getattr(F, _n), getattr(torch, _n), unary(),
        diff=_n not in ("isnan", "isfinite", "logical_not"))
add("F.relu", F.relu, torch.relu, unary())
for _n in ("sin", "cos", "expm1", "log1p"):
    add(f"F.{_n}", getattr(F, _n), getattr(torch, _n), unary())
for _n in ("gelu", "logsigmoid", "softplus"):
    add(f"F.{_n}", getattr(F, _n), getattr(TF, _n), unary())
for _n in ("cumsum", "cumprod"):
    add(f"F.{_n}", getattr(F, _n), getattr(torch, _n), along_dim())
add("F.prod", F.prod, torch.prod, along_dim())
add("F.logsumexp", F.logsumexp, torch.logsumexp, along_dim())


@st.composite
def _triangle(draw, grad):
    x = draw(tensors(shape=draw(shapes(min_dims=2)), dtypes=ALL, grad=grad))
    return Case((x,), {"diagonal": draw(st.integers(-3, 3))})


for _n in ("tril", "triu"):
    add(f"F.{_n}", getattr(F, _n), getattr(torch, _n), _triangle)
add("F.contiguous", F.contiguous, lambda x: x.contiguous(), unary())
add("F.elu", lambda x, **k: F.elu(x, **k), lambda x, **k: TF.elu(x, **k),
    lambda g: tensors(dtypes=ALL, grad=g).flatmap(
        lambda x: st.sampled_from([1.0, 0.5]).map(lambda a: Case((x,), {"alpha": a}))))
add("F.leaky_relu", F.leaky_relu, TF.leaky_relu,
    lambda g: tensors(dtypes=ALL, grad=g).flatmap(
        lambda x: st.sampled_from([0.01, 0.2]).map(lambda a: Case((x, a)))))
for _n in ("add", "sub", "mul", "div", "maximum", "minimum", "eq", "ne", "lt", "le", "gt", "ge",
           "logical_and", "logical_or"):
    add(f"F.{_n}", getattr(F, _n), getattr(torch, _n),
        binary(scalar=_n not in ("maximum", "minimum", "logical_and", "logical_or")),
        diff=_n in ("add", "sub", "mul", "div", "maximum", "minimum"))
add("F.pow", F.pow, torch.pow, binary(dtypes=NUM))


def _as_condition(c):
    """where's first argument: the drawn tensor, as bool and without a gradient."""
    cond = c.args[0]
    return Case((Arr(cond.a.astype(bool), cond.layout, grad=False), *c.args[1:]))


add("F.where", F.where, torch.where,
    lambda g: _binary(g, ALL, True, n=3).filter(lambda c: isinstance(c.args[0], Arr)).map(
        _as_condition))


@st.composite
def _clamp(draw, grad):
    x = draw(tensors(dtypes=NUM, grad=grad))
    lo = draw(st.sampled_from([None, -1.0, 0, -0.5]))
    hi = draw(st.sampled_from([None, 1.0, 2, 0.5]) if lo is not None else st.sampled_from([1.0, 2]))
    return Case((x,), {"min": lo, "max": hi})


add("F.clamp", F.clamp, torch.clamp, _clamp)
add("F.clip", F.clip, torch.clip, _clamp)

# ---- reductions ---------------------------------------------------------------------------------

for _n in ("sum", "mean", "amax", "amin"):
    add(f"F.{_n}", getattr(F, _n), getattr(torch, _n),
        reduce(dtypes=ALL if _n != "mean" else FLOATS, none=_n in ("sum", "mean")))
for _n in ("argmax", "argmin"):
    add(f"F.{_n}", getattr(F, _n), getattr(torch, _n), reduce(NUM, tuple_dims=False), diff=False)
for _n in ("max", "min"):  # PyTorch has no dim=None: the whole-tensor form is max(x)
    add(f"F.{_n}", getattr(F, _n), getattr(torch, _n),
        lambda g: reduce(ALL, tuple_dims=False)(g).map(
            lambda c: Case(c.args, {}) if c.kwargs.get("dim", 0) is None else c))
for _n in ("std", "var"):
    add(f"F.{_n}", getattr(F, _n), getattr(torch, _n),
        reduce(FLOATS, extra=st.sampled_from([{}, {"correction": 0}, {"unbiased": False}])))
for _n in ("softmax", "log_softmax"):
    add(f"F.{_n}", getattr(F, _n), getattr(TF, _n), along_dim(FLOATS))
add("F.argsort", F.argsort, torch.argsort,
    along_dim(NUM, st.fixed_dictionaries({"descending": st.booleans(), "stable": st.just(True)})),
    diff=False)
add("F.sort", F.sort, torch.sort,
    along_dim(NUM, st.fixed_dictionaries({"descending": st.booleans(), "stable": st.just(True)})))


@st.composite
def _topk(draw, grad):
    x = draw(tensors(shape=draw(shapes(min_dims=1)), dtypes=NUM, grad=grad))
    dim = draw(st.integers(-x.a.ndim, x.a.ndim - 1))
    k = draw(st.integers(0, x.a.shape[dim] + 1))
    return Case((x, k), {"dim": dim, "largest": draw(st.booleans())})


add("F.topk", F.topk, torch.topk, _topk)

# ---- shape --------------------------------------------------------------------------------------


@st.composite
def _reshape(draw, grad):
    x = draw(tensors(dtypes=ALL, grad=grad))
    n = x.a.size
    dims = [d for d in range(1, n + 1) if n % d == 0] or [0]
    a = draw(st.sampled_from(dims))
    shape = draw(st.sampled_from([(n,), (a, -1), (-1, a), (1, a, -1), (n, 1), (n + 1,)]))
    return Case((x, *shape))


add("F.reshape", F.reshape, torch.reshape,
    lambda g: _reshape(g).map(lambda c: Case((c.args[0], c.args[1:]))))
add("F.view", F.view, lambda x, *s: x.view(*s), _reshape)


@st.composite
def _flatten(draw, grad):
    x = draw(tensors(dtypes=ALL, grad=grad))
    nd = max(x.a.ndim, 1)
    return Case((x,), {"start_dim": draw(st.integers(-nd, nd - 1)),
                       "end_dim": draw(st.integers(-nd, nd - 1))})


add("F.flatten", F.flatten, torch.flatten, _flatten)
add("F.squeeze", F.squeeze, torch.squeeze,
    lambda g: tensors(shape=None, dtypes=ALL, grad=g).flatmap(lambda x: st.one_of(
        st.just(Case((x,))),
        st.integers(-max(x.a.ndim, 1), max(x.a.ndim, 1) - 1).map(lambda d: Case((x, d))))))
add("F.unsqueeze", F.unsqueeze, torch.unsqueeze,
    lambda g: tensors(dtypes=ALL, grad=g).flatmap(
        lambda x: st.integers(-x.a.ndim - 2, x.a.ndim + 1).map(lambda d: Case((x, d)))))
add("F.transpose", F.transpose, torch.transpose,
    lambda g: tensors(dtypes=ALL, grad=g).flatmap(lambda x: st.tuples(
        st.integers(-x.a.ndim - 1, x.a.ndim), st.integers(-x.a.ndim - 1, x.a.ndim)).map(
        lambda d: Case((x, *d)))))
add("F.permute", lambda x, *d: F.permute(x, d), lambda x, *d: x.permute(d),
    lambda g: tensors(dtypes=ALL, grad=g).flatmap(lambda x: st.one_of(
        st.permutations(range(x.a.ndim)), st.lists(st.integers(-4, 4), max_size=4)).map(
        lambda p: Case((x, *p)))))


@st.composite
def _expand(draw, grad):
    x = draw(tensors(shape=draw(shapes(max_side=2)), dtypes=ALL, grad=grad))
    target = [draw(st.sampled_from([d, -1] if d != 1 else [1, 3, -1, 0])) for d in x.a.shape]
    target = [draw(st.integers(0, 2)) for _ in range(draw(st.integers(0, 1)))] + target
    return Case((x, *target))


add("F.expand", lambda x, *s: F.expand(x, s), lambda x, *s: x.expand(s), _expand)
add("F.repeat", lambda x, *s: F.repeat(x, s), lambda x, *s: x.repeat(s),
    lambda g: tensors(shape=None, dtypes=ALL, grad=g).flatmap(lambda x: st.lists(
        st.integers(0, 3), min_size=x.a.ndim, max_size=x.a.ndim + 1).map(
        lambda r: Case((x, *r)))))


@st.composite
def _cat(draw, grad, stack=False):
    base = list(draw(shapes(min_dims=1, max_dims=3)))
    nd = len(base)
    dim = draw(st.integers(-nd - (1 if stack else 0), nd - (0 if stack else 1)))
    xs = []
    dtype_set = draw(st.sampled_from([("float32",), ("float64",), ("int64",), ("float32", "int64"),
                                      ("float16", "float64"), ALL]))
    for _ in range(draw(st.integers(1, 3))):
        s = list(base)
        if not stack:
            s[dim] = draw(st.integers(0, 3))
        xs.append(draw(tensors(shape=s, dtypes=dtype_set, grad=grad)))
    return Case((xs,), {"dim": dim})


add("F.cat", F.cat, torch.cat, _cat)
add("F.concatenate", F.concatenate, torch.cat, _cat, names=("concatenate", "cat"))
add("F.stack", F.stack, torch.stack, lambda g: _cat(g, stack=True))


@st.composite
def _split(draw, grad, chunk=False):
    x = draw(tensors(shape=draw(shapes(min_dims=1)), dtypes=ALL, grad=grad))
    dim = draw(st.integers(-x.a.ndim, x.a.ndim - 1))
    n = x.a.shape[dim]
    if chunk:
        return Case((x, draw(st.integers(1, 4))), {"dim": dim})
    if draw(st.booleans()):
        return Case((x, draw(st.integers(1, 4))), {"dim": dim})
    parts = draw(st.lists(st.integers(0, n), max_size=3))
    parts = parts + [n - sum(parts)] if sum(parts) <= n else parts
    return Case((x, parts), {"dim": dim})


add("F.split", F.split, torch.split, _split)
add("F.chunk", F.chunk, torch.chunk, lambda g: _split(g, chunk=True))

# ---- indexing -----------------------------------------------------------------------------------


@st.composite
def _gather(draw, grad, scatter=False):
    x = draw(tensors(shape=draw(shapes(min_dims=1, min_side=1)), dtypes=NUM, grad=grad))
    dim = draw(st.integers(-x.a.ndim, x.a.ndim - 1))
    ishape = [draw(st.integers(0, s)) for s in x.a.shape]
    rng = np.random.default_rng(draw(st.integers(0, 1000)))
    idx = rng.integers(0, x.a.shape[dim], size=ishape).astype(np.int64)
    if scatter:
        src = draw(tensors(shape=ishape, dtypes=(str(x.a.dtype),), grad=grad))
        return Case((x, dim, Arr(idx), src))
    return Case((x, dim, Arr(idx)))


add("F.gather", F.gather, torch.gather, _gather)
add("F.scatter_add", F.scatter_add, torch.scatter_add, lambda g: _gather(g, scatter=True))


@st.composite
def _masked_fill(draw, grad):
    bs = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3))
    x = draw(tensors(shape=bs.result_shape, dtypes=ALL, grad=grad))
    m = draw(tensors(shape=bs.input_shapes[1], dtypes=("bool",), need_grad=False))
    return Case((x, m, draw(st.sampled_from([0.0, -1.5, float("-inf"), 3]))))


add("F.masked_fill", F.masked_fill, torch.masked_fill, _masked_fill)


@st.composite
def _getitem(draw, grad):
    x = draw(tensors(shape=draw(shapes(min_dims=1, min_side=1, max_dims=3)), dtypes=ALL,
                     grad=grad))
    idx = []
    for d in x.a.shape[: draw(st.integers(1, x.a.ndim))]:
        idx.append(draw(st.one_of(
            st.integers(-d, d - 1), st.just(slice(None)), st.just(slice(None, None, 2)),
            st.just(slice(1, None)), st.lists(st.integers(-d, d - 1), min_size=1, max_size=3),
            st.just(None))))
    return Case((x, tuple(idx)))


add("F.getitem", F.getitem, lambda x, i: x[i], _getitem)

# ---- linear algebra -----------------------------------------------------------------------------


@st.composite
def _matmul(draw, grad, kind="matmul"):
    n, k, m = (draw(st.integers(0, 3)) for _ in range(3))
    b = draw(st.integers(0, 2))
    dts = ("float32", "float64", "int64") if kind != "einsum" else ("float32", "float64")
    dt = draw(st.sampled_from(dts))
    if kind == "mm":
        sa, sb = (n, k), (k, m)
    elif kind == "bmm":
        sa, sb = (b, n, k), (b, k, m)
    else:
        sa = draw(st.sampled_from([(k,), (n, k), (b, n, k), (1, n, k)]))
        sb = draw(st.sampled_from([(k,), (k, m), (b, k, m), (2, 1, k, m)]))
    a = draw(tensors(shape=sa, dtypes=(dt,), grad=grad))
    c = draw(tensors(shape=sb, dtypes=(dt,), grad=grad))
    return Case((a, c))


add("F.matmul", F.matmul, torch.matmul, _matmul)
add("F.mm", F.mm, torch.mm, lambda g: _matmul(g, "mm"))
add("F.bmm", F.bmm, torch.bmm, lambda g: _matmul(g, "bmm"))


@st.composite
def _einsum(draw, grad):
    eq, sa, sb = draw(st.sampled_from([
        ("ij,jk->ik", (2, 3), (3, 2)), ("bij,bjk->bik", (2, 2, 3), (2, 3, 1)),
        ("i,i->", (4,), (4,)), ("ij->ji", (2, 3), None), ("ii->i", (3, 3), None),
        ("ij,j->i", (0, 3), (3,)), ("...i,...i->...", (2, 3), (1, 3))]))
    a = draw(tensors(shape=sa, dtypes=FLOATS, grad=grad))
    ops = (a,) if sb is None else (a, draw(tensors(shape=sb, dtypes=(str(a.a.dtype),),
                                                   grad=grad)))
    return Case((eq, *ops))


add("F.einsum", F.einsum, torch.einsum, _einsum)


@st.composite
def _linear(draw, grad):
    n, i, o = draw(st.integers(0, 3)), draw(st.integers(0, 3)), draw(st.integers(0, 3))
    dt = draw(st.sampled_from(FLOATS))
    lead = draw(st.sampled_from([(), (n,), (2, n)]))
    x = draw(tensors(shape=(*lead, i), dtypes=(dt,), grad=grad))
    w = draw(tensors(shape=(o, i), dtypes=(dt,), grad=grad))
    b = draw(st.one_of(st.none(), tensors(shape=(o,), dtypes=(dt,), grad=grad)))
    return Case((x, w, b))


add("F.linear", F.linear, TF.linear, _linear)

# ---- layers -------------------------------------------------------------------------------------


def _img(draw, grad, c=None, min_hw=0, n=None, dtypes=FLOATS):
    n = draw(st.integers(0, 2)) if n is None else n
    c = draw(st.integers(1, 3)) if c is None else c
    h, w = draw(st.integers(min_hw, 5)), draw(st.integers(min_hw, 5))
    return draw(tensors(shape=(n, c, h, w), dtypes=dtypes, grad=grad))


@st.composite
def _conv(draw, grad, transposed=False):
    groups = draw(st.sampled_from([1, 1, 2]))
    cin, cout = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    x = _img(draw, grad, c=cin, min_hw=1, dtypes=("float32", "float64"))
    dt = str(x.a.dtype)
    k = draw(st.integers(1, 3))
    wshape = (cin, cout // groups, k, k) if transposed else (cout, cin // groups, k, k)
    w = draw(tensors(shape=wshape, dtypes=(dt,), grad=grad))
    b = draw(st.one_of(st.none(), tensors(shape=(cout,), dtypes=(dt,), grad=grad)))
    kw = {"stride": draw(st.integers(1, 2)), "padding": draw(st.integers(0, 1)),
          "dilation": draw(st.integers(1, 2)), "groups": groups}
    if transposed and draw(st.booleans()) and kw["stride"] > 1:
        kw["output_padding"] = 1
    return Case((x, w, b), kw)


add("F.conv2d", F.conv2d, TF.conv2d, _conv)
add("F.conv_transpose2d", F.conv_transpose2d, TF.conv_transpose2d, lambda g: _conv(g, True))


@st.composite
def _pool(draw, grad, kind):
    x = _img(draw, grad, min_hw=1)
    k = draw(st.integers(1, 3))
    kw = {"kernel_size": k, "stride": draw(st.sampled_from([None, 1, 2])),
          "padding": draw(st.integers(0, k // 2)), "ceil_mode": draw(st.booleans())}
    if kind == "avg":
        kw["count_include_pad"] = draw(st.booleans())
    else:
        kw["dilation"] = draw(st.integers(1, 2))
        # PyTorch's answer is undefined where a dilated window holds padding only (its indices
        # point outside the input and its backward writes there): striate's is -inf and index -1
        # (docs/from-pytorch.md); such cases are not compared
        hw = x.a.shape[2:]
        if any(_padding_only_window(n, k, kw["stride"] or k, kw["padding"], kw["dilation"],
                                    kw["ceil_mode"]) for n in hw):
            kw["dilation"] = 1
    return Case((x,), kw)


def _padding_only_window(size, k, stride, pad, dilation, ceil_mode):
    """Whether some window of a max pooling along one axis holds no input element."""
    span = dilation * (k - 1) + 1
    n = (size + 2 * pad - span + (stride - 1 if ceil_mode else 0)) // stride + 1
    if ceil_mode and (n - 1) * stride >= size + pad:
        n -= 1
    return any(all(not 0 <= o * stride - pad + i * dilation < size for i in range(k))
               for o in range(max(n, 0)))


add("F.max_pool2d", F.max_pool2d, TF.max_pool2d, lambda g: _pool(g, "max"))
add("F.avg_pool2d", F.avg_pool2d, TF.avg_pool2d, lambda g: _pool(g, "avg"))


@st.composite
def _adaptive(draw, grad):
    x = _img(draw, grad, min_hw=1)
    return Case((x, draw(st.sampled_from([1, 2, 3, (2, 1), (1, 4)]))))


add("F.adaptive_avg_pool2d", F.adaptive_avg_pool2d, TF.adaptive_avg_pool2d, _adaptive)
add("F.adaptive_max_pool2d", F.adaptive_max_pool2d, TF.adaptive_max_pool2d, _adaptive)
add("F.max_unpool2d", lambda x, k: F.max_unpool2d(*F.max_pool2d(x, k, return_indices=True), k),
    lambda x, k: TF.max_unpool2d(*TF.max_pool2d(x, k, return_indices=True), k),
    lambda g: st.builds(lambda x, k: Case((x, k)),
                        tensors(shape=(1, 2, 4, 4), dtypes=FLOATS, grad=g), st.integers(1, 2)),
    names=("max_unpool2d", "max_pool2d"))


@st.composite
def _norm(draw, grad, kind):
    x = _img(draw, grad, c=draw(st.sampled_from([1, 2, 4])))
    c = x.a.shape[1]
    dt = str(x.a.dtype)
    w = draw(st.one_of(st.none(), tensors(shape=(c,), dtypes=(dt,), grad=grad)))
    b = draw(st.one_of(st.none(), tensors(shape=(c,), dtypes=(dt,), grad=grad)))
    if kind == "batch":
        rm = draw(tensors(shape=(c,), dtypes=(dt,), grad=grad, need_grad=False, specials=False))
        rv = draw(tensors(shape=(c,), dtypes=(dt,), lo=0.1, hi=2.0, grad=grad, need_grad=False))
        return Case((x, rm, rv, w, b), {"training": draw(st.booleans())})
    if kind == "group":
        return Case((x, draw(st.sampled_from([g for g in (1, 2, 4) if c % g == 0])), w, b))
    shape = x.a.shape[draw(st.integers(1, 3)):]
    w = draw(st.one_of(st.none(), tensors(shape=shape, dtypes=(dt,), grad=grad)))
    b = draw(st.one_of(st.none(), tensors(shape=shape, dtypes=(dt,), grad=grad)))
    return Case((x, shape, w, b))


add("F.batch_norm", F.batch_norm, TF.batch_norm, lambda g: _norm(g, "batch"))
add("F.group_norm", F.group_norm, TF.group_norm, lambda g: _norm(g, "group"))
add("F.layer_norm", F.layer_norm, TF.layer_norm, lambda g: _norm(g, "layer"))
add("F.local_response_norm", F.local_response_norm, TF.local_response_norm,
    lambda g: st.builds(lambda x, s: Case((x, s)),
                        tensors(shape=(2, 4, 3, 3), dtypes=FLOATS, grad=g), st.integers(1, 5)))


@st.composite
def _interp(draw, grad):
    x = _img(draw, grad, min_hw=1)
    mode = draw(st.sampled_from(["nearest", "bilinear", "bicubic"]))
    kw = {"mode": mode}
    if draw(st.booleans()):
        kw["size"] = draw(st.sampled_from([3, (2, 5), 1]))
    else:
        kw["scale_factor"] = draw(st.sampled_from([2, 2.0, 0.5, 3]))
    if mode != "nearest":
        kw["align_corners"] = draw(st.booleans())
    return Case((x,), kw)


add("F.interpolate", F.interpolate, TF.interpolate, _interp)


@st.composite
def _pad(draw, grad):
    x = _img(draw, grad, min_hw=2)
    p = tuple(draw(st.lists(st.integers(0, 2), min_size=2, max_size=4).filter(
        lambda v: len(v) % 2 == 0)))
    mode = draw(st.sampled_from(["constant", "reflect", "replicate"]))
    kw = {"mode": mode}
    if mode == "constant":
        kw["value"] = draw(st.sampled_from([0.0, -1.0]))
    else:  # PyTorch pads 4-d inputs by reflection or replication over both last dims
        p = tuple(min(v, 1) for v in (p * 2)[:4])
    return Case((x, p), kw)


add("F.pad", F.pad, TF.pad, _pad)


@st.composite
def _embedding(draw, grad):
    w = draw(tensors(shape=(draw(st.integers(1, 5)), draw(st.integers(0, 3))), dtypes=FLOATS,
                     grad=grad))
    rng = np.random.default_rng(draw(st.integers(0, 99)))
    idx = rng.integers(0, w.a.shape[0], size=draw(shapes(max_dims=2)))
    kw = {"padding_idx": draw(st.sampled_from([None, 0]))}
    return Case((Arr(idx.astype(np.int64)), w), kw)


add("F.embedding", F.embedding, TF.embedding, _embedding)


@st.composite
def _prelu(draw, grad):
    x = _img(draw, grad, c=draw(st.sampled_from([1, 3])))
    w = draw(tensors(shape=(draw(st.sampled_from([1, x.a.shape[1]])),),
                     dtypes=(str(x.a.dtype),), grad=grad))
    return Case((x, w))


add("F.prelu", F.prelu, TF.prelu, _prelu)

# ---- losses -------------------------------------------------------------------------------------

RED = st.sampled_from(["mean", "sum", "none"])


@st.composite
def _classif(draw, grad, kind):
    n, c = draw(st.integers(0, 4)), draw(st.integers(1, 4))
    extra = draw(st.sampled_from([(), (), (2,)])) if kind != "multi_margin" else ()
    x = draw(tensors(shape=(n, c, *extra), dtypes=("float32", "float64"), grad=grad))
    rng = np.random.default_rng(draw(st.integers(0, 99)))
    y = rng.integers(0, c, size=(n, *extra)).astype(np.int64)
    kw = {"reduction": draw(RED)}
    if kind in ("cross_entropy", "nll") and draw(st.booleans()):
        kw["ignore_index"] = int(draw(st.integers(0, c - 1)))
    if kind == "cross_entropy" and draw(st.booleans()):
        kw["label_smoothing"] = 0.1
    if draw(st.booleans()):
        kw["weight"] = draw(tensors(shape=(c,), dtypes=(str(x.a.dtype),), lo=0.1, hi=2.0,
                                    need_grad=False))
    return Case((x, Arr(y)), kw)


add("F.cross_entropy", F.cross_entropy, TF.cross_entropy, lambda g: _classif(g, "cross_entropy"))
add("F.nll_loss", F.nll_loss, TF.nll_loss, lambda g: _classif(g, "nll"))
add("F.multi_margin_loss", F.multi_margin_loss, TF.multi_margin_loss,
    lambda g: _classif(g, "multi_margin"))


@st.composite
def _regress(draw, grad, kind):
    s = draw(shapes(max_dims=3))
    dt = draw(st.sampled_from(("float32", "float64")))
    if kind == "bce":
        x = draw(tensors(shape=s, dtypes=(dt,), grad=grad, lo=0.02, hi=0.98))
        y = draw(tensors(shape=s, dtypes=(dt,), lo=0.0, hi=1.0, grad=grad, need_grad=False))
    else:
        x = draw(tensors(shape=s, dtypes=(dt,), grad=grad))
        y = draw(tensors(shape=s, dtypes=(dt,), grad=grad))
    kw = {"reduction": draw(RED)}
    if kind == "smooth_l1":
        kw["beta"] = draw(st.sampled_from([1.0, 0.5]))
    if kind == "huber":
        kw["delta"] = draw(st.sampled_from([1.0, 2.0]))
    if kind == "kl":
        kw["log_target"] = draw(st.booleans())
        if kw["reduction"] == "mean":
            kw["reduction"] = "batchmean"
    if kind == "bce_logits" and draw(st.booleans()):
        kw["pos_weight"] = draw(tensors(shape=s[-1:], dtypes=(dt,), lo=0.5, hi=2.0,
                                        need_grad=False))
    return Case((x, y), kw)


for _n, _k in (("mse_loss", "mse"), ("l1_loss", "l1"), ("smooth_l1_loss", "smooth_l1"),
               ("huber_loss", "huber"), ("binary_cross_entropy", "bce"),
               ("binary_cross_entropy_with_logits", "bce_logits"), ("kl_div", "kl")):
    add(f"F.{_n}", getattr(F, _n), getattr(TF, _n), lambda g, k=_k: _regress(g, k))

# ---- recurrent cells ----------------------------------------------------------------------------


@st.composite
def _cell(draw, grad, gates):
    n, i, h = draw(st.integers(0, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    dt = draw(st.sampled_from(("float32", "float64")))
    T = lambda *s: tensors(shape=s, dtypes=(dt,), grad=grad)  # noqa: E731
    x, w_ih, w_hh = draw(T(n, i)), draw(T(gates * h, i)), draw(T(gates * h, h))
    b_ih, b_hh = draw(T(gates * h)), draw(T(gates * h))
    hx = draw(T(n, h))
    if gates == 4:
        hx = (hx, draw(T(n, h)))
    return Case((x, hx, w_ih, w_hh, b_ih, b_hh))


add("F.rnn_cell", F.rnn_cell, torch.rnn_tanh_cell, lambda g: _cell(g, 1))
add("F.lstm_cell", F.lstm_cell, torch.lstm_cell, lambda g: _cell(g, 4))
add("F.gru_cell", F.gru_cell, torch.gru_cell, lambda g: _cell(g, 3))

# ---- casts --------------------------------------------------------------------------------------

DTYPE_NAMES = ("float16", "float32", "float64", "int32", "int64", "uint8", "bool")
add("F.cast", lambda x, d: F.cast(x, getattr(striate, d) if d != "bool" else striate.bool),
    lambda x, d: x.to(getattr(torch, d)),
    lambda g: st.builds(lambda x, d: Case((x, d)), tensors(dtypes=ALL, grad=g),
                        st.sampled_from(DTYPE_NAMES if not g else FLOATS)))

# ---- Tensor methods -----------------------------------------------------------------------------


def method(n):
    return lambda x, *a, **k: getattr(x, n)(*a, **k)


# methods that are the F function with the tensor first: the same generator
for _n in ("abs", "argmax", "argmin", "argsort", "chunk", "clamp", "clip", "clone", "contiguous",
           "eq", "exp", "expand", "flatten", "gather", "ge", "gt", "le", "log", "log_softmax",
           "lt", "masked_fill", "matmul", "max", "maximum", "mean", "min", "minimum", "ne",
           "permute", "pow", "relu", "repeat", "reshape", "scatter_add", "sigmoid", "softmax",
           "sort", "split", "sqrt", "squeeze", "std", "sum", "tanh", "topk", "transpose",
           "unsqueeze", "var", "view"):
    _f = SPECS[f"F.{_n}"]
    if _n in ("permute", "expand", "repeat"):  # sizes as one tuple: PyTorch needs at least one
        add(f"Tensor.{_n}", lambda x, *d, n=_n: getattr(x, n)(d),
            lambda x, *d, n=_n: getattr(x, n)(d), _f.gen, _f.diff)
        continue
    add(f"Tensor.{_n}", method(_n), method(_n), _f.gen, _f.diff)
SPECS["Tensor.reshape"].gen = lambda g: _reshape(g)  # x.reshape(*shape) as well as (shape)
add("Tensor.std", method("std"), method("std"), reduce(FLOATS, extra=st.sampled_from(
    [{}, {"unbiased": False}])))
add("Tensor.var", method("var"), method("var"), reduce(FLOATS, extra=st.sampled_from(
    [{}, {"unbiased": False}])))

# in place, on a clone so that the result is a non-leaf tensor of the graph
for _n in ("add_", "sub_", "mul_", "div_"):
    add(f"Tensor.{_n}", lambda x, y, n=_n: getattr(x.clone(), n)(y),
        lambda x, y, n=_n: getattr(x.clone(), n)(y), binary(scalar=True), names=(_n, _n[:-1]))
add("Tensor.clamp_", lambda x, **k: x.clone().clamp_(**k), lambda x, **k: x.clone().clamp_(**k),
    _clamp, names=("clamp_", "clamp"))
add("Tensor.masked_fill_", lambda x, m, v: x.clone().masked_fill_(m, v),
    lambda x, m, v: x.clone().masked_fill_(m, v), _masked_fill, names=("masked_fill",))
add("Tensor.fill_", lambda x, v: x.clone().fill_(v), lambda x, v: x.clone().fill_(v),
    lambda g: st.builds(lambda x, v: Case((x, v)), tensors(grad=g), st.sampled_from([0, 1.5, -2])))
add("Tensor.zero_", lambda x: x.clone().zero_(), lambda x: x.clone().zero_(), unary())
add("Tensor.copy_", lambda x, y: x.clone().copy_(y), lambda x, y: x.clone().copy_(y),
    binary(scalar=False))

for _n in ("all", "any"):
    add(f"Tensor.{_n}", method(_n), method(_n), reduce(ALL, tuple_dims=False), diff=False)
for _n in ("bool", "double", "float", "half", "int", "long", "t", "detach", "cpu", "dim",
           "numel", "tolist"):
    add(f"Tensor.{_n}", method(_n), method(_n),
        unary(ALL),
        diff=_n in ("double", "float", "half", "t"))
add("Tensor.to", lambda x, d: x.to(getattr(striate, d)), lambda x, d: x.to(getattr(torch, d)),
    SPECS["F.cast"].gen)
add("Tensor.type", lambda x, d: x.type(getattr(striate, d)), lambda x, d: x.type(getattr(torch, d)),
    SPECS["F.cast"].gen)
add("Tensor.size", method("size"), method("size"),
    lambda g: tensors(grad=g).flatmap(lambda x: st.one_of(st.just(Case((x,))), st.integers(
        -max(x.a.ndim, 1) - 1, max(x.a.ndim, 1)).map(lambda d: Case((x, d))))), diff=False)
add("Tensor.item", method("item"), method("item"),
    lambda g: draw_one_shape().flatmap(
        lambda s: tensors(shape=s, grad=g).map(lambda x: Case((x,)))), diff=False)
add("Tensor.view_as", lambda x, y: x.view_as(y), lambda x, y: x.view_as(y),
    lambda g: _reshape(g).map(lambda c: Case((c.args[0], _shaped_like(c)))),
    names=("view_as", "view"))


def draw_one_shape():
    return st.sampled_from([(), (1,), (1, 1), (2,), (0,)])


def _shaped_like(c):
    shape = [c.args[0].a.size if d == -1 else d for d in c.args[1:]]
    return Arr(np.zeros([max(d, 0) for d in shape]), grad=False)


# Python operators on Tensors
_OPS = {"__add__": "add", "__radd__": "add", "__sub__": "sub", "__rsub__": "sub",
        "__mul__": "mul", "__rmul__": "mul", "__truediv__": "div", "__rtruediv__": "div",
        "__pow__": "pow", "__rpow__": "pow", "__lt__": "lt", "__le__": "le", "__gt__": "gt",
        "__ge__": "ge", "__eq__": "eq", "__ne__": "ne", "__and__": "and", "__or__": "or",
        "__xor__": "xor", "__rand__": "and", "__ror__": "or", "__rxor__": "xor"}
for _d, _short in _OPS.items():
    add(f"Tensor.{_d}", method(_d), method(_d), binary(scalar=True),
        diff=_short in ("add", "sub", "mul", "div", "pow"),
        names=(_short, _d, {"add": "+", "sub": "-", "mul": "*", "div": "/"}.get(_short, _d)))
for _d in ("__neg__", "__pos__", "__abs__", "__invert__"):
    add(f"Tensor.{_d}", method(_d), method(_d), unary(), diff=_d != "__invert__",
        names=(_d, _d.strip("_"), "bitwise_not"))
for _n in ("bitwise_and", "bitwise_or", "bitwise_xor"):
    add(f"F.{_n}", getattr(F, _n), getattr(torch, _n), binary(scalar=True), diff=False)
add("F.bitwise_not", F.bitwise_not, torch.bitwise_not, unary(), diff=False)
add("Tensor.__matmul__", method("__matmul__"), method("__matmul__"), _matmul,
    names=("matmul", "@"))
add("Tensor.__getitem__", lambda x, i: x[i], lambda x, i: x[i], _getitem,
    names=("getitem", "index"))
add("Tensor.__setitem__", lambda x, i, v: _setitem(x, i, v), lambda x, i, v: _setitem(x, i, v),
    lambda g: _getitem(g).flatmap(lambda c: st.sampled_from([0.0, -2.5, 7]).map(
        lambda v: Case((*c.args, v)))), names=("setitem", "index"))


def _setitem(x, i, v):
    y = x.clone()
    y[i] = v
    return y


# ---- the functions and methods that landed with the fuzz suite (issue 11's remainder) ----------


@st.composite
def _close(draw, grad):
    c = draw(_binary(grad, FLOATS + ("int64",), scalar=False))
    kw = {}
    if draw(st.booleans()):
        kw = {"rtol": draw(st.sampled_from([0.0, 1e-3, 0.5])),
              "atol": draw(st.sampled_from([0.0, 1e-8, 0.1])), "equal_nan": draw(st.booleans())}
    return Case(c.args, kw)


for _n in ("isclose", "allclose"):
    add(f"F.{_n}", getattr(F, _n), getattr(torch, _n), _close, diff=False)
    add(f"Tensor.{_n}", method(_n), method(_n), _close, diff=False)


@st.composite
def _flip(draw, grad, method=False):
    x = draw(tensors(dtypes=ALL, grad=grad))
    nd = max(x.a.ndim, 1)
    dims = tuple(draw(st.lists(st.integers(-nd, nd - 1), max_size=3)))
    return Case((x, *dims)) if method else Case((x, dims))


add("F.flip", F.flip, torch.flip, _flip)
add("Tensor.flip", method("flip"), method("flip"), lambda g: _flip(g, method=True))


@st.composite
def _roll(draw, grad):
    x = draw(tensors(dtypes=ALL, grad=grad))
    nd = max(x.a.ndim, 1)
    if draw(st.booleans()):
        return Case((x, draw(st.integers(-5, 5))))
    k = draw(st.integers(1, 2))
    shifts = tuple(draw(st.lists(st.integers(-5, 5), min_size=k, max_size=k)))
    dims = tuple(draw(st.lists(st.integers(-nd, nd - 1), min_size=k, max_size=k)))
    return Case((x, shifts, dims))


add("F.roll", F.roll, torch.roll, _roll)
add("Tensor.roll", method("roll"), method("roll"), _roll)


@st.composite
def _narrow(draw, grad):
    x = draw(tensors(shape=draw(shapes(min_dims=1)), dtypes=ALL, grad=grad))
    dim = draw(st.integers(-x.a.ndim, x.a.ndim - 1))
    n = x.a.shape[dim]
    start = draw(st.integers(-n - 1, n + 1))
    return Case((x, dim, start, draw(st.integers(0, n + 1))))


add("F.narrow", F.narrow, torch.narrow, _narrow)
add("Tensor.narrow", method("narrow"), method("narrow"), _narrow)


@st.composite
def _norm(draw, grad, vector=False):
    x = draw(tensors(dtypes=FLOATS, grad=grad))
    kw = {}
    order = draw(st.sampled_from([2, 1, float("inf"), 3, 0.5] + ([] if vector else ["fro"])))
    kw["ord" if vector else "p"] = order
    if draw(st.booleans()):
        nd = max(x.a.ndim, 1)
        kw["dim"] = draw(st.one_of(st.integers(-nd, nd - 1), st.just(tuple(range(x.a.ndim)))))
        kw["keepdim"] = draw(st.booleans())
    return Case((x,), kw)


add("F.norm", F.norm, torch.norm, _norm)
add("Tensor.norm", method("norm"), method("norm"), _norm)
add("F.vector_norm", F.vector_norm, torch.linalg.vector_norm, lambda g: _norm(g, vector=True),
    names=("vector_norm", "norm"))


@st.composite
def _one_hot(draw, grad):
    n = draw(st.integers(1, 4))
    rng = np.random.default_rng(draw(st.integers(0, 99)))
    idx = rng.integers(-1 if draw(st.integers(0, 5)) == 0 else 0, n,
                       size=draw(shapes(max_dims=3)))
    return Case((Arr(idx.astype(np.int64)),), {"num_classes": draw(st.sampled_from([-1, n,
                                                                                    n + 2]))})


add("F.one_hot", F.one_hot, TF.one_hot, _one_hot, diff=False)

# random draws: compared by what they must be (shape, dtype, range, errors), not by value
add("F.rand_like", lambda x: _unit_range(F.rand_like(x)), lambda x: _unit_range(
    torch.rand_like(x)), unary(), diff=False)
add("F.randn_like", lambda x: F.isfinite(F.randn_like(x)), lambda x: torch.isfinite(
    torch.randn_like(x)), unary(), diff=False)


def _unit_range(r):
    return (r >= 0) & (r < 1)


@st.composite
def _randint(draw, grad):
    lo = draw(st.integers(-3, 3))
    hi = lo + draw(st.integers(-1, 4))
    return Case((lo, hi, tuple(draw(shapes(max_dims=3)))))


add("F.randint", lambda lo, hi, size: _in_range(F.randint(lo, hi, size), lo, hi),
    lambda lo, hi, size: _in_range(torch.randint(lo, hi, size), lo, hi), _randint, diff=False)


def _in_range(r, lo, hi):
    return ((r >= lo) & (r < hi)).long()


@st.composite
def _multinomial(draw, grad):
    shape = draw(st.sampled_from([(3,), (2, 3), (1, 1), (2, 4), (0,)]))
    p = draw(tensors(shape=shape, dtypes=("float32", "float64"), lo=0.0, hi=1.0))
    if p.a.size and draw(st.integers(0, 4)) == 0:  # a negative or NaN weight: both refuse
        p.a.flat[0] = draw(st.sampled_from([-0.5, np.nan]))
    replacement = draw(st.booleans())
    n = draw(st.integers(1, 5))
    return Case((p, n), {"replacement": replacement})


def _drawn_ok(idx, probs):
    """The shape and dtype of the draws, and that each index has a positive probability."""
    p = probs if probs.ndim == 2 else probs[None]
    i = idx if idx.ndim == 2 else idx[None]
    return p.gather(-1, i) > 0


add("F.multinomial", lambda p, n, **k: _drawn_ok(F.multinomial(p, n, **k), p),
    lambda p, n, **k: _drawn_ok(torch.multinomial(p, n, **k), p), _multinomial, diff=False)
add("Tensor.multinomial", lambda p, n, **k: _drawn_ok(p.multinomial(n, **k), p),
    lambda p, n, **k: _drawn_ok(p.multinomial(n, **k), p), _multinomial, diff=False,
    names=("multinomial",))

# methods that are an F function (or a compared method) with the tensor first
for _n in ("amax", "amin", "cos", "cumprod", "cumsum", "expm1", "log1p", "logsumexp", "prod",
           "sign", "sin", "tril", "triu", "bmm", "mm"):
    add(f"Tensor.{_n}", method(_n), method(_n), SPECS[f"F.{_n}"].gen, SPECS[f"F.{_n}"].diff)
for _n in ("mul",):
    add(f"Tensor.{_n}", method(_n), method(_n), binary(scalar=True))


@st.composite
def _alpha(draw, grad, name):
    c = draw(_binary(grad, ALL, True))
    if draw(st.booleans()):
        if name == "div":
            return Case(c.args, {"rounding_mode": draw(st.sampled_from([None, "trunc", "floor"]))})
        return Case(c.args, {"alpha": draw(st.sampled_from([2, -1, 0.5]))})
    return c


for _n in ("add", "sub", "div"):
    add(f"Tensor.{_n}", method(_n), method(_n), lambda g, n=_n: _alpha(g, n))
add("Tensor.clip_", lambda x, **k: x.clone().clip_(**k), lambda x, **k: x.clone().clip_(**k),
    _clamp, names=("clip_", "clamp_", "clamp"))
add("Tensor.relu_", lambda x: x.clone().relu_(), lambda x: x.clone().relu_(), unary(),
    names=("relu_", "relu"))


@st.composite
def _new(draw, grad, kind):
    x = draw(tensors(dtypes=ALL))
    kw = {}
    if draw(st.booleans()):
        kw["dtype"] = draw(st.sampled_from(DTYPE_NAMES))
    if kind == "tensor":
        return Case((x, draw(st.sampled_from([[1, 2], [[1.5], [-2.0]], 3, True, []]))), kw)
    size = tuple(draw(shapes(max_dims=3)))
    if kind == "full":
        return Case((x, size, draw(st.sampled_from([0, -2, 1.5, True]))), kw)
    return Case((x, *size), kw)


def _new_method(name, lib):
    def f(x, *a, dtype=None):
        kw = {} if dtype is None else {"dtype": getattr(lib, dtype)}
        return getattr(x, name)(*a, **kw)
    return f


for _n in ("full", "ones", "zeros", "tensor"):
    add(f"Tensor.new_{_n}", _new_method(f"new_{_n}", striate), _new_method(f"new_{_n}", torch),
        lambda g, k=_n: _new(g, k), diff=False)
add("Tensor.is_cuda", lambda x: x.is_cuda, lambda x: x.is_cuda, unary(), diff=False)
add("Tensor.retains_grad", lambda x: x.retains_grad, lambda x: x.retains_grad, unary(),
    diff=False)


# ---- remainders, floor division, the error function, augmented assignment ---------------------

for _n in ("remainder", "fmod", "floor_divide"):
    # floor_divide has no derivative in PyTorch (backward raises); striate's is 0
    add(f"F.{_n}", getattr(F, _n), getattr(torch, _n), binary(scalar=True),
        diff=_n != "floor_divide")
    add(f"Tensor.{_n}", method(_n), method(_n), binary(scalar=True), diff=_n != "floor_divide")
    add(f"Tensor.{_n}_", lambda x, y, n=_n: getattr(x.clone(), n + "_")(y),
        lambda x, y, n=_n: getattr(x.clone(), n + "_")(y), binary(scalar=True),
        diff=_n != "floor_divide", names=(_n + "_", _n))
for _n in ("erf", "erfc", "erfinv"):
    add(f"F.{_n}", getattr(F, _n), getattr(torch, _n), unary())
    add(f"Tensor.{_n}", method(_n), method(_n), unary())
    add(f"Tensor.{_n}_", lambda x, n=_n: getattr(x.clone(), n + "_")(),
        lambda x, n=_n: getattr(x.clone(), n + "_")(), unary(), names=(_n + "_", _n))
add("Tensor.pow_", lambda x, y: x.clone().pow_(y), lambda x, y: x.clone().pow_(y),
    binary(dtypes=NUM), names=("pow_", "pow"))
for _n in ("bitwise_and", "bitwise_or", "bitwise_xor"):
    add(f"Tensor.{_n}_", lambda x, y, n=_n: getattr(x.clone(), n + "_")(y),
        lambda x, y, n=_n: getattr(x.clone(), n + "_")(y), binary(scalar=True), diff=False,
        names=(_n + "_", _n))
# a number % tensor has no derivative in PyTorch (backward raises); striate's is -floor(a / b)
for _d, _short in (("__mod__", "remainder"), ("__rmod__", "remainder"),
                   ("__floordiv__", "floor_divide"), ("__rfloordiv__", "floor_divide")):
    add(f"Tensor.{_d}", method(_d), method(_d), binary(scalar=True), diff=_d == "__mod__",
        names=(_short, _d))


def _augmented(op):
    """``y = x.clone(); y op= other``: in place on a non-leaf of the graph, as PyTorch."""
    def f(x, o):
        y = x.clone()
        y2 = getattr(y, op)(o)
        assert y2 is y  # the same tensor, changed in place
        return y
    return f


_INPLACE = {"__iadd__": "add_", "__isub__": "sub_", "__imul__": "mul_", "__itruediv__": "div_",
            "__imod__": "remainder_", "__ifloordiv__": "floor_divide_", "__ipow__": "pow_",
            "__iand__": "bitwise_and_", "__ior__": "bitwise_or_", "__ixor__": "bitwise_xor_"}
for _d, _m in _INPLACE.items():
    add(f"Tensor.{_d}", _augmented(_d), _augmented(_d),
        binary(dtypes=NUM) if _d == "__ipow__" else binary(scalar=True),
        diff=_m in ("add_", "sub_", "mul_", "div_", "remainder_", "pow_"),
        names=(_m, _m[:-1], _d))


# ---- what is not compared here, and why ---------------------------------------------------------

EXCLUDED = {
    # random: compared by distribution in tests/ops and tests/autograd, not elementwise
    "F.dropout": "random: compared by distribution elsewhere (tests/ops/test_dropout.py)",
    "F.dropout2d": "random: compared by distribution elsewhere (tests/ops/test_dropout.py)",
    "F.dropconnect": "random, and no PyTorch counterpart",
    "F.stochastic_depth": "random (torchvision's stochastic_depth, not torch's)",
    "F.fractional_max_pool2d": "random pooling regions: tests/ops/test_ops_pooling_extra.py",
    "Tensor.normal_": "random: compared by distribution elsewhere",
    "Tensor.uniform_": "random: compared by distribution elsewhere",
    # striate's own ops from the course, with no PyTorch function to compare with
    "F.bed_of_nails": "course op with no PyTorch counterpart (tested against loops in tests/ops)",
    "F.maxout": "course op with no PyTorch counterpart (tested in tests/ops)",
    "F.temporal_softmax_loss": "CS231n's loss, no PyTorch counterpart (tests/ops)",
    # whole recurrent layers: one fused node; compared with nn.RNN/LSTM/GRU in tests/nn
    "F.rnn_layer": "compared with torch.nn.RNN through striate.nn.RNN in tests/nn",
    "F.lstm_layer": "compared with torch.nn.LSTM through striate.nn.LSTM in tests/nn",
    "F.gru_layer": "compared with torch.nn.GRU through striate.nn.GRU in tests/nn",
    # autograd machinery and attributes, not ops on values
    "Tensor.backward": "autograd entry point: exercised by every gradient comparison here",
    "Tensor.register_hook": "autograd hook machinery: tests/autograd",
    "Tensor.register_post_accumulate_grad_hook": "autograd hook machinery: tests/distributed",
    "Tensor.retain_grad": "autograd machinery: tests/autograd",
    "Tensor.requires_grad_": "a flag: tests/autograd",
    "Tensor.detach_": "autograd machinery: tests/autograd",
    "Tensor.grad": "autograd attribute: tests/autograd",
    "Tensor.grad_fn": "autograd attribute: tests/autograd",
    "Tensor.is_leaf": "autograd attribute: tests/autograd",
    "Tensor.requires_grad": "autograd attribute: tests/autograd",
    "Tensor.data": "attribute (a detached Tensor)",
    "Tensor.array": "striate's own attribute: the NumPy array (no PyTorch counterpart)",
    "Tensor.shape": "attribute: compared for every output of every op here",
    "Tensor.dtype": "attribute: compared for every output of every op here",
    "Tensor.ndim": "attribute: compared through every output's shape",
    "Tensor.device": "attribute: a str in striate (see docs/from-pytorch.md)",
    "Tensor.T": "property: x.T is F.permute's reversal; torch deprecates it for ndim != 2",
    # I/O with NumPy
    "Tensor.numpy": "I/O: shares the array (compared as every output's values)",
}

EXCLUDED.update({n: "1-d layers, pixel shuffle and attention: compositions of compared ops, "
                 "checked against PyTorch with copied weights in tests/nn" for n in (
    "F.avg_pool1d", "F.conv1d", "F.conv_transpose1d", "F.max_pool1d",
    "F.multi_head_attention_forward", "F.pixel_shuffle", "F.pixel_unshuffle",
    "F.scaled_dot_product_attention",
)})
