"""One adapter per kind of model for the shared training loop (:mod:`striate.generative.runs`).

A task builds its networks and optimizers from a JSON-able config, turns images in [0, 1] into
what its model reads, takes one training step on a batch, evaluates on held-out images, draws
samples (back in [0, 1]) and, where the model has a latent space, interpolates in it.
"""

from __future__ import annotations

import math

import numpy as np

from .. import nn
from ..autograd.grad_mode import no_grad
from ..autograd.tensor import Tensor
from ..optim import Adam
from . import gan as G
from .autoencoder import VAE, Autoencoder, ConvAutoencoder
from .diffusion import DDPM
from .pixelcnn import (
    PixelCNN,
    PixelRNN,
    bits_per_dim,
    independent_pixel_bits,
    nll_loss,
    sample_autoregressive,
)

__all__ = ["KINDS", "DEFAULTS", "make_task", "slerp"]

# per kind: the defaults of `striate generate KIND train` (each run finishes in minutes on the
# digits with two cores; docs/generative.md has the measured times)
DEFAULTS: dict[str, dict] = {
    # the feature experiment: probe_draws draws of 100 labels, probe_steps Adam steps each
    "ae": {"epochs": 20, "batch_size": 64, "lr": 1e-3, "code_dim": 16, "arch": "conv",
           "probe_steps": 300, "probe_draws": 5},
    # the same experiment on the encoder mean, over 30 draws: the VAE's win is about one
    # point, which 5 draws cannot tell from noise (docs/generative.md)
    "vae": {"epochs": 40, "batch_size": 64, "lr": 1e-3, "latent_dim": 8, "hidden": 256,
            "likelihood": "bernoulli", "probe_steps": 300, "probe_draws": 30},
    # Adam(1e-3, betas (0.5, 0.999)): the notebook's settings
    "gan": {"epochs": 20, "batch_size": 64, "lr": 1e-3, "noise_dim": 96},
    "lsgan": {"epochs": 20, "batch_size": 64, "lr": 1e-3, "noise_dim": 96},
    "dcgan": {"epochs": 15, "batch_size": 64, "lr": 1e-3, "noise_dim": 96},
    "pixelcnn": {"epochs": 15, "batch_size": 64, "lr": 1e-3, "channels": 64, "blocks": 4},
    "pixelrnn": {"epochs": 15, "batch_size": 64, "lr": 1e-3, "hidden": 64},
    # the per-epoch grids use DDIM with grid_steps steps, `sample` ddim_steps (or --ancestral)
    "ddpm": {"epochs": 30, "batch_size": 32, "lr": 2e-3, "T": 1000, "schedule": "linear",
             "width": 16, "ddim_steps": 50, "grid_steps": 20},
}
KINDS = tuple(DEFAULTS)


def slerp(a: np.ndarray, b: np.ndarray, w: float) -> np.ndarray:
    """Spherical interpolation between two Gaussian noise vectors (rows): keeps the norm a
    Gaussian draw has, which linear interpolation would shrink halfway."""
    a2, b2 = a.reshape(len(a), -1), b.reshape(len(b), -1)
    cos = np.sum(a2 * b2, 1) / (np.linalg.norm(a2, axis=1) * np.linalg.norm(b2, axis=1))
    omega = np.arccos(np.clip(cos, -1, 1))[:, None]
    so = np.sin(omega)
    so = np.where(so < 1e-8, 1.0, so)
    out = np.where(omega < 1e-8, (1 - w) * a2 + w * b2,
                   (np.sin((1 - w) * omega) * a2 + np.sin(w * omega) * b2) / so)
    return out.reshape(a.shape)


class Task:
    """The base: ``modules`` and ``optimizers`` by name, saved and restored together."""

    kind = ""
    loss_names: tuple[str, ...] = ("loss",)

    def __init__(self, config: dict):
        self.config = config
        self.shape = tuple(config["shape"])
        self.modules: dict[str, nn.Module] = {}
        self.optimizers: dict = {}

    # images in [0, 1] <-> what the model reads
    def prepare(self, X: np.ndarray) -> np.ndarray:
        return X.astype(np.float32)

    def step(self, xb: Tensor) -> dict[str, float]:
        raise NotImplementedError

    def evaluate(self, X_test: np.ndarray) -> dict[str, float]:
        return {}

    def sample(self, n: int, rng) -> np.ndarray:
        raise NotImplementedError

    def interpolate(self, rows: int, steps: int, X: np.ndarray, rng) -> np.ndarray:
        raise ValueError(f"interpolate: a {self.kind} model has no latent space to interpolate "
                         "in (kinds with one: ae, vae, gan, lsgan, dcgan, ddpm)")

    def final_report(self, data, progress: bool = False) -> dict:
        """Numbers computed once, after training (``progress``: a bar where it takes long)."""
        return {}

    def epoch_grid(self, X_test: np.ndarray, rng) -> np.ndarray:
        """What the run folder shows after each epoch: 64 samples."""
        return self.sample(64, rng)

    def train(self, mode: bool = True) -> None:
        for m in self.modules.values():
            m.train(mode)

    def state_dict(self) -> dict:
        return {"modules": {k: m.state_dict() for k, m in self.modules.items()},
                "optimizers": {k: o.state_dict() for k, o in self.optimizers.items()}}

    def load_state_dict(self, state: dict, optimizers: bool = True) -> None:
        for k, m in self.modules.items():
            m.load_state_dict(state["modules"][k])
        if optimizers:
            for k, o in self.optimizers.items():
                o.load_state_dict(state["optimizers"][k])

    def _adam(self, module: nn.Module, betas=(0.9, 0.999)) -> Adam:
        return Adam(module.parameters(), lr=self.config["lr"], betas=betas)


