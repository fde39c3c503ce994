"""Binary and ternary weights, trained with the straight-through estimator.

A layer keeps a float "latent" weight (the Parameter ``weight_fp``) and runs with a 1- or 2-bit
version of it, computed by a forward pre-hook like pruning's:

- binary (BinaryConnect, Courbariaux et al. 2015, with XNOR-Net's per-filter scale):
  ``w_b = alpha * sign(w)``, ``alpha = mean |w|`` of the output channel;
- ternary, trained (TTQ, Zhu et al. 2017): ``w_t = +W_p`` where ``w > delta``, ``-W_n`` where
  ``w < -delta``, 0 between, with ``delta = t * max |w|`` and the two scales ``W_p``, ``W_n``
  learned Parameters of the layer (``weight_pos``, ``weight_neg``).

The rounding has zero derivative, so backward passes the gradient through to the latent weight
(straight-through): for binary where ``|w| <= 1`` (the hardtanh window), for TTQ scaled by
``W_p`` / 1 / ``W_n`` in the three regions, as the paper does; the scales get the sums of their
regions' gradients (``dL/dW_p = sum_{w > delta} dL/dw_t``, ``dL/dW_n = -sum_{w < -delta} ...``).
"""

from __future__ import annotations

import numpy as np

from .. import nn
from ..autograd.function import Function
from ..autograd.tensor import Tensor

__all__ = ["BinaryWeight", "TernaryWeight", "binarize", "ternarize", "freeze_low_bit"]


def _channel_mean_abs(w: np.ndarray) -> np.ndarray:
    return np.abs(w).mean(axis=tuple(range(1, w.ndim)), keepdims=True)


class BinaryWeight(Function):
    """``alpha * sign(w)`` per output channel; straight-through gradient inside ``|w| <= 1``."""

    @staticmethod
    def forward(ctx, w):
        ctx.window = np.abs(w) <= 1
        return (_channel_mean_abs(w) * np.where(w >= 0, 1.0, -1.0)).astype(w.dtype)

    @staticmethod
    def backward(ctx, dw_b):
        # STE: d w_b / d w := 1 on |w| <= 1 (hardtanh's derivative), 0 outside
        return dw_b * ctx.window


class TernaryWeight(Function):
    """TTQ's ternary weight ``{-W_n, 0, +W_p}`` from the latent ``w`` and threshold ``delta``."""

    @staticmethod
    def forward(ctx, w, wp, wn, delta):
        pos, neg = w > delta, w < -delta
        ctx.pos, ctx.neg, ctx.wp, ctx.wn = pos, neg, wp, wn
        return (wp * pos - wn * neg).astype(w.dtype)

    @staticmethod
    def backward(ctx, g):
        pos, neg = ctx.pos, ctx.neg
        # latent: W_p * g on the positive set, W_n * g on the negative set, g in between
        dw = np.where(pos, ctx.wp * g, np.where(neg, ctx.wn * g, g))
        dwp = np.asarray([(g * pos).sum()], dtype=g.dtype).reshape(np.shape(ctx.wp))
        dwn = np.asarray([-(g * neg).sum()], dtype=g.dtype).reshape(np.shape(ctx.wn))
        return dw, dwp, dwn, None


class _LowBitHook:
    def __init__(self, kind: str, threshold: float):
        self.kind, self.threshold = kind, threshold

    def weight(self, module) -> Tensor:
        w = module.weight_fp
        if self.kind == "binary":
            return BinaryWeight.apply(w)
        delta = np.float32(self.threshold * float(np.abs(w.array).max()))
        return TernaryWeight.apply(w, module.weight_pos, module.weight_neg, delta)

    def __call__(self, module, args):
        object.__setattr__(module, "weight", self.weight(module))


def _install(model, kind: str, threshold: float, skip_last: bool):
    layers = [m for m in model.modules() if isinstance(m, (nn.Linear, nn.Conv2d))]
    if skip_last and layers and isinstance(layers[-1], nn.Linear):
        layers = layers[:-1]  # the class scores stay full precision, as in the papers
    if not layers:
        raise ValueError(f"{kind}: the model has no layer to quantize")
    for m in layers:
        w = m._parameters.pop("weight")
        m.register_parameter("weight_fp", w)
        if kind == "ternary":
            # the scales start at the mean magnitude of the weights above the threshold
            a = np.abs(w.array)
            big = a[a > threshold * a.max()]
            start = float(big.mean()) if big.size else float(a.mean())
            m.register_parameter("weight_pos", nn.Parameter(np.full(1, start, w.array.dtype)))
            m.register_parameter("weight_neg", nn.Parameter(np.full(1, start, w.array.dtype)))
        hook = _LowBitHook(kind, threshold)
        m.register_forward_pre_hook(hook)
        object.__setattr__(m, "weight", hook.weight(m))
    return model


def binarize(model, skip_last: bool = True):
    """Train ``model``'s Linear and Conv2d layers with binary weights (in place)."""
    return _install(model, "binary", 0.0, skip_last)


def ternarize(model, threshold: float = 0.05, skip_last: bool = True):
    """Train ``model``'s layers with TTQ's ternary weights (in place); ``threshold`` is ``t`` of
    ``delta = t * max |w|``."""
    if not 0 <= threshold < 1:
        raise ValueError(f"ternarize: threshold must be in [0, 1), got {threshold}")
    return _install(model, "ternary", threshold, skip_last)


def freeze_low_bit(model):
    """Replace the latent weights and hooks by plain ``weight`` Parameters holding the binary or
    ternary values (the model then runs, saves and loads as the original architecture)."""
    for m in model.modules():
        for key, hook in list(m._forward_pre_hooks.items()):
            if isinstance(hook, _LowBitHook):
                w = hook.weight(m).array.copy()
                del m._forward_pre_hooks[key]
                for name in ("weight_fp", "weight_pos", "weight_neg"):
                    m._parameters.pop(name, None)
                m.__dict__.pop("weight", None)
                m.register_parameter("weight", nn.Parameter(w))
    return model
