"""AlexNet (Krizhevsky et al. 2012) and ZFNet (Zeiler & Fergus 2013).

``alexnet`` is torchvision's single-tower AlexNet (the "one weird trick" channel counts 64, 192,
384, 256, 256, no local response norm by default): 61,100,840 parameters for 1000 classes.
``lrn=True`` adds the paper's NORM layers (LocalResponseNorm after the first two conv-ReLUs),
which have no parameters, so the count is unchanged.

``zfnet`` is AlexNet as ZFNet retuned it after visualising its filters: a 7x7 stride-2 first layer
of 96 filters instead of 11x11 stride 4, a stride-2 second layer, 384/384/256 filters in layers
3-5, a max-pool with ceil rounding (224 -> 110 -> 55 -> 26 -> 13 -> 6) and LRN after the first
two pools.

Small variants (inputs of at most 64 pixels a side): every stem is a 3x3 stride-1 convolution, the
poolings are 2x2 (skipped once the map is 1 pixel), and the classifier is 1024 wide, pooled
adaptively to at most 2x2.
"""

from __future__ import annotations

from .. import nn
from ._common import check_input_shape, linear_default_init_, resolve_variant

__all__ = ["AlexNet", "ZFNet", "alexnet", "zfnet"]


def _lrn() -> nn.Module:
    # AlexNet's constants: n = 5, alpha = 1e-4, beta = 0.75, k = 2
    return nn.LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=2.0)


def _classifier(features: int, hidden: int, num_classes: int, dropout: float) -> nn.Sequential:
    return nn.Sequential(
        nn.Dropout(dropout), nn.Linear(features, hidden), nn.ReLU(),
        nn.Dropout(dropout), nn.Linear(hidden, hidden), nn.ReLU(),
        nn.Linear(hidden, num_classes),
    )


class _SmallPool:
    """Tracks the spatial size through a small variant: a 2x2 max-pool, or nothing at 1 pixel."""

    def __init__(self, h: int, w: int):
        self.h, self.w = h, w

    def __call__(self) -> list:
        if self.h >= 2 and self.w >= 2:
            self.h, self.w = self.h // 2, self.w // 2
            return [nn.MaxPool2d(2)]
        return []


class AlexNet(nn.Module):
    """AlexNet: five conv layers, three max-pools, three fully-connected layers with dropout;
    (N, C, H, W) -> (N, num_classes).

    Args:
        num_classes, input_shape: outputs, and the (C, H, W) of one image.
        variant: 'imagenet', 'small' or None (chosen from ``input_shape``).
        lrn: add local response normalisation after the first two conv-ReLUs (the paper's NORM).
        dropout: dropout probability in the classifier.
    """

    @nn.init.course_defaults()  # striate's own scheme, not PyTorch's default
    def __init__(self, num_classes: int = 1000, input_shape=(3, 224, 224),
                 variant: str | None = None, lrn: bool = False, dropout: float = 0.5):
        super().__init__()
        c, h, w = check_input_shape(input_shape, "AlexNet")
        self.variant = resolve_variant(input_shape, variant, "AlexNet")
        norm = [_lrn()] if lrn else []
        if self.variant == "imagenet":
            self.features = nn.Sequential(
                nn.Conv2d(c, 64, 11, stride=4, padding=2), nn.ReLU(), *norm,
                nn.MaxPool2d(3, stride=2),
                nn.Conv2d(64, 192, 5, padding=2), nn.ReLU(), *([_lrn()] if lrn else []),
                nn.MaxPool2d(3, stride=2),
                nn.Conv2d(192, 384, 3, padding=1), nn.ReLU(),
                nn.Conv2d(384, 256, 3, padding=1), nn.ReLU(),
                nn.Conv2d(256, 256, 3, padding=1), nn.ReLU(),
                nn.MaxPool2d(3, stride=2),
            )
            side, hidden = 6, 4096
        else:
            pool = _SmallPool(h, w)
            self.features = nn.Sequential(
                nn.Conv2d(c, 64, 3, padding=1), nn.ReLU(), *norm, *pool(),
                nn.Conv2d(64, 192, 3, padding=1), nn.ReLU(), *([_lrn()] if lrn else []), *pool(),
                nn.Conv2d(192, 384, 3, padding=1), nn.ReLU(),
                nn.Conv2d(384, 256, 3, padding=1), nn.ReLU(),
                nn.Conv2d(256, 256, 3, padding=1), nn.ReLU(), *pool(),
            )
            side, hidden = min(2, pool.h, pool.w), 1024
        self.avgpool = nn.AdaptiveAvgPool2d((side, side))
        self.classifier = _classifier(256 * side * side, hidden, num_classes, dropout)
        linear_default_init_(self)

    def forward(self, x):
        return self.classifier(self.avgpool(self.features(x)).flatten(1))


class ZFNet(nn.Module):
    """ZFNet: AlexNet with a 7x7/2 first layer of 96 filters and a stride-2 second layer;
    (N, C, H, W) -> (N, num_classes). Arguments as :class:`AlexNet` (LRN is always on)."""

    @nn.init.course_defaults()  # striate's own scheme, not PyTorch's default
    def __init__(self, num_classes: int = 1000, input_shape=(3, 224, 224),
                 variant: str | None = None, dropout: float = 0.5):
        super().__init__()
        c, h, w = check_input_shape(input_shape, "ZFNet")
        self.variant = resolve_variant(input_shape, variant, "ZFNet")
        if self.variant == "imagenet":
            self.features = nn.Sequential(
                nn.Conv2d(c, 96, 7, stride=2, padding=1), nn.ReLU(),
                nn.MaxPool2d(3, 2, ceil_mode=True), _lrn(),
                nn.Conv2d(96, 256, 5, stride=2), nn.ReLU(),
                nn.MaxPool2d(3, 2, ceil_mode=True), _lrn(),
                nn.Conv2d(256, 384, 3, padding=1), nn.ReLU(),
                nn.Conv2d(384, 384, 3, padding=1), nn.ReLU(),
                nn.Conv2d(384, 256, 3, padding=1), nn.ReLU(),
                nn.MaxPool2d(3, 2, ceil_mode=True),
            )
            side, hidden = 6, 4096
        else:
            pool = _SmallPool(h, w)
            self.features = nn.Sequential(
                nn.Conv2d(c, 96, 3, padding=1), nn.ReLU(), *pool(), _lrn(),
                nn.Conv2d(96, 256, 3, padding=1), nn.ReLU(), *pool(), _lrn(),
                nn.Conv2d(256, 384, 3, padding=1), nn.ReLU(),
                nn.Conv2d(384, 384, 3, padding=1), nn.ReLU(),
                nn.Conv2d(384, 256, 3, padding=1), nn.ReLU(), *pool(),
            )
            side, hidden = min(2, pool.h, pool.w), 1024
        self.avgpool = nn.AdaptiveAvgPool2d((side, side))
        self.classifier = _classifier(256 * side * side, hidden, num_classes, dropout)
        linear_default_init_(self)

    def forward(self, x):
        return self.classifier(self.avgpool(self.features(x)).flatten(1))


def alexnet(num_classes: int = 1000, input_shape=(3, 224, 224), **kwargs) -> AlexNet:
    """torchvision's AlexNet; 61,100,840 parameters for 1000 classes."""
    return AlexNet(num_classes, input_shape, **kwargs)


def zfnet(num_classes: int = 1000, input_shape=(3, 224, 224), **kwargs) -> ZFNet:
    """ZFNet (Zeiler & Fergus 2013); 62,357,608 parameters for 1000 classes."""
    return ZFNet(num_classes, input_shape, **kwargs)
