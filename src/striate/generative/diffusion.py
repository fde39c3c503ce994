"""Denoising diffusion (DDPM, Ho et al. 2020) with a small U-Net, and DDIM sampling.

The forward process adds Gaussian noise in T steps, q(x_t | x_0) = N(sqrt(abar_t) x_0,
(1 - abar_t) I) with abar_t = prod_{s<=t} (1 - beta_s); a network eps(x_t, t) learns to predict
the noise that was added (the simplified loss, mean squared error on eps). Ancestral sampling
walks back from x_T ~ N(0, I) one step at a time; DDIM (Song et al. 2021) takes a deterministic
walk over a subsequence of the steps, so 50 steps can stand in for 1,000. Images live in
[-1, 1].
"""

from __future__ import annotations

import math

import numpy as np

from .. import backend, nn
from .. import ops as F
from ..autograd.grad_mode import no_grad
from ..autograd.tensor import Tensor

__all__ = ["DDPM", "UNet", "cosine_betas", "linear_betas", "timestep_embedding"]


def linear_betas(T: int, beta_1: float = 1e-4, beta_T: float = 0.02) -> np.ndarray:
    """DDPM's schedule: beta rising linearly from beta_1 to beta_T over T steps (float64)."""
    return np.linspace(beta_1, beta_T, T, dtype=np.float64)


def cosine_betas(T: int, s: float = 0.008, max_beta: float = 0.999) -> np.ndarray:
    """Nichol and Dhariwal's schedule: abar(t) = cos^2(((t/T + s) / (1 + s)) pi/2), betas
    1 - abar(t)/abar(t-1), clipped at max_beta (the last steps would otherwise reach 1)."""
    t = np.arange(T + 1, dtype=np.float64) / T
    abar = np.cos((t + s) / (1 + s) * math.pi / 2) ** 2
    return np.minimum(1 - abar[1:] / abar[:-1], max_beta)


def timestep_embedding(t: np.ndarray, dim: int) -> np.ndarray:
    """Sinusoidal embedding of integer steps t (N,) -> (N, dim): sin and cos of t at
    geometrically spaced frequencies 1 .. 1/10000, as the Transformer's positions."""
    half = dim // 2
    freqs = np.exp(-math.log(10000.0) * np.arange(half) / half)
    args = np.asarray(t, dtype=np.float64)[:, None] * freqs[None]
    return np.concatenate([np.sin(args), np.cos(args)], axis=1).astype(np.float32)


def _silu(x: Tensor) -> Tensor:
    return x * F.sigmoid(x)


