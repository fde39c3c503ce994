"""Small models for small images: a linear softmax classifier, the course's two-layer net, a
fully-connected net of any depth, and a ConvNet of conv-BN-ReLU-pool blocks."""

from __future__ import annotations

from .. import nn
from ..nn import init

__all__ = ["SoftmaxClassifier", "TwoLayerNet", "MLP", "ConvNet", "lenet300_100"]


def _small_head(linear: nn.Linear) -> nn.Linear:
    """The notes' advice for the last layer: small random weights (0.01 randn), so the scores
    start near zero and the softmax loss near log(C), which the Trainer checks."""
    init.small_random_(linear.weight)
    return linear


def _flat_size(input_shape) -> int:
    n = 1
    for s in input_shape:
        n *= int(s)
    return n


class SoftmaxClassifier(nn.Sequential):
    """Scores ``s = W x + b`` on the flattened image: (N, C, H, W) -> (N, num_classes)."""

    @init.course_defaults()  # striate's own scheme, not PyTorch's default
    def __init__(self, num_classes: int = 10, input_shape: tuple = (1, 8, 8)):
        super().__init__(nn.Flatten(),
                         _small_head(nn.Linear(_flat_size(input_shape), num_classes)))


class TwoLayerNet(nn.Sequential):
    """The notes' two-layer net: affine - ReLU - affine, (N, C, H, W) -> (N, num_classes)."""

    @init.course_defaults()  # striate's own scheme, not PyTorch's default
    def __init__(self, num_classes: int = 10, input_shape: tuple = (1, 8, 8), hidden: int = 100):
        super().__init__(
            nn.Flatten(),
            nn.Linear(_flat_size(input_shape), hidden),
            nn.ReLU(),
            _small_head(nn.Linear(hidden, num_classes)),
        )


class MLP(nn.Sequential):
    """A fully-connected net: [affine - (BN) - ReLU - (dropout)] x len(hidden) - affine."""

    @init.course_defaults()  # striate's own scheme, not PyTorch's default
    def __init__(self, num_classes: int = 10, input_shape: tuple = (1, 8, 8),
                 hidden: tuple = (256, 128), batch_norm: bool = True, dropout: float = 0.0):
        layers = [nn.Flatten()]
        width = _flat_size(input_shape)
        for h in hidden:
            layers.append(nn.Linear(width, h))
            if batch_norm:
                layers.append(nn.BatchNorm1d(h))
            layers.append(nn.ReLU())
            if dropout:
                layers.append(nn.Dropout(dropout))
            width = h
        layers.append(_small_head(nn.Linear(width, num_classes)))
        super().__init__(*layers)


def lenet300_100(num_classes: int = 10, input_shape: tuple = (1, 8, 8)) -> MLP:
    """LeNet-300-100, the fully-connected net of the Deep Compression paper: affine 300 - ReLU -
    affine 100 - ReLU - affine, without batch norm (64-300-100-10 on the digits)."""
    return MLP(num_classes, input_shape, hidden=(300, 100), batch_norm=False)


class ConvNet(nn.Module):
    """[conv3x3 - BN - ReLU - maxpool 2x2] per entry of ``channels``, then dropout and a linear
    head: (N, C, H, W) -> (N, num_classes). A block is left without pooling once the feature map
    is down to 1 pixel, so the same net fits 8x8 digits and 32x32 CIFAR images."""

    @init.course_defaults()  # striate's own scheme, not PyTorch's default
    def __init__(self, num_classes: int = 10, input_shape: tuple = (1, 8, 8),
                 channels: tuple = (32, 64, 128), dropout: float = 0.3):
        super().__init__()
        c, h, w = (int(s) for s in input_shape)
        blocks = []
        for out in channels:
            blocks += [nn.Conv2d(c, out, 3, padding=1), nn.BatchNorm2d(out), nn.ReLU()]
            if h >= 2 and w >= 2:
                blocks.append(nn.MaxPool2d(2))
                h, w = h // 2, w // 2
            c = out
        self.features = nn.Sequential(*blocks)
        self.flatten = nn.Flatten()
        self.dropout = nn.Dropout(dropout)
        self.head = _small_head(nn.Linear(c * h * w, num_classes))

    def forward(self, x):
        return self.head(self.dropout(self.flatten(self.features(x))))
