"""Weight sharing by k-means (Deep Compression's second stage).

The nonzero weights of a layer are clustered into ``2**bits`` centroids; the layer then stores
one small index per weight and the table of centroids. :func:`share_weights` installs this the
way pruning is installed: the centroids become the Parameter ``weight_centroids``, the indices
the buffer ``weight_index``, the nonzero pattern the buffer ``weight_mask``, and a forward
pre-hook computes ``weight = weight_centroids[weight_index] * weight_mask``. Backward of that
gather adds up the gradients of every weight of a cluster into its centroid, which is exactly
the paper's centroid fine-tuning rule (``dL/dc_k = sum over w_ij in cluster k of dL/dw_ij``).
"""

from __future__ import annotations

import numpy as np

from .. import nn
from ..autograd.tensor import Tensor

__all__ = ["kmeans_1d", "share_weights", "unshare_weights", "is_shared", "WeightSharing"]


def kmeans_1d(values: np.ndarray, k: int, init: str = "linear", iters: int = 50,
              rng: np.random.Generator | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Lloyd's k-means on scalars: ``(centroids (k,), labels (n,))``.

    ``init="linear"`` spaces the centroids evenly between the smallest and largest value (the
    paper's best choice: it keeps centroids for the few large weights, which matter most);
    ``"density"`` places them at evenly spaced quantiles; ``"random"`` picks ``k`` values.
    """
    v = np.asarray(values, dtype=np.float64).reshape(-1)
    if v.size == 0:
        raise ValueError("kmeans_1d: values is empty")
    if not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"kmeans_1d: k must be a positive int, got {k!r}")
    if init == "linear":
        c = np.linspace(v.min(), v.max(), k)
    elif init == "density":
        c = np.quantile(v, np.linspace(0, 1, k))
    elif init == "random":
        rng = rng or np.random.default_rng(0)
        c = rng.choice(v, size=k, replace=v.size < k)
    else:
        raise ValueError(f"kmeans_1d: init must be 'linear', 'density' or 'random', got {init!r}")
    c = np.sort(c)
    for _ in range(iters):
        # in 1-D the nearest centroid is found by the midpoints between sorted centroids
        labels = np.searchsorted((c[1:] + c[:-1]) / 2, v)
        sums = np.bincount(labels, weights=v, minlength=k)
        counts = np.bincount(labels, minlength=k)
        new = np.where(counts > 0, sums / np.maximum(counts, 1), c)
        order = np.argsort(new, kind="stable")
        new = new[order]
        if np.allclose(new, c, rtol=0, atol=1e-12):
            c = new
            break
        c = new
    labels = np.searchsorted((c[1:] + c[:-1]) / 2, v)
    return c, labels


class WeightSharing:
    """The forward pre-hook of a weight-shared layer (see the module docstring)."""

    def __init__(self, name: str):
        self._tensor_name = name

    def weight(self, module) -> Tensor:
        n = self._tensor_name
        return (getattr(module, n + "_centroids")[getattr(module, n + "_index")]
                * getattr(module, n + "_mask"))

    def __call__(self, module, inputs):
        setattr(module, self._tensor_name, self.weight(module))


def share_weights(module, name: str = "weight", bits: int = 5, init: str = "linear"):
    """Cluster ``module.name``'s nonzero entries into ``2**bits`` shared values (in place).

    Zeros (pruned weights) stay zero and outside the clusters. Returns the module, whose
    ``name_centroids`` Parameter is what an optimizer should now train.
    """
    if not isinstance(bits, int) or not 1 <= bits <= 16:
        raise ValueError(f"share_weights: bits must be an int in [1, 16], got {bits!r}")
    w = getattr(module, name, None)
    if not isinstance(w, nn.Parameter):
        raise ValueError(f"share_weights: {type(module).__name__}.{name} is not a plain "
                         f"Parameter (finalize pruning first), got {type(w).__name__}")
    a = w.array
    mask = a != 0
    values = a[mask]
    k = 2 ** bits
    index = np.zeros(a.shape, dtype=np.int64)
    if values.size:
        centroids, labels = kmeans_1d(values, min(k, values.size), init=init)
        index[mask] = labels
    else:
        centroids = np.zeros(1)
    del module._parameters[name]
    module.register_parameter(name + "_centroids",
                              nn.Parameter(centroids.astype(a.dtype)))
    module.register_buffer(name + "_index", Tensor(index))
    module.register_buffer(name + "_mask", Tensor(mask.astype(a.dtype)))
    hook = WeightSharing(name)
    setattr(module, name, hook.weight(module))
    module.register_forward_pre_hook(hook)
    return module


def is_shared(module) -> bool:
    """Whether ``module`` or a sub-module carries a weight-sharing hook."""
    return any(isinstance(h, WeightSharing)
               for m in module.modules() for h in m._forward_pre_hooks.values())


def unshare_weights(model):
    """Turn every shared layer of ``model`` back into a plain ``weight`` Parameter holding the
    shared values (so it saves, loads and runs as the original architecture)."""
    for m in model.modules():
        for key, hook in list(m._forward_pre_hooks.items()):
            if isinstance(hook, WeightSharing):
                n = hook._tensor_name
                w = hook.weight(m).array.copy()
                del m._forward_pre_hooks[key]
                del m._parameters[n + "_centroids"]
                del m._buffers[n + "_index"]
                del m._buffers[n + "_mask"]
                m.__dict__.pop(n, None)
                m.register_parameter(n, nn.Parameter(w))
    return model
