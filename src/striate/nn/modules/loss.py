"""``torch.nn.modules.loss``'s names, for programs that import them from there."""

from ..loss import *  # noqa: F403
