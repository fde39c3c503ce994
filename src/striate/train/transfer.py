"""Transfer learning: freeze layers, replace the head, per-group learning rates, and load a
pretrained backbone from a checkpoint.

The CS231n recipe: take a network trained on a big dataset, replace its last layer by one for
your classes, then either train only that head (little data: the backbone is a fixed feature
extractor) or fine-tune everything with a smaller learning rate for the backbone than for the head.

Example:
    >>> from striate.models import create_model
    >>> model = create_model("convnet", num_classes=10, input_shape=(1, 8, 8))
    >>> replace_head(model, num_classes=3)
    'head'
    >>> _ = freeze(model, exclude=("head",))
    >>> [n for n, p in model.named_parameters() if p.requires_grad]
    ['head.weight', 'head.bias']
"""

from __future__ import annotations

import numbers
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np

from ..autograd.tensor import Tensor

__all__ = ["BackboneLoad", "freeze", "head_name", "load_backbone", "param_groups",
           "replace_head", "unfreeze", "trainable_parameters", "keep_frozen_norms_in_eval"]

HEAD_NAMES = ("head", "fc", "classifier")


def _matches(name: str, prefixes: Iterable[str]) -> bool:
    """Whether the dotted ``name`` is one of ``prefixes`` or lies under one of them."""
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def _as_prefixes(v, who: str, what: str) -> tuple[str, ...]:
    if v is None:
        return ()
    if isinstance(v, str):
        return (v,)
    v = tuple(v)
    if not all(isinstance(p, str) for p in v):
        raise TypeError(f"{who}: {what} must be a name or a sequence of names, got {v!r}")
    return v


def _set_requires_grad(module, flag: bool, only, exclude, who: str) -> int:
    only, exclude = _as_prefixes(only, who, "only"), _as_prefixes(exclude, who, "exclude")
    named = list(module.named_parameters())
    for p in only + exclude:
        if not any(_matches(n, (p,)) for n, _ in named):
            raise ValueError(f"{who}: no parameter is named {p!r} or lies under it; the model's "
                             f"top-level names are {sorted({n.split('.')[0] for n, _ in named})}")
    count = 0
    for n, p in named:
        if (only and not _matches(n, only)) or _matches(n, exclude):
            continue
        p.requires_grad = flag
        if not flag:
            p.grad = None  # a frozen parameter has no gradient, so optimizers skip it
        count += 1
    return count


def freeze(module, only=None, exclude=None) -> int:
    """Stop training parameters: ``requires_grad = False`` and ``grad = None``.

    Backward then computes no gradient for them, and every optimizer skips a parameter whose
    ``grad`` is None, so they keep their values. Frozen BatchNorm layers are marked to stay in
    eval mode (their running statistics would otherwise follow the new data and change the frozen
    features): :class:`Trainer` applies :func:`keep_frozen_norms_in_eval` after every
    ``model.train()``; a hand-written loop calls it after its own ``model.train()``.

    Args:
        module: a ``striate.nn.Module``.
        only: a name or names of sub-modules / parameters (dotted prefixes such as
            ``"features"`` or ``"features.0.weight"``); None means every parameter.
        exclude: names to leave as they are, e.g. ``("head",)``.

    Returns:
        the number of parameter tensors frozen.

    Raises:
        ValueError: a name in ``only``/``exclude`` that matches no parameter.
    """
    count = _set_requires_grad(module, False, only, exclude, "freeze")
    _mark_norms(module, True, only, exclude)
    return count


def unfreeze(module, only=None, exclude=None) -> int:
    """Train parameters again (``requires_grad = True``); arguments as :func:`freeze`.

    Returns:
        the number of parameter tensors unfrozen.
    """
    count = _set_requires_grad(module, True, only, exclude, "unfreeze")
    _mark_norms(module, False, only, exclude)
    return count


_FROZEN_STATS = "_frozen_running_stats"


