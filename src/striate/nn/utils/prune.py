"""``striate.nn.utils.prune``: pruning by masks, with PyTorch's names and mechanism.

Pruning ``module.weight`` moves the Parameter to ``module.weight_orig`` (the same object, so an
optimizer holding it stays valid), registers a buffer ``module.weight_mask`` of zeros and ones,
and installs a forward pre-hook that recomputes ``module.weight = weight_orig * weight_mask``
before every call. The gradient reaching ``weight_orig`` is therefore the masked gradient
(``d(w * m)/dw = m``): pruned weights get zero gradient from the loss, and retraining keeps them
at zero. ``remove`` makes the pruning permanent (``weight`` becomes a plain Parameter holding the
zeros); ``is_pruned`` tells whether any sub-module carries a pruning hook.

Pruning a tensor again combines the masks as PyTorch's ``PruningContainer`` does: an unstructured
method prunes ``amount`` of the entries still unpruned, so two rounds of ``amount=0.5`` leave a
quarter of the weights (the iterative schedule of Han et al. 2015).

``amount`` is a float in [0, 1] (a fraction of the entries, rounded) or an int (a count).
"""

from __future__ import annotations

import numbers

import numpy as np

from ...autograd.tensor import Tensor

__all__ = ["BasePruningMethod", "Identity", "RandomUnstructured", "L1Unstructured",
           "LnStructured", "RandomStructured", "CustomFromMask", "identity",
           "random_unstructured", "l1_unstructured", "random_structured", "ln_structured",
           "global_unstructured", "custom_from_mask", "remove", "is_pruned"]


def _validate_amount(amount, where: str) -> None:
    if isinstance(amount, bool) or not isinstance(amount, numbers.Real):
        raise TypeError(f"{where}: amount must be an int or a float, got {amount!r}")
    if isinstance(amount, numbers.Integral):
        if amount < 0:
            raise ValueError(f"{where}: amount must be a non-negative int, got {amount}")
    elif not 0.0 <= float(amount) <= 1.0:
        raise ValueError(f"{where}: amount must be a fraction in [0, 1], got {amount}")


def _count(amount, size: int, where: str) -> int:
    """The number of entries ``amount`` means out of ``size`` (PyTorch's rounding)."""
    if isinstance(amount, numbers.Integral):
        if amount > size:
            raise ValueError(f"{where}: amount={amount} is more than the {size} entries there are")
        return int(amount)
    return int(round(float(amount) * size))


