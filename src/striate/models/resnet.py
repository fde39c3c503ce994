"""ResNet (He et al. 2015), with torchvision's layout and parameter counts: ResNet-18/34 of basic
blocks, ResNet-50/101/152 of bottleneck blocks, Wide ResNet-50-2 (bottlenecks twice as wide) and
ResNeXt-50 32x4d (bottlenecks whose 3x3 convolution has 32 groups of 4 channels).

The bottleneck strides its 3x3 convolution (ResNet "v1.5", as torchvision), and a block whose
shape changes gets a 1x1 convolution + BN projection shortcut (the paper's option B).

``variant='small'`` (the default for inputs of at most 64 pixels a side) swaps the 7x7 stride-2
stem and its max-pool for one 3x3 stride-1 convolution, the usual CIFAR adaptation.

Example:
    >>> import striate
    >>> from striate.models import resnet18
    >>> from striate.models.stats import count_parameters, skip_init
    >>> with skip_init():
    ...     count_parameters(resnet18(num_classes=1000))
    11689512
"""

from __future__ import annotations

from .. import nn
from .. import ops as F
from ..nn import init
from ._common import check_input_shape, kaiming_init_, resolve_variant

__all__ = [
    "BasicBlock",
    "Bottleneck",
    "ResNet",
    "resnet18",
    "resnet34",
    "resnet50",
    "resnet101",
    "resnet152",
    "resnext50_32x4d",
    "wide_resnet50_2",
]


def conv3x3(cin: int, cout: int, stride: int = 1, groups: int = 1) -> nn.Conv2d:
    """3x3 convolution, padding 1, no bias (a BN follows)."""
    return nn.Conv2d(cin, cout, 3, stride=stride, padding=1, groups=groups, bias=False)


def conv1x1(cin: int, cout: int, stride: int = 1) -> nn.Conv2d:
    """1x1 convolution, no bias."""
    return nn.Conv2d(cin, cout, 1, stride=stride, bias=False)


class BasicBlock(nn.Module):
    """Two 3x3 conv-BN layers and a shortcut: ``relu(bn2(conv2(relu(bn1(conv1(x))))) + s(x))``,
    (N, inplanes, H, W) -> (N, planes, H / stride, W / stride)."""

    expansion = 1

    def __init__(self, inplanes: int, planes: int, stride: int = 1, downsample=None,
                 groups: int = 1, base_width: int = 64):
        super().__init__()
        if groups != 1 or base_width != 64:
            raise ValueError(
                f"BasicBlock: only groups=1 and base_width=64, got groups={groups}, "
                f"base_width={base_width}"
            )
        self.conv1 = conv3x3(inplanes, planes, stride)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU()
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + identity)


class Bottleneck(nn.Module):
    """1x1 reduce - 3x3 (strided, optionally grouped) - 1x1 expand, each with BN, plus a shortcut:
    (N, inplanes, H, W) -> (N, 4 planes, H / stride, W / stride). The inner width is
    ``planes * base_width / 64 * groups`` (ResNeXt's cardinality x width)."""

    expansion = 4

    def __init__(self, inplanes: int, planes: int, stride: int = 1, downsample=None,
                 groups: int = 1, base_width: int = 64):
        super().__init__()
        width = int(planes * (base_width / 64.0)) * groups
        self.conv1 = conv1x1(inplanes, width)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = conv3x3(width, width, stride, groups)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = conv1x1(width, planes * self.expansion)
        self.bn3 = nn.BatchNorm2d(planes * self.expansion)
        self.relu = nn.ReLU()
        self.downsample = downsample
        self.stride = stride

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return F.relu(out + identity)


