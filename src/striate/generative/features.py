"""The autoencoder's encoder as a feature extractor when labels are few.

The lecture's recipe: train an autoencoder on unlabelled images, throw the decoder away, and
put a classifier on top of the encoder, trained on the few labelled images, either with the
encoder frozen or fine-tuned with it. The control is the same network (the encoder's
architecture plus the same classifier) trained from a fresh initialisation on the same labels.

All three arms get the same classifier head, with the same initial weights, the same optimizer,
learning rate and number of steps: the only difference is where the encoder's weights start and
whether they train. With 100 labels one test image of the 359 is 0.28 points and the draw of the
labels moves an accuracy by several points, so the experiment repeats everything over several
draws of the labels and reports the means (and the per-draw accuracies, whose paired
differences are what the comparison rests on).
"""

from __future__ import annotations

import copy

import numpy as np

from .. import backend, nn
from .. import ops as F
from ..autograd.grad_mode import no_grad
from ..autograd.tensor import Tensor
from ..optim import Adam

__all__ = ["ARMS", "arm_networks", "classifier_head", "feature_encoder", "feature_experiment",
           "few_labels", "paired_difference", "probe_networks"]

ARMS = ("frozen", "finetuned", "scratch")


def few_labels(y: np.ndarray, per_class: int, seed: int = 0) -> np.ndarray:
    """Indices of ``per_class`` examples of every class, drawn with ``seed``."""
    rng = np.random.default_rng(seed)
    classes, counts = np.unique(y, return_counts=True)
    if per_class > counts.min():
        raise ValueError(f"few_labels: per_class is {per_class} but class {classes.argmin()} "
                         f"has only {counts.min()} examples")
    idx = [rng.choice(np.flatnonzero(y == c), size=per_class, replace=False) for c in classes]
    return np.sort(np.concatenate(idx))


def classifier_head(code_dim: int, num_classes: int, hidden: int = 64) -> nn.Sequential:
    """The classifier put on top of an encoder: batch norm of the code, then one hidden ReLU
    layer of ``hidden`` units (``hidden=0``: a linear layer).

    The batch norm puts every code dimension on one scale (an autoencoder's code has whatever
    scale reconstruction left it, which a few hundred Adam steps on a linear layer cannot
    undo); the hidden layer lets the classifier bend its boundaries around the clusters the
    code forms (on the digits a linear head on the frozen code trails this one by 2 to 5
    points: docs/generative.md).
    """
    if hidden:
        return nn.Sequential(nn.BatchNorm1d(code_dim), nn.Linear(code_dim, hidden), nn.ReLU(),
                             nn.Linear(hidden, num_classes))
    return nn.Sequential(nn.BatchNorm1d(code_dim), nn.Linear(code_dim, num_classes))


def feature_encoder(model) -> tuple[nn.Module, int]:
    """The part of a trained model that the classifier reads, and the size of its output.

    An autoencoder's ``encoder`` (its code, ``code_dim`` numbers); a VAE's encoder followed by
    its mean head: the mean of q(z|x) (``latent_dim`` numbers), the VAE's deterministic code
    (a draw of z would add noise the classifier has to average away). The modules are the
    model's own, not copies.
    """
    if hasattr(model, "mu") and hasattr(model, "latent_dim"):
        return nn.Sequential(model.encoder, model.mu), model.latent_dim
    return model.encoder, model.code_dim


def probe_networks(autoencoder, num_classes: int, seed: int = 0,
                   hidden: int = 64) -> dict[str, nn.Sequential]:
    """The three arms' networks, ``encoder -> classifier_head``, before training.

    ``"frozen"``: a copy of the pretrained encoder (:func:`feature_encoder`: an autoencoder's
    encoder, or a VAE's encoder and mean head) with ``requires_grad`` off; ``"finetuned"``: a
    copy of the pretrained encoder that trains; ``"scratch"``: the encoder's architecture
    re-initialised (``reset_parameters``). The head starts from the same weights in all three
    (drawn after ``manual_seed(seed)``); the pretrained model itself is never touched.
    """
    pretrained, code_dim = feature_encoder(autoencoder)
    return arm_networks(pretrained, code_dim, num_classes, seed, hidden)


