"""The fuzz suite's engine: generated arrays, the two conversions, and the comparison.

A `Case` holds NumPy arrays (wrapped in `Arr`) and plain arguments; `compare(spec, case, grad)`
runs the op through striate and through PyTorch on copies of the same arrays (same strides) and
returns the list of `Mismatch`es: values, dtypes, shapes, gradients, or errors (one library
raising where the other does not, or striate raising an error that names nothing).
"""

from __future__ import annotations

import os
import traceback
import warnings
from dataclasses import dataclass, field

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import striate

torch = __import__("torch")

FLOATS = ("float16", "float32", "float64")
INTS = ("int64", "int32", "uint8")
ALL = FLOATS + INTS + ("bool",)
NUM = FLOATS + ("int64", "int32")

# dtype-aware oracle: |s - t| <= atol * scale + rtol * |t|, scale the inputs' largest finite value
TOL = {"float16": (1e-2, 1e-2), "float32": (1e-5, 1e-4), "float64": (1e-10, 1e-7)}
GRAD_TOL = (1e-8, 1e-6)

SCALES = (1.0, 1.0, 1.0, 1.0, 1e-30, 1e-5, 1e5, 1e30, 1e300)


@dataclass
class Arr:
    """A NumPy array argument; `layout` says how it is laid out in memory for both libraries."""

    a: np.ndarray
    layout: str = "contiguous"  # contiguous | transposed | strided
    grad: bool = True  # a floating input that gradients are compared for

    def view(self) -> np.ndarray:
        """A fresh copy of the array with the layout's strides (each library gets its own)."""
        a = self.a.copy()
        if self.layout == "transposed" and a.ndim >= 2:
            return np.ascontiguousarray(a.T).T
        if self.layout == "strided" and a.ndim >= 1:
            big = np.repeat(a, 2, axis=-1)
            return big[..., ::2]
        return a

    def __repr__(self) -> str:
        if self.a.size == 0:
            return f"Arr(np.zeros({self.a.shape}, dtype='{self.a.dtype}'), {self.layout!r})"
        body = np.array2string(self.a, threshold=64, precision=8, separator=", ")
        return f"Arr(np.array({body}, dtype='{self.a.dtype}'), {self.layout!r})"


@dataclass
class Case:
    """One generated call: positional and keyword arguments, arrays as `Arr`."""

    args: tuple
    kwargs: dict = field(default_factory=dict)

    def arrays(self) -> list:
        out = []

        def walk(v):
            if isinstance(v, Arr):
                out.append(v)
            elif isinstance(v, (list, tuple)):
                for x in v:
                    walk(x)

        for v in (*self.args, *self.kwargs.values()):
            walk(v)
        return out

    # conditions that known disagreements and deliberate differences are stated in
    @property
    def dtypes(self) -> set:
        return {str(a.a.dtype) for a in self.arrays()}

    @property
    def has_int(self) -> bool:
        return any(a.a.dtype.kind in "iub" for a in self.arrays())

    @property
    def has_nan(self) -> bool:
        return any(a.a.dtype.kind == "f" and np.isnan(a.a).any() for a in self.arrays())

    @property
    def has_inf(self) -> bool:
        return any(a.a.dtype.kind == "f" and np.isinf(a.a).any() for a in self.arrays())

    @property
    def has_empty(self) -> bool:
        return any(a.a.size == 0 for a in self.arrays())

    @property
    def has_zero_d(self) -> bool:
        return any(a.a.ndim == 0 for a in self.arrays())

    @property
    def noncontiguous(self) -> bool:
        return any(a.layout != "contiguous" and a.a.ndim >= 1 for a in self.arrays())

    def first(self) -> np.ndarray:
        return self.arrays()[0].a


@dataclass
class Mismatch:
    aspect: str  # value | dtype | shape | grad | accepts | raises | error
    detail: str

    def __str__(self) -> str:
        return f"{self.aspect}: {self.detail}"


# ---- generation ---------------------------------------------------------------------------------


def shapes(min_dims=0, max_dims=4, min_side=0, max_side=4):
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side,
                            max_side=max_side)


