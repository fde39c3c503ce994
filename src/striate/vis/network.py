"""Looking at a trained network: its first layer's filters, activation maps, nearest neighbours
and 2-D embeddings (PCA, t-SNE) of the last hidden layer's features, maximally activating
patches of a channel, and occlusion maps."""

from __future__ import annotations

import numpy as np

from .. import nn
from .gradients import check_class, scores
from .images import make_grid
from .layers import activations, get_layer, last_linear_name, receptive_field

__all__ = ["first_conv", "filter_grid", "activation_grid", "hidden_features",
           "nearest_neighbors", "embed", "knn_accuracy", "max_activating_patches",
           "occlusion_map"]


def _normed(X, norm):
    X = np.asarray(X, dtype=np.float32)
    return X if norm is None else norm(X).astype(np.float32)


def first_conv(model):
    """(name, module) of the model's first ``nn.Conv2d``.

    Raises:
        ValueError: the model has no convolution.
    """
    for n, m in model.named_modules():
        if isinstance(m, nn.Conv2d):
            return n, m
    raise ValueError(f"first_conv: {type(model).__name__} has no nn.Conv2d layer (a "
                     "fully-connected model has no filters to show)")


def filter_grid(model, nrow: int = 8, pad: int = 1) -> np.ndarray:
    """The first convolution's filters (F, C, HH, WW) tiled into one image, each rescaled to
    [0, 1] (filters have no fixed range). C = 3 shows colour; C = 1 grey."""
    _, conv = first_conv(model)
    w = conv.weight.detach().numpy()
    if w.shape[1] not in (1, 3):  # show each input channel's slice as a grey filter
        w = w.reshape(-1, 1, *w.shape[2:])
    return make_grid(w, nrow=nrow, pad=pad, rescale_each=True)


def activation_grid(model, image, name: str, norm=None, nrow: int = 8) -> np.ndarray:
    """The activation maps of layer ``name`` for one image (C, H, W), one tile per channel,
    tiled into an image (all channels share one scale, so the bright ones are the active ones)."""
    a = activations(model, _normed(np.asarray(image)[None], norm), name)[0]
    if a.ndim != 3:
        raise ValueError(f"activation_grid: layer {name!r} gives shape {a.shape} "
                         "per image, not (C, H, W) maps")
    hi = float(np.abs(a).max()) or 1.0
    return make_grid(np.clip(a / hi, 0, 1)[:, None], nrow=nrow, pad=1)


def hidden_features(model, X, norm=None, layer: str | None = None,
                    batch_size: int = 512) -> np.ndarray:
    """The last hidden layer's features: the input of the classifier (the last ``nn.Linear``,
    or the input of ``layer`` when named), flattened to (N, D)."""
    name = layer or last_linear_name(model)
    get_layer(model, name)
    X = _normed(X, norm)
    out = [activations(model, X[i:i + batch_size], name, inputs=True)
           for i in range(0, len(X), batch_size)]
    f = np.concatenate(out)
    return f.reshape(len(f), -1)


def nearest_neighbors(query: np.ndarray, database: np.ndarray, k: int = 5) -> np.ndarray:
    """Indices (Q, k) of the ``k`` nearest rows of ``database`` to each row of ``query`` in L2
    distance (ties to the lower index)."""
    d = ((query ** 2).sum(1)[:, None] - 2 * query @ database.T + (database ** 2).sum(1)[None])
    return np.argsort(d, axis=1, kind="stable")[:, :k]


def embed(features: np.ndarray, method: str = "tsne", seed: int = 0,
          perplexity: float = 30.0) -> np.ndarray:
    """2-D embedding (N, 2) of features: ``"pca"`` (the two main directions) or ``"tsne"``
    (scikit-learn's t-SNE, initialised by PCA)."""
    from sklearn.decomposition import PCA

    if method == "pca":
        return PCA(n_components=2, random_state=seed).fit_transform(features)
    if method == "tsne":
        from sklearn.manifold import TSNE

        perplexity = min(perplexity, (len(features) - 1) / 3)
        return TSNE(n_components=2, init="pca", random_state=seed,
                    perplexity=perplexity).fit_transform(features)
    raise ValueError(f"embed: method must be 'pca' or 'tsne', got {method!r}")


