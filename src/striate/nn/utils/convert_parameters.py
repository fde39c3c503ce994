"""All parameters as one flat vector, and back: handy for L-BFGS, weight averaging, or
measuring how far training moved the weights."""

from __future__ import annotations

from collections.abc import Iterable

from ... import ops
from ...autograd.tensor import Tensor

__all__ = ["parameters_to_vector", "vector_to_parameters"]


def _as_list(parameters, name: str) -> list:
    if isinstance(parameters, Tensor):
        return [parameters]
    params = list(parameters)
    for i, p in enumerate(params):
        if not isinstance(p, Tensor):
            raise TypeError(f"{name}: parameter {i} must be a Tensor, got {type(p).__name__}")
    return params


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """Concatenate the parameters, each flattened, into one 1-D tensor (differentiable).

    Args:
        parameters: an iterable of Tensors, e.g. ``model.parameters()``.

    Returns:
        a Tensor of shape (total number of elements,).
    """
    params = _as_list(parameters, "parameters_to_vector")
    if not params:
        raise ValueError("parameters_to_vector: got no parameters")
    return ops.cat([ops.reshape(p, -1) for p in params])


def vector_to_parameters(vec: Tensor, parameters: Iterable[Tensor]) -> None:
    """Copy consecutive slices of the 1-D ``vec`` into the parameters' arrays, in place.

    The Parameter objects are kept (an optimizer built on them stays valid); the values are cast
    to each parameter's dtype.

    Raises:
        TypeError: ``vec`` is not a Tensor. ValueError: it is not 1-D, or its length is not the
            total number of parameter elements.
    """
    if not isinstance(vec, Tensor):
        raise TypeError(f"vector_to_parameters: vec must be a Tensor, got {type(vec).__name__}")
    if vec.ndim != 1:
        raise ValueError(f"vector_to_parameters: vec must be 1-D, got shape {tuple(vec.shape)}")
    params = _as_list(parameters, "vector_to_parameters")
    total = sum(p.numel() for p in params)
    if vec.shape[0] != total:
        raise ValueError(
            f"vector_to_parameters: vec has {vec.shape[0]} elements but the parameters hold {total}"
        )
    start = 0
    for p in params:
        n = p.numel()
        p.array[...] = vec.array[start : start + n].reshape(p.shape).astype(p.dtype, copy=False)
        p._bump_version()
        start += n
