"""Loading a state_dict into a module: check every key and shape first, then copy in place."""

from __future__ import annotations

from collections import OrderedDict, namedtuple
from collections.abc import Mapping

import numpy as np

from .. import backend
from ..autograd.tensor import Tensor

__all__ = ["IncompatibleKeys", "load_into"]

IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


def load_into(module, state_dict: Mapping, strict: bool) -> IncompatibleKeys:
    """``Module.load_state_dict``'s work (see its docstring): a failed load changes nothing."""
    if not isinstance(state_dict, Mapping):
        raise TypeError(
            f"load_state_dict: expected a mapping (dict) of names to tensors, "
            f"got {type(state_dict).__name__}"
        )
    own = OrderedDict(module._state_items())
    missing = [k for k in own if k not in state_dict]
    unexpected = [k for k in state_dict if k not in own]
    errors = []
    if strict and unexpected:
        errors.append("Unexpected key(s) in state_dict: " + ", ".join(map(repr, unexpected)))
    if strict and missing:
        errors.append("Missing key(s) in state_dict: " + ", ".join(map(repr, missing)))
    pending = []
    for key, target in own.items():
        if key not in state_dict:
            continue
        value = state_dict[key]
        if isinstance(value, Tensor):
            value = value.array
        elif backend.get_array_module(value) is np:  # CuPy arrays pass as they are
            value = np.asarray(value)
        if tuple(value.shape) != tuple(target.shape):
            errors.append(
                f"size mismatch for {key}: the model has shape {tuple(target.shape)}, "
                f"the state_dict has shape {tuple(value.shape)}"
            )
            continue
        pending.append((target, value))
    if errors:
        raise RuntimeError(
            f"Error(s) in loading state_dict for {type(module).__name__}:\n\t"
            + "\n\t".join(errors)
        )
    for target, value in pending:
        value = backend.to_device(value, target.device)  # a GPU checkpoint into a CPU model
        target.array[...] = value.astype(target.array.dtype, copy=False)
        target._bump_version()
    return IncompatibleKeys(missing, unexpected)
