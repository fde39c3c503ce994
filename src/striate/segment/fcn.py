"""Semantic segmentation networks: a fully convolutional network that downsamples and upsamples
inside the network with skip connections (Long et al. 2015; the lecture's U-shaped picture), and
the sliding-window baseline it replaced.

The FCN's decoder upsamples by one of the lecture's four ways, chosen by ``upsample``:

- ``"nearest"``: copy each value into a 2x2 block;
- ``"bed-of-nails"``: the value in the block's corner, zeros elsewhere;
- ``"unpool"``: max unpooling, the value back where the matching encoder max-pool found its max
  (the pooling indices are kept on the way down);
- ``"transpose"``: a learned 2x2 transposed convolution with stride 2.

Each decoder stage projects to the skip's channels, upsamples, adds the encoder's features of the
same resolution (the skip: fine detail the pooled path lost) and refines with a 3x3 convolution.
"""

from __future__ import annotations

import numpy as np

from .. import nn
from ..autograd.grad_mode import no_grad
from ..autograd.tensor import Tensor
from ..nn import functional as F  # noqa: N812 - PyTorch's spelling
from ..nn import init

__all__ = ["FCN", "SlidingWindowSegmenter", "UPSAMPLE_MODES"]

UPSAMPLE_MODES = ("nearest", "bed-of-nails", "unpool", "transpose")


def _block(c_in: int, c_out: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out),
                         nn.ReLU())


class _Up(nn.Module):
    """One decoder stage: project to the skip's channels, upsample x2, add the skip, refine."""

    def __init__(self, c_in: int, c_skip: int, mode: str):
        super().__init__()
        self.mode = mode
        if mode == "transpose":
            self.up = nn.ConvTranspose2d(c_in, c_skip, 2, stride=2)
        else:
            self.proj = nn.Conv2d(c_in, c_skip, 1)
            if mode == "unpool":
                self.up = nn.MaxUnpool2d(2)
            elif mode == "bed-of-nails":
                self.up = nn.BedOfNails(2)
            else:
                self.up = nn.Upsample(scale_factor=2, mode="nearest")
        self.refine = _block(c_skip, c_skip)

    def forward(self, x, skip, indices):
        if self.mode == "transpose":
            x = self.up(x)
        elif self.mode == "unpool":
            x = self.up(self.proj(x), indices, output_size=skip.shape[-2:])
        else:
            x = self.up(self.proj(x))
        return self.refine(x + skip)


class FCN(nn.Module):
    """Encoder (conv blocks and 2x2 max pools) -> decoder (upsampling + skips) -> per-pixel class
    scores (N, num_classes, H, W). H and W must be divisible by 2^len(widths) - 1.

    Args:
        num_classes: classes including the background.
        widths: channels of each encoder resolution (default (16, 32, 64): 64 -> 16 pixels).
        upsample: one of :data:`UPSAMPLE_MODES`.
        in_channels: image channels.
    """

    @init.course_defaults()
    def __init__(self, num_classes: int = 4, widths=(16, 32, 64), upsample: str = "transpose",
                 in_channels: int = 3):
        super().__init__()
        if upsample not in UPSAMPLE_MODES:
            raise ValueError(f"FCN: upsample must be one of {UPSAMPLE_MODES}, got {upsample!r}")
        widths = tuple(int(w) for w in widths)
        self.widths, self.upsample = widths, upsample
        self.stem = nn.Sequential(_block(in_channels, widths[0]), _block(widths[0], widths[0]))
        self.down = nn.ModuleList([nn.Sequential(_block(a, b), _block(b, b))
                                   for a, b in zip(widths[:-1], widths[1:])])
        self.pool = nn.MaxPool2d(2, return_indices=True)
        self.up = nn.ModuleList([_Up(b, a, upsample) for a, b in zip(widths[:-1], widths[1:])])
        self.classifier = nn.Conv2d(widths[0], num_classes, 1)

    def forward(self, x):
        x = self.stem(x)
        skips, indices = [], []
        for block in self.down:
            skips.append(x)
            x, idx = self.pool(x)
            indices.append(idx)
            x = block(x)
        for up in reversed(self.up):
            x = up(x, skips.pop(), indices.pop())
        return self.classifier(x)

    def loss(self, images, batch):
        """Per-pixel softmax cross-entropy against ``batch.semantic``."""
        scores = self(images)
        loss = F.cross_entropy(scores, Tensor(batch.semantic))
        return loss, {}

    def predict(self, images: np.ndarray, batch_size: int = 64) -> np.ndarray:
        """(N, H, W) label maps of (N, 3, H, W) images."""
        self.eval()
        out = []
        with no_grad():
            for lo in range(0, len(images), batch_size):
                out.append(self(Tensor(images[lo:lo + batch_size])).array.argmax(1))
        return np.concatenate(out)


