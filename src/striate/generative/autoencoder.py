"""Autoencoders and the variational autoencoder of the lecture.

An autoencoder squeezes an image through a small code and learns to rebuild it (squared error):
no labels needed, and the encoder it learns is a feature extractor for a classifier trained on
few labels (:func:`striate.generative.features.feature_experiment`). The VAE makes the code a
distribution: a Gaussian encoder q(z|x) = N(mu(x), diag sigma(x)^2), a decoder p(x|z) (Bernoulli
for binarised images, Gaussian for grey levels), a standard normal prior p(z), and it maximises
the evidence lower bound

    ELBO(x) = E_q[log p(x|z)] - KL(q(z|x) || p(z))  <=  log p(x),

with the expectation estimated by one reparameterised draw z = mu + sigma * eps
(``Normal.rsample``: the randomness sits in eps, so gradients reach mu and sigma) and the KL in
closed form (``kl_divergence`` of two diagonal Gaussians).
"""

from __future__ import annotations

import math

import numpy as np

from .. import nn
from .. import ops as F
from ..autograd.tensor import Tensor, full, ones, zeros
from ..distributions import Bernoulli, Independent, Normal, kl_divergence
from ..nn.parameter import Parameter

__all__ = ["Autoencoder", "ConvAutoencoder", "VAE", "discretized_gaussian_log_prob"]


def discretized_gaussian_log_prob(x, mean, scale, levels: int) -> np.ndarray:
    """log P(x) of images on ``levels`` grey levels (x = k / (levels - 1)) under a per-pixel
    Gaussian N(mean, scale^2) discretised into bins, summed over each row's pixels: (N,).

    A Gaussian decoder gives a density, whose log is in nats per unit of intensity and is not a
    probability (it grows without bound as the scale shrinks). Integrating the density over each
    level's bin, [x - h, x + h] with h = 1 / (2 (levels - 1)), and the two end bins out to -inf
    and +inf, turns it into a distribution over the levels (its probabilities sum to one), so
    its ELBO is a log-probability comparable with a PixelCNN's on the same levels. NumPy,
    float64, no gradient: it is an evaluation.
    """
    from scipy.special import log_ndtr  # SciPy is a dependency (Normal.cdf uses it too)

    x, mean, scale = (np.asarray(a, dtype=np.float64) for a in (x, mean, scale))
    if levels < 2:
        raise ValueError(f"discretized_gaussian_log_prob: levels must be at least 2, "
                         f"got {levels}")
    h = 0.5 / (levels - 1)
    lo = np.where(x <= h, -np.inf, (x - h - mean) / scale)
    hi = np.where(x >= 1 - h, np.inf, (x + h - mean) / scale)
    # P = Phi(hi) - Phi(lo); for a bin right of the mean use Phi(-lo) - Phi(-hi), so the
    # subtraction happens in the tail nearer zero and log1p keeps its precision
    right = lo + hi > 0
    a, b = np.where(right, -hi, lo), np.where(right, -lo, hi)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_b = log_ndtr(b)
        logp = log_b + np.log1p(-np.exp(log_ndtr(a) - log_b))
    return logp.reshape(len(logp), -1).sum(1)


def _mlp(sizes: list[int]) -> nn.Sequential:
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


class Autoencoder(nn.Module):
    """Fully-connected autoencoder: (N, C, H, W) in [0, 1] -> code (N, code_dim) -> (N, C, H, W).

    ``encoder`` (flatten, hidden, ReLU, code) is the reusable feature extractor.
    """

    def __init__(self, input_shape=(1, 8, 8), code_dim: int = 16, hidden: int = 128):
        super().__init__()
        self.input_shape = tuple(input_shape)
        d = math.prod(self.input_shape)
        self.code_dim = code_dim
        self.encoder = nn.Sequential(nn.Flatten(), _mlp([d, hidden, hidden, code_dim]))
        self.decoder = nn.Sequential(_mlp([code_dim, hidden, hidden, d]), nn.Sigmoid(),
                                     nn.Unflatten(1, self.input_shape))

    def encode(self, x: Tensor) -> Tensor:
        return self.encoder(x)

    def decode(self, z: Tensor) -> Tensor:
        return self.decoder(z)

    def forward(self, x: Tensor) -> Tensor:
        return self.decode(self.encode(x))

    def loss(self, x: Tensor) -> Tensor:
        """Squared reconstruction error summed over pixels, averaged over the batch."""
        return F.mse_loss(self(x), x, reduction="sum") / x.shape[0]


