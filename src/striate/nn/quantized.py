"""int8 layers that compute in integers (``torch.ao.nn.quantized``'s place).

A real number ``r`` is stored as an integer ``q`` with ``r = scale * (q - zero_point)``:

- weights: int8, symmetric (``zero_point = 0``, ``scale = max|w| / 127``) or asymmetric, per
  output channel (each filter its own scale: a filter of small weights keeps its resolution)
  or per tensor;
- inputs: uint8, asymmetric (``scale = (max - min) / 255``, ``zero_point`` the integer that
  stands for 0.0, so zero padding and ReLU's zeros are exact), per tensor, the range observed
  on calibration batches (``striate.compress.quantize_model``).

:class:`QuantizedLinear` and :class:`QuantizedConv2d` round the input to uint8, accumulate
``sum (q_x - z_x) (q_w - z_w)`` in int32 (the bias quantized to int32 with scale ``s_x s_w``),
and rescale the int32 result to float32 for the next layer. The integers are buffers, so a
quantized model saves, loads and rebuilds (``Linear(in, out)`` then ``load_state_dict``) like
any other; ``from_float`` makes one from a float layer and an input range.

They differentiate with respect to their input by the straight-through rule (an attack on an
int8 model needs ``dL/dx``): backward is the float layer's backward with the dequantized
weights, zero where the input was clipped to the uint8 range. The integer weights do not train.
"""

from __future__ import annotations

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ..kernels.conv import ConvCache, conv_backward
from ..kernels.im2col import pad_nhwc, window_view
from ..ops._helpers import pair_arg
from .module import Module

__all__ = ["QuantizedLayer", "QuantizedLinear", "QuantizedConv2d", "quantize_tensor",
           "dequantize", "weight_qparams", "activation_qparams", "integer_linear"]


def weight_qparams(w: np.ndarray, per_channel: bool = True, symmetric: bool = True,
                   bits: int = 8):
    """``(scale, zero_point)`` for a weight, one per output channel (axis 0) or one in all.

    Symmetric: int8 in [-127, 127] around 0. Asymmetric: uint-style range [-128, 127] over
    [min, max] (with 0.0 inside the range so it is exact).
    """
    axes = tuple(range(1, w.ndim)) if per_channel else None
    if symmetric:
        qmax = 2 ** (bits - 1) - 1
        amax = np.abs(w).max(axis=axes, keepdims=per_channel) if per_channel else np.abs(w).max()
        scale = np.maximum(amax, 1e-12) / qmax
        return np.asarray(scale, np.float64), np.zeros_like(np.asarray(scale), dtype=np.int64)
    lo = np.minimum(w.min(axis=axes, keepdims=per_channel) if per_channel else w.min(), 0.0)
    hi = np.maximum(w.max(axis=axes, keepdims=per_channel) if per_channel else w.max(), 0.0)
    qmin, qmax = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
    scale = np.maximum(hi - lo, 1e-12) / (qmax - qmin)
    zp = np.clip(np.round(qmin - lo / scale), qmin, qmax).astype(np.int64)
    return np.asarray(scale, np.float64), zp


def activation_qparams(lo: float, hi: float, bits: int = 8):
    """``(scale, zero_point)`` of an unsigned ``bits`` range covering [lo, hi] and 0.0."""
    lo, hi = min(float(lo), 0.0), max(float(hi), 0.0)
    qmax = 2 ** bits - 1
    scale = max(hi - lo, 1e-12) / qmax
    zp = int(np.clip(np.round(-lo / scale), 0, qmax))
    return scale, zp


def quantize_tensor(r: np.ndarray, scale, zero_point, qmin: int, qmax: int,
                    dtype=np.int32) -> np.ndarray:
    """``clip(round(r / scale) + zero_point, qmin, qmax)`` (round half to even, as NumPy)."""
    return np.clip(np.round(r / scale) + zero_point, qmin, qmax).astype(dtype)


def dequantize(q: np.ndarray, scale, zero_point) -> np.ndarray:
    """``scale * (q - zero_point)`` as float32."""
    return (scale * (q.astype(np.float64) - zero_point)).astype(np.float32)


def integer_linear(qx: np.ndarray, x_zp: int, qw: np.ndarray, w_zp) -> np.ndarray:
    """``(q_x - z_x) @ (q_w - z_w)^T`` in int32: (rows, K) uint8, (F, K) int8 -> (rows, F).

    The products of 8-bit integers are at most 2**15 in size, so a sum over K < 2**16 terms
    fits in int32.
    """
    xs = qx.astype(np.int32) - np.int32(x_zp)
    ws = qw.astype(np.int32) - np.asarray(w_zp, dtype=np.int32).reshape(-1, 1)
    return xs @ ws.T


