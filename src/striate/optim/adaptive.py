"""Per-parameter adaptive learning rates: Adagrad and RMSprop (PyTorch's formulations)."""

from __future__ import annotations

from collections.abc import Iterable

from .. import backend
from ..autograd.tensor import Tensor
from .optimizer import Optimizer, check_option

__all__ = ["Adagrad", "RMSprop"]


class Adagrad(Optimizer):
    """Adagrad: each weight's step is scaled down by the root of its summed squared gradients.

    For each parameter ``x`` with gradient ``dx`` (the accumulator ``cache`` has ``x``'s shape)::

        t += 1
        dx = dx + weight_decay * x
        cache += dx ** 2
        x -= lr / (1 + (t - 1) * lr_decay) * dx / (sqrt(cache) + eps)

    With ``lr_decay = 0`` this is the notes' ``cache += dx**2; x += -lr * dx / (sqrt(cache) +
    eps)``; it matches ``torch.optim.Adagrad``. The state entry ``'sum'`` is ``cache``.

    Args:
        params: iterable of Tensors, or of dicts defining parameter groups.
        lr: learning rate (default 1e-2).
        lr_decay: learning-rate decay per step (default 0).
        weight_decay: L2 penalty coefficient (default 0).
        initial_accumulator_value: starting value of ``cache`` (default 0).
        eps: term added to the denominator for numerical stability (default 1e-10).
    """

    _param_shaped_state = ("sum",)

    def __init__(
        self,
        params: Iterable,
        lr: float = 1e-2,
        lr_decay: float = 0.0,
        weight_decay: float = 0.0,
        initial_accumulator_value: float = 0.0,
        eps: float = 1e-10,
    ):
        defaults = {
            "lr": lr,
            "lr_decay": lr_decay,
            "weight_decay": weight_decay,
            "initial_accumulator_value": initial_accumulator_value,
            "eps": eps,
        }
        super().__init__(params, defaults)

    def add_param_group(self, param_group: dict) -> None:
        # PyTorch fills the accumulator when a group is added (so a state_dict taken before the
        # first step already has it); do the same.
        super().add_param_group(param_group)
        group = self.param_groups[-1]
        for p in group["params"]:
            self._init_state(p, self.state[p], group)

    @staticmethod
    def _init_state(param: Tensor, state: dict, group: dict) -> None:
        xp = backend.get_array_module(param.array)
        state["step"] = 0
        state["sum"] = xp.full_like(param.array, group["initial_accumulator_value"])

    def _validate_group(self, group: dict) -> None:
        for key in ("lr", "lr_decay", "weight_decay", "initial_accumulator_value", "eps"):
            check_option("Adagrad", key, group[key])

    def _update(self, param: Tensor, grad, state: dict, group: dict) -> None:
        xp = backend.get_array_module(param.array)
        if "sum" not in state:
            self._init_state(param, state, group)
        state["step"] += 1
        if group["weight_decay"] != 0:
            grad = grad + group["weight_decay"] * param.array
        clr = group["lr"] / (1 + (state["step"] - 1) * group["lr_decay"])
        cache = state["sum"]
        cache += grad * grad
        param.array -= clr * grad / (xp.sqrt(cache) + group["eps"])


class RMSprop(Optimizer):
    """RMSprop: Adagrad with a leaky (exponentially decaying) average of squared gradients.

    For each parameter ``x`` with gradient ``dx`` (every state array has ``x``'s shape)::

        dx = dx + weight_decay * x
        cache = alpha * cache + (1 - alpha) * dx ** 2          # alpha: the notes' decay_rate
        denom = sqrt(cache) + eps
        (centered: g = alpha * g + (1 - alpha) * dx; denom = sqrt(cache - g ** 2) + eps)
        x -= lr * dx / denom                                    (momentum == 0)
        b = momentum * b + dx / denom; x -= lr * b              (momentum > 0)

    With ``momentum = 0`` and ``centered = False`` this is the notes' RMSprop; it matches
    ``torch.optim.RMSprop``. State entries: ``'square_avg'`` (``cache``), ``'momentum_buffer'``,
    ``'grad_avg'``.

    Args:
        params: iterable of Tensors, or of dicts defining parameter groups.
        lr: learning rate (default 1e-2).
        alpha: decay rate of the squared-gradient average, in [0, 1] (default 0.99).
        eps: term added to the denominator for numerical stability (default 1e-8).
        weight_decay: L2 penalty coefficient (default 0).
        momentum: momentum factor (default 0).
        centered: normalize by an estimate of the gradient's variance instead (default False).
    """

    _param_shaped_state = ("square_avg", "momentum_buffer", "grad_avg")

    def __init__(
        self,
        params: Iterable,
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
    ):
        defaults = {
            "lr": lr,
            "alpha": alpha,
            "eps": eps,
            "weight_decay": weight_decay,
            "momentum": momentum,
            "centered": centered,
        }
        super().__init__(params, defaults)

    def _validate_group(self, group: dict) -> None:
        for key in ("lr", "eps", "weight_decay", "momentum"):
            check_option("RMSprop", key, group[key])
        check_option("RMSprop", "alpha", group["alpha"], 0.0, 1.0, high_inclusive=True)

    def _update(self, param: Tensor, grad, state: dict, group: dict) -> None:
        xp = backend.get_array_module(param.array)
        alpha, mu = group["alpha"], group["momentum"]
        if not state:
            state["step"] = 0
            state["square_avg"] = xp.zeros_like(param.array)
        state["step"] += 1
        if group["weight_decay"] != 0:
            grad = grad + group["weight_decay"] * param.array
        cache = state["square_avg"]
        cache *= alpha
        cache += (1 - alpha) * grad * grad
        if group["centered"]:
            g_avg = state.get("grad_avg")
            if g_avg is None:
                g_avg = state["grad_avg"] = xp.zeros_like(param.array)
            g_avg *= alpha
            g_avg += (1 - alpha) * grad
            denom = xp.sqrt(cache - g_avg * g_avg) + group["eps"]
        else:
            denom = xp.sqrt(cache) + group["eps"]
        if mu > 0:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = xp.zeros_like(param.array)
            buf *= mu
            buf += grad / denom
            param.array -= group["lr"] * buf
        else:
            param.array -= group["lr"] * grad / denom
