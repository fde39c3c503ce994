"""Where PyTorch users look for utilities: ``striate.utils.data`` (datasets and the DataLoader)
and ``striate.utils.tensorboard`` (``SummaryWriter``, with the optional ``tensorboard`` extra)."""

from . import data, tensorboard

__all__ = ["data", "tensorboard"]
