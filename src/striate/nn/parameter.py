"""``Parameter``: a Tensor that a Module registers as learnable when assigned as an attribute."""

from __future__ import annotations

import numpy as np

from .. import backend
from ..autograd.tensor import Tensor

__all__ = ["Parameter"]


class Parameter(Tensor):
    """A leaf Tensor that requires grad and that ``Module.__setattr__`` registers as a parameter.

    Args:
        data: a Tensor (its array is shared, not copied), an ndarray (shared), or anything
            ``numpy.array`` accepts (Python floats take the default dtype). None gives an empty
            tensor of the default dtype.
        requires_grad: whether the optimizer should train it (default True).

    Example:
        >>> import numpy as np
        >>> w = Parameter(np.zeros((2, 3), np.float32))
        >>> w.requires_grad, w.is_leaf, w.shape
        (True, True, (2, 3))
    """

    __slots__ = ()  # Tensor has __slots__; no new ones, so a Parameter is as light as a Tensor

    def __init__(self, data=None, requires_grad: bool = True):
        if data is None:
            data = np.empty((0,), dtype=backend.get_default_dtype())
        elif isinstance(data, Tensor):
            data = data.array
        super().__init__(data, requires_grad=requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()
