"""Post-training int8 quantization with integer kernels, and quantization-aware training.

The integer layers themselves live in ``striate.nn.quantized`` (below the run loader, which
rebuilds them from a checkpoint); this module calibrates a model and swaps them in.

A real number ``r`` is stored as an integer ``q`` with ``r = scale * (q - zero_point)``:

- weights: int8, symmetric (``zero_point = 0``, ``scale = max|w| / 127``), per output channel
  by default (each filter its own scale: a filter of small weights keeps its resolution);
- activations: uint8, asymmetric (``scale = (max - min) / 255``, ``zero_point`` the integer that
  stands for 0.0, so zero padding and ReLU's zeros are exact), per tensor, their range observed on
  a few calibration batches.

:class:`QuantizedLinear` and :class:`QuantizedConv2d` compute in integers: the input is rounded
to uint8, ``sum (q_x - z_x) * q_w`` accumulates in int32 (bias quantized to int32 with scale
``s_x * s_w``), and the int32 result is rescaled to float for the next layer. Batch norm is
folded into the convolution before it (``w' = w * gamma / sigma``, ``b' = beta + (b - mu) *
gamma / sigma``), as inference engines do.

QAT (:func:`prepare_qat`) trains with the rounding in the loop: a fake-quant node rounds weights
and inputs to their integer grid in forward and lets the gradient through unchanged inside the
range in backward (the straight-through estimator), so the weights learn to sit well on the grid.
"""

from __future__ import annotations

import numpy as np

from .. import nn
from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ..nn.quantized import (
    QuantizedConv2d,
    QuantizedLayer,
    QuantizedLinear,
    activation_qparams,
    dequantize,
    integer_linear,
    quantize_tensor,
    weight_qparams,
)

__all__ = ["QuantizedLayer", "quantize_tensor", "dequantize", "weight_qparams",
           "activation_qparams",
           "QuantizedLinear", "QuantizedConv2d", "fold_batchnorm", "quantize_model",
           "fake_quantize", "prepare_qat", "convert_qat", "model_bytes_int8", "integer_linear"]


def _parents(model):
    for parent in model.modules():
        for name, child in list(parent._modules.items()):
            if child is not None:
                yield parent, name, child


def fold_batchnorm(model):
    """Fold every ``BatchNorm2d`` that directly follows a ``Conv2d`` in a Sequential into the
    conv (in place; the BatchNorm becomes Identity). Call in eval mode semantics: the running
    statistics are used."""
    from ..nn import BatchNorm2d, Conv2d, Identity, Parameter

    for parent in model.modules():
        names = list(parent._modules)
        for a, b in zip(names, names[1:]):
            conv, bn = parent._modules[a], parent._modules[b]
            if isinstance(conv, Conv2d) and isinstance(bn, BatchNorm2d) and \
                    bn.running_mean is not None:
                inv = 1.0 / np.sqrt(bn.running_var.array.astype(np.float64) + bn.eps)
                gamma = bn.weight.array if bn.weight is not None else np.ones_like(inv)
                beta = bn.bias.array if bn.bias is not None else np.zeros_like(inv)
                scale = gamma * inv
                w = conv.weight.array * scale.reshape(-1, 1, 1, 1)
                b0 = conv.bias.array if conv.bias is not None else 0.0
                folded = beta + (b0 - bn.running_mean.array) * scale
                conv.weight.array = w.astype(conv.weight.array.dtype)
                conv.weight._bump_version()
                conv.bias = Parameter(folded.astype(conv.weight.array.dtype))
                setattr(parent, b, Identity())
    return model


def quantize_model(model, calibration, per_channel: bool = True, symmetric: bool = True):
    """Post-training int8 quantization (in place): fold batch norm, observe every Linear's and
    Conv2d's input range on the ``calibration`` batches (Tensors of inputs), and replace the
    layers by their integer versions. Returns the model (eval mode)."""
    from .. import no_grad

    model.eval()
    fold_batchnorm(model)
    ranges, handles = {}, []
    layers = [(p, n, c) for p, n, c in _parents(model) if isinstance(c, (nn.Linear, nn.Conv2d))]
    if not layers:
        raise ValueError("quantize_model: the model has no Linear or Conv2d layer")
    def observe(mod, args):
        a = args[0].array
        lo, hi = ranges.get(id(mod), (np.inf, -np.inf))
        ranges[id(mod)] = (min(lo, float(a.min())), max(hi, float(a.max())))

    for _, _, layer in layers:
        handles.append(layer.register_forward_pre_hook(observe))
    with no_grad():
        n = 0
        for x in calibration:
            model(x if isinstance(x, Tensor) else Tensor(np.asarray(x)))
            n += 1
    for h in handles:
        h.remove()
    if n == 0:
        raise ValueError("quantize_model: calibration yielded no batches")
    for parent, name, layer in layers:
        cls = QuantizedLinear if isinstance(layer, nn.Linear) else QuantizedConv2d
        setattr(parent, name, cls.from_float(layer, ranges[id(layer)], per_channel, symmetric))
    return model


