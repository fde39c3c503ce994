"""Autoregressive image models: PixelCNN (masked convolutions) and a small row-LSTM PixelRNN.

Both factor an image's likelihood pixel by pixel in raster order,
p(x) = prod_i p(x_i | x_<i), each factor a softmax over the intensity levels (17 for the
digits' 0..16, 256 for 8-bit images). Training is teacher-forced: the true image goes in, and
every pixel's distribution comes out at once, because the architecture lets pixel i see only
pixels before it. Sampling is sequential: one forward per pixel. Images are single-channel.

The negative log-likelihood in bits per dimension is the cross-entropy in nats divided by ln 2.
"""

from __future__ import annotations

import math

import numpy as np

from .. import backend, nn
from .. import ops as F
from ..autograd.grad_mode import no_grad
from ..autograd.tensor import Tensor

__all__ = ["MaskedConv2d", "PixelCNN", "PixelRNN", "bits_per_dim", "causal_mask",
           "independent_pixel_bits", "nll_loss",
           "sample_autoregressive", "to_levels"]


def causal_mask(kh: int, kw: int, mask_type: str) -> np.ndarray:
    """The (kh, kw) 0/1 mask of a PixelCNN kernel: rows above the centre and the centre row left
    of the centre are kept; type ``"A"`` also drops the centre (the first layer must not see the
    pixel it predicts), type ``"B"`` keeps it (later layers see their own position's features,
    which already exclude that pixel)."""
    if mask_type not in ("A", "B"):
        raise ValueError(f"causal_mask: mask_type must be 'A' or 'B', got {mask_type!r}")
    m = np.zeros((kh, kw), dtype=np.float32)
    m[: kh // 2] = 1
    m[kh // 2, : kw // 2 + (mask_type == "B")] = 1
    return m


class MaskedConv2d(nn.Conv2d):
    """A ``Conv2d`` whose kernel is multiplied by a causal mask in every forward.

    Multiplying in forward (not once at initialisation) puts the mask in the graph: the masked
    weights get zero gradient, so no optimizer step can bring them back to life.
    """

    def __init__(self, mask_type: str, in_channels: int, out_channels: int, kernel_size,
                 **kwargs):
        kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
        if kh % 2 == 0 or kw % 2 == 0:
            raise ValueError(f"MaskedConv2d: kernel_size must be odd, got {kernel_size}")
        kwargs.setdefault("padding", (kh // 2, kw // 2))
        super().__init__(in_channels, out_channels, (kh, kw), **kwargs)
        self.mask_type = mask_type
        self.register_buffer("mask", Tensor(causal_mask(kh, kw, mask_type)))

    def forward(self, input: Tensor) -> Tensor:
        return F.conv2d(input, self.weight * self.mask, self.bias, self.stride, self.padding,
                        self.dilation, self.groups)

    def extra_repr(self) -> str:
        return f"mask_type={self.mask_type!r}, " + super().extra_repr()


class _ResidualB(nn.Module):
    """ReLU, 1x1 to half width, ReLU, masked 3x3 (B), ReLU, 1x1 back; added to the input."""

    def __init__(self, channels: int):
        super().__init__()
        h = channels // 2
        self.body = nn.Sequential(nn.ReLU(), nn.Conv2d(channels, h, 1), nn.ReLU(),
                                  MaskedConv2d("B", h, h, 3), nn.ReLU(), nn.Conv2d(h, channels, 1))

    def forward(self, x: Tensor) -> Tensor:
        return x + self.body(x)


class PixelCNN(nn.Module):
    """PixelCNN: a masked 7x7 (type A) convolution, residual blocks of masked 3x3 (type B)
    convolutions, and 1x1 convolutions to ``levels`` logits per pixel.

    Input (N, 1, H, W) in [0, 1] (level / (levels - 1)); output logits (N, levels, H, W).
    """

    def __init__(self, levels: int = 17, channels: int = 64, blocks: int = 4,
                 first_kernel: int = 7):
        super().__init__()
        self.levels = levels
        self.net = nn.Sequential(
            MaskedConv2d("A", 1, channels, first_kernel),
            *[_ResidualB(channels) for _ in range(blocks)],
            nn.ReLU(), nn.Conv2d(channels, channels, 1), nn.ReLU(),
            nn.Conv2d(channels, levels, 1))

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x * 2 - 1)


class PixelRNN(nn.Module):
    """A small Row LSTM PixelRNN (van den Oord et al., 2016), one layer.

    The image is processed row by row: the LSTM state of row i is a (hidden, W) map computed
    from row i's input through a masked 1x3 convolution (type A: only pixels left of each
    position) and from row i-1's state through a 1x3 convolution. Each position's state thus
    sees the pixels to its left and a triangle of rows above, never itself or anything after.
    Input (N, 1, H, W) in [0, 1]; output logits (N, levels, H, W).
    """

    def __init__(self, levels: int = 17, hidden: int = 64):
        super().__init__()
        self.levels = levels
        self.hidden = hidden
        self.input_to_state = MaskedConv2d("A", 1, 4 * hidden, (1, 3))
        self.state_to_state = nn.Conv2d(hidden, 4 * hidden, (1, 3), padding=(0, 1), bias=False)
        self.out = nn.Sequential(nn.Conv2d(hidden, hidden, 1), nn.ReLU(),
                                 nn.Conv2d(hidden, levels, 1))

    def forward(self, x: Tensor) -> Tensor:
        n, _, h, w = x.shape
        k = self.hidden
        gates_in = self.input_to_state(x * 2 - 1)  # all rows at once: (N, 4k, H, W)
        hidden_state = Tensor(np.zeros((n, k, 1, w), dtype=gates_in.array.dtype))
        cell = hidden_state
        rows = []
        for i in range(h):
            g = gates_in[:, :, i:i + 1] + self.state_to_state(hidden_state)
            i_g, f_g = F.sigmoid(g[:, :k]), F.sigmoid(g[:, k:2 * k])
            o_g, c_new = F.sigmoid(g[:, 2 * k:3 * k]), F.tanh(g[:, 3 * k:])
            cell = f_g * cell + i_g * c_new
            hidden_state = o_g * F.tanh(cell)
            rows.append(hidden_state)
        return self.out(F.cat(rows, dim=2))


def to_levels(x, levels: int) -> np.ndarray:
    """Images in [0, 1] as integer levels 0..levels-1 (int64), e.g. the digits' 0..16."""
    a = x.array if isinstance(x, Tensor) else np.asarray(x)
    return np.clip(np.rint(a * (levels - 1)), 0, levels - 1).astype(np.int64)


def nll_loss(model: nn.Module, x: Tensor) -> Tensor:
    """Mean negative log-likelihood per pixel, in nats, of images x (N, 1, H, W) in [0, 1]."""
    target = Tensor(to_levels(x, model.levels)[:, 0])
    return F.cross_entropy(model(x), target)


def bits_per_dim(model: nn.Module, X: np.ndarray, batch_size: int = 256) -> float:
    """The model's negative log-likelihood of images X (N, 1, H, W) in bits per pixel."""
    was = model.training
    model.eval()
    total = 0.0
    with no_grad():
        for s in range(0, len(X), batch_size):
            xb = Tensor(X[s:s + batch_size].astype(np.float32))
            total += nll_loss(model, xb).item() * len(xb)
    model.train(was)
    return total / len(X) / math.log(2)


def independent_pixel_bits(X_train: np.ndarray, X_test: np.ndarray, levels: int,
                           alpha: float = 1.0) -> float:
    """The baseline: each pixel its own categorical over the levels, fitted by counting on the
    training images (plus ``alpha`` per level, so no test level has probability 0); its
    negative log-likelihood of the test images in bits per pixel."""
    tr, te = to_levels(X_train, levels), to_levels(X_test, levels)
    flat_tr = tr.reshape(len(tr), -1)
    d = flat_tr.shape[1]
    counts = np.full((d, levels), alpha, dtype=np.float64)
    np.add.at(counts, (np.broadcast_to(np.arange(d), flat_tr.shape), flat_tr), 1)
    with np.errstate(divide="ignore"):  # alpha = 0: an unseen level has probability 0
        logp = np.log2(counts / counts.sum(1, keepdims=True))
    flat_te = te.reshape(len(te), -1)
    return float(-logp[np.arange(d), flat_te].mean())


def sample_autoregressive(model: nn.Module, n: int, shape=(1, 8, 8), rng=None,
                          temperature: float = 1.0) -> np.ndarray:
    """Draw n images pixel by pixel in raster order: one forward per pixel, each pixel drawn
    from the softmax of its logits given the pixels drawn so far. Returns (n, 1, H, W) in
    [0, 1]."""
    rng = backend.get_rng() if rng is None else rng
    c, h, w = shape
    levels = model.levels
    x = np.zeros((n, c, h, w), dtype=np.float32)
    was = model.training
    model.eval()
    with no_grad():
        for i in range(h):
            for j in range(w):
                z = model(Tensor(x)).array[:, :, i, j].astype(np.float64) / temperature
                p = np.exp(z - z.max(1, keepdims=True))
                p /= p.sum(1, keepdims=True)
                # inverse-CDF draw of one level per image
                u = rng.random((n, 1))
                k = np.minimum((p.cumsum(1) < u).sum(1), levels - 1)
                x[:, 0, i, j] = k / (levels - 1)
    model.train(was)
    return x
