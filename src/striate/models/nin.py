"""Network in Network (Lin, Chen & Yan 2013).

Each "mlpconv" block is a convolution followed by two 1x1 convolutions, each with a ReLU: a small
multilayer perceptron slid over the image, the idea GoogLeNet's 1x1 bottlenecks grew from. The net
ends without any fully-connected layer: the last block outputs one map per class and global
average pooling turns each map into a score.

The class maps are not passed through a ReLU (the paper's Caffe model has one): a ReLU there gives
every class whose map turns negative a score of exactly 0 and no gradient, and once the wrong
classes are pushed down every score is 0 and the loss sits at exactly log(C).

Small variant (inputs of at most 64 pixels a side; the paper's CIFAR-10 model, 0.97M parameters
for 10 classes): mlpconv 5x5 192-160-96, 3x3/2 max-pool, dropout; mlpconv 5x5 192-192-192, 3x3/2
average pool, dropout; mlpconv 3x3 192-192-classes; global average pooling.
ImageNet variant: mlpconv 11x11/4 96, 5x5 256, 3x3 384 (each followed by a 3x3/2 max-pool),
dropout, mlpconv 3x3 to the classes, global average pooling.
"""

from __future__ import annotations

from .. import nn
from ..nn import init
from ._common import check_input_shape, resolve_variant

__all__ = ["NiN", "nin"]


def mlpconv(cin: int, channels, kernel_size: int, stride: int = 1, padding: int = 0,
            last_relu: bool = True):
    """conv ``kernel_size`` to ``channels[0]``, then 1x1 convs to ``channels[1]`` and
    ``channels[2]``, each followed by ReLU (the last one only with ``last_relu``)."""
    a, b, c = channels
    layers = [nn.Conv2d(cin, a, kernel_size, stride=stride, padding=padding), nn.ReLU(),
              nn.Conv2d(a, b, 1), nn.ReLU(), nn.Conv2d(b, c, 1)]
    return layers + [nn.ReLU()] if last_relu else layers


def _init(model: nn.Module, score_conv: nn.Conv2d) -> None:
    """He-normal (fan_in) convolutions so the signal keeps its size through nine ReLU layers
    without normalisation, zero biases, and a small scoring convolution (std 0.01) so the first
    scores are near zero and the loss starts at log(C)."""
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            if m is score_conv:
                init.normal_(m.weight, 0.0, 0.01)
            else:
                init.kaiming_normal_(m.weight, mode="fan_in", nonlinearity="relu")
            init.zeros_(m.bias)



class NiN(nn.Module):
    """Network in Network: (N, C, H, W) -> (N, num_classes).

    Args:
        num_classes, input_shape: outputs, and the (C, H, W) of one image.
        variant: 'imagenet', 'small' or None (chosen from ``input_shape``).
        dropout: after the first two (small) or three (ImageNet) blocks, 0.5.
    """

    @nn.init.course_defaults()  # striate's own scheme, not PyTorch's default
    def __init__(self, num_classes: int = 10, input_shape=(3, 32, 32), variant: str | None = None,
                 dropout: float = 0.5):
        super().__init__()
        c, _, _ = check_input_shape(input_shape, "NiN")
        self.variant = resolve_variant(input_shape, variant, "NiN")
        n = num_classes
        if self.variant == "small":
            layers = (mlpconv(c, (192, 160, 96), 5, padding=2)
                      + [nn.MaxPool2d(3, stride=2, padding=1), nn.Dropout(dropout)]
                      + mlpconv(96, (192, 192, 192), 5, padding=2)
                      + [nn.AvgPool2d(3, stride=2, padding=1), nn.Dropout(dropout)]
                      + mlpconv(192, (192, 192, n), 3, padding=1, last_relu=False))
        else:
            layers = (mlpconv(c, (96, 96, 96), 11, stride=4) + [nn.MaxPool2d(3, stride=2)]
                      + mlpconv(96, (256, 256, 256), 5, padding=2) + [nn.MaxPool2d(3, stride=2)]
                      + mlpconv(256, (384, 384, 384), 3, padding=1)
                      + [nn.MaxPool2d(3, stride=2), nn.Dropout(dropout)]
                      + mlpconv(384, (n, n, n), 3, padding=1, last_relu=False))
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        _init(self, layers[-1])

    def forward(self, x):
        return self.avgpool(self.features(x)).flatten(1)


def nin(num_classes: int = 10, input_shape=(3, 32, 32), **kwargs) -> NiN:
    """Network in Network; 966,986 parameters for 10 classes on 3x32x32 images."""
    return NiN(num_classes, input_shape, **kwargs)
