"""Model-level pruning (magnitude, global, iterative, DSD) and k-means weight sharing (filters:
test_compress_channels.py)."""

import numpy as np
import pytest

import striate
from striate import compress, nn
from striate.data import DataLoader, TensorDataset
from striate.nn.utils import prune


def _mlp(hidden=32):
    return nn.Sequential(nn.Flatten(), nn.Linear(16, hidden), nn.ReLU(), nn.Linear(hidden, 3))


def _blobs(rng, n=96):
    """Three separable clusters of 16-d points: a task a tiny MLP learns in a few epochs."""
    y = rng.integers(0, 3, n)
    centres = rng.standard_normal((3, 16)) * 2
    x = (centres[y] + rng.standard_normal((n, 16))).astype(np.float32)
    return DataLoader(TensorDataset(x, y.astype(np.int64)), batch_size=32, shuffle=True)


def test_magnitude_prune_per_layer_and_global():
    m = _mlp()
    compress.magnitude_prune(m, 0.5)
    for layer, _ in compress.prunable(m):
        assert (layer.weight.array == 0).mean() == pytest.approx(0.5)
    compress.magnitude_prune(m, 0.75)  # counted from the dense model, not 0.5 of what is left
    assert compress.sparsity(m) == pytest.approx(0.75)
    g = _mlp()
    compress.magnitude_prune(g, 0.6, scope="global")
    assert compress.sparsity(g) == pytest.approx(0.6, abs=1e-3)
    # one threshold: every surviving weight is at least as large as every pruned one
    kept = np.concatenate([l.weight_orig.array[l.weight_mask.array == 1]
                           for l, _ in compress.prunable(g)])
    gone = np.concatenate([l.weight_orig.array[l.weight_mask.array == 0]
                           for l, _ in compress.prunable(g)])
    assert np.abs(kept).min() >= np.abs(gone).max()
    with pytest.raises(ValueError, match="magnitude_prune: scope must be"):
        compress.magnitude_prune(_mlp(), 0.5, scope="net")
    with pytest.raises(ValueError, match="one per prunable layer \\(2\\), got 3"):
        compress.magnitude_prune(_mlp(), [0.1, 0.2, 0.3])


def test_retraining_keeps_pruned_weights_at_zero_and_finalize(rng, tmp_path):
    m = _mlp()
    compress.magnitude_prune(m, 0.7)
    zeros = [(l.weight.array == 0) for l, _ in compress.prunable(m)]
    compress.finetune(m, _blobs(rng), epochs=2, lr=1e-2)
    compress.finalize(m)
    assert not prune.is_pruned(m)
    for (l, _), z in zip(compress.prunable(m), zeros):
        assert (l.weight.array[z] == 0).all() and isinstance(l.weight, nn.Parameter)
    striate.save(m.state_dict(), tmp_path / "m.pt")
    fresh = _mlp()
    fresh.load_state_dict(striate.load(tmp_path / "m.pt"))
    assert compress.sparsity(fresh) == pytest.approx(0.7, abs=1e-3)


def test_iterative_prune_and_dsd_phases(rng):
    loader = _blobs(rng)
    m = _mlp()
    seen = []
    hist = compress.iterative_prune(m, lambda mm: seen.append(compress.sparsity(mm)),
                                    [0.3, 0.6], evaluate=lambda mm: compress.sparsity(mm))
    assert seen == pytest.approx([0.3, 0.6], abs=1e-3)
    assert [h["sparsity"] for h in hist] == pytest.approx([0.3, 0.6], abs=1e-3)
    d = _mlp()
    compress.finetune(d, loader, epochs=2, lr=1e-2)
    phases = []
    compress.dsd(d, lambda mm: phases.append(("sparse", prune.is_pruned(mm))), target=0.5,
                 fit_dense=lambda mm: (compress.finetune(mm, loader, 1, lr=1e-3),
                                       phases.append(("dense", prune.is_pruned(mm)))))
    assert phases == [("sparse", True), ("dense", False)]
    assert compress.sparsity(d) < 0.05  # the re-dense phase grew the pruned weights back


def test_kmeans_1d_matches_scikit_learn(rng):
    KMeans = pytest.importorskip("sklearn.cluster").KMeans
    v = np.concatenate([rng.normal(-1, 0.2, 200), rng.normal(0.5, 0.1, 100),
                        rng.normal(2, 0.3, 50)])
    c, labels = compress.kmeans_1d(v, 6, iters=300)
    init = np.linspace(v.min(), v.max(), 6)[:, None]
    ref = KMeans(n_clusters=6, init=init, n_init=1, max_iter=300, tol=0).fit(v[:, None])
    np.testing.assert_allclose(c, np.sort(ref.cluster_centers_[:, 0]), atol=1e-8, rtol=1e-8)
    np.testing.assert_allclose(c[labels], ref.cluster_centers_[ref.labels_, 0], atol=1e-8,
                               rtol=1e-8)


def test_shared_weights_sum_gradients_per_cluster(rng):
    lin = nn.Linear(12, 7).double()
    compress.magnitude_prune(lin, 0.3)
    compress.finalize(lin)
    plain = lin.weight.array.copy()
    compress.share_weights(lin, bits=3)
    w = lin.weight.array
    assert len(np.unique(w[w != 0])) <= 8 and ((w == 0) == (plain == 0)).all()
    x = striate.tensor(rng.standard_normal((5, 12)))
    g_out = rng.standard_normal((5, 7))
    (lin(x) * striate.tensor(g_out)).sum().backward()
    # dL/dW of the same layer, then summed over each cluster's kept weights
    dw = g_out.T @ x.array
    idx, mask = lin.weight_index.array, lin.weight_mask.array
    expected = np.bincount(idx[mask == 1], weights=dw[mask == 1], minlength=8)
    np.testing.assert_allclose(lin.weight_centroids.grad.array, expected, atol=1e-12, rtol=1e-10)
    assert compress.is_shared(lin)
    compress.unshare_weights(lin)
    assert sorted(lin.state_dict()) == ["bias", "weight"]
    np.testing.assert_array_equal(lin.weight.array, w)


def test_deep_compression_stages_shrink_and_huffman_is_lossless(rng):
    loader = _blobs(rng)
    m = _mlp(256)  # big enough for Huffman's tables (41 bytes a layer) to pay
    compress.finetune(m, loader, epochs=3, lr=1e-2)
    m, report, blobs = compress.deep_compression(m, loader, loader, sparsity=[0.8, 0.5], steps=2,
                                                 bits=3, retrain_epochs=1, centroid_epochs=1)
    assert [r["stage"] for r in report] == ["dense", "pruned", "quantized", "huffman"]
    sizes = [r["bytes"] for r in report]
    assert sizes == sorted(sizes, reverse=True) and sizes[0] == 4 * (16 * 256 + 256 + 256 * 3 + 3)
    assert report[3]["accuracy"] == report[2]["accuracy"]
    assert report[3]["bytes"] == sum(len(b) for b in blobs.values()) + 4 * (256 + 3)
    assert sorted(blobs) == ["1.weight", "3.weight"]
    assert sorted(m.state_dict()) == ["1.bias", "1.weight", "3.bias", "3.weight"]
    assert len(np.unique(m[1].weight.array)) <= 2 ** 3 + 1
