"""Recurrent layers with PyTorch's names, parameters and semantics: ``RNN``, ``LSTM``, ``GRU`` over
whole sequences, ``RNNCell``, ``LSTMCell``, ``GRUCell`` for one step, ``Embedding``, ``Highway``
and ``TemporalSoftmaxLoss``.

Each layer of a sequence module is one fused graph node (``striate.ops.recurrent``), so a sequence
of any length costs one node per layer. Parameters are named and shaped as PyTorch's
(``weight_ih_l0`` (G H, D), ``weight_hh_l0`` (G H, H), ``bias_ih_l0``, ``bias_hh_l0`` (G H,), ...;
G = 1, 4 (i, f, g, o) or 3 (r, z, n)), so a PyTorch ``state_dict`` loads unchanged.

With ``bidirectional=True`` each layer also runs the same fused op over the time-reversed
sequence (parameters ``*_reverse``); the two directions' outputs are concatenated on the feature
dim and ``h_n`` is ordered layer by layer, forward before reverse, as PyTorch.

Initialisation: uniform in [-1/sqrt(H), 1/sqrt(H)], exactly PyTorch's. The LSTM's forget-gate bias
can start at 1 (``forget_bias=1.0``; ``bias_ih``'s f block is 1 and ``bias_hh``'s is 0), as the
notes advise so that the cell remembers by default early in training; that is the default for
layers built inside ``striate.nn.init.course_defaults()`` (striate's own models).
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from .. import backend
from .. import ops as F
from ..autograd.tensor import Tensor
from . import init
from ._weighted import check_device, place
from .module import Module
from .parameter import Parameter

__all__ = [
    "RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell", "Embedding", "Highway",
    "TemporalSoftmaxLoss",
]  # fmt: skip

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def _pos_int(value, name: str, owner: str) -> int:
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value <= 0:
        raise ValueError(f"{owner}: {name} must be a positive int, got {value!r}")
    return int(value)


def _param(shape, dtype) -> Parameter:
    return Parameter(np.zeros(shape, dtype=backend.get_default_dtype() if dtype is None else dtype))


#: ``forget_bias`` not given: 1 inside ``init.course_defaults()``, PyTorch's uniform init outside
_COURSE_OR_TORCH = "default"


def _resolve_forget_bias(forget_bias):
    if isinstance(forget_bias, str):
        if forget_bias != _COURSE_OR_TORCH:
            raise ValueError(f"forget_bias must be a number or None, got {forget_bias!r}")
        return 1.0 if init.using_course_defaults() else None
    return forget_bias


def _init_recurrent(module, forget_bias, hidden_size: int) -> None:
    k = 1.0 / math.sqrt(hidden_size)
    for name, p in module.named_parameters(recurse=False):
        init.uniform_(p, -k, k)
        if forget_bias is not None and name.startswith("bias_"):
            h = hidden_size
            p.array[h : 2 * h] = forget_bias if name.startswith("bias_ih") else 0.0


def _check_proj_size(proj_size, hidden_size: int, mode: str, owner: str) -> int:
    if not isinstance(proj_size, numbers.Integral) or isinstance(proj_size, bool) \
            or proj_size < 0:
        raise ValueError(f"{owner}: proj_size should be a positive int or zero to disable "
                         f"projections, got {proj_size!r}")
    if proj_size and mode != "LSTM":
        raise ValueError(f"{owner}: proj_size is only supported for LSTM, not RNN or GRU "
                         f"(got proj_size={proj_size})")
    if proj_size >= hidden_size:
        raise ValueError(f"{owner}: proj_size has to be smaller than hidden_size, got "
                         f"proj_size={proj_size}, hidden_size={hidden_size}")
    return int(proj_size)


def _lstm_proj_layer(x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, batch_first: bool):
    """One LSTM layer with a projection (PyTorch's ``proj_size``), composed of graph ops step
    by step: gates = x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh; c_t = f c_{t-1} + i g;
    h_t = (o tanh(c_t)) W_hr^T. Returns (output (T, N, P) or (N, T, P), c_T)."""
    if batch_first:
        x = x.transpose(0, 1)
    n = x.shape[1]
    p, hsz = w_hr.shape
    xw = F.linear(x, w_ih, b_ih)  # every step's input projection in one product
    h = h0 if h0 is not None else Tensor(np.zeros((n, p), dtype=x.dtype))
    c = c0 if c0 is not None else Tensor(np.zeros((n, hsz), dtype=x.dtype))
    outs = []
    for t in range(x.shape[0]):
        gates = xw[t] + F.linear(h, w_hh, b_hh)
        i, f, g, o = gates.chunk(4, -1)
        c = F.sigmoid(f) * c + F.sigmoid(i) * F.tanh(g)
        h = F.linear(F.sigmoid(o) * F.tanh(c), w_hr)
        outs.append(h)
    out = F.stack(outs, 1 if batch_first else 0)
    return out, c


class _RNNBase(Module):
    mode = "RNN_TANH"

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 proj_size: int = 0, device=None, dtype=None):
        super().__init__()
        name = type(self).__name__
        check_device(device, name)
        self.input_size = _pos_int(input_size, "input_size", name)
        self.hidden_size = _pos_int(hidden_size, "hidden_size", name)
        self.num_layers = _pos_int(num_layers, "num_layers", name)
        proj_size = _check_proj_size(proj_size, self.hidden_size, self.mode, name)
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"{name}: dropout must be in [0, 1), got {dropout}")
        self.bias = bool(bias)
        self.batch_first = bool(batch_first)
        self.dropout = float(dropout)
        self.bidirectional = bool(bidirectional)
        self.proj_size = proj_size
        g = _GATES[self.mode] * self.hidden_size
        h_out = self._h_size  # the size of h: proj_size when projecting
        for k in range(self.num_layers):
            d = self.input_size if k == 0 else h_out * self._dirs
            for sfx in self._suffixes:
                setattr(self, f"weight_ih_l{k}{sfx}", _param((g, d), dtype))
                setattr(self, f"weight_hh_l{k}{sfx}", _param((g, h_out), dtype))
                if self.bias:
                    setattr(self, f"bias_ih_l{k}{sfx}", _param((g,), dtype))
                    setattr(self, f"bias_hh_l{k}{sfx}", _param((g,), dtype))
                if proj_size:
                    setattr(self, f"weight_hr_l{k}{sfx}",
                            _param((proj_size, self.hidden_size), dtype))
        self.reset_parameters()
        place(self, device)

    @property
    def _h_size(self) -> int:
        """The size of the hidden state h (and of each direction's output)."""
        return self.proj_size or self.hidden_size

    @property
    def _dirs(self) -> int:
        return 2 if self.bidirectional else 1

    @property
    def _suffixes(self) -> tuple:
        return ("", "_reverse") if self.bidirectional else ("",)

    def reset_parameters(self) -> None:
        """Uniform in [-1/sqrt(H), 1/sqrt(H)] (PyTorch's init)."""
        _init_recurrent(self, None, self.hidden_size)

    def flatten_parameters(self) -> None:
        """A no-op: PyTorch packs cuDNN's weights here; striate's fused op reads them in place."""

    def _weights(self, k: int, sfx: str = ""):
        b = (getattr(self, f"bias_ih_l{k}{sfx}"), getattr(self, f"bias_hh_l{k}{sfx}")) \
            if self.bias else (None, None)
        return getattr(self, f"weight_ih_l{k}{sfx}"), getattr(self, f"weight_hh_l{k}{sfx}"), *b

    def _reverse(self, x: Tensor) -> Tensor:
        """The sequence in reverse time order (the same view trick undoes it)."""
        return x[:, ::-1] if self.batch_first else x[::-1]

    def _run(self, layer_fn, x: Tensor, k: int, states: list):
        """One layer over ``x`` in each direction: ``layer_fn(x, sfx, j) -> (out, *finals)``,
        ``j`` the index of the direction's state in hx. Returns the (concatenated) output and
        appends each direction's final states to ``states``."""
        outs = []
        for d, sfx in enumerate(self._suffixes):
            j = k * self._dirs + d
            xin = x if d == 0 else self._reverse(x)
            out, *finals = layer_fn(xin, sfx, j)
            states.append(finals)
            outs.append(out if d == 0 else self._reverse(out))
        return outs[0] if len(outs) == 1 else F.cat(outs, -1)

    def _check_input(self, input: Tensor):
        if not isinstance(input, Tensor):
            raise TypeError(f"{type(self).__name__}: input must be a Tensor, got "
                            f"{type(input).__name__}")
        if input.ndim not in (2, 3) or input.shape[-1] != self.input_size:
            layout = "(N, T, D)" if self.batch_first else "(T, N, D)"
            raise ValueError(
                f"{type(self).__name__}: input must be {layout} or unbatched (T, D) with "
                f"D = input_size = {self.input_size}, got shape {tuple(input.shape)}")
        batched = input.ndim == 3
        if not batched:
            input = input.unsqueeze(0 if self.batch_first else 1)
        n = input.shape[0] if self.batch_first else input.shape[1]
        return input, batched, n

    def _initial(self, hx, n: int, batched: bool, what: str, size: int | None = None):
        """Per-layer initial states from hx (L, N, H) (or (L, H) unbatched), or Nones; ``size``
        is H (default hidden_size)."""
        layers = self.num_layers * self._dirs
        if hx is None:
            return [None] * layers
        want = (layers, n, size or self.hidden_size)
        if not batched:
            if tuple(hx.shape) != want[::2]:
                raise ValueError(f"{type(self).__name__}: {what} must have shape {want[::2]} for "
                                 f"an unbatched input, got {tuple(hx.shape)}")
            hx = hx.unsqueeze(1)
        if tuple(hx.shape) != want:
            raise ValueError(f"{type(self).__name__}: {what} must have shape "
                             f"(num_layers * num_directions, N, H) = {want}, got "
                             f"{tuple(hx.shape)}")
        return [hx[k] for k in range(layers)]

    def _between_layers(self, out: Tensor, k: int) -> Tensor:
        if self.dropout and self.training and k < self.num_layers - 1:
            return F.dropout(out, self.dropout, True)
        return out

    def _last(self, out: Tensor) -> Tensor:
        return out[:, -1] if self.batch_first else out[-1]

    def _finish(self, out: Tensor, states: list, batched: bool):
        h_n = F.stack(states, 0)
        if not batched:
            out = out.squeeze(0 if self.batch_first else 1)
            h_n = h_n.squeeze(1)
        return out, h_n

    def forward(self, input: Tensor, hx: Tensor | None = None):
        """input (T, N, D), or (N, T, D) with batch_first, or unbatched (T, D); hx (L, N, H) or
        None -> (output (T, N, H) / (N, T, H): the last layer's h_t, h_n (L, N, H))."""
        x, batched, n = self._check_input(input)
        h0s = self._initial(hx, n, batched, "hx")

        def layer(xin, sfx, j):
            if self.mode == "GRU":
                out = F.gru_layer(xin, h0s[j], *self._weights(k, sfx),
                                  batch_first=self.batch_first)
            else:
                out = F.rnn_layer(xin, h0s[j], *self._weights(k, sfx),
                                  nonlinearity=self.nonlinearity, batch_first=self.batch_first)
            return out, self._last(out)

        states = []
        for k in range(self.num_layers):
            x = self._between_layers(self._run(layer, x, k, states), k)
        return self._finish(x, [s[0] for s in states], batched)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if not self.bias:
            s += ", bias=False"
        if self.batch_first:
            s += ", batch_first=True"
        if self.dropout:
            s += f", dropout={self.dropout}"
        if self.bidirectional:
            s += ", bidirectional=True"
        return s


#: PyTorch's public name of the base class (``torch.nn.modules.rnn.RNNBase``)
RNNBase = _RNNBase


class RNN(_RNNBase):
    """Vanilla (Elman) RNN over sequences: ``h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T +
    b_hh)``, act = tanh or relu, stacked ``num_layers`` deep.

    Args: input_size, hidden_size, num_layers=1, nonlinearity='tanh'|'relu', bias=True,
        batch_first=False, dropout=0 (between layers, in training).
    Shapes: see :meth:`forward`: returns ``(output, h_n)``.
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 nonlinearity: str = "tanh", bias: bool = True, batch_first: bool = False,
                 dropout: float = 0.0, bidirectional: bool = False, device=None, dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        self.__dict__["nonlinearity"] = nonlinearity
        self.__dict__["mode"] = "RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU"
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, 0, device, dtype)


class GRU(_RNNBase):
    """Gated recurrent unit over sequences (gates r, z, n as PyTorch); returns ``(output, h_n)``.

    Args: input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.
    """

    mode = "GRU"


class LSTM(_RNNBase):
    """Long short-term memory over sequences (gates i, f, g, o as PyTorch).

    ``forward(input, (h0, c0))`` -> ``(output, (h_n, c_n))``; states are (L * D, N, H) (or None
    for zeros), D = 2 when bidirectional. With ``forget_bias`` a number, the forget-gate bias
    starts there; None is PyTorch's uniform init; not given, it is 1 inside
    ``init.course_defaults()`` and PyTorch's init outside.

    Args: input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0,
        bidirectional=False, proj_size=0 (> 0: ``h_t = W_hr (o_t * tanh(c_t))``, of size
        proj_size, with ``weight_hr_l{k}`` (proj_size, hidden_size), as PyTorch), device, dtype,
        forget_bias (keyword).
    """

    mode = "LSTM"

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 proj_size: int = 0, device=None, dtype=None, *,
                 forget_bias: float | None | str = _COURSE_OR_TORCH):
        self.__dict__["forget_bias"] = _resolve_forget_bias(forget_bias)
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, proj_size, device, dtype)

    def reset_parameters(self) -> None:
        """PyTorch's uniform init, then the forget-gate bias set to ``forget_bias``."""
        _init_recurrent(self, self.forget_bias, self.hidden_size)

    def forward(self, input: Tensor, hx: tuple | None = None):
        """input (T, N, D) / (N, T, D) / (T, D); hx = (h0, c0) each (L, N, H), or None ->
        ``(output, (h_n, c_n))``."""
        x, batched, n = self._check_input(input)
        if hx is not None and not (isinstance(hx, (tuple, list)) and len(hx) == 2):
            raise TypeError("LSTM: hx must be a tuple (h0, c0) or None")
        h0s = self._initial(None if hx is None else hx[0], n, batched, "h0", self._h_size)
        c0s = self._initial(None if hx is None else hx[1], n, batched, "c0")

        def layer(xin, sfx, j):
            if self.proj_size:
                out, c = _lstm_proj_layer(xin, h0s[j], c0s[j], *self._weights(k, sfx),
                                          getattr(self, f"weight_hr_l{k}{sfx}"),
                                          self.batch_first)
                return out, self._last(out), c
            out, c = F.lstm_layer(xin, h0s[j], c0s[j], *self._weights(k, sfx),
                                  batch_first=self.batch_first)
            return out, self._last(out), c

        states = []
        for k in range(self.num_layers):
            x = self._between_layers(self._run(layer, x, k, states), k)
        out, h_n = self._finish(x, [s[0] for s in states], batched)
        c_n = F.stack([s[1] for s in states], 0)
        return out, (h_n, c_n if batched else c_n.squeeze(1))


class _CellBase(Module):
    mode = "RNN_TANH"

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None,
                 dtype=None):
        super().__init__()
        name = type(self).__name__
        check_device(device, name)
        self.input_size = _pos_int(input_size, "input_size", name)
        self.hidden_size = _pos_int(hidden_size, "hidden_size", name)
        g = _GATES[self.mode] * self.hidden_size
        self.weight_ih = _param((g, self.input_size), dtype)
        self.weight_hh = _param((g, self.hidden_size), dtype)
        if bias:
            self.bias_ih = _param((g,), dtype)
            self.bias_hh = _param((g,), dtype)
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()
        place(self, device)

    def reset_parameters(self) -> None:
        _init_recurrent(self, None, self.hidden_size)

    def _input(self, input: Tensor):
        if input.ndim not in (1, 2) or input.shape[-1] != self.input_size:
            raise ValueError(f"{type(self).__name__}: input must be (N, {self.input_size}) or "
                             f"({self.input_size},), got shape {tuple(input.shape)}")
        return (input, True) if input.ndim == 2 else (input.unsqueeze(0), False)

    @staticmethod
    def _state(s, batched):
        return s if s is None or batched else s.unsqueeze(0)

    def _weights(self):
        return self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}" + (
            "" if self.bias_ih is not None else ", bias=False")


