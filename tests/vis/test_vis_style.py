"""The course's style-transfer losses: its TV check value, the formulas against PyTorch, and the
extractors (random, VGG from a torchvision-shaped state dict)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from opcheck import check_op

import striate
from striate import nn, vis

ROOT = Path(__file__).resolve().parents[2]
# the course's files sit in ../shared beside the repository (one level further up from a
# worktree under wt/)
CHECKS = next((p for p in (ROOT / "../shared/cs231n-checks", ROOT / "../../shared/cs231n-checks")
               if p.is_dir()), ROOT / "../shared/cs231n-checks")


def test_tv_loss_reproduces_the_course_check_value():
    # the notebook: tubingen.jpg resized to 192 (shorter side), ImageNet mean/std, tv_weight 2e-2
    answers = np.load(CHECKS / "style-transfer-checks.npz")
    img = vis.preprocess(vis.load_image(CHECKS / "tubingen.jpg", size=192))
    assert img.shape == (1, 3, 192, 256)
    out = float(vis.tv_loss(striate.tensor(img), 2e-2))
    np.testing.assert_allclose(out, float(answers["tv_out"]), rtol=1e-5, atol=1e-3)


def _torch_gram(t, normalize=True):
    n, c, h, w = t.shape
    f = t.reshape(n, c, h * w)
    g = f @ f.transpose(1, 2)
    return g / (c * h * w) if normalize else g


def test_gram_matrix_against_torch_and_gradient(rng):
    x = rng.standard_normal((2, 3, 4, 5))
    out = check_op(lambda t: vis.gram_matrix(t), [x], lambda t: _torch_gram(t))
    f = x.reshape(2, 3, 20)
    np.testing.assert_allclose(out, f @ f.transpose(0, 2, 1) / 60, rtol=1e-12, atol=1e-12)
    check_op(lambda t: vis.gram_matrix(t, normalize=False), [x],
             lambda t: _torch_gram(t, False))


def test_content_and_tv_loss_against_torch(rng):
    a, b = rng.standard_normal((2, 1, 3, 4, 5))
    check_op(lambda u, v: vis.content_loss(0.7, u, v), [a, b],
             lambda u, v: 0.7 * ((u - v) ** 2).sum())
    img = rng.standard_normal((1, 3, 5, 6))

    def torch_tv(t):
        return 0.3 * (((t[:, :, 1:] - t[:, :, :-1]) ** 2).sum()
                      + ((t[:, :, :, 1:] - t[:, :, :, :-1]) ** 2).sum())

    check_op(lambda t: vis.tv_loss(t, 0.3), [img], torch_tv)


def test_style_loss_against_torch(rng):
    f0, f1 = rng.standard_normal((1, 2, 4, 4)), rng.standard_normal((1, 3, 2, 3))
    targets = [rng.standard_normal((1, 2, 2)), rng.standard_normal((1, 3, 3))]

    def ours(a, b):
        return vis.style_loss([None, a, b], [1, 2], [striate.tensor(t) for t in targets],
                              [2.0, 0.5])

    def theirs(a, b):
        import torch

        tg = [torch.tensor(t) for t in targets]
        return (2.0 * ((_torch_gram(a) - tg[0]) ** 2).sum()
                + 0.5 * ((_torch_gram(b) - tg[1]) ** 2).sum())

    check_op(ours, [f0, f1], theirs)


def test_loss_shape_errors_name_the_function():
    with pytest.raises(ValueError, match="content_loss: content_current has shape"):
        vis.content_loss(1.0, striate.zeros(1, 2, 3, 3), striate.zeros(1, 2, 3, 4))
    with pytest.raises(ValueError, match="gram_matrix: features must be"):
        vis.gram_matrix(striate.zeros(2, 3))
    with pytest.raises(ValueError, match="style_loss: style_layers"):
        vis.style_loss([striate.zeros(1, 1, 2, 2)], [0], [], [1.0])


def test_vgg_features_from_a_torchvision_shaped_state_dict(tmp_path, rng):
    torch = pytest.importorskip("torch")
    cfg = [4, "M", 6, 6, "M"]
    layers, c = [], 3
    for v in cfg:
        if v == "M":
            layers.append(torch.nn.MaxPool2d(2, 2))
        else:
            layers += [torch.nn.Conv2d(c, v, 3, padding=1), torch.nn.ReLU()]
            c = v
    tnet = torch.nn.Module()
    tnet.features = torch.nn.Sequential(*layers)
    tnet.classifier = torch.nn.Linear(6, 2)  # ignored: only the features are loaded
    sd = {k: v.detach().numpy() for k, v in tnet.state_dict().items()}
    np.savez(tmp_path / "vgg.npz", **sd)
    cnn = vis.vgg_features(tmp_path / "vgg.npz", cfg)
    x = rng.standard_normal((1, 3, 8, 8)).astype(np.float32)
    ours = vis.extract_features(striate.tensor(x), cnn)
    with torch.no_grad():
        theirs = tnet.features(torch.tensor(x))
    np.testing.assert_allclose(ours[-1].numpy(), theirs.numpy(), rtol=1e-5, atol=1e-5)
    assert vis.default_layers(cnn) == (4, (1, 4, 6))  # the ReLUs; content: the middle one
    del sd["features.3.weight"]
    with pytest.raises(RuntimeError, match="features.3.weight"):
        vis.vgg_features(sd, cfg)


def test_random_features_are_fixed_and_seeded():
    a, b = vis.random_features(seed=1), vis.random_features(seed=1)
    assert all(not p.requires_grad for p in a.parameters())
    np.testing.assert_array_equal(a[0].weight.numpy(), b[0].weight.numpy())
    assert vis.default_layers(a) == (4, (1, 4, 7))


@pytest.fixture(scope="module")
def small():
    cnn = vis.random_features(channels=(8, 16), seed=0)
    content = vis.preprocess(vis.load_image(CHECKS / "tubingen.jpg", (16, 20)))
    style = vis.preprocess(vis.load_image(CHECKS / "starry_night.jpg", (16, 16)))
    return cnn, content, style


def test_style_transfer_lbfgs_accepts_only_decreasing_losses(small):
    cnn, content, style = small
    img, losses = vis.style_transfer(cnn, content, style, 3, 1e-2, (1, 4), (1e4, 1e4), 1e-3,
                                     num_iterations=8)
    assert img.shape == content.shape
    assert losses[-1] < 0.5 * losses[0]
    # the final loss is the best one seen: the line search accepts only decreases
    assert losses[-1] <= min(losses[:-1]) + 1e-6 * losses[0]


def test_texture_dream_and_inversion_make_progress(small):
    cnn, content, style = small
    tex, losses = vis.texture_synthesis(cnn, style, (1, 4), (1e4, 1e4), num_iterations=5)
    assert tex.shape == style.shape and losses[-1] < losses[0]
    dream, obj = vis.deep_dream(cnn, content, 3, num_octaves=2, iterations=3, max_jitter=1)
    assert dream.shape == content.shape and obj[-1] > obj[0]
    inv, losses = vis.invert_features(cnn, content, 3, num_iterations=5)
    assert losses[-1] < 0.5 * losses[0]
    with pytest.raises(ValueError, match="layer index 9 is out of range"):
        vis.invert_features(cnn, content, 9)


def test_fast_style_network_trains_and_keeps_the_size(small):
    cnn, content, style = small
    net, losses = vis.train_fast_style(cnn, style, [content[0]], 3, 1e-2, (1, 4), (1e4, 1e4),
                                       1e-3, steps=6, batch_size=2, crop=12, width=4, blocks=1)
    assert np.mean(losses[-2:]) < losses[0]
    y = vis.stylize(net, content)
    assert y.shape == (1, 3, 16, 20)
    with pytest.raises(ValueError, match="multiples of 4"):
        net(striate.zeros(1, 3, 10, 12))


def _course_values(cnn):
    """The notebook's content, Gram and style checks (its layers, weights and images)."""
    def feats(name):
        img = vis.preprocess(vis.load_image(CHECKS / name, size=192))
        with striate.no_grad():
            return vis.extract_features(striate.tensor(img), cnn), img

    c_feats, c_img = feats("tubingen.jpg")
    s_feats, _ = feats("starry_night.jpg")
    with striate.no_grad():
        bad = vis.extract_features(striate.zeros(*c_img.shape), cnn)
        cl = vis.content_loss(6e-2, c_feats[3], bad[3])
        gm = vis.gram_matrix(s_feats[5])
        layers = [1, 4, 6, 7]
        sl = vis.style_loss(c_feats, layers, [vis.gram_matrix(s_feats[i]) for i in layers],
                            [300000, 1000, 15, 3])
    return float(cl), gm.numpy(), float(sl)


