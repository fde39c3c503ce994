"""Adadelta (Zeiler, 2012): RMSprop whose step size is itself a running RMS of past steps."""

from __future__ import annotations

from collections.abc import Iterable

from .. import backend
from ..autograd.tensor import Tensor
from .optimizer import Optimizer, check_option

__all__ = ["Adadelta"]


class Adadelta(Optimizer):
    """Adadelta: scale each gradient by RMS(past updates) / RMS(past gradients).

    For each parameter ``x`` with gradient ``dx`` (both accumulators have ``x``'s shape)::

        dx = dx + weight_decay * x
        cache = rho * cache + (1 - rho) * dx ** 2
        delta = sqrt(acc_delta + eps) / sqrt(cache + eps) * dx
        acc_delta = rho * acc_delta + (1 - rho) * delta ** 2
        x -= lr * delta

    The ratio of the two RMS values has the units of ``x`` (the paper's point), so ``lr = 1``
    works without tuning. It matches ``torch.optim.Adadelta``; state entries ``'square_avg'``
    (``cache``) and ``'acc_delta'``.

    Args:
        params: iterable of Tensors, or of dicts defining parameter groups.
        lr: scale applied to ``delta`` (default 1.0).
        rho: decay rate of both running averages, in [0, 1] (default 0.9).
        eps: term added inside both square roots (default 1e-6).
        weight_decay: L2 penalty coefficient (default 0).
    """

    _param_shaped_state = ("square_avg", "acc_delta")

    def __init__(
        self,
        params: Iterable,
        lr: float = 1.0,
        rho: float = 0.9,
        eps: float = 1e-6,
        weight_decay: float = 0.0,
    ):
        defaults = {"lr": lr, "rho": rho, "eps": eps, "weight_decay": weight_decay}
        super().__init__(params, defaults)

    def _validate_group(self, group: dict) -> None:
        for key in ("lr", "eps", "weight_decay"):
            check_option("Adadelta", key, group[key])
        check_option("Adadelta", "rho", group["rho"], 0.0, 1.0, high_inclusive=True)

    def _update(self, param: Tensor, grad, state: dict, group: dict) -> None:
        xp = backend.get_array_module(param.array)
        rho, eps = group["rho"], group["eps"]
        if not state:
            state["step"] = 0
            state["square_avg"] = xp.zeros_like(param.array)
            state["acc_delta"] = xp.zeros_like(param.array)
        state["step"] += 1
        if group["weight_decay"] != 0:
            grad = grad + group["weight_decay"] * param.array
        cache, acc_delta = state["square_avg"], state["acc_delta"]
        cache *= rho
        cache += (1 - rho) * grad * grad
        delta = xp.sqrt(acc_delta + eps) / xp.sqrt(cache + eps) * grad
        acc_delta *= rho
        acc_delta += (1 - rho) * delta * delta
        param.array -= group["lr"] * delta