class BasePruningMethod:
    """A way to compute a mask; an instance is also the forward pre-hook that applies it.

    Subclasses define ``compute_mask(t, default_mask) -> mask`` on NumPy arrays and set
    ``PRUNING_TYPE`` ("unstructured", "structured" or "global").
    """

    PRUNING_TYPE = "unstructured"
    _tensor_name: str

    def __call__(self, module, inputs):
        setattr(module, self._tensor_name, self.apply_mask(module))

    def compute_mask(self, t: np.ndarray, default_mask: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def apply_mask(self, module) -> Tensor:
        """``orig * mask`` as a graph node, so the gradient reaches ``name_orig`` masked."""
        orig = getattr(module, self._tensor_name + "_orig")
        mask = getattr(module, self._tensor_name + "_mask")
        return orig * mask

    @classmethod
    def apply(cls, module, name: str, *args, importance_scores=None, **kwargs):
        """Prune ``module.name`` with this method (combining with an earlier mask) and return
        the method."""
        where = f"prune.{cls.__name__}"
        hooks = [h for h in module._forward_pre_hooks.values()
                 if isinstance(h, BasePruningMethod) and h._tensor_name == name]
        orig = getattr(module, name, None) if not hooks else getattr(module, name + "_orig")
        if not isinstance(orig, Tensor):
            raise AttributeError(f"{where}: {type(module).__name__} has no tensor {name!r} "
                                 f"to prune (got {type(orig).__name__})")
        method = cls(*args, **kwargs)
        method._tensor_name = name
        scores = orig.array if importance_scores is None else _array(importance_scores)
        if scores.shape != orig.shape:
            raise ValueError(f"{where}: importance_scores must have the shape of {name} "
                             f"{tuple(orig.shape)}, got {scores.shape}")
        if hooks:
            old = hooks[0]
            default = module._buffers[name + "_mask"].array
            mask = _combine(method, scores, default)
            # one hook per tensor: the latest method replaces the earlier one
            for key, h in list(module._forward_pre_hooks.items()):
                if h is old:
                    del module._forward_pre_hooks[key]
            module._buffers[name + "_mask"].array = mask
            module._buffers[name + "_mask"]._bump_version()
        else:
            default = np.ones(orig.shape, dtype=orig.array.dtype)
            mask = method.compute_mask(scores, default).astype(orig.array.dtype)
            module.register_parameter(name + "_orig", orig)
            del module._parameters[name]
            module.register_buffer(name + "_mask", Tensor(mask))
        setattr(module, name, method.apply_mask(module))
        module.register_forward_pre_hook(method)
        return method

    def prune(self, t: Tensor | np.ndarray, default_mask=None) -> Tensor:
        """``t`` times the mask this method computes for it."""
        a = _array(t)
        mask = self.compute_mask(a, np.ones_like(a) if default_mask is None
                                 else _array(default_mask))
        return Tensor(a * mask)

    def remove(self, module) -> None:
        """Make the pruning of ``module`` permanent (see :func:`remove`)."""
        name = self._tensor_name
        weight = self.apply_mask(module)
        orig = module._parameters[name + "_orig"]
        orig.array = np.ascontiguousarray(weight.array)
        orig._bump_version()
        del module._parameters[name + "_orig"]
        del module._buffers[name + "_mask"]
        module.__dict__.pop(name, None)
        module.register_parameter(name, orig)


def _array(t) -> np.ndarray:
    return t.array if isinstance(t, Tensor) else np.asarray(t)


def _combine(method, scores: np.ndarray, default: np.ndarray) -> np.ndarray:
    """The new mask of a tensor pruned before: PyTorch's PruningContainer rule."""
    mask = default.copy()
    if method.PRUNING_TYPE == "unstructured":
        keep = default == 1  # prune `amount` of the entries still alive
        mask[keep] = method.compute_mask(scores[keep], default[keep])
    elif method.PRUNING_TYPE == "structured":
        # prune `amount` of the channels still alive along the method's dim
        dim = method.dim % default.ndim
        other = tuple(d for d in range(default.ndim) if d != dim)
        alive = np.flatnonzero(default.sum(axis=other) != 0)
        sub = np.take(scores, alive, axis=dim)
        new = method.compute_mask(sub, np.take(default, alive, axis=dim))
        idx = [slice(None)] * default.ndim
        idx[dim] = alive
        mask[tuple(idx)] = new
        mask *= default
    else:
        mask = method.compute_mask(scores, default)
    return mask.astype(default.dtype)


class Identity(BasePruningMethod):
    """Prunes nothing: a mask of ones (lets a pruned ``state_dict`` load into a fresh module)."""

    def compute_mask(self, t, default_mask):
        return default_mask.copy()


class RandomUnstructured(BasePruningMethod):
    """Zero ``amount`` of the entries chosen uniformly at random (striate's generator)."""

    def __init__(self, amount):
        _validate_amount(amount, "random_unstructured")
        self.amount = amount

    def compute_mask(self, t, default_mask):
        from ... import backend

        k = _count(self.amount, t.size, "random_unstructured")
        mask = default_mask.copy()
        if k:
            idx = backend.get_rng().permutation(t.size)[:k]
            mask.reshape(-1)[idx] = 0
        return mask


class L1Unstructured(BasePruningMethod):
    """Zero the ``amount`` entries of smallest absolute value (magnitude pruning)."""

    def __init__(self, amount):
        _validate_amount(amount, "l1_unstructured")
        self.amount = amount

    def compute_mask(self, t, default_mask):
        k = _count(self.amount, t.size, "l1_unstructured")
        mask = default_mask.copy()
        if k:
            idx = np.argsort(np.abs(t).reshape(-1), kind="stable")[:k]
            mask.reshape(-1)[idx] = 0
        return mask


def _channel_mask(norms: np.ndarray, k: int, shape, dim: int, default_mask) -> np.ndarray:
    """Keep every channel along ``dim`` but the ``k`` of smallest ``norms``."""
    keep = np.ones(norms.shape[0], dtype=bool)
    if k:
        keep[np.argsort(norms, kind="stable")[:k]] = False
    view = [1] * len(shape)
    view[dim] = norms.shape[0]
    return default_mask * keep.reshape(view).astype(default_mask.dtype)


class LnStructured(BasePruningMethod):
    """Zero the ``amount`` channels along ``dim`` of smallest L``n`` norm (structured pruning:
    a conv filter, or a linear layer's output unit, goes as a whole)."""

    PRUNING_TYPE = "structured"

    def __init__(self, amount, n, dim: int = -1):
        _validate_amount(amount, "ln_structured")
        self.amount, self.n, self.dim = amount, n, dim

    def compute_mask(self, t, default_mask):
        if t.ndim == 0:
            raise ValueError("ln_structured: cannot prune a 0-d tensor by channels")
        dim = self.dim % t.ndim
        flat = np.moveaxis(t, dim, 0).reshape(t.shape[dim], -1)
        n = self.n
        if n in ("fro", 2):
            norms = np.sqrt((flat.astype(np.float64) ** 2).sum(axis=1))
        elif n == float("inf") or n == "inf":
            norms = np.abs(flat).max(axis=1)
        else:
            norms = (np.abs(flat.astype(np.float64)) ** float(n)).sum(axis=1) ** (1 / float(n))
        k = _count(self.amount, t.shape[dim], "ln_structured")
        return _channel_mask(norms, k, t.shape, dim, default_mask)


class RandomStructured(BasePruningMethod):
    """Zero ``amount`` channels along ``dim`` chosen at random."""

    PRUNING_TYPE = "structured"

    def __init__(self, amount, dim: int = -1):
        _validate_amount(amount, "random_structured")
        self.amount, self.dim = amount, dim

    def compute_mask(self, t, default_mask):
        from ... import backend

        dim = self.dim % t.ndim
        k = _count(self.amount, t.shape[dim], "random_structured")
        return _channel_mask(backend.get_rng().random(t.shape[dim]), k, t.shape, dim,
                             default_mask)


class CustomFromMask(BasePruningMethod):
    """Apply a given mask."""

    PRUNING_TYPE = "global"

    def __init__(self, mask):
        self.mask = _array(mask)

    def compute_mask(self, t, default_mask):
        if self.mask.shape != default_mask.shape:
            raise ValueError(f"custom_from_mask: mask has shape {self.mask.shape}, the tensor "
                             f"{default_mask.shape}")
        return default_mask * self.mask.astype(default_mask.dtype)


def identity(module, name: str):
    """Prune nothing, but install the mask mechanism (``name_orig``, ``name_mask``, the hook)."""
    Identity.apply(module, name)
    return module


def random_unstructured(module, name: str, amount):
    """Zero ``amount`` of ``module.name``'s entries at random; returns the module."""
    RandomUnstructured.apply(module, name, amount)
    return module


def l1_unstructured(module, name: str, amount, importance_scores=None):
    """Zero the ``amount`` entries of ``module.name`` of smallest magnitude (or of smallest
    ``importance_scores``); returns the module.

    Example:
        >>> import striate
        >>> lin = striate.nn.Linear(4, 3)
        >>> _ = l1_unstructured(lin, "weight", amount=0.5)
        >>> int((lin.weight.array == 0).sum()), sorted(lin.state_dict())
        (6, ['bias', 'weight_mask', 'weight_orig'])
    """
    L1Unstructured.apply(module, name, amount, importance_scores=importance_scores)
    return module


def random_structured(module, name: str, amount, dim: int):
    """Zero ``amount`` channels of ``module.name`` along ``dim`` at random; returns the module."""
    RandomStructured.apply(module, name, amount, dim)
    return module


def ln_structured(module, name: str, amount, n, dim: int, importance_scores=None):
    """Zero the ``amount`` channels of ``module.name`` along ``dim`` with the smallest L``n``
    norm (``dim=0`` of a conv weight: whole filters); returns the module."""
    LnStructured.apply(module, name, amount, n, dim, importance_scores=importance_scores)
    return module


def custom_from_mask(module, name: str, mask):
    """Prune ``module.name`` with a given 0/1 ``mask``; returns the module."""
    CustomFromMask.apply(module, name, mask)
    return module


def global_unstructured(parameters, pruning_method, importance_scores=None, **kwargs) -> None:
    """Prune several tensors together by one threshold over all of them.

    Args:
        parameters: an iterable of ``(module, name)`` pairs.
        pruning_method: an unstructured method class, e.g. ``L1Unstructured``.
        importance_scores: optional dict ``{(module, name): scores}``.
        **kwargs: the method's arguments (``amount``), counted over the entries of all the
            tensors together that earlier pruning left.
    """
    pairs = list(parameters)
    if not pairs:
        raise ValueError("global_unstructured: parameters is empty")
    if getattr(pruning_method, "PRUNING_TYPE", None) != "unstructured":
        raise TypeError("global_unstructured: pruning_method must be an unstructured "
                        f"BasePruningMethod subclass, got {pruning_method!r}")
    importance_scores = importance_scores or {}
    scores, masks = [], []
    for module, name in pairs:
        s = importance_scores.get((module, name))
        w = getattr(module, name)
        scores.append((w.array if s is None else _array(s)).reshape(-1))
        m = module._buffers.get(name + "_mask")
        masks.append(np.ones(w.array.size, w.array.dtype) if m is None else m.array.reshape(-1))
    scores, default = np.concatenate(scores), np.concatenate(masks)
    # as PyTorch's PruningContainer: `amount` counts the entries still unpruned
    mask = _combine(pruning_method(**kwargs), scores, default)
    start = 0
    for module, name in pairs:
        size = getattr(module, name).array.size
        shape = getattr(module, name).shape
        custom_from_mask(module, name, mask[start:start + size].reshape(shape))
        start += size


def remove(module, name: str):
    """Make the pruning of ``module.name`` permanent: ``name`` becomes a Parameter again holding
    ``orig * mask``, and ``name_orig``, ``name_mask`` and the hook are gone; returns the module."""
    for key, hook in list(module._forward_pre_hooks.items()):
        if isinstance(hook, BasePruningMethod) and hook._tensor_name == name:
            hook.remove(module)
            del module._forward_pre_hooks[key]
            return module
    raise ValueError(f"prune.remove: parameter {name!r} of {type(module).__name__} is not pruned")


def is_pruned(module) -> bool:
    """Whether ``module`` or any of its sub-modules carries a pruning hook."""
    return any(isinstance(h, BasePruningMethod)
               for m in module.modules() for h in m._forward_pre_hooks.values())
