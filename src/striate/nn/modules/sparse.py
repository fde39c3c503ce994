"""``torch.nn.modules.sparse``'s names, for programs that import them from there."""

from ..recurrent import Embedding  # noqa: F401
