"""Measuring robustness: accuracy under attack, robustness curves, transfer and ensembles.

All functions take pixel images (N, C, H, W) in [0, 1] as arrays and a model of pixels (wrap a
model trained on normalised inputs in ``Normalized``); they attack in batches.
"""

from __future__ import annotations

import numpy as np

from .. import nn, no_grad
from ..autograd.tensor import Tensor
from ..train.adversarial import fgsm, pgd

__all__ = ["ATTACKS", "EnsembleModel", "adversarial_accuracy", "attack", "plot_robustness",
           "predict", "robustness_curve", "transfer_rate"]

ATTACKS = {"fgsm": fgsm, "pgd": pgd}


def predict(model, X: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """The predicted class of every image of ``X`` (eval mode, no gradients, in batches)."""
    was = getattr(model, "training", None)
    if was is not None:
        model.eval()
    out = []
    with no_grad():
        for i in range(0, len(X), batch_size):
            out.append(model(Tensor(X[i:i + batch_size])).array.argmax(axis=1))
    if was is not None:
        model.train(was)
    return np.concatenate(out)


def attack(model, X, y, method: str = "fgsm", eps: float = 0.1, batch_size: int = 256,
           **kwargs) -> np.ndarray:
    """Adversarial versions of the images ``X`` (an array), made with ``method`` ("fgsm" or
    "pgd", with its keyword arguments) in batches of ``batch_size``."""
    if method not in ATTACKS:
        raise ValueError(f"attack: method must be one of {sorted(ATTACKS)}, got {method!r}")
    fn = ATTACKS[method]
    X = np.asarray(X, dtype=np.float32)
    y = np.asarray(y)
    return np.concatenate([fn(model, X[i:i + batch_size], y[i:i + batch_size], eps,
                              **kwargs).array for i in range(0, len(X), batch_size)])


def adversarial_accuracy(model, X, y, method: str = "fgsm", eps: float = 0.1,
                         batch_size: int = 256, **kwargs) -> float:
    """Accuracy of ``model`` on adversarial versions of ``(X, y)`` made against itself."""
    adv = attack(model, X, y, method, eps, batch_size, **kwargs)
    return float((predict(model, adv, batch_size) == np.asarray(y)).mean())


def robustness_curve(model, X, y, eps_values, method: str = "fgsm", batch_size: int = 256,
                     **kwargs) -> list[tuple[float, float]]:
    """``[(eps, accuracy under attack)]`` for every eps (eps = 0 is the clean accuracy)."""
    return [(float(e), adversarial_accuracy(model, X, y, method, float(e), batch_size, **kwargs))
            for e in eps_values]


class EnsembleModel(nn.Module):
    """The mean of several models' log-probabilities: attacking it (Liu et al. 2017's ensemble
    attack) finds perturbations that fool all of them at once, which transfer better to an
    unseen model than those of any one source."""

    def __init__(self, models):
        super().__init__()
        models = list(models)
        if not models:
            raise ValueError("EnsembleModel: models is empty")
        self.members = nn.ModuleList(models)

    def forward(self, x):
        from .. import ops

        out = None
        for m in self.members:
            lp = ops.log_softmax(m(x), dim=1)
            out = lp if out is None else out + lp
        return out / len(self.members)


def transfer_rate(source, target, X, y, method: str = "fgsm", eps: float = 0.1,
                  batch_size: int = 256, **kwargs) -> dict:
    """How often adversarial examples made against ``source`` also fool ``target``.

    Counted over the images both models classify correctly and whose adversarial version fools
    the source (Papernot et al.'s transferability). Returns ``{"transfer_rate", "source_acc",
    "target_acc", "source_adv_acc", "target_adv_acc", "n"}`` (accuracies on the clean and the
    source's adversarial images).
    """
    y = np.asarray(y)
    adv = attack(source, X, y, method, eps, batch_size, **kwargs)
    s_clean = predict(source, np.asarray(X, np.float32), batch_size) == y
    t_clean = predict(target, np.asarray(X, np.float32), batch_size) == y
    s_adv = predict(source, adv, batch_size) == y
    t_adv = predict(target, adv, batch_size) == y
    pool = s_clean & t_clean & ~s_adv
    rate = float((~t_adv[pool]).mean()) if pool.any() else float("nan")
    return {"transfer_rate": rate, "n": int(pool.sum()),
            "source_acc": float(s_clean.mean()), "target_acc": float(t_clean.mean()),
            "source_adv_acc": float(s_adv.mean()), "target_adv_acc": float(t_adv.mean())}


def plot_robustness(curves: dict, path, title: str = "accuracy under attack") -> None:
    """Plot ``{label: [(eps, accuracy), ...]}`` to the image file ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.4), dpi=100)
    for label, pts in curves.items():
        e, a = zip(*pts)
        ax.plot(e, [100 * v for v in a], marker="o", ms=3, label=label)
    ax.set_xlabel("eps (L-inf, pixel units)")
    ax.set_ylabel("accuracy (%)")
    ax.set_ylim(0, 100)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