class RNNCell(_CellBase):
    """One vanilla RNN step: ``forward(input (N, D), hx (N, H) or None) -> h' (N, H)``
    (unbatched (D,) -> (H,) too). Args: input_size, hidden_size, bias=True, nonlinearity."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 nonlinearity: str = "tanh", device=None, dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNNCell: nonlinearity must be 'tanh' or 'relu', got "
                             f"{nonlinearity!r}")
        self.__dict__["nonlinearity"] = nonlinearity
        super().__init__(input_size, hidden_size, bias, device, dtype)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        x, batched = self._input(input)
        h = F.rnn_cell(x, self._state(hx, batched), *self._weights(),
                       nonlinearity=self.nonlinearity)
        return h if batched else h.squeeze(0)


class GRUCell(_CellBase):
    """One GRU step: ``forward(input (N, D), hx (N, H) or None) -> h' (N, H)``."""

    mode = "GRU"

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        x, batched = self._input(input)
        h = F.gru_cell(x, self._state(hx, batched), *self._weights())
        return h if batched else h.squeeze(0)


class LSTMCell(_CellBase):
    """One LSTM step: ``forward(input (N, D), (h, c) or None) -> (h', c')``, each (N, H).
    The forget-gate bias starts at ``forget_bias`` (None: PyTorch's init; not given: 1 inside
    ``init.course_defaults()``, PyTorch's init outside)."""

    mode = "LSTM"

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None,
                 dtype=None, *, forget_bias: float | None | str = _COURSE_OR_TORCH):
        self.__dict__["forget_bias"] = _resolve_forget_bias(forget_bias)
        super().__init__(input_size, hidden_size, bias, device, dtype)

    def reset_parameters(self) -> None:
        _init_recurrent(self, self.forget_bias, self.hidden_size)

    def forward(self, input: Tensor, hx: tuple | None = None):
        x, batched = self._input(input)
        if hx is not None:
            hx = (self._state(hx[0], batched), self._state(hx[1], batched))
        h, c = F.lstm_cell(x, hx, *self._weights())
        return (h, c) if batched else (h.squeeze(0), c.squeeze(0))


