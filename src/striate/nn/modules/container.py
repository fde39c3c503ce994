"""``torch.nn.modules.container``'s names, for programs that import them from there."""

from ..container import ModuleDict, ModuleList, Sequential  # noqa: F401