class ConvAutoencoder(Autoencoder):
    """Convolutional autoencoder: two 3x3 / 4x4-stride-2 conv stages to a code, transpose
    convolutions back. Needs H and W divisible by 2."""

    def __init__(self, input_shape=(1, 8, 8), code_dim: int = 16, width: int = 32):
        nn.Module.__init__(self)
        c, h, w = self.input_shape = tuple(input_shape)
        if h % 2 or w % 2:
            raise ValueError(f"ConvAutoencoder: height and width must be even, got {h}x{w}")
        self.code_dim = code_dim
        flat = 2 * width * (h // 2) * (w // 2)
        self.encoder = nn.Sequential(
            nn.Conv2d(c, width, 3, padding=1), nn.ReLU(),
            nn.Conv2d(width, 2 * width, 4, stride=2, padding=1), nn.ReLU(),
            nn.Flatten(), nn.Linear(flat, code_dim))
        self.decoder = nn.Sequential(
            nn.Linear(code_dim, flat), nn.ReLU(),
            nn.Unflatten(1, (2 * width, h // 2, w // 2)),
            nn.ConvTranspose2d(2 * width, width, 4, stride=2, padding=1), nn.ReLU(),
            nn.Conv2d(width, c, 3, padding=1), nn.Sigmoid())


class VAE(nn.Module):
    """Variational autoencoder with a Gaussian encoder and a Bernoulli or Gaussian decoder.

    Args:
        input_shape: (C, H, W) of the images.
        latent_dim: size of z (2 gives a latent space one can draw as a grid).
        hidden: width of the two hidden layers of encoder and decoder.
        likelihood: ``"bernoulli"`` (pixels in {0, 1}: binarise the images) or ``"gaussian"``
            (grey levels; a learned scale per pixel).
    """

    def __init__(self, input_shape=(1, 8, 8), latent_dim: int = 8, hidden: int = 256,
                 likelihood: str = "bernoulli"):
        super().__init__()
        if likelihood not in ("bernoulli", "gaussian"):
            raise ValueError(f"VAE: likelihood must be 'bernoulli' or 'gaussian', "
                             f"got {likelihood!r}")
        self.input_shape = tuple(input_shape)
        self.latent_dim = latent_dim
        self.likelihood = likelihood
        d = math.prod(self.input_shape)
        self.encoder = nn.Sequential(nn.Flatten(), _mlp([d, hidden, hidden]), nn.ReLU())
        self.mu = nn.Linear(hidden, latent_dim)
        self.logvar = nn.Linear(hidden, latent_dim)
        self.decoder = _mlp([latent_dim, hidden, hidden, d])
        if likelihood == "gaussian":
            # log sigma per pixel, learned with the rest (a fixed sigma would be a weighting
            # of reconstruction against KL chosen by hand)
            self.log_scale = Parameter(full((d,), -2.0))

    def encode(self, x: Tensor) -> Independent:
        """q(z|x): a diagonal Gaussian, batch shape (N,), event shape (latent_dim,)."""
        h = self.encoder(x)
        return Independent(Normal(self.mu(h), (0.5 * self.logvar(h)).exp()), 1)

    def decode(self, z: Tensor) -> Independent:
        """p(x|z) over flattened images: Bernoulli(logits) or Normal(mean, scale)."""
        out = self.decoder(z)
        if self.likelihood == "bernoulli":
            return Independent(Bernoulli(logits=out), 1)
        return Independent(Normal(out, self.log_scale.exp().expand(out.shape)), 1)

    def prior(self, n: int) -> Independent:
        return Independent(Normal(zeros(n, self.latent_dim),
                                  ones(n, self.latent_dim)), 1)

    def elbo(self, x: Tensor) -> Tensor:
        """The ELBO of each image (N,), in nats: one reparameterised sample of log p(x|z)
        minus the closed-form KL(q(z|x) || N(0, I))."""
        q = self.encode(x)
        z = q.rsample()
        rec = self.decode(z).log_prob(x.reshape(x.shape[0], -1))
        return rec - kl_divergence(q, self.prior(x.shape[0]))

    def loss(self, x: Tensor) -> Tensor:
        """The negative ELBO averaged over the batch (nats per image)."""
        return -self.elbo(x).mean()

    def discretized_elbo(self, x: Tensor, levels: int) -> np.ndarray:
        """The ELBO of each image (N,), in nats, with the Gaussian decoder discretised to
        ``levels`` grey levels (:func:`discretized_gaussian_log_prob`): a bound on log P(x) that
        a PixelCNN's bits per dimension on the same levels can be compared with. One
        reparameterised draw of z, like :meth:`elbo`; evaluation only (NumPy, no gradient)."""
        if self.likelihood != "gaussian":
            raise ValueError("discretized_elbo: needs the Gaussian decoder (the Bernoulli one "
                             "is already a distribution over {0, 1})")
        q = self.encode(x)
        p = self.decode(q.rsample()).base_dist
        rec = discretized_gaussian_log_prob(x.reshape(x.shape[0], -1).array, p.loc.array,
                                            p.scale.array, levels)
        return rec - kl_divergence(q, self.prior(x.shape[0])).array

    def mean_image(self, z: Tensor) -> Tensor:
        """The decoder's mean E[x|z] as images (N, C, H, W): what samples and grids show."""
        return self.decode(z).mean.reshape((z.shape[0], *self.input_shape))

    def reconstruct(self, x: Tensor) -> Tensor:
        """Decode the encoder's mean code of x (no sampling): (N, C, H, W)."""
        return self.mean_image(self.encode(x).mean)
