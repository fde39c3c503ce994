"""How big and how costly a model is: its parameter count, and the multiply-adds (MACs) of one
forward pass at a given input size, without training or even initialising it.

- :func:`skip_init` builds a model without drawing its initial weights. Parameters are created as
  ``numpy.zeros`` (which the OS maps lazily), so even VGG-19's 144 million parameters cost almost
  no time or memory until something writes to them. Use it to count, never to train.
- :func:`count_macs` runs one forward pass of a single image in which every ``Conv2d`` and
  ``Linear`` is replaced by its shape rule: the output is a zero map of the right shape, and the
  layer's multiply-adds are added up instead of computed. Everything else (pooling, BN, concat,
  residual adds) runs for real on that one image, so the shapes are the model's own.

MACs count the multiply-adds of convolutions and linear layers only, the usual convention (one
MAC = one multiply and one add; FLOPs are about twice the MACs).

Example:
    >>> from striate.models import resnet18
    >>> from striate.models.stats import count_macs, count_parameters, skip_init
    >>> with skip_init():
    ...     model = resnet18(num_classes=1000)
    >>> count_parameters(model), round(count_macs(model, (3, 224, 224)) / 1e9, 2)
    (11689512, 1.81)
"""

from __future__ import annotations

import contextlib
import threading

import numpy as np

from .. import nn
from ..autograd.grad_mode import no_grad
from ..autograd.tensor import Tensor
from ..nn import init
from ._common import check_input_shape, conv_out

__all__ = ["count_macs", "count_parameters", "format_count", "model_stats", "output_shape",
           "skip_init"]

_lock = threading.RLock()


def _keep(tensor, *args, **kwargs):
    return tensor


@contextlib.contextmanager
def skip_init():
    """Within this block, ``striate.nn.init``'s in-place initialisers do nothing, so modules keep
    the zeros they were allocated with. For counting parameters and shape inference only: a
    model built here is not trainable as is (call each layer's ``reset_parameters`` to fix it).
    """
    names = [n for n in init.__all__ if n.endswith("_")]
    with _lock:
        saved = {n: getattr(init, n) for n in names}
        try:
            for n in names:
                setattr(init, n, _keep)
            yield
        finally:
            for n, fn in saved.items():
                setattr(init, n, fn)


def count_parameters(model: nn.Module, trainable_only: bool = False) -> int:
    """Number of scalar parameters of ``model`` (those that require grad if ``trainable_only``);
    a parameter shared by two layers counts once."""
    return int(sum(p.array.size for p in model.parameters()
                   if p.requires_grad or not trainable_only))


def _pair(v) -> tuple[int, int]:
    return (int(v), int(v)) if np.ndim(v) == 0 else (int(v[0]), int(v[1]))


def _conv_shape_rule(m, total: list):
    kh, kw = _pair(m.kernel_size)
    sh, sw = _pair(m.stride)
    dh, dw = _pair(getattr(m, "dilation", 1))
    groups = int(getattr(m, "groups", 1))
    padding = m.padding

    def forward(x):
        n, c, h, w = x.shape
        if isinstance(padding, str):  # 'same' keeps the size, 'valid' pads nothing
            ho, wo = (h, w) if padding == "same" else (conv_out(h, kh, sh, 0, dh),
                                                       conv_out(w, kw, sw, 0, dw))
        else:
            ph, pw = _pair(padding)
            ho, wo = conv_out(h, kh, sh, ph, dh), conv_out(w, kw, sw, pw, dw)
        if ho < 1 or wo < 1:
            raise ValueError(
                f"count_macs: {m!r} gets a {h}x{w} input, too small for its kernel "
                f"(output {ho}x{wo})"
            )
        total[0] += n * m.out_channels * ho * wo * (c // groups) * kh * kw
        return Tensor(np.zeros((n, m.out_channels, ho, wo), dtype=x.array.dtype))

    return forward


def _linear_shape_rule(m, total: list):
    def forward(x):
        lead = x.shape[:-1]
        total[0] += int(np.prod(lead, dtype=np.int64)) * m.in_features * m.out_features
        return Tensor(np.zeros(lead + (m.out_features,), dtype=x.array.dtype))

    return forward


def _shape_pass(model: nn.Module, input_shape, owner: str) -> tuple[int, tuple]:
    """One eval-mode forward of a zero image with conv/linear replaced by their shape rules;
    returns (MACs, output shape)."""
    c, h, w = check_input_shape(input_shape, owner)
    total = [0]
    patched = []
    for m in model.modules():
        if isinstance(m, nn.Conv2d) and not hasattr(m, "output_padding"):  # not a transposed one
            rule = _conv_shape_rule(m, total)
        elif isinstance(m, nn.Linear):
            rule = _linear_shape_rule(m, total)
        else:
            continue
        object.__setattr__(m, "forward", rule)  # an instance attribute hides the class's method
        patched.append(m)
    was_training = model.training
    dtype = next((p.dtype for p in model.parameters()), np.float32)
    try:
        model.eval()
        with no_grad():
            out = model(Tensor(np.zeros((1, c, h, w), dtype=dtype)))
    finally:
        for m in patched:
            object.__delattr__(m, "forward")
        model.train(was_training)
    return int(total[0]), tuple(out.shape)


def count_macs(model: nn.Module, input_shape) -> int:
    """Multiply-adds of ``Conv2d`` and ``Linear`` layers in one forward pass of one image of
    shape ``input_shape`` = (C, H, W), in eval mode. The model's arrays are not touched."""
    return _shape_pass(model, input_shape, "count_macs")[0]


def output_shape(model: nn.Module, input_shape) -> tuple:
    """Shape of ``model``'s eval-mode output for one image of ``input_shape`` (C, H, W), found by
    shape inference (convolutions and linear layers are not computed): e.g. ``(1, 1000)``."""
    return _shape_pass(model, input_shape, "output_shape")[1]


def model_stats(name: str, num_classes: int = 1000, input_shape=(3, 224, 224), **kwargs) -> dict:
    """``{'params': int, 'macs': int}`` of the registered model ``name`` built (without
    initialising it) for ``num_classes`` and one image of ``input_shape``."""
    from . import create_model

    with skip_init():
        model = create_model(name, num_classes=num_classes, input_shape=input_shape, **kwargs)
    return {"params": count_parameters(model), "macs": count_macs(model, input_shape)}


def format_count(n: int) -> str:
    """``11689512 -> '11.69M'``, ``1814073344 -> '1.81G'``, ``61706 -> '61.71K'``."""
    for unit, scale in (("G", 1e9), ("M", 1e6), ("K", 1e3)):
        if n >= scale:
            return f"{n / scale:.2f}{unit}"
    return str(int(n))
