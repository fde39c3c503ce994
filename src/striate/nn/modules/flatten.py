"""``torch.nn.modules.flatten``'s names, for programs that import them from there."""

from ..linear import Flatten  # noqa: F401
