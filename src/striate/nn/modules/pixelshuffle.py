"""``torch.nn.modules.pixelshuffle``'s names, for programs that import them from there."""

from ..pixelshuffle import PixelShuffle, PixelUnshuffle  # noqa: F401
