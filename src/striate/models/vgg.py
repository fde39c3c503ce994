"""VGG (Simonyan & Zisserman 2014): stacks of 3x3 convolutions (padding 1) separated by 2x2
max-pools, in torchvision's layout. Configurations A, B, D, E are VGG-11, 13, 16 and 19; the
``_bn`` versions put a BatchNorm after every convolution.

ImageNet variant: features, adaptive average pooling to 7x7 and the 25088-4096-4096-classes
classifier with dropout (vgg16: 138,357,544 parameters for 1000 classes). Small variant (inputs of
at most 64 pixels a side): the same features, a max-pool skipped once the map is 1 pixel, global
average pooling and one linear layer 512 -> classes, the usual CIFAR VGG.
"""

from __future__ import annotations

from .. import nn
from ..nn import init
from ._common import check_input_shape, resolve_variant

__all__ = ["VGG", "vgg11", "vgg11_bn", "vgg13", "vgg13_bn", "vgg16", "vgg16_bn", "vgg19",
           "vgg19_bn"]

#: channels per 3x3 conv, "M" for a 2x2 max-pool
CFGS = {
    "A": (64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"),
    "B": (64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"),
    "D": (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"),
    "E": (64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M",
          512, 512, 512, 512, "M"),
}


def make_layers(cfg, in_channels: int, batch_norm: bool, size: tuple | None = None):
    """The feature extractor of ``cfg``; with ``size`` = (H, W), pools that would shrink a side
    below 1 pixel are left out. Returns (Sequential, channels out)."""
    layers = []
    c = in_channels
    h, w = size if size is not None else (None, None)
    for v in cfg:
        if v == "M":
            if h is None or (h >= 2 and w >= 2):
                layers.append(nn.MaxPool2d(2, stride=2))
                if h is not None:
                    h, w = h // 2, w // 2
            continue
        layers.append(nn.Conv2d(c, v, 3, padding=1))
        if batch_norm:
            layers.append(nn.BatchNorm2d(v))
        layers.append(nn.ReLU())
        c = v
    return nn.Sequential(*layers), c


class VGG(nn.Module):
    """VGG: (N, C, H, W) -> (N, num_classes).

    Args:
        cfg: a key of ``CFGS`` ('A', 'B', 'D', 'E') or a list of channels and "M".
        batch_norm: conv - BN - ReLU instead of conv - ReLU.
        num_classes, input_shape: outputs, and the (C, H, W) of one image.
        variant: 'imagenet', 'small' or None (chosen from ``input_shape``).
        dropout: dropout probability of the ImageNet classifier (0.5).
    """

    @init.course_defaults()  # striate's own scheme, not PyTorch's default
    def __init__(self, cfg="D", batch_norm: bool = False, num_classes: int = 1000,
                 input_shape=(3, 224, 224), variant: str | None = None, dropout: float = 0.5):
        super().__init__()
        c, h, w = check_input_shape(input_shape, "VGG")
        self.variant = resolve_variant(input_shape, variant, "VGG")
        cfg = CFGS[cfg] if isinstance(cfg, str) else tuple(cfg)
        if self.variant == "imagenet":
            self.features, out = make_layers(cfg, c, batch_norm)
            self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
            self.classifier = nn.Sequential(
                nn.Linear(out * 7 * 7, 4096), nn.ReLU(), nn.Dropout(dropout),
                nn.Linear(4096, 4096), nn.ReLU(), nn.Dropout(dropout),
                nn.Linear(4096, num_classes),
            )
        else:
            self.features, out = make_layers(cfg, c, batch_norm, (h, w))
            self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
            self.classifier = nn.Sequential(nn.Linear(out, num_classes))
        # torchvision's initialisation
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                init.zeros_(m.bias)
            elif isinstance(m, nn.BatchNorm2d):
                init.ones_(m.weight)
                init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                init.normal_(m.weight, 0.0, 0.01)
                init.zeros_(m.bias)

    def forward(self, x):
        return self.classifier(self.avgpool(self.features(x)).flatten(1))


def _vgg(cfg: str, bn: bool, doc: str):
    def build(num_classes: int = 1000, input_shape=(3, 224, 224), **kwargs) -> VGG:
        return VGG(cfg, bn, num_classes, input_shape, **kwargs)

    build.__doc__ = doc
    return build


vgg11 = _vgg("A", False, "VGG-11 (config A); 132,863,336 parameters for 1000 classes.")
vgg11_bn = _vgg("A", True, "VGG-11 with BatchNorm; 132,868,840 parameters for 1000 classes.")
vgg13 = _vgg("B", False, "VGG-13 (config B); 133,047,848 parameters for 1000 classes.")
vgg13_bn = _vgg("B", True, "VGG-13 with BatchNorm; 133,053,736 parameters for 1000 classes.")
vgg16 = _vgg("D", False, "VGG-16 (config D); 138,357,544 parameters for 1000 classes.")
vgg16_bn = _vgg("D", True, "VGG-16 with BatchNorm; 138,365,992 parameters for 1000 classes.")
vgg19 = _vgg("E", False, "VGG-19 (config E); 143,667,240 parameters for 1000 classes.")
vgg19_bn = _vgg("E", True, "VGG-19 with BatchNorm; 143,678,248 parameters for 1000 classes.")
for _f, _n in ((vgg11, "vgg11"), (vgg11_bn, "vgg11_bn"), (vgg13, "vgg13"), (vgg13_bn, "vgg13_bn"),
               (vgg16, "vgg16"), (vgg16_bn, "vgg16_bn"), (vgg19, "vgg19"), (vgg19_bn, "vgg19_bn")):
    _f.__name__ = _f.__qualname__ = _n
del _f, _n