def _mark_norms(module, flag: bool, only, exclude) -> None:
    """Mark (or unmark) the layers with running statistics that lie in the frozen selection."""
    only, exclude = _as_prefixes(only, "freeze", "only"), _as_prefixes(exclude, "freeze", "exclude")
    for name, m in module.named_modules():
        if getattr(m, "running_mean", None) is None:
            continue
        if (only and not _matches(name, only)) or (exclude and _matches(name, exclude)):
            continue
        object.__setattr__(m, _FROZEN_STATS, flag)


def keep_frozen_norms_in_eval(module) -> int:
    """Put every BatchNorm that :func:`freeze` froze back in eval mode (after ``train()``), so
    it normalises with its stored statistics and does not update them.

    Returns:
        the number of layers kept in eval mode.
    """
    count = 0
    for m in module.modules() if hasattr(module, "modules") else ():
        if getattr(m, _FROZEN_STATS, False):
            m.eval()
            count += 1
    return count


def trainable_parameters(module) -> list:
    """The parameters with ``requires_grad`` true, in the model's order (for an optimizer)."""
    return [p for p in module.parameters() if p.requires_grad]


def head_name(model) -> str:
    """The dotted name of the model's classifier: its last ``nn.Linear`` in module order.

    Raises:
        ValueError: the model has no Linear layer.
    """
    from ..nn import Linear

    names = [n for n, m in model.named_modules() if isinstance(m, Linear) and n]
    if not names:
        raise ValueError(f"head_name: {type(model).__name__} has no nn.Linear layer to serve as "
                         f"its head")
    return names[-1]


def replace_head(model, num_classes: int, name: str | None = None) -> str:
    """Put a new, freshly initialised ``Linear(in_features, num_classes)`` in place of the head.

    The new layer gets the notes' small random weights (0.01 * randn) and zero bias, so the
    initial loss is near log(num_classes); it is trainable whatever was frozen before.

    Args:
        model: a ``striate.nn.Module`` whose head is a ``Linear`` (a zoo model, a ConvNet).
        num_classes: the new number of outputs K.
        name: the dotted name of the layer to replace; default :func:`head_name`.

    Returns:
        the dotted name of the replaced layer.

    Raises:
        ValueError: ``num_classes`` < 1, or ``name`` is not a Linear layer of the model.
    """
    from ..nn import Linear, init

    if not (isinstance(num_classes, numbers.Integral) and num_classes >= 1):
        raise ValueError(f"replace_head: num_classes must be an int >= 1, got {num_classes!r}")
    name = head_name(model) if name is None else name
    try:
        old = model.get_submodule(name)
    except (AttributeError, KeyError, ValueError):
        old = None
    if not isinstance(old, Linear):
        raise ValueError(f"replace_head: {name!r} is not a Linear layer of "
                         f"{type(model).__name__} (got {type(old).__name__})")
    parent_name, _, attr = name.rpartition(".")
    parent = model.get_submodule(parent_name) if parent_name else model
    with init.course_defaults():  # He-normal then small random weight, zero bias, as always
        new = Linear(old.in_features, int(num_classes), bias=old.bias is not None)
    init.small_random_(new.weight)
    setattr(parent, attr, new)
    return name


def param_groups(model, lrs: Mapping[str, float | Mapping], default_head=HEAD_NAMES) -> list:
    """Parameter groups with their own learning rates (or options), for any optimizer.

    Args:
        model: the model.
        lrs: ``{group: lr}`` (or ``{group: {option: value}}``). A group is ``"head"`` (the
            layer :func:`head_name` finds, plus any top-level ``head``/``fc``/``classifier``),
            ``"backbone"`` (every parameter no other key claims), or a dotted module prefix such
            as ``"features.0"``. Prefixes are claimed before ``head`` and ``backbone``.
        default_head: the top-level names that also count as the head.

    Returns:
        ``[{"params": [...], "lr": ...}, ...]`` in the order of ``lrs``, holding only trainable
        parameters (frozen ones are left out), empty groups dropped.

    Raises:
        ValueError: an unknown prefix, or no trainable parameter at all.
    """
    if not isinstance(lrs, Mapping) or not lrs:
        raise ValueError(f"param_groups: lrs must be a non-empty dict {{group: lr}}, got {lrs!r}")
    named = list(model.named_parameters())
    head = {head_name(model)}
    head |= {n for n in default_head if any(_matches(p, (n,)) for p, _ in named)}
    claimed: dict[str, str] = {}
    for key in lrs:
        if key in ("head", "backbone"):
            continue
        hits = [n for n, _ in named if _matches(n, (key,))]
        if not hits:
            raise ValueError(f"param_groups: no parameter lies under {key!r}; the model's "
                             f"top-level names are {sorted({n.split('.')[0] for n, _ in named})}")
        for n in hits:
            claimed.setdefault(n, key)
    for n, _ in named:
        if n not in claimed:
            claimed[n] = "head" if _matches(n, head) else "backbone"
    groups = []
    for key, opts in lrs.items():
        opts = dict(opts) if isinstance(opts, Mapping) else {"lr": float(opts)}
        params = [p for n, p in named if claimed[n] == key and p.requires_grad]
        if params:
            groups.append({"params": params, **opts})
    if not groups:
        raise ValueError("param_groups: no trainable parameter in any group (all frozen?)")
    return groups


