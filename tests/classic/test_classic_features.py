"""Image features: hue histogram, HOG against a hand computation, k-means, bag of words."""

import numpy as np
import pytest

from striate.classic.features import (
    BagOfWords,
    color_histogram,
    extract_features,
    feature_size,
    grayscale,
    hog_features,
    hue,
    kmeans,
)


def test_hog_of_a_known_image_matches_a_hand_computation():
    # a 4x4 image with one cell of 4x4 pixels and 4 bins of 45 degrees
    img = np.array([[0, 1, 3, 6],
                    [0, 0, 0, 0],
                    [2, 2, 2, 2],
                    [5, 5, 5, 7]], dtype=np.float32)
    # forward differences, zero on the last column / row
    gx = np.array([[1, 2, 3, 0], [0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 2, 0]], float)
    gy = np.array([[0, -1, -3, -6], [2, 2, 2, 2], [3, 3, 3, 5], [0, 0, 0, 0]], float)
    hist = np.zeros(4)
    for i in range(4):
        for j in range(4):
            m = np.hypot(gx[i, j], gy[i, j])
            if m == 0:
                continue
            theta = np.degrees(np.arctan2(gy[i, j], gx[i, j])) % 180.0
            hist[int(theta // 45)] += m
    hist /= 16
    # by hand: (1,0) -> 0 deg; (2,-1) -> 153.4; (3,-3) -> 135; (0,-6) -> 90; (0,2),(0,3),(0,5)
    # -> 90; (2,0) -> 0
    expect = np.array([1 + 2, 0, 6 + 4 * 2 + 3 * 3 + 5, np.hypot(2, 1) + np.hypot(3, 3)]) / 16
    np.testing.assert_allclose(hist, expect)
    out = hog_features(img[None, None], cell=4, nbins=4)
    assert out.shape == (1, 4) and out.dtype == np.float32
    np.testing.assert_allclose(out[0], expect, rtol=1e-6)


def test_hog_is_unsigned_and_batched():
    rng = np.random.default_rng(0)
    X = rng.random((6, 3, 16, 16)).astype(np.float32)
    f = hog_features(X, cell=4)
    assert f.shape == (6, 4 * 4 * 9)
    # flipping the sign of the image flips every gradient: same unsigned histogram
    np.testing.assert_allclose(hog_features(-X, cell=4), f, rtol=1e-5, atol=1e-6)
    # one image at a time gives the same rows as the batch
    np.testing.assert_allclose(np.vstack([hog_features(x[None], cell=4) for x in X]), f,
                               rtol=1e-6)
    # a vertical edge only: all mass in the 0-degree bin (horizontal gradient)
    edge = np.zeros((1, 1, 8, 8), np.float32)
    edge[..., 4:] = 1.0
    h = hog_features(edge, cell=8).reshape(9)
    assert h[0] > 0 and np.all(h[1:] == 0)


def test_hog_block_normalisation_gives_unit_blocks():
    X = np.random.default_rng(1).random((3, 1, 16, 16))
    f = hog_features(X, cell=4, block=2).reshape(3, 9, 4 * 9)  # 3x3 blocks of 2x2 cells
    np.testing.assert_allclose(np.linalg.norm(f, axis=-1), 1.0, rtol=1e-4)
    # block (row 1, column 0) by hand: cells (1,0), (1,1), (2,0), (2,1), L2, clip 0.2, L2
    cells = hog_features(X, cell=4).reshape(3, 4, 4, 9)
    v = cells[0, 1:3, 0:2].reshape(-1)
    v = np.minimum(v / np.linalg.norm(v), 0.2)
    np.testing.assert_allclose(f[0, 3], v / np.linalg.norm(v), rtol=1e-5)


def test_hog_rejects_cells_larger_than_the_image():
    with pytest.raises(ValueError, match="cell 16 is larger than the images"):
        hog_features(np.zeros((1, 1, 8, 8)), cell=16)
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        hog_features(np.zeros((8, 8)))


def test_hue_matches_matplotlib_and_histograms_sum_to_one():
    from matplotlib.colors import rgb_to_hsv

    rng = np.random.default_rng(2)
    X = rng.random((4, 3, 5, 7)).astype(np.float32)
    X[0, :, 0, 0] = 0.5  # a grey pixel: hue 0
    X[1, :, 1, 1] = [0.9, 0.9, 0.1]  # a tie between maxima
    ref = rgb_to_hsv(X.transpose(0, 2, 3, 1))[..., 0]
    np.testing.assert_allclose(hue(X), ref, atol=1e-6)
    np.testing.assert_allclose(hue(255 * X), ref, atol=1e-5)  # scale-free
    h = color_histogram(X, nbin=10)
    assert h.shape == (4, 10)
    np.testing.assert_allclose(h.sum(1), 1.0, rtol=1e-6)
    # pure red, green and blue images land in the bins of hue 0, 1/3 and 2/3
    rgb = np.zeros((3, 3, 2, 2), np.float32)
    rgb[0, 0], rgb[1, 1], rgb[2, 2] = 1, 1, 1
    h = color_histogram(rgb, nbin=6)
    assert h[0, 0] == 1 and h[1, 2] == 1 and h[2, 4] == 1


def test_color_histogram_of_grey_images_is_degenerate():
    h = color_histogram(np.random.default_rng(0).random((3, 1, 8, 8)), nbin=5)
    np.testing.assert_array_equal(h, np.tile([1, 0, 0, 0, 0], (3, 1)))
    with pytest.raises(ValueError, match="1 or 3 channels"):
        hue(np.zeros((1, 2, 4, 4)))


def test_grayscale_weights():
    X = np.zeros((1, 3, 1, 1), np.float32)
    X[0, :, 0, 0] = [1, 0, 0]
    assert grayscale(X)[0, 0, 0] == pytest.approx(0.299)
    assert grayscale(np.ones((2, 1, 3, 3))).shape == (2, 3, 3)


def _blobs(seed=0, n=60):
    rng = np.random.default_rng(seed)
    centres = np.array([[0, 0], [10, 10], [-10, 10]], float)
    X = np.concatenate([c + rng.normal(scale=0.5, size=(n, 2)) for c in centres])
    return X, np.repeat(np.arange(3), n), centres


def test_kmeans_converges_on_separable_blobs():
    X, truth, centres = _blobs()
    res = kmeans(X, 3, seed=0)
    assert res.converged and res.n_iter < 20
    # each found cluster is exactly one blob, whatever the numbering
    for c in range(3):
        assert len(np.unique(res.labels[truth == c])) == 1
    assert len(np.unique(res.labels)) == 3
    found = res.centers[np.argsort(res.centers[:, 0] + 0.1 * res.centers[:, 1])]
    np.testing.assert_allclose(found, centres[[2, 0, 1]], atol=0.3)
    assert res.inertia == pytest.approx(((X - res.centers[res.labels]) ** 2).sum())
    # seeded: the same result twice, independently of numpy's global state
    np.random.seed(123)
    again = kmeans(X, 3, seed=0)
    np.testing.assert_array_equal(again.labels, res.labels)


def test_kmeans_inertia_not_worse_than_sklearn():
    from sklearn.cluster import KMeans

    X = np.random.default_rng(3).normal(size=(300, 4))
    ours = kmeans(X, 5, seed=1).inertia
    theirs = KMeans(5, n_init=1, random_state=1).fit(X).inertia_
    assert ours <= 1.1 * theirs


def test_kmeans_errors():
    with pytest.raises(ValueError, match="k must be at most the number of points 3"):
        kmeans(np.zeros((3, 2)), 4)
    with pytest.raises(ValueError, match=r"X must be points \(N, D\)"):
        kmeans(np.zeros(5), 2)
    # identical points: one centre serves all, nothing breaks
    res = kmeans(np.ones((10, 2)), 3)
    assert np.allclose(res.centers, 1) and res.inertia == 0


def test_bag_of_words_histograms():
    rng = np.random.default_rng(0)
    # two kinds of images: vertical stripes and horizontal stripes
    v = np.tile([0.0, 1.0], (8, 4))[None, None] + 0.01 * rng.random((10, 1, 8, 8))
    h = np.swapaxes(v, 2, 3)
    X = np.concatenate([v, h])
    bow = BagOfWords(n_words=4, patch=2, n_patches=500, seed=0).fit(X)
    f = bow(X)
    assert f.shape == (20, 4) and f.dtype == np.float32
    np.testing.assert_allclose(f.sum(1), 1.0, rtol=1e-6)
    # the two kinds use disjoint words
    assert np.all((f[:10] > 0) @ (f[10:] > 0).T.astype(int) == 0)
    again = BagOfWords.from_state_dict(bow.state_dict())
    np.testing.assert_array_equal(again(X), f)
    with pytest.raises(RuntimeError, match="call fit"):
        BagOfWords()(X)
    with pytest.raises(ValueError, match="1-channel images"):
        bow(np.zeros((1, 3, 8, 8)))


def test_extract_features_stacks_in_chunks():
    X = np.random.default_rng(0).random((7, 3, 8, 8)).astype(np.float32)
    fns = [lambda x: hog_features(x, cell=4), color_histogram]
    full = extract_features(X, fns)
    assert full.shape == (7, 36 + 10)
    np.testing.assert_array_equal(extract_features(X, fns, chunk=3), full)
    np.testing.assert_array_equal(full[:, 36:], color_histogram(X))
    assert feature_size(fns[0], (3, 8, 8)) == 36
    with pytest.raises(ValueError, match="at least one"):
        extract_features(X, [])
    with pytest.raises(ValueError, match="returned 1 rows for 7 images"):
        extract_features(X, [lambda x: np.zeros((1, 3))])
