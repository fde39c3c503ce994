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

__all__ = ["deep_compression", "dense_bytes", "prune_schedule", "sparse_bytes", "shared_bytes"]


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


def prune_schedule(sparsity, steps: int, schedule: str = "geometric") -> list:
    """The sparsity to reach at each of ``steps`` pruning steps, ending at ``sparsity`` (a
    fraction, or a list of one per layer).

    ``"geometric"`` removes the same fraction of the *surviving* weights at every step (the
    density falls as ``(1 - s) ** (i / steps)``), so the last steps, on a net that has little
    left to lose, are as gentle as the first; ``"linear"`` adds the same number of points of
    sparsity at every step, which makes the last step the harshest (from 72% to 90% zeros it
    removes 64% of what is left).
    """
    if not isinstance(steps, int) or steps < 1:
        raise ValueError(f"prune_schedule: steps must be an int >= 1, got {steps!r}")
    final = np.asarray(sparsity, dtype=np.float64)
    if final.ndim > 1 or not ((final >= 0) & (final < 1)).all():
        raise ValueError(f"prune_schedule: sparsity must be a fraction in [0, 1) or a list of "
                         f"them, got {sparsity!r}")
    if schedule == "linear":
        return [(final * (i + 1) / steps).tolist() for i in range(steps)]
    if schedule == "geometric":
        return [(1 - (1 - final) ** ((i + 1) / steps)).tolist() for i in range(steps)]
    raise ValueError(f"prune_schedule: schedule must be 'geometric' or 'linear', got "
                     f"{schedule!r}")


def deep_compression(model, train_loader, test_loader, sparsity=0.92,
                     steps: int = 4, bits: int = 5, index_bits: int = 5,
                     retrain_epochs: int = 3, centroid_epochs: int = 3, lr: float = 1e-3,
                     scope: str = "layer", anneal_epochs: int = 5, progress: bool = False,
                     val_loader=None, schedule: str = "geometric", lr_decay: float = 0.1,
                     weight_decay: float = 0.0):
    """Compress a trained ``model`` in place with the three stages; returns
    ``(model, report, blobs)``.

    Args:
        sparsity: the final fraction of zero weights (or, with ``scope="layer"``, a list of one
            per prunable layer), reached in ``steps`` steps (:func:`prune_schedule`) of pruning
            + ``retrain_epochs`` of retraining each.
        bits: width of a cluster index (``2**bits`` shared values per layer).
        index_bits: width of a relative index.
        centroid_epochs: epochs of centroid fine-tuning after k-means.
        anneal_epochs: epochs of retraining at ``lr / 10`` (annealed by ``lr_decay`` too)
            after the last pruning step.
        scope: "layer" (every layer to its sparsity) or "global" (one magnitude threshold over
            all layers; it can empty a layer of small weights, such as a head started small).
        val_loader: a validation split (never the test split). Every phase of retraining then
            ends on its best epoch on it, and the report adds ``val_accuracy``.
        schedule: ``"geometric"`` or ``"linear"`` steps of sparsity (:func:`prune_schedule`).
        lr_decay: every phase of retraining lowers its rate from ``lr`` to ``lr * lr_decay``
            along a cosine (1: a constant rate).
        weight_decay: the L2 penalty of every retraining phase (Han et al. retrain with L2).

    Returns:
        The model (plain ``weight`` Parameters holding the decoded shared values), a list of
        ``{"stage", "bytes", "ratio", "accuracy", "sparsity"}`` (dense, pruned, quantized,
        huffman), and the Huffman-coded bytes of every prunable layer (``{name: bytes}``).
    """
    def record(stage, size):
        row = {"stage": stage, "bytes": int(size), "ratio": dense / size,
               "accuracy": evaluate(model, test_loader), "sparsity": _sparsity_of(model)}
        if val_loader is not None:
            row["val_accuracy"] = evaluate(model, val_loader)
        return row

    def fit(m, epochs, rate):
        finetune(m, train_loader, epochs, lr=rate, progress=progress, val_loader=val_loader,
                 weight_decay=weight_decay,
                 min_lr=None if lr_decay == 1 else rate * lr_decay)

    dense = dense_bytes(model)
    report = [record("dense", dense)]

    targets = prune_schedule(sparsity, steps, schedule)
    iterative_prune(model, lambda m: fit(m, retrain_epochs, lr), targets, scope=scope)
    # a last pass at a tenth of the rate settles the sparse net before its weights are shared
    fit(model, anneal_epochs, lr / 10)
    finalize(model)
    report.append(record("pruned", sparse_bytes(model, index_bits)))

    for m, n in prunable(model):
        share_weights(m, n, bits=bits)
    fit(model, centroid_epochs, lr / 3)
    blobs = {}
    names = {id(m): name for name, m in model.named_modules()}
    with no_grad():
        for m, n in prunable(model):
            blobs[f"{names[id(m)]}.{n}"] = huffman.encode_layer(
                getattr(m, n + "_centroids").array, getattr(m, n + "_index").array,
                getattr(m, n + "_mask").array, bits, index_bits)
    unshare_weights(model)
    report.append(record("quantized", shared_bytes(model, bits, index_bits)))

    # the last stage is lossless: load the decoded bytes into the model and measure again
    for (m, n), blob in zip(prunable(model), blobs.values()):
        w = getattr(m, n)
        w.array[...] = huffman.decode_layer(blob)
        w._bump_version()
    size = sum(len(b) for b in blobs.values()) + _other_bytes(model)
    report.append(record("huffman", size))
    return model, report, blobs
