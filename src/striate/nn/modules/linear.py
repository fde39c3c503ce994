"""``torch.nn.modules.linear``'s names, for programs that import them from there."""

from ..linear import Identity, Linear  # noqa: F401