class _Int8Apply(Function):
    """The integer forward of a quantized layer; backward by the straight-through rule."""

    @staticmethod
    def forward(ctx, x, layer):
        ctx.layer, ctx.x_shape = layer, x.shape
        q = layer.quantize_input(x)
        # STE: the rounding passes the gradient, the clipping to [0, 255] stops it
        r = np.round(x / layer.x_scale) + layer.x_zp
        ctx.inside = (r >= 0) & (r <= 255)
        return layer._integer_forward(q)

    @staticmethod
    def backward(ctx, dy):
        return ctx.layer._input_grad(dy, ctx.x_shape) * ctx.inside, None


class QuantizedLayer(Module):
    """What the integer layers share: the int8 weight with its scales and zero points, the
    input's uint8 grid and the int32 bias, as buffers (``weight_int8``, ``weight_scale``,
    ``weight_zero_point``, ``input_scale``, ``input_zero_point``, ``bias_int32``)."""

    def _buffers_for(self, weight_shape: tuple, bias: bool, per_channel: bool,
                     symmetric: bool) -> None:
        self.per_channel, self.symmetric = bool(per_channel), bool(symmetric)
        qshape = (weight_shape[0],) + (1,) * (len(weight_shape) - 1) if per_channel else ()
        self.register_buffer("weight_int8", Tensor(np.zeros(weight_shape, np.int8)))
        self.register_buffer("weight_scale", Tensor(np.ones(qshape, np.float64)))
        self.register_buffer("weight_zero_point", Tensor(np.zeros(qshape, np.int64)))
        self.register_buffer("input_scale", Tensor(np.ones((), np.float64)))
        self.register_buffer("input_zero_point", Tensor(np.zeros((), np.int64)))
        self.register_buffer("bias_int32",
                             Tensor(np.zeros(weight_shape[0], np.int32)) if bias else None)

    def _quantize_from(self, w: np.ndarray, b, in_range) -> None:
        """Fill the buffers from a float weight, bias and input range."""
        scale, zp = weight_qparams(w, self.per_channel, self.symmetric)
        qmin, qmax = (-127, 127) if self.symmetric else (-128, 127)
        self.weight_scale.array, self.weight_zero_point.array = scale, zp
        self.weight_int8.array = quantize_tensor(w, scale, zp, qmin, qmax, np.int8)
        x_scale, x_zp = activation_qparams(*in_range)
        self.input_scale.array = np.asarray(x_scale, np.float64)
        self.input_zero_point.array = np.asarray(x_zp, np.int64)
        if b is not None:
            self.bias_int32.array = np.round(b / self.acc_scale).astype(np.int32)

    # the course's short names for the integers
    qw = property(lambda self: self.weight_int8.array)
    w_scale = property(lambda self: self.weight_scale.array)
    w_zp = property(lambda self: self.weight_zero_point.array)
    x_scale = property(lambda self: float(self.input_scale.array))
    x_zp = property(lambda self: int(self.input_zero_point.array))
    qb = property(lambda self: None if self.bias_int32 is None else self.bias_int32.array)

    @property
    def acc_scale(self) -> np.ndarray:
        """Per output channel: the real value of one int32 unit of the accumulator."""
        return (self.x_scale * np.asarray(self.w_scale).reshape(-1)).astype(np.float64)

    def dequantized_weight(self) -> np.ndarray:
        """The real weight the integers stand for (float32)."""
        return dequantize(self.qw, self.w_scale, self.w_zp)

    def quantize_input(self, x: np.ndarray) -> np.ndarray:
        return quantize_tensor(x, self.x_scale, self.x_zp, 0, 255, np.uint8)

    def _finish(self, acc: np.ndarray) -> np.ndarray:
        """int32 accumulator (rows, F) -> float32 output."""
        if self.qb is not None:
            acc = acc + self.qb
        return (acc * self.acc_scale).astype(np.float32)

    def forward(self, x):
        if not isinstance(x, Tensor):
            x = Tensor(np.asarray(x))
        return _Int8Apply.apply(x, self)

    def weight_bytes(self) -> int:
        """int8 weights, float32 scales, int32 bias."""
        return (self.qw.size + 4 * np.asarray(self.w_scale).size
                + (0 if self.qb is None else 4 * self.qb.size))


