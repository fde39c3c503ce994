"""``torch.nn.modules.conv``'s names, for programs that import them from there."""

from ..conv import Conv2d  # noqa: F401
from ..conv1d import Conv1d, ConvTranspose1d  # noqa: F401
from ..conv_extra import ConvTranspose2d  # noqa: F401
