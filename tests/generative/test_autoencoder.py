"""Autoencoders and the VAE: the ELBO's parts against their formulas, gradients, and the
feature experiment's mechanics."""

import math

import numpy as np
import pytest

import striate
from striate.data import digits
from striate.generative import VAE, Autoencoder, ConvAutoencoder, few_labels
from striate.generative.features import (
    ARMS,
    feature_encoder,
    feature_experiment,
    paired_difference,
    probe_networks,
)


def _binary(rng, n=4):
    return striate.tensor((rng.random((n, 1, 8, 8)) > 0.5).astype(np.float32))


def test_elbo_is_reconstruction_minus_closed_form_kl(rng):
    vae = VAE(latent_dim=3, hidden=16)
    x = _binary(rng)
    striate.manual_seed(5)
    elbo = vae.elbo(x).array
    # the same terms by hand: z = mu + sigma * eps with the same eps, Bernoulli log-likelihood
    # of the decoder's logits, KL(N(mu, s^2) || N(0, 1)) = sum (s^2 + mu^2 - 1 - log s^2) / 2
    h = vae.encoder(x)
    mu, logvar = vae.mu(h).array.astype(np.float64), vae.logvar(h).array.astype(np.float64)
    striate.manual_seed(5)
    eps = striate.randn(*mu.shape).array
    z = mu + np.exp(0.5 * logvar) * eps
    logits = vae.decoder(striate.tensor(z.astype(np.float32))).array.astype(np.float64)
    t = x.array.reshape(len(x.array), -1)
    rec = (t * logits - np.logaddexp(0, logits)).sum(1)
    kl = 0.5 * (np.exp(logvar) + mu ** 2 - 1 - logvar).sum(1)
    np.testing.assert_allclose(elbo, rec - kl, rtol=1e-4, atol=1e-4)


def test_gaussian_decoder_log_likelihood(rng):
    vae = VAE(latent_dim=2, hidden=8, likelihood="gaussian")
    x = striate.tensor(rng.random((3, 1, 8, 8)).astype(np.float32))
    z = striate.tensor(rng.standard_normal((3, 2)).astype(np.float32))
    mean = vae.decoder(z).array.astype(np.float64)
    s = np.exp(vae.log_scale.array.astype(np.float64))
    want = (-(x.array.reshape(3, -1) - mean) ** 2 / (2 * s ** 2) - np.log(s)
            - 0.5 * math.log(2 * math.pi)).sum(1)
    np.testing.assert_allclose(vae.decode(z).log_prob(x.reshape(3, -1)).array, want,
                               rtol=1e-4, atol=1e-3)


def test_vae_gradients_reach_every_parameter_through_the_sample(rng):
    for likelihood in ("bernoulli", "gaussian"):
        vae = VAE(latent_dim=2, hidden=8, likelihood=likelihood)
        vae.loss(_binary(rng)).backward()
        for name, p in vae.named_parameters():
            assert p.grad is not None and np.abs(p.grad.array).sum() > 0, name


def test_vae_elbo_gradient_matches_finite_differences(rng):
    # float64, the noise fixed by reseeding: the ELBO is then a deterministic function of the
    # encoder's mean weights, and its gradient must match centred differences
    striate.set_default_dtype(np.float64)
    try:
        vae = VAE(latent_dim=2, hidden=6)
        x = striate.tensor((rng.random((3, 1, 8, 8)) > 0.5).astype(np.float64))
        w = vae.mu.weight

        def f():
            striate.manual_seed(1)
            return vae.loss(x)

        loss = f()
        loss.backward()
        g = w.grad.array.copy()
        num = np.zeros_like(g)
        for idx in [(0, 0), (1, 3), (0, 5)]:
            old = w.array[idx]
            w.array[idx] = old + 1e-6
            up = f().item()
            w.array[idx] = old - 1e-6
            down = f().item()
            w.array[idx] = old
            num[idx] = (up - down) / 2e-6
            np.testing.assert_allclose(g[idx], num[idx], rtol=1e-5, atol=1e-7)
    finally:
        striate.set_default_dtype(np.float32)


def test_autoencoders_shapes_and_loss(rng):
    x = striate.tensor(rng.random((5, 1, 8, 8)).astype(np.float32))
    for ae in (Autoencoder(code_dim=4), ConvAutoencoder(code_dim=4)):
        assert ae.encode(x).shape == (5, 4) and ae(x).shape == (5, 1, 8, 8)
        want = ((ae(x).array - x.array) ** 2).sum() / 5
        np.testing.assert_allclose(ae.loss(x).item(), want, rtol=1e-5)
    with pytest.raises(ValueError, match="ConvAutoencoder: height and width must be even"):
        ConvAutoencoder((1, 7, 7))
    with pytest.raises(ValueError, match="VAE: likelihood must be 'bernoulli' or 'gaussian'"):
        VAE(likelihood="poisson")


