"""``MultiheadAttention`` with PyTorch's parameters, arguments and results, so a PyTorch
``state_dict`` loads unchanged: ``in_proj_weight`` (3E, E) and ``in_proj_bias`` (3E,) hold the
query, key and value projections stacked (or ``q_proj_weight``, ``k_proj_weight``,
``v_proj_weight`` when ``kdim`` or ``vdim`` differ from E), ``out_proj`` is a Linear (E, E)."""

from __future__ import annotations

import numbers

import numpy as np

from .. import backend
from .. import ops as F
from ..autograd.tensor import Tensor
from . import init
from ._weighted import check_device, place
from .linear import Linear
from .module import Module
from .parameter import Parameter

__all__ = ["MultiheadAttention"]


class NonDynamicallyQuantizableLinear(Linear):
    """The class of ``MultiheadAttention.out_proj`` in PyTorch; here a plain ``Linear``."""


class MultiheadAttention(Module):
    """Multi-head attention (Vaswani et al. 2017): ``concat(head_1..head_h) W_o`` with
    ``head_i = softmax(Q W_q^i (K W_k^i)^T / sqrt(E / h) + mask) V W_v^i``.

    Args:
        embed_dim: E, the model's feature size. num_heads: h, dividing E.
        dropout: on the attention probabilities, in training (default 0).
        bias: biases on the input and output projections (default True).
        add_bias_kv: learn one more key and value (``bias_k``, ``bias_v`` (1, 1, E)).
        add_zero_attn: append a zero key and value after projecting.
        kdim, vdim: feature sizes of key and value (default E).
        batch_first: inputs and outputs are (N, seq, E) rather than (seq, N, E).
        device, dtype: as every layer.

    ``forward(query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
    average_attn_weights=True, is_causal=False) -> (output, weights or None)``: see
    :func:`striate.functional.multi_head_attention_forward` for the shapes and masks (bool
    masks: True = may NOT attend). Initialisation as PyTorch: Xavier-uniform input projections,
    zero input and output biases, Xavier-normal ``bias_k``/``bias_v``.
    """

    def __init__(self, embed_dim, num_heads, dropout=0.0, bias=True, add_bias_kv=False,
                 add_zero_attn=False, kdim=None, vdim=None, batch_first=False, device=None,
                 dtype=None):
        super().__init__()
        check_device(device, "MultiheadAttention")
        for name, v in (("embed_dim", embed_dim), ("num_heads", num_heads)):
            if not isinstance(v, numbers.Integral) or isinstance(v, bool) or v <= 0:
                raise ValueError(f"MultiheadAttention: {name} must be a positive int, got {v!r}")
        if embed_dim % num_heads:
            raise ValueError(f"MultiheadAttention: embed_dim {embed_dim} must be divisible by "
                             f"num_heads {num_heads}")
        if not 0.0 <= dropout <= 1.0:
            raise ValueError(f"MultiheadAttention: dropout must be in [0, 1], got {dropout!r}")
        self.embed_dim, self.num_heads = int(embed_dim), int(num_heads)
        self.kdim = self.embed_dim if kdim is None else int(kdim)
        self.vdim = self.embed_dim if vdim is None else int(vdim)
        self._qkv_same_embed_dim = self.kdim == self.embed_dim and self.vdim == self.embed_dim
        self.dropout, self.batch_first = float(dropout), bool(batch_first)
        self.head_dim = self.embed_dim // self.num_heads
        self.add_zero_attn = bool(add_zero_attn)
        dt = backend.get_default_dtype() if dtype is None else np.dtype(dtype)
        E = self.embed_dim

        def param(*shape):
            return Parameter(np.zeros(shape, dtype=dt))

        if self._qkv_same_embed_dim:
            self.in_proj_weight = param(3 * E, E)
            self.register_parameter("q_proj_weight", None)
            self.register_parameter("k_proj_weight", None)
            self.register_parameter("v_proj_weight", None)
        else:
            self.q_proj_weight = param(E, E)
            self.k_proj_weight = param(E, self.kdim)
            self.v_proj_weight = param(E, self.vdim)
            self.register_parameter("in_proj_weight", None)
        if bias:
            self.in_proj_bias = param(3 * E)
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = NonDynamicallyQuantizableLinear(E, E, bias=bias, dtype=dt)
        if add_bias_kv:
            self.bias_k = param(1, 1, E)
            self.bias_v = param(1, 1, E)
        else:
            self.bias_k = self.bias_v = None
        self._reset_parameters()
        place(self, device)

    def reset_parameters(self) -> None:
        """Redraw every parameter: ``out_proj`` as a Linear, then :meth:`_reset_parameters`."""
        self.out_proj.reset_parameters()
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        """PyTorch's: Xavier-uniform input projections, zero biases, Xavier-normal bias_k/v
        (``out_proj.weight`` keeps Linear's default draw)."""
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            init.xavier_uniform_(self.q_proj_weight)
            init.xavier_uniform_(self.k_proj_weight)
            init.xavier_uniform_(self.v_proj_weight)
        if self.in_proj_bias is not None:
            init.zeros_(self.in_proj_bias)
            init.zeros_(self.out_proj.bias)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
            init.xavier_normal_(self.bias_v)

    def forward(self, query: Tensor, key: Tensor, value: Tensor,
                key_padding_mask: Tensor | None = None, need_weights: bool = True,
                attn_mask: Tensor | None = None, average_attn_weights: bool = True,
                is_causal: bool = False):
        batched = query.ndim == 3
        if self.batch_first and batched:  # the functional form is sequence-first
            query, key, value = (t.transpose(0, 1) for t in (query, key, value))
        out, weights = F.multi_head_attention_forward(
            query, key, value, self.embed_dim, self.num_heads, self.in_proj_weight,
            self.in_proj_bias, self.bias_k, self.bias_v, self.add_zero_attn, self.dropout,
            self.out_proj.weight, self.out_proj.bias, training=self.training,
            key_padding_mask=key_padding_mask, need_weights=need_weights, attn_mask=attn_mask,
            use_separate_proj_weight=not self._qkv_same_embed_dim,
            q_proj_weight=self.q_proj_weight, k_proj_weight=self.k_proj_weight,
            v_proj_weight=self.v_proj_weight, average_attn_weights=average_attn_weights,
            is_causal=is_causal)
        if self.batch_first and batched:
            out = out.transpose(0, 1)
        return out, weights

    def extra_repr(self) -> str:
        return f"embed_dim={self.embed_dim}, num_heads={self.num_heads}"
