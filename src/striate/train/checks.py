"""The babysitting checks of the CS231n notes, cheap enough to leave on for every run.

1. *Initial loss.* A softmax classifier with small random weights predicts nearly uniform
   probabilities, so its first cross-entropy loss should be about ``log(C)`` for C classes
   (2.303 for 10). A loss far from it means badly scaled weights or inputs.
2. *Divergence.* A loss that turns NaN/inf, or a smoothed loss that climbs above ``factor`` times
   the first loss (3x, the notes' early-exit rule), means the learning rate is too high: stop.
3. *Update/weight ratio.* ``||dW|| / ||W||`` for one optimizer step, per parameter: about 1e-3 is
   healthy; far below (< 1e-5) the rate is too low, far above (> 1e-1) too high.
"""

from __future__ import annotations

import math

import numpy as np

from .. import backend
from .metrics import EMAMeter

__all__ = [
    "DivergenceMonitor",
    "TrainingDiverged",
    "initial_loss_message",
    "snapshot",
    "update_ratio_report",
    "update_ratios",
]

RATIO_LOW = 1e-5
RATIO_HIGH = 1e-1
RATIO_HEALTHY = 1e-3


class TrainingDiverged(RuntimeError):
    """Raised by ``Trainer.fit`` when the loss becomes NaN/inf or runs away (check 2).

    Attributes:
        epoch: the epoch (1-based) in which it happened.
        step: the batch index within that epoch (0-based).
        loss: the batch loss that triggered the stop.
    """

    def __init__(self, message: str, epoch: int = 0, step: int = 0, loss: float = math.nan):
        super().__init__(message)
        self.epoch = epoch
        self.step = step
        self.loss = loss


def initial_loss_message(loss: float, n_classes: int, tolerance: float = 0.5) -> str | None:
    """A warning when the first loss of a softmax classifier is far from ``log(C)``, else None.

    Args:
        loss: the first training batch's cross-entropy loss.
        n_classes: C, the width of the model's output (class axis 1).
        tolerance: the relative difference allowed (0.5: within 50% of log C).

    Example:
        >>> initial_loss_message(2.4, 10) is None
        True
        >>> initial_loss_message(40.0, 10)[:33]
        'initial loss 40 is far from log(C'
    """
    if n_classes < 2:
        return None
    expected = math.log(n_classes)
    if math.isfinite(loss) and abs(loss - expected) <= tolerance * expected:
        return None
    return (
        f"initial loss {loss:.4g} is far from log(C) = log({n_classes}) = {expected:.4g}, the loss "
        f"of a softmax classifier with small random weights (allowed: within "
        f"{tolerance:.0%}); the logits are badly scaled: check the weight initialisation "
        "(especially of the last layer) and the input normalisation"
    )


class DivergenceMonitor:
    """Stops training on a NaN/inf loss or a smoothed loss above ``factor`` x the first one.

    The smoothed loss is an exponential moving average (``beta`` 0.9, started at the first loss),
    so one noisy batch does not trigger it. The ratio test applies only when the first loss is
    positive.

    Args:
        factor: how many times the first loss the smoothed loss may reach (default 3).
        beta: the moving average's decay (default 0.9).
    """

    def __init__(self, factor: float = 3.0, beta: float = 0.9):
        if not factor > 1.0:
            raise ValueError(f"DivergenceMonitor: factor must be > 1, got {factor!r}")
        self.factor = float(factor)
        self.ema = EMAMeter(beta)
        self.initial: float | None = None

    def update(self, loss: float, epoch: int, step: int, lr: float | None = None) -> None:
        """Record one batch loss; raise :class:`TrainingDiverged` if training has diverged."""
        hint = (f"lower the learning rate (now {lr:.3g})" if lr is not None
                else "lower the learning rate") + ", or clip gradients (grad_clip=...)"
        where = f"training diverged at epoch {epoch}, step {step}"
        if not math.isfinite(loss):
            raise TrainingDiverged(
                f"{where}: the loss is {loss}; {hint}, and check the inputs for NaN/inf",
                epoch, step, loss,
            )
        if self.initial is None:
            self.initial = loss
        smoothed = self.ema.update(loss)
        if self.initial > 0 and smoothed > self.factor * self.initial:
            raise TrainingDiverged(
                f"{where}: the smoothed loss {smoothed:.4g} exceeds {self.factor:g}x the initial "
                f"loss {self.initial:.4g} (last batch {loss:.4g}); {hint}",
                epoch, step, loss,
            )

    def state_dict(self) -> dict:
        return {"initial": self.initial, "smoothed": self.ema.value}

    def load_state_dict(self, state: dict) -> None:
        self.initial = state.get("initial")
        self.ema.value = state.get("smoothed")


