"""``torch.nn.modules.transformer``'s names, for programs that import them from there."""

from ..transformer import *  # noqa: F403
