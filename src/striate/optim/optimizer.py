"""``Optimizer``: parameter groups, per-parameter state, and the update loop every optimizer shares.

An optimizer holds ``param_groups`` (a list of dicts: ``'params'``, a list of Tensors, and that
group's options such as ``'lr'``) and ``state`` (a dict keyed by the parameter Tensor, holding what
the update rule remembers: a momentum buffer, Adam's moments, a step count). A subclass only says
how one parameter is updated (:meth:`Optimizer._update`) and which options are valid
(:meth:`Optimizer._validate_group`); ``step``, ``zero_grad``, ``state_dict`` and
``load_state_dict`` live here, with PyTorch's semantics.

Updates work on the raw arrays in place (``p.array -= ...`` from ``p.grad.array``): an optimizer
step is not part of any model, so it never builds an autograd graph.
"""

from __future__ import annotations

import copy
import numbers
from collections import defaultdict
from collections.abc import Callable, Iterable

import numpy as np

from .. import backend
from ..autograd.grad_mode import enable_grad
from ..autograd.tensor import Tensor

__all__ = ["Optimizer", "required"]


class _RequiredParameter:
    """Default of an option with no default (SGD's ``lr``): each group must then give it."""

    def __repr__(self) -> str:
        return "<required parameter>"


required = _RequiredParameter()


def check_option(
    owner: str,
    name: str,
    value,
    low: float = 0.0,
    high: float | None = None,
    high_inclusive: bool = False,
) -> None:
    """Raise a clear error unless ``value`` is a real number with ``low <= value`` (``< high``).

    ``owner`` names the optimizer in the message, e.g.
    ``SGD: invalid momentum=-0.9, expected a number >= 0``.
    """
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        raise TypeError(
            f"{owner}: {name} must be a real number, got {type(value).__name__} ({value!r})"
        )
    bound = f">= {low}"
    ok = value >= low
    if high is not None:
        bound += f" and {'<=' if high_inclusive else '<'} {high}"
        ok = ok and (value <= high if high_inclusive else value < high)
    if not ok:  # also false for NaN
        raise ValueError(f"{owner}: invalid {name}={value!r}, expected a number {bound}")


def _export(value):
    """A copy of one state value for ``state_dict``: arrays become NumPy arrays."""
    if isinstance(value, np.ndarray):
        return value.copy()
    if backend.get_array_module(value) is not np:  # pragma: no cover - GPU only
        return value.get()
    if isinstance(value, np.generic):
        return value.item()
    return copy.deepcopy(value)


def _import(value, param: Tensor):
    """A copy of one saved state value, as an array on ``param``'s device and float dtype."""
    if isinstance(value, np.ndarray) or backend.get_array_module(value) is not np:
        xp = backend.get_array_module(param.array)
        dtype = param.dtype if np.dtype(value.dtype).kind == "f" else value.dtype
        return xp.array(value, dtype=dtype, copy=True)
    return copy.deepcopy(value)


