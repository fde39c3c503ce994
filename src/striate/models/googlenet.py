"""GoogLeNet / Inception v1 (Szegedy et al. 2014), in torchvision's layout.

An Inception module runs four branches side by side on the same input and concatenates their
channels: a 1x1 convolution; a 1x1 "bottleneck" then a 3x3; a 1x1 bottleneck then a second 3x3
(the paper's 5x5 — torchvision uses a 3x3 there, and so do we, to keep its parameter count); a 3x3
max-pool then a 1x1 projection. The 1x1 bottlenecks are what keep the 22 layers cheap. Every
convolution is conv (no bias) - BN (eps 0.001) - ReLU, as torchvision's.

``aux_logits=True`` adds the two auxiliary classifiers (after inception 4a and 4d). In training
mode the model then returns ``GoogLeNetOutputs(logits, aux_logits2, aux_logits1)``, as torchvision
does; :func:`googlenet_loss` weighs them as the paper did (0.3 each). In eval mode it returns the
logits alone. The default, ``aux_logits=False``, is torchvision's pretrained model: 6,624,904
parameters for 1000 classes (13,004,888 with the auxiliary classifiers).

Small variant (inputs of at most 64 pixels a side): the stem is one 3x3 stride-1 conv-BN-ReLU to
192 channels and the two stem pools go, the usual CIFAR GoogLeNet.
"""

from __future__ import annotations

from collections import namedtuple

from .. import nn
from .. import ops as F
from ..nn import init
from ._common import check_input_shape, conv_out, resolve_variant

__all__ = ["GoogLeNet", "GoogLeNetOutputs", "Inception", "InceptionAux", "googlenet",
           "googlenet_loss"]

GoogLeNetOutputs = namedtuple("GoogLeNetOutputs", ["logits", "aux_logits2", "aux_logits1"])
GoogLeNetOutputs.__doc__ = "Training-mode outputs of GoogLeNet with aux_logits: each (N, classes)."


class BasicConv2d(nn.Module):
    """conv (no bias) - BN - ReLU."""

    def __init__(self, cin: int, cout: int, kernel_size: int, stride: int = 1, padding: int = 0):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, kernel_size, stride=stride, padding=padding, bias=False)
        self.bn = nn.BatchNorm2d(cout, eps=0.001)

    def forward(self, x):
        return F.relu(self.bn(self.conv(x)))


class Inception(nn.Module):
    """Four parallel branches concatenated on channels: (N, cin, H, W) ->
    (N, ch1x1 + ch3x3 + ch5x5 + pool_proj, H, W)."""

    def __init__(self, cin: int, ch1x1: int, ch3x3red: int, ch3x3: int, ch5x5red: int,
                 ch5x5: int, pool_proj: int):
        super().__init__()
        self.branch1 = BasicConv2d(cin, ch1x1, 1)
        self.branch2 = nn.Sequential(BasicConv2d(cin, ch3x3red, 1),
                                     BasicConv2d(ch3x3red, ch3x3, 3, padding=1))
        self.branch3 = nn.Sequential(BasicConv2d(cin, ch5x5red, 1),
                                     BasicConv2d(ch5x5red, ch5x5, 3, padding=1))
        self.branch4 = nn.Sequential(nn.MaxPool2d(3, stride=1, padding=1),
                                     BasicConv2d(cin, pool_proj, 1))

    def forward(self, x):
        return F.cat([self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)], 1)


class InceptionAux(nn.Module):
    """Auxiliary classifier: average-pool to ``side`` x ``side`` (4 on ImageNet), 1x1 conv to 128,
    FC 1024 with ReLU and dropout 0.7, FC to classes: (N, cin, H, W) -> (N, num_classes)."""

    def __init__(self, cin: int, num_classes: int, side: int = 4, dropout: float = 0.7):
        super().__init__()
        self.avgpool = nn.AdaptiveAvgPool2d((side, side))
        self.conv = BasicConv2d(cin, 128, 1)
        self.fc1 = nn.Linear(128 * side * side, 1024)
        self.fc2 = nn.Linear(1024, num_classes)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x):
        x = self.conv(self.avgpool(x)).flatten(1)
        return self.fc2(self.dropout(F.relu(self.fc1(x))))


