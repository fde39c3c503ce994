"""Where striate deliberately differs from PyTorch: the fuzz suite asserts what striate does.

Each entry names the ops, the aspect that differs, the condition on the generated case, what
striate does and why (the same table ends `docs/from-pytorch.md`), and `check(spec, case)`, which
must hold for every generated case the entry covers: the difference is encoded, not skipped.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

import striate

from .engine import Arr, Case, close, torch


@dataclass
class Deliberate:
    ops: tuple
    aspect: str
    when: object  # Case -> bool
    does: str
    why: str
    check: object  # (spec, case) -> bool
    example: Case
    grad: bool = False  # the example's difference is in the gradients


def _s(spec, case):
    args = [striate.Tensor(a.view()) if isinstance(a, Arr) else a for a in case.args]
    return spec.s(*args, **case.kwargs)


def _view_is_reshape(spec, case):
    out = _s(spec, case)
    other = case.args[1]
    shape = other.a.shape if isinstance(other, Arr) else case.args[1:]
    return np.array_equal(out.array, case.args[0].a.reshape(shape), equal_nan=True)


def _half_as_float32(spec, case):
    """striate's float16 result is PyTorch's float32 result rounded to float16."""
    out = _s(spec, case)
    targs = [torch.from_numpy(a.a.astype(np.float32)) if isinstance(a, Arr) else a
             for a in case.args]
    ref = spec.t(*targs, **case.kwargs).numpy().astype(np.float16)
    return out.array.dtype == np.float16 and close(out.array, ref, 1e-2, 1e-2).all()


def _nan_where_inf_meets_padding(spec, case):
    """striate differs only by NaN where a non-finite weight meets zero padding (inf * 0)."""
    out = _s(spec, case).array
    targs = [torch.from_numpy(a.view()) if isinstance(a, Arr) else a for a in case.args]
    ref = spec.t(*targs, **case.kwargs).numpy()
    differ = ~close(out, ref, 1e-5 * 1e30, 1e-4)
    return bool(np.isnan(out[differ]).all())


def _mean_of_nothing_is_nan(spec, case):
    return bool(np.isnan(_s(spec, case).array).all())


def _nonfinite_weight_with_padding(c):
    w = c.args[1].a
    return (not np.isfinite(w).all()) and c.kwargs.get("padding", 0) != 0


def _stable_topk(spec, case):
    """Values are PyTorch's; at ties the indices are the lowest ones (a stable sort)."""
    values, indices = _s(spec, case)
    x, k = case.args[0].a, case.args[1]
    dim, largest = case.kwargs.get("dim", -1), case.kwargs.get("largest", True)
    key = -x.astype(np.float64) if largest else x
    order = np.argsort(key, axis=dim, kind="stable")  # NaN last (NumPy)
    if largest and x.dtype.kind == "f":  # NaN counts as the largest (PyTorch): NaNs first
        number = np.take_along_axis(~np.isnan(x), order, dim)
        order = np.take_along_axis(order, np.argsort(number, axis=dim, kind="stable"), dim)
    order = np.take(order, np.arange(k), axis=dim)
    tx = torch.from_numpy(x.copy())
    ref = torch.topk(tx, k, dim=dim, largest=largest).values.numpy()
    return np.array_equal(indices.array, order) and np.array_equal(values.array, ref,
                                                                    equal_nan=True)


def _overflow_differs_only_between_nonfinite(spec, case):
    """Where products overflow, inf or NaN depends on the summation order: only there differ."""
    out = _s(spec, case).array
    targs = [torch.from_numpy(a.view()) if isinstance(a, Arr) else a for a in case.args]
    ref = spec.t(*targs, **case.kwargs).numpy()
    differ = ~close(out, ref, 1e-10 * 1e300, 1e-4)
    return bool((~np.isfinite(out[differ])).all() and (~np.isfinite(ref[differ])).all())


def _products_overflow(c):
    big = [np.abs(a.a[np.isfinite(a.a)]).max(initial=0) for a in c.arrays()
           if a.a.dtype.kind == "f"]
    return len(big) >= 2 and float(np.prod(sorted(big)[-2:])) > np.finfo(
        c.arrays()[0].a.dtype).max / 64


