"""Tensor methods for the torch functions added with ``ops`` (``t.cumsum(0)``, ``t.new_zeros``).

One block, attached by :func:`attach` when ``striate.ops`` is imported, so it can move to wherever
Tensor's other methods live without touching the ops.
"""

from __future__ import annotations

import numpy as np

from ..autograd.tensor import Tensor


def _new(self: Tensor, array, dtype, requires_grad: bool) -> Tensor:
    return Tensor(np.asarray(array, dtype=dtype if dtype is not None else self.dtype),
                  requires_grad=requires_grad)


def _size(size) -> tuple:
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        return tuple(size[0])
    return tuple(size)


def attach() -> None:
    """Add the methods to :class:`Tensor` (idempotent)."""
    from . import elementwise, indexing, linalg, random, reduction, shape

    def new_zeros(self, *size, dtype=None, device=None, requires_grad=False):
        """Zeros of ``size`` with this tensor's dtype (unless ``dtype``)."""
        return _new(self, np.zeros(_size(size)), dtype, requires_grad)

    def new_ones(self, *size, dtype=None, device=None, requires_grad=False):
        """Ones of ``size`` with this tensor's dtype (unless ``dtype``)."""
        return _new(self, np.ones(_size(size)), dtype, requires_grad)

    def new_full(self, size, fill_value, dtype=None, device=None, requires_grad=False):
        """``fill_value`` everywhere, shape ``size``, this tensor's dtype (unless ``dtype``)."""
        return _new(self, np.full(tuple(size), fill_value), dtype, requires_grad)

    def new_tensor(self, data, dtype=None, device=None, requires_grad=False):
        """A copy of ``data`` as a tensor with this tensor's dtype (unless ``dtype``)."""
        data = data.array if isinstance(data, Tensor) else data
        return _new(self, np.array(data), dtype, requires_grad)

    def add(self, other, *, alpha=1):
        """``self + alpha * other``."""
        return elementwise.add(self, other, alpha=alpha)

    def sub(self, other, *, alpha=1):
        """``self - alpha * other``."""
        if alpha != 1:
            other = elementwise.mul(other, alpha)
        return elementwise.sub(self, other)

    def div(self, other, *, rounding_mode=None):
        """``self / other``; ``rounding_mode`` 'trunc' or 'floor' rounds the quotient."""
        q = elementwise.div(self, other)
        if rounding_mode is None:
            return q
        fn = {"trunc": np.trunc, "floor": np.floor}.get(rounding_mode)
        if fn is None:
            raise ValueError(f"div: rounding_mode must be None, 'trunc' or 'floor', got "
                             f"{rounding_mode!r}")
        return Tensor(fn(q.array).astype(np.result_type(self.array, getattr(other, "array",
                                                                             other))))

    def flip(self, *dims):
        return shape.flip(self, _size(dims))

    def multinomial(self, num_samples, replacement=False, generator=None):
        return random.multinomial(self, num_samples, replacement, generator)

    def __format__(self, spec):
        # format(t, ".2f") formats a 0-d tensor's value, as PyTorch does
        if self.ndim == 0 and spec:
            return format(self.item(), spec)
        return format(str(self), spec)

    methods = {
        "new_zeros": new_zeros, "new_ones": new_ones, "new_full": new_full,
        "new_tensor": new_tensor, "add": add, "sub": sub,
        "mul": lambda self, other: elementwise.mul(self, other), "div": div,
        "log1p": elementwise.log1p, "expm1": elementwise.expm1, "sin": elementwise.sin,
        "cos": elementwise.cos, "isclose": elementwise.isclose, "allclose": elementwise.allclose,
        "tril": shape.tril, "triu": shape.triu, "flip": flip, "roll": shape.roll,
        "narrow": shape.narrow, "prod": reduction.prod, "cumsum": reduction.cumsum,
        "cumprod": reduction.cumprod, "logsumexp": reduction.logsumexp, "norm": reduction.norm,
        "amax": reduction.amax, "amin": reduction.amin, "mm": linalg.mm, "bmm": linalg.bmm,
        "multinomial": multinomial, "__format__": __format__,
    }  # fmt: skip
    for name, fn in methods.items():
        if name not in Tensor.__dict__ or getattr(Tensor.__dict__[name], "_striate_extra", False):
            fn._striate_extra = True
            setattr(Tensor, name, fn)
    if "is_cuda" not in Tensor.__dict__:
        Tensor.is_cuda = property(lambda self: False, doc="False: striate tensors live on the CPU")
    del indexing  # one_hot is a function only, as in PyTorch
