"""Layers by name, receptive fields, neighbours, embeddings, patches, occlusion, images."""

from __future__ import annotations

import numpy as np
import pytest

import striate
from striate import nn, vis


def _spatial_net():
    striate.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(1, 2, 3, padding=1), nn.ReLU(),
        nn.AvgPool2d(2),  # (a max-pool has the same field, but passes gradient to one input)
        nn.Sequential(nn.Conv2d(2, 2, 3, stride=2, padding=2, dilation=2), nn.ReLU()),
        nn.Conv2d(2, 1, 2),
    ).eval()


@pytest.mark.parametrize("name", ["0", "2", "3", "3.0", "4"])
def test_receptive_field_equals_the_gradients_support(name):
    model = _spatial_net()
    # all-positive weights: no gradient cancels, so the support is the whole field
    with striate.no_grad():
        for p in model.parameters():
            p.array[...] = np.abs(p.array) + 0.1
    x = striate.tensor(np.ones((1, 1, 24, 24), np.float32), requires_grad=True)
    with vis.capture(model, [name]) as acts:
        model(x)
    a = acts[name]
    i, j = a.shape[2] // 2, a.shape[3] // 2
    a[0, 0, i, j].backward()
    rows, cols = np.nonzero(x.grad.numpy()[0, 0])
    rf = vis.receptive_field(model, name)
    t, lft, b, r = rf.box(i, j)
    assert (rows.min(), cols.min(), rows.max() + 1, cols.max() + 1) == (t, lft, b, r)


def test_get_layer_lists_the_names_a_model_has():
    model = _spatial_net()
    assert vis.get_layer(model, "3.0") is model[3][0]
    with pytest.raises(KeyError, match=r"layer 'conv9' is not in Sequential; its layers are: "
                                       r"0, 1, 2, 3, 3.0, 3.1, 4"):
        vis.get_layer(model, "conv9")


def test_nearest_neighbors_and_knn_accuracy():
    db = np.array([[0.0, 0], [1, 0], [5, 5], [6, 5]])
    np.testing.assert_array_equal(vis.nearest_neighbors(np.array([[0.9, 0.0]]), db, 2), [[1, 0]])
    labels = np.array([0, 0, 1, 1])
    assert vis.knn_accuracy(db, labels, k=1) == 1.0
    assert vis.knn_accuracy(db, np.array([0, 1, 0, 1]), k=1) == 0.0


def test_tsne_of_the_last_hidden_layer_separates_the_digits(trained):
    X, y = trained.data.test.X[:100], trained.data.test.y[:100]
    f = vis.hidden_features(trained.model, X, trained.norm)
    assert f.shape == (100, trained.model.head.in_features)
    pts = vis.embed(f, "tsne")
    assert pts.shape == (100, 2)
    assert vis.knn_accuracy(pts, y, 5) > 0.85
    assert vis.embed(f, "pca").shape == (100, 2)


def test_max_activating_patches_are_the_units_fields(trained):
    model, X = trained.model, trained.data.train.X[:100].astype(np.float32)
    P, vals, idx, pos = vis.max_activating_patches(model, X, "features.6", 5, k=4,
                                                   norm=trained.norm)
    rf = vis.receptive_field(model, "features.6")
    assert P.shape == (4, 1, *rf.size) and (np.diff(vals) <= 0).all()
    acts = vis.activations(model, trained.norm(X).astype(np.float32), "features.6")[:, 5]
    assert vals[0] == pytest.approx(acts.max(), rel=1e-6)
    n, (i, j) = idx[0], pos[0]
    t, lft, b, r = rf.box(i, j)
    padded = np.pad(X[n, 0], 8)
    np.testing.assert_array_equal(P[0, 0], padded[t + 8:b + 8, lft + 8:r + 8])
    with pytest.raises(ValueError, match="channel of layer 'features.6' 999 is out of range"):
        vis.max_activating_patches(model, X, "features.6", 999)


def test_occlusion_map_is_the_probability_under_the_patch(trained):
    x, label = trained.data.test.X[0].astype(np.float32), int(trained.data.test.y[0])
    m = vis.occlusion_map(trained.model, x, label, trained.norm, patch=3, stride=2)
    assert m.shape == (3, 3)
    occluded = x.copy()
    occluded[:, 2:5, 4:7] = 0.5
    with striate.no_grad():
        p = striate.softmax(vis.scores(trained.model, striate.tensor(occluded[None]),
                                       trained.norm), 1).numpy()[0, label]
    assert m[1, 2] == pytest.approx(p, rel=1e-5, abs=1e-6)


def test_filter_grid_and_activation_grid(trained):
    g = vis.filter_grid(trained.model, nrow=8)
    assert g.shape == (1, 4 * 4 + 1, 8 * 4 + 1) and g.min() >= 0 and g.max() <= 1
    a = vis.activation_grid(trained.model, trained.data.test.X[0], "features.2", trained.norm)
    assert a.shape == (1, 4 * 9 + 1, 8 * 9 + 1)
    with pytest.raises(ValueError, match="has no nn.Conv2d"):
        vis.first_conv(nn.Sequential(nn.Flatten(), nn.Linear(4, 2)))


def test_load_image_samples_files_and_errors(tmp_path):
    china = vis.load_image("china", size=32)
    assert china.shape == (3, 32, 47) and china.dtype == np.float32
    assert 0 <= china.min() and china.max() <= 1
    grey = vis.load_image("flower", size=(10, 12), channels=1)
    assert grey.shape == (1, 10, 12)
    pytest.importorskip("skimage")
    assert vis.load_image("chelsea", size=16).shape == (3, 16, 24)
    (tmp_path / "bad.png").write_text("not an image")
    with pytest.raises(ValueError, match="load_image: cannot read image"):
        vis.load_image(tmp_path / "bad.png")
    with pytest.raises(FileNotFoundError, match="load_image: no such image file"):
        vis.load_image(tmp_path / "none.png")
    vis.save_png(tmp_path / "c.png", china)
    np.testing.assert_allclose(vis.load_image(tmp_path / "c.png"), china, atol=1 / 255 + 1e-6)


def test_make_grid_places_each_image():
    imgs = np.arange(3)[:, None, None, None] * np.ones((3, 1, 2, 2)) / 2
    g = vis.make_grid(imgs, nrow=2, pad=1, fill=9)
    assert g.shape == (1, 7, 7)
    np.testing.assert_array_equal(g[0, 1:3, 4:6], 0.5)
    np.testing.assert_array_equal(g[0, 4:6, 1:3], 1.0)
    assert g[0, 0, 0] == 9