def _values(rng, shape, dtype, scale, specials, lo=None, hi=None):
    dt = np.dtype(dtype)
    if dt.kind == "b":
        return np.asarray(rng.random(shape) < 0.5)
    if dt.kind in "iu":
        lo = (0 if dt.kind == "u" else -5) if lo is None else int(lo)
        hi = 6 if hi is None else int(hi)
        return np.asarray(rng.integers(lo, hi, size=shape)).astype(dt)
    if lo is not None or hi is not None:
        x = rng.uniform(-3.0 if lo is None else lo, 3.0 if hi is None else hi, size=shape)
    else:
        x = rng.standard_normal(shape) * scale
    # a few exact ties and zeros: max/min/sort/relu treat them specially
    if x.size and rng.random() < 0.3:
        x.flat[rng.integers(0, x.size, size=max(1, x.size // 3))] = x.flat[0]
    if x.size and specials and lo is None and hi is None:
        choice = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0])
        k = max(1, x.size // 4)
        x.flat[rng.integers(0, x.size, size=k)] = rng.choice(choice, size=k)
    with np.errstate(over="ignore", invalid="ignore"):
        return np.asarray(x).astype(dt)


@st.composite
def tensors(draw, shape=None, dtypes=ALL, grad=False, lo=None, hi=None, layout=True,
            specials=True, need_grad=True):
    """An `Arr` of the given (or a drawn) shape; grad mode: float64, finite, unit scale."""
    if shape is None:
        shape = draw(shapes())
    shape = tuple(shape)
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    if grad:
        dtype, scale, sp = "float64", 1.0, False
    else:
        dtype = draw(st.sampled_from(dtypes))
        scale = draw(st.sampled_from(SCALES)) if lo is None and hi is None else 1.0
        sp = specials and draw(st.booleans()) and draw(st.booleans())
    a = _values(rng, shape, dtype, scale, sp, lo, hi)
    kinds = ["contiguous"]
    if layout and len(shape) >= 1:
        kinds.append("strided")
    if layout and len(shape) >= 2:
        kinds.append("transposed")
    return Arr(a, draw(st.sampled_from(kinds)), need_grad)


# ---- running ------------------------------------------------------------------------------------


def _convert(v, lib, grad, leaves):
    if isinstance(v, Arr):
        a = v.view()
        want = grad and v.grad and a.dtype.kind == "f"
        if lib == "s":
            t = striate.Tensor(a, requires_grad=want)
        else:
            t = torch.from_numpy(a)
            if want:
                t.requires_grad_(True)
        leaves.append(t if want else None)
        return t
    if isinstance(v, list):
        return [_convert(x, lib, grad, leaves) for x in v]
    if isinstance(v, tuple):
        return tuple(_convert(x, lib, grad, leaves) for x in v)
    return v


def _flat(out) -> list:
    if isinstance(out, (striate.Tensor, torch.Tensor)):
        return [out]
    if isinstance(out, torch.Size):
        return [tuple(out)]
    if isinstance(out, (tuple, list)):
        return [y for x in out for y in _flat(x)]
    return [out]


def np_dtype(t) -> np.dtype:
    if isinstance(t, torch.Tensor):
        return torch.empty(0, dtype=t.dtype).numpy().dtype
    return np.dtype(t.dtype)


def _array(t) -> np.ndarray:
    if isinstance(t, torch.Tensor):
        return t.detach().numpy()
    return np.asarray(t.array)


def _scale(case: Case) -> float:
    m = 1.0
    for a in case.arrays():
        if a.a.dtype.kind == "f" and a.a.size:
            f = np.abs(a.a[np.isfinite(a.a)].astype(np.float64))
            if f.size:
                m = max(m, float(f.max()))
    return m


def close(s: np.ndarray, t: np.ndarray, atol: float, rtol: float) -> np.ndarray:
    """Elementwise agreement: same NaN positions, same infinities, atol + rtol elsewhere."""
    s = s.astype(np.float64)
    t = t.astype(np.float64)
    ok = np.isnan(s) == np.isnan(t)
    both = ~np.isnan(s) & ~np.isnan(t)
    with np.errstate(invalid="ignore", over="ignore"):
        inf = np.isinf(s) | np.isinf(t)
        ok &= ~both | np.where(inf, s == t, np.abs(s - t) <= atol + rtol * np.abs(t))
    return ok


def _compare_values(so, to, case, grad) -> list:
    ms = []
    if isinstance(to, torch.Size):  # a shape, compared whole
        ok = isinstance(so, tuple) and tuple(so) == tuple(to)
        return [] if ok else [Mismatch("value", f"size {so!r} vs {tuple(to)}")]
    sl, tl = _flat(so), _flat(to)
    if len(sl) != len(tl):
        return [Mismatch("shape", f"{len(sl)} outputs, PyTorch {len(tl)}")]
    scale = _scale(case)
    for i, (s, t) in enumerate(zip(sl, tl)):
        if isinstance(t, torch.Tensor):
            if not isinstance(s, striate.Tensor):
                ms.append(Mismatch("shape", f"output {i} is {type(s).__name__}, not a Tensor"))
                continue
            if tuple(s.shape) != tuple(t.shape):
                ms.append(Mismatch("shape", f"output {i}: {tuple(s.shape)} vs {tuple(t.shape)}"))
                continue
            if np_dtype(s) != np_dtype(t):
                ms.append(Mismatch("dtype", f"output {i}: {np_dtype(s)} vs {np_dtype(t)}"))
            sa, ta = _array(s), _array(t)
            if ta.dtype.kind == "f" and sa.dtype.kind in "fiub":
                atol, rtol = TOL.get(str(ta.dtype), TOL["float64"])
                ok = close(sa, ta, atol * scale, rtol)
                if not ok.all():
                    j = np.flatnonzero(~ok.ravel())[0]
                    ms.append(Mismatch("value", f"output {i} at flat {j}: "
                                       f"{sa.ravel()[j]!r} vs {ta.ravel()[j]!r}"))
            elif not np.array_equal(sa.astype(ta.dtype) if sa.dtype.kind != "f" else sa, ta):
                ms.append(Mismatch("value", f"output {i}: {sa.ravel()[:8]} vs {ta.ravel()[:8]}"))
        else:
            same = type(s) is type(t) and np.array_equal(np.asarray(s), np.asarray(t),
                                                         equal_nan=np.asarray(t).dtype.kind == "f")
            if isinstance(s, tuple) and isinstance(t, tuple):
                same = s == t
            if isinstance(s, striate.Tensor) or not same:
                ms.append(Mismatch("value", f"output {i}: {s!r} vs {t!r}"))
    return ms


def _origin_ok(exc: BaseException) -> str | None:
    """Why striate's error is not its own, or None: it must not come out of NumPy or Python."""
    tb = traceback.extract_tb(exc.__traceback__)
    if not tb:
        return None
    last = tb[-1].filename.replace(os.sep, "/")
    if "/numpy/" in last:
        return f"raised inside NumPy ({type(exc).__name__}: {exc})"
    if "/striate/" not in last and "/fuzz/" not in last:
        return f"raised outside striate in {last} ({type(exc).__name__}: {exc})"
    return None


def _run(fn, args, kwargs):
    try:
        return fn(*args, **kwargs), None
    except Exception as e:  # noqa: BLE001 - any error is compared with the other library's
        return None, e


def _grads(out, leaves, lib, seed):
    """Backward of sum(out_i * w_i) over the floating outputs, w fixed by `seed`."""
    rng = np.random.default_rng(seed)
    total = None
    for o in _flat(out):
        if isinstance(o, (striate.Tensor, torch.Tensor)) and np_dtype(o).kind == "f":
            w = rng.standard_normal(tuple(o.shape))
            if lib == "s":
                if not o.requires_grad:
                    continue
                term = (o * striate.Tensor(w.astype(np_dtype(o)))).sum()
            else:
                if not o.requires_grad:
                    continue
                term = (o * torch.from_numpy(w.astype(np_dtype(o)))).sum()
            total = term if total is None else total + term
    if total is None:
        return None
    total.backward()
    return [None if x is None or x.grad is None else _array(x.grad) for x in leaves]


def compare(spec, case: Case, grad: bool = False) -> tuple[list, str]:
    """Run `spec` on `case` in both libraries; (mismatches, outcome) with outcome agree|raise.

    Warnings are silenced: inf and NaN inputs make both libraries warn on purpose.
    """
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return _compare(spec, case, grad)


def _compare(spec, case: Case, grad: bool) -> tuple[list, str]:
    tl, sl = [], []
    targs = _convert(case.args, "t", grad, tl)
    tkw = {k: _convert(v, "t", grad, tl) for k, v in case.kwargs.items()}
    sargs = _convert(case.args, "s", grad, sl)
    skw = {k: _convert(v, "s", grad, sl) for k, v in case.kwargs.items()}
    tout, terr = _run(spec.t, targs, tkw)
    sout, serr = _run(spec.s, sargs, skw)
    if terr is not None:
        if serr is None:
            return [Mismatch("accepts", f"PyTorch raises {type(terr).__name__}: "
                             f"{str(terr).splitlines()[0][:200]}")], "raise"
        why = _origin_ok(serr)
        if why is None and not any(n in str(serr) for n in spec.names):
            why = f"message names none of {spec.names}: {type(serr).__name__}: {serr}"
        return ([Mismatch("error", why)] if why else []), "raise"
    if serr is not None:
        return [Mismatch("raises", f"{type(serr).__name__}: {str(serr)[:300]}")], "raise"
    ms = _compare_values(sout, tout, case, grad)
    if grad and not ms:
        ms += _compare_grads(sout, tout, sl, tl, case)
    return ms, "agree"


def _compare_grads(sout, tout, sl, tl, case) -> list:
    tg, terr = _run(_grads, (tout, tl, "t", 7), {})
    if terr is not None:
        return []  # PyTorch has no backward for this: nothing to compare with
    sg, serr = _run(_grads, (sout, sl, "s", 7), {})
    if serr is not None:
        return [Mismatch("grad", f"backward raises {type(serr).__name__}: {str(serr)[:200]}")]
    if tg is None:
        return []
    if sg is None:
        return [Mismatch("grad", "striate's outputs do not require grad")]
    ms = []
    for i, (s, t) in enumerate(zip(sg, tg)):
        if t is None:
            continue
        if s is None:
            if np.any(t != 0):
                ms.append(Mismatch("grad", f"input {i}: no gradient, PyTorch's is nonzero"))
            continue
        if s.shape != t.shape:
            ms.append(Mismatch("grad", f"input {i}: gradient shape {s.shape} vs {t.shape}"))
            continue
        ok = close(s, t, GRAD_TOL[0] * _scale(case), GRAD_TOL[1])
        if not ok.all():
            j = np.flatnonzero(~ok.ravel())[0]
            ms.append(Mismatch("grad", f"input {i} at flat {j}: {s.ravel()[j]!r} vs "
                               f"{t.ravel()[j]!r}"))
    return ms