class Optimizer:
    """Base class of every optimizer: groups of parameters, their options and their state.

    Args:
        params: an iterable of Tensors (the parameters, one group), or of dicts (parameter groups,
            each ``{'params': [...], **options}``; an option a group omits takes its default).
        defaults: each option's default value (``required`` where a group must give it).

    Attributes:
        param_groups: list of dicts, each with ``'params'`` (list of Tensors) and every option.
        state: dict from parameter Tensor to that parameter's state dict.
        defaults: the options' defaults.

    Raises:
        TypeError: ``params`` is a single Tensor, or holds something that is not a Tensor.
        ValueError: an empty parameter list, a parameter in two groups, a required option missing,
            or an option out of range (checked by the subclass for every group).
    """

    # State entries that have the parameter's shape; load_state_dict checks them.
    _param_shaped_state: tuple[str, ...] = ()

    def __init__(self, params: Iterable, defaults: dict):
        name = type(self).__name__
        if isinstance(params, Tensor):
            raise TypeError(
                f"{name}: params must be an iterable of Tensors or of dicts, got a single Tensor "
                f"of shape {params.shape}; pass [tensor] or model.parameters()"
            )
        if isinstance(params, dict):
            raise TypeError(
                f"{name}: params must be an iterable of Tensors or of dicts (param "
                "groups), got one dict; wrap the group in a list"
            )
        if isinstance(params, (set, frozenset)):
            raise TypeError(
                f"{name}: params is a set, whose order changes between runs (and with it the "
                "indices in state_dict); use a list"
            )
        try:
            params = list(params)
        except TypeError:
            raise TypeError(
                f"{name}: params must be an iterable of Tensors or of dicts, got "
                f"{type(params).__name__}"
            ) from None
        if not params:
            raise ValueError(f"{name}: got an empty parameter list")
        self.defaults = dict(defaults)
        self.state: defaultdict = defaultdict(dict)
        self.param_groups: list[dict] = []
        groups = params if isinstance(params[0], dict) else [{"params": params}]
        for group in groups:
            self.add_param_group(group)

    # ---- what a subclass provides -----------------------------------------------------------

    def _validate_group(self, group: dict) -> None:
        """Raise if an option of ``group`` is out of range (a subclass checks its options)."""

    def _update(self, param: Tensor, grad, state: dict, group: dict) -> None:  # pragma: no cover
        """Update ``param.array`` in place from ``grad`` (an array of the same shape)."""
        raise NotImplementedError(f"{type(self).__name__} must define _update")

    # ---- groups -------------------------------------------------------------------------------

    def add_param_group(self, param_group: dict) -> None:
        """Add a group of parameters, with its own options, e.g. to unfreeze layers mid-training.

        Options the group omits take the optimizer's defaults.

        Raises:
            TypeError: the group is not a dict, or one of its params is not a Tensor.
            ValueError: the group is empty, repeats a parameter or shares one with another group,
                lacks a required option, or has an option out of range.
        """
        name = type(self).__name__
        gi = len(self.param_groups)
        if not isinstance(param_group, dict):
            raise TypeError(
                f"{name}: param group {gi} must be a dict, got {type(param_group).__name__}"
            )
        if "params" not in param_group:
            raise ValueError(
                f"{name}: param group {gi} has no 'params' key (keys: {sorted(param_group)})"
            )
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, (set, frozenset)):
            raise TypeError(
                f"{name}: the params of group {gi} are a set, whose order changes "
                "between runs; use a list"
            )
        else:
            params = list(params)
        if not params:
            raise ValueError(f"{name}: param group {gi} has an empty parameter list")
        for i, p in enumerate(params):
            if not isinstance(p, Tensor):
                raise TypeError(
                    f"{name}: parameter {i} of group {gi} must be a Tensor, got {type(p).__name__}"
                )
            if not p.is_leaf:
                raise ValueError(
                    f"{name}: parameter {i} of group {gi} is not a leaf tensor (it "
                    "was computed by an operation); optimize leaves only"
                )
            if p.dtype.kind != "f":
                raise TypeError(
                    f"{name}: parameter {i} of group {gi} must be floating point, "
                    f"got dtype {p.dtype}"
                )
        if len({id(p) for p in params}) != len(params):
            raise ValueError(f"{name}: param group {gi} lists the same parameter more than once")
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in params):
            raise ValueError(
                f"{name}: some parameters of group {gi} are already in another parameter group"
            )
        group = {k: v for k, v in param_group.items() if k != "params"}
        for key, default in self.defaults.items():
            if key not in group:
                if default is required:
                    raise ValueError(
                        f"{name}: param group {gi} does not give a value for "
                        f"'{key}', which has no default"
                    )
                group[key] = copy.deepcopy(default)
        group["params"] = params
        self._validate_group(group)
        self.param_groups.append(group)

    # ---- the loop -----------------------------------------------------------------------------

    def step(self, closure: Callable | None = None):
        """Update every parameter that has a gradient; parameters with ``grad`` None are skipped.

        Args:
            closure: optional function that re-evaluates the model and returns the loss (it is
                called with grad mode on, before the update).

        Returns:
            the closure's loss, or None.
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        name = type(self).__name__
        for gi, group in enumerate(self.param_groups):
            for i, p in enumerate(group["params"]):
                if p.grad is None:
                    continue
                grad = p.grad.array if isinstance(p.grad, Tensor) else p.grad
                if grad.shape != p.shape:
                    raise ValueError(
                        f"{name}.step: parameter {i} of group {gi} has shape "
                        f"{p.shape} but its grad has shape {grad.shape}"
                    )
                self._update(p, grad, self.state[p], group)
                p._bump_version()  # a graph that saved p's old values must not use the new ones
        return loss

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear every parameter's gradient: set it to None (default), or fill it with zeros."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    p.grad.array[...] = 0
                    p.grad._bump_version()

    # ---- saving and loading -------------------------------------------------------------------

    def state_dict(self) -> dict:
        """The optimizer's options and state as plain data, for a checkpoint.

        Returns:
            ``{'state': {index: {name: value}}, 'param_groups': [{..., 'params': [index, ...]}]}``
            where parameters are replaced by their integer position (counted across groups in
            order) and state arrays are NumPy copies.
        """
        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            packed = {k: copy.deepcopy(v) for k, v in group.items() if k != "params"}
            ids = []
            for p in group["params"]:
                index.setdefault(id(p), len(index))
                ids.append(index[id(p)])
            packed["params"] = ids
            groups.append(packed)
        state = {}
        for group in self.param_groups:
            for p in group["params"]:
                if self.state.get(p):
                    state[index[id(p)]] = {k: _export(v) for k, v in self.state[p].items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore options and state saved by :meth:`state_dict` (the parameters stay these).

        Raises:
            ValueError: the number of groups, of parameters in a group, or a state array's shape
                differs from this optimizer's; nothing is changed then.
        """
        name = f"{type(self).__name__}.load_state_dict"
        if not isinstance(state_dict, dict) or not {"state", "param_groups"} <= set(state_dict):
            got = sorted(state_dict) if isinstance(state_dict, dict) else type(state_dict).__name__
            raise ValueError(
                f"{name}: expected a dict with keys 'state' and 'param_groups', got {got}"
            )
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                f"{name}: the state dict has {len(saved_groups)} parameter groups but "
                f"the optimizer has {len(self.param_groups)}"
            )
        by_index: dict[int, Tensor] = {}
        for gi, (group, saved) in enumerate(zip(self.param_groups, saved_groups)):
            if len(saved["params"]) != len(group["params"]):
                raise ValueError(
                    f"{name}: parameter group {gi} has {len(saved['params'])} "
                    f"parameters in the state dict but {len(group['params'])} in "
                    "the optimizer"
                )
            by_index.update(zip((int(i) for i in saved["params"]), group["params"]))
        state: defaultdict = defaultdict(dict)
        for key, saved_state in state_dict["state"].items():
            if int(key) not in by_index:
                raise ValueError(
                    f"{name}: the state dict has state for parameter {key}, which "
                    "is in none of its parameter groups"
                )
            p = by_index[int(key)]
            entry = {k: _import(v, p) for k, v in saved_state.items()}
            for k in self._param_shaped_state:
                if k in entry and entry[k].shape != p.shape:
                    raise ValueError(
                        f"{name}: state '{k}' of parameter {key} has shape "
                        f"{entry[k].shape} but the parameter has shape {p.shape}"
                    )
            state[p] = entry
        new_groups = []
        for group, saved in zip(self.param_groups, saved_groups):
            new = {k: copy.deepcopy(v) for k, v in saved.items() if k != "params"}
            new["params"] = group["params"]
            new_groups.append(new)
        self.state = state
        self.param_groups = new_groups

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for gi, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {gi}")
            for k in sorted(group):
                if k != "params":
                    lines.append(f"    {k}: {group[k]}")
        lines.append(")")
        return "\n".join(lines)