class ResNet(nn.Module):
    """A stem, four stages of residual blocks (64, 128, 256, 512 planes; the last three halve the
    resolution), global average pooling and a linear head: (N, C, H, W) -> (N, num_classes).

    Args:
        block: :class:`BasicBlock` or :class:`Bottleneck`.
        layers: blocks per stage, e.g. ``(2, 2, 2, 2)`` for ResNet-18.
        num_classes: outputs of the head.
        input_shape: (C, H, W) of one image; C sets the stem's input channels.
        variant: ``'imagenet'`` (7x7/2 stem + 3x3/2 max-pool), ``'small'`` (3x3/1 stem, no pool)
            or None to pick from ``input_shape``.
        groups, width_per_group: ResNeXt cardinality and width (bottlenecks only).
        zero_init_residual: start each block's last BN at weight 0, so every block starts as the
            identity (Goyal et al. 2017).
    """

    @init.course_defaults()  # striate's own scheme, not PyTorch's default
    def __init__(self, block, layers, num_classes: int = 1000, input_shape=(3, 224, 224),
                 variant: str | None = None, groups: int = 1, width_per_group: int = 64,
                 zero_init_residual: bool = False):
        super().__init__()
        c, _, _ = check_input_shape(input_shape, "ResNet")
        self.variant = resolve_variant(input_shape, variant, "ResNet")
        if len(layers) != 4:
            raise ValueError(f"ResNet: layers must list 4 stage depths, got {layers!r}")
        self.groups = groups
        self.base_width = width_per_group
        self.inplanes = 64
        if self.variant == "imagenet":
            self.conv1 = nn.Conv2d(c, 64, 7, stride=2, padding=3, bias=False)
        else:
            self.conv1 = nn.Conv2d(c, 64, 3, stride=1, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU()
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1) if self.variant == "imagenet" else None
        self.layer1 = self._make_layer(block, 64, layers[0])
        self.layer2 = self._make_layer(block, 128, layers[1], stride=2)
        self.layer3 = self._make_layer(block, 256, layers[2], stride=2)
        self.layer4 = self._make_layer(block, 512, layers[3], stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(512 * block.expansion, num_classes)
        kaiming_init_(self)
        if zero_init_residual:
            for m in self.modules():
                if isinstance(m, Bottleneck):
                    init.zeros_(m.bn3.weight)
                elif isinstance(m, BasicBlock):
                    init.zeros_(m.bn2.weight)

    def _make_layer(self, block, planes: int, blocks: int, stride: int = 1) -> nn.Sequential:
        downsample = None
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(conv1x1(self.inplanes, planes * block.expansion, stride),
                                       nn.BatchNorm2d(planes * block.expansion))
        layers = [block(self.inplanes, planes, stride, downsample, self.groups, self.base_width)]
        self.inplanes = planes * block.expansion
        for _ in range(1, blocks):
            layers.append(block(self.inplanes, planes, groups=self.groups,
                                base_width=self.base_width))
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.relu(self.bn1(self.conv1(x)))
        if self.maxpool is not None:
            x = self.maxpool(x)
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(self.avgpool(x).flatten(1))


def resnet18(num_classes: int = 1000, input_shape=(3, 224, 224), **kwargs) -> ResNet:
    """ResNet-18: basic blocks (2, 2, 2, 2); 11,689,512 parameters for 1000 classes."""
    return ResNet(BasicBlock, (2, 2, 2, 2), num_classes, input_shape, **kwargs)


def resnet34(num_classes: int = 1000, input_shape=(3, 224, 224), **kwargs) -> ResNet:
    """ResNet-34: basic blocks (3, 4, 6, 3); 21,797,672 parameters for 1000 classes."""
    return ResNet(BasicBlock, (3, 4, 6, 3), num_classes, input_shape, **kwargs)


def resnet50(num_classes: int = 1000, input_shape=(3, 224, 224), **kwargs) -> ResNet:
    """ResNet-50: bottlenecks (3, 4, 6, 3); 25,557,032 parameters for 1000 classes."""
    return ResNet(Bottleneck, (3, 4, 6, 3), num_classes, input_shape, **kwargs)


def resnet101(num_classes: int = 1000, input_shape=(3, 224, 224), **kwargs) -> ResNet:
    """ResNet-101: bottlenecks (3, 4, 23, 3); 44,549,160 parameters for 1000 classes."""
    return ResNet(Bottleneck, (3, 4, 23, 3), num_classes, input_shape, **kwargs)


def resnet152(num_classes: int = 1000, input_shape=(3, 224, 224), **kwargs) -> ResNet:
    """ResNet-152: bottlenecks (3, 8, 36, 3); 60,192,808 parameters for 1000 classes."""
    return ResNet(Bottleneck, (3, 8, 36, 3), num_classes, input_shape, **kwargs)


def wide_resnet50_2(num_classes: int = 1000, input_shape=(3, 224, 224), **kwargs) -> ResNet:
    """Wide ResNet-50-2: ResNet-50 with bottlenecks twice as wide inside (width 128 per
    group); 68,883,240 parameters for 1000 classes."""
    return ResNet(Bottleneck, (3, 4, 6, 3), num_classes, input_shape, width_per_group=128,
                  **kwargs)


def resnext50_32x4d(num_classes: int = 1000, input_shape=(3, 224, 224), **kwargs) -> ResNet:
    """ResNeXt-50 32x4d (Xie et al. 2017): ResNet-50 whose 3x3 convolutions have 32 groups of
    4 channels per 64 planes; 25,028,904 parameters for 1000 classes."""
    return ResNet(Bottleneck, (3, 4, 6, 3), num_classes, input_shape, groups=32,
                  width_per_group=4, **kwargs)
