"""LeNet-5 (LeCun et al. 1998), the ConvNet the lecture starts from.

conv 5x5 (6) - squash - 2x2 subsample - conv 5x5 (16) - squash - 2x2 subsample - fully connected
120 - 84 - classes. On a 32x32 image that is 61,706 parameters for 10 classes (C3 fully
connected, as in every modern reimplementation). The squashing is ``tanh`` and the subsampling an
average pool, as in the paper; ``activation='relu'`` and ``pool='max'`` give the modern version.

Smaller inputs are padded, as LeNet on 28x28 MNIST is: the first convolution pads by 2 when the
image is under 32 pixels, and the second by 2 when its input is under 10, so 8x8 digits work.
"""

from __future__ import annotations

from .. import nn
from ._common import check_input_shape, conv_out

__all__ = ["LeNet5", "lenet5"]


class LeNet5(nn.Module):
    """LeNet-5: (N, C, H, W) -> (N, num_classes).

    Args:
        num_classes, input_shape: outputs, and the (C, H, W) of one image.
        activation: 'tanh' (the paper's) or 'relu'.
        pool: 'avg' (the paper's subsampling) or 'max'.
    """

    @nn.init.course_defaults()  # striate's own scheme, not PyTorch's default
    def __init__(self, num_classes: int = 10, input_shape=(1, 32, 32), activation: str = "tanh",
                 pool: str = "avg"):
        super().__init__()
        c, h, w = check_input_shape(input_shape, "LeNet5")
        acts = {"tanh": nn.Tanh, "relu": nn.ReLU}
        pools = {"avg": nn.AvgPool2d, "max": nn.MaxPool2d}
        if activation not in acts:
            raise ValueError(f"LeNet5: activation must be 'tanh' or 'relu', got {activation!r}")
        if pool not in pools:
            raise ValueError(f"LeNet5: pool must be 'avg' or 'max', got {pool!r}")
        act, pool_cls = acts[activation], pools[pool]
        p1 = 2 if min(h, w) < 32 else 0
        h, w = conv_out(h, 5, 1, p1) // 2, conv_out(w, 5, 1, p1) // 2
        p2 = 2 if min(h, w) < 10 else 0
        h, w = conv_out(h, 5, 1, p2) // 2, conv_out(w, 5, 1, p2) // 2
        if h < 1 or w < 1:
            raise ValueError(f"LeNet5: input_shape {input_shape} is too small (under 4x4)")
        self.features = nn.Sequential(
            nn.Conv2d(c, 6, 5, padding=p1), act(), pool_cls(2),
            nn.Conv2d(6, 16, 5, padding=p2), act(), pool_cls(2),
        )
        self.classifier = nn.Sequential(
            nn.Linear(16 * h * w, 120), act(), nn.Linear(120, 84), act(),
            nn.Linear(84, num_classes),
        )

    def forward(self, x):
        return self.classifier(self.features(x).flatten(1))


def lenet5(num_classes: int = 10, input_shape=(1, 32, 32), **kwargs) -> LeNet5:
    """LeNet-5; 61,706 parameters for 10 classes on 1x32x32 images."""
    return LeNet5(num_classes, input_shape, **kwargs)
