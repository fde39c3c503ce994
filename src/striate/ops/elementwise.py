"""Elementwise operations: arithmetic, exp/log/sqrt/abs/pow, clip, maximum/minimum, where.

Each is a ``Function`` whose backward is the local derivative times the upstream gradient;
broadcasting is undone by the engine, not here.
"""

from __future__ import annotations

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ._helpers import (
    broadcast_shapes,
    cast_wrapping,
    float_result,
    require_float,
    result_type,
)

__all__ = [
    "add", "sub", "mul", "div", "neg", "pow", "exp", "log", "sqrt", "abs", "clip", "clamp",
    "maximum", "minimum", "where", "cast", "clone", "contiguous", "sign",
    "lt", "le", "gt", "ge", "eq", "ne", "logical_not", "logical_and", "logical_or", "isnan",
    "isfinite",
]  # fmt: skip


def _arr(x):
    return x.array if isinstance(x, Tensor) else x


class Add(Function):
    @staticmethod
    def forward(ctx, a, b):
        return a + b

    @staticmethod
    def backward(ctx, g):
        return g, g


class Sub(Function):
    @staticmethod
    def forward(ctx, a, b):
        return a - b

    @staticmethod
    def backward(ctx, g):
        return g, (-g if ctx.needs_input_grad[1] else None)


