"""Learning-rate schedules: set each parameter group's ``'lr'`` from the epoch (or step) count.

Usage, as in PyTorch: build the scheduler on an optimizer, call ``optimizer.step()`` for each
batch and ``scheduler.step()`` once per epoch (or per batch, for per-step schedules)::

    scheduler = StepLR(optimizer, step_size=30, gamma=0.1)
    for epoch in range(100):
        train_one_epoch(...)
        scheduler.step()

Every schedule here but :class:`ReduceLROnPlateau` is a closed form: the rate at count ``t`` is a
function of the group's initial rate ``lr0`` (saved as ``group['initial_lr']``) and ``t`` alone.
PyTorch computes most of them recursively from the current rate; for one scheduler on an optimizer
the sequences are the same (tested against ``torch.optim.lr_scheduler``), but here a rate set by
hand between steps is overwritten at the next step, and two schedulers do not stack: to chain a
warm-up and a decay use :class:`SequentialLR`.
"""

from __future__ import annotations

import bisect
import copy
import itertools
import math
import numbers
from collections.abc import Callable, Sequence

from .optimizer import Optimizer, check_option

__all__ = [
    "CosineAnnealingLR",
    "ExponentialLR",
    "InverseTimeLR",
    "LRScheduler",
    "LambdaLR",
    "LinearLR",
    "MultiStepLR",
    "OneCycleLR",
    "ReduceLROnPlateau",
    "SequentialLR",
    "StepLR",
]


def _check_optimizer(owner: str, optimizer) -> None:
    if not isinstance(optimizer, Optimizer):
        raise TypeError(
            f"{owner}: optimizer must be a striate.optim.Optimizer, got {type(optimizer).__name__}"
        )


def _check_int(owner: str, name: str, value, low: int = 1) -> int:
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < low:
        raise ValueError(f"{owner}: {name} must be an int >= {low}, got {value!r}")
    return int(value)


