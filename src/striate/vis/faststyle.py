"""Fast style transfer (Johnson et al. 2016): a feed-forward network trained to apply one style,
so stylising an image is one forward pass instead of an optimisation.

The network is the paper's shape, narrower: a 9x9 convolution, two stride-2 downsampling
convolutions, residual blocks, two nearest-neighbour upsamplings with convolutions (no
checkerboard artefacts of transposed convolutions) and a 9x9 convolution back to RGB; instance
normalisation (``GroupNorm`` with one group per channel), which Ulyanov et al. found stylises
better than batch normalisation. It is trained on random crops of the bundled photographs with
the style-transfer loss (``synthesis.style_transfer_loss``) measured through a fixed extractor.
"""

from __future__ import annotations

import numpy as np

from .. import nn
from .style import content_loss, extract_features, gram_matrix, style_loss, tv_loss

__all__ = ["TransformNet", "train_fast_style", "stylize"]


def _conv_block(c_in, c_out, k, stride=1, relu=True):
    layers = [nn.Conv2d(c_in, c_out, k, stride=stride, padding=k // 2),
              nn.GroupNorm(c_out, c_out)]
    if relu:
        layers.append(nn.ReLU())
    return layers


class ResidualBlock(nn.Module):
    """x + (conv - IN - ReLU - conv - IN)(x): the block keeps the content and adds the style's
    corrections."""

    def __init__(self, c: int):
        super().__init__()
        self.body = nn.Sequential(*_conv_block(c, c, 3), *_conv_block(c, c, 3, relu=False))

    def forward(self, x):
        return x + self.body(x)


class TransformNet(nn.Module):
    """Image -> stylised image of the same size (H, W multiples of 4), both preprocessed
    (ImageNet-normalised) (N, 3, H, W).

    Args:
        width: channels of the first stage (the paper: 32); the others are 2x and 4x.
        blocks: residual blocks at 1/4 resolution (the paper: 5).
    """

    def __init__(self, width: int = 16, blocks: int = 3):
        super().__init__()
        w = width
        self.down = nn.Sequential(*_conv_block(3, w, 9), *_conv_block(w, 2 * w, 3, stride=2),
                                  *_conv_block(2 * w, 4 * w, 3, stride=2))
        self.res = nn.Sequential(*[ResidualBlock(4 * w) for _ in range(blocks)])
        self.up1 = nn.Sequential(*_conv_block(4 * w, 2 * w, 3))
        self.up2 = nn.Sequential(*_conv_block(2 * w, w, 3))
        self.out = nn.Conv2d(w, 3, 3, padding=1)

    def forward(self, x):
        from .. import functional as F

        if x.shape[2] % 4 or x.shape[3] % 4:
            raise ValueError(f"TransformNet: height and width must be multiples of 4, got "
                             f"{tuple(x.shape[2:])}")
        h = self.res(self.down(x))
        h = self.up1(F.interpolate(h, scale_factor=2))
        h = self.up2(F.interpolate(h, scale_factor=2))
        return self.out(h)


def _crops(images, n, size, rng):
    """``n`` random ``size`` x ``size`` crops (with random horizontal flips) of the images."""
    out = []
    for _ in range(n):
        img = images[rng.integers(len(images))]
        t = rng.integers(img.shape[1] - size + 1)
        lft = rng.integers(img.shape[2] - size + 1)
        crop = img[:, t:t + size, lft:lft + size]
        out.append(crop[:, :, ::-1] if rng.random() < 0.5 else crop)
    return np.stack(out).astype(np.float32)


def train_fast_style(cnn, style, content_images, content_layer: int, content_weight: float,
                     style_layers, style_weights, tv_weight: float, steps: int = 200,
                     batch_size: int = 4, crop: int = 64, lr: float = 1e-3, width: int = 16,
                     blocks: int = 3, seed: int = 0, progress: bool = False):
    """Train a ``TransformNet`` for one style.

    Args:
        cnn: the fixed extractor; style: the style image (1, 3, H, W), preprocessed.
        content_images: preprocessed images (3, H, W), each at least ``crop`` a side; training
            batches are random crops of them.
        steps, batch_size, crop, lr: Adam steps on batches of crops.

    Returns:
        (the trained network in eval mode, the loss per step).
    """
    from tqdm.auto import tqdm

    import striate

    striate.manual_seed(seed)
    rng = np.random.default_rng(seed)
    with striate.no_grad():
        sf = extract_features(striate.tensor(np.asarray(style, np.float32)), cnn)
    s_targets = [gram_matrix(sf[i]).detach() for i in style_layers]
    net = TransformNet(width, blocks)
    opt = striate.optim.Adam(net.parameters(), lr=lr)
    losses = []
    bar = tqdm(range(steps), desc="fast style", leave=False, disable=not progress)
    for _ in bar:
        x = striate.tensor(_crops(content_images, batch_size, crop, rng))
        with striate.no_grad():
            c_target = extract_features(x, cnn)[content_layer]
        y = net(x)
        f = extract_features(y, cnn)
        # the style targets are one image's Gram matrices, broadcast over the batch
        loss = (content_loss(content_weight, f[content_layer], c_target)
                + style_loss(f, style_layers, s_targets, style_weights)
                + tv_loss(y, tv_weight)) / batch_size
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss))
        bar.set_postfix(loss=f"{losses[-1]:.4g}")
    return net.eval(), losses


def stylize(net, image) -> np.ndarray:
    """One forward pass of a trained ``TransformNet`` on a preprocessed image (1, 3, H, W);
    sides that are not multiples of 4 are cropped to the nearest one below."""
    import striate

    x = np.asarray(image, np.float32)
    h, w = x.shape[2] // 4 * 4, x.shape[3] // 4 * 4
    with striate.no_grad():
        return net(striate.tensor(np.ascontiguousarray(x[:, :, :h, :w]))).numpy()
