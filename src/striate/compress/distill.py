"""Knowledge distillation (Hinton, Vinyals and Dean 2015): a small student learns from a large
teacher's temperature-softened outputs as well as from the labels.

``loss = alpha * T**2 * KL(softmax(t / T) || softmax(s / T)) + (1 - alpha) * CE(s, y)``

A temperature ``T > 1`` spreads the teacher's probability over the wrong classes ("a 7 looks a
bit like a 1"), which carries more information per example than the one-hot label; the ``T**2``
keeps the soft term's gradients on the scale of the hard one's as ``T`` changes.
"""

from __future__ import annotations

import numpy as np

from .. import no_grad, ops
from ..autograd.tensor import Tensor
from ..optim import create_optimizer

__all__ = ["distillation_loss", "distill", "transfer_set"]

IGNORE = -100  # the target of an unlabelled example (cross_entropy's default ignore_index)


def distillation_loss(student_logits: Tensor, teacher_logits, targets, temperature: float = 4.0,
                      alpha: float = 0.9) -> Tensor:
    """Hinton et al.'s loss (module docstring); ``teacher_logits`` carry no gradient.

    A target of -100 (``cross_entropy``'s ``ignore_index``) marks an example without a label:
    it learns from the teacher alone, and the hard term averages over the labelled ones. That
    is a transfer set: unlabelled inputs the teacher labels softly.
    """
    if not temperature > 0:
        raise ValueError(f"distillation_loss: temperature must be > 0, got {temperature}")
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"distillation_loss: alpha must be in [0, 1], got {alpha}")
    t = teacher_logits.array if isinstance(teacher_logits, Tensor) else np.asarray(teacher_logits)
    soft_targets = Tensor(_softmax(t / temperature).astype(student_logits.array.dtype))
    log_p = ops.log_softmax(student_logits / temperature, dim=1)
    # KL(p_t || p_s) = sum p_t (log p_t - log p_s); the p_t log p_t part has no gradient
    kl = ops.kl_div(log_p, soft_targets, reduction="batchmean")
    soft = kl * (alpha * temperature ** 2)
    y = targets.array if isinstance(targets, Tensor) else np.asarray(targets)
    if alpha == 1.0 or not (y != IGNORE).any():
        return soft  # no label in this batch: the teacher is the only signal
    hard = ops.cross_entropy(student_logits, targets, ignore_index=IGNORE)
    return soft + hard * (1.0 - alpha)


def transfer_set(targets, labelled: float, seed: int = 0) -> np.ndarray:
    """The targets of a transfer set: the labels of a stratified fraction ``labelled`` of the
    examples (the same examples for a given ``seed``), -100 for the rest, which then learn from
    the teacher alone in :func:`distillation_loss`.

    Hinton et al. trained a student on 3% of the data with soft targets and lost little; the
    same student on 3% with hard labels overfit. Every class keeps at least one label.
    """
    y = np.asarray(targets)
    if isinstance(labelled, bool) or not isinstance(labelled, (int, float)) \
            or not 0 < labelled <= 1:
        raise ValueError(f"transfer_set: labelled must be a fraction in (0, 1], got {labelled!r}")
    if y.ndim != 1 or y.dtype.kind not in "iu":
        raise ValueError(f"transfer_set: targets must be a 1-d array of class indices, got "
                         f"shape {y.shape} dtype {y.dtype}")
    rng = np.random.default_rng(seed)
    out = np.full_like(y, IGNORE)
    for k in np.unique(y):
        members = rng.permutation(np.flatnonzero(y == k))
        keep = members[:max(1, round(labelled * len(members)))]
        out[keep] = y[keep]
    return out


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def distill(student, teacher, loader, epochs: int = 10, temperature: float = 4.0,
            alpha: float = 0.9, lr: float = 1e-3, optimizer: str = "adam",
            weight_decay: float = 0.0, min_lr: float | None = None) -> list[float]:
    """Train ``student`` on ``loader`` with :func:`distillation_loss` against ``teacher`` (in
    eval mode, no gradients); returns the mean loss of every epoch.

    The teacher labels every batch as the student sees it, so random augmentations in the
    loader are labelled consistently (the teacher's view of a shifted digit, not the original
    label). ``weight_decay`` and ``min_lr`` (a cosine from ``lr`` to it over the epochs) are
    :func:`~striate.compress.finetune`'s, so a label-only baseline can be trained the same way.
    """
    from ..optim.lr_scheduler import CosineAnnealingLR

    opt = create_optimizer(optimizer, list(student.parameters()), lr=lr,
                           weight_decay=weight_decay)
    sched = None if min_lr is None else CosineAnnealingLR(opt, T_max=epochs, eta_min=min_lr)
    teacher.eval()
    history = []
    for _ in range(epochs):
        student.train()
        total = n = 0
        for x, y in loader:
            with no_grad():
                t = teacher(x)
            loss = distillation_loss(student(x), t, y, temperature, alpha)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += float(loss.item()) * len(x)
            n += len(x)
        history.append(total / max(n, 1))
        if sched is not None:
            sched.step()
    return history
