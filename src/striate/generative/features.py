"""The autoencoder's encoder as a feature extractor when labels are few.

Train a linear classifier on the frozen encoder's codes of 100 labelled digits (10 per class),
and, as the control, the same network (encoder architecture plus the same linear layer) from a
fresh initialisation on the same 100 labels; compare test accuracies.
"""

from __future__ import annotations

import copy

import numpy as np

from .. import backend, nn
from .. import ops as F
from ..autograd.grad_mode import no_grad
from ..autograd.tensor import Tensor
from ..optim import Adam

__all__ = ["few_labels", "feature_experiment"]


def few_labels(y: np.ndarray, per_class: int, seed: int = 0) -> np.ndarray:
    """Indices of ``per_class`` examples of every class, drawn with ``seed``."""
    rng = np.random.default_rng(seed)
    classes, counts = np.unique(y, return_counts=True)
    if per_class > counts.min():
        raise ValueError(f"few_labels: per_class is {per_class} but class {classes.argmin()} "
                         f"has only {counts.min()} examples")
    idx = [rng.choice(np.flatnonzero(y == c), size=per_class, replace=False) for c in classes]
    return np.sort(np.concatenate(idx))


def _fit(model: nn.Module, params, X, y, steps: int, lr: float) -> None:
    opt = Adam(params, lr=lr)
    x, t = Tensor(X.astype(np.float32)), Tensor(y)
    model.train()
    for _ in range(steps):
        loss = F.cross_entropy(model(x), t)
        opt.zero_grad()
        loss.backward()
        opt.step()


def _accuracy(model: nn.Module, X, y) -> float:
    model.eval()
    with no_grad():
        pred = model(Tensor(X.astype(np.float32))).array.argmax(1)
    return float((pred == y).mean())


def feature_experiment(autoencoder, data, labels: int = 100, steps: int = 300,
                       lr: float = 1e-2, seed: int = 0) -> dict:
    """Accuracy on ``data.test`` of a linear head on the frozen, pretrained encoder vs the same
    encoder + head trained from scratch, both on the same ``labels`` training images.

    Returns ``{"labels", "pretrained_acc", "scratch_acc"}``.
    """
    k = data.num_classes
    # 10 per class for 100 labels; fewer where a (small) training set has fewer
    per_class = max(1, min(labels // k, int(np.bincount(data.train.y, minlength=k).min())))
    idx = few_labels(data.train.y, per_class, seed)
    X, y = data.train.X[idx], data.train.y[idx]
    code = autoencoder.code_dim

    pretrained = copy.deepcopy(autoencoder.encoder)
    for p in pretrained.parameters():
        p.requires_grad_(False)
    backend.manual_seed(seed)
    probe = nn.Sequential(pretrained, nn.Linear(code, k))
    _fit(probe, probe[1].parameters(), X, y, steps, lr)

    fresh = copy.deepcopy(autoencoder.encoder)
    backend.manual_seed(seed)
    for m in fresh.modules():
        if hasattr(m, "reset_parameters"):
            m.reset_parameters()
    scratch = nn.Sequential(fresh, nn.Linear(code, k))
    _fit(scratch, scratch.parameters(), X, y, steps, lr)
    return {"labels": int(len(idx)),
            "pretrained_acc": _accuracy(probe, data.test.X, data.test.y),
            "scratch_acc": _accuracy(scratch, data.test.X, data.test.y)}
