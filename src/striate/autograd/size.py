"""``striate.Size``: PyTorch's ``torch.Size``, a tuple of ints (``Tensor.shape`` is a plain tuple,
which compares equal to it)."""

from __future__ import annotations

import math


class Size(tuple):
    """A shape: ``striate.Size([2, 3]) == (2, 3)``; ``numel()`` is the product of the dims."""

    def __new__(cls, sizes=()):
        dims = tuple(sizes)
        for d in dims:
            if not isinstance(d, int) and not hasattr(d, "__index__"):
                raise TypeError(f"Size: expected a sequence of ints, got an element "
                                f"{type(d).__name__} ({d!r})")
        return super().__new__(cls, (int(d) for d in dims))

    def numel(self) -> int:
        return math.prod(self)

    def __repr__(self) -> str:
        return f"striate.Size({list(self)})"