class _ResBlock(nn.Module):
    """GroupNorm, SiLU, 3x3 conv, plus the projected time embedding; GroupNorm, SiLU, 3x3 conv;
    added to the input (through a 1x1 conv when the width changes)."""

    def __init__(self, cin: int, cout: int, temb: int):
        super().__init__()
        self.norm1 = nn.GroupNorm(8, cin)
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.time = nn.Linear(temb, cout)
        self.norm2 = nn.GroupNorm(8, cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else nn.Identity()

    def forward(self, x: Tensor, temb: Tensor) -> Tensor:
        h = self.conv1(_silu(self.norm1(x)))
        h = h + self.time(temb).reshape(temb.shape[0], -1, 1, 1)
        h = self.conv2(_silu(self.norm2(h)))
        return self.skip(x) + h


class UNet(nn.Module):
    """A small U-Net for eps-prediction: two resolutions down (stride-2 convolutions), a
    middle block, two up (nearest upsampling), each level's features concatenated into the
    way up (the skip connections), every residual block told the step through a sinusoidal
    embedding and an MLP. Input (N, C, H, W) with H and W divisible by 4 and steps t (N,)."""

    def __init__(self, channels: int = 1, width: int = 32, temb: int = 128):
        super().__init__()
        w1, w2 = width, 2 * width
        self.temb_dim = temb
        self.time_mlp = nn.Sequential(nn.Linear(temb, temb), nn.GELU(), nn.Linear(temb, temb))
        self.inp = nn.Conv2d(channels, w1, 3, padding=1)
        self.down1 = _ResBlock(w1, w1, temb)
        self.pool1 = nn.Conv2d(w1, w1, 3, stride=2, padding=1)
        self.down2 = _ResBlock(w1, w2, temb)
        self.pool2 = nn.Conv2d(w2, w2, 3, stride=2, padding=1)
        self.mid = _ResBlock(w2, w2, temb)
        self.up2 = _ResBlock(w2 + w2, w2, temb)
        self.up1 = _ResBlock(w2 + w1, w1, temb)
        self.norm = nn.GroupNorm(8, w1)
        self.out = nn.Conv2d(w1, channels, 3, padding=1)

    def forward(self, x: Tensor, t) -> Tensor:
        if x.shape[2] % 4 or x.shape[3] % 4:
            raise ValueError(f"UNet: height and width must be divisible by 4, got shape "
                             f"{tuple(x.shape)}")
        t = t.array if isinstance(t, Tensor) else np.asarray(t)
        temb = self.time_mlp(Tensor(timestep_embedding(t, self.temb_dim)))
        h1 = self.down1(self.inp(x), temb)
        h2 = self.down2(self.pool1(h1), temb)
        h = self.mid(self.pool2(h2), temb)
        h = self.up2(F.cat([F.interpolate(h, scale_factor=2, mode="nearest"), h2], 1), temb)
        h = self.up1(F.cat([F.interpolate(h, scale_factor=2, mode="nearest"), h1], 1), temb)
        return self.out(_silu(self.norm(h)))


class DDPM(nn.Module):
    """A U-Net with its noise schedule: ``loss(x0)`` for training, ``sample`` (ancestral) and
    ``ddim_sample`` for generation. Steps are 0-based: t = 0 .. T-1."""

    def __init__(self, shape=(1, 8, 8), T: int = 1000, schedule: str = "linear",
                 width: int = 32):
        super().__init__()
        if schedule not in ("linear", "cosine"):
            raise ValueError(f"DDPM: schedule must be 'linear' or 'cosine', got {schedule!r}")
        self.shape = tuple(shape)
        self.T = T
        self.schedule = schedule
        self.betas = linear_betas(T) if schedule == "linear" else cosine_betas(T)
        self.alphas_bar = np.cumprod(1 - self.betas)
        self.net = UNet(self.shape[0], width)

    def q_sample(self, x0: np.ndarray, t: np.ndarray, eps: np.ndarray) -> np.ndarray:
        """x_t = sqrt(abar_t) x0 + sqrt(1 - abar_t) eps, drawn in one step."""
        ab = self.alphas_bar[t].reshape(-1, 1, 1, 1)
        return (np.sqrt(ab) * x0 + np.sqrt(1 - ab) * eps).astype(x0.dtype)

    def loss(self, x0: Tensor, rng=None) -> Tensor:
        """The simplified objective: ||eps - eps_theta(x_t, t)||^2 at a uniform random step
        per image (mean over pixels and batch)."""
        rng = backend.get_rng() if rng is None else rng
        a = x0.array
        t = rng.integers(0, self.T, size=len(a))
        eps = rng.standard_normal(a.shape).astype(a.dtype)
        return F.mse_loss(self.net(Tensor(self.q_sample(a, t, eps)), t), Tensor(eps))

    def _eps(self, x: np.ndarray, t: int) -> np.ndarray:
        return self.net(Tensor(x), np.full(len(x), t)).array.astype(np.float64)

    def sample(self, n: int, rng=None, noise: np.ndarray | None = None) -> np.ndarray:
        """Ancestral sampling: x_{t-1} = (x_t - beta_t / sqrt(1 - abar_t) eps) / sqrt(alpha_t)
        + sqrt(beta_t) z, from t = T-1 down to 0 (no noise at the last step). Returns
        (n, *shape) in [-1, 1]."""
        rng = backend.get_rng() if rng is None else rng
        x = rng.standard_normal((n, *self.shape)) if noise is None else np.array(noise, float)
        with no_grad():
            for t in range(self.T - 1, -1, -1):
                b, ab = self.betas[t], self.alphas_bar[t]
                x = (x - b / math.sqrt(1 - ab) * self._eps(x.astype(np.float32), t)) \
                    / math.sqrt(1 - b)
                if t > 0:
                    x = x + math.sqrt(b) * rng.standard_normal(x.shape)
        return np.clip(x, -1, 1).astype(np.float32)

    def ddim_sample(self, n: int, steps: int = 50, rng=None,
                    noise: np.ndarray | None = None) -> np.ndarray:
        """DDIM with eta = 0 over ``steps`` evenly spaced steps: predict x0 from eps, then move
        to the previous kept step along the same noise direction (deterministic given the
        starting noise, which makes latent interpolation possible)."""
        if not 1 <= steps <= self.T:
            raise ValueError(f"ddim_sample: steps must be in 1..{self.T}, got {steps}")
        rng = backend.get_rng() if rng is None else rng
        x = rng.standard_normal((n, *self.shape)) if noise is None else np.array(noise, float)
        ts = np.unique(np.linspace(0, self.T - 1, steps).round().astype(int))[::-1]
        with no_grad():
            for i, t in enumerate(ts):
                ab = self.alphas_bar[t]
                ab_prev = self.alphas_bar[ts[i + 1]] if i + 1 < len(ts) else 1.0
                eps = self._eps(x.astype(np.float32), int(t))
                x0 = np.clip((x - math.sqrt(1 - ab) * eps) / math.sqrt(ab), -1, 1)
                x = math.sqrt(ab_prev) * x0 + math.sqrt(1 - ab_prev) * eps
        return np.clip(x, -1, 1).astype(np.float32)
