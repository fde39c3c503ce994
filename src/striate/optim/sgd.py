"""Stochastic gradient descent, with momentum and Nesterov momentum (PyTorch's formulation)."""

from __future__ import annotations

from collections.abc import Iterable

from ..autograd.tensor import Tensor
from .optimizer import Optimizer, check_option, required

__all__ = ["SGD"]


class SGD(Optimizer):
    """Stochastic gradient descent, optionally with momentum or Nesterov momentum.

    For each parameter ``x`` with gradient ``dx`` (any shape; the buffer ``b`` has ``x``'s shape)::

        dx = dx + weight_decay * x                 # L2 regularization, added to the gradient
        b  = dx                   (first step)     # momentum != 0 only
        b  = mu * b + (1 - dampening) * dx         (later steps)
        dx = dx + mu * b   if nesterov  else  b
        x -= lr * dx

    This is ``torch.optim.SGD`` exactly. The notes write momentum with a velocity in parameter
    units, ``v = mu * v - lr * dx; x += v``. PyTorch keeps the buffer in gradient units instead,
    and the two are the same iterates under the change of variable ``v = -lr * b`` as long as
    ``lr`` is constant (and ``dampening`` is 0). The same holds for Nesterov: the notes (CS231n)
    store the look-ahead point and update ``v_prev = v; v = mu * v - lr * dx;
    x += -mu * v_prev + (1 + mu) * v``; substituting ``v = -lr * b`` into PyTorch's
    ``b = mu * b + dx; x -= lr * (dx + mu * b)`` gives exactly that update, with the gradient taken
    at the stored point in both. The forms differ only when ``lr`` changes mid-run: PyTorch's
    buffer is rescaled by the new ``lr`` at once, while the notes' velocity still carries the old
    one.

    Args:
        params: iterable of Tensors, or of dicts defining parameter groups.
        lr: learning rate (>= 0); required.
        momentum: momentum factor ``mu`` (>= 0; default 0, plain SGD).
        dampening: dampening for momentum (default 0).
        weight_decay: L2 penalty coefficient (default 0).
        nesterov: use Nesterov momentum (needs ``momentum > 0`` and ``dampening == 0``).

    Example:
        >>> import numpy as np, striate
        >>> from striate.optim import SGD
        >>> w = striate.tensor(np.array([1.0, 2.0]), requires_grad=True)
        >>> opt = SGD([w], lr=0.1, momentum=0.9)
        >>> w.grad = striate.tensor(np.array([1.0, -1.0]))
        >>> opt.step()
        >>> w.array.tolist()
        [0.9, 2.1]
    """

    _param_shaped_state = ("momentum_buffer",)

    def __init__(
        self,
        params: Iterable,
        lr: float = required,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
    ):
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "dampening": dampening,
            "weight_decay": weight_decay,
            "nesterov": nesterov,
        }
        super().__init__(params, defaults)

    def _validate_group(self, group: dict) -> None:
        check_option("SGD", "lr", group["lr"])
        check_option("SGD", "momentum", group["momentum"])
        check_option("SGD", "dampening", group["dampening"])
        check_option("SGD", "weight_decay", group["weight_decay"])
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError(
                f"SGD: nesterov=True needs momentum > 0 and dampening = 0, got "
                f"momentum={group['momentum']} and dampening={group['dampening']}"
            )

    def _update(self, param: Tensor, grad, state: dict, group: dict) -> None:
        mu, wd = group["momentum"], group["weight_decay"]
        if wd != 0:
            grad = grad + wd * param.array  # a new array: p.grad itself is left as it was
        if mu != 0:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = grad.astype(param.dtype, copy=True)
            else:
                buf *= mu
                buf += (1 - group["dampening"]) * grad
            grad = grad + mu * buf if group["nesterov"] else buf
        param.array -= group["lr"] * grad
