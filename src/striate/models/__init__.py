"""The model zoo. For now the models the core trains on small images; the architecture zoo of the
ConvNets lecture (LeNet-5 ... DenseNet) joins it in its own issue.

Every constructor takes ``num_classes`` and ``input_shape`` (C, H, W) so one registry can build a
model for any dataset: ``create_model("convnet", num_classes=10, input_shape=(1, 8, 8))``.
"""

from __future__ import annotations

from .small import MLP, ConvNet, SoftmaxClassifier, TwoLayerNet, lenet300_100
from .zoo import *  # noqa: F403  (the architecture zoo: resnet18, vgg16, googlenet, ...)
from .zoo import ZOO
from .zoo import __all__ as _zoo_all

__all__ = ["ConvNet", "MLP", "SoftmaxClassifier", "TwoLayerNet", "create_model", "list_models",
           "MODELS"]

MODELS = {
    "convnet": ConvNet,
    "mlp": MLP,
    "twolayer": TwoLayerNet,
    "softmax": SoftmaxClassifier,
    "lenet300_100": lenet300_100,
}
MODELS.update(ZOO)
__all__ += _zoo_all


def list_models() -> list:
    """Names accepted by :func:`create_model`."""
    return sorted(MODELS)


def create_model(name: str, num_classes: int, input_shape: tuple, **kwargs):
    """Build the model registered as ``name`` for ``num_classes`` classes and (C, H, W) inputs."""
    try:
        cls = MODELS[name]
    except KeyError:
        raise ValueError(
            f"unknown model {name!r}; known models: {', '.join(list_models())}"
        ) from None
    return cls(num_classes=num_classes, input_shape=tuple(input_shape), **kwargs)
