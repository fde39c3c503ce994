"""``autocast``: mixed precision as PyTorch's ``torch.autocast`` does it, on NumPy.

Inside ``with autocast("cpu"):`` every op runs by one of three rules, chosen by its Function:

- matrix products (``Linear``, ``MatMul``, ``Conv2d``, ...) see their inputs, the weights
  included, rounded to float16 (the master weights stay float32) and store their output as
  float16; the products themselves accumulate in float32, as tensor cores do;
- ops that need range or precision (losses, softmax, normalisation, exp, log, sums) compute in
  float32 from float16 inputs;
- everything else runs in the dtype it is given (NumPy's promotion).

Backward follows the stored dtypes: the gradient reaching a float16 activation is stored as
float16 too (the engine casts every gradient to its output's dtype), so gradients smaller than
float16's least subnormal (6e-8) flush to zero. That is what ``GradScaler`` is for.

The hook is ``striate.autograd.function.forward_wrapper``: installed while some thread is inside
an ``autocast``, None otherwise (so code that never uses autocast pays nothing).
"""

from __future__ import annotations

import functools
import threading

import numpy as np

from ..autograd import function as _function

__all__ = ["autocast", "is_autocast_enabled", "FP16_OPS", "FP32_OPS"]

#: Functions run on float16-rounded inputs with a float16 output
FP16_OPS = frozenset({"Linear", "MatMul", "Conv2d", "ConvTranspose2d", "Einsum",
                      "ScaledDotProductAttention", "WinogradConv2d"})
#: Functions run in float32
FP32_OPS = frozenset({"CrossEntropy", "CrossEntropyProb", "NLLLoss", "MultiMargin",
                      "Regression", "BCEWithLogits", "BCE", "KLDiv", "TemporalSoftmaxLoss",
                      "Softmax", "LogSoftmax", "LogSumExp", "BatchNorm", "LayerNorm",
                      "GroupNorm", "LocalResponseNorm", "Exp", "Log", "Pow", "Sum", "Mean",
                      "Var", "Std", "PNorm", "Prod", "Cumsum", "Cumprod", "Softplus"})

_state = threading.local()
_lock = threading.Lock()
_active = 0  # autocast blocks open in all threads; the hook is installed while > 0


def _dtype(state) -> np.dtype | None:
    stack = getattr(state, "stack", None)
    return stack[-1] if stack else None


def is_autocast_enabled(device_type: str = "cpu") -> bool:
    """Whether the calling thread is inside an enabled ``autocast``."""
    return _dtype(_state) is not None


def _round(a, low):
    if isinstance(a, np.ndarray) and a.dtype.kind == "f" and a.dtype != low:
        # the value a float16 copy holds, kept in float32 for the float32-accumulating product
        return a.astype(low).astype(np.float32)
    return a


def _widen(a):
    if isinstance(a, np.ndarray) and a.dtype == np.float16:
        return a.astype(np.float32)
    return a


def _narrow(o, low):
    if isinstance(o, np.ndarray) and o.dtype.kind == "f":
        return o.astype(low)
    return o


def _forward(cls, ctx, arrays, params):
    low = _dtype(_state)
    if low is None:
        return cls.forward(ctx, *arrays, **params)
    name = cls.__name__
    if name in FP16_OPS:
        out = cls.forward(ctx, *[_round(a, low) for a in arrays], **params)
        return tuple(_narrow(o, low) for o in out) if type(out) is tuple else _narrow(out, low)
    if name in FP32_OPS:
        return cls.forward(ctx, *[_widen(a) for a in arrays], **params)
    return cls.forward(ctx, *arrays, **params)


class autocast:  # noqa: N801 - PyTorch's name
    """Run the ops inside in mixed precision (see the module docstring).

    Args:
        device_type: "cpu" or "cuda" (the rules are the same; accepted for PyTorch's signature).
        dtype: the low precision, float16 (default) or float32 (no change).
        enabled: False turns autocast off inside an enclosing one.

    Usable as a context manager or a decorator. Example:
        >>> import striate
        >>> lin = striate.nn.Linear(4, 3)
        >>> with autocast("cpu"):
        ...     y = lin(striate.ones(2, 4))
        >>> y.dtype, lin.weight.dtype
        (dtype('float16'), dtype('float32'))
    """

    def __init__(self, device_type: str = "cpu", dtype=None, enabled: bool = True,
                 cache_enabled=None):
        kind = str(getattr(device_type, "type", device_type)).split(":")[0]
        if kind not in ("cpu", "cuda"):
            raise ValueError(f"autocast: device_type must be 'cpu' or 'cuda', got "
                             f"{device_type!r}")
        dt = np.dtype(np.float16 if dtype is None else dtype)
        if dt not in (np.float16, np.float32):
            raise ValueError(f"autocast: dtype must be float16 or float32, got {dt}")
        self.device_type, self.dtype, self.enabled = kind, dt, bool(enabled)

    def __enter__(self):
        global _active
        stack = getattr(_state, "stack", None)
        if stack is None:
            stack = _state.stack = []
        stack.append(self.dtype if self.enabled and self.dtype == np.float16 else None)
        with _lock:
            _active += 1
            _function.forward_wrapper = _forward
        return self

    def __exit__(self, *exc):
        global _active
        _state.stack.pop()
        with _lock:
            _active -= 1
            if _active == 0:
                _function.forward_wrapper = None
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapped(*args, **kwargs):
            with autocast(self.device_type, self.dtype, self.enabled):
                return fn(*args, **kwargs)
        return wrapped
