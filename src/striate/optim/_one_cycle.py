"""``OneCycleLR``, the 1cycle learning-rate (and momentum) policy; exported by
:mod:`striate.optim.lr_scheduler`, import it from there."""

from __future__ import annotations

import math
from collections.abc import Sequence

from .lr_scheduler import LRScheduler, _check_int, _check_optimizer
from .optimizer import Optimizer, check_option

__all__ = ["OneCycleLR"]


def _per_group(owner: str, name: str, value, n: int) -> list[float]:
    values = list(value) if isinstance(value, (list, tuple)) else [value] * n
    if len(values) != n:
        raise ValueError(f"{owner}: expected {n} values of {name} (one per param group), got "
                         f"{len(values)}")
    for v in values:
        check_option(owner, name, v)
    return [float(v) for v in values]


class OneCycleLR(LRScheduler):
    """The 1cycle policy (Smith & Topin): the rate climbs from ``max_lr / div_factor`` to
    ``max_lr`` over the first ``pct_start`` of the run, then anneals to ``initial_lr /
    final_div_factor``; momentum (SGD's ``momentum`` or Adam's ``beta1``) moves the opposite way,
    between ``max_momentum`` and ``base_momentum``. Step it after every batch.

    Args:
        optimizer: the optimizer.
        max_lr: the peak rate, or one per param group.
        total_steps: how many steps the cycle lasts; or give ``epochs`` and ``steps_per_epoch``.
        epochs, steps_per_epoch: ``total_steps = epochs * steps_per_epoch``.
        pct_start: the fraction of the steps spent climbing (default 0.3).
        anneal_strategy: ``'cos'`` (default) or ``'linear'``.
        cycle_momentum: also cycle the momentum (default True).
        base_momentum, max_momentum: the momentum's range (defaults 0.85, 0.95).
        div_factor: ``initial_lr = max_lr / div_factor`` (default 25).
        final_div_factor: ``min_lr = initial_lr / final_div_factor`` (default 1e4).
        three_phase: climb, come back down to ``initial_lr`` symmetrically, then anneal to
            ``min_lr`` (fast.ai's variant); default False.
        last_epoch: see :class:`LRScheduler`.

    The sequence of rates and momenta is ``torch.optim.lr_scheduler.OneCycleLR``'s; as there,
    stepping more than ``total_steps`` times raises ``ValueError``.
    """

    def __init__(self, optimizer: Optimizer, max_lr: float | Sequence[float],
                 total_steps: int | None = None, epochs: int | None = None,
                 steps_per_epoch: int | None = None, pct_start: float = 0.3,
                 anneal_strategy: str = "cos", cycle_momentum: bool = True,
                 base_momentum: float | Sequence[float] = 0.85,
                 max_momentum: float | Sequence[float] = 0.95, div_factor: float = 25.0,
                 final_div_factor: float = 1e4, three_phase: bool = False,
                 last_epoch: int = -1):
        name = "OneCycleLR"
        _check_optimizer(name, optimizer)
        if total_steps is not None:
            self.total_steps = _check_int(name, "total_steps", total_steps)
        elif epochs is not None and steps_per_epoch is not None:
            self.total_steps = (_check_int(name, "epochs", epochs)
                                * _check_int(name, "steps_per_epoch", steps_per_epoch))
        else:
            raise ValueError(f"{name}: give total_steps, or both epochs and steps_per_epoch")
        check_option(name, "pct_start", pct_start, 0.0, 1.0, high_inclusive=True)
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"{name}: anneal_strategy must be 'cos' or 'linear', got "
                             f"{anneal_strategy!r}")
        check_option(name, "div_factor", div_factor)
        check_option(name, "final_div_factor", final_div_factor)
        if div_factor == 0 or final_div_factor == 0:
            raise ValueError(f"{name}: div_factor and final_div_factor must be > 0")
        groups = optimizer.param_groups
        n = len(groups)
        self.anneal_strategy, self.three_phase = anneal_strategy, bool(three_phase)
        t = self.total_steps
        if self.three_phase:
            # (end step, start lr key, end lr key, start momentum key, end momentum key)
            self.phases = [(pct_start * t - 1, "initial_lr", "max_lr", "max_momentum",
                            "base_momentum"),
                           (2 * pct_start * t - 2, "max_lr", "initial_lr", "base_momentum",
                            "max_momentum"),
                           (t - 1, "initial_lr", "min_lr", "max_momentum", "max_momentum")]
        else:
            self.phases = [(pct_start * t - 1, "initial_lr", "max_lr", "max_momentum",
                            "base_momentum"),
                           (t - 1, "max_lr", "min_lr", "base_momentum", "max_momentum")]
        max_lrs = _per_group(name, "max_lr", max_lr, n)
        if last_epoch == -1:
            for group, peak in zip(groups, max_lrs):
                group["initial_lr"] = peak / div_factor
                group["max_lr"] = peak
                group["min_lr"] = group["initial_lr"] / final_div_factor
        self.cycle_momentum = bool(cycle_momentum)
        self.use_beta1 = False
        if self.cycle_momentum:
            defaults = getattr(optimizer, "defaults", {})
            if "momentum" not in defaults and "betas" not in defaults:
                raise ValueError(f"{name}: cycle_momentum=True needs an optimizer with momentum "
                                 f"or betas ({type(optimizer).__name__} has neither); pass "
                                 "cycle_momentum=False")
            self.use_beta1 = "betas" in defaults
            tops = _per_group(name, "max_momentum", max_momentum, n)
            bases = _per_group(name, "base_momentum", base_momentum, n)
            if last_epoch == -1:
                for group, top, base in zip(groups, tops, bases):
                    group["max_momentum"], group["base_momentum"] = top, base
        super().__init__(optimizer, last_epoch)

    def _anneal(self, start: float, end: float, pct: float) -> float:
        if self.anneal_strategy == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
        return (end - start) * pct + start

    def _at(self, group: dict, t: int, start_key: int) -> float:
        """The rate (start_key 1) or momentum (start_key 3) of ``group`` at step ``t``."""
        begin = 0.0
        for i, phase in enumerate(self.phases):
            end = phase[0]
            if t <= end or i == len(self.phases) - 1:
                pct = (t - begin) / (end - begin) if end != begin else 1.0
                return self._anneal(group[phase[start_key]], group[phase[start_key + 1]], pct)
            begin = end
        raise AssertionError("unreachable")  # pragma: no cover - the last phase always matches

    def _lrs_at(self, t: int) -> list[float]:
        if t > self.total_steps:
            raise ValueError(f"OneCycleLR: stepped {t} times, but total_steps is "
                             f"{self.total_steps}")
        return [self._at(group, t, 1) for group in self.optimizer.param_groups]

    def step(self, epoch: int | None = None) -> None:
        """Set every group's rate (and momentum, with ``cycle_momentum``) for the next step."""
        super().step(epoch)
        if not self.cycle_momentum:
            return
        for group in self.optimizer.param_groups:
            m = self._at(group, self.last_epoch, 3)
            if self.use_beta1:
                group["betas"] = (m, *group["betas"][1:])
            else:
                group["momentum"] = m
