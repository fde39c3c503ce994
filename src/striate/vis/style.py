"""The style-transfer losses with the course's names and signatures, and the feature extractors
they are computed on.

Feature extractors are ``nn.Sequential`` models whose every module's output is a candidate
feature (``extract_features`` returns them all, as the course's notebook does, so layers are
named by index): a shallow network with random filters (``random_features``; Ustyuzhaninov et
al. 2016 found such networks already give good texture statistics), the convolutional part of a
model trained with striate (``checkpoint_features``), or a torchvision VGG's ``features`` from a
state dict on disk (``vgg_features``).
"""

from __future__ import annotations

import numpy as np

from .. import nn

__all__ = ["content_loss", "gram_matrix", "style_loss", "tv_loss", "extract_features",
           "random_features", "checkpoint_features", "vgg_features", "squeezenet_features",
           "default_layers"]


def content_loss(content_weight, content_current, content_original):
    """``content_weight * sum((content_current - content_original)**2)``, a scalar Tensor.

    Args:
        content_weight: scalar weighting the loss.
        content_current: features of the current image at the content layer, (1, C, H, W).
        content_original: the content image's features there, same shape.
    """
    if tuple(content_current.shape) != tuple(content_original.shape):
        raise ValueError(f"content_loss: content_current has shape "
                         f"{tuple(content_current.shape)} but content_original has "
                         f"{tuple(content_original.shape)}")
    d = content_current - content_original
    return content_weight * (d * d).sum()


def gram_matrix(features, normalize: bool = True):
    """Gram matrices of feature maps: ``G[n, c, c'] = sum_hw F[n, c, hw] F[n, c', hw]``.

    Args:
        features: (N, C, H, W) Tensor.
        normalize: divide by the number of values per image, C * H * W (the course's choice,
            which keeps the style loss's size independent of the image size).

    Returns:
        (N, C, C) Tensor.
    """
    if features.ndim != 4:
        raise ValueError(f"gram_matrix: features must be (N, C, H, W), got shape "
                         f"{tuple(features.shape)}")
    n, c, h, w = features.shape
    f = features.reshape(n, c, h * w)
    g = f @ f.transpose(1, 2)
    return g / (c * h * w) if normalize else g


def style_loss(feats, style_layers, style_targets, style_weights):
    """``sum_i style_weights[i] * sum((gram_matrix(feats[style_layers[i]]) -
    style_targets[i])**2)``, a scalar Tensor.

    Args:
        feats: the current image's features at every layer (``extract_features``).
        style_layers: indices into ``feats``.
        style_targets: the style image's Gram matrices at those layers, in the same order.
        style_weights: one weight per layer.
    """
    if not len(style_layers) == len(style_targets) == len(style_weights):
        raise ValueError(f"style_loss: style_layers ({len(style_layers)}), style_targets "
                         f"({len(style_targets)}) and style_weights ({len(style_weights)}) must "
                         "have the same length")
    loss = 0
    for layer, target, weight in zip(style_layers, style_targets, style_weights):
        d = gram_matrix(feats[layer]) - target
        loss = loss + weight * (d * d).sum()
    return loss


def tv_loss(img, tv_weight):
    """Total variation: ``tv_weight`` times the sum of squared differences between vertically
    and horizontally neighbouring pixels of ``img`` (1, C, H, W); a scalar Tensor. It favours
    smooth images, the prior that removes the optimisation's high-frequency noise."""
    if img.ndim != 4:
        raise ValueError(f"tv_loss: img must be (N, C, H, W), got shape {tuple(img.shape)}")
    dh = img[:, :, 1:, :] - img[:, :, :-1, :]
    dw = img[:, :, :, 1:] - img[:, :, :, :-1]
    return tv_weight * ((dh * dh).sum() + (dw * dw).sum())


def extract_features(x, cnn) -> list:
    """The output of every module of the ``nn.Sequential`` ``cnn`` for input ``x``, in order
    (the course's helper; ``feats[i]`` is module i's output)."""
    feats = []
    for module in cnn:
        x = module(x)
        feats.append(x)
    return feats