def model_bytes_int8(model) -> int:
    """Bytes of a quantized model: int8 layers as stored, everything else float32."""
    total = 0
    for m in model.modules():
        if isinstance(m, QuantizedLayer):
            total += m.weight_bytes()  # its scales are float buffers, counted here once
            continue
        for t in list(m._parameters.values()) + list(m._buffers.values()):
            if t is not None and t.array.dtype.kind == "f":
                total += 4 * t.array.size
    return total


class FakeQuantize(Function):
    """Round to the integer grid and back in forward; straight-through in backward.

    ``y = scale * (clip(round(x / scale) + z, qmin, qmax) - z)``. Rounding has zero derivative
    almost everywhere, which would stop learning, so backward passes the gradient unchanged
    where ``x`` rounds into the representable range and zero where it was clipped.
    """

    @staticmethod
    def forward(ctx, x, scale, zero_point, qmin, qmax):
        r = np.round(x / scale) + zero_point
        ctx.inside = (r >= qmin) & (r <= qmax)  # PyTorch's rule: judged on the rounded value
        return ((np.clip(r, qmin, qmax) - zero_point) * scale).astype(x.dtype)

    @staticmethod
    def backward(ctx, dy):
        # d fake_quant(x) / dx := 1 inside the range (STE), 0 where clipped
        return dy * ctx.inside, None, None, None, None


def fake_quantize(x: Tensor, scale, zero_point, qmin: int, qmax: int) -> Tensor:
    """:class:`FakeQuantize` applied to ``x`` (scale and zero point broadcast against it)."""
    return FakeQuantize.apply(x, np.asarray(scale, dtype=np.float32),
                              np.asarray(zero_point, dtype=np.float32), qmin, qmax)


class _QATHook:
    """Forward pre-hook of a QAT layer: fake-quantizes its input (range tracked by a moving
    min/max) and computes ``weight`` from ``weight_fp`` fake-quantized per channel."""

    def __init__(self, momentum: float = 0.1, per_channel: bool = True):
        self.momentum, self.per_channel = momentum, per_channel
        self.lo = self.hi = None

    def __call__(self, module, args):
        w = module.weight_fp
        scale, _ = weight_qparams(w.array.astype(np.float64), self.per_channel, True)
        object.__setattr__(module, "weight", fake_quantize(w, scale, 0, -127, 127))
        x = args[0]
        if module.training or self.lo is None:
            lo, hi = float(x.array.min()), float(x.array.max())
            if self.lo is None:
                self.lo, self.hi = lo, hi
            else:
                self.lo += self.momentum * (lo - self.lo)
                self.hi += self.momentum * (hi - self.hi)
        s, z = activation_qparams(self.lo, self.hi)
        return (fake_quantize(x, s, z, 0, 255),) + tuple(args[1:])


def prepare_qat(model, per_channel: bool = True):
    """Quantization-aware training (in place): every Linear and Conv2d trains through fake
    quantization of its weight (int8, symmetric) and input (uint8, moving min/max). The float
    weight lives on as the Parameter ``weight_fp``; :func:`convert_qat` returns plain layers for
    :func:`quantize_model`."""
    for m in model.modules():
        if isinstance(m, (nn.Linear, nn.Conv2d)) and "weight_fp" not in m._parameters:
            w = m._parameters.pop("weight")
            m.register_parameter("weight_fp", w)
            hook = _QATHook(per_channel=per_channel)
            m.register_forward_pre_hook(hook)
            object.__setattr__(m, "weight", w)
    return model


def convert_qat(model):
    """Undo :func:`prepare_qat`: ``weight`` is a plain Parameter again (the trained float
    weights, ready for :func:`quantize_model`)."""
    for m in model.modules():
        if "weight_fp" in m._parameters:
            for key, hook in list(m._forward_pre_hooks.items()):
                if isinstance(hook, _QATHook):
                    del m._forward_pre_hooks[key]
            w = m._parameters.pop("weight_fp")
            m.__dict__.pop("weight", None)
            m.register_parameter("weight", w)
    return model
