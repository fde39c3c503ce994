"""``torch.nn.modules.activation``'s names, for programs that import them from there."""

from ..activation import *  # noqa: F403
from ..attention import MultiheadAttention  # noqa: F401
