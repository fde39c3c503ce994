"""Optimizers by name, for configs and the command line: ``create_optimizer("sgd", ...)``."""

from __future__ import annotations

from .adam import Adam, AdamW
from .adaptive import Adagrad, RMSprop
from .sgd import SGD

__all__ = ["OPTIMIZERS", "create_optimizer"]

OPTIMIZERS = ("adagrad", "adam", "adamw", "rmsprop", "sgd")


def create_optimizer(name: str, params, lr: float, momentum: float = 0.9,
                     weight_decay: float = 0.0):
    """The optimizer called ``name`` over ``params`` (tensors or param-group dicts).

    ``momentum`` is used by SGD (with Nesterov's form when it is > 0) and RMSprop; the adaptive
    methods keep their defaults for everything else.

    Raises:
        ValueError: an unknown name (the message lists the known ones).
    """
    if name == "sgd":
        return SGD(params, lr=lr, momentum=momentum, nesterov=momentum > 0,
                   weight_decay=weight_decay)
    if name == "adam":
        return Adam(params, lr=lr, weight_decay=weight_decay)
    if name == "adamw":
        return AdamW(params, lr=lr, weight_decay=weight_decay)
    if name == "rmsprop":
        return RMSprop(params, lr=lr, momentum=momentum, weight_decay=weight_decay)
    if name == "adagrad":
        return Adagrad(params, lr=lr, weight_decay=weight_decay)
    raise ValueError(f"create_optimizer: unknown optimizer {name!r}; choose from "
                     f"{', '.join(OPTIMIZERS)}")