class Embedding(Module):
    """A lookup table: integer indices (*) -> rows of ``weight`` (*, embedding_dim).

    ``weight`` (num_embeddings, embedding_dim) starts standard normal as PyTorch, with the
    ``padding_idx`` row (if given) zero and never updated by the gradient. With ``max_norm``,
    each lookup first rescales the looked-up rows whose norm exceeds it, in place.
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx: int | None = None,
                 max_norm: float | None = None, norm_type: float = 2.0,
                 scale_grad_by_freq: bool = False, sparse: bool = False, _weight=None,
                 _freeze: bool = False, device=None, dtype=None):
        super().__init__()
        check_device(device, "Embedding")
        self.max_norm, self.norm_type = max_norm, norm_type
        self.scale_grad_by_freq, self.sparse = scale_grad_by_freq, bool(sparse)
        self.num_embeddings = _pos_int(num_embeddings, "num_embeddings", "Embedding")
        self.embedding_dim = _pos_int(embedding_dim, "embedding_dim", "Embedding")
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise ValueError(f"Embedding: padding_idx must be in [-{num_embeddings}, "
                                 f"{num_embeddings}), got {padding_idx}")
            padding_idx = int(padding_idx) % num_embeddings
        self.padding_idx = padding_idx
        self.weight = _param((self.num_embeddings, self.embedding_dim), dtype)
        if _weight is None:
            self.reset_parameters()
        else:
            w = _weight.array if isinstance(_weight, Tensor) else np.asarray(_weight)
            if tuple(w.shape) != (self.num_embeddings, self.embedding_dim):
                raise ValueError(f"Embedding: _weight must have shape "
                                 f"{(self.num_embeddings, self.embedding_dim)}, got {w.shape}")
            self.weight.array[...] = w
        self.weight.requires_grad_(not _freeze)
        place(self, device)

    def reset_parameters(self) -> None:
        init.normal_(self.weight)
        if self.padding_idx is not None:
            self.weight.array[self.padding_idx] = 0

    def forward(self, input: Tensor) -> Tensor:
        return F.embedding(input, self.weight, self.padding_idx, self.max_norm, self.norm_type,
                           self.scale_grad_by_freq, self.sparse)

    @classmethod
    def from_pretrained(cls, embeddings, freeze: bool = True, padding_idx: int | None = None,
                        max_norm: float | None = None, norm_type: float = 2.0,
                        scale_grad_by_freq: bool = False, sparse: bool = False) -> Embedding:
        """An Embedding holding a copy of ``embeddings`` (V, E); ``freeze`` turns off its
        gradient."""
        w = embeddings.array if isinstance(embeddings, Tensor) else np.asarray(embeddings)
        if w.ndim != 2:
            raise ValueError(f"Embedding.from_pretrained: embeddings must be 2-D (V, E), got "
                             f"shape {w.shape}")
        return cls(w.shape[0], w.shape[1], padding_idx, max_norm, norm_type,
                   scale_grad_by_freq, sparse, _weight=w, _freeze=freeze, dtype=w.dtype)

    def extra_repr(self) -> str:
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            s += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq:
            s += ", scale_grad_by_freq=True"
        if self.sparse:
            s += ", sparse=True"
        return s


class Highway(Module):
    """A highway layer (Srivastava et al. 2015): ``y = t * relu(x W_h^T + b_h) + (1 - t) * x``
    with the transform gate ``t = sigmoid(x W_t^T + b_t)``; (*, size) -> (*, size).

    ``b_t`` starts at ``gate_bias`` (default -1) so that the layer first carries its input
    through, as the paper advises for deep stacks.
    """

    def __init__(self, size: int, gate_bias: float = -1.0, dtype=None):
        super().__init__()
        self.size = _pos_int(size, "size", "Highway")
        self.gate_bias = float(gate_bias)
        self.weight_h = _param((self.size, self.size), dtype)
        self.bias_h = _param((self.size,), dtype)
        self.weight_t = _param((self.size, self.size), dtype)
        self.bias_t = _param((self.size,), dtype)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.he_normal_(self.weight_h)
        init.xavier_uniform_(self.weight_t)
        init.zeros_(self.bias_h)
        init.constant_(self.bias_t, self.gate_bias)

    def forward(self, x: Tensor) -> Tensor:
        if x.shape[-1] != self.size:
            raise ValueError(f"Highway: input must have {self.size} features in its last "
                             f"dimension, got shape {tuple(x.shape)}")
        t = F.sigmoid(F.linear(x, self.weight_t, self.bias_t))
        h = F.relu(F.linear(x, self.weight_h, self.bias_h))
        return x + t * (h - x)

    def extra_repr(self) -> str:
        return f"{self.size}"


class TemporalSoftmaxLoss(Module):
    """Module form of :func:`striate.functional.temporal_softmax_loss`:
    ``forward(x (N, T, V), y (N, T), mask (N, T) or None)`` -> scalar.
    ``normalize``: 'batch' (the course's: summed over time, mean over N) or 'tokens'."""

    def __init__(self, normalize: str = "batch"):
        super().__init__()
        self.normalize = normalize

    def forward(self, x: Tensor, y: Tensor, mask: Tensor | None = None) -> Tensor:
        return F.temporal_softmax_loss(x, y, mask, normalize=self.normalize)