class Mul(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * b

    @staticmethod
    def backward(ctx, g):
        # d(ab)/da = b, d(ab)/db = a
        a, b = ctx.saved
        ga = g * b if ctx.needs_input_grad[0] else None
        gb = g * a if ctx.needs_input_grad[1] else None
        return ga, gb


class Div(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a / b

    @staticmethod
    def backward(ctx, g):
        # d(a/b)/da = 1/b, d(a/b)/db = -a/b^2
        a, b = ctx.saved
        ga = g / b if ctx.needs_input_grad[0] else None
        gb = -g * a / (b * b) if ctx.needs_input_grad[1] else None
        return ga, gb


class Neg(Function):
    @staticmethod
    def forward(ctx, a):
        return -a

    @staticmethod
    def backward(ctx, g):
        return -g


class Pow(Function):
    @staticmethod
    def forward(ctx, a, b):
        # np.power, not `**`: NumPy turns `x ** 0.5` into sqrt, which differs from pow at -inf
        # and -0 (PyTorch's float16 takes pow, float32/64 agree either way)
        y = np.power(a, b)
        ctx.save_for_backward(a, b, y)
        return y

    @staticmethod
    def backward(ctx, g):
        # d(a^b)/da = b a^(b-1), taken as 0 where b = 0 (a^0 is constant, even at a = 0);
        # d(a^b)/db = a^b ln a, taken as 0 where a = 0 and b >= 0 (PyTorch's conventions)
        a, b, y = ctx.saved
        ga = gb = None
        with np.errstate(divide="ignore", invalid="ignore"):
            if ctx.needs_input_grad[0]:
                ga = g * np.where(b == 0, 0, b * a ** (b - 1))
            if ctx.needs_input_grad[1]:
                gb = g * np.where((a == 0) & (b >= 0), 0, y * np.log(a))
        return ga, gb


class Exp(Function):
    @staticmethod
    def forward(ctx, a):
        y = np.exp(a)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        # d exp(x)/dx = exp(x): reuse the saved output
        (y,) = ctx.saved
        return g * y


class Log(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.log(a)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved
        return g / a


class Sqrt(Function):
    @staticmethod
    def forward(ctx, a):
        y = np.sqrt(a)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        # d sqrt(x)/dx = 1 / (2 sqrt(x))
        (y,) = ctx.saved
        return g / (2 * y)


class Abs(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.abs(a)

    @staticmethod
    def backward(ctx, g):
        # subgradient sign(x), 0 at x = 0 (as PyTorch)
        (a,) = ctx.saved
        return g * np.sign(a)


class Clip(Function):
    @staticmethod
    def forward(ctx, a, lo=None, hi=None):
        y = np.clip(a, lo, hi)
        mask = np.ones(a.shape, dtype=a.dtype)
        if lo is not None:
            mask *= a >= lo
        if hi is not None:
            mask *= a <= hi
        ctx.save_for_backward(mask)
        return y

    @staticmethod
    def backward(ctx, g):
        # gradient passes where the input was inside [lo, hi], 0 where it was clipped
        (mask,) = ctx.saved
        return g * mask


def _share(g, a_wins, b_wins, tie):
    """The gradients of a two-input max/min: the winner takes g, a tie splits it in halves (as
    PyTorch), and a NaN (neither wins nor ties) passes g to both."""
    half = np.where(tie, 0.5, 1.0).astype(g.dtype, copy=False)
    return g * half * ~b_wins, g * half * ~a_wins


class Maximum(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a > b, a < b, a == b)
        return np.maximum(a, b)

    @staticmethod
    def backward(ctx, g):
        a_wins, b_wins, tie = ctx.saved
        return _share(g, a_wins, b_wins, tie)


class Minimum(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a < b, a > b, a == b)
        return np.minimum(a, b)

    @staticmethod
    def backward(ctx, g):
        a_wins, b_wins, tie = ctx.saved
        return _share(g, a_wins, b_wins, tie)


class Where(Function):
    @staticmethod
    def forward(ctx, a, b, cond):
        ctx.save_for_backward(cond)
        return np.where(cond, a, b)

    @staticmethod
    def backward(ctx, g):
        (cond,) = ctx.saved
        return g * cond, g * ~cond


class Cast(Function):
    @staticmethod
    def forward(ctx, a, dtype):
        ctx.src = a.dtype
        return a.astype(dtype)

    @staticmethod
    def backward(ctx, g):
        return g.astype(ctx.src) if ctx.src.kind == "f" else None


class Sign(Function):
    @staticmethod
    def forward(ctx, a):
        y = np.asarray(np.sign(a))  # a 0-d input gives a NumPy scalar: make it an array
        if y.dtype.kind == "f":
            y[np.isnan(y)] = 0  # PyTorch's sign(NaN) is 0 (NumPy's is NaN)
        return y

    @staticmethod
    def backward(ctx, g):
        # sign is piecewise constant: slope 0 everywhere (PyTorch's choice at 0 too)
        return np.zeros_like(g)


class Clone(Function):
    @staticmethod
    def forward(ctx, a):
        return np.array(a, copy=True, order="C")

    @staticmethod
    def backward(ctx, g):
        return g


def _num(x, name):
    if isinstance(x, np.generic):
        # a NumPy scalar acts as a Python number, as in PyTorch: float32 * np.float64(2) stays
        # float32 (NumPy 2 would promote it to float64)
        return x.item()
    if isinstance(x, (Tensor, np.ndarray, int, float, bool)):
        return x
    raise TypeError(
        f"{name}: expected a Tensor or a number, got {type(x).__name__}"
    )


def _to_dtype(x, dtype):
    """``x`` in ``dtype``: a differentiable cast for a tensor, a Python number as it is (NumPy
    treats it as weakly typed, as PyTorch does)."""
    if isinstance(x, Tensor):
        return x if x.array.dtype == dtype else cast(x, dtype)
    if isinstance(x, np.ndarray):
        return x.astype(dtype, copy=False)
    return x


def _operands(name, *xs, floating=False):
    """The operands of an elementwise op, cast to PyTorch's result dtype (the default float
    dtype when ``floating`` and that is an integer or bool)."""
    if len(xs) == 2:  # fast paths for the common cases, which need no cast
        a, b = xs
        if isinstance(a, Tensor):
            if isinstance(b, Tensor):
                if a.array.dtype == b.array.dtype and (not floating or a.array.dtype.kind == "f"):
                    return xs
            elif type(b) in (float, int) and a.array.dtype.kind == "f":
                return xs
        elif isinstance(b, Tensor) and type(a) in (float, int) and b.array.dtype.kind == "f":
            return xs
    xs = [_num(x, name) for x in xs]
    dtype = result_type(*xs)
    if floating:
        dtype = float_result(dtype)
    return [_to_dtype(x, dtype) for x in xs]


def _binary(fn, name, input, other, floating=False):
    """``fn.apply`` on the promoted operands; a NumPy broadcasting error becomes one naming the
    op and both shapes (checked only on failure, so the common path pays nothing)."""
    xs = _operands(name, input, other, floating=floating)
    try:
        return fn.apply(*xs)
    except ValueError:
        shapes = [np.shape(_arr(x)) for x in xs]
        broadcast_shapes(name, *shapes)  # raises if that was the cause
        raise


def add(input, other, alpha=1) -> Tensor:
    """Elementwise ``input + alpha * other``, broadcasting. Shapes: any, broadcastable."""
    if alpha != 1:
        other = _scaled("add", input, other, alpha)
    return _binary(Add, "add", input, other)


def sub(input, other, alpha=1) -> Tensor:
    """Elementwise ``input - alpha * other``, broadcasting."""
    _no_bool("sub", "subtraction", input, other)
    if alpha != 1:
        other = _scaled("sub", input, other, alpha)
    return _binary(Sub, "sub", input, other)


def _scaled(name, input, other, alpha):
    """``alpha * other`` in the dtype of ``input (op) other``, as PyTorch: alpha scales, it does
    not take part in the promotion (an int64 tensor times alpha 0.5 is refused, not floated)."""
    dtype = result_type(_num(input, name), _num(other, name))
    if dtype.kind in "biu" and not isinstance(alpha, (int, np.integer)):
        raise TypeError(f"{name}: alpha must be an integer for integer or bool operands, got "
                        f"{alpha!r}")
    if not isinstance(other, Tensor):
        return _num(other, name) * alpha
    return mul(_to_dtype(other, dtype), alpha)


def _no_bool(name, what, *xs):
    """PyTorch refuses arithmetic negation of bools (use ``~`` / ``logical_not`` for masks)."""
    for x in xs:
        if isinstance(x, (bool, np.bool_)) or (
                isinstance(x, (Tensor, np.ndarray)) and x.dtype == np.bool_):
            raise TypeError(
                f"{name}: {what} of a bool tensor or value is not supported; to invert a mask "
                "use ~ or logical_not, or cast to an int or float dtype first"
            )


def mul(input, other) -> Tensor:
    """Elementwise ``input * other``, broadcasting."""
    return _binary(Mul, "mul", input, other)


def div(input, other, rounding_mode=None) -> Tensor:
    """Elementwise true division ``input / other``, broadcasting; integers divide into the
    default float dtype, as in PyTorch. ``rounding_mode`` "trunc" or "floor" rounds the quotient
    (towards zero, or down) and keeps the operands' promoted dtype (integers stay integers)."""
    if rounding_mode is None:
        return _binary(Div, "div", input, other, floating=True)
    if rounding_mode not in ("trunc", "floor"):
        raise ValueError(f"div: rounding_mode must be None, 'trunc' or 'floor', got "
                         f"{rounding_mode!r}")
    a, b = _operands("div", input, other)
    dtype = result_type(a, b)
    if dtype.kind == "b":
        raise TypeError("div: rounding division of bool operands is not supported (as in "
                        "PyTorch); cast them to an integer dtype first")
    if dtype.kind in "iu":  # operands cast as C casts (-1 into uint8 is 255), as in PyTorch
        a, b = _in_common_dtype("div", a, b)
        if not np.all(b != 0):
            raise ZeroDivisionError("div: integer division by zero")
    return _binary(RoundedDiv, "div", a, b) if rounding_mode == "floor" else \
        _binary(TruncatedDiv, "div", a, b)


class RoundedDiv(Function):
    # floor(a / b), Python's floor division: piecewise constant, so its gradient is 0 (PyTorch's)
    @staticmethod
    def forward(ctx, a, b):
        return np.asarray(np.floor_divide(a, b))

    @staticmethod
    def backward(ctx, g):
        return np.zeros_like(g), np.zeros_like(g)


class TruncatedDiv(Function):
    # a / b rounded towards zero: piecewise constant, gradient 0 (PyTorch's)
    @staticmethod
    def forward(ctx, a, b):
        if np.result_type(a, b).kind in "iu":
            q = np.floor_divide(a, b)
            return np.asarray(np.where((q < 0) & (q * b != a), q + 1, q))
        return np.asarray(np.trunc(np.true_divide(a, b)))

    @staticmethod
    def backward(ctx, g):
        return np.zeros_like(g), np.zeros_like(g)


def neg(input) -> Tensor:
    _no_bool("neg", "negation", input)
    return Neg.apply(input)


def pow(input, exponent) -> Tensor:  # noqa: A001 - PyTorch's name
    """Elementwise ``input ** exponent``; either may be a tensor or a number.

    Integers raised to a negative integer tensor follow PyTorch: ``1``, ``+-1`` for ``-1`` and
    0 otherwise (truncated); a negative Python int exponent of an integer tensor raises.
    """
    if not (_is_floating(input) or _is_floating(exponent)):
        return _integer_pow(input, exponent)
    return _binary(Pow, "pow", input, exponent)


def _floating(input, name):
    """A float function's input in a float dtype: integers and bools become the default one."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}: expected a Tensor, got {type(input).__name__}")
    return _to_dtype(input, float_result(input.dtype))


def exp(input) -> Tensor:
    return Exp.apply(_floating(input, "exp"))


def log(input) -> Tensor:
    return Log.apply(_floating(input, "log"))


def sqrt(input) -> Tensor:
    return Sqrt.apply(_floating(input, "sqrt"))


def abs(input) -> Tensor:  # noqa: A001 - PyTorch's name
    _no_bool("abs", "the absolute value", input)
    return Abs.apply(input)


def sign(input) -> Tensor:
    """Elementwise sign: -1, 0 or 1 (0 for NaN); its gradient is 0, as in PyTorch. The sign of a
    bool tensor is itself."""
    if isinstance(input, Tensor) and input.array.dtype == np.bool_:
        return Tensor(input.array.copy())
    return Sign.apply(input)


def clip(input, min=None, max=None) -> Tensor:  # noqa: A002 - PyTorch's names
    """Clamp every element into [min, max]; gradient 0 where clamped."""
    if min is None and max is None:
        raise ValueError("clip: at least one of min and max must be given")
    if isinstance(input, Tensor) and input.dtype.kind != "f":
        # an integer tensor clamped to a float bound becomes float, as in PyTorch
        bounds = [_num(b, "clip") for b in (min, max) if b is not None]
        input = _to_dtype(input, result_type(input, *bounds))
    return Clip.apply(input, lo=min, hi=max)


clamp = clip


def maximum(input, other) -> Tensor:
    """Elementwise maximum of two tensors (broadcasting); a tie splits the gradient."""
    return _binary(Maximum, "maximum", input, other)


def minimum(input, other) -> Tensor:
    """Elementwise minimum of two tensors (broadcasting); a tie splits the gradient."""
    return _binary(Minimum, "minimum", input, other)


def where(condition, input, other) -> Tensor:
    """``input`` where ``condition`` is true, else ``other`` (broadcasting)."""
    cond = np.asarray(_arr(condition))
    if cond.dtype != np.bool_:
        raise TypeError(f"where: condition must be a bool tensor, got dtype {cond.dtype}")
    input, other = _operands("where", input, other)
    dtype = result_type(input, other)
    # Python numbers as arrays of the result dtype: np.where of two floats would give float64
    input, other = (x if isinstance(x, Tensor) else np.asarray(x, dtype) for x in (input, other))
    shapes = [np.shape(_arr(x)) for x in (input, other)]
    broadcast_shapes("where", cond.shape, *shapes)
    return Where.apply(input, other, cond)


def cast(input, dtype) -> Tensor:
    return Cast.apply(input, dtype=np.dtype(dtype))


def clone(input) -> Tensor:
    return Clone.apply(input)


def contiguous(input) -> Tensor:
    return input if input.array.flags.c_contiguous else Clone.apply(input)


def _compare(op, name, promote=True):
    def f(input, other) -> Tensor:
        a, b = _arr(input), _arr(other)
        if promote and not (isinstance(a, np.ndarray) and isinstance(b, np.ndarray)
                            and a.dtype == b.dtype):
            # PyTorch compares in the promoted dtype: a uint8 tensor meets -3 as 253, a float16
            # tensor meets a float64 0-d tensor rounded to float16
            a, b = _in_common_dtype(name, input, other)
        if np.shape(a) != np.shape(b):
            broadcast_shapes(name, np.shape(a), np.shape(b))
        return Tensor(np.asarray(op(a, b)))

    f.__name__ = name
    f.__doc__ = f"Elementwise ``{op.__name__}`` as a bool tensor (not differentiable)."
    return f


lt = _compare(np.less, "lt")
le = _compare(np.less_equal, "le")
gt = _compare(np.greater, "gt")
ge = _compare(np.greater_equal, "ge")
eq = _compare(np.equal, "eq")
ne = _compare(np.not_equal, "ne")
logical_and = _compare(np.logical_and, "logical_and")  # also in the promoted dtype: -1e-31
logical_or = _compare(np.logical_or, "logical_or")  # meets float16 as -0.0, false (PyTorch)


def logical_not(input) -> Tensor:
    return Tensor(np.logical_not(_arr(input)))


def isnan(input) -> Tensor:
    return Tensor(np.isnan(_arr(input)))


def isfinite(input) -> Tensor:
    return Tensor(np.isfinite(_arr(input)))


# ---- more of torch's elementwise functions (log1p, expm1, sin, cos, softplus, isclose) ---------

__all__ += ["log1p", "expm1", "sin", "cos", "softplus", "logsigmoid", "isclose", "allclose"]


class Log1p(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.log1p(a)

    @staticmethod
    def backward(ctx, g):
        # d log(1 + x)/dx = 1 / (1 + x); log1p keeps digits log(1 + x) loses for tiny x
        (a,) = ctx.saved
        return g / (1 + a)


class Expm1(Function):
    @staticmethod
    def forward(ctx, a):
        y = np.expm1(a)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        # d (exp(x) - 1)/dx = exp(x) = y + 1
        (y,) = ctx.saved
        return g * (y + 1)


class Sin(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.sin(a)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved
        return g * np.cos(a)


class Cos(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.cos(a)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved
        return -g * np.sin(a)


class Softplus(Function):
    @staticmethod
    def forward(ctx, a, beta=1.0, threshold=20.0):
        z = a * beta
        linear = z > threshold  # PyTorch returns x itself there (exp would overflow)
        # log(1 + e^z) = max(z, 0) + log1p(e^-|z|): no overflow for large |z|
        y = np.where(linear, a, (np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z)))) / beta)
        ctx.save_for_backward(z, linear)
        return y.astype(a.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        # d softplus/dx = sigmoid(beta x); 1 where the output is x itself
        z, linear = ctx.saved
        s = 0.5 * (1 + np.tanh(0.5 * z))  # sigmoid(z), without overflow
        return g * np.where(linear, 1, s).astype(g.dtype, copy=False)


def log1p(input) -> Tensor:
    """Elementwise ``log(1 + x)``, accurate for tiny ``x``."""
    return Log1p.apply(_floating(input, "log1p"))


def expm1(input) -> Tensor:
    """Elementwise ``exp(x) - 1``, accurate for tiny ``x``."""
    return Expm1.apply(_floating(input, "expm1"))


def sin(input) -> Tensor:
    """Elementwise sine (radians)."""
    return Sin.apply(_floating(input, "sin"))


def cos(input) -> Tensor:
    """Elementwise cosine (radians)."""
    return Cos.apply(_floating(input, "cos"))


def softplus(input, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """``log(1 + exp(beta * x)) / beta``, and ``x`` where ``beta * x > threshold`` (PyTorch's)."""
    if not beta > 0:
        raise ValueError(f"softplus: beta must be > 0, got {beta!r}")
    require_float(input, "softplus")
    return Softplus.apply(input, beta=float(beta), threshold=float(threshold))


def logsigmoid(input) -> Tensor:
    """``log(sigmoid(x)) = -softplus(-x)``, computed without overflow."""
    require_float(input, "logsigmoid")
    return neg(Softplus.apply(neg(input), beta=1.0, threshold=float("inf")))


def _same_dtype(name, input, other) -> None:
    """isclose/allclose compare tensors of one dtype, as PyTorch: no silent promotion."""
    if isinstance(input, Tensor) and isinstance(other, Tensor) and input.dtype != other.dtype:
        raise TypeError(f"{name}: input dtype {input.dtype} and other dtype {other.dtype} must "
                        "match (cast one of them first)")


def isclose(input, other, rtol: float = 1e-5, atol: float = 1e-8,
            equal_nan: bool = False) -> Tensor:
    """Bool tensor: ``|input - other| <= atol + rtol * |other|`` elementwise (no gradient)."""
    _same_dtype("isclose", input, other)
    return Tensor(np.isclose(_arr(input), _arr(other), rtol=rtol, atol=atol, equal_nan=equal_nan))


def allclose(input, other, rtol: float = 1e-5, atol: float = 1e-8, equal_nan: bool = False) -> bool:
    """Whether :func:`isclose` holds for every element (a Python bool, as in PyTorch)."""
    _same_dtype("allclose", input, other)
    return bool(np.allclose(_arr(input), _arr(other), rtol=rtol, atol=atol, equal_nan=equal_nan))


# ---- integer and bitwise arithmetic, with PyTorch's casts (wrap-around) -------------------------

__all__ += ["bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not"]


def _is_floating(x) -> bool:
    """Whether an operand makes a result floating (a float tensor or number)."""
    if isinstance(x, (Tensor, np.ndarray, np.generic)):
        return x.dtype.kind in "fc"
    return isinstance(x, (float, complex))


def _in_common_dtype(name, *xs) -> list:
    """The operands as arrays of PyTorch's result dtype (:func:`result_type`)."""
    xs = [_num(x, name) for x in xs]
    dtype = result_type(*xs)
    return [cast_wrapping(x, dtype) for x in xs]


def _integer_pow(input, exponent) -> Tensor:
    """``input ** exponent`` for integer and bool operands (no gradient: nothing is floating)."""
    a, b = _in_common_dtype("pow", input, exponent)
    if a.dtype == np.bool_ and isinstance(exponent, (bool, np.bool_)):
        # PyTorch's scalar-exponent shortcuts: x ** 1 is x, x ** 0 is ones (bool stays bool)
        return Tensor(a.copy() if exponent else np.ones(a.shape, dtype=bool))
    if a.dtype == np.bool_:
        raise TypeError("pow: bool ** bool is not supported (as in PyTorch); cast one operand "
                        "to an integer dtype first")
    if isinstance(exponent, (int, np.integer)) and not isinstance(exponent, bool) \
            and exponent < 0:
        raise ValueError(f"pow: integers to negative integer powers are not allowed (input "
                         f"dtype {a.dtype}, exponent {exponent}); use a float input")
    if np.shape(a) != np.shape(b):
        broadcast_shapes("pow", np.shape(a), np.shape(b))
    negative = b < 0
    with np.errstate(over="ignore"):
        y = np.power(a, np.where(negative, 0, b).astype(b.dtype))
    if negative.any():
        # the integer part of a ** b for b < 0: 1 for a = 1, +-1 for a = -1, else 0 (PyTorch)
        odd = (b % 2) != 0
        small = np.where(a == 1, 1, np.where(a == -1, np.where(odd, -1, 1), 0))
        y = np.where(negative, small, y).astype(y.dtype)
    return Tensor(np.asarray(y))


def _bitwise(name, ufunc, input, other) -> Tensor:
    a, b = _in_common_dtype(name, input, other)
    if a.dtype.kind not in "biu":
        raise TypeError(f"{name}: operands must be integer or bool tensors, got dtype "
                        f"{a.dtype} (a float operand)")
    if np.shape(a) != np.shape(b):
        broadcast_shapes(name, np.shape(a), np.shape(b))
    return Tensor(np.asarray(ufunc(a, b)))


def bitwise_and(input, other) -> Tensor:
    """Elementwise AND of integer tensors, bit by bit (logical on bool); no gradient."""
    return _bitwise("bitwise_and", np.bitwise_and, input, other)


def bitwise_or(input, other) -> Tensor:
    """Elementwise OR of integer tensors, bit by bit (logical on bool); no gradient."""
    return _bitwise("bitwise_or", np.bitwise_or, input, other)


def bitwise_xor(input, other) -> Tensor:
    """Elementwise XOR of integer tensors, bit by bit (logical on bool); no gradient."""
    return _bitwise("bitwise_xor", np.bitwise_xor, input, other)


def bitwise_not(input) -> Tensor:
    """Elementwise NOT of an integer tensor, bit by bit (``~x = -x - 1``; logical on bool)."""
    a = _arr(input)
    if not isinstance(a, np.ndarray) or a.dtype.kind not in "biu":
        raise TypeError(f"bitwise_not: input must be an integer or bool tensor, got "
                        f"{getattr(a, 'dtype', type(a).__name__)}")
    return Tensor(np.asarray(np.invert(a)))