def default_layers(cnn) -> tuple[int, tuple]:
    """(content layer, style layers) for an extractor, as indices of ``extract_features``: the
    ReLU outputs, up to five of them spread over the depth for style (the course uses several
    depths: shallow ones carry colour and fine texture, deep ones larger patterns), and the
    middle one for content. For ``random_features()``: (4, (1, 4, 7)).

    Raises:
        ValueError: the extractor has no ReLU module.
    """
    relus = [i for i, m in enumerate(cnn) if isinstance(m, nn.ReLU)]
    if not relus:
        raise ValueError("default_layers: the extractor has no nn.ReLU module; name the layers")
    step = max(1, -(-len(relus) // 5))
    return relus[len(relus) // 2], tuple(relus[::step][:5])


def random_features(channels=(64, 128, 128), seed: int = 0, in_channels: int = 3):
    """A shallow extractor with random (He-scaled Gaussian) filters: per entry of ``channels``,
    conv 3x3 - ReLU, with a 2x2 average pooling between stages; its weights never train.
    With the default 3 stages the ReLUs are modules 1, 4, 7."""
    rng = np.random.default_rng(seed)
    layers = []
    c = in_channels
    for i, out in enumerate(channels):
        if i:
            layers.append(nn.AvgPool2d(2))
        conv = nn.Conv2d(c, out, 3, padding=1)
        w = rng.standard_normal(conv.weight.shape) * np.sqrt(2.0 / (c * 9))
        conv.weight.array[...] = w
        conv.bias.array[...] = 0
        layers += [conv, nn.ReLU()]
        c = out
    net = nn.Sequential(*layers)
    for p in net.parameters():
        p.requires_grad_(False)
    return net.eval()


def checkpoint_features(model):
    """The convolutional part of a trained model (its ``features`` ``nn.Sequential``, as the
    zoo's ConvNet and VGG have), frozen, for style and texture losses.

    Raises:
        ValueError: the model has no ``features`` Sequential.
    """
    feats = getattr(model, "features", None)
    if not isinstance(feats, nn.Sequential):
        raise ValueError(f"checkpoint_features: {type(model).__name__} has no 'features' "
                         "nn.Sequential to take feature maps from")
    for p in feats.parameters():
        p.requires_grad_(False)
    return feats.eval()


def vgg_features(source, cfg="vgg16", batch_norm: bool = False):
    """torchvision VGG's ``features`` with the weights of a ``state_dict`` (a ``.safetensors`` /
    ``.npz`` path or a mapping with names ``features.<i>.weight``, ...; the classifier's
    entries are ignored), for users who have the pretrained file on disk.

    Args:
        cfg: ``"vgg11"``, ``"vgg13"``, ``"vgg16"``, ``"vgg19"`` or a list of channels and
            ``"M"`` (as ``striate.models.vgg.CFGS``).

    Raises:
        RuntimeError: a missing feature weight or a shape that does not fit.
    """
    import striate

    from ..models.vgg import CFGS, make_layers

    names = {"vgg11": "A", "vgg13": "B", "vgg16": "D", "vgg19": "E"}
    if isinstance(cfg, str):
        if cfg not in names:
            raise ValueError(f"vgg_features: cfg must be one of {', '.join(names)} or a list, "
                             f"got {cfg!r}")
        cfg = CFGS[names[cfg]]
    holder = nn.Module()
    holder.features, _ = make_layers(cfg, 3, batch_norm)
    sd = striate.load(source) if not hasattr(source, "items") else source
    sd = {k: v for k, v in sd.items() if k.startswith("features.")}
    striate.load_torch_state_dict(holder, sd, strict=True)
    return checkpoint_features(holder)


def squeezenet_features(source):
    """torchvision SqueezeNet 1.1's ``features`` with the weights of a ``state_dict`` on disk (a
    ``.safetensors`` / ``.npz`` path or a mapping): the network of the course's style-transfer
    notebook, whose layer indices (content 3, style 1, 4, 6, 7) and check values it reproduces
    when a user has those weights.

    Raises:
        RuntimeError: a missing feature weight or a shape that does not fit.
    """
    import striate

    from ..models.squeezenet import squeezenet1_1

    model = squeezenet1_1(num_classes=1000, input_shape=(3, 224, 224))
    holder = nn.Module()
    holder.features = model.features
    sd = striate.load(source) if not hasattr(source, "items") else source
    sd = {k: v for k, v in sd.items() if k.startswith("features.")}
    striate.load_torch_state_dict(holder, sd, strict=True)
    return checkpoint_features(holder)
