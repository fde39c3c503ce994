"""Structured pruning that makes the model smaller: whole channels go, not just their weights.

A channel ``c`` of a layer's output can leave the model when nothing downstream ever sees
anything but zero in it. The layer's output reaches the next weighted layer through a chain of
per-channel operations (batch norm, an activation with ``f(0) = 0``, pooling, a flatten into a
Linear); when that chain carries channel ``c`` as exact zeros, removing

- filter ``c`` of the producing conv (its row of the weight, its bias entry),
- channel ``c`` of every batch norm on the way (weight, bias, running statistics),
- input channel ``c`` of the consuming conv (or its ``h * w`` columns of a Linear after a
  flatten)

changes no output. :func:`channel_groups` finds the chains by tracing one forward
(``striate.jit.trace``); :func:`channel_prune` masks the channels of smallest norm so that
they are exact zeros (the filter, its bias and the batch norm's scale and shift: a zeroed filter
alone still leaves the batch norm's shift ``beta``, a constant the next conv sees, and its zero
padding does not see); :func:`remove_channels` cuts the dead channels out.

A layer whose output meets a residual ``add`` (or a concatenation, or the model's output) is
not pruned: the channels of both sides of an add must stay aligned. In a ResNet basic block the
first conv is pruned and the second, like the stem, is kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .. import nn
from ..nn.utils import prune

__all__ = ["ChannelGroup", "channel_groups", "channel_prune", "remove_channels"]

# per-channel ops that map an all-zero channel to an all-zero channel
_ZERO_PRESERVING = {"relu", "leaky_relu", "relu6", "hardtanh", "tanh", "gelu", "silu", "elu",
                    "max_pool2d", "avg_pool2d", "adaptive_avg_pool2d", "dropout", "identity"}


@dataclass
class ChannelGroup:
    """A prunable layer and what its output channels reach.

    ``producer``: the Conv2d or Linear whose output channels may go; ``norms``: the batch norms
    on the way; ``consumer``: the Conv2d or Linear that reads them; ``spatial``: the columns of
    a Linear consumer per channel (``h * w`` after a flatten; 1 otherwise).
    """

    producer: str
    consumer: str
    norms: list = field(default_factory=list)
    spatial: int = 1


def _module(model, name: str):
    return model.get_submodule(name) if name else model


def _weighted(module) -> bool:
    return (isinstance(module, nn.Linear)
            or (isinstance(module, nn.Conv2d) and module.groups == 1))


def channel_groups(model, example_input) -> tuple[list[ChannelGroup], dict]:
    """The layers of ``model`` whose output channels can be removed, from one traced forward on
    ``example_input`` (a Tensor batch; a few images suffice).

    Returns:
        ``(groups, skipped)``: a :class:`ChannelGroup` per prunable layer, in forward order,
        and ``{layer name: why it is not prunable}`` for the other Conv2d and Linear layers.
    """
    from ..jit import trace

    was = model.training
    model.eval()
    try:
        graph = trace(model, example_input, check_trace=False).graph
    finally:
        model.train(was)
    users: dict = {}
    for node in graph.nodes:
        for pos, v in enumerate(node.inputs):
            if v is not None:
                users.setdefault(v, []).append((node, pos))
    weighted = [n for n in graph.nodes if n.op in ("conv2d", "linear")]
    calls: dict = {}
    for n in weighted:
        calls[n.scope] = calls.get(n.scope, 0) + 1
    groups, skipped = [], {}
    for n in weighted:
        if n.scope in skipped or any(g.producer == n.scope for g in groups):
            continue
        why = _follow(model, graph, users, calls, n)
        if isinstance(why, str):
            skipped[n.scope] = why
        else:
            groups.append(why)
    return groups, skipped


def _follow(model, graph, users, calls, node):
    """The ChannelGroup starting at ``node``, or why there is none."""
    producer = _module(model, node.scope)
    if not _weighted(producer) or calls[node.scope] != 1:
        return "not a Conv2d (groups 1) or Linear called once"
    v, norms, spatial = node.outputs[0], [], 1
    while True:
        if v in graph.outputs:
            return "its output is the model's output"
        readers = users.get(v, [])
        if len(readers) != 1:
            return f"its output is read by {len(readers)} ops"
        nxt, pos = readers[0]
        if pos != 0:
            return f"its output enters {nxt.op} as argument {pos}"
        if nxt.op == "batch_norm":
            bn = _module(model, nxt.scope)
            if not isinstance(bn, (nn.BatchNorm1d, nn.BatchNorm2d)) or bn.weight is None \
                    or bn.bias is None:
                return "a batch norm without scale and shift follows it"
            norms.append(nxt.scope)
        elif nxt.op == "reshape":
            (shape_in, _), (shape_out, _) = graph.meta[v], graph.meta[nxt.outputs[0]]
            if spatial != 1 or len(shape_out) != 2 or len(shape_in) != 4:
                return "a reshape other than a flatten follows it"
            spatial = int(shape_in[2] * shape_in[3])
        elif nxt.op in ("conv2d", "linear"):
            consumer = _module(model, nxt.scope)
            if not _weighted(consumer) or calls[nxt.scope] != 1:
                return f"it feeds {nxt.scope or 'the model'}, not a plain Conv2d or Linear"
            if isinstance(consumer, nn.Conv2d) and spatial != 1:
                return "a flatten comes before the next conv"
            return ChannelGroup(node.scope, nxt.scope, norms, spatial)
        elif nxt.op not in _ZERO_PRESERVING:
            return f"its output meets {nxt.op}"
        v = nxt.outputs[0]


def _alive_channels(module) -> np.ndarray:
    """Output channels of a (possibly masked) layer whose weight is not all zero."""
    w = module.weight.array
    return np.abs(w.reshape(w.shape[0], -1)).sum(axis=1) != 0


def channel_prune(model, amount: float, example_input, n=2,
                   groups: list[ChannelGroup] | None = None) -> list[ChannelGroup]:
    """Zero the fraction ``amount`` of the output channels of every prunable layer (those of
    :func:`channel_groups`) with the smallest L``n`` filter norm, with ``striate.nn.utils.prune``
    masks on the filter, its bias and the batch norms' scale and shift, so retraining keeps them
    at zero. ``amount`` counts from the layer's full width (calling again with a larger amount
    prunes more). Returns the groups it pruned.
    """
    if groups is None:
        groups, _ = channel_groups(model, example_input)
    if not groups:
        raise ValueError("channel_prune: the model has no layer whose channels can be removed")
    for g in groups:
        layer = _module(model, g.producer)
        channels = layer.out_channels if isinstance(layer, nn.Conv2d) else layer.out_features
        more = max(round(amount * channels) - int((~_alive_channels(layer)).sum()), 0)
        more = min(more, int(_alive_channels(layer).sum()) - 1)  # one channel stays
        if more <= 0:
            continue
        prune.ln_structured(layer, "weight", amount=int(more), n=n, dim=0)
        keep = _alive_channels(layer).astype(layer.weight.array.dtype)
        targets = [(layer, "bias")] + [(_module(model, b), p) for b in g.norms
                                       for p in ("weight", "bias")]
        for module, name in targets:
            if getattr(module, name) is not None:
                prune.custom_from_mask(module, name, keep)
    return groups


def _dead(model, g: ChannelGroup) -> np.ndarray:
    """Channels of ``g`` that reach the consumer as exact zeros for every input."""
    layer = _module(model, g.producer)
    if g.norms:  # the last batch norm's scale and shift are 0: it outputs 0 whatever comes in
        bn = _module(model, g.norms[-1])
        return (bn.weight.array == 0) & (bn.bias.array == 0)
    dead = ~_alive_channels(layer)
    if layer.bias is not None:
        dead &= layer.bias.array == 0
    return dead


def remove_channels(model, example_input, groups: list[ChannelGroup] | None = None) -> list:
    """Cut out every channel that reaches the next layer as exact zeros (after
    :func:`channel_prune` and ``compress.finalize``), in place: the producing layers get
    thinner, their batch norms narrower, the consuming layers fewer inputs. The outputs do not
    change. Returns ``[{"layer", "channels_before", "channels_after"}]`` per prunable layer.
    """
    from ..train.architecture import build_module, module_spec

    if groups is None:
        groups, _ = channel_groups(model, example_input)
    out_keep, in_keep, rows = {}, {}, []
    for g in groups:
        dead = _dead(model, g)
        keep = np.flatnonzero(~dead)
        if keep.size == 0:
            keep = np.arange(1)  # a layer keeps one (zero) channel, so the net still runs
        out_keep[g.producer] = keep
        for b in g.norms:
            out_keep[b] = keep
        cols = (keep[:, None] * g.spatial + np.arange(g.spatial)).reshape(-1)
        in_keep[g.consumer] = cols
        rows.append({"layer": g.producer, "channels_before": int(dead.size),
                     "channels_after": int(keep.size)})
    for name in list(dict.fromkeys([*out_keep, *in_keep])):
        old = _module(model, name)
        spec = module_spec(old)
        o = out_keep.get(name, slice(None))
        i = in_keep.get(name, slice(None))
        if isinstance(old, (nn.BatchNorm1d, nn.BatchNorm2d)):
            spec["num_features"] = len(o)
        elif isinstance(old, nn.Conv2d):
            spec["out_channels"] = len(o) if name in out_keep else old.out_channels
            spec["in_channels"] = len(i) if name in in_keep else old.in_channels
        else:
            spec["out_features"] = len(o) if name in out_keep else old.out_features
            spec["in_features"] = len(i) if name in in_keep else old.in_features
        new = build_module(spec)
        for key, t in list(old._parameters.items()) + list(old._buffers.items()):
            if t is None:
                continue
            a = t.array
            if a.ndim >= 1 and key != "num_batches_tracked":
                a = a[o]
                if key == "weight" and a.ndim >= 2:
                    a = a[:, i]
            target = new._parameters.get(key, new._buffers.get(key))
            target.array = np.array(a, order="C")  # (ascontiguousarray makes 0-d 1-d)
        new.train(old.training)
        parent, _, leaf = name.rpartition(".")
        setattr(_module(model, parent), leaf, new)
    return rows
