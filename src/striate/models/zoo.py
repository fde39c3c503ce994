"""The architecture zoo of the "CNN Architectures" lecture, gathered for the model registry.

``ZOO`` maps each registry name to its constructor; every constructor takes ``num_classes`` and
``input_shape`` = (C, H, W) and picks the ImageNet layout or the small-input one (3x3 stride-1
stem, no stem pool) from ``input_shape`` unless given ``variant=``. The ImageNet layouts have
exactly the parameter count of torchvision's model of the same name; see :mod:`.stats` to count
them cheaply and ``striate models`` for the table.
"""

from __future__ import annotations

from .alexnet import AlexNet, ZFNet, alexnet, zfnet
from .densenet import DenseNet, densenet121
from .fractalnet import FractalNet, fractalnet
from .googlenet import GoogLeNet, GoogLeNetOutputs, googlenet, googlenet_loss
from .lenet import LeNet5, lenet5
from .nin import NiN, nin
from .resnet import (
    BasicBlock,
    Bottleneck,
    ResNet,
    resnet18,
    resnet34,
    resnet50,
    resnet101,
    resnet152,
    resnext50_32x4d,
    wide_resnet50_2,
)
from .resnet_cifar import (
    CifarResNet,
    PreActResNet,
    preact_resnet18,
    preact_resnet20,
    preact_resnet34,
    preact_resnet56,
    preact_resnet110,
    resnet20,
    resnet32,
    resnet44,
    resnet56,
    resnet110,
    wide_resnet,
    wrn_16_4,
    wrn_28_10,
)
from .squeezenet import SqueezeNet, squeezenet1_0, squeezenet1_1
from .vgg import VGG, vgg11, vgg11_bn, vgg13, vgg13_bn, vgg16, vgg16_bn, vgg19, vgg19_bn

_CONSTRUCTORS = (
    lenet5, alexnet, zfnet, vgg11, vgg11_bn, vgg13, vgg13_bn, vgg16, vgg16_bn, vgg19, vgg19_bn,
    googlenet, resnet18, resnet34, resnet50, resnet101, resnet152, wide_resnet50_2,
    resnext50_32x4d, resnet20, resnet32, resnet44, resnet56, resnet110, preact_resnet18,
    preact_resnet34, preact_resnet20, preact_resnet56, preact_resnet110, wrn_16_4, wrn_28_10,
    densenet121, squeezenet1_0, squeezenet1_1, nin, fractalnet,
)

#: registry name -> constructor(num_classes, input_shape, **kwargs)
ZOO = {f.__name__: f for f in _CONSTRUCTORS}

#: the models whose ImageNet layout is torchvision's, with torchvision's parameter count for 1000
#: classes (torchvision's documentation, ``weights.meta["num_params"]``)
TORCHVISION_PARAMS = {
    "alexnet": 61_100_840,
    "vgg11": 132_863_336,
    "vgg11_bn": 132_868_840,
    "vgg13": 133_047_848,
    "vgg13_bn": 133_053_736,
    "vgg16": 138_357_544,
    "vgg16_bn": 138_365_992,
    "vgg19": 143_667_240,
    "vgg19_bn": 143_678_248,
    "googlenet": 6_624_904,
    "resnet18": 11_689_512,
    "resnet34": 21_797_672,
    "resnet50": 25_557_032,
    "resnet101": 44_549_160,
    "resnet152": 60_192_808,
    "wide_resnet50_2": 68_883_240,
    "resnext50_32x4d": 25_028_904,
    "densenet121": 7_978_856,
    "squeezenet1_0": 1_248_424,
    "squeezenet1_1": 1_235_496,
}

#: Adam learning rates for the models that do not train at ``striate train``'s default (3e-3).
#: SqueezeNet has no normalisation layer, and its Fire modules squeeze to 16-64 channels through a
#: ReLU: Adam's first steps at 3e-3 leave most of a late Fire's squeeze channels dead (80% of
#: Fire 9's after 60 steps on the digits), and within a few epochs the class scores are constant
#: (loss log 10, 10% test accuracy after 20 epochs). At 1e-3 SqueezeNet 1.1 reaches 93% in 20
#: epochs (3e-4: 88%); docs/fuzzing.md has the measurements.
RECOMMENDED_ADAM_LR = {"squeezenet1_0": 1e-3, "squeezenet1_1": 1e-3}

__all__ = [
    "AlexNet", "BasicBlock", "Bottleneck", "CifarResNet", "DenseNet", "FractalNet", "GoogLeNet",
    "GoogLeNetOutputs", "LeNet5", "NiN", "PreActResNet", "ResNet", "SqueezeNet", "VGG", "ZFNet",
    "ZOO", "TORCHVISION_PARAMS", "RECOMMENDED_ADAM_LR", "googlenet_loss", "wide_resnet",
] + [f.__name__ for f in _CONSTRUCTORS]
