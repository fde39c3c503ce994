"""PCA, whitening and standardisation: against numpy's SVD and scikit-learn."""

import numpy as np
import pytest

from striate.classic.preprocess import PCA, ZCA, Standardize


def _data(n=300, d=6, seed=0):
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(d, d)) * np.array([5, 3, 2, 1, 0.5, 0.1])[:d]
    return rng.normal(size=(n, d)) @ A + 3.0


def test_pca_matches_numpy_svd():
    X = _data()
    pca = PCA(3).fit(X)
    Xc = X - X.mean(0)
    _, S, Vt = np.linalg.svd(Xc, full_matrices=False)
    np.testing.assert_allclose(pca.explained_variance_, S[:3] ** 2 / (len(X) - 1), rtol=1e-10)
    # same directions up to sign, with our sign rule: largest entry positive
    for k in range(3):
        v = Vt[k] * np.sign(Vt[k][np.abs(Vt[k]).argmax()])
        np.testing.assert_allclose(pca.components_[k], v, atol=1e-10)
        assert pca.components_[k][np.abs(pca.components_[k]).argmax()] > 0
    Z = pca.transform(X)
    np.testing.assert_allclose(Z, Xc @ pca.components_.T, atol=1e-10)
    np.testing.assert_allclose(np.var(Z, axis=0, ddof=1), pca.explained_variance_, rtol=1e-10)


def test_pca_of_wide_data_uses_the_svd():
    X = np.random.default_rng(8).normal(size=(10, 30))  # N < D: at most N components
    pca = PCA().fit(X)
    S = np.linalg.svd(X - X.mean(0), compute_uv=False)
    assert pca.components_.shape == (10, 30)
    np.testing.assert_allclose(pca.singular_values_, S, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(pca.components_[:9] @ pca.components_[:9].T, np.eye(9),
                               atol=1e-10)


def test_pca_matches_sklearn():
    skd = pytest.importorskip("sklearn.decomposition")
    X = _data(seed=1)
    ours = PCA(4).fit(X)
    ref = skd.PCA(4).fit(X)
    signs = np.sign((ours.components_ * ref.components_).sum(1))
    np.testing.assert_allclose(ours.components_, signs[:, None] * ref.components_, atol=1e-8)
    np.testing.assert_allclose(ours.explained_variance_, ref.explained_variance_, rtol=1e-10)
    np.testing.assert_allclose(ours.explained_variance_ratio_, ref.explained_variance_ratio_,
                               rtol=1e-10)
    X2 = _data(n=50, seed=9)  # test data: transformed with the training statistics
    np.testing.assert_allclose(ours.transform(X2), ref.transform(X2) * signs, atol=1e-8)
    w_ours = PCA(4, whiten=True, eps=0).fit(X)
    w_ref = skd.PCA(4, whiten=True).fit(X)
    np.testing.assert_allclose(w_ours.transform(X2), w_ref.transform(X2) * signs, atol=1e-8)
    # a variance fraction picks the fewest components reaching it, as sklearn does
    assert PCA(0.9).fit(X).components_.shape[0] == skd.PCA(0.9).fit(X).n_components_


def test_whitening_gives_identity_covariance_on_train_only():
    X = _data(seed=2)
    Z = PCA(6, whiten=True, eps=0).fit(X).transform(X)
    np.testing.assert_allclose(np.cov(Z, rowvar=False), np.eye(6), atol=1e-8)
    zca = ZCA(eps=0).fit(X)
    W = zca.transform(X)
    np.testing.assert_allclose(np.cov(W, rowvar=False), np.eye(6), atol=1e-8)
    # ZCA is symmetric: the whitened data is the closest whitening to the input
    np.testing.assert_allclose(zca.W_, zca.W_.T, atol=1e-10)
    # fitted on train and applied unchanged: other data is not whitened to the identity
    other = _data(seed=3)
    assert not np.allclose(np.cov(zca.transform(other), rowvar=False), np.eye(6), atol=1e-2)


def test_inverse_transforms_round_trip():
    X = _data(seed=4)
    for t in (PCA(), PCA(whiten=True), ZCA(), Standardize()):
        t.fit(X)
        np.testing.assert_allclose(t.inverse_transform(t.transform(X)), X, atol=1e-8)
    # fewer components: the best rank-k reconstruction, error = the dropped variance
    pca = PCA(2).fit(X)
    R = pca.inverse_transform(pca.transform(X))
    dropped = PCA().fit(X).explained_variance_[2:].sum()
    assert ((R - X) ** 2).sum() / (len(X) - 1) == pytest.approx(dropped, rel=1e-8)


def test_images_are_flattened_and_float32_is_kept():
    X = np.random.default_rng(5).random((40, 1, 4, 4)).astype(np.float32)
    pca = PCA(5).fit(X)
    Z = pca.transform(X)
    assert Z.shape == (40, 5) and Z.dtype == np.float32
    assert pca.inverse_transform(Z).shape == (40, 16)


def test_state_dict_round_trip(tmp_path):
    from striate.train import load, save

    X = _data(seed=6)
    for t in (PCA(3, whiten=True), ZCA(), Standardize()):
        t.fit(X)
        save(t.state_dict(), tmp_path / "t.npz")
        again = type(t).from_state_dict(load(tmp_path / "t.npz"))
        np.testing.assert_allclose(again.transform(X), t.transform(X))


def test_standardize():
    X = _data(seed=7)
    X[:, 2] = 4.0  # a constant feature is only centred
    Z = Standardize().fit(X).transform(X)
    np.testing.assert_allclose(Z.mean(0), 0, atol=1e-10)
    np.testing.assert_allclose(Z.std(0), [1, 1, 0, 1, 1, 1], atol=1e-10)


def test_errors():
    with pytest.raises(ValueError, match="n_components must be"):
        PCA(0)
    with pytest.raises(ValueError, match="exceeds min"):
        PCA(10).fit(np.zeros((5, 3)))
    with pytest.raises(RuntimeError, match="call fit"):
        PCA(2).transform(np.zeros((2, 3)))
    pca = PCA(2).fit(_data())
    with pytest.raises(ValueError, match="3 features per sample but the transform was fitted on 6"):
        pca.transform(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="at least 2 samples"):
        ZCA().fit(np.zeros((1, 3)))