class QuantizedLinear(QuantizedLayer):
    """An int8 ``Linear``: uint8 input x int8 weight, int32 accumulation.

    ``QuantizedLinear(in_features, out_features)`` holds zeros until ``load_state_dict``;
    :meth:`from_float` quantizes a ``Linear``.
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True,
                 per_channel: bool = True, symmetric: bool = True):
        super().__init__()
        self.in_features, self.out_features = int(in_features), int(out_features)
        self._buffers_for((self.out_features, self.in_features), bias, per_channel, symmetric)

    @classmethod
    def from_float(cls, linear, in_range, per_channel: bool = True,
                   symmetric: bool = True) -> QuantizedLinear:
        """The int8 version of ``linear`` for inputs in ``in_range`` = (lo, hi)."""
        q = cls(linear.in_features, linear.out_features, linear.bias is not None, per_channel,
                symmetric)
        b = None if linear.bias is None else linear.bias.array.astype(np.float64)
        q._quantize_from(linear.weight.array.astype(np.float64), b, in_range)
        return q

    def _integer_forward(self, qx: np.ndarray) -> np.ndarray:
        lead = qx.shape[:-1]
        acc = integer_linear(qx.reshape(-1, qx.shape[-1]), self.x_zp, self.qw, self.w_zp)
        return self._finish(acc).reshape(*lead, self.out_features)

    def _input_grad(self, dy: np.ndarray, x_shape) -> np.ndarray:
        # d(x W^T)/dx = W, with W the dequantized weight
        return (dy @ self.dequantized_weight()).reshape(x_shape).astype(dy.dtype)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, int8"


class QuantizedConv2d(QuantizedLayer):
    """An int8 ``Conv2d`` (groups 1, dilation 1): im2col of the uint8 input padded with its zero
    point, an int32 GEMM with the int8 filters, then rescaling."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 bias: bool = True, per_channel: bool = True, symmetric: bool = True):
        super().__init__()
        def pair(v, name):
            return pair_arg(v, name, "QuantizedConv2d", 0 if name == "padding" else 1)

        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        self.kernel = pair(kernel_size, "kernel_size")
        self.stride, self.padding = pair(stride, "stride"), pair(padding, "padding")
        self._buffers_for((self.out_channels, self.in_channels, *self.kernel), bias,
                          per_channel, symmetric)

    @classmethod
    def from_float(cls, conv, in_range, per_channel: bool = True, symmetric: bool = True,
                   weight=None, bias=None) -> QuantizedConv2d:
        """The int8 version of ``conv`` (or of ``weight`` and ``bias`` with its geometry)."""
        if conv.groups != 1 or isinstance(conv.padding, str) or conv.dilation != (1, 1):
            raise ValueError("QuantizedConv2d.from_float: only groups=1, dilation 1 and numeric "
                             f"padding, got groups={conv.groups}, dilation={conv.dilation}, "
                             f"padding={conv.padding!r}")
        w = conv.weight.array.astype(np.float64) if weight is None else weight
        if bias is None and conv.bias is not None:
            bias = conv.bias.array.astype(np.float64)
        q = cls(conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride, conv.padding,
                bias is not None, per_channel, symmetric)
        q._quantize_from(w, bias, in_range)
        return q

    def _integer_forward(self, qx: np.ndarray) -> np.ndarray:
        N = qx.shape[0]
        # pad with the zero point: the integer that stands for 0.0
        xp = pad_nhwc(qx, self.padding, value=self.x_zp)
        win = window_view(xp, self.kernel, self.stride)
        _, Ho, Wo, kh, kw, C = win.shape
        cols = win.reshape(N * Ho * Wo, kh * kw * C)
        F = self.out_channels
        qw = self.qw.transpose(0, 2, 3, 1).reshape(F, kh * kw * C)
        acc = integer_linear(cols, self.x_zp, qw, np.asarray(self.w_zp).reshape(-1))
        out = self._finish(acc).reshape(N, Ho, Wo, F).transpose(0, 3, 1, 2)
        return np.ascontiguousarray(out)

    def _input_grad(self, dy: np.ndarray, x_shape) -> np.ndarray:
        # dx of the float convolution with the dequantized filters (the kernel's own backward)
        w = self.dequantized_weight().astype(dy.dtype)
        F, C, HH, WW = w.shape
        w_mat = w.transpose(2, 3, 1, 0).reshape(HH * WW * C, F)
        cache = ConvCache(None, None, w_mat, x_shape, (HH, WW), self.stride, self.padding)
        dx, _, _ = conv_backward(dy, cache, need_dx=True, need_dw=False, need_db=False)
        return dx

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel}, "
                f"stride={self.stride}, padding={self.padding}, int8")