def knn_accuracy(points: np.ndarray, labels: np.ndarray, k: int = 5) -> float:
    """Leave-one-out k-nearest-neighbour accuracy (majority vote, ties to the nearest class):
    how well an embedding keeps the classes apart."""
    labels = np.asarray(labels)
    idx = nearest_neighbors(points, points, k + 1)[:, 1:]  # drop each point itself
    correct = 0
    for i, row in enumerate(idx):
        votes = labels[row]
        counts = np.bincount(votes)
        best = np.flatnonzero(counts == counts.max())
        # a tie goes to the tied class met first among the neighbours
        pick = next(v for v in votes if v in best)
        correct += pick == labels[i]
    return correct / len(labels)


def max_activating_patches(model, X, name: str, channel: int, k: int = 16, norm=None):
    """The ``k`` dataset patches that most excite one channel of layer ``name``.

    Each image contributes its most active unit of that channel; the patch is that unit's
    receptive field (``receptive_field``), cut from the image, with zeros where the field
    reaches past the border (where the layer saw the padding).

    Returns:
        (patches (k, C, S, S), values (k,), image indices (k,), unit positions (k, 2)).
    """
    X = np.asarray(X, dtype=np.float32)
    a = np.concatenate([activations(model, _normed(X[i:i + 256], norm), name)
                        for i in range(0, len(X), 256)])
    if a.ndim != 4:
        raise ValueError(f"max_activating_patches: layer {name!r} gives shape {a.shape[1:]} "
                         "per image, not (C, H, W) maps")
    check_class(a.shape[1], channel, f"channel of layer {name!r}")
    amap = a[:, channel]
    flat = amap.reshape(len(amap), -1)
    best_pos = flat.argmax(1)
    best_val = flat.max(1)
    order = np.argsort(-best_val, kind="stable")[:k]
    rf = receptive_field(model, name)
    sh, sw = rf.size
    pad = max(sh, sw)
    Xp = np.pad(X, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    patches, pos = [], []
    for n in order:
        i, j = divmod(int(best_pos[n]), amap.shape[2])
        t, lft, _, _ = rf.box(i, j)
        patches.append(Xp[n, :, t + pad:t + pad + sh, lft + pad:lft + pad + sw])
        pos.append((i, j))
    return np.stack(patches), best_val[order], order, np.array(pos)


def occlusion_map(model, image, label: int, norm=None, patch: int = 2, stride: int = 1,
                  fill: float = 0.5, batch_size: int = 256) -> np.ndarray:
    """Occlusion sensitivity (Zeiler & Fergus 2014): slide a ``patch``-pixel square of value
    ``fill`` (grey) over the image and record the probability of class ``label`` with the patch
    centred at each position. Low values mark the parts the decision rests on.

    Returns:
        (H', W') probabilities, one per patch position (stride ``stride``).
    """
    import striate

    from .. import functional as F

    image = np.asarray(image, dtype=np.float32)
    c, h, w = image.shape
    if not 1 <= patch <= min(h, w):
        raise ValueError(f"occlusion_map: patch must be 1..{min(h, w)} pixels, got {patch}")
    tops = range(0, h - patch + 1, stride)
    lefts = range(0, w - patch + 1, stride)
    batch = []
    for t in tops:
        for lft in lefts:
            x = image.copy()
            x[:, t:t + patch, lft:lft + patch] = fill
            batch.append(x)
    batch = np.stack(batch)
    probs = []
    with striate.no_grad():
        for i in range(0, len(batch), batch_size):
            s = scores(model, striate.tensor(batch[i:i + batch_size]), norm)
            check_class(s.shape[1], label)
            probs.append(F.softmax(s, dim=1).numpy()[:, label])
    return np.concatenate(probs).reshape(len(tops), len(lefts))
