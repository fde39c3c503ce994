"""The GAN notebook's functions: its published check values, parameter counts, and gradients."""

from pathlib import Path

import numpy as np
import pytest
import striate.nn.functional as F
from opcheck import check_op

import striate
from striate.generative import (
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

ROOT = Path(__file__).resolve().parents[2]
# the course's file sits in ../shared beside the repository (a worktree under wt/ looks one up)
CHECKS = next((p for p in (ROOT / "../shared/cs231n-checks/gan-checks.npz",
                           ROOT / "../../shared/cs231n-checks/gan-checks.npz") if p.exists()),
              ROOT / "../shared/cs231n-checks/gan-checks.npz")


@pytest.fixture(scope="module")
def answers():
    if not CHECKS.exists():
        pytest.skip(f"the course's check file is not at {CHECKS}")
    with np.load(CHECKS) as f:
        return {k: f[k] for k in f.files}


def _count(model) -> int:
    return sum(p.numel() for p in model.parameters())


def test_losses_reproduce_the_notebooks_check_values(answers):
    real, fake = striate.tensor(answers["logits_real"]), striate.tensor(answers["logits_fake"])
    for got, key in ((discriminator_loss(real, fake), "d_loss_true"),
                     (generator_loss(fake), "g_loss_true"),
                     (ls_discriminator_loss(real, fake), "d_loss_lsgan_true"),
                     (ls_generator_loss(fake), "g_loss_lsgan_true")):
        np.testing.assert_allclose(got.item(), answers[key], rtol=1e-7, atol=1e-10, err_msg=key)


def test_leaky_relu_reproduces_the_notebooks_check(answers):
    y = F.leaky_relu(striate.tensor(answers["lrelu_x"]), 0.01)
    np.testing.assert_allclose(y.array, answers["lrelu_y"], rtol=1e-7, atol=1e-10)


def test_parameter_counts_are_the_notebooks():
    # the counts the notebook's test_discriminator / test_generator / test_build_dc_classifier
    # / test_build_dc_generator cells check (GANs-PyTorch.ipynb, generator(4) and
    # build_dc_generator(4) as the notebook calls them)
    assert _count(discriminator()) == 267009
    assert _count(generator(4)) == 1858320
    assert _count(build_dc_classifier()) == 1102721
    assert _count(build_dc_generator(4)) == 6580801


def test_architectures_match_pytorch_layer_for_layer(torch):
    nn = torch.nn
    dc = nn.Sequential(
        nn.Unflatten(1, (1, 28, 28)), nn.Conv2d(1, 32, 5), nn.LeakyReLU(0.01), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 5), nn.LeakyReLU(0.01), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(1024, 1024), nn.LeakyReLU(0.01), nn.Linear(1024, 1))
    ours = build_dc_classifier()
    ours.load_state_dict({k: v.detach().numpy() for k, v in dc.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((3, 784)).astype(np.float32)
    np.testing.assert_allclose(ours(striate.tensor(x)).array,
                               dc(torch.tensor(x)).detach().numpy(), atol=1e-5, rtol=1e-4)
    g = build_dc_generator(4)
    assert [tuple(p.shape) for p in g.parameters()] == [
        (1024, 4), (1024,), (1024,), (1024,), (6272, 1024), (6272,), (6272,), (6272,),
        (128, 64, 4, 4), (64,), (64,), (64,), (64, 1, 4, 4), (1,)]


@pytest.mark.parametrize("image_size", [8, 28])
def test_shapes(image_size):
    d = image_size ** 2
    z = sample_noise(5, 7)
    for gen in (generator(7, image_size), build_dc_generator(7, image_size)):
        x = gen(z)
        assert x.shape == (5, d) and float(abs(x.array).max()) <= 1
    for disc in (discriminator(image_size), build_dc_classifier(image_size)):
        assert disc(striate.randn(5, d)).shape == (5, 1)


def test_sample_noise():
    z = sample_noise(1000, 3)
    assert z.shape == (1000, 3) and z.dtype == np.float32
    assert -1 <= z.array.min() < -0.9 and 0.9 < z.array.max() < 1
    np.testing.assert_array_equal(sample_noise(4, 2, seed=3).array,
                                  sample_noise(4, 2, seed=3).array)
    with pytest.raises(ValueError, match="sample_noise: dim must be a positive int, got 0"):
        sample_noise(4, 0)
    with pytest.raises(ValueError, match="discriminator: image_size must be 28"):
        discriminator(32)


def test_losses_gradients_and_pytorch(rng, tF):
    real, fake = rng.standard_normal((6, 1)), rng.standard_normal((6, 1))
    zeros = np.zeros((6, 1))
    check_op(discriminator_loss, [real, fake],
             lambda r, f: tF.binary_cross_entropy_with_logits(r, r.detach() * 0 + 1)
             + tF.binary_cross_entropy_with_logits(f, f.detach() * 0))
    check_op(generator_loss, [fake],
             lambda f: tF.binary_cross_entropy_with_logits(f, f.detach() * 0 + 1))
    check_op(lambda f: bce_loss(f, striate.tensor(zeros)), [fake],
             lambda f: tF.binary_cross_entropy_with_logits(f, f.detach() * 0))
    check_op(ls_discriminator_loss, [real, fake],
             lambda r, f: 0.5 * ((r - 1) ** 2).mean() + 0.5 * (f ** 2).mean())
    check_op(ls_generator_loss, [fake], lambda f: 0.5 * ((f - 1) ** 2).mean())
    # the minimax generator loss is log(1 - D(G(z))): its gradient vanishes as D(G(z)) -> 0
    check_op(minimax_generator_loss, [fake], lambda f: tF.logsigmoid(-f).mean())


def test_non_saturating_loss_has_the_larger_gradient_where_the_generator_loses():
    logits = striate.tensor(np.full((4, 1), -6.0), requires_grad=True)  # D(G(z)) ~ 0.0025
    minimax_generator_loss(logits).backward()
    g_minimax = float(abs(logits.grad.array).max())
    logits.grad = None
    generator_loss(logits).backward()
    assert float(abs(logits.grad.array).max()) > 100 * g_minimax
