"""``striate.backends``: the places PyTorch keeps backend switches (``backends.cudnn``).

striate computes with NumPy, so these switches are accepted and change nothing; they exist so
that a PyTorch program setting ``torch.backends.cudnn.benchmark = True`` runs unchanged.
"""

from . import cudnn

__all__ = ["cudnn"]
