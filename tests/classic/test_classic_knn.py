"""k-nearest neighbours: the three distance computations, the vote, cross-validation."""

import numpy as np
import pytest

from striate.classic import (
    CrossValidationResult,
    KNearestNeighbor,
    cross_validate,
    plot_cross_validation,
)
from striate.data import digits


@pytest.fixture(scope="module")
def flat_digits():
    d = digits()
    f = lambda s: s.X.reshape(len(s), -1)  # noqa: E731
    return f(d.train), d.train.y, f(d.val), d.val.y, f(d.test), d.test.y


def _rel_error(a, b):
    return np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b)))


@pytest.mark.parametrize("metric", ["l2", "l1"])
def test_three_distance_computations_agree(metric):
    rng = np.random.default_rng(0)
    Xtr, Xte = rng.standard_normal((40, 30)), rng.standard_normal((15, 30))
    knn = KNearestNeighbor()
    knn.train(Xtr, rng.integers(0, 3, 40))
    two = knn.compute_distances_two_loops(Xte, metric)
    one = knn.compute_distances_one_loop(Xte, metric)
    none = knn.compute_distances_no_loops(Xte, metric)
    assert two.shape == (15, 40)
    ref = np.abs(Xte[:, None] - Xtr[None]).sum(-1) if metric == "l1" else \
        np.sqrt(((Xte[:, None] - Xtr[None]) ** 2).sum(-1))
    np.testing.assert_allclose(two, ref, rtol=1e-12)
    assert _rel_error(two, one) < 1e-6 and _rel_error(two, none) < 1e-6
    # a tiny memory budget forces many chunks; the answer is the same
    small = KNearestNeighbor(max_chunk_bytes=1000)
    small.train(Xtr, np.zeros(40, np.int64))
    assert len(list(small._chunks(Xte, metric))) > 1
    assert _rel_error(two, small.compute_distances_no_loops(Xte, metric)) < 1e-6


def test_no_loop_distance_of_a_point_to_itself_is_zero():
    X = np.random.default_rng(1).standard_normal((5, 3072)).astype(np.float32) * 100
    knn = KNearestNeighbor()
    knn.train(X, np.arange(5))
    d = knn.compute_distances_no_loops(X)
    assert d.dtype == np.float32 and np.all(d >= 0)
    assert np.all(np.diag(d) < 1e-2 * d[~np.eye(5, dtype=bool)].min())
    assert knn.predict(X, k=1).tolist() == [0, 1, 2, 3, 4]


@pytest.mark.parametrize("k", [1, 5, 10])
def test_predictions_match_scikit_learn_brute_force(flat_digits, k):
    from sklearn.neighbors import KNeighborsClassifier

    Xtr, ytr, _, _, Xte, yte = flat_digits
    ref = KNeighborsClassifier(n_neighbors=k, algorithm="brute").fit(Xtr, ytr).predict(Xte)
    knn = KNearestNeighbor()
    knn.train(Xtr, ytr)
    pred = knn.predict(Xte, k=k)
    np.testing.assert_array_equal(pred, ref)
    np.testing.assert_array_equal(knn.predict(Xte[:40], k=k, num_loops=1), ref[:40])
    np.testing.assert_array_equal(knn.predict(Xte[:8], k=k, num_loops=2), ref[:8])
    # L1: the same, except where points tie at the k-th distance (scikit-learn's pick among
    # them is unspecified; ours is the lower training index)
    ref1 = KNeighborsClassifier(n_neighbors=k, algorithm="brute", p=1).fit(Xtr, ytr).predict(Xte)
    pred1 = knn.predict(Xte, k=k, metric="l1")
    d = np.sort(knn.compute_distances_no_loops(Xte, "l1"), axis=1)
    boundary_tie = d[:, k - 1] == d[:, k]
    assert np.all(pred1[~boundary_tie] == ref1[~boundary_tie])
    assert np.mean(pred1 == ref1) > 0.99


def test_tie_breaks_are_deterministic():
    knn = KNearestNeighbor()
    # a tied vote goes to the smallest label
    knn.train(np.array([[1.0], [-1.0], [5.0]]), np.array([7, 3, 3]))
    assert knn.predict(np.array([[0.0]]), k=2).tolist() == [3]
    knn.train(np.array([[1.0], [-1.0]]), np.array([9, 2]))
    assert knn.predict(np.array([[0.0]]), k=2).tolist() == [2]
    # neighbours at equal distance: the lower training index is taken first
    knn.train(np.array([[1.0], [-1.0], [1.0], [-1.0]]), np.array([4, 8, 1, 0]))
    assert knn.predict(np.array([[0.0]]), k=1).tolist() == [4]
    assert knn.predict(np.array([[0.0]]), k=2).tolist() == [4]  # labels 4 and 8: 4 is smaller
    assert knn.predict(np.array([[0.0]]), k=3).tolist() == [1]  # 4, 8, 1 all once: 1
    # many ties straddling the k-th place, in a row of random order
    rng = np.random.default_rng(2)
    X = rng.integers(0, 3, (200, 1)).astype(np.float64)
    y = rng.integers(0, 5, 200)
    knn.train(X, y)
    q = np.array([[0.0], [1.0], [2.0]])
    dists = knn.compute_distances_no_loops(q)
    for k in (1, 7, 60, 150):
        order = np.lexsort((np.broadcast_to(np.arange(200), dists.shape), dists), axis=-1)
        want = [np.argmax(np.bincount(y[o[:k]], minlength=5)) for o in order]
        assert knn.predict(q, k=k).tolist() == want
    assert knn.predict(q, k=1000).shape == (3,)  # k above the training size uses them all


