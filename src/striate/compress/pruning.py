"""Pruning whole models: magnitude pruning (per layer or one global threshold), iterative
prune -> retrain schedules and DSD training (structured pruning, which removes whole channels,
is in ``channels.py``).

Everything here is built on ``striate.nn.utils.prune``: a pruned layer holds ``weight_orig``, the
buffer ``weight_mask`` and the hook that multiplies them, so retraining a pruned model with any
optimizer keeps the pruned weights at zero (their gradient is masked). :func:`finalize` makes the
pruning permanent, so the model saves and loads as an ordinary one.
"""

from __future__ import annotations

from collections.abc import Callable

from .. import nn
from ..nn.utils import prune

__all__ = ["prunable", "sparsity", "magnitude_prune", "finalize", "iterative_prune", "dsd"]


def prunable(model, kinds=(nn.Linear, nn.Conv2d)) -> list:
    """``(module, "weight")`` for every layer of ``kinds`` in ``model`` (biases are not pruned:
    they are few, and Han et al. keep them)."""
    return [(m, "weight") for m in model.modules() if isinstance(m, kinds)]


def sparsity(model, kinds=(nn.Linear, nn.Conv2d)) -> float:
    """The fraction of zero weights over the prunable layers of ``model``."""
    zeros = total = 0
    for m, name in prunable(model, kinds):
        w = getattr(m, name).array
        zeros += int((w == 0).sum())
        total += w.size
    return zeros / max(total, 1)


def _check_fraction(value, where: str, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise ValueError(f"{where}: {name} must be a fraction in [0, 1], got {value!r}")
    return float(value)


def _alive(module, name: str) -> int:
    mask = module._buffers.get(name + "_mask")
    return getattr(module, name).array.size if mask is None else int(mask.array.sum())


def magnitude_prune(model, target, scope: str = "layer", kinds=(nn.Linear, nn.Conv2d)):
    """Prune ``model``'s smallest weights until a fraction ``target`` of them is zero.

    Args:
        model: a Module; pruned in place (and returned).
        target: the sparsity to reach, counted from the dense model (a model pruned to 0.5 and
            then to 0.75 has 75% zeros, not 87.5%); with ``scope="layer"`` also a list of one
            sparsity per prunable layer (Han et al. prune LeNet-300-100's layers to 92%, 91%,
            74%: the small last layer is the most sensitive).
        scope: ``"layer"`` (every layer to ``target``) or ``"global"`` (one threshold over all
            layers, so layers with many small weights, typically the large ones, lose more).
        kinds: the layer types to prune.
    """
    pairs = prunable(model, kinds)
    if not pairs:
        names = [k.__name__ for k in kinds]
        raise ValueError(f"magnitude_prune: the model has no layer of {names}")
    if isinstance(target, (list, tuple)):
        if scope != "layer" or len(target) != len(pairs):
            raise ValueError(f"magnitude_prune: a list of targets needs scope='layer' and one "
                             f"per prunable layer ({len(pairs)}), got {len(target)} with "
                             f"scope={scope!r}")
        targets = [_check_fraction(t, "magnitude_prune", "target") for t in target]
    else:
        targets = [_check_fraction(target, "magnitude_prune", "target")] * len(pairs)
        target = targets[0]
    if scope == "layer":
        for (m, name), t in zip(pairs, targets):
            size = getattr(m, name).array.size
            more = max(round(t * size) - (size - _alive(m, name)), 0)
            prune.l1_unstructured(m, name, amount=int(more))
    elif scope == "global":
        total = sum(getattr(m, n).array.size for m, n in pairs)
        alive = sum(_alive(m, n) for m, n in pairs)
        more = max(round(target * total) - (total - alive), 0)
        prune.global_unstructured(pairs, pruning_method=prune.L1Unstructured, amount=int(more))
    else:
        raise ValueError(f"magnitude_prune: scope must be 'layer' or 'global', got {scope!r}")
    return model


def finalize(model):
    """Make every pruning of ``model`` permanent (``prune.remove``): the zeros stay, the masks
    and hooks go, and the state dict has plain ``weight`` entries again."""
    for m in model.modules():
        for hook in list(m._forward_pre_hooks.values()):
            if isinstance(hook, prune.BasePruningMethod):
                prune.remove(m, hook._tensor_name)
    return model


def iterative_prune(model, fit: Callable, targets, scope: str = "layer",
                    evaluate: Callable | None = None) -> list[dict]:
    """Han et al.'s schedule: prune to each sparsity of ``targets`` in turn, retraining after
    every step with ``fit(model)``; the masks carry over, so pruned weights stay pruned.

    Returns one record per step: ``{"sparsity", "accuracy_pruned", "accuracy"}`` (accuracies
    from ``evaluate(model)`` before and after the retraining; None without ``evaluate``).
    """
    history = []
    for t in targets:
        magnitude_prune(model, t, scope=scope)
        before = evaluate(model) if evaluate is not None else None
        fit(model)
        after = evaluate(model) if evaluate is not None else None
        history.append({"sparsity": sparsity(model), "accuracy_pruned": before,
                        "accuracy": after})
    return history


def dsd(model, fit: Callable, target: float = 0.5, fit_dense: Callable | None = None,
        scope: str = "layer"):
    """Dense-Sparse-Dense training (Han et al. 2017) of an already trained (dense) model.

    Sparse: prune to ``target`` and retrain with the mask (``fit(model)``). Re-dense: lift the
    mask (the pruned weights restart at zero) and retrain all weights (``fit_dense(model)``,
    usually at a lower learning rate; ``fit`` when None). The sparse phase acts as a
    regulariser: the weights that survive have to carry the function alone, and the re-grown
    ones start from zero instead of from where the dense optimum left them.
    """
    magnitude_prune(model, target, scope=scope)
    fit(model)
    finalize(model)
    (fit_dense or fit)(model)
    return model

