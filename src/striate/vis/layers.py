"""Finding layers by name, reading their outputs with forward hooks, and the receptive field of
a unit computed from the layers' kernel sizes, strides, paddings and dilations."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

from .. import nn

__all__ = ["layer_names", "get_layer", "capture", "activations", "ReceptiveField",
           "receptive_field", "last_linear_name"]


def layer_names(model) -> list[str]:
    """The dotted names of a model's sub-modules (``features.0``, ``head``), in order."""
    return [name for name, _ in model.named_modules() if name]


def get_layer(model, name: str):
    """The sub-module called ``name`` (as ``named_modules`` spells it).

    Raises:
        KeyError: the model has no such layer; the message lists the names it has.
    """
    for n, m in model.named_modules():
        if n == name and n:
            return m
    names = layer_names(model)
    raise KeyError(f"layer {name!r} is not in {type(model).__name__}; its layers are: "
                   f"{', '.join(names)}")


@contextmanager
def capture(model, names, inputs: bool = False):
    """Record the output (or with ``inputs`` the first input) of the named layers while the
    block runs: ``with capture(model, ["features.2"]) as acts: model(x)`` leaves the tensors in
    ``acts["features.2"]`` (in the graph, so a loss on them can be backpropagated). The hooks
    are removed on exit."""
    acts: dict = {}
    handles = []
    for name in names:
        layer = get_layer(model, name)

        def hook(module, args, output, name=name):
            acts[name] = args[0] if inputs else output

        handles.append(layer.register_forward_hook(hook))
    try:
        yield acts
    finally:
        for h in handles:
            h.remove()


def activations(model, x, name: str, inputs: bool = False) -> np.ndarray:
    """The output (or input) of layer ``name`` for a batch ``x`` (array or Tensor), as an array,
    computed without a graph."""
    import striate

    with striate.no_grad(), capture(model, [name], inputs) as acts:
        model(x if isinstance(x, striate.Tensor) else striate.tensor(np.asarray(x)))
    return acts[name].numpy()


def last_linear_name(model) -> str:
    """The name of the model's last ``nn.Linear`` (the classifier): its input is the last hidden
    layer's features.

    Raises:
        ValueError: the model has no Linear layer.
    """
    names = [n for n, m in model.named_modules() if isinstance(m, nn.Linear)]
    if not names:
        raise ValueError(f"last_linear_name: {type(model).__name__} has no nn.Linear layer")
    return names[-1]


@dataclass(frozen=True)
class ReceptiveField:
    """Unit (i, j) of a layer sees input rows ``start + i*jump .. start + i*jump + size - 1``
    (likewise for columns); ``start`` is negative where padding reaches outside the image."""

    size: tuple
    jump: tuple
    start: tuple

    def box(self, i: int, j: int) -> tuple[int, int, int, int]:
        """(top, left, bottom, right) of unit (i, j)'s field, bottom and right exclusive."""
        t = self.start[0] + i * self.jump[0]
        lft = self.start[1] + j * self.jump[1]
        return t, lft, t + self.size[0], lft + self.size[1]


def _pair(v):
    return tuple(v) if isinstance(v, (tuple, list)) else (v, v)


def receptive_field(model, name: str) -> ReceptiveField:
    """The receptive field of one unit of layer ``name``, from the spatial layers met before it
    (in the order ``named_modules`` lists them, which is the forward order of sequential
    models such as the zoo's ConvNet and VGG).

    Per layer of kernel k, stride s, padding p and dilation d, with k' = d (k - 1) + 1 and the
    distance between neighbouring units' fields ``jump`` (1 at the input):
    size += (k' - 1) jump, start -= p jump, jump *= s.

    Raises:
        KeyError: no such layer (listing the names).
        ValueError: a layer on the way whose field cannot be computed this way (e.g. an
            adaptive pooling that depends on the input size).
    """
    get_layer(model, name)
    size, jump, start = [1, 1], [1, 1], [0, 0]
    seen = False
    for n, m in model.named_modules():
        if not n:
            continue
        if seen and not n.startswith(name + "."):  # past the layer and its sub-modules
            break
        seen = seen or n == name
        if isinstance(m, (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)) and not isinstance(
                m, nn.ConvTranspose2d):
            k = _pair(m.kernel_size)
            s = _pair(m.stride if m.stride is not None else m.kernel_size)
            p = _pair(getattr(m, "padding", 0))
            d = _pair(getattr(m, "dilation", 1))
            for a in range(2):
                keff = d[a] * (k[a] - 1) + 1
                size[a] += (keff - 1) * jump[a]
                start[a] -= p[a] * jump[a]
                jump[a] *= s[a]
        elif type(m).__name__.startswith("Adaptive") or isinstance(m, nn.ConvTranspose2d):
            raise ValueError(f"receptive_field: layer {n!r} ({type(m).__name__}) comes before "
                             f"{name!r} and has no fixed receptive field")
    return ReceptiveField(tuple(size), tuple(jump), tuple(start))
