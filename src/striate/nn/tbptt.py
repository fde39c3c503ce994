"""Truncated backpropagation through time: run a recurrent model over a long sequence in chunks,
carrying the hidden state forward but cutting the graph between chunks.

The state that leaves chunk k is detached before it enters chunk k + 1, so a ``backward`` after
chunk k + 1 runs through that chunk only: memory and time per update stay bounded however long the
sequence is, while the forward pass still sees the whole past through the state.

The model follows the protocol of ``nn.RNN``/``nn.GRU``/``nn.LSTM``:
``output, state = model(chunk, state)``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import NamedTuple

from ..autograd.tensor import Tensor

__all__ = ["detach_state", "tbptt_chunks", "tbptt_train", "TBPTTChunk"]


def detach_state(state):
    """``state`` with every Tensor detached: a Tensor, None, or (nested) tuples/lists of them."""
    if state is None:
        return None
    if isinstance(state, Tensor):
        return state.detach()
    if isinstance(state, (tuple, list)):
        return type(state)(detach_state(s) for s in state)
    raise TypeError(f"detach_state: expected a Tensor, None or a tuple/list of them, got "
                    f"{type(state).__name__}")


class TBPTTChunk(NamedTuple):
    """One chunk: where it starts on the time axis, the model's output, the matching slice of the
    targets (None without targets) and the state after the chunk (still attached to its graph)."""

    start: int
    output: Tensor
    target: object
    state: object


def _time_slice(a, time_dim: int, start: int, stop: int):
    return a[(slice(None),) * time_dim + (slice(start, stop),)]


def tbptt_chunks(model: Callable, inputs, chunk_len: int, state=None, targets=None,
                 time_dim: int = 1) -> Iterator[TBPTTChunk]:
    """Run ``model`` over ``inputs`` chunk by chunk, yielding each chunk's output.

    Args:
        model: called as ``output, state = model(chunk, state)``.
        inputs: the long sequence, a Tensor or array with time on axis ``time_dim``
            (1 for batch-first (N, T, ...), 0 for time-major (T, N, ...)).
        chunk_len: time steps per chunk (the last chunk may be shorter).
        state: the initial state (None: the model's zeros).
        targets: optional sequence sliced along the same axis and yielded beside each output.
        time_dim: the time axis of ``inputs`` and ``targets``.
    Yields:
        :class:`TBPTTChunk` ``(start, output, target, state)``. Do the chunk's backward in the
        loop body; the state is detached when the loop asks for the next chunk.

    Example:
        >>> import striate
        >>> from striate import nn
        >>> lstm = nn.LSTM(3, 5, batch_first=True)
        >>> x = striate.randn(2, 10, 3)
        >>> [c.output.shape for c in nn.tbptt_chunks(lstm, x, 4)]
        [(2, 4, 5), (2, 4, 5), (2, 2, 5)]
    """
    if not isinstance(chunk_len, int) or chunk_len <= 0:
        raise ValueError(f"tbptt_chunks: chunk_len must be a positive int, got {chunk_len!r}")
    length = inputs.shape[time_dim]
    for start in range(0, length, chunk_len):
        stop = min(start + chunk_len, length)
        out, state = model(_time_slice(inputs, time_dim, start, stop), state)
        y = None if targets is None else _time_slice(targets, time_dim, start, stop)
        yield TBPTTChunk(start, out, y, state)
        state = detach_state(state)


def tbptt_train(model: Callable, inputs, targets, loss_fn: Callable, optimizer, chunk_len: int,
                state=None, time_dim: int = 1, max_norm: float | None = 5.0,
                parameters=None) -> tuple[list[float], object]:
    """One pass of truncated-BPTT training over a long sequence: per chunk, a forward, a backward
    through that chunk only, gradient clipping by norm, and an optimizer step.

    Args:
        model: ``output, state = model(chunk, state)``.
        inputs, targets: sequences with time on axis ``time_dim``.
        loss_fn: ``loss = loss_fn(output, target_chunk)``, a scalar Tensor.
        optimizer: any ``striate.optim`` optimizer.
        chunk_len: time steps per chunk.
        state: initial state (None for zeros).
        max_norm: clip the gradients' total norm to this (None: no clipping).
        parameters: what to clip (default: ``model.parameters()``).
    Returns:
        ``(losses, state)``: each chunk's loss as a float, and the final state (detached), to
        continue with the next stretch of the sequence.
    """
    from .utils.clip_grad import clip_grad_norm_

    losses = []
    for chunk in tbptt_chunks(model, inputs, chunk_len, state, targets, time_dim):
        loss = loss_fn(chunk.output, chunk.target)
        optimizer.zero_grad()
        loss.backward()
        if max_norm is not None:
            clip_grad_norm_(list(parameters if parameters is not None else model.parameters()),
                            max_norm)
        optimizer.step()
        losses.append(float(loss.item()))
        state = chunk.state
    return losses, detach_state(state)