def _zero_grads_of_nothing(spec, case):
    """Every floating input's gradient is zero: the sums over an empty input are 0."""
    args = [striate.Tensor(a.view(), requires_grad=a.a.dtype.kind == "f")
            if isinstance(a, Arr) else a for a in case.args]
    out = spec.s(*args, **case.kwargs)
    (out * 1.0).sum().backward()
    grads = [a.grad for a in args if isinstance(a, striate.Tensor) and a.requires_grad]
    return all(g is None or not g.array.any() for g in grads)


def _spread_over_every_dim(spec, case):
    """``unbiased=`` with ``keepdim=`` and no dim: NumPy's std/var over every dim."""
    out = _s(spec, case).array
    x = case.args[0].a.astype(np.float64)
    fn = np.std if "std" in spec.name else np.var
    with np.errstate(all="ignore"):
        ref = fn(x, ddof=1 if case.kwargs.get("unbiased", True) else 0,
                 keepdims=case.kwargs.get("keepdim", False))
    tol = {2: 1e-2, 4: 1e-4}.get(out.dtype.itemsize, 1e-7)
    return out.shape == ref.shape and bool(close(out, ref, tol * 1e300, tol).all())


def _as_float64_would(spec, case):
    """striate's answer is PyTorch's answer computed in float64, rounded to the input's dtype."""
    out = _s(spec, case).array
    targs = [torch.from_numpy(a.view().astype(np.float64)) if isinstance(a, Arr) else a
             for a in case.args]
    ref = spec.t(*targs, **case.kwargs).numpy().astype(out.dtype)
    return bool(close(out, ref, 1e-5, 1e-4).all())


def _float32_variance_overflows(c):
    return any(a.a.dtype == np.float32 and np.abs(a.a[np.isfinite(a.a)]).max(initial=0) > 1e18
               for a in c.arrays()[:1])


def _nan_where_pytorch_skips(spec, case):
    """striate agrees with PyTorch except where its answer is NaN."""
    out = _s(spec, case).array
    targs = [torch.from_numpy(a.view()) if isinstance(a, Arr) else a for a in case.args]
    ref = spec.t(*targs, **case.kwargs).numpy()
    differ = ~close(out, ref, 1e-5 * _finite_scale(case), 1e-4)
    return bool(np.isnan(out[differ]).all())


def _finite_scale(case):
    return max([1.0] + [float(np.abs(a.a[np.isfinite(a.a)]).max(initial=0))
                        for a in case.arrays() if a.a.dtype.kind == "f"])


def _refused_naming_the_op(spec, case):
    try:
        _s(spec, case)
    except TypeError as e:
        return spec.names[0] in str(e)
    return False


def _grad_as_over_every_dim(spec, case):
    """``dim=()`` reduces every dim; striate's gradient is that of the full reduction, which
    PyTorch gives for ``dim=(0, 1, ..)`` (its backward for ``dim=()`` differs from its forward)."""
    x = case.args[0].view()
    s = striate.Tensor(x.copy(), requires_grad=True)
    spec.s(s, *case.args[1:], **case.kwargs).sum().backward()
    kw = dict(case.kwargs, dim=tuple(range(x.ndim)))
    t = torch.from_numpy(x.copy()).requires_grad_(True)
    spec.t(t, *case.args[1:], **kw).sum().backward()
    return bool(close(s.grad.array, t.grad.numpy(), 1e-8, 1e-6).all())


MATMULS = ("F.matmul", "Tensor.matmul", "Tensor.__matmul__", "F.mm", "F.bmm", "F.einsum",
           "F.linear", "F.conv2d", "F.conv_transpose2d")