def test_predict_labels_maps_back_to_the_original_labels():
    knn = KNearestNeighbor()
    knn.train(np.array([[0.0], [10.0]]), np.array([-5, 42]))
    assert knn.predict(np.array([[1.0], [9.0]])).tolist() == [-5, 42]
    d = knn.compute_distances_no_loops(np.array([[1.0]]))
    assert knn.predict_labels(d, k=1).tolist() == [-5]


def test_chunked_prediction_equals_unchunked(flat_digits):
    Xtr, ytr, _, _, Xte, _ = flat_digits
    big, small = KNearestNeighbor(), KNearestNeighbor(max_chunk_bytes=20_000)
    big.train(Xtr, ytr)
    small.train(Xtr, ytr)
    assert len(list(small._chunks(Xte, "l2"))) > 50
    for k in (1, 4):
        np.testing.assert_array_equal(small.predict(Xte, k=k), big.predict(Xte, k=k))
    votes = small.kneighbors_votes(Xte, [1, 4])
    np.testing.assert_array_equal(votes[4], big.predict(Xte, k=4))


def test_cross_validation_and_the_digits_target(flat_digits, tmp_path):
    Xtr, ytr, Xva, yva, Xte, yte = flat_digits
    X, y = np.concatenate([Xtr, Xva]), np.concatenate([ytr, yva])
    ks = [1, 3, 5, 8, 10, 20, 50]
    cv = cross_validate(X, y, ks, num_folds=5)
    assert isinstance(cv, CrossValidationResult)
    assert cv.accuracies.shape == (7, 5) and cv.k_choices == ks
    assert cv.best_k == ks[int(np.argmax(cv.accuracies.mean(axis=1)))]
    # fold 0 of k=1 recomputed by hand
    folds = np.array_split(np.arange(len(X)), 5)
    rest = np.concatenate(folds[1:])
    knn = KNearestNeighbor()
    knn.train(X[rest], y[rest])
    assert cv.accuracies[0, 0] == np.mean(knn.predict(X[folds[0]], k=1) == y[folds[0]])
    knn.train(X, y)
    test_acc = np.mean(knn.predict(Xte, k=cv.best_k) == yte)
    assert test_acc >= 0.97, test_acc
    assert plot_cross_validation(cv, tmp_path / "cv.png")
    assert (tmp_path / "cv.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert cv.as_dict()["best_k"] == cv.best_k


def test_bad_input_is_reported():
    knn = KNearestNeighbor()
    with pytest.raises(RuntimeError, match="call train"):
        knn.predict(np.zeros((1, 2)))
    with pytest.raises(ValueError, match="y must be 3 integer labels"):
        knn.train(np.zeros((3, 2)), np.zeros(2, np.int64))
    knn.train(np.zeros((3, 2)), np.arange(3))
    with pytest.raises(ValueError, match="X has 5 features per sample but the training data has 2"):
        knn.predict(np.zeros((1, 5)))
    with pytest.raises(ValueError, match="k must be a positive int, got 0"):
        knn.predict(np.zeros((1, 2)), k=0)
    with pytest.raises(ValueError, match="metric must be 'l1' or 'l2', got 'cos'"):
        knn.predict(np.zeros((1, 2)), metric="cos")
    with pytest.raises(ValueError, match="num_loops must be 0, 1 or 2"):
        knn.predict(np.zeros((1, 2)), num_loops=3)
    with pytest.raises(ValueError, match="num_folds must be an int"):
        cross_validate(np.zeros((3, 2)), np.arange(3), [1], num_folds=5)


def test_prediction_memory_stays_bounded():
    import tracemalloc

    rng = np.random.default_rng(4)
    Xtr = rng.standard_normal((20_000, 8), dtype=np.float32)
    Xte = rng.standard_normal((2_000, 8), dtype=np.float32)
    knn = KNearestNeighbor(max_chunk_bytes=4 * 2**20)
    knn.train(Xtr, rng.integers(0, 10, 20_000))
    tracemalloc.start()
    try:
        pred = knn.predict(Xte, k=5)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    full = len(Xte) * len(Xtr) * 4  # the whole float32 distance matrix: 160 MB
    assert pred.shape == (2_000,) and peak < full / 10, peak