def _step(opt, loss) -> float:
    opt.zero_grad()
    loss.backward()
    opt.step()
    return loss.item()


class GANTask(Task):
    """Vanilla GAN (fully connected), LSGAN (same networks, least-squares losses) or DCGAN, on
    flattened images in [-1, 1]; alternating updates, one discriminator step then one generator
    step on fresh noise, both Adam(lr, betas (0.5, 0.999)) as in the notebook."""

    loss_names = ("d_loss", "g_loss")

    def __init__(self, config: dict):
        super().__init__(config)
        c, h, w = self.shape
        if c != 1 or h != w or h not in (8, 28):
            raise ValueError(f"{config['kind']}: the notebook's GAN architectures take 1-channel "
                             f"8x8 or 28x28 images, got {c}x{h}x{w}")
        self.kind = config["kind"]
        nd = config["noise_dim"]
        if self.kind == "dcgan":
            self.D, self.G = G.build_dc_classifier(h), G.build_dc_generator(nd, h)
        else:
            self.D, self.G = G.discriminator(h), G.generator(nd, h)
        if self.kind == "lsgan":
            self.d_loss, self.g_loss = G.ls_discriminator_loss, G.ls_generator_loss
        else:
            self.d_loss, self.g_loss = G.discriminator_loss, G.generator_loss
        self.modules = {"D": self.D, "G": self.G}
        self.optimizers = {"D": self._adam(self.D, (0.5, 0.999)),
                           "G": self._adam(self.G, (0.5, 0.999))}

    def prepare(self, X):
        return (2 * X.reshape(len(X), -1) - 1).astype(np.float32)

    def step(self, xb):
        n, nd = xb.shape[0], self.config["noise_dim"]
        fake = self.G(G.sample_noise(n, nd)).detach()
        d = _step(self.optimizers["D"], self.d_loss(self.D(xb), self.D(fake)))
        g = _step(self.optimizers["G"], self.g_loss(self.D(self.G(G.sample_noise(n, nd)))))
        return {"d_loss": d, "g_loss": g}

    def _generate(self, z: np.ndarray) -> np.ndarray:
        self.G.eval()
        with no_grad():
            x = self.G(Tensor(z.astype(np.float32))).array
        self.G.train()
        return ((x + 1) / 2).reshape(len(z), *self.shape)

    def sample(self, n, rng):
        return self._generate(rng.uniform(-1, 1, (n, self.config["noise_dim"])))

    def interpolate(self, rows, steps, X, rng):
        nd = self.config["noise_dim"]
        a, b = rng.uniform(-1, 1, (rows, nd)), rng.uniform(-1, 1, (rows, nd))
        ws = np.linspace(0, 1, steps)
        z = np.stack([(1 - w) * a + w * b for w in ws], 1).reshape(rows * steps, nd)
        return self._generate(z)