DELIBERATE: list[Deliberate] = [
    Deliberate(("F.topk", "Tensor.topk"), "value", lambda c: True,
               "`topk` at ties returns the lowest indices (always sorted, stable)",
               "one code path, deterministic ties (PyTorch's order at ties is unspecified)",
               _stable_topk,
               Case((Arr(np.array([[-2, -5, -4, -4]], np.int64)), 2),
                    {"dim": 1, "largest": False})),
    Deliberate(MATMULS, "value", _products_overflow,
               "where products overflow, an output may be inf where PyTorch's is NaN or the "
               "reverse; finite outputs agree",
               "inf - inf = NaN or not depends on the summation order, which BLAS chooses",
               _overflow_differs_only_between_nonfinite, None),
    Deliberate(("F.view", "Tensor.view", "Tensor.view_as"), "accepts",
               lambda c: c.noncontiguous,
               "`view` of a non-contiguous tensor returns the reshaped values (a copy when "
               "NumPy needs one)", "NumPy has no contiguity-checked view; `view` = `reshape`",
               _view_is_reshape,
               Case((Arr(np.arange(6.0).reshape(2, 3), "transposed"), 6))),
    Deliberate(("F.local_response_norm",), "accepts", lambda c: "float16" in c.dtypes,
               "float16 input is computed (PyTorch's CPU build has no float16 kernel for it)",
               "NumPy computes float16 everywhere; the answer is PyTorch's float32 one, rounded",
               _half_as_float32, Case((Arr(np.ones((1, 2, 2, 2), np.float16)), 2))),
    Deliberate(("F.conv2d", "F.conv_transpose2d"), "value", _nonfinite_weight_with_padding,
               "a non-finite weight tap over zero padding gives NaN (inf * 0)",
               "im2col multiplies every tap, as IEEE says; PyTorch's direct kernels skip padded "
               "taps on some paths and not on others", _nan_where_inf_meets_padding, None),
    Deliberate(("F.multi_margin_loss",), "value",
               lambda c: c.has_empty and c.kwargs.get("reduction", "mean") == "mean",
               "the mean over an empty batch is NaN",
               "0/0; PyTorch 2.13 returns uninitialised memory here",
               _mean_of_nothing_is_nan,
               Case((Arr(np.zeros((0, 3))), Arr(np.zeros(0, np.int64))), {"reduction": "mean"})),
    Deliberate(("F.std", "F.var", "Tensor.std", "Tensor.var"), "accepts",
               lambda c: "dim" not in c.kwargs and "unbiased" in c.kwargs,
               "`unbiased=` with `keepdim=` and no `dim` reduces over every dim (PyTorch's "
               "overloads lack this combination and refuse it)",
               "the call has one meaning, the one `correction=` gives it",
               _spread_over_every_dim,
               Case((Arr(np.array([1.0, 2.0])),), {"keepdim": True, "unbiased": False})),
    Deliberate(("F.layer_norm",), "value", _float32_variance_overflows,
               "float32 rows whose variance overflows float32 (values above ~1.8e19) are "
               "normalised in float64: the answer PyTorch gives in float64, rounded",
               "the normalised row is representable; PyTorch's float32 variance overflows to inf "
               "and its output is NaN", _as_float64_would,
               Case((Arr(np.array([[2e19, 4e19]], np.float32)), (2,)))),
    Deliberate(("F.multi_margin_loss",), "value", lambda c: c.has_nan or c.has_inf,
               "a NaN score (or inf - inf inside a margin) makes the loss NaN",
               "PyTorch's kernel adds a margin term only when it is > 0, so it skips NaN terms "
               "and a NaN score can give a finite loss", _nan_where_pytorch_skips,
               Case((Arr(np.array([[np.nan, 1.0, 2.0]])), Arr(np.array([0]))),
                    {"reduction": "sum"})),
    Deliberate(("F.randn_like",), "raises", lambda c: c.first().dtype.kind != "f",
               "an integer or bool input is refused even when it is empty",
               "there are no normal integers; PyTorch refuses them too, except for an empty "
               "tensor, where its kernel never runs", _refused_naming_the_op,
               Case((Arr(np.zeros((0, 2), np.uint8)),))),
    Deliberate(("F.std", "F.var", "Tensor.std", "Tensor.var"), "grad",
               lambda c: c.kwargs.get("dim", None) == () and c.first().ndim > 0,
               "`dim=()` reduces every dim, and the gradient is the full reduction's",
               "PyTorch 2.13's forward reduces every dim for `dim=()` but its backward does "
               "not: its gradient is not the derivative of its output", _grad_as_over_every_dim,
               Case((Arr(np.array([[1.0, 2.0, 4.0], [0.5, -1.0, 3.0]])),),
                    {"dim": (), "keepdim": True, "unbiased": False}), grad=True),
    Deliberate(("F.group_norm",), "grad", lambda c: c.has_empty,
               "an empty input gives zero gradients for weight and bias",
               "they are sums over no values; PyTorch 2.13 gives NaN for the weight's",
               _zero_grads_of_nothing,
               Case((Arr(np.zeros((1, 2, 0, 1))), 2, Arr(np.array([1.0, 2.0])),
                     Arr(np.array([0.0, 0.0])))), grad=True),
]


def match(op: str, aspect: str, case: Case) -> Deliberate | None:
    for d in DELIBERATE:
        if op in d.ops and d.aspect == aspect and d.when(case):
            return d
    return None
