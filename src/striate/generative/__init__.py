"""Generative models: autoencoders, the VAE, GANs (vanilla, least-squares, DCGAN), PixelCNN and
a row-LSTM PixelRNN, and a denoising diffusion model (DDPM, DDIM sampling).

The GAN functions carry the course notebook's names and signatures (``sample_noise``,
``discriminator_loss``, ``build_dc_generator``, ...). ``train_run`` trains any of the models
into a run folder (what ``striate generate KIND train`` runs); see ``docs/generative.md``.
"""

from .autoencoder import VAE, Autoencoder, ConvAutoencoder, discretized_gaussian_log_prob
from .diffusion import DDPM, UNet, cosine_betas, linear_betas, timestep_embedding
from .evaluate import label_samples
from .features import feature_experiment, few_labels
from .gan import (
    bce_loss,
    build_dc_classifier,
    build_dc_generator,
    discriminator,
    discriminator_loss,
    generator,
    generator_loss,
    ls_discriminator_loss,
    ls_generator_loss,
    minimax_generator_loss,
    sample_noise,
)
from .images import make_grid, save_grid
from .pixelcnn import (
    MaskedConv2d,
    PixelCNN,
    PixelRNN,
    bits_per_dim,
    causal_mask,
    independent_pixel_bits,
    sample_autoregressive,
)
from .runs import load_run, train_run
from .tasks import DEFAULTS, KINDS, make_task

__all__ = [
    "DDPM", "DEFAULTS", "KINDS", "VAE", "Autoencoder", "ConvAutoencoder", "MaskedConv2d",
    "PixelCNN", "PixelRNN", "UNet", "bce_loss", "bits_per_dim", "build_dc_classifier",
    "build_dc_generator", "causal_mask", "cosine_betas", "discretized_gaussian_log_prob",
    "discriminator", "discriminator_loss", "feature_experiment", "few_labels", "generator",
    "generator_loss", "independent_pixel_bits", "label_samples", "linear_betas", "load_run",
    "ls_discriminator_loss", "ls_generator_loss", "make_grid", "make_task",
    "minimax_generator_loss", "sample_autoregressive", "sample_noise", "save_grid",
    "timestep_embedding", "train_run",
]
