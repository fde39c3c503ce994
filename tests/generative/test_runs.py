"""The shared training loop: every kind trains an epoch into a run folder; resuming repeats an
uninterrupted run exactly."""

import json

import numpy as np
import pytest

import striate
from striate.data import digits
from striate.data.datasets import DatasetSplits, Split
from striate.generative import KINDS, load_run, make_grid, train_run
from striate.train import load

# the smallest settings of each kind (the GANs' networks are the notebook's, fixed)
TINY = {"ae": {"code_dim": 4, "probe_steps": 5, "probe_draws": 1},
        "vae": {"hidden": 16, "latent_dim": 2, "probe_steps": 5, "probe_draws": 1},
        "gan": {"noise_dim": 8}, "lsgan": {"noise_dim": 8}, "dcgan": {"noise_dim": 8},
        "pixelcnn": {"channels": 8, "blocks": 1}, "pixelrnn": {"hidden": 8},
        "ddpm": {"T": 20, "width": 8, "ddim_steps": 4, "grid_steps": 3}}


@pytest.fixture(scope="module")
def small():
    d = digits()
    k = 64
    return DatasetSplits("digits", Split(d.train.X[:k], d.train.y[:k]),
                         Split(d.val.X[:16], d.val.y[:16]), Split(d.test.X[:32], d.test.y[:32]),
                         d.classes, d.input_shape)


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_trains_into_a_run_folder(kind, small, tmp_path):
    out = tmp_path / kind
    summary = train_run(kind, small, str(out), epochs=1, batch_size=32, progress=False,
                        log=lambda m: None, **TINY[kind])
    for name in ("config.json", "metrics.csv", "loss.png", "samples.png",
                 "samples_epoch001.png", "checkpoint_last.npz", "summary.json"):
        assert (out / name).exists(), name
    assert json.loads((out / "config.json").read_text())["kind"] == kind
    assert summary["epoch"] == 1 and np.isfinite(summary["seconds"])
    task, ckpt = load_run(str(out))
    assert ckpt["kind"] == kind and ckpt["epoch"] == 1
    if kind in ("pixelcnn", "pixelrnn"):
        assert summary["test_bits_per_dim"] > 0 and summary["baseline_bits_per_dim"] > 0
        with pytest.raises(ValueError, match=f"a {kind} model has no latent space"):
            task.interpolate(2, 3, small.test.X, np.random.default_rng(0))
    else:
        x = task.interpolate(2, 3, small.test.X, np.random.default_rng(0))
        assert x.shape == (6, 1, 8, 8) and 0 <= x.min() and x.max() <= 1
    if kind in ("ae", "vae"):  # the 100-label experiment on the encoder (a VAE's mean)
        assert {"frozen_acc", "finetuned_acc", "scratch_acc"} <= set(summary)
    if kind == "ae":
        with pytest.raises(ValueError, match="an autoencoder has no prior"):
            task.sample(4, np.random.default_rng(0))
    else:
        x = task.sample(5, np.random.default_rng(0))
        assert x.shape == (5, 1, 8, 8) and 0 <= x.min() and x.max() <= 1


def test_resume_repeats_the_uninterrupted_run(small, tmp_path):
    opts = dict(batch_size=32, progress=False, log=lambda m: None, hidden=16, latent_dim=2,
                probe_steps=5, probe_draws=1)
    train_run("vae", small, str(tmp_path / "a"), epochs=2, **opts)
    train_run("vae", small, str(tmp_path / "b"), epochs=1, **opts)
    train_run("vae", small, str(tmp_path / "b"), epochs=2, resume=True, progress=False,
              log=lambda m: None)
    a, b = (load(str(tmp_path / p / "checkpoint_last.npz")) for p in "ab")
    assert b["epoch"] == 2 and len(b["history"]) == 2
    for k, v in a["state"]["modules"]["model"].items():
        np.testing.assert_array_equal(np.asarray(b["state"]["modules"]["model"][k]),
                                      np.asarray(v), err_msg=k)


def test_pretraining_seeds_share_the_100_label_draws(small, tmp_path, monkeypatch):
    # a run's seed changes the pretraining, not the labels: the runs of two seeds are compared
    # on the same draws (seeds 0, 1, ...), against the same network from scratch
    from striate.generative import features

    seeds, few = [], features.few_labels
    monkeypatch.setattr(features, "few_labels",
                        lambda y, k, seed=0: seeds.append(seed) or few(y, k, seed))
    opts = dict(batch_size=32, progress=False, log=lambda m: None, hidden=16, latent_dim=2,
                probe_steps=5, probe_draws=2)
    a, b = (train_run("vae", small, str(tmp_path / str(s)), epochs=1, seed=s, **opts)
            for s in (0, 3))
    assert seeds == [0, 1, 0, 1] and a["draws"] == b["draws"] == 2
    assert a["scratch_accs"] == b["scratch_accs"]


def test_bad_options_and_runs(small, tmp_path):
    with pytest.raises(ValueError, match="train_run: vae has no option noise_dim"):
        train_run("vae", small, str(tmp_path / "x"), epochs=1, noise_dim=3)
    with pytest.raises(ValueError, match="kind must be one of ae, vae"):
        train_run("flow", small, str(tmp_path / "y"), epochs=1)
    with pytest.raises(FileNotFoundError, match="no generative run"):
        load_run(str(tmp_path))


def test_make_grid_tiles_in_rows():
    imgs = np.stack([np.full((1, 2, 2), v) for v in (0.0, 0.25, 0.5, 1.0, 0.75)])
    g = make_grid(imgs, nrow=2, pad=1)
    assert g.shape == (1, 3 * 3 + 1, 2 * 3 + 1)
    assert g[0, 1, 1] == 0.0 and g[0, 1, 4] == 0.25 and g[0, 4, 1] == 0.5 and g[0, 7, 1] == 0.75
    assert g[0, 7, 4] == 0.5  # the empty slot stays grey


def test_label_samples_counts_the_top_classes():
    from striate.generative import label_samples

    class Fixed(striate.nn.Module):
        # class = the image's mean pixel bucket; logits 0 except 2.0 for that class
        def forward(self, x):
            k = np.minimum((x.array.mean((1, 2, 3)) * 4).astype(int), 3)
            z = np.zeros((len(k), 4))
            z[np.arange(len(k)), k] = 2.0
            return striate.tensor(z)

    x = np.concatenate([np.full((3, 1, 2, 2), 0.1), np.full((1, 1, 2, 2), 0.9)])
    r = label_samples(Fixed(), x, num_classes=4)
    assert r["class_counts"] == [3, 0, 0, 1] and r["top_class"] == 0
    assert r["top_class_share"] == 0.75
    assert r["mean_confidence"] == pytest.approx(np.exp(2) / (np.exp(2) + 3))