class LRScheduler:
    """Base class: sets every group's ``'lr'`` to ``get_lr()`` at each :meth:`step`.

    Args:
        optimizer: the optimizer whose groups' ``'lr'`` this schedules.
        last_epoch: the count of the last step taken; -1 (default) starts afresh and records each
            group's current ``'lr'`` as its ``'initial_lr'``. Construction takes one step, so
            afterwards ``last_epoch`` is 0 and the groups hold the rate for count 0.

    Attributes:
        base_lrs: each group's ``'initial_lr'``.
        last_epoch: how many times :meth:`step` has been called, minus one.

    A subclass defines ``_lr(base_lr, t) -> float`` (or ``_lrs_at(t) -> list``).
    """

    _not_saved: tuple[str, ...] = ("optimizer",)

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1):
        name = type(self).__name__
        _check_optimizer(name, optimizer)
        if not isinstance(last_epoch, numbers.Integral) or last_epoch < -1:
            raise ValueError(f"{name}: last_epoch must be an int >= -1, got {last_epoch!r}")
        self.optimizer = optimizer
        for i, group in enumerate(optimizer.param_groups):
            if last_epoch == -1:
                group.setdefault("initial_lr", group["lr"])
            elif "initial_lr" not in group:
                raise ValueError(
                    f"{name}: resuming with last_epoch={last_epoch} needs "
                    f"'initial_lr' in every param group, but group {i} has none"
                )
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = int(last_epoch)
        self.step()

    def _lr(self, base_lr: float, t: int) -> float:  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__} must define _lr or _lrs_at")

    def _lrs_at(self, t: int) -> list[float]:
        """The rate of every group at count ``t`` (closed form)."""
        return [self._lr(base, t) for base in self.base_lrs]

    def get_lr(self) -> list[float]:
        """The rate of every group at the current count ``last_epoch``."""
        return self._lrs_at(self.last_epoch)

    def step(self, epoch: int | None = None) -> None:
        """Advance the count by one (or set it to ``epoch``) and set every group's ``'lr'``."""
        self.last_epoch = self.last_epoch + 1 if epoch is None else int(epoch)
        for group, lr in zip(self.optimizer.param_groups, self.get_lr()):
            group["lr"] = float(lr)
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def get_last_lr(self) -> list[float]:
        """The rates set by the last :meth:`step`, one per group."""
        return list(self._last_lr)

    def state_dict(self) -> dict:
        """The scheduler's state (counts, base rates, options) as plain data; no optimizer."""
        return {k: copy.deepcopy(v) for k, v in self.__dict__.items() if k not in self._not_saved}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore a state from :meth:`state_dict` (the optimizer's own state restores its lr)."""
        if not isinstance(state_dict, dict):
            raise TypeError(
                f"{type(self).__name__}.load_state_dict: expected a dict, got "
                f"{type(state_dict).__name__}"
            )
        self.__dict__.update(copy.deepcopy(state_dict))


class LambdaLR(LRScheduler):
    """``lr = lr0 * lr_lambda(t)``: any schedule given as a function of the count.

    Args:
        optimizer: the optimizer.
        lr_lambda: a function ``t -> factor``, or a list of them, one per param group.
        last_epoch: see :class:`LRScheduler`.

    The functions are not part of ``state_dict``; pass the same ones when resuming.
    """

    _not_saved = ("optimizer", "lr_lambdas")

    def __init__(
        self, optimizer: Optimizer, lr_lambda: Callable | Sequence[Callable], last_epoch: int = -1
    ):
        _check_optimizer("LambdaLR", optimizer)
        n = len(optimizer.param_groups)
        if isinstance(lr_lambda, (list, tuple)):
            if len(lr_lambda) != n:
                raise ValueError(
                    f"LambdaLR: expected {n} lr_lambdas (one per param group), got {len(lr_lambda)}"
                )
            self.lr_lambdas = list(lr_lambda)
        else:
            self.lr_lambdas = [lr_lambda] * n
        for i, fn in enumerate(self.lr_lambdas):
            if not callable(fn):
                raise TypeError(
                    f"LambdaLR: lr_lambda {i} must be callable, got {type(fn).__name__}"
                )
        super().__init__(optimizer, last_epoch)

    def _lrs_at(self, t: int) -> list[float]:
        return [base * fn(t) for base, fn in zip(self.base_lrs, self.lr_lambdas)]


class StepLR(LRScheduler):
    """Step decay: ``lr = lr0 * gamma ** (t // step_size)``.

    Args:
        optimizer: the optimizer.
        step_size: how many steps between two decays (int >= 1).
        gamma: the factor of each decay (default 0.1).
        last_epoch: see :class:`LRScheduler`.
    """

    def __init__(
        self, optimizer: Optimizer, step_size: int, gamma: float = 0.1, last_epoch: int = -1
    ):
        self.step_size = _check_int("StepLR", "step_size", step_size)
        check_option("StepLR", "gamma", gamma)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def _lr(self, base_lr: float, t: int) -> float:
        return base_lr * self.gamma ** (t // self.step_size)


class MultiStepLR(LRScheduler):
    """Decay by ``gamma`` at each milestone: ``lr = lr0 * gamma ** (number of milestones <= t)``.

    Args:
        optimizer: the optimizer.
        milestones: the counts at which to decay (ints >= 1; a repeated one decays twice).
        gamma: the factor of each decay (default 0.1).
        last_epoch: see :class:`LRScheduler`.
    """

    def __init__(
        self,
        optimizer: Optimizer,
        milestones: Sequence[int],
        gamma: float = 0.1,
        last_epoch: int = -1,
    ):
        self.milestones = sorted(
            _check_int("MultiStepLR", "each milestone", m, 0) for m in milestones
        )
        check_option("MultiStepLR", "gamma", gamma)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def _lr(self, base_lr: float, t: int) -> float:
        return base_lr * self.gamma ** bisect.bisect_right(self.milestones, t)


class ExponentialLR(LRScheduler):
    """Exponential decay: ``lr = lr0 * gamma ** t``.

    Args:
        optimizer: the optimizer.
        gamma: the factor per step.
        last_epoch: see :class:`LRScheduler`.
    """

    def __init__(self, optimizer: Optimizer, gamma: float, last_epoch: int = -1):
        check_option("ExponentialLR", "gamma", gamma)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def _lr(self, base_lr: float, t: int) -> float:
        return base_lr * self.gamma**t


class InverseTimeLR(LRScheduler):
    """The notes' 1/t decay: ``lr = lr0 / (1 + decay * t / decay_steps)`` (striate's own).

    Args:
        optimizer: the optimizer.
        decay: the notes' ``k`` (>= 0).
        decay_steps: the unit ``t`` is counted in (default 1: every step).
        staircase: use ``floor(t / decay_steps)``, so the rate changes every ``decay_steps``
            steps only (default False).
        last_epoch: see :class:`LRScheduler`.

    Example:
        >>> import striate
        >>> from striate.optim import SGD
        >>> from striate.optim.lr_scheduler import InverseTimeLR
        >>> opt = SGD([striate.zeros(1, requires_grad=True)], lr=1.0)
        >>> sched = InverseTimeLR(opt, decay=0.5)
        >>> for _ in range(2):
        ...     sched.step()
        >>> sched.get_last_lr()
        [0.5]
    """

    def __init__(
        self,
        optimizer: Optimizer,
        decay: float,
        decay_steps: int = 1,
        staircase: bool = False,
        last_epoch: int = -1,
    ):
        check_option("InverseTimeLR", "decay", decay)
        self.decay = decay
        self.decay_steps = _check_int("InverseTimeLR", "decay_steps", decay_steps)
        self.staircase = bool(staircase)
        super().__init__(optimizer, last_epoch)

    def _lr(self, base_lr: float, t: int) -> float:
        units = t // self.decay_steps if self.staircase else t / self.decay_steps
        return base_lr / (1 + self.decay * units)


class CosineAnnealingLR(LRScheduler):
    """Cosine annealing: ``lr = eta_min + (lr0 - eta_min) * (1 + cos(pi * t / T_max)) / 2``.

    The rate falls from ``lr0`` at ``t = 0`` to ``eta_min`` at ``t = T_max`` (and, continued
    past it, rises again as the cosine does, which is what PyTorch gives too).

    Args:
        optimizer: the optimizer.
        T_max: the count at which the rate reaches ``eta_min`` (int >= 1).
        eta_min: the smallest rate (default 0).
        last_epoch: see :class:`LRScheduler`.
    """

    def __init__(
        self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0, last_epoch: int = -1
    ):
        self.T_max = _check_int("CosineAnnealingLR", "T_max", T_max)
        check_option("CosineAnnealingLR", "eta_min", eta_min)
        self.eta_min = eta_min
        super().__init__(optimizer, last_epoch)

    def _lr(self, base_lr: float, t: int) -> float:
        return (
            self.eta_min + (base_lr - self.eta_min) * (1 + math.cos(math.pi * t / self.T_max)) / 2
        )


class LinearLR(LRScheduler):
    """Linear warm-up (or decay) of the factor: ``lr = lr0 * f(t)``, ``f`` going linearly from
    ``start_factor`` at ``t = 0`` to ``end_factor`` at ``t = total_iters``, then constant.

    Args:
        optimizer: the optimizer.
        start_factor: the factor at ``t = 0``, in (0, 1] (default 1/3).
        end_factor: the factor from ``t = total_iters`` on, in [0, 1] (default 1).
        total_iters: how many steps the ramp takes (int >= 1; default 5).
        last_epoch: see :class:`LRScheduler`.
    """

    def __init__(
        self,
        optimizer: Optimizer,
        start_factor: float = 1.0 / 3,
        end_factor: float = 1.0,
        total_iters: int = 5,
        last_epoch: int = -1,
    ):
        check_option("LinearLR", "start_factor", start_factor, 0.0, 1.0, high_inclusive=True)
        if start_factor == 0:
            raise ValueError("LinearLR: start_factor must be > 0, got 0 (the rate would be 0)")
        check_option("LinearLR", "end_factor", end_factor, 0.0, 1.0, high_inclusive=True)
        self.start_factor, self.end_factor = start_factor, end_factor
        self.total_iters = _check_int("LinearLR", "total_iters", total_iters)
        super().__init__(optimizer, last_epoch)

    def _lr(self, base_lr: float, t: int) -> float:
        frac = min(t, self.total_iters) / self.total_iters
        return base_lr * (self.start_factor + (self.end_factor - self.start_factor) * frac)


class SequentialLR(LRScheduler):
    """Run schedules one after another: ``schedulers[i]`` from ``milestones[i-1]`` on, its count
    restarting at 0 there (e.g. ``LinearLR`` warm-up, then ``CosineAnnealingLR``).

    Args:
        optimizer: the optimizer all the schedulers were built on.
        schedulers: the closed-form schedulers, in order (not :class:`ReduceLROnPlateau`).
        milestones: ``len(schedulers) - 1`` increasing counts at which to switch.
        last_epoch: see :class:`LRScheduler`.

    Only this scheduler's :meth:`step` needs calling; it reads the others' closed forms.
    """

    _not_saved = ("optimizer", "schedulers")

    def __init__(
        self,
        optimizer: Optimizer,
        schedulers: Sequence[LRScheduler],
        milestones: Sequence[int],
        last_epoch: int = -1,
    ):
        schedulers, milestones = list(schedulers), list(milestones)
        if not schedulers:
            raise ValueError("SequentialLR: expected at least one scheduler, got none")
        for i, s in enumerate(schedulers):
            if not isinstance(s, LRScheduler) or isinstance(s, (ReduceLROnPlateau, SequentialLR)):
                raise TypeError(
                    f"SequentialLR: scheduler {i} must be a closed-form LRScheduler, "
                    f"got {type(s).__name__}"
                )
            if s.optimizer is not optimizer:
                raise ValueError(f"SequentialLR: scheduler {i} was built on another optimizer")
        if len(milestones) != len(schedulers) - 1:
            raise ValueError(
                f"SequentialLR: expected {len(schedulers) - 1} milestones for "
                f"{len(schedulers)} schedulers, got {len(milestones)}"
            )
        for m in milestones:
            _check_int("SequentialLR", "each milestone", m)
        if any(b <= a for a, b in itertools.pairwise(milestones)):
            raise ValueError(f"SequentialLR: milestones must increase, got {milestones}")
        self.schedulers, self.milestones = schedulers, milestones
        super().__init__(optimizer, last_epoch)

    def _lrs_at(self, t: int) -> list[float]:
        i = bisect.bisect_right(self.milestones, t)
        start = self.milestones[i - 1] if i > 0 else 0
        return self.schedulers[i]._lrs_at(t - start)


class ReduceLROnPlateau(LRScheduler):
    """Multiply the rate by ``factor`` when a metric has stopped improving for ``patience`` steps.

    Call ``scheduler.step(val_loss)`` after each validation.

    Args:
        optimizer: the optimizer.
        mode: ``'min'`` (the metric should fall, e.g. a loss) or ``'max'`` (e.g. an accuracy).
        factor: the factor of each reduction, in [0, 1) (default 0.1).
        patience: how many steps without improvement to wait before reducing (default 10).
        threshold: how much better counts as an improvement (default 1e-4).
        threshold_mode: ``'rel'`` (better than ``best * (1 -+ threshold)``) or ``'abs'``
            (better than ``best -+ threshold``).
        cooldown: steps to wait after a reduction before counting again (default 0).
        min_lr: the smallest rate, a number or one per group (default 0).
        eps: a reduction smaller than this is skipped (default 1e-8).
    """

    def __init__(
        self,
        optimizer: Optimizer,
        mode: str = "min",
        factor: float = 0.1,
        patience: int = 10,
        threshold: float = 1e-4,
        threshold_mode: str = "rel",
        cooldown: int = 0,
        min_lr: float | Sequence[float] = 0.0,
        eps: float = 1e-8,
    ):
        name = "ReduceLROnPlateau"
        _check_optimizer(name, optimizer)
        if mode not in ("min", "max"):
            raise ValueError(f"{name}: mode must be 'min' or 'max', got {mode!r}")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(
                f"{name}: threshold_mode must be 'rel' or 'abs', got {threshold_mode!r}"
            )
        check_option(name, "factor", factor, 0.0, 1.0)
        check_option(name, "threshold", threshold)
        check_option(name, "eps", eps)
        n = len(optimizer.param_groups)
        min_lrs = list(min_lr) if isinstance(min_lr, (list, tuple)) else [min_lr] * n
        if len(min_lrs) != n:
            raise ValueError(
                f"{name}: expected {n} min_lr values (one per param group), got {len(min_lrs)}"
            )
        self.optimizer = optimizer
        self.mode, self.factor, self.threshold = mode, factor, threshold
        self.threshold_mode, self.eps, self.min_lrs = threshold_mode, eps, min_lrs
        self.patience = _check_int(name, "patience", patience, 0)
        self.cooldown = _check_int(name, "cooldown", cooldown, 0)
        self.best = math.inf if mode == "min" else -math.inf
        self.num_bad_epochs = 0
        self.cooldown_counter = 0
        self.last_epoch = 0
        self._last_lr = [group["lr"] for group in optimizer.param_groups]

    def _is_better(self, value: float) -> bool:
        if self.mode == "min":
            bar = (
                self.best * (1 - self.threshold)
                if self.threshold_mode == "rel"
                else self.best - self.threshold
            )
            return value < bar
        bar = (
            self.best * (1 + self.threshold)
            if self.threshold_mode == "rel"
            else self.best + self.threshold
        )
        return value > bar

    def get_lr(self) -> list[float]:
        return [group["lr"] for group in self.optimizer.param_groups]

    def step(self, metrics: float) -> None:  # type: ignore[override]
        """Record this step's metric, and reduce the rates if it has plateaued."""
        value = float(metrics)
        self.last_epoch += 1
        if self._is_better(value):
            self.best, self.num_bad_epochs = value, 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            for group, floor in zip(self.optimizer.param_groups, self.min_lrs):
                new = max(group["lr"] * self.factor, floor)
                if group["lr"] - new > self.eps:
                    group["lr"] = new
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]



# the 1cycle policy lives in its own file (this one is long enough); it is part of this module
from ._one_cycle import OneCycleLR  # noqa: E402
