"""``torch.nn.modules.rnn``'s names, for programs that import them from there."""

from ..recurrent import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell  # noqa: F401
from ..recurrent import RNNBase  # noqa: F401
