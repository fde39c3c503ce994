"""Saliency, guided backpropagation, fooling images and class visualisation, on hand-checkable
models and on a ConvNet trained by ``striate train``."""

from __future__ import annotations

import numpy as np
import pytest

import striate
from striate import nn, vis


def _mlp(rng, d=6, h=5, c=3):
    striate.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(d, h), nn.ReLU(), nn.Linear(h, c))
    with striate.no_grad():
        for p in model.parameters():
            p.array[...] = rng.standard_normal(p.shape)
    return model.eval()


def test_saliency_matches_centred_differences(rng):
    model = _mlp(rng).double()
    X = rng.standard_normal((2, 1, 2, 3))
    y = np.array([0, 2])
    got = vis.saliency(model, X.astype(np.float32), y)
    # saliency keeps float32 inputs; compare with a float64 numerical gradient
    eps = 1e-6
    want = np.zeros_like(X)
    for n in range(2):
        for idx in np.ndindex(X.shape[1:]):
            xp, xm = X[n:n + 1].copy(), X[n:n + 1].copy()
            xp[(0, *idx)] += eps
            xm[(0, *idx)] -= eps
            with striate.no_grad():
                sp = model(striate.tensor(xp)).numpy()[0, y[n]]
                sm = model(striate.tensor(xm)).numpy()[0, y[n]]
            want[(n, *idx)] = (sp - sm) / (2 * eps)
    np.testing.assert_allclose(got, np.abs(want).max(axis=1), rtol=1e-4, atol=1e-4)


def test_guided_backprop_equals_the_rule_by_hand(rng):
    model = _mlp(rng)
    X = rng.standard_normal((4, 1, 2, 3)).astype(np.float32)
    y = np.array([0, 1, 2, 1])
    got = vis.guided_backprop(model, X, y)
    W1, b1 = model[1].weight.detach().numpy(), model[1].bias.detach().numpy()
    W2 = model[3].weight.detach().numpy()
    h = X.reshape(4, -1) @ W1.T + b1
    # back through ReLU: only where its input was positive AND the gradient is positive
    g_h = np.maximum(W2[y], 0) * (h > 0)
    np.testing.assert_allclose(got.reshape(4, -1), g_h @ W1, rtol=1e-5, atol=1e-6)
    # the hooks are gone afterwards: a plain gradient differs
    plain = vis.saliency(model, X, y)
    assert not np.allclose(plain, np.abs(got).max(axis=1))


def test_guided_backprop_needs_relu_modules(rng):
    model = nn.Sequential(nn.Flatten(), nn.Linear(6, 3))
    with pytest.raises(ValueError, match="has no nn.ReLU module"):
        vis.guided_backprop(model, np.zeros((1, 1, 2, 3), np.float32), [0])


def _correct(trained, n):
    X, y = trained.data.test.X.astype(np.float32), trained.data.test.y
    with striate.no_grad():
        pred = vis.scores(trained.model, striate.tensor(X), trained.norm).numpy().argmax(1)
    ok = np.flatnonzero(pred == y)[:n]
    return X[ok], y[ok]


def test_maps_put_more_mass_on_the_stroke(trained):
    X, y = _correct(trained, 50)
    s = vis.saliency(trained.model, X, y, trained.norm)
    g = vis.guided_backprop(trained.model, X, y, trained.norm)
    assert s.shape == (50, 8, 8) and g.shape == (50, 1, 8, 8)
    assert vis.stroke_ratio(s, X) > 1.1
    assert vis.stroke_ratio(g, X) > 1.1


def test_fooling_images_fool_twenty_of_twenty(trained):
    X, y = _correct(trained, 20)
    target = (y + 1) % 10
    Xf, steps = vis.fooling_images(trained.model, X, target, trained.norm)
    assert (steps >= 0).all()
    with striate.no_grad():
        pred = vis.scores(trained.model, striate.tensor(Xf), trained.norm).numpy().argmax(1)
    np.testing.assert_array_equal(pred, target)
    d = (Xf - X).reshape(20, -1)
    assert 0 < np.sqrt((d ** 2).sum(1)).mean() < 4  # a small change of a 64-pixel image


def test_class_visualization_reaches_its_class(trained):
    img = vis.class_visualization(trained.model, 3, (1, 8, 8), trained.norm,
                                  num_iterations=60, clip_grad=0.1, clip_pixels=0.1)
    assert img.shape == (1, 8, 8) and img.min() >= 0 and img.max() <= 1
    with striate.no_grad():
        p = striate.softmax(vis.scores(trained.model, striate.tensor(img[None]),
                                       trained.norm), 1).numpy()[0]
    assert p.argmax() == 3
    with pytest.raises(ValueError, match=r"target class 10 is out of range.*10 classes"):
        vis.class_visualization(trained.model, 10, (1, 8, 8), trained.norm, num_iterations=1)


def test_stroke_ratio_is_a_ratio_of_means():
    images = np.array([[[0.0, 1.0], [1.0, 0.0]]])
    maps = np.array([[[1.0, 4.0], [2.0, 3.0]]])
    assert vis.stroke_ratio(maps, images) == pytest.approx(3.0 / 2.0)
    with pytest.raises(ValueError, match="stroke_ratio"):
        vis.stroke_ratio(maps, np.zeros_like(images))
