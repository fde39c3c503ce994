"""DDPM: the schedules against their formulas, the forward process, the U-Net, the loss, and
both samplers on a network whose answer is known."""

import math

import numpy as np
import pytest

import striate
from striate.generative import DDPM, UNet, cosine_betas, linear_betas, timestep_embedding


def test_linear_schedule():
    b = linear_betas(1000)
    assert b[0] == pytest.approx(1e-4) and b[-1] == pytest.approx(0.02)
    np.testing.assert_allclose(np.diff(b), (0.02 - 1e-4) / 999, rtol=1e-9)


def test_cosine_schedule_gives_the_cosine_alpha_bar():
    T, s = 100, 0.008
    abar = np.cumprod(1 - cosine_betas(T))
    t = np.arange(1, T + 1) / T
    want = np.cos((t + s) / (1 + s) * math.pi / 2) ** 2 / math.cos(s / (1 + s) * math.pi / 2) ** 2
    # equal until the clipped last steps
    np.testing.assert_allclose(abar[:-2], want[:-2], rtol=1e-9, atol=1e-12)
    assert cosine_betas(T).max() <= 0.999


def test_timestep_embedding():
    e = timestep_embedding(np.array([0, 5]), 8)
    assert e.shape == (2, 8)
    np.testing.assert_allclose(e[0], [0, 0, 0, 0, 1, 1, 1, 1])
    freqs = np.exp(-math.log(10000) * np.arange(4) / 4)
    np.testing.assert_allclose(e[1], np.r_[np.sin(5 * freqs), np.cos(5 * freqs)], rtol=1e-6)


def test_q_sample_has_the_forward_process_moments(rng):
    m = DDPM(T=100, width=8)
    t = np.full(20000, 60)
    x0 = np.full((20000, 1, 1, 1), 0.5)
    x = m.q_sample(x0, t, rng.standard_normal(x0.shape))
    ab = np.prod(1 - linear_betas(100)[:61])
    assert x.mean() == pytest.approx(0.5 * math.sqrt(ab), abs=0.02)
    assert x.var() == pytest.approx(1 - ab, rel=0.05)


def test_unet_shapes_time_dependence_and_gradients(rng):
    net = UNet(channels=1, width=8, temb=16)
    x = striate.tensor(rng.standard_normal((2, 1, 8, 8)).astype(np.float32))
    a, b = net(x, np.array([1, 1])), net(x, np.array([1, 900]))
    assert a.shape == (2, 1, 8, 8)
    np.testing.assert_allclose(a.array[0], b.array[0], rtol=1e-5, atol=1e-6)
    assert np.abs(a.array[1] - b.array[1]).max() > 1e-4  # the step changes the answer
    net(x, np.array([3, 4])).sum().backward()
    for name, p in net.named_parameters():
        assert p.grad is not None, name
    with pytest.raises(ValueError, match="UNet: height and width must be divisible by 4"):
        net(striate.zeros(1, 1, 6, 6), np.array([0]))


def test_loss_is_the_eps_prediction_error(rng):
    m = DDPM(T=50, width=8)
    x0 = striate.tensor(rng.uniform(-1, 1, (3, 1, 8, 8)).astype(np.float32))
    loss = m.loss(x0, np.random.default_rng(7))
    r = np.random.default_rng(7)
    t = r.integers(0, 50, size=3)
    eps = r.standard_normal((3, 1, 8, 8)).astype(np.float32)
    pred = m.net(striate.tensor(m.q_sample(x0.array, t, eps)), t).array
    assert loss.item() == pytest.approx(((pred - eps) ** 2).mean(), rel=1e-5)
    with pytest.raises(ValueError, match="DDPM: schedule must be 'linear' or 'cosine'"):
        DDPM(schedule="quadratic")


class _Oracle(striate.nn.Module):
    """The exact eps-predictor when every training image is the constant c: from x_t, the
    noise is (x_t - sqrt(abar_t) c) / sqrt(1 - abar_t)."""

    def __init__(self, abar, c):
        super().__init__()
        self.abar, self.c = abar, c

    def forward(self, x, t):
        ab = self.abar[np.asarray(t)].reshape(-1, 1, 1, 1)
        return striate.tensor(((x.array - np.sqrt(ab) * self.c) / np.sqrt(1 - ab))
                              .astype(np.float32))


@pytest.mark.parametrize("schedule", ["linear", "cosine"])
def test_both_samplers_recover_the_data_with_the_exact_denoiser(schedule):
    m = DDPM(T=200, schedule=schedule, width=8)
    m.net = _Oracle(m.alphas_bar, 0.3)
    rng = np.random.default_rng(0)
    np.testing.assert_allclose(m.ddim_sample(4, 20, rng), 0.3, atol=1e-4)
    np.testing.assert_allclose(m.sample(4, rng), 0.3, atol=0.05)
    with pytest.raises(ValueError, match=r"ddim_sample: steps must be in 1..200, got 0"):
        m.ddim_sample(1, 0)


def test_ddim_is_deterministic_given_the_noise():
    m = DDPM(T=30, width=8)
    noise = np.random.default_rng(1).standard_normal((2, 1, 8, 8))
    np.testing.assert_array_equal(m.ddim_sample(2, 5, noise=noise),
                                  m.ddim_sample(2, 5, noise=noise))
