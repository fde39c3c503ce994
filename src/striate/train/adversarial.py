"""Adversarial examples and adversarial training's objective.

The attacks live here, below the applications, because training uses them
(``Trainer(..., adversarial=AdversarialObjective(...))``, ``striate train --adversarial``);
``striate.adversarial`` re-exports them with the evaluation tools (robustness curves, transfer
and ensemble attacks).

Attacks work in pixel space: ``x`` in ``clamp`` (default [0, 1]) and ``eps`` in pixel units; a
model trained on normalised inputs is attacked through :class:`Normalized`, which puts
``(x - mean) / std`` in front of it. Every attack returns a detached tensor and leaves the
parameters' ``.grad`` alone (it differentiates with ``striate.autograd.grad``).

- FGSM (Goodfellow et al. 2015): ``x + eps * sign(dL/dx)``, one step.
- PGD (Madry et al. 2018): ``steps`` steps of size ``alpha`` from a random point of the ball,
  projected back onto the L-inf or L2 ball of radius ``eps`` and the valid pixel range after each.
- Targeted attacks descend the loss of a chosen ``target`` label instead of ascending the true
  label's.
"""

from __future__ import annotations

import numbers

import numpy as np

from .. import backend, nn, ops
from ..autograd import grad as _grad
from ..autograd.grad_mode import enable_grad
from ..autograd.tensor import Tensor

__all__ = ["fgsm", "pgd", "Normalized", "AdversarialObjective", "input_gradient"]


class Normalized(nn.Module):
    """``model((x - mean) / std)``: a model trained on normalised inputs, as a model of pixels.

    ``mean`` and ``std`` broadcast against one sample (C, H, W), e.g. (C, 1, 1) per channel;
    ``striate.data.transforms.Normalize`` has them as ``.mean`` and ``.std``.
    """

    def __init__(self, model, mean, std):
        super().__init__()
        self.model = model
        self.register_buffer("mean", Tensor(np.asarray(mean, dtype=np.float32)),
                             persistent=False)
        self.register_buffer("std", Tensor(np.asarray(std, dtype=np.float32)), persistent=False)

    def forward(self, x):
        return self.model((x - self.mean) / self.std)


def _array(x) -> np.ndarray:
    return x.array if isinstance(x, Tensor) else np.asarray(x)


def _check(where: str, eps, clamp) -> None:
    if not isinstance(eps, numbers.Real) or isinstance(eps, bool) or not eps >= 0:
        raise ValueError(f"{where}: eps must be a number >= 0, got {eps!r}")
    if clamp is not None and not (len(clamp) == 2 and clamp[0] < clamp[1]):
        raise ValueError(f"{where}: clamp must be (low, high) with low < high, got {clamp!r}")


def input_gradient(model, x: np.ndarray, y: np.ndarray, loss_fn=None) -> np.ndarray:
    """``dL/dx`` of ``loss_fn(model(x), y)`` (cross-entropy by default) as an array; the model's
    parameters' ``.grad`` are untouched."""
    loss_fn = loss_fn or ops.cross_entropy
    xt = Tensor(np.asarray(x, dtype=np.float32), requires_grad=True)
    with enable_grad():
        loss = loss_fn(model(xt), Tensor(np.asarray(y)))
        (g,) = _grad(loss, [xt])
    return g.array


class _EvalMode:
    """Run the attack with dropout off and batch-norm's running statistics (restored after)."""

    def __init__(self, model):
        self.model = model
        self.was = getattr(model, "training", None)

    def __enter__(self):
        if self.was is not None:
            self.model.eval()

    def __exit__(self, *exc):
        if self.was is not None:
            self.model.train(self.was)


def fgsm(model, x, y, eps: float, targeted: bool = False, clamp=(0.0, 1.0),
         loss_fn=None) -> Tensor:
    """The fast gradient sign method: ``x + eps * sign(dL(model(x), y)/dx)``.

    Args:
        model: a callable of pixel tensors (N, C, H, W) to class scores.
        x: images (Tensor or array) in ``clamp``.
        y: true labels (N,); with ``targeted=True`` the labels to reach instead, and the step
            goes down their loss: ``x - eps * sign(dL(model(x), target)/dx)``.
        eps: the L-inf size of the perturbation, in pixel units.
        clamp: the valid pixel range, or None.

    Returns:
        The adversarial images, a detached Tensor of x's shape.
    """
    _check("fgsm", eps, clamp)
    x0 = _array(x).astype(np.float32)
    with _EvalMode(model):
        g = input_gradient(model, x0, _array(y), loss_fn)
    step = -np.sign(g) if targeted else np.sign(g)
    adv = x0 + np.float32(eps) * step
    if clamp is not None:
        adv = np.clip(adv, clamp[0], clamp[1])
    return Tensor(adv.astype(np.float32))


def _l2(a: np.ndarray) -> np.ndarray:
    """Per-sample L2 norms, shaped to broadcast against a batch."""
    return np.sqrt((a.reshape(len(a), -1).astype(np.float64) ** 2).sum(axis=1)).reshape(
        (-1,) + (1,) * (a.ndim - 1))


