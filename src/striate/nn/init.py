"""Weight initialisation, in place on a tensor's array, from striate's one seeded generator.

PyTorch's forms (``xavier_normal_``, ``kaiming_normal_``, ...) with its names and fan rules, plus
the course's simple forms: ``small_random_`` (``0.01 * randn``), ``lecun_normal_``
(``randn / sqrt(fan_in)``, which the CS231n notes call "Xavier") and ``he_normal_``
(``randn / sqrt(fan_in / 2)``). For a weight of shape (out, in, *kernel) ``fan_in`` is
``in * prod(kernel)`` and ``fan_out`` is ``out * prod(kernel)``.

Every function writes the tensor's array directly (no graph is recorded, so they work on
Parameters that require grad, with or without ``no_grad``) and returns the tensor.
"""

from __future__ import annotations

import contextlib
import math
import threading

import numpy as np

from .. import backend
from ..autograd.tensor import Tensor

__all__ = [
    "calculate_gain",
    "constant_",
    "course_defaults",
    "eye_",
    "he_normal_",
    "kaiming_normal_",
    "kaiming_uniform_",
    "lecun_normal_",
    "normal_",
    "ones_",
    "orthogonal_",
    "small_random_",
    "trunc_normal_",
    "uniform_",
    "xavier_normal_",
    "xavier_uniform_",
    "zeros_",
]


def _check(tensor, name: str) -> Tensor:
    if not isinstance(tensor, Tensor):
        raise TypeError(f"{name}: tensor must be a striate Tensor, got {type(tensor).__name__}")
    return tensor


def _write(tensor: Tensor, values) -> Tensor:
    """Write ``values`` (NumPy, float64) into the tensor's array, in its dtype and device."""
    arr = tensor.array
    xp = backend.get_array_module(arr)
    arr[...] = xp.asarray(values).astype(arr.dtype, copy=False)
    tensor._bump_version()
    return tensor


def _normal(tensor: Tensor, std: float, mean: float = 0.0) -> Tensor:
    return _write(tensor, backend.get_rng().normal(mean, std, tensor.shape))


