"""SqueezeNet (Iandola et al. 2016), versions 1.0 and 1.1, in torchvision's layout: AlexNet-level
accuracy from 1.25M parameters (1,248,424 and 1,235,496 for 1000 classes).

A Fire module squeezes the channels with 1x1 convolutions, then expands them with 1x1 and 3x3
convolutions side by side and concatenates the two. There is no fully-connected layer: a 1x1
convolution to ``num_classes`` maps and global average pooling give the scores. Version 1.1 has a
3x3 stem of 64 filters and pools earlier, for 2.4x less computation.

Small variant (inputs of at most 64 pixels a side): the stem is a 3x3 stride-1 convolution; the
ceil-mode 3x3 stride-2 pools are kept while the map is at least 2 pixels.
"""

from __future__ import annotations

from .. import nn
from .. import ops as F
from ..nn import init
from ._common import check_input_shape, conv_out, resolve_variant

__all__ = ["Fire", "SqueezeNet", "squeezenet1_0", "squeezenet1_1"]


class Fire(nn.Module):
    """squeeze 1x1 - ReLU, then [expand 1x1 - ReLU, expand 3x3 - ReLU] concatenated:
    (N, cin, H, W) -> (N, expand1x1 + expand3x3, H, W)."""

    def __init__(self, cin: int, squeeze: int, expand1x1: int, expand3x3: int):
        super().__init__()
        self.squeeze = nn.Conv2d(cin, squeeze, 1)
        self.expand1x1 = nn.Conv2d(squeeze, expand1x1, 1)
        self.expand3x3 = nn.Conv2d(squeeze, expand3x3, 3, padding=1)

    def forward(self, x):
        s = F.relu(self.squeeze(x))
        return F.cat([F.relu(self.expand1x1(s)), F.relu(self.expand3x3(s))], 1)


#: the features after the stem: Fire arguments, or "M" for a ceil-mode 3x3/2 max-pool
_FIRES = {
    "1_0": ((96, 16, 64, 64), (128, 16, 64, 64), (128, 32, 128, 128), "M",
            (256, 32, 128, 128), (256, 48, 192, 192), (384, 48, 192, 192), (384, 64, 256, 256),
            "M", (512, 64, 256, 256)),
    "1_1": ((64, 16, 64, 64), (128, 16, 64, 64), "M", (128, 32, 128, 128), (256, 32, 128, 128),
            "M", (256, 48, 192, 192), (384, 48, 192, 192), (384, 64, 256, 256),
            (512, 64, 256, 256)),
}


class SqueezeNet(nn.Module):
    """SqueezeNet: (N, C, H, W) -> (N, num_classes).

    Args:
        version: '1_0' or '1_1'.
        num_classes, input_shape, variant: as the other zoo models.
        dropout: before the final 1x1 convolution (0.5).
    """

    @init.course_defaults()  # striate's own scheme, not PyTorch's default
    def __init__(self, version: str = "1_0", num_classes: int = 1000, input_shape=(3, 224, 224),
                 variant: str | None = None, dropout: float = 0.5):
        super().__init__()
        c, h, w = check_input_shape(input_shape, "SqueezeNet")
        if version not in _FIRES:
            raise ValueError(f"SqueezeNet: version must be '1_0' or '1_1', got {version!r}")
        self.variant = resolve_variant(input_shape, variant, "SqueezeNet")
        stem_ch = 96 if version == "1_0" else 64
        if self.variant == "imagenet":
            k = 7 if version == "1_0" else 3
            layers = [nn.Conv2d(c, stem_ch, k, stride=2), nn.ReLU()]
            h, w = conv_out(h, k, 2), conv_out(w, k, 2)
        else:
            layers = [nn.Conv2d(c, stem_ch, 3, padding=1), nn.ReLU()]
        for item in ("M",) + _FIRES[version]:
            if item == "M":
                if h >= 2 and w >= 2:
                    layers.append(nn.MaxPool2d(3, 2, ceil_mode=True))
                    h, w = conv_out(h, 3, 2, ceil_mode=True), conv_out(w, 3, 2, ceil_mode=True)
            else:
                layers.append(Fire(*item))
        self.features = nn.Sequential(*layers)
        final_conv = nn.Conv2d(512, num_classes, 1)
        # no ReLU on the class maps (torchvision has one): a class whose map turns negative
        # would score exactly 0 with no gradient, and the loss would sit at log(C)
        self.classifier = nn.Sequential(nn.Dropout(dropout), final_conv,
                                        nn.AdaptiveAvgPool2d((1, 1)))
        # torchvision: the scoring conv starts small (std 0.01), the others Kaiming-uniform
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                if m is final_conv:
                    init.normal_(m.weight, 0.0, 0.01)
                else:
                    init.kaiming_uniform_(m.weight)
                init.zeros_(m.bias)

    def forward(self, x):
        return self.classifier(self.features(x)).flatten(1)


def squeezenet1_0(num_classes: int = 1000, input_shape=(3, 224, 224), **kwargs) -> SqueezeNet:
    """SqueezeNet 1.0; 1,248,424 parameters for 1000 classes."""
    return SqueezeNet("1_0", num_classes, input_shape, **kwargs)


def squeezenet1_1(num_classes: int = 1000, input_shape=(3, 224, 224), **kwargs) -> SqueezeNet:
    """SqueezeNet 1.1; 1,235,496 parameters for 1000 classes."""
    return SqueezeNet("1_1", num_classes, input_shape, **kwargs)