@dataclass
class BackboneLoad:
    """What :func:`load_backbone` did: ``loaded`` keys, ``skipped`` checkpoint keys with the
    reason, and ``missing`` model keys the checkpoint did not provide (left as initialised)."""

    loaded: list = field(default_factory=list)
    skipped: dict = field(default_factory=dict)
    missing: list = field(default_factory=list)

    def __str__(self) -> str:
        lines = [f"loaded {len(self.loaded)} tensors"]
        if self.skipped:
            lines.append("skipped: " + ", ".join(f"{k} ({why})" for k, why in self.skipped.items()))
        if self.missing:
            lines.append("kept as initialised: " + ", ".join(self.missing))
        return "; ".join(lines)


def _state_of(checkpoint) -> Mapping:
    if isinstance(checkpoint, (str, os.PathLike)):
        from .checkpoint import load

        checkpoint = load(checkpoint)
    if not isinstance(checkpoint, Mapping):
        raise TypeError(f"load_backbone: checkpoint must be a path, a checkpoint dict or a "
                        f"state_dict, got {type(checkpoint).__name__}")
    if "model" in checkpoint and isinstance(checkpoint["model"], Mapping):
        return checkpoint["model"]  # a Trainer checkpoint
    return checkpoint


def load_backbone(model, checkpoint, exclude=None) -> BackboneLoad:
    """Copy a checkpoint's weights into ``model`` wherever name and shape agree.

    Args:
        model: the new model (e.g. with a head for other classes).
        checkpoint: a checkpoint path (``.npz``), a Trainer checkpoint dict (its ``"model"`` is
            used) or a ``state_dict``.
        exclude: dotted prefixes never loaded (the old head); None (default) means ``head``,
            ``fc``, ``classifier`` and the layer :func:`head_name` finds; ``()`` loads every
            key whose shape fits.

    Returns:
        a :class:`BackboneLoad` listing loaded keys, skipped checkpoint keys with the reason
        (``excluded``, ``not in model``, ``shape (a) vs model (b)``), and model keys left as
        initialised.
    """
    state = _state_of(checkpoint)
    if exclude is None:
        exclude = HEAD_NAMES
        try:
            exclude = (*exclude, head_name(model))
        except ValueError:  # no Linear layer: nothing more to exclude
            pass
    exclude = _as_prefixes(exclude, "load_backbone", "exclude")
    own = model.state_dict(keep_vars=True)
    report = BackboneLoad()
    chosen = {}
    for key, value in state.items():
        arr = value.array if isinstance(value, Tensor) else np.asarray(value)
        if _matches(key, exclude):
            report.skipped[key] = "excluded"
        elif key not in own:
            report.skipped[key] = "not in model"
        elif tuple(arr.shape) != tuple(own[key].shape):
            report.skipped[key] = f"shape {tuple(arr.shape)} vs model {tuple(own[key].shape)}"
        else:
            chosen[key] = arr
            report.loaded.append(key)
    model.load_state_dict(chosen, strict=False)
    report.missing = [k for k in own if k not in chosen]
    return report
