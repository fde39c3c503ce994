"""Deep Compression (Han, Mao and Dally 2016): pruning, weight sharing, Huffman coding.

:func:`deep_compression` runs the three stages on a trained model, retraining after the first
two, and reports after each stage the size in bytes and the accuracy:

1. prune: iterative magnitude pruning to ``sparsity`` with retraining between steps; stored as
   sparse entries of a float32 value and an ``index_bits`` relative index;
2. quantize: k-means weight sharing of each layer's surviving weights into ``2**bits``
   centroids, then fine-tuning of the centroids (gradients summed per cluster); an entry is
   now a ``bits``-wide cluster index and a relative index, plus a float32 codebook per layer;
3. Huffman: both index streams Huffman-coded (lossless), written as bytes by
   :func:`~striate.compress.huffman.encode_layer` and decoded back into the returned model.

Parameters that are not prunable weights (biases, batch-norm) are stored as float32 at every
stage and counted in the sizes.
"""

from __future__ import annotations

import numpy as np

from .. import no_grad
from . import huffman
from .fit import evaluate, finetune
from .pruning import finalize, iterative_prune, prunable
from .pruning import sparsity as _sparsity_of
from .sharing import share_weights, unshare_weights

__all__ = ["deep_compression", "dense_bytes", "sparse_bytes", "shared_bytes"]


def _other_bytes(model) -> int:
    """float32 bytes of every parameter and persistent buffer that is not a prunable weight."""
    weights = {id(getattr(m, n)) for m, n in prunable(model)}
    return 4 * sum(t.array.size for t in model.state_dict(keep_vars=True).values()
                   if id(t) not in weights and t.array.dtype.kind == "f")


def dense_bytes(model) -> int:
    """float32 bytes of the whole model."""
    return 4 * sum(t.array.size for t in model.state_dict(keep_vars=True).values()
                   if t.array.dtype.kind == "f")


def _entries(w: np.ndarray, index_bits: int) -> int:
    gaps, _ = huffman.relative_indices(np.flatnonzero(w.reshape(-1)), index_bits)
    return len(gaps)


def sparse_bytes(model, index_bits: int = 5) -> int:
    """Bytes of the pruned model stored as float32 values with relative indices."""
    bits = sum(huffman.stage_bits(_entries(getattr(m, n).array, index_bits), 32, index_bits)
               for m, n in prunable(model))
    return (bits + 7) // 8 + _other_bytes(model)


def shared_bytes(model, bits: int, index_bits: int = 5) -> int:
    """Bytes of the pruned, weight-shared model: fixed-width cluster and relative indices plus
    a float32 codebook per layer."""
    total = 0
    for m, n in prunable(model):
        k = len(np.unique(getattr(m, n).array[getattr(m, n).array != 0]))
        total += huffman.stage_bits(_entries(getattr(m, n).array, index_bits), bits, index_bits,
                                    codebook=k)
    return (total + 7) // 8 + _other_bytes(model)


def deep_compression(model, train_loader, test_loader, sparsity=0.92,
                     steps: int = 4, bits: int = 5, index_bits: int = 5,
                     retrain_epochs: int = 3, centroid_epochs: int = 3, lr: float = 1e-3,
                     scope: str = "layer", anneal_epochs: int = 5, progress: bool = False):
    """Compress a trained ``model`` in place with the three stages; returns
    ``(model, report, blobs)``.

    Args:
        sparsity: the final fraction of zero weights (or, with ``scope="layer"``, a list of one
            per prunable layer), reached in ``steps`` equal steps of pruning +
            ``retrain_epochs`` of retraining each.
        bits: width of a cluster index (``2**bits`` shared values per layer).
        index_bits: width of a relative index.
        centroid_epochs: epochs of centroid fine-tuning after k-means.
        anneal_epochs: epochs of retraining at ``lr / 10`` after the last pruning step.
        scope: "layer" (every layer to its sparsity) or "global" (one magnitude threshold over
            all layers; it can empty a layer of small weights, such as a head started small).

    Returns:
        The model (plain ``weight`` Parameters holding the decoded shared values), a list of
        ``{"stage", "bytes", "ratio", "accuracy", "sparsity"}`` (dense, pruned, quantized,
        huffman), and the Huffman-coded bytes of every prunable layer (``{name: bytes}``).
    """
    def record(stage, size, acc):
        return {"stage": stage, "bytes": int(size), "ratio": dense / size,
                "accuracy": acc, "sparsity": _sparsity_of(model)}

    dense = dense_bytes(model)
    report = [record("dense", dense, evaluate(model, test_loader))]

    def fit(m):
        finetune(m, train_loader, retrain_epochs, lr=lr, progress=progress)

    final = np.asarray(sparsity, dtype=np.float64)
    targets = [(final * (i + 1) / steps).tolist() for i in range(steps)]
    iterative_prune(model, fit, targets, scope=scope)
    # a last pass at a tenth of the rate settles the sparse net before its weights are shared
    finetune(model, train_loader, anneal_epochs, lr=lr / 10, progress=progress)
    finalize(model)
    report.append(record("pruned", sparse_bytes(model, index_bits),
                         evaluate(model, test_loader)))

    for m, n in prunable(model):
        share_weights(m, n, bits=bits)
    finetune(model, train_loader, centroid_epochs, lr=lr / 3, progress=progress)
    blobs = {}
    names = {id(m): name for name, m in model.named_modules()}
    with no_grad():
        for m, n in prunable(model):
            blobs[f"{names[id(m)]}.{n}"] = huffman.encode_layer(
                getattr(m, n + "_centroids").array, getattr(m, n + "_index").array,
                getattr(m, n + "_mask").array, bits, index_bits)
    unshare_weights(model)
    report.append(record("quantized", shared_bytes(model, bits, index_bits),
                         evaluate(model, test_loader)))

    # the last stage is lossless: load the decoded bytes into the model and measure again
    for (m, n), blob in zip(prunable(model), blobs.values()):
        w = getattr(m, n)
        w.array[...] = huffman.decode_layer(blob)
        w._bump_version()
    size = sum(len(b) for b in blobs.values()) + _other_bytes(model)
    report.append(record("huffman", size, evaluate(model, test_loader)))
    return model, report, blobs