def _uniform(tensor: Tensor, a: float, b: float) -> Tensor:
    return _write(tensor, backend.get_rng().uniform(a, b, tensor.shape))


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The gain that keeps activations' variance steady through ``nonlinearity``.

    linear, conv*, sigmoid: 1; tanh: 5/3; relu: sqrt(2); leaky_relu: sqrt(2 / (1 + slope^2))
    (``param`` is the slope, default 0.01); selu: 3/4.
    """
    linear = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
              "conv_transpose3d", "sigmoid")
    if nonlinearity in linear:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, (int, float)) and not isinstance(param, bool):
            slope = float(param)
        else:
            raise ValueError(f"calculate_gain: negative_slope {param!r} is not a number")
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}")


def _calculate_fan_in_and_fan_out(tensor: Tensor) -> tuple[int, int]:
    """``(fan_in, fan_out)`` of a weight (out, in, *kernel): (in * k, out * k), k = prod(kernel)."""
    if tensor.ndim < 2:
        raise ValueError(
            f"fan in and fan out can not be computed for a tensor with fewer than 2 dimensions "
            f"(got shape {tuple(tensor.shape)})"
        )
    receptive = int(np.prod(tensor.shape[2:])) if tensor.ndim > 2 else 1
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


def _calculate_correct_fan(tensor: Tensor, mode: str, name: str) -> int:
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"{name}: mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0) -> Tensor:
    """Fill with samples from U(a, b)."""
    return _uniform(_check(tensor, "uniform_"), a, b)


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0) -> Tensor:
    """Fill with samples from N(mean, std^2)."""
    return _normal(_check(tensor, "normal_"), std, mean)


def trunc_normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, a: float = -2.0,
                  b: float = 2.0) -> Tensor:
    """Fill with N(mean, std^2) samples redrawn until they lie in [a, b]."""
    _check(tensor, "trunc_normal_")
    if not a < b:
        raise ValueError(f"trunc_normal_: need a < b, got a={a}, b={b}")
    rng = backend.get_rng()
    out = rng.normal(mean, std, tensor.shape)
    bad = (out < a) | (out > b)
    while bad.any():
        out[bad] = rng.normal(mean, std, int(bad.sum()))
        bad = (out < a) | (out > b)
    return _write(tensor, out)


def constant_(tensor: Tensor, val: float) -> Tensor:
    """Fill with the value ``val``."""
    _check(tensor, "constant_").array[...] = val
    tensor._bump_version()
    return tensor


def ones_(tensor: Tensor) -> Tensor:
    return constant_(tensor, 1.0)


def zeros_(tensor: Tensor) -> Tensor:
    return constant_(tensor, 0.0)


def eye_(tensor: Tensor) -> Tensor:
    """Fill a 2-D tensor with the identity (ones on the diagonal)."""
    if _check(tensor, "eye_").ndim != 2:
        raise ValueError(f"eye_: tensor must be 2-D, got shape {tuple(tensor.shape)}")
    return _write(tensor, np.eye(*tensor.shape))


def orthogonal_(tensor: Tensor, gain: float = 1.0) -> Tensor:
    """Fill with a (semi-)orthogonal matrix, the rest of the dims flattened: rows or columns of
    the (out, in * k) matrix are orthonormal, times ``gain`` (Saxe et al.)."""
    if _check(tensor, "orthogonal_").ndim < 2:
        raise ValueError(f"orthogonal_: tensor needs 2 or more dims, got {tuple(tensor.shape)}")
    rows = tensor.shape[0]
    cols = tensor.numel() // rows
    flat = backend.get_rng().standard_normal((rows, cols))
    if rows < cols:
        flat = flat.T
    q, r = np.linalg.qr(flat)
    q = q * np.sign(np.diag(r))  # makes the result uniform over orthogonal matrices
    if rows < cols:
        q = q.T
    return _write(tensor, gain * q.reshape(tensor.shape))


def small_random_(tensor: Tensor, std: float = 0.01) -> Tensor:
    """The course's first initialisation: ``std * randn`` (0.01 by default). Fine for small
    nets; in deep ones the activations shrink towards zero layer after layer."""
    return _normal(_check(tensor, "small_random_"), std)


def xavier_uniform_(tensor: Tensor, gain: float = 1.0) -> Tensor:
    """Glorot uniform: U(-b, b) with ``b = gain * sqrt(6 / (fan_in + fan_out))``."""
    if _check(tensor, "xavier_uniform_").numel() == 0:
        return tensor  # nothing to fill, and fans of 0 would divide by zero
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return _uniform(tensor, -bound, bound)


def xavier_normal_(tensor: Tensor, gain: float = 1.0) -> Tensor:
    """Glorot normal: N(0, std^2) with ``std = gain * sqrt(2 / (fan_in + fan_out))``."""
    if _check(tensor, "xavier_normal_").numel() == 0:
        return tensor  # nothing to fill, and fans of 0 would divide by zero
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return _normal(tensor, gain * math.sqrt(2.0 / (fan_in + fan_out)))


def kaiming_uniform_(tensor: Tensor, a: float = 0.0, mode: str = "fan_in",
                     nonlinearity: str = "leaky_relu") -> Tensor:
    """He/MSRA uniform: U(-b, b) with ``b = sqrt(3) * gain / sqrt(fan)``.

    ``gain = calculate_gain(nonlinearity, a)``; with the defaults (leaky_relu, a=0) that is
    sqrt(2), the ReLU gain.
    """
    if _check(tensor, "kaiming_uniform_").numel() == 0:
        return tensor
    fan = _calculate_correct_fan(tensor, mode, "kaiming_uniform_")
    std = calculate_gain(nonlinearity, a) / math.sqrt(fan)
    return _uniform(tensor, -math.sqrt(3.0) * std, math.sqrt(3.0) * std)


def kaiming_normal_(tensor: Tensor, a: float = 0.0, mode: str = "fan_in",
                    nonlinearity: str = "leaky_relu") -> Tensor:
    """He/MSRA normal: N(0, std^2) with ``std = gain / sqrt(fan)``; ``gain`` is sqrt(2) for
    ReLU (the default leaky_relu with a=0 is the same)."""
    if _check(tensor, "kaiming_normal_").numel() == 0:
        return tensor
    fan = _calculate_correct_fan(tensor, mode, "kaiming_normal_")
    return _normal(tensor, calculate_gain(nonlinearity, a) / math.sqrt(fan))


def lecun_normal_(tensor: Tensor) -> Tensor:
    """``randn / sqrt(fan_in)``: the form the CS231n notes call "Xavier" (Var(w) = 1/fan_in),
    which keeps unit variance through linear or tanh units."""
    if _check(tensor, "lecun_normal_").numel() == 0:
        return tensor
    fan_in, _ = _calculate_fan_in_and_fan_out(tensor)
    return _normal(tensor, 1.0 / math.sqrt(fan_in))


def he_normal_(tensor: Tensor) -> Tensor:
    """``randn / sqrt(fan_in / 2)`` (He et al. 2015): ReLU zeroes half the input, so the
    variance is doubled to keep activations steady. Same as ``kaiming_normal_`` defaults."""
    if _check(tensor, "he_normal_").numel() == 0:
        return tensor
    fan_in, _ = _calculate_fan_in_and_fan_out(tensor)
    return _normal(tensor, 1.0 / math.sqrt(fan_in / 2.0))


_COURSE = threading.local()


@contextlib.contextmanager
def course_defaults():
    """Layers built inside start with the course's scheme instead of PyTorch's defaults:
    He-normal weights and zero biases for Linear, Conv* and ConvTranspose*, forget-gate bias 1 for
    LSTM and LSTMCell. A layer remembers the scheme it was built with (``reset_parameters`` redraws
    the same way). Also a decorator: striate's own models put ``@init.course_defaults()`` on
    their ``__init__`` so they train exactly as before PyTorch's defaults were adopted.
    """
    _COURSE.depth = getattr(_COURSE, "depth", 0) + 1
    try:
        yield
    finally:
        _COURSE.depth -= 1


def using_course_defaults() -> bool:
    """True inside :func:`course_defaults` (in this thread)."""
    return getattr(_COURSE, "depth", 0) > 0


def pytorch_linear_default_(weight: Tensor, bias: Tensor | None) -> None:
    """PyTorch's default for Linear, Conv* and ConvTranspose*: ``kaiming_uniform_(a=sqrt(5))``
    (U(-b, b), b = 1/sqrt(fan_in)) for the weight, U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for the
    bias (fan_in from the weight's shape)."""
    kaiming_uniform_(weight, a=math.sqrt(5))
    if bias is not None:
        fan_in = _calculate_fan_in_and_fan_out(weight)[0] if weight.numel() else 0
        bound = 1.0 / math.sqrt(fan_in) if fan_in > 0 else 0.0
        uniform_(bias, -bound, bound)
