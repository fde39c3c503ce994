"""Autograd: ``Tensor``, ``Function``, the backward pass, grad mode and gradient checking."""

from .function import AccumulateGrad, Context, Function, Node, backward, grad, sum_to
from .grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .gradcheck import gradcheck, gradcheck_errors, numerical_gradient, relative_error
from .tensor import Tensor

__all__ = [
    "AccumulateGrad",
    "Context",
    "Node",
    "backward",
    "grad",
    "Function",
    "Tensor",
    "enable_grad",
    "gradcheck",
    "gradcheck_errors",
    "is_grad_enabled",
    "no_grad",
    "numerical_gradient",
    "relative_error",
    "set_grad_enabled",
    "sum_to",
]
