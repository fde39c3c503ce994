"""``torch.nn.modules.dropout``'s names, for programs that import them from there."""

from ..dropout import Dropout, Dropout2d  # noqa: F401
