"""``striate.amp``: automatic mixed precision with PyTorch's names, ``autocast`` (float16
storage of the matrix products' inputs and outputs, float32 accumulation and master weights)
and ``GradScaler`` (dynamic loss scaling that skips steps with inf/NaN gradients)."""

from .autocast_mode import FP16_OPS, FP32_OPS, autocast, is_autocast_enabled
from .grad_scaler import GradScaler

__all__ = ["FP16_OPS", "FP32_OPS", "GradScaler", "autocast", "is_autocast_enabled"]
