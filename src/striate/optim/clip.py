"""Gradient clipping, also under ``striate.optim``: the functions live in
:mod:`striate.nn.utils.clip_grad` (PyTorch's ``torch.nn.utils`` home for them)."""

from ..nn.utils.clip_grad import clip_grad_norm_, clip_grad_value_

__all__ = ["clip_grad_norm_", "clip_grad_value_"]
