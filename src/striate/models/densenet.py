"""DenseNet (Huang et al. 2017), in torchvision's layout: DenseNet-121 has 7,978,856 parameters
for 1000 classes.

In a dense block every layer sees the concatenation of all feature maps before it and adds
``growth_rate`` new ones: BN - ReLU - 1x1 conv to ``bn_size * growth_rate`` channels (the
bottleneck) - BN - ReLU - 3x3 conv to ``growth_rate``. Between blocks a transition halves the
channels with BN - ReLU - 1x1 conv and the resolution with a 2x2 average pool.

Small variant (inputs of at most 64 pixels a side): a 3x3 stride-1 stem convolution and no stem
pool; a transition's pool is skipped once the map is 1 pixel.
"""

from __future__ import annotations

from collections import OrderedDict

from .. import nn
from .. import ops as F
from ._common import check_input_shape, kaiming_init_, resolve_variant

__all__ = ["DenseNet", "densenet121"]


class DenseLayer(nn.Module):
    """BN-ReLU-1x1 conv-BN-ReLU-3x3 conv: (N, cin, H, W) -> (N, growth_rate, H, W)."""

    def __init__(self, cin: int, growth_rate: int, bn_size: int, drop_rate: float):
        super().__init__()
        self.norm1 = nn.BatchNorm2d(cin)
        self.conv1 = nn.Conv2d(cin, bn_size * growth_rate, 1, bias=False)
        self.norm2 = nn.BatchNorm2d(bn_size * growth_rate)
        self.conv2 = nn.Conv2d(bn_size * growth_rate, growth_rate, 3, padding=1, bias=False)
        self.dropout = nn.Dropout(drop_rate) if drop_rate > 0 else None

    def forward(self, x):
        out = self.conv1(F.relu(self.norm1(x)))
        out = self.conv2(F.relu(self.norm2(out)))
        return self.dropout(out) if self.dropout is not None else out


class DenseBlock(nn.Module):
    """``num_layers`` dense layers: (N, cin, H, W) -> (N, cin + num_layers * growth_rate, H, W)."""

    def __init__(self, num_layers: int, cin: int, bn_size: int, growth_rate: int,
                 drop_rate: float):
        super().__init__()
        for i in range(num_layers):  # named as torchvision's, so state_dict keys match
            self.add_module(f"denselayer{i + 1}",
                            DenseLayer(cin + i * growth_rate, growth_rate, bn_size, drop_rate))

    def forward(self, x):
        features = [x]
        for layer in self.children():
            features.append(layer(F.cat(features, 1) if len(features) > 1 else x))
        return F.cat(features, 1)


class Transition(nn.Sequential):
    """BN - ReLU - 1x1 conv - (2x2 average pool): halves channels and resolution."""

    def __init__(self, cin: int, cout: int, pool: bool):
        layers = [("norm", nn.BatchNorm2d(cin)), ("relu", nn.ReLU()),
                  ("conv", nn.Conv2d(cin, cout, 1, bias=False))]
        if pool:
            layers.append(("pool", nn.AvgPool2d(2, stride=2)))
        super().__init__(OrderedDict(layers))


class DenseNet(nn.Module):
    """DenseNet: (N, C, H, W) -> (N, num_classes).

    Args:
        growth_rate: channels each layer adds (k = 32).
        block_config: layers per dense block ((6, 12, 24, 16) for DenseNet-121).
        num_init_features: channels of the stem convolution (64).
        bn_size: bottleneck width as a multiple of the growth rate (4).
        drop_rate: dropout after each dense layer (0).
        num_classes, input_shape, variant: as the other zoo models.
    """

    @nn.init.course_defaults()  # striate's own scheme, not PyTorch's default
    def __init__(self, growth_rate: int = 32, block_config=(6, 12, 24, 16),
                 num_init_features: int = 64, bn_size: int = 4, drop_rate: float = 0.0,
                 num_classes: int = 1000, input_shape=(3, 224, 224), variant: str | None = None):
        super().__init__()
        c, h, w = check_input_shape(input_shape, "DenseNet")
        self.variant = resolve_variant(input_shape, variant, "DenseNet")
        # module names are torchvision's (features.conv0, features.denseblock1.denselayer1, ...)
        if self.variant == "imagenet":
            layers = [("conv0", nn.Conv2d(c, num_init_features, 7, stride=2, padding=3,
                                          bias=False)),
                      ("norm0", nn.BatchNorm2d(num_init_features)), ("relu0", nn.ReLU()),
                      ("pool0", nn.MaxPool2d(3, stride=2, padding=1))]
            h = w = None  # every transition pools
        else:
            layers = [("conv0", nn.Conv2d(c, num_init_features, 3, padding=1, bias=False)),
                      ("norm0", nn.BatchNorm2d(num_init_features)), ("relu0", nn.ReLU())]
        ch = num_init_features
        for i, n in enumerate(block_config):
            layers.append((f"denseblock{i + 1}",
                           DenseBlock(n, ch, bn_size, growth_rate, drop_rate)))
            ch += n * growth_rate
            if i != len(block_config) - 1:
                pool = h is None or (h >= 2 and w >= 2)
                layers.append((f"transition{i + 1}", Transition(ch, ch // 2, pool)))
                ch //= 2
                if h is not None and pool:
                    h, w = h // 2, w // 2
        layers.append(("norm5", nn.BatchNorm2d(ch)))
        self.features = nn.Sequential(OrderedDict(layers))
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.classifier = nn.Linear(ch, num_classes)
        kaiming_init_(self)

    def forward(self, x):
        return self.classifier(self.avgpool(F.relu(self.features(x))).flatten(1))


def densenet121(num_classes: int = 1000, input_shape=(3, 224, 224), **kwargs) -> DenseNet:
    """DenseNet-121 (k = 32, blocks 6-12-24-16); 7,978,856 parameters for 1000 classes."""
    return DenseNet(32, (6, 12, 24, 16), 64, num_classes=num_classes, input_shape=input_shape,
                    **kwargs)
