"""The ResNets built for small images, and the two descendants that came from them.

- **CIFAR ResNets** (He et al. 2015, section 4.2): ResNet-(6n+2) — a 3x3 conv to 16 channels,
  three stages of n basic blocks at 16, 32 and 64 channels (the last two halve the resolution),
  global average pooling and a linear layer. ``shortcut='A'`` (the default, as in the paper's
  CIFAR experiments) makes every shortcut parameter-free: the identity, subsampled by 2 and
  zero-padded with the new channels where the shape changes; the paper's counts hold: 0.27M,
  0.46M, 0.85M and 1.7M parameters for ResNet-20, 32, 56 and 110. ``shortcut='B'`` uses a 1x1
  convolution + BN projection there instead.
- **Pre-activation ResNets** (He et al. 2016, "Identity Mappings in Deep Residual Networks"):
  each block is BN - ReLU - conv - BN - ReLU - conv, and the shortcut adds to a path with no
  nonlinearity after it, so the identity carries the signal (and the gradient) through every
  block unchanged. ``preact_resnet20/56/110`` are the CIFAR layout; ``preact_resnet18/34`` the
  ImageNet one (or its small-input variant).
- **Wide ResNets** (Zagoruyko & Komodakis 2016), WRN-d-k: pre-activation blocks, n = (d - 4) / 6
  per stage, k times wider (16k, 32k, 64k channels), optional dropout between the two convs.
  WRN-28-10 has 36.5M parameters for 10 classes.

All take any (C, H, W) input; the CIFAR ones never downsample in the stem.
"""

from __future__ import annotations

from .. import nn
from .. import ops as F
from ._common import check_input_shape, kaiming_init_, resolve_variant

__all__ = [
    "CifarResNet",
    "PreActBlock",
    "PreActResNet",
    "preact_resnet18",
    "preact_resnet20",
    "preact_resnet34",
    "preact_resnet56",
    "preact_resnet110",
    "resnet20",
    "resnet32",
    "resnet44",
    "resnet56",
    "resnet110",
    "wide_resnet",
    "wrn_16_4",
    "wrn_28_10",
]


class PadShortcut(nn.Module):
    """Option A shortcut: keep every ``stride``-th pixel and zero-pad the channels from ``cin``
    to ``cout`` (half the new ones on each side): no parameters."""

    def __init__(self, cin: int, cout: int, stride: int):
        super().__init__()
        self.before = (cout - cin) // 2
        self.after = cout - cin - self.before
        self.stride = stride

    def forward(self, x):
        if self.stride != 1:
            x = x[:, :, ::self.stride, ::self.stride]
        return F.pad(x, (0, 0, 0, 0, self.before, self.after))


class CifarBlock(nn.Module):
    """Basic block of the CIFAR ResNets: (N, cin, H, W) -> (N, cout, H / stride, W / stride)."""

    def __init__(self, cin: int, cout: int, stride: int, shortcut: str):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        if stride == 1 and cin == cout:
            self.shortcut = None
        elif shortcut == "A":
            self.shortcut = PadShortcut(cin, cout, stride)
        else:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False),
                                          nn.BatchNorm2d(cout))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + (x if self.shortcut is None else self.shortcut(x)))