class AETask(Task):
    """Autoencoder (``arch`` "fc" or "conv"), squared error; at the end, the 100-label
    feature experiment (:func:`striate.generative.features.feature_experiment`)."""

    kind = "ae"

    def __init__(self, config):
        super().__init__(config)
        cls = ConvAutoencoder if config["arch"] == "conv" else Autoencoder
        self.model = cls(self.shape, config["code_dim"])
        self.modules = {"model": self.model}
        self.optimizers = {"model": self._adam(self.model)}

    def step(self, xb):
        return {"loss": _step(self.optimizers["model"], self.model.loss(xb))}

    def evaluate(self, X_test):
        self.model.eval()
        with no_grad():
            loss = self.model.loss(Tensor(self.prepare(X_test))).item()
        self.model.train()
        return {"test_loss": loss}

    def sample(self, n, rng):
        raise ValueError("sample: an autoencoder has no prior to sample from (train a vae); "
                         "its run folder shows reconstructions instead")

    def epoch_grid(self, X_test, rng):
        """Eight rows: four of test images, each followed by its reconstruction."""
        x = X_test[:32]
        r = self.reconstructions(x)
        return np.concatenate([np.stack([x[i:i + 8], r[i:i + 8]]) for i in range(0, 32, 8)]
                              ).reshape(-1, *self.shape)

    def reconstructions(self, X):
        self.model.eval()
        with no_grad():
            r = self.model(Tensor(self.prepare(X))).array
        self.model.train()
        return r

    def interpolate(self, rows, steps, X, rng):
        self.model.eval()
        idx = rng.choice(len(X), size=2 * rows, replace=False)
        with no_grad():
            c = self.model.encode(Tensor(self.prepare(X[idx]))).array
            ws = np.linspace(0, 1, steps)
            z = np.stack([(1 - w) * c[:rows] + w * c[rows:] for w in ws], 1)
            out = self.model.decode(Tensor(z.reshape(rows * steps, -1).astype(np.float32))).array
        self.model.train()
        return out

    def final_report(self, data, progress=False):
        from .features import feature_experiment

        # the labels' draws are seeds 0, 1, ... whatever the run's seed: runs pretrained with
        # different seeds are compared on the same labels (and the same scratch arm)
        return feature_experiment(self.model, data, steps=self.config["probe_steps"],
                                  draws=self.config.get("probe_draws", 5), seed=0,
                                  progress=progress)


class VAETask(Task):
    """VAE; with the Bernoulli decoder the images are binarised (pixel > 0.5). At the end, the
    100-label feature experiment on the encoder mean
    (:func:`striate.generative.features.feature_experiment`)."""

    kind = "vae"
    loss_names = ("loss",)

    def __init__(self, config):
        super().__init__(config)
        self.model = VAE(self.shape, config["latent_dim"], config["hidden"],
                         config["likelihood"])
        self.modules = {"model": self.model}
        self.optimizers = {"model": self._adam(self.model)}

    def prepare(self, X):
        if self.config["likelihood"] == "bernoulli":
            return (X > 0.5).astype(np.float32)
        return X.astype(np.float32)

    def step(self, xb):
        return {"loss": _step(self.optimizers["model"], self.model.loss(xb))}

    def evaluate(self, X_test):
        """The test-set ELBO in nats per image, averaged over 10 draws of z per image. With the
        Gaussian decoder that ELBO is of a density; ``test_bits_per_dim`` adds the ELBO of the
        decoder discretised to the data's grey levels, as bits per pixel (comparable with the
        PixelCNN's)."""
        self.model.eval()
        x = Tensor(self.prepare(X_test))
        with no_grad():
            elbo = float(np.mean([self.model.elbo(x).array.mean() for _ in range(10)]))
            out = {"test_elbo": elbo}
            if self.config["likelihood"] == "gaussian":
                levels = self.config["levels"]
                nats = np.mean([self.model.discretized_elbo(x, levels).mean()
                                for _ in range(10)])
                out["test_bits_per_dim"] = float(-nats / (math.prod(self.shape) * math.log(2)))
        self.model.train()
        return out

    def final_report(self, data, progress=False):
        """The 100-label experiment with the mean of q(z|x) as the code. The classifier reads
        the grey-level images, in all three arms alike (the encoder was pretrained on them
        binarised; fine-tuning adapts it). The labels are drawn as in :class:`AETask`, the
        same for every pretraining seed. Runs from before the experiment have no
        ``probe_draws`` in their config and skip it."""
        from .features import feature_experiment

        if not self.config.get("probe_draws"):
            return {}
        return feature_experiment(self.model, data, steps=self.config["probe_steps"],
                                  draws=self.config["probe_draws"], seed=0,  # as AETask's
                                  progress=progress)

    def _decode(self, z):
        self.model.eval()
        with no_grad():
            x = self.model.mean_image(Tensor(z.astype(np.float32))).array
        self.model.train()
        return x

    def sample(self, n, rng):
        return self._decode(rng.standard_normal((n, self.config["latent_dim"])))

    def reconstructions(self, X):
        self.model.eval()
        with no_grad():
            r = self.model.reconstruct(Tensor(self.prepare(X))).array
        self.model.train()
        return r

    def latent_grid(self, n: int = 15, span: float = 2.0) -> np.ndarray:
        """Decoded means over an n x n grid of z in [-span, span]^2 (latent_dim 2 only)."""
        if self.config["latent_dim"] != 2:
            raise ValueError(f"latent_grid: needs latent_dim 2, this VAE has "
                             f"{self.config['latent_dim']}")
        v = np.linspace(-span, span, n)
        z = np.stack(np.meshgrid(v, -v)[::-1], -1).reshape(-1, 2)[:, ::-1]
        return self._decode(z)

    def interpolate(self, rows, steps, X, rng):
        idx = rng.choice(len(X), size=2 * rows, replace=False)
        self.model.eval()
        with no_grad():
            mu = self.model.encode(Tensor(self.prepare(X[idx]))).mean.array
        ws = np.linspace(0, 1, steps)
        z = np.stack([(1 - w) * mu[:rows] + w * mu[rows:] for w in ws], 1)
        return self._decode(z.reshape(rows * steps, -1))