def test_few_labels_takes_each_class_equally():
    y = np.repeat(np.arange(10), 30)
    idx = few_labels(y, 10, seed=0)
    assert len(idx) == 100 and np.all(np.bincount(y[idx]) == 10)


def test_probe_networks_differ_only_in_the_encoders_start_and_what_trains():
    ae = ConvAutoencoder(code_dim=4, width=4)
    nets = probe_networks(ae, 10, seed=3)
    pre = {k: v.array for k, v in ae.encoder.state_dict().items()}
    for arm in ("frozen", "finetuned"):  # the pretrained weights, copied
        enc = nets[arm][0]
        assert enc is not ae.encoder
        for k, v in enc.state_dict().items():
            np.testing.assert_array_equal(v.array, pre[k])
    # from scratch: the same architecture, every weight drawn afresh
    for k, v in nets["scratch"][0].state_dict().items():
        assert v.shape == pre[k].shape and not np.array_equal(v.array, pre[k]), k
    # the frozen encoder does not train; the two others do, whole
    assert not any(p.requires_grad for p in nets["frozen"][0].parameters())
    assert all(p.requires_grad for p in nets["finetuned"].parameters())
    assert all(p.requires_grad for p in nets["scratch"].parameters())
    # one classifier head, the same initial weights in every arm
    heads = [{k: v.array for k, v in nets[a][1].state_dict().items()} for a in ARMS]
    for h in heads[1:]:
        for k in h:
            np.testing.assert_array_equal(h[k], heads[0][k])


def test_feature_experiment_trains_every_arm_on_each_draw_of_the_labels(monkeypatch):
    from striate.generative import features

    data = digits()
    ae = Autoencoder(code_dim=8, hidden=32)
    before = {k: np.array(v.array) for k, v in ae.state_dict().items()}
    seen = []
    fit = features._fit

    def spy(model, X, y, steps, lr):
        seen.append((np.bincount(y, minlength=10).tolist(), X.sum(), steps, lr))
        fit(model, X, y, steps, lr)

    monkeypatch.setattr(features, "_fit", spy)
    out = feature_experiment(ae, data, labels=50, steps=30, lr=1e-2, draws=2)
    # two draws, three arms each; an arm's three fits share the draw's 50 labels (5 a class),
    # the steps and the learning rate; the two draws differ
    assert len(seen) == 6 and all(s[0] == [5] * 10 and s[2:] == (30, 1e-2) for s in seen)
    assert seen[0][1] == seen[1][1] == seen[2][1] != seen[3][1] == seen[4][1] == seen[5][1]
    assert out["labels"] == 50 and out["draws"] == 2
    for arm in ARMS:  # the reported accuracy is the mean over the draws
        assert len(out[f"{arm}_accs"]) == 2
        np.testing.assert_allclose(out[f"{arm}_acc"], np.mean(out[f"{arm}_accs"]))
    # the networks that trained end to end learn from 50 labels (chance is 10%) ...
    assert min(out["scratch_accs"] + out["finetuned_accs"]) > 0.3
    # ... and the experiment trains copies: the autoencoder itself is untouched
    for k, v in ae.state_dict().items():
        np.testing.assert_array_equal(v.array, before[k])
    with pytest.raises(ValueError, match="feature_experiment: draws must be at least 1"):
        feature_experiment(ae, data, draws=0)


