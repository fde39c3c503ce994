"""``torch.nn.modules.upsampling``'s names, for programs that import them from there."""

from ..conv_extra import Upsample, UpsamplingBilinear2d, UpsamplingNearest2d  # noqa: F401
