"""Module backward hooks: ``register_full_backward_hook``, ``register_full_backward_pre_hook`` and
the deprecated ``register_backward_hook``, with PyTorch's semantics.

A module call with full backward hooks passes its positional tensor inputs through an identity
node (:class:`BackwardHookFunction`) before ``forward`` and its outputs through another after it,
as PyTorch's ``BackwardHook`` does. In backward, the output node's pre-hook sees the gradients
w.r.t. the module's outputs (``grad_output``; the backward pre-hooks may replace them), and the
input node's post-hook sees the gradients w.r.t. the inputs (``grad_input``), calls the user's
``hook(module, grad_input, grad_output)`` and hands on what it returns. The gradients of
the parameters are not part of ``grad_input``: they are computed inside ``forward``'s nodes.
"""

from __future__ import annotations

import warnings

import numpy as np

from ..autograd.function import Function
from ..autograd.grad_mode import is_grad_enabled
from ..autograd.tensor import Tensor
from . import global_hooks as g

__all__ = ["BackwardHook", "BackwardHookFunction", "setup", "finish", "register_non_full_hooks"]


def setup(module, args: tuple):
    """The hooks of one call of ``module``: (a :class:`BackwardHook` or None, the non-full
    hooks). The lists are copied now, so a hook registered later counts from the next call."""
    hooks = list(module.__dict__.get("_backward_hooks", {}).values())
    pre = [*g.backward_pre_hooks.values(),
           *module.__dict__.get("_backward_pre_hooks", {}).values()]
    full = module.__dict__.get("_is_full_backward_hook") is True
    full_hooks, non_full = (hooks, []) if full else ([], hooks)
    # the global hooks run first, as PyTorch's
    if g.state["full"] is True:
        full_hooks = [*g.backward_hooks.values(), *full_hooks]
    elif g.state["full"] is False:
        non_full = [*g.backward_hooks.values(), *non_full]
    bw = BackwardHook(module, full_hooks, pre) if full_hooks or pre else None
    return bw, non_full


def finish(bw: BackwardHook, output):
    """Wrap the module's output for its backward hooks (a Tensor or a tuple; anything else
    warns, as in PyTorch, and the hooks will not be called)."""
    if not isinstance(output, (Tensor, tuple)):
        warnings.warn("For backward hooks to be called, module output should be a Tensor or a "
                      f"tuple of Tensors but received {type(output)}", UserWarning, stacklevel=3)
    return bw.setup_output_hook(output)


class BackwardHookFunction(Function):
    """Identity on several tensors: one graph node whose hooks see their gradients.

    Its outputs are views of its inputs, so a recorded in-place change of one raises, as in
    PyTorch (the change would bypass the hook's gradient)."""

    # what a recorded in-place write on an output says (see Tensor._record_inplace)
    inplace_error = (
        "the tensor is an output of BackwardHookFunction (a module with backward hooks passes its "
        "inputs and outputs through it) and a view of the tensor it was given; changing it in "
        "place would bypass the hooks' gradient. Change a clone() of it instead, as PyTorch asks"
    )

    @staticmethod
    def forward(ctx, *arrays):
        return tuple(a.view() for a in arrays)

    @staticmethod
    def backward(ctx, *grads):
        # d identity(x) / dx = I: each output's gradient is its input's
        return grads


def _wrap_tensors(args: tuple):
    """Pass the tensors of ``args`` that require grad through one BackwardHookFunction node.

    Returns (new args, the node, the indices of the wrapped tensors); the node is None when no
    tensor requires grad or grad mode is off (then nothing is wrapped)."""
    idx = [i for i, a in enumerate(args) if isinstance(a, Tensor) and a.requires_grad]
    if not idx or not is_grad_enabled():
        return args, None, None
    outs = BackwardHookFunction.apply(*(args[i] for i in idx))
    new = list(args)
    for i, o in zip(idx, outs):
        new[i] = o
    return tuple(new), outs[0]._node, idx