def test_vae_features_are_the_encoder_mean_under_the_same_protocol(rng, monkeypatch):
    from striate.generative import features

    vae = VAE(latent_dim=3, hidden=16)
    # the code the classifier reads is the mean of q(z|x): no sampling noise
    enc, dim = feature_encoder(vae)
    x = striate.tensor(rng.random((5, 1, 8, 8)).astype(np.float32))
    assert dim == 3
    np.testing.assert_allclose(enc(x).array, vae.encode(x).mean.array, rtol=1e-6, atol=1e-7)
    # the arms hold copies of the encoder trunk and the mean head, and nothing else (logvar and
    # the decoder stay behind); scratch is that architecture re-initialised; one head init
    pre = {k: v.array for k, v in enc.state_dict().items()}
    nets = probe_networks(vae, 10, seed=2)
    for arm in ARMS:
        got = nets[arm][0].state_dict()
        assert set(got) == set(pre)
        same = [np.array_equal(got[k].array, pre[k]) for k in pre]
        assert all(same) if arm != "scratch" else not any(same)
    assert not any(p.requires_grad for p in nets["frozen"][0].parameters())
    assert all(p.requires_grad for p in nets["finetuned"].parameters())
    for k, v in nets["scratch"][1].state_dict().items():
        np.testing.assert_array_equal(v.array, nets["frozen"][1].state_dict()[k].array)
    # the experiment on a VAE: every arm's fit sees the draw's labels, steps and rate, and the
    # reported differences are the paired per-draw ones
    seen = []
    fit = features._fit

    def spy(model, X, y, steps, lr):
        seen.append((X.sum(), steps, lr))
        fit(model, X, y, steps, lr)

    monkeypatch.setattr(features, "_fit", spy)
    out = feature_experiment(vae, digits(), labels=30, steps=4, lr=1e-2, draws=3)
    assert len(seen) == 9 and all(s[1:] == (4, 1e-2) for s in seen)
    assert all(seen[3 * d][0] == seen[3 * d + 1][0] == seen[3 * d + 2][0] for d in range(3))
    for arm in ("frozen", "finetuned"):
        diff = np.subtract(out[f"{arm}_accs"], out["scratch_accs"])
        np.testing.assert_allclose(out[f"{arm}_minus_scratch"]["mean"], diff.mean(),
                                   rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(out[f"{arm}_minus_scratch"]["standard_error"],
                                   diff.std(ddof=1) / math.sqrt(3), rtol=1e-12, atol=1e-12)
    assert paired_difference([0.5], [0.25]) == {"mean": 0.25, "standard_error": None}


def test_discretized_gaussian_is_a_distribution_over_the_levels(rng):
    from scipy.special import ndtr

    from striate.generative import discretized_gaussian_log_prob

    levels = 17
    grid = np.arange(levels) / (levels - 1)
    # means inside and outside [0, 1], scales below and above a bin's width (1/16)
    mean = rng.uniform(-0.3, 1.3, 40)
    scale = np.exp(rng.uniform(np.log(0.01), np.log(2.0), 40))
    # every level of one pixel, one row each: the probabilities of the 17 levels sum to one
    logp = np.stack([discretized_gaussian_log_prob(np.full((40, 1), g), mean[:, None],
                                                   scale[:, None], levels) for g in grid], 1)
    np.testing.assert_allclose(np.exp(logp).sum(1), 1.0, rtol=1e-10, atol=1e-12)
    # each a difference of two normal CDFs (the end bins open to -inf and +inf)
    h = 0.5 / (levels - 1)
    lo = np.where(grid == 0, -np.inf, grid - h)
    hi = np.where(grid == 1, np.inf, grid + h)
    with np.errstate(divide="ignore"):  # far tails: the plain difference is 0
        want = np.log(ndtr((hi - mean[:, None]) / scale[:, None])
                      - ndtr((lo - mean[:, None]) / scale[:, None]))
    ok = want > -15  # where the plain difference of CDFs near 1 still has digits to compare
    np.testing.assert_allclose(logp[ok], want[ok], rtol=1e-7, atol=1e-9)
    assert np.all(np.isfinite(logp))  # the far tails too


def test_gaussian_vae_discretized_elbo_is_the_binned_likelihood_minus_kl(rng):
    from striate.distributions import kl_divergence
    from striate.generative import discretized_gaussian_log_prob

    vae = VAE(latent_dim=2, hidden=8, likelihood="gaussian")
    x = striate.tensor((rng.integers(0, 17, (3, 1, 8, 8)) / 16).astype(np.float32))
    striate.manual_seed(3)
    got = vae.discretized_elbo(x, 17)
    striate.manual_seed(3)
    q = vae.encode(x)
    p = vae.decode(q.rsample()).base_dist
    rec = discretized_gaussian_log_prob(x.array.reshape(3, -1), p.loc.array, p.scale.array, 17)
    np.testing.assert_allclose(got, rec - kl_divergence(q, vae.prior(3)).array, rtol=1e-6)
    # a probability of 64 pixels: below zero, unlike the density's ELBO
    assert np.all(got < 0)
    with pytest.raises(ValueError, match="discretized_elbo: needs the Gaussian decoder"):
        VAE(latent_dim=2, hidden=8).discretized_elbo(x, 17)
