"""A character-level language model: Embedding -> LSTM (2 layers) -> Linear.

Its sampler and training loop (what ``striate charnn train`` runs) are an application and live
in :mod:`striate.text.charnn`.
"""

from __future__ import annotations

from ..nn import LSTM, Embedding, Linear, Module, init

__all__ = ["CharRNN"]

_MOVED = ("sample", "train_charnn", "load_charnn", "CHECKPOINT")


class CharRNN(Module):
    """Embedding (V, E) -> LSTM (E -> H, ``num_layers``, batch-first) -> Linear (H -> V).

    ``forward(idx (N, T) int, state=None) -> (logits (N, T, V), (h, c))``.
    """

    @init.course_defaults()  # striate's own scheme, not PyTorch's default
    def __init__(self, vocab_size: int, embed_dim: int = 64, hidden_size: int = 256,
                 num_layers: int = 2, dropout: float = 0.0):
        super().__init__()
        self.vocab_size, self.hidden_size = vocab_size, hidden_size
        self.embed = Embedding(vocab_size, embed_dim)
        self.lstm = LSTM(embed_dim, hidden_size, num_layers, batch_first=True, dropout=dropout)
        self.head = Linear(hidden_size, vocab_size)

    def forward(self, idx, state=None):
        out, state = self.lstm(self.embed(idx), state)
        n, t, h = out.shape
        # one (N T, H) x (H, V) GEMM rather than N batched ones
        logits = self.head(out.reshape(n * t, h)).reshape(n, t, self.vocab_size)
        return logits, state


def __getattr__(name):
    if name in _MOVED:  # models sit below the applications and do not import them
        raise AttributeError(f"striate.models.charnn.{name} moved to striate.text.charnn "
                             f"(also striate.text.{name})")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