class BackwardHook:
    """The state of one module call with full backward hooks (PyTorch's ``BackwardHook``).

    ``grad_outputs`` is set by the output node's pre-hook and consumed by the input node's
    post-hook; it stays None when a gradient reaches the inputs without passing through the
    outputs, and then the user's hooks are not called."""

    def __init__(self, module, user_hooks: list, user_pre_hooks: list):
        self.module = module
        self.user_hooks = user_hooks
        self.user_pre_hooks = user_pre_hooks
        self.grad_outputs = None
        self.n_inputs = 0
        self.input_index = None
        self.input_zeros = {}  # index -> zeros: the grad_input of a tensor that needs no grad
        self.n_outputs = 0
        self.output_index = None

    def setup_input_hook(self, args: tuple) -> tuple:
        """Wrap the module's positional tensor inputs; returns the args to call forward with."""
        self.n_inputs = len(args)
        # a tensor input that needs no gradient gets zeros in grad_input (PyTorch's node
        # materialises them), a non-tensor None
        self.input_zeros = {i: a for i, a in enumerate(args)
                            if isinstance(a, Tensor) and not a.requires_grad}
        args, node, self.input_index = _wrap_tensors(args)
        if node is not None:
            node.register_hook(self._input_hook)
        return args

    def setup_output_hook(self, result):
        """Wrap the module's output tensors; returns the output to hand back."""
        single = not isinstance(result, tuple)
        outs = (result,) if single else result
        self.n_outputs = len(outs)
        outs, node, self.output_index = _wrap_tensors(outs)
        if node is not None:
            node.register_prehook(self._output_hook)
        return outs[0] if single else outs

    def _output_hook(self, grad_outputs):
        grads = _chain(self.module, self.user_pre_hooks,
                       _pack(self.output_index, grad_outputs, self.n_outputs),
                       lambda hook, g: hook(self.module, g), "backward pre hook", "grad_output")
        self.grad_outputs = grads
        if self.input_index is None and self.user_hooks:
            # no input requires grad: the input node does not exist, so the hooks fire here,
            # with None for every input gradient (as PyTorch, which warns)
            warnings.warn(
                "Full backward hook is firing when gradients are computed with respect to module "
                "outputs since no inputs require gradients.", UserWarning, stacklevel=2)
            nones = (None,) * self.n_inputs
            for hook in self.user_hooks:
                r = hook(self.module, nones, grads)
                if r is not None and not (isinstance(r, tuple) and all(v is None for v in r)):
                    raise RuntimeError(
                        f"{type(self.module).__name__}: backward hook for a module where no "
                        "input requires gradient should always return None or None for all "
                        "gradients"
                    )
            self.grad_outputs = None
        return tuple(grads[i] for i in self.output_index)

    def _input_hook(self, grad_inputs, _grad_outputs):
        if self.grad_outputs is None:
            return None
        res = list(_pack(self.input_index, grad_inputs, self.n_inputs))
        for i, a in self.input_zeros.items():
            res[i] = Tensor(np.zeros_like(a.array))
        res = _chain(self.module, self.user_hooks, tuple(res),
                     lambda hook, g: hook(self.module, g, self.grad_outputs), "backward hook",
                     "grad_input")
        self.grad_outputs = None
        return tuple(res[i] for i in self.input_index)


def _chain(module, hooks, grads: tuple, call, what: str, name: str) -> tuple:
    """Run ``call(hook, grads)`` for each hook in turn; a returned value (a tuple of the same
    length, or one value) replaces ``grads`` for the next hook and the result."""
    for hook in hooks:
        r = call(hook, grads)
        if r is None:
            continue
        r = r if isinstance(r, tuple) else (r,)
        if len(r) != len(grads):
            raise RuntimeError(
                f"{type(module).__name__}: {what} returned an invalid number of {name}, got "
                f"{len(r)}, but expected {len(grads)}"
            )
        grads = r
    return grads


def _pack(index, values, size: int) -> tuple:
    out = [None] * size
    for i, v in zip(index or (), values):
        out[i] = v
    return tuple(out)


class _WrappedHook:
    """A non-full backward hook as a node post-hook: ``hook(module, grad_input, grad_output)``."""

    def __init__(self, hook, module):
        self.hook = hook
        self.module = module

    def __call__(self, grad_inputs, grad_outputs):
        return self.hook(self.module, grad_inputs, grad_outputs)


def register_non_full_hooks(module, hooks: list, args: tuple, result) -> None:
    """``register_backward_hook``'s hooks, as PyTorch runs them: on the node that made the first
    output tensor, so ``grad_input`` is the gradients of *that node's* inputs (all of the
    module's only when forward is one node, as for ReLU); warns where PyTorch warns."""
    var = result
    while not isinstance(var, Tensor):
        if isinstance(var, dict):
            var = next(v for v in var.values() if isinstance(v, Tensor))
        else:
            var = var[0]
    node = var._node
    if node is None:
        return
    for hook in hooks:
        node.register_hook(_WrappedHook(hook, module))
    _warn_non_full(args, result, node)


def _warn_non_full(inputs, result, node) -> None:
    """PyTorch's warnings for the cases where a non-full hook misses gradients."""
    more = " Please use register_full_backward_hook to get the documented behavior."
    outs = (result,) if isinstance(result, Tensor) else result
    if not (isinstance(outs, tuple) and all(isinstance(r, Tensor) for r in outs)):
        warnings.warn("Using non-full backward hooks on a Module that does not return a single "
                      "Tensor or a tuple of Tensors is deprecated and will be removed in future "
                      "versions. This hook will be missing some of the grad_output." + more,
                      FutureWarning, stacklevel=3)
        return
    if not all(isinstance(i, Tensor) for i in inputs):
        warnings.warn("Using non-full backward hooks on a Module that does not take as input a "
                      "single Tensor or a tuple of Tensors is deprecated and will be removed in "
                      "future versions. This hook will be missing some of the grad_input." + more,
                      FutureWarning, stacklevel=3)
        return
    out_nodes = {r._node for r in outs if r._node is not None}
    if len(out_nodes) == 0 or (len(out_nodes) == 1 and node not in out_nodes):
        warnings.warn("Using a non-full backward hook when outputs are nested in python data "
                      "structure is deprecated and will be removed in future versions. This hook "
                      "will be missing some grad_output.", FutureWarning, stacklevel=3)
    elif len(out_nodes) > 1:
        warnings.warn("Using a non-full backward hook when outputs are generated by different "
                      "autograd Nodes is deprecated and will be removed in future versions. This "
                      "hook will be missing some grad_output." + more, FutureWarning, stacklevel=3)
    else:
        in_nodes = {i._node for i in inputs if i._node is not None}
        if in_nodes != {n for n, _ in node.next_functions}:
            warnings.warn("Using a non-full backward hook when the forward contains multiple "
                          "autograd Nodes is deprecated and will be removed in future versions. "
                          "This hook will be missing some grad_input." + more,
                          FutureWarning, stacklevel=3)
