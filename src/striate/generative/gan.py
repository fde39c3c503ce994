"""Generative adversarial networks: the course notebook's losses and architectures.

The names and signatures are the GAN notebook's (``sample_noise``, ``discriminator_loss``,
``generator_loss``, ``ls_discriminator_loss``, ``ls_generator_loss``, ``discriminator``,
``generator``, ``build_dc_classifier``, ``build_dc_generator``). With the default
``image_size=28`` the architectures are exactly the notebook's (for 28x28 MNIST, with its
parameter counts); ``image_size=8`` gives the digits-sized variants that striate trains on the
bundled 8x8 digits (same layer pattern, sized for 8x8). Images live in [-1, 1] (a tanh output).

The losses follow the notes: the discriminator minimises the binary cross-entropy of "real"
on real images and "fake" on generated ones (the minimax game's inner max); the generator
minimises ``-log D(G(z))``, the non-saturating loss, whose gradient is large exactly where the
generator is losing. The least-squares GAN (Mao et al., 2017) swaps the cross-entropy for
squared distances to the targets 1 and 0.
"""

from __future__ import annotations

import numpy as np

from .. import backend, nn
from .. import ops as F
from ..autograd.tensor import Tensor

__all__ = ["bce_loss", "build_dc_classifier", "build_dc_generator", "discriminator",
           "discriminator_loss", "generator", "generator_loss", "ls_discriminator_loss",
           "ls_generator_loss", "minimax_generator_loss", "sample_noise"]

NOISE_DIM = 96


def _check_size(fn: str, image_size: int) -> int:
    if image_size not in (8, 28):
        raise ValueError(f"{fn}: image_size must be 28 (the notebook's MNIST) or 8 (the digits), "
                         f"got {image_size!r}")
    return image_size


