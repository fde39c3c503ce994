"""Do the samples look like digits? A trained classifier labels them.

For each sample the classifier's softmax gives a top class and its probability; good samples
get confident labels (a high mean top-class confidence) and cover every class (no class takes
much more than its 10% share: a collapsed generator would put most samples in one class).
"""

from __future__ import annotations

import numpy as np

from ..autograd.grad_mode import no_grad
from ..autograd.tensor import Tensor

__all__ = ["label_samples"]


def label_samples(classifier, samples: np.ndarray, normalize=None, num_classes: int = 10,
                  batch_size: int = 500) -> dict:
    """Label ``samples`` (N, C, H, W) in [0, 1] with ``classifier`` (logits out).

    Args:
        normalize: the classifier's input transform (e.g. a run's fitted ``Normalize``).

    Returns:
        ``{"n", "mean_confidence", "top_class_share", "top_class", "class_counts"}``.
    """
    if samples.ndim != 4:
        raise ValueError(f"label_samples: samples must be (N, C, H, W), got {samples.shape}")
    classifier.eval()
    probs = []
    with no_grad():
        for s in range(0, len(samples), batch_size):
            x = samples[s:s + batch_size].astype(np.float32)
            if normalize is not None:
                x = normalize(x)
            z = classifier(Tensor(x)).array.astype(np.float64)
            p = np.exp(z - z.max(1, keepdims=True))
            probs.append(p / p.sum(1, keepdims=True))
    p = np.concatenate(probs)
    top = p.argmax(1)
    counts = np.bincount(top, minlength=num_classes)
    return {"n": int(len(p)), "mean_confidence": float(p.max(1).mean()),
            "top_class_share": float(counts.max() / len(p)), "top_class": int(counts.argmax()),
            "class_counts": counts.tolist()}
