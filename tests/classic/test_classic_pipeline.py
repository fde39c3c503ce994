"""Features -> standardisation -> PCA -> classifier in one call."""

import numpy as np
import pytest

from striate.classic.pipeline import FeaturePipeline, default_cell, train_on_features
from striate.data import digits


@pytest.fixture(scope="module")
def data():
    return digits()


def test_hog_svm_on_digits(data):
    run = train_on_features(data, ("hog",), "svm", num_iters=600)
    assert run.n_features == 4 * 4 * 9
    assert run.val_acc > 0.9 and run.test_acc > 0.9
    # the pipeline was fitted on the training split only and reproduces the features
    again = FeaturePipeline.from_state_dict(run.pipeline.state_dict())
    np.testing.assert_allclose(again.transform(data.test.X), run.pipeline.transform(data.test.X))
    Z = run.pipeline.transform(data.train.X)
    np.testing.assert_allclose(Z.mean(0), 0, atol=1e-5)
    pred = run.classifier.predict(run.pipeline.transform(data.test.X))
    assert np.mean(pred == data.test.y) == pytest.approx(run.test_acc)


def test_pca_whitened_features(data):
    run = train_on_features(data, "hog", "softmax", pca=20, whiten=True, lr=0.05, reg=1e-3,
                            num_iters=300)
    Z = run.pipeline.transform(data.train.X)
    assert run.n_features == 20 and Z.shape == (len(data.train), 20)
    np.testing.assert_allclose(np.cov(Z, rowvar=False), np.eye(20), atol=1e-3)
    assert run.test_acc > 0.7


def test_grey_hue_adds_nothing(data):
    a = train_on_features(data, ("hog",), "svm", num_iters=200)
    b = train_on_features(data, ("hog", "color"), "svm", num_iters=200)
    assert b.n_features == a.n_features + 10
    # the hue columns are constant on grey images and standardise to zero: same classifier up
    # to floating-point rounding
    np.testing.assert_array_equal(b.pipeline.transform(data.test.X)[:, 144:], 0)
    assert abs(b.test_acc - a.test_acc) <= 0.01


def test_default_cell_and_errors(data):
    assert default_cell((1, 8, 8)) == 2 and default_cell((3, 32, 32)) == 8
    with pytest.raises(ValueError, match="classifier must be one of"):
        train_on_features(data, ("hog",), "tree")
    with pytest.raises(ValueError, match="features must be a non-empty list"):
        train_on_features(data, ("sift",))


def test_hue_histogram_separates_colours():
    from striate.data import DatasetSplits, Split

    rng = np.random.default_rng(0)

    def split(n):
        y = np.arange(n) % 3
        X = rng.uniform(0, 0.3, (n, 3, 8, 8)).astype(np.float32)
        X[np.arange(n), y] = rng.uniform(0.6, 1.0, (n, 8, 8))  # red, green or blue images
        return Split(X, y.astype(np.int64))

    data = DatasetSplits("colours", split(60), split(15), split(30), ["r", "g", "b"],
                         (3, 8, 8))
    run = train_on_features(data, ("color",), "softmax", lr=0.1, reg=1e-4, num_iters=200)
    assert run.n_features == 10 and run.test_acc == 1.0
