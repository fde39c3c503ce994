"""``torch.nn.modules.batchnorm``'s names, for programs that import them from there."""

from ..normalization import BatchNorm1d, BatchNorm2d, SyncBatchNorm  # noqa: F401