class SlidingWindowSegmenter(nn.Module):
    """The baseline the lecture starts from: classify each pixel from the window around it with a
    small CNN, one window per pixel. Nothing is shared between overlapping windows, which is why
    it is slow (H * W forward passes per image) and why FCNs replaced it.

    Args:
        num_classes: classes including the background.
        window: odd window side in pixels.
        width: channels of the two conv layers.
    """

    @init.course_defaults()
    def __init__(self, num_classes: int = 4, window: int = 15, width: int = 16,
                 in_channels: int = 3):
        super().__init__()
        if window % 2 == 0 or window < 3:
            raise ValueError(f"SlidingWindowSegmenter: window must be odd and >= 3, got {window}")
        self.window = window
        self.net = nn.Sequential(
            nn.Conv2d(in_channels, width, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(width, 2 * width, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(2 * width * (window // 4) ** 2, 64), nn.ReLU(),
            nn.Linear(64, num_classes))

    def windows(self, images: np.ndarray, ys: np.ndarray, xs: np.ndarray, which: np.ndarray):
        """(k, C, window, window) crops centred on pixels (ys, xs) of images ``which`` (edges
        padded with zeros)."""
        r = self.window // 2
        padded = np.pad(images, ((0, 0), (0, 0), (r, r), (r, r)))
        view = np.lib.stride_tricks.sliding_window_view(padded, (self.window, self.window),
                                                        axis=(2, 3))
        return np.ascontiguousarray(view[which, :, ys, xs])

    def forward(self, x):
        return self.net(x)

    def loss(self, images, batch, per_image: int = 64):
        """Cross-entropy on ``per_image`` random pixels of each image, half of them foreground
        (objects are small: uniform sampling would see mostly background)."""
        from ..backend import get_rng

        rng = get_rng()
        imgs = images.array
        which, ys, xs = [], [], []
        for i, sem in enumerate(batch.semantic):
            fg = np.flatnonzero(sem.ravel() > 0)
            k = per_image // 2 if len(fg) else 0
            pick = np.concatenate([rng.choice(fg, k) if k else np.zeros(0, int),
                                   rng.integers(0, sem.size, per_image - k)])
            which.append(np.full(per_image, i))
            ys.append(pick // sem.shape[1])
            xs.append(pick % sem.shape[1])
        which, ys, xs = np.concatenate(which), np.concatenate(ys), np.concatenate(xs)
        crops = self.windows(imgs, ys, xs, which)
        target = batch.semantic[which, ys, xs]
        return F.cross_entropy(self(Tensor(crops)), Tensor(target)), {}

    def predict(self, images: np.ndarray, batch_size: int = 4096) -> np.ndarray:
        """(N, H, W) label maps: every pixel's window classified on its own."""
        self.eval()
        N, _, H, W = images.shape
        ys, xs = np.divmod(np.arange(H * W), W)
        out = np.zeros((N, H * W), np.int64)
        with no_grad():
            for i in range(N):
                for lo in range(0, H * W, batch_size):
                    sl = slice(lo, lo + batch_size)
                    crops = self.windows(images, ys[sl], xs[sl], np.full(len(ys[sl]), i))
                    out[i, sl] = self(Tensor(crops)).array.argmax(1)
        return out.reshape(N, H, W)