def test_squeezenet_features_load_a_torchvision_layout_state_dict(tmp_path):
    from striate.models.squeezenet import squeezenet1_1

    striate.manual_seed(0)
    model = squeezenet1_1()
    np.savez(tmp_path / "sq.npz", **{k: v.numpy() for k, v in model.state_dict().items()})
    cnn = vis.squeezenet_features(tmp_path / "sq.npz")
    x = striate.randn(1, 3, 32, 32)
    with striate.no_grad():
        np.testing.assert_allclose(vis.extract_features(x, cnn)[7].numpy(),
                                   model.features[:8](x).numpy(), rtol=1e-6, atol=1e-6)


def test_course_checks_with_pretrained_squeezenet_weights():
    """The notebook's cl_out, gm_out and sl_out come from pretrained SqueezeNet 1.1 features:
    reproducible only with those weights (``STRIATE_SQUEEZENET_WEIGHTS=path/to/state_dict``,
    torchvision's squeezenet1_1 saved as .safetensors or .npz), which cannot be downloaded here."""
    import os

    path = os.environ.get("STRIATE_SQUEEZENET_WEIGHTS")
    if not path:
        pytest.skip("set STRIATE_SQUEEZENET_WEIGHTS to torchvision's squeezenet1_1 weights")
    answers = np.load(CHECKS / "style-transfer-checks.npz")
    cl, gm, sl = _course_values(vis.squeezenet_features(path))
    np.testing.assert_allclose(cl, answers["cl_out"], rtol=1e-3, atol=1e-3)
    np.testing.assert_allclose(gm, answers["gm_out"], rtol=1e-3, atol=1e-6)
    np.testing.assert_allclose(sl, answers["sl_out"], rtol=1e-3, atol=1e-3)


def test_checkpoint_features_take_a_models_convolutional_part():
    from striate.models import create_model

    model = create_model("convnet", num_classes=10, input_shape=(3, 8, 8))
    cnn = vis.checkpoint_features(model)
    assert cnn is model.features and not any(p.requires_grad for p in cnn.parameters())
    content, style = vis.default_layers(cnn)
    assert isinstance(cnn[content], nn.ReLU) and all(isinstance(cnn[i], nn.ReLU) for i in style)
    with pytest.raises(ValueError, match="has no 'features' nn.Sequential"):
        vis.checkpoint_features(nn.Sequential(nn.Flatten(), nn.Linear(3, 2)))