def _host(array) -> np.ndarray:
    if backend.get_array_module(array) is not np:  # pragma: no cover - GPU only
        return array.get()
    return array


def snapshot(named_params) -> list[tuple[str, object, np.ndarray]]:
    """Copies of the parameters' arrays, ``[(name, param, copy), ...]``, taken before a step."""
    return [(name, p, p.array.copy()) for name, p in named_params]


def update_ratios(before) -> dict[str, float]:
    """``||W_after - W_before|| / ||W_before||`` per parameter, from a :func:`snapshot`.

    Returns:
        ``{name: ratio}``; NaN where the weights were all zero before the step.
    """
    out = {}
    for name, p, w0 in before:
        xp = backend.get_array_module(w0)
        w_norm = float(xp.linalg.norm(w0.ravel()))
        dw_norm = float(xp.linalg.norm((p.array - w0).ravel()))
        out[name] = dw_norm / w_norm if w_norm > 0 else math.nan
    return out


def update_ratio_report(ratios: dict[str, float], epoch: int,
                        judged: set[str] | None = None,
                        annealed: bool = False) -> tuple[float, str, bool]:
    """The median ratio, one log line about it, and whether any parameter is flagged.

    A parameter is flagged when its ratio is below ``RATIO_LOW`` (1e-5: it barely moves) or above
    ``RATIO_HIGH`` (1e-1: it is rewritten every step); about ``RATIO_HEALTHY`` (1e-3) is healthy.

    Args:
        ratios: ``{name: ratio}`` from :func:`update_ratios`.
        epoch: the epoch, for the message.
        judged: the names the median and the flags look at (default: all). The trainer passes
            the weight matrices and kernels: a bias starts at zero, so its ratio is huge early on
            without saying anything about the learning rate.
        annealed: a schedule has brought the learning rate well below its start on purpose;
            small ratios are then expected and not flagged.
    """
    judged = set(ratios) if judged is None else set(judged)
    considered = {n: r for n, r in ratios.items() if n in judged and math.isfinite(r)}
    median = float(np.median(list(considered.values()))) if considered else math.nan
    low = [] if annealed else [n for n, r in considered.items() if r < RATIO_LOW]
    high = [n for n, r in considered.items() if r > RATIO_HIGH]

    def names(ns: list[str]) -> str:
        shown = ", ".join(f"{n} {ratios[n]:.1e}" for n in ns[:4])
        return shown + (f" and {len(ns) - 4} more" if len(ns) > 4 else "")

    line = (f"epoch {epoch}: update/weight ratio ||dW||/||W|| of the last step: median "
            f"{median:.1e} over {len(considered)} parameters (healthy ~{RATIO_HEALTHY:.0e})")
    if annealed:
        line += "; learning rate annealed by the schedule, small updates expected"
    if low:
        line += f"; too small (< {RATIO_LOW:.0e}, learning rate too low?): {names(low)}"
    if high:
        line += f"; too large (> {RATIO_HIGH:.0e}, learning rate too high?): {names(high)}"
    return median, line, bool(low or high)