class CifarResNet(nn.Module):
    """ResNet-(6n+2) for small images: (N, C, H, W) -> (N, num_classes).

    Args:
        depth: 6n + 2 (20, 32, 44, 56, 110, ...).
        num_classes, input_shape: outputs, and the (C, H, W) of one image.
        shortcut: 'A' (zero-padding identity, no parameters) or 'B' (1x1 projection).
    """

    @nn.init.course_defaults()  # striate's own scheme, not PyTorch's default
    def __init__(self, depth: int = 20, num_classes: int = 10, input_shape=(3, 32, 32),
                 shortcut: str = "A"):
        super().__init__()
        c, _, _ = check_input_shape(input_shape, "CifarResNet")
        if depth < 8 or (depth - 2) % 6:
            raise ValueError(f"CifarResNet: depth must be 6n + 2 with n >= 1, got {depth}")
        if shortcut not in ("A", "B"):
            raise ValueError(f"CifarResNet: shortcut must be 'A' or 'B', got {shortcut!r}")
        n = (depth - 2) // 6
        self.conv1 = nn.Conv2d(c, 16, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        blocks, cin = [], 16
        for i, cout in enumerate((16, 32, 64)):
            for j in range(n):
                blocks.append(CifarBlock(cin, cout, 2 if i > 0 and j == 0 else 1, shortcut))
                cin = cout
        self.layers = nn.Sequential(*blocks)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(64, num_classes)
        kaiming_init_(self)

    def forward(self, x):
        x = self.layers(F.relu(self.bn1(self.conv1(x))))
        return self.fc(self.avgpool(x).flatten(1))


class PreActBlock(nn.Module):
    """BN-ReLU-conv3x3-(dropout)-BN-ReLU-conv3x3 plus the shortcut: (N, cin, H, W) ->
    (N, cout, H / stride, W / stride). A projection shortcut (1x1 conv) reads the pre-activated
    input, as in the paper; the identity reads ``x`` itself."""

    def __init__(self, cin: int, cout: int, stride: int = 1, dropout: float = 0.0):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(cin)
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.dropout = nn.Dropout(dropout) if dropout > 0 else None
        self.bn2 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
        self.shortcut = (nn.Conv2d(cin, cout, 1, stride=stride, bias=False)
                         if stride != 1 or cin != cout else None)

    def forward(self, x):
        a = F.relu(self.bn1(x))
        skip = x if self.shortcut is None else self.shortcut(a)
        out = self.conv1(a)
        if self.dropout is not None:
            out = self.dropout(out)
        return self.conv2(F.relu(self.bn2(out))) + skip


class PreActResNet(nn.Module):
    """A pre-activation ResNet of basic blocks: stem, stages, BN-ReLU, global average pooling,
    linear head; (N, C, H, W) -> (N, num_classes).

    Args:
        depths: blocks per stage; widths: channels per stage (the first stage keeps the
            resolution, every later one halves it).
        num_classes, input_shape: outputs, and the (C, H, W) of one image.
        stem: 'cifar' (a 3x3 stride-1 conv to ``stem_channels``), 'imagenet' (7x7/2 conv-BN-ReLU
            and a 3x3/2 max-pool) or None (from ``input_shape``: 'cifar' for small images).
        stem_channels: output channels of the stem convolution.
        dropout: between the two convs of each block (Wide ResNet's 0.3).
    """

    @nn.init.course_defaults()  # striate's own scheme, not PyTorch's default
    def __init__(self, depths, widths, num_classes: int = 10, input_shape=(3, 32, 32),
                 stem: str | None = None, stem_channels: int = 16, dropout: float = 0.0):
        super().__init__()
        c, _, _ = check_input_shape(input_shape, "PreActResNet")
        if stem is None:
            stem = "cifar" if resolve_variant(input_shape, None, "PreActResNet") == "small" \
                else "imagenet"
        if stem == "imagenet":
            self.stem = nn.Sequential(
                nn.Conv2d(c, stem_channels, 7, stride=2, padding=3, bias=False),
                nn.BatchNorm2d(stem_channels), nn.ReLU(), nn.MaxPool2d(3, stride=2, padding=1))
        elif stem == "cifar":
            self.stem = nn.Conv2d(c, stem_channels, 3, padding=1, bias=False)
        else:
            raise ValueError(
                f"PreActResNet: stem must be 'cifar', 'imagenet' or None, got {stem!r}"
            )
        blocks, cin = [], stem_channels
        for i, (n, cout) in enumerate(zip(depths, widths)):
            for j in range(n):
                blocks.append(PreActBlock(cin, cout, 2 if i > 0 and j == 0 else 1, dropout))
                cin = cout
        self.layers = nn.Sequential(*blocks)
        self.bn = nn.BatchNorm2d(cin)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(cin, num_classes)
        kaiming_init_(self)

    def forward(self, x):
        x = F.relu(self.bn(self.layers(self.stem(x))))
        return self.fc(self.avgpool(x).flatten(1))


def _cifar(depth: int):
    def build(num_classes: int = 10, input_shape=(3, 32, 32), **kwargs) -> CifarResNet:
        return CifarResNet(depth, num_classes, input_shape, **kwargs)

    build.__name__ = build.__qualname__ = f"resnet{depth}"
    build.__doc__ = f"CIFAR ResNet-{depth} (n = {(depth - 2) // 6}), option A shortcuts."
    return build


resnet20, resnet32, resnet44, resnet56, resnet110 = (_cifar(d) for d in (20, 32, 44, 56, 110))


def _preact_cifar(depth: int):
    def build(num_classes: int = 10, input_shape=(3, 32, 32), **kwargs) -> PreActResNet:
        n = (depth - 2) // 6
        return PreActResNet((n, n, n), (16, 32, 64), num_classes, input_shape, stem="cifar",
                            **kwargs)

    build.__name__ = build.__qualname__ = f"preact_resnet{depth}"
    build.__doc__ = f"Pre-activation CIFAR ResNet-{depth}: 16/32/64 channels, {(depth - 2) // 6} "\
                    "blocks per stage."
    return build


preact_resnet20, preact_resnet56, preact_resnet110 = (_preact_cifar(d) for d in (20, 56, 110))


def preact_resnet18(num_classes: int = 1000, input_shape=(3, 224, 224), **kwargs):
    """Pre-activation ResNet-18: basic blocks (2, 2, 2, 2) at 64-512 channels; the ImageNet stem,
    or a 3x3 stride-1 stem for small inputs."""
    return PreActResNet((2, 2, 2, 2), (64, 128, 256, 512), num_classes, input_shape,
                        stem_channels=64, **kwargs)


def preact_resnet34(num_classes: int = 1000, input_shape=(3, 224, 224), **kwargs):
    """Pre-activation ResNet-34: basic blocks (3, 4, 6, 3) at 64-512 channels."""
    return PreActResNet((3, 4, 6, 3), (64, 128, 256, 512), num_classes, input_shape,
                        stem_channels=64, **kwargs)


def wide_resnet(depth: int = 28, widen_factor: int = 10, num_classes: int = 10,
                input_shape=(3, 32, 32), dropout: float = 0.0, **kwargs) -> PreActResNet:
    """WRN-``depth``-``widen_factor`` (Zagoruyko & Komodakis 2016): (depth - 4) / 6 pre-activation
    blocks per stage at 16k, 32k and 64k channels, after a 3x3 conv to 16 channels."""
    if depth < 10 or (depth - 4) % 6:
        raise ValueError(f"wide_resnet: depth must be 6n + 4 with n >= 1, got {depth}")
    if widen_factor < 1:
        raise ValueError(f"wide_resnet: widen_factor must be >= 1, got {widen_factor}")
    n, k = (depth - 4) // 6, int(widen_factor)
    return PreActResNet((n, n, n), (16 * k, 32 * k, 64 * k), num_classes, input_shape,
                        stem="cifar", dropout=dropout, **kwargs)


def wrn_16_4(num_classes: int = 10, input_shape=(3, 32, 32), **kwargs) -> PreActResNet:
    """WRN-16-4: 2.7M parameters for 10 classes."""
    return wide_resnet(16, 4, num_classes, input_shape, **kwargs)


def wrn_28_10(num_classes: int = 10, input_shape=(3, 32, 32), **kwargs) -> PreActResNet:
    """WRN-28-10: 36.5M parameters for 10 classes."""
    return wide_resnet(28, 10, num_classes, input_shape, **kwargs)
