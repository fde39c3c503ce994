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

__all__ = ["distillation_loss", "distill"]


def distillation_loss(student_logits: Tensor, teacher_logits, targets, temperature: float = 4.0,
                      alpha: float = 0.9) -> Tensor:
    """Hinton et al.'s loss (module docstring); ``teacher_logits`` carry no gradient."""
    if not temperature > 0:
        raise ValueError(f"distillation_loss: temperature must be > 0, got {temperature}")
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"distillation_loss: alpha must be in [0, 1], got {alpha}")
    t = teacher_logits.array if isinstance(teacher_logits, Tensor) else np.asarray(teacher_logits)
    soft_targets = Tensor(_softmax(t / temperature).astype(student_logits.array.dtype))
    log_p = ops.log_softmax(student_logits / temperature, dim=1)
    # KL(p_t || p_s) = sum p_t (log p_t - log p_s); the p_t log p_t part has no gradient
    kl = ops.kl_div(log_p, soft_targets, reduction="batchmean")
    hard = ops.cross_entropy(student_logits, targets)
    return kl * (alpha * temperature ** 2) + hard * (1.0 - alpha)


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def distill(student, teacher, loader, epochs: int = 10, temperature: float = 4.0,
            alpha: float = 0.9, lr: float = 1e-3, optimizer: str = "adam") -> list[float]:
    """Train ``student`` on ``loader`` with :func:`distillation_loss` against ``teacher`` (in
    eval mode, no gradients); returns the mean loss of every epoch."""
    opt = create_optimizer(optimizer, list(student.parameters()), lr=lr)
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
    return history
