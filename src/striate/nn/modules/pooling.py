"""``torch.nn.modules.pooling``'s names, for programs that import them from there."""

from ..conv import AvgPool2d, MaxPool2d  # noqa: F401
from ..conv1d import AvgPool1d, MaxPool1d  # noqa: F401
from ..conv_extra import AdaptiveAvgPool2d, AdaptiveMaxPool2d, FractionalMaxPool2d, MaxUnpool2d  # noqa: F401
