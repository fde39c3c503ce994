"""Adam (momentum + RMSprop with bias correction) and AdamW (Adam with decoupled weight decay)."""

from __future__ import annotations

import math
from collections.abc import Iterable

from .. import backend
from ..autograd.tensor import Tensor
from .optimizer import Optimizer, check_option

__all__ = ["Adam", "AdamW"]


class Adam(Optimizer):
    """Adam: a momentum average of the gradient divided by the root of an average of its square.

    For each parameter ``x`` with gradient ``dx`` at step ``t = 1, 2, ...`` (``m``, ``v`` have
    ``x``'s shape)::

        dx = dx + weight_decay * x                       # L2, added to the gradient
        m  = beta1 * m + (1 - beta1) * dx
        v  = beta2 * v + (1 - beta2) * dx ** 2
        mt = m / (1 - beta1 ** t)                        # bias correction: m, v start at 0
        vt = v / (1 - beta2 ** t)                        # (amsgrad: v_max = max(v_max, v))
        x -= lr * mt / (sqrt(vt) + eps)

    This is the notes' Adam with bias correction, and ``torch.optim.Adam``. State entries:
    ``'step'``, ``'exp_avg'`` (``m``), ``'exp_avg_sq'`` (``v``), ``'max_exp_avg_sq'`` (amsgrad).

    Args:
        params: iterable of Tensors, or of dicts defining parameter groups.
        lr: learning rate (default 1e-3).
        betas: decay rates ``(beta1, beta2)`` of the two averages, each in [0, 1)
            (default (0.9, 0.999)).
        eps: term added to the denominator for numerical stability (default 1e-8).
        weight_decay: L2 penalty coefficient (default 0).
        amsgrad: divide by the running maximum of ``v`` (AMSGrad) (default False).
    """

    _param_shaped_state = ("exp_avg", "exp_avg_sq", "max_exp_avg_sq")
    _decoupled = False  # AdamW sets this: decay the weights directly, not through the gradient

    def __init__(
        self,
        params: Iterable,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
    ):
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay}
        defaults["amsgrad"] = amsgrad
        super().__init__(params, defaults)

    def _validate_group(self, group: dict) -> None:
        name = type(self).__name__
        for key in ("lr", "eps", "weight_decay"):
            check_option(name, key, group[key])
        betas = group["betas"]
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"{name}: betas must be a pair (beta1, beta2), got {betas!r}")
        check_option(name, "betas[0]", betas[0], 0.0, 1.0)
        check_option(name, "betas[1]", betas[1], 0.0, 1.0)

    def _update(self, param: Tensor, grad, state: dict, group: dict) -> None:
        xp = backend.get_array_module(param.array)
        beta1, beta2 = group["betas"]
        lr, wd = group["lr"], group["weight_decay"]
        if not state:
            state["step"] = 0
            state["exp_avg"] = xp.zeros_like(param.array)
            state["exp_avg_sq"] = xp.zeros_like(param.array)
        state["step"] += 1
        t = state["step"]
        if wd != 0:
            if self._decoupled:
                param.array *= 1 - lr * wd
            else:
                grad = grad + wd * param.array
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m *= beta1
        m += (1 - beta1) * grad
        v *= beta2
        v += (1 - beta2) * grad * grad
        if group["amsgrad"]:
            v_max = state.get("max_exp_avg_sq")
            if v_max is None:
                v_max = state["max_exp_avg_sq"] = xp.zeros_like(param.array)
            xp.maximum(v_max, v, out=v_max)
            v = v_max
        # Fold the two bias corrections into the step size and the denominator, as PyTorch does:
        # lr * (m / c1) / (sqrt(v / c2) + eps) = (lr / c1) * m / (sqrt(v) / sqrt(c2) + eps).
        step_size = lr / (1 - beta1**t)
        denom = xp.sqrt(v) / math.sqrt(1 - beta2**t) + group["eps"]
        param.array -= step_size * m / denom


class AdamW(Adam):
    """AdamW: Adam with decoupled weight decay (Loshchilov & Hutter).

    The weights shrink directly, ``x *= 1 - lr * weight_decay``, before the Adam step, instead of
    ``weight_decay * x`` being added to the gradient (where Adam's per-weight scaling would
    weaken it for weights with large gradients). Everything else is :class:`Adam`; this matches
    ``torch.optim.AdamW``.

    Args:
        params: iterable of Tensors, or of dicts defining parameter groups.
        lr: learning rate (default 1e-3).
        betas: decay rates ``(beta1, beta2)``, each in [0, 1) (default (0.9, 0.999)).
        eps: term added to the denominator for numerical stability (default 1e-8).
        weight_decay: decoupled weight-decay coefficient (default 1e-2).
        amsgrad: use the running maximum of ``v`` (default False).
    """

    _decoupled = True

    def __init__(
        self,
        params: Iterable,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
    ):
        super().__init__(
            params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad
        )