def sample_noise(batch_size: int, dim: int, seed: int | None = None) -> Tensor:
    """Uniform noise in [-1, 1), shape (batch_size, dim): the generator's input.

    Drawn from striate's seeded generator (``striate.manual_seed``), or from a fresh one seeded
    with ``seed``.
    """
    for name, v in (("batch_size", batch_size), ("dim", dim)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v <= 0:
            raise ValueError(f"sample_noise: {name} must be a positive int, got {v!r}")
    rng = backend.get_rng() if seed is None else np.random.default_rng(seed)
    u = rng.random((batch_size, dim), dtype=np.float64) * 2 - 1
    return Tensor(u.astype(backend.get_default_dtype()))


def bce_loss(input: Tensor, target: Tensor) -> Tensor:
    """Mean binary cross-entropy of logits ``input`` against ``target`` in [0, 1]: the
    notebook's ``bce_loss`` (one stable node, ``max(s, 0) - s t + log(1 + exp(-|s|))``)."""
    return F.binary_cross_entropy_with_logits(input, target)


def _like(x: Tensor, value: float) -> Tensor:
    return Tensor(np.full(x.shape, value, dtype=x.array.dtype))


def discriminator_loss(logits_real: Tensor, logits_fake: Tensor) -> Tensor:
    """The discriminator's loss, ``-mean log D(x) - mean log(1 - D(G(z)))``, from its logits
    (shape (N, 1) or (N,)) on real and on generated images."""
    return bce_loss(logits_real, _like(logits_real, 1.0)) + \
        bce_loss(logits_fake, _like(logits_fake, 0.0))


def generator_loss(logits_fake: Tensor) -> Tensor:
    """The non-saturating generator loss of the notes, ``-mean log D(G(z))``."""
    return bce_loss(logits_fake, _like(logits_fake, 1.0))


def minimax_generator_loss(logits_fake: Tensor) -> Tensor:
    """The original minimax generator loss, ``mean log(1 - D(G(z)))`` (to minimise): its
    gradient vanishes where the discriminator confidently rejects the samples, early in
    training, which is why the notes (and :func:`generator_loss`) use the non-saturating form."""
    return -bce_loss(logits_fake, _like(logits_fake, 0.0))


def ls_discriminator_loss(scores_real: Tensor, scores_fake: Tensor) -> Tensor:
    """Least-squares GAN discriminator loss, ``mean (D(x) - 1)^2 / 2 + mean D(G(z))^2 / 2``."""
    return 0.5 * ((scores_real - 1) ** 2).mean() + 0.5 * (scores_fake ** 2).mean()


def ls_generator_loss(scores_fake: Tensor) -> Tensor:
    """Least-squares GAN generator loss, ``mean (D(G(z)) - 1)^2 / 2``."""
    return 0.5 * ((scores_fake - 1) ** 2).mean()


def discriminator(image_size: int = 28) -> nn.Sequential:
    """The notebook's fully-connected discriminator: flatten, 256, leaky ReLU(0.01), 256, leaky
    ReLU, 1 logit. Input (N, 1, S, S) or (N, S*S) images; 267,009 parameters for S = 28."""
    d = _check_size("discriminator", image_size) ** 2
    return nn.Sequential(
        nn.Flatten(),
        nn.Linear(d, 256), nn.LeakyReLU(0.01),
        nn.Linear(256, 256), nn.LeakyReLU(0.01),
        nn.Linear(256, 1),
    )


def generator(noise_dim: int = NOISE_DIM, image_size: int = 28) -> nn.Sequential:
    """The notebook's fully-connected generator: noise_dim, 1024, ReLU, 1024, ReLU, S*S, tanh
    (for 8x8 the hidden layers have 256 units, like the discriminator's). Output (N, S*S) in
    (-1, 1)."""
    d = _check_size("generator", image_size) ** 2
    h = 1024 if image_size == 28 else 256
    return nn.Sequential(
        nn.Linear(noise_dim, h), nn.ReLU(),
        nn.Linear(h, h), nn.ReLU(),
        nn.Linear(h, d), nn.Tanh(),
    )


def build_dc_classifier(image_size: int = 28) -> nn.Sequential:
    """The DCGAN discriminator. For 28x28 the notebook's: unflatten to (1, 28, 28), conv 5x5 32,
    leaky ReLU, max pool 2, conv 5x5 64, leaky ReLU, max pool 2, flatten, FC 1024, leaky ReLU,
    FC 1 (1,102,721 parameters). For 8x8: conv 3x3 32 (padded), leaky ReLU, conv 4x4 stride 2
    to 64 channels at 4x4, leaky ReLU, FC 256, leaky ReLU, FC 1 (strided convolutions replace
    the pooling that would leave nothing of an 8x8 image, as the DCGAN paper advises)."""
    s = _check_size("build_dc_classifier", image_size)
    if s == 28:
        return nn.Sequential(
            nn.Unflatten(1, (1, 28, 28)),
            nn.Conv2d(1, 32, 5, 1), nn.LeakyReLU(0.01), nn.MaxPool2d(2, 2),
            nn.Conv2d(32, 64, 5, 1), nn.LeakyReLU(0.01), nn.MaxPool2d(2, 2),
            nn.Flatten(),
            nn.Linear(4 * 4 * 64, 4 * 4 * 64), nn.LeakyReLU(0.01),
            nn.Linear(4 * 4 * 64, 1),
        )
    return nn.Sequential(
        nn.Unflatten(1, (1, 8, 8)),
        nn.Conv2d(1, 32, 3, 1, 1), nn.LeakyReLU(0.01),
        nn.Conv2d(32, 64, 4, 2, 1), nn.LeakyReLU(0.01),
        nn.Flatten(),
        nn.Linear(4 * 4 * 64, 256), nn.LeakyReLU(0.01),
        nn.Linear(256, 1),
    )


def build_dc_generator(noise_dim: int = NOISE_DIM, image_size: int = 28) -> nn.Sequential:
    """The DCGAN generator. For 28x28 the notebook's: FC 1024, ReLU, batch norm, FC 7*7*128,
    ReLU, batch norm, unflatten to (128, 7, 7), transpose conv 4x4 stride 2 to 64 channels
    (14x14), ReLU, batch norm, transpose conv 4x4 stride 2 to 1 channel (28x28), tanh, flatten.
    For 8x8 the same with 2x2 -> 4x4 -> 8x8 (FC 256, FC 2*2*128). Output (N, S*S) in (-1, 1)."""
    s = _check_size("build_dc_generator", image_size)
    hidden, base = (1024, 7) if s == 28 else (256, 2)
    return nn.Sequential(
        nn.Linear(noise_dim, hidden), nn.ReLU(), nn.BatchNorm1d(hidden),
        nn.Linear(hidden, base * base * 128), nn.ReLU(), nn.BatchNorm1d(base * base * 128),
        nn.Unflatten(1, (128, base, base)),
        nn.ConvTranspose2d(128, 64, 4, stride=2, padding=1), nn.ReLU(), nn.BatchNorm2d(64),
        nn.ConvTranspose2d(64, 1, 4, stride=2, padding=1), nn.Tanh(),
        nn.Flatten(),
    )