def pgd(model, x, y, eps: float, alpha: float | None = None, steps: int = 10, norm="inf",
        random_start: bool = True, targeted: bool = False, clamp=(0.0, 1.0),
        loss_fn=None) -> Tensor:
    """Projected gradient descent on the loss (iterative FGSM with a random start).

    Args:
        eps: radius of the ball, in pixel units; ``norm`` is ``"inf"`` or ``2``.
        alpha: step size (default ``2.5 * eps / steps``, Madry et al.'s choice).
        steps: number of steps.
        random_start: start from a uniform point of the L-inf ball (or a random point of the
            L2 ball) instead of ``x`` itself.
        targeted: ``y`` are target labels; descend their loss.

    Returns:
        Detached adversarial images within ``eps`` of ``x`` (in ``norm``) and inside ``clamp``.
    """
    _check("pgd", eps, clamp)
    if norm not in ("inf", 2, "2", float("inf")):
        raise ValueError(f"pgd: norm must be 'inf' or 2, got {norm!r}")
    linf = norm in ("inf", float("inf"))
    if not isinstance(steps, numbers.Integral) or steps < 1:
        raise ValueError(f"pgd: steps must be a positive int, got {steps!r}")
    alpha = 2.5 * eps / steps if alpha is None else float(alpha)
    x0 = _array(x).astype(np.float32)
    y = _array(y)
    rng = backend.get_rng()
    if random_start and eps > 0:
        if linf:
            delta = rng.uniform(-eps, eps, size=x0.shape)
        else:
            d = rng.standard_normal(x0.shape)
            r = rng.random((len(x0),) + (1,) * (x0.ndim - 1))
            delta = eps * r * d / np.maximum(_l2(d), 1e-12)
    else:
        delta = np.zeros_like(x0)
    adv = x0 + delta.astype(np.float32)
    sign = -1.0 if targeted else 1.0
    with _EvalMode(model):
        for _ in range(steps):
            if clamp is not None:
                adv = np.clip(adv, clamp[0], clamp[1])
            g = input_gradient(model, adv, y, loss_fn)
            if linf:
                adv = adv + sign * alpha * np.sign(g)
                adv = np.clip(adv, x0 - eps, x0 + eps)
            else:
                adv = adv + sign * alpha * g / np.maximum(_l2(g), 1e-12)
                delta = adv - x0
                adv = x0 + delta * np.minimum(1.0, eps / np.maximum(_l2(delta), 1e-12))
    if clamp is not None:
        adv = np.clip(adv, clamp[0], clamp[1])
    return Tensor(adv.astype(np.float32))


class AdversarialObjective:
    """Adversarial training's loss, for ``Trainer(adversarial=...)``.

    ``mix * L(x) + (1 - mix) * L(x_adv)``: with FGSM and ``mix=0.5`` Goodfellow et al.'s mixed
    objective; with PGD and ``mix=0`` Madry et al.'s min-max training, where the model only ever
    learns from the worst case it can find in the ball.

    The Trainer's batches are normalised; ``mean`` and ``std`` (those of the normalisation)
    turn them back into pixels, where ``eps`` is measured and the attack runs.

    Args:
        method: "fgsm" or "pgd".
        eps: attack radius in pixel units (L-inf).
        mix: weight of the clean loss (default 0.5 for fgsm, 0 for pgd).
        steps, alpha: PGD's.
        mean, std: the input normalisation (default 0 and 1: batches are pixels).
    """

    def __init__(self, method: str = "pgd", eps: float = 0.1, mix: float | None = None,
                 steps: int = 7, alpha: float | None = None, mean=0.0, std=1.0,
                 clamp=(0.0, 1.0)):
        if method not in ("fgsm", "pgd"):
            raise ValueError(f"AdversarialObjective: method must be 'fgsm' or 'pgd', got "
                             f"{method!r}")
        _check("AdversarialObjective", eps, clamp)
        mix = (0.5 if method == "fgsm" else 0.0) if mix is None else float(mix)
        if not 0.0 <= mix <= 1.0:
            raise ValueError(f"AdversarialObjective: mix must be in [0, 1], got {mix}")
        self.method, self.eps, self.mix, self.steps, self.alpha = method, eps, mix, steps, alpha
        self.mean = np.asarray(mean, dtype=np.float32)
        self.std = np.asarray(std, dtype=np.float32)
        self.clamp = clamp

    def perturb(self, model, x, y) -> Tensor:
        """Adversarial versions of the normalised batch ``x`` (normalised too)."""
        pixel_model = Normalized(model, self.mean, self.std)
        pixels = _array(x) * self.std + self.mean
        if self.method == "fgsm":
            adv = fgsm(pixel_model, pixels, y, self.eps, clamp=self.clamp)
        else:
            adv = pgd(pixel_model, pixels, y, self.eps, alpha=self.alpha, steps=self.steps,
                      clamp=self.clamp)
        return Tensor(((adv.array - self.mean) / self.std).astype(np.float32))

    def __call__(self, model, loss_fn, x, y, clean_loss):
        """The training loss of the batch, given the clean loss already computed."""
        adv_loss = loss_fn(model(self.perturb(model, x, y)), y)
        if self.mix == 0.0:
            return adv_loss
        return clean_loss * self.mix + adv_loss * (1.0 - self.mix)

    def to_dict(self) -> dict:
        """The JSON-able settings (a run's config records them)."""
        return {"method": self.method, "eps": self.eps, "mix": self.mix, "steps": self.steps,
                "alpha": self.alpha}
