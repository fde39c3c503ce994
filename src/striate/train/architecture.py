"""How a run records a model whose layers changed after ``create_model``, and rebuilds it.

A compressed model is the zoo's architecture with some layers swapped: thinner convolutions
after structured pruning, two thin layers for one after a low-rank factorisation, int8 layers
(and batch norms folded away) after quantization. A checkpoint's config says how to build it
again, in three parts, and :func:`build_model` follows them:

- ``model`` and ``model_kwargs``: the zoo's constructor and its arguments (a distilled
  student is ``mlp`` with ``hidden=[150, 50]``);
- ``replaced_modules``: ``{dotted name: spec}`` for every module that differs from what that
  constructor builds, found by :func:`architecture_changes` (a spec is the layer's type and
  constructor arguments: ``{"type": "Conv2d", "in_channels": 1, "out_channels": 24, ...}``);
- the weights: ``load_state_dict`` fills the rebuilt modules.

One mechanism for every compression: the command that changed the model does not say what it
did; the difference to the pristine architecture is what is recorded.
"""

from __future__ import annotations

from .. import nn
from ..nn import quantized

__all__ = ["module_spec", "build_module", "architecture_changes", "apply_architecture",
           "build_model"]


def _bias(m) -> bool:
    return m.bias is not None


def _bn_bias(m) -> bool:
    return bool(m.use_bias)


def _q_bias(m) -> bool:
    return m.bias_int32 is not None


# type name -> (class, constructor arguments read from attributes of the same name, and
# the arguments computed from the module)
_SPECS = {
    "Linear": (nn.Linear, ("in_features", "out_features"), {"bias": _bias}),
    "Conv2d": (nn.Conv2d, ("in_channels", "out_channels", "kernel_size", "stride", "padding",
                           "dilation", "groups", "padding_mode"), {"bias": _bias}),
    "BatchNorm1d": (nn.BatchNorm1d, ("num_features", "eps", "momentum", "affine",
                                     "track_running_stats"), {"bias": _bn_bias}),
    "BatchNorm2d": (nn.BatchNorm2d, ("num_features", "eps", "momentum", "affine",
                                     "track_running_stats"), {"bias": _bn_bias}),
    "Identity": (nn.Identity, (), {}),
    "ReLU": (nn.ReLU, (), {}),
    "QuantizedLinear": (quantized.QuantizedLinear,
                        ("in_features", "out_features", "per_channel", "symmetric"),
                        {"bias": _q_bias}),
    "QuantizedConv2d": (quantized.QuantizedConv2d,
                        ("in_channels", "out_channels", "stride", "padding", "per_channel",
                         "symmetric"), {"kernel_size": lambda m: m.kernel, "bias": _q_bias}),
}


def _json(v):
    return list(v) if isinstance(v, tuple) else v


def module_spec(module) -> dict:
    """The type and constructor arguments of ``module`` as JSON-able data (a ``Sequential``:
    its children's specs).

    Raises:
        ValueError: a module type the record does not know (the message names it).
    """
    kind = type(module).__name__
    if kind == "Sequential":
        return {"type": kind, "children": [module_spec(c) for c in module._modules.values()]}
    if kind not in _SPECS or type(module) is not _SPECS[kind][0]:
        raise ValueError(f"module_spec: cannot record a {kind} in a run's architecture; known: "
                         f"{', '.join(sorted(_SPECS))}, Sequential")
    _, names, computed = _SPECS[kind]
    spec = {"type": kind}
    spec.update({n: _json(getattr(module, n)) for n in names})
    spec.update({n: _json(f(module)) for n, f in computed.items()})
    return spec


def build_module(spec: dict):
    """The module a :func:`module_spec` describes (fresh weights: load them afterwards)."""
    kind = spec.get("type")
    if kind == "Sequential":
        return nn.Sequential(*(build_module(c) for c in spec["children"]))
    if kind not in _SPECS:
        raise ValueError(f"build_module: unknown module type {kind!r} in a run's architecture")
    args = {k: tuple(v) if isinstance(v, list) else v for k, v in spec.items() if k != "type"}
    return _SPECS[kind][0](**args)


def _recorded(module) -> bool:
    return type(module).__name__ in _SPECS


def architecture_changes(base, model, prefix: str = "") -> dict:
    """``{dotted name: spec}`` of the modules of ``model`` that differ from ``base`` (the same
    architecture as built): a changed layer, or a container that changed type, is recorded
    whole; containers of the same type are compared child by child.

    Raises:
        ValueError: ``model`` lacks a module ``base`` has, or a changed module has no spec.
    """
    changes = {}
    for name in base._modules:
        if base._modules[name] is not None and model._modules.get(name) is None:
            raise ValueError(f"architecture_changes: module {prefix + name!r} was removed; a run "
                             "records replaced modules, not removed ones (use nn.Identity)")
    for name, child in model._modules.items():
        if child is None:
            continue
        old = base._modules.get(name)
        full = prefix + name
        if old is not None and type(old) is type(child) and not _recorded(child):
            changes.update(architecture_changes(old, child, full + "."))
        elif old is None or not _recorded(old) or module_spec(old) != module_spec(child):
            changes[full] = module_spec(child)
    return changes


def apply_architecture(model, changes: dict):
    """Put the modules of ``changes`` (from :func:`architecture_changes`) into ``model``, in
    place; returns the model."""
    for name, spec in changes.items():
        parent_name, _, leaf = name.rpartition(".")
        parent = model.get_submodule(parent_name) if parent_name else model
        setattr(parent, leaf, build_module(spec))
    return model


def build_model(config: dict, num_classes: int, input_shape):
    """The model a run's ``config`` describes: the zoo's ``model`` with ``model_kwargs``, and
    the ``replaced_modules`` of a compressed run put in (weights still to load)."""
    from ..models import create_model

    model = create_model(config["model"], num_classes=num_classes,
                         input_shape=tuple(input_shape), **config.get("model_kwargs", {}))
    return apply_architecture(model, config.get("replaced_modules", {}))
