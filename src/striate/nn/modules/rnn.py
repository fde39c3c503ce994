"""``torch.nn.modules.rnn``'s names, for programs that import them from there."""

from ..recurrent import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNBase, RNNCell  # noqa: F401
