"""``torch.nn.modules.normalization``'s names, for programs that import them from there."""

from ..normalization import GroupNorm, LayerNorm, LocalResponseNorm  # noqa: F401
