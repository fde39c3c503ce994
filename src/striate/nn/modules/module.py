"""``torch.nn.modules.module``'s names, for programs that import them from there."""

from ..module import Module  # noqa: F401
