"""Structured dropout: ``dropout2d`` (whole feature maps), ``stochastic_depth`` (whole residual
branches) and ``dropconnect`` (the weights of a linear layer instead of its activations).

All three are inverted: what is kept is scaled by ``1 / (1 - p)``, so evaluation is the identity
(or, for DropConnect, the layer with its plain weights). Masks come from striate's one seeded
generator (``striate.manual_seed``).

- dropout2d (Tompson et al. 2015): neighbouring pixels of a feature map are strongly correlated,
  so dropping single activations barely regularises a ConvNet; one Bernoulli draw per (sample,
  channel) drops a whole map instead. The mask has shape (N, C, 1, 1) and broadcasts.
- stochastic depth (Huang et al. 2016): in a residual network ``x + f(x)``, drop the branch
  ``f(x)`` for a whole sample (``mode="row"``) or the whole batch (``mode="batch"``), as
  torchvision's ``stochastic_depth``; the caller adds the identity.
- DropConnect (Wan et al. 2013): zero each weight of ``y = x W^T + b`` with probability p. One
  mask is drawn per call (per mini-batch), not per example.
"""

from __future__ import annotations

import numbers
import warnings

import numpy as np

from .. import backend
from ..autograd.function import Function
from ..autograd.tensor import Tensor
from .dropout import dropout
from .linalg import linear

__all__ = ["dropconnect", "dropout2d", "stochastic_depth"]


def _check_p(fn, p):
    if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0.0 <= p <= 1.0:
        raise ValueError(f"{fn}: p must be a probability in [0, 1], got {p!r}")
    return float(p)


class MaskScale(Function):
    """``x * m`` with m a Bernoulli(1 - p) / (1 - p) mask of ``mask_shape`` that broadcasts."""

    @staticmethod
    def forward(ctx, x, mask_shape, p):
        if p >= 1:
            m = np.zeros(mask_shape, dtype=x.dtype)
        else:
            u = backend.random_rows(mask_shape, np.float64)
            m = np.multiply(u >= p, 1 / (1 - p), dtype=x.dtype)
        ctx.m = m
        return x * m

    @staticmethod
    def backward(ctx, g):
        # d(x m)/dx = m, broadcast over the dims the mask shares
        return g * ctx.m


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True,
              inplace: bool = False) -> Tensor:
    """Drop whole channels: zero every (sample, channel) map with probability p, scale the rest by
    ``1 / (1 - p)``; the identity when not training or p = 0.

    Args:
        input: (N, C, H, W), or (N, C, L) (channel-wise 1-D dropout, as PyTorch does for 3-D input);
            a 2-D input warns and is dropped elementwise, as PyTorch.
        p: drop probability in [0, 1].
        inplace: accepted for PyTorch compatibility; a new tensor is returned.
    Returns a tensor of input's shape.

    Example:
        >>> import striate, striate.functional as F
        >>> y = F.dropout2d(striate.ones(4, 8, 3, 3), p=0.5)
        >>> all(len(set(y.array[n, c].ravel().tolist())) == 1 for n in range(4) for c in range(8))
        True
    """
    p = _check_p("dropout2d", p)
    if input.ndim == 2:  # PyTorch 2.13 warns, then drops elementwise
        warnings.warn("dropout2d: Received a 2-D input to dropout2d, which is deprecated and "
                      "will result in an error in a future release. To retain the behavior and "
                      "silence this warning, please use dropout instead.", UserWarning,
                      stacklevel=2)
        return dropout(input, p, training)
    if input.ndim not in (3, 4):
        raise ValueError(
            f"dropout2d: input must be 4-D (N, C, H, W) or 3-D (N, C, L), got shape {input.shape}"
        )
    if not training or p == 0:
        return input
    return MaskScale.apply(input, mask_shape=tuple(input.shape[:2]) + (1,) * (input.ndim - 2),
                           p=p)


def stochastic_depth(input: Tensor, p: float, mode: str, training: bool = True) -> Tensor:
    """Randomly drop a residual branch, as ``torchvision.ops.stochastic_depth``.

    Args:
        input: the branch's output (N, ...), any shape with a leading batch dim.
        p: probability of dropping, in [0, 1]; what survives is scaled by ``1 / (1 - p)``.
        mode: ``"row"`` drops each sample's branch independently (a mask of shape
            (N, 1, ..., 1)); ``"batch"`` drops it for the whole batch at once (one draw).
        training: when False (or p = 0) the input is returned unchanged.
    Returns a tensor of input's shape; add it to the identity path (``x + stochastic_depth(f(x))``).
    """
    p = _check_p("stochastic_depth", p)
    if mode not in ("row", "batch"):
        raise ValueError(f"stochastic_depth: mode must be 'row' or 'batch', got {mode!r}")
    if not training or p == 0:
        return input
    if input.ndim == 0:
        raise ValueError("stochastic_depth: input must have a batch dimension, got a scalar")
    lead = input.shape[0] if mode == "row" else 1
    return MaskScale.apply(input, mask_shape=(lead,) + (1,) * (input.ndim - 1), p=p)


def dropconnect(input: Tensor, weight: Tensor, bias: Tensor | None = None, p: float = 0.5,
                training: bool = True) -> Tensor:
    """DropConnect linear layer: ``y = x (W * M)^T / (1 - p) + b`` with M a Bernoulli(1 - p) mask
    over the weights, drawn once per call; ``y = x W^T + b`` when not training (the mean network).

    Args:
        input: (N, *, in_features). weight: (out_features, in_features). bias: (out_features,)
            or None; the bias is never dropped.
        p: drop probability of each weight, in [0, 1].
    Returns:
        (N, *, out_features). The gradient of W is masked like W itself.
    """
    p = _check_p("dropconnect", p)
    if weight.ndim != 2:
        raise ValueError(
            f"dropconnect: weight must be 2-D (out_features, in_features), got shape "
            f"{weight.shape}"
        )
    if training and p > 0:
        weight = dropout(weight, p, training=True)
    return linear(input, weight, bias)