class PixelTask(Task):
    """PixelCNN or PixelRNN over ``levels`` intensity levels (1-channel images)."""

    def __init__(self, config):
        super().__init__(config)
        if self.shape[0] != 1:
            raise ValueError(f"{config['kind']}: takes 1-channel images, got {self.shape[0]} "
                             "channels (use ?channels=1 with a folder)")
        self.kind = config["kind"]
        if self.kind == "pixelcnn":
            k = 7 if min(self.shape[1:]) >= 16 else 5
            self.model = PixelCNN(config["levels"], config["channels"], config["blocks"], k)
        else:
            self.model = PixelRNN(config["levels"], config["hidden"])
        self.modules = {"model": self.model}
        self.optimizers = {"model": self._adam(self.model)}

    def step(self, xb):
        # nats per pixel; / ln 2 in the report
        return {"loss": _step(self.optimizers["model"], nll_loss(self.model, xb))}

    def evaluate(self, X_test):
        return {"test_bits_per_dim": bits_per_dim(self.model, X_test)}

    def sample(self, n, rng):
        return sample_autoregressive(self.model, n, self.shape, rng)

    def final_report(self, data, progress=False):
        return {"baseline_bits_per_dim": independent_pixel_bits(
            data.train.X, data.test.X, self.config["levels"])}


class DDPMTask(Task):
    """DDPM on images in [-1, 1]; grids by DDIM (``ddim_steps``), ``sample`` ancestral."""

    kind = "ddpm"

    def __init__(self, config):
        super().__init__(config)
        self.model = DDPM(self.shape, config["T"], config["schedule"], config["width"])
        self.modules = {"model": self.model}
        self.optimizers = {"model": self._adam(self.model)}

    def prepare(self, X):
        return (2 * X - 1).astype(np.float32)

    def _ddim_steps(self) -> int:
        return min(self.config["ddim_steps"], self.config["T"])

    def epoch_grid(self, X_test, rng):
        self.model.eval()
        steps = min(self.config.get("grid_steps", 20), self.config["T"])
        x = self.model.ddim_sample(64, steps, rng)
        self.model.train()
        return (x + 1) / 2

    def step(self, xb):
        return {"loss": _step(self.optimizers["model"], self.model.loss(xb))}

    def evaluate(self, X_test):
        self.model.eval()
        rng = np.random.default_rng(0)  # the same steps and noise every epoch: comparable
        with no_grad():
            loss = self.model.loss(Tensor(self.prepare(X_test)), rng).item()
        self.model.train()
        return {"test_loss": loss}

    def sample(self, n, rng, ancestral: bool = False, batch: int = 500):
        self.model.eval()
        parts = []
        for s in range(0, n, batch):
            m = min(batch, n - s)
            x = self.model.sample(m, rng) if ancestral else \
                self.model.ddim_sample(m, self._ddim_steps(), rng)
            parts.append(x)
        self.model.train()
        return (np.concatenate(parts) + 1) / 2

    def interpolate(self, rows, steps, X, rng):
        a = rng.standard_normal((rows, *self.shape))
        b = rng.standard_normal((rows, *self.shape))
        noise = np.stack([slerp(a, b, w) for w in np.linspace(0, 1, steps)], 1)
        self.model.eval()
        x = self.model.ddim_sample(rows * steps, self._ddim_steps(),
                                   noise=noise.reshape(rows * steps, *self.shape))
        self.model.train()
        return (x + 1) / 2


_TASKS = {"ae": AETask, "vae": VAETask, "gan": GANTask, "lsgan": GANTask, "dcgan": GANTask,
          "pixelcnn": PixelTask, "pixelrnn": PixelTask, "ddpm": DDPMTask}


def make_task(config: dict) -> Task:
    """The task a config describes (``config["kind"]`` one of :data:`KINDS`)."""
    kind = config.get("kind")
    if kind not in _TASKS:
        raise ValueError(f"make_task: kind must be one of {', '.join(KINDS)}, got {kind!r}")
    return _TASKS[kind](config)


def nats_to_bits(nats: float) -> float:
    return nats / math.log(2)