def arm_networks(pretrained: nn.Module, code_dim: int, num_classes: int, seed: int = 0,
                 hidden: int = 64) -> dict[str, nn.Sequential]:
    """:func:`probe_networks` for any encoder module ``pretrained`` whose output has
    ``code_dim`` numbers (copied, never touched): ``pretrained -> classifier_head`` as the
    frozen, fine-tuned and scratch arms, the head drawn after ``manual_seed(seed)``."""
    nets = {}
    for arm in ARMS:
        encoder = copy.deepcopy(pretrained)
        if arm == "scratch":
            backend.manual_seed(seed + 1)
            for m in encoder.modules():
                if hasattr(m, "reset_parameters"):
                    m.reset_parameters()
        for p in encoder.parameters():
            p.requires_grad_(arm != "frozen")
        backend.manual_seed(seed)
        nets[arm] = nn.Sequential(encoder, classifier_head(code_dim, num_classes, hidden))
    return nets


def _fit(model: nn.Module, X, y, steps: int, lr: float) -> None:
    """Full-batch Adam on the cross-entropy, over the parameters that require a gradient."""
    opt = Adam([p for p in model.parameters() if p.requires_grad], lr=lr)
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
                       lr: float = 1e-3, draws: int = 5, seed: int = 0,
                       hidden: int = 64, progress: bool = False) -> dict:
    """Test accuracy of the classifier on the frozen pretrained encoder, on the fine-tuned
    pretrained encoder, and of the same network from scratch, each trained on ``labels``
    training images, averaged over ``draws`` draws of those images.

    Args:
        autoencoder: a trained autoencoder (``encoder`` and ``code_dim``) or VAE (its encoder
            mean is the code: :func:`feature_encoder`).
        data: a ``DatasetSplits``; labels come from ``data.train``, accuracy from ``data.test``.
        labels: labelled images per draw, spread evenly over the classes.
        steps, lr: full-batch Adam steps and learning rate, the same for every arm.
        draws: draws of the labelled images (draw ``d`` uses seed ``seed + d``).
        hidden: the head's hidden units (:func:`classifier_head`; 0 for a linear head).
        progress: a progress bar over the draws (tqdm).

    Returns:
        ``{"labels", "draws", "frozen_acc", "finetuned_acc", "scratch_acc"}`` (the means over
        the draws), ``"<arm>_accs"``, the per-draw accuracies, in draw order, and
        ``"frozen_minus_scratch"``, ``"finetuned_minus_scratch"``: the paired differences
        (:func:`paired_difference`), what a claim that pretraining helps rests on.
    """
    if draws < 1:
        raise ValueError(f"feature_experiment: draws must be at least 1, got {draws}")
    k = data.num_classes
    # 10 per class for 100 labels; fewer where a (small) training set has fewer
    per_class = max(1, min(labels // k, int(np.bincount(data.train.y, minlength=k).min())))
    accs: dict[str, list[float]] = {arm: [] for arm in ARMS}
    for d in _draws(draws, progress):
        idx = few_labels(data.train.y, per_class, seed + d)
        X, y = data.train.X[idx], data.train.y[idx]
        for arm, net in probe_networks(autoencoder, k, seed + d, hidden).items():
            _fit(net, X, y, steps, lr)
            accs[arm].append(_accuracy(net, data.test.X, data.test.y))
    out: dict = {"labels": int(len(idx)), "draws": draws}
    out.update({f"{arm}_acc": float(np.mean(a)) for arm, a in accs.items()})
    out.update({f"{arm}_accs": a for arm, a in accs.items()})
    for arm in ("frozen", "finetuned"):
        out[f"{arm}_minus_scratch"] = paired_difference(accs[arm], accs["scratch"])
    return out


def _draws(draws: int, progress: bool):
    if not progress:
        return range(draws)
    from tqdm.auto import tqdm  # a dependency of striate

    return tqdm(range(draws), desc=f"{draws} draws of the labels", leave=False,
                dynamic_ncols=True)


def paired_difference(a, b) -> dict:
    """Mean of the per-draw differences ``a - b`` and its standard error (sample standard
    deviation / sqrt(draws); None for one draw). Pairing by draw removes what a draw of the
    labels does to both arms alike, which is most of an accuracy's spread."""
    d = np.subtract(a, b, dtype=np.float64)
    se = float(d.std(ddof=1) / np.sqrt(len(d))) if len(d) > 1 else None
    return {"mean": float(d.mean()), "standard_error": se}