class GoogLeNet(nn.Module):
    """GoogLeNet: (N, C, H, W) -> (N, num_classes), or :data:`GoogLeNetOutputs` in training mode
    with ``aux_logits``.

    Args:
        num_classes, input_shape: outputs, and the (C, H, W) of one image.
        aux_logits: build the two auxiliary classifiers (used in training mode only).
        variant: 'imagenet', 'small' or None (chosen from ``input_shape``).
        dropout: before the final linear layer (0.2); dropout_aux: in the auxiliaries (0.7).
    """

    @init.course_defaults()  # striate's own scheme, not PyTorch's default
    def __init__(self, num_classes: int = 1000, input_shape=(3, 224, 224),
                 aux_logits: bool = False, variant: str | None = None, dropout: float = 0.2,
                 dropout_aux: float = 0.7):
        super().__init__()
        c, h, w = check_input_shape(input_shape, "GoogLeNet")
        self.variant = resolve_variant(input_shape, variant, "GoogLeNet")
        self.aux_logits = aux_logits
        # module names are torchvision's, so state_dict keys match (conv1, maxpool1, ...)
        if self.variant == "imagenet":
            self.conv1 = BasicConv2d(c, 64, 7, stride=2, padding=3)
            self.maxpool1 = nn.MaxPool2d(3, 2, ceil_mode=True)
            self.conv2 = BasicConv2d(64, 64, 1)
            self.conv3 = BasicConv2d(64, 192, 3, padding=1)
            self.maxpool2 = nn.MaxPool2d(3, 2, ceil_mode=True)
            h, w = conv_out(h, 7, 2, 3), conv_out(w, 7, 2, 3)
            for _ in range(2):
                h, w = conv_out(h, 3, 2, ceil_mode=True), conv_out(w, 3, 2, ceil_mode=True)
        else:
            self.conv1 = BasicConv2d(c, 192, 3, padding=1)
            self.maxpool1 = self.conv2 = self.conv3 = self.maxpool2 = None
        self.inception3a = Inception(192, 64, 96, 128, 16, 32, 32)
        self.inception3b = Inception(256, 128, 128, 192, 32, 96, 64)
        self.maxpool3 = self._pool(3, h, w)
        if self.maxpool3 is not None:
            h, w = conv_out(h, 3, 2, ceil_mode=True), conv_out(w, 3, 2, ceil_mode=True)
        self.inception4a = Inception(480, 192, 96, 208, 16, 48, 64)
        self.inception4b = Inception(512, 160, 112, 224, 24, 64, 64)
        self.inception4c = Inception(512, 128, 128, 256, 24, 64, 64)
        self.inception4d = Inception(512, 112, 144, 288, 32, 64, 64)
        self.inception4e = Inception(528, 256, 160, 320, 32, 128, 128)
        aux_side = max(1, min(4, h, w))
        self.maxpool4 = self._pool(2, h, w)
        self.inception5a = Inception(832, 256, 160, 320, 32, 128, 128)
        self.inception5b = Inception(832, 384, 192, 384, 48, 128, 128)
        if aux_logits:
            self.aux1 = InceptionAux(512, num_classes, aux_side, dropout_aux)
            self.aux2 = InceptionAux(528, num_classes, aux_side, dropout_aux)
        else:
            self.aux1 = self.aux2 = None
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(1024, num_classes)
        # torchvision: truncated normal (std 0.01, within +-2) for conv and linear weights
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                init.trunc_normal_(m.weight, mean=0.0, std=0.01, a=-2, b=2)
                if m.bias is not None:
                    init.zeros_(m.bias)

    @staticmethod
    def _pool(kernel: int, h: int, w: int):
        """torchvision's ceil-mode stride-2 pool, or None where the map is already 1 pixel."""
        return nn.MaxPool2d(kernel, 2, ceil_mode=True) if h >= 2 and w >= 2 else None

    def forward(self, x):
        x = self.conv1(x)
        if self.maxpool1 is not None:
            x = self.maxpool2(self.conv3(self.conv2(self.maxpool1(x))))
        x = self.inception3b(self.inception3a(x))
        if self.maxpool3 is not None:
            x = self.maxpool3(x)
        x = self.inception4a(x)
        aux1 = self.aux1(x) if self.aux1 is not None and self.training else None
        x = self.inception4d(self.inception4c(self.inception4b(x)))
        aux2 = self.aux2(x) if self.aux2 is not None and self.training else None
        x = self.inception4e(x)
        if self.maxpool4 is not None:
            x = self.maxpool4(x)
        x = self.inception5b(self.inception5a(x))
        logits = self.fc(self.dropout(self.avgpool(x).flatten(1)))
        if aux1 is not None:
            return GoogLeNetOutputs(logits, aux2, aux1)
        return logits


def googlenet_loss(output, target, aux_weight: float = 0.3):
    """Cross-entropy of GoogLeNet's output: the main loss plus ``aux_weight`` times each
    auxiliary classifier's loss (the paper's 0.3) when ``output`` is :data:`GoogLeNetOutputs`."""
    if isinstance(output, GoogLeNetOutputs):
        return (F.cross_entropy(output.logits, target)
                + aux_weight * F.cross_entropy(output.aux_logits1, target)
                + aux_weight * F.cross_entropy(output.aux_logits2, target))
    return F.cross_entropy(output, target)


def googlenet(num_classes: int = 1000, input_shape=(3, 224, 224), **kwargs) -> GoogLeNet:
    """GoogLeNet (Inception v1); 6,624,904 parameters for 1000 classes without the auxiliary
    classifiers (``aux_logits=False``, the default), 13,004,888 with them."""
    return GoogLeNet(num_classes, input_shape, **kwargs)
