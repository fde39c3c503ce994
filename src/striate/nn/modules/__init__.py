"""``striate.nn.modules``: the import paths of ``torch.nn.modules`` (``.rnn``, ``.activation``,
``.linear``, ``.conv``, ``.loss``, ...) re-exporting striate's layers, and the common layers at
the package level as in PyTorch."""

from . import (
    activation,
    batchnorm,
    container,
    conv,
    dropout,
    flatten,
    linear,
    loss,
    module,
    normalization,
    pixelshuffle,
    pooling,
    rnn,
    sparse,
    transformer,
    upsampling,
)
from .activation import *  # noqa: F403
from .batchnorm import BatchNorm1d, BatchNorm2d
from .container import ModuleDict, ModuleList, Sequential
from .conv import Conv1d, Conv2d, ConvTranspose1d, ConvTranspose2d
from .dropout import Dropout, Dropout2d
from .flatten import Flatten
from .linear import Identity, Linear
from .loss import *  # noqa: F403
from .module import Module
from .normalization import GroupNorm, LayerNorm, LocalResponseNorm
from .pixelshuffle import PixelShuffle, PixelUnshuffle
from .pooling import AvgPool1d, AvgPool2d, MaxPool1d, MaxPool2d
from .rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell
from .sparse import Embedding
from .transformer import *  # noqa: F403

__all__ = [  # noqa: F405 - the star imports' names are listed in their own modules
    "activation", "batchnorm", "container", "conv", "dropout", "flatten", "linear", "loss",
    "module", "normalization", "pixelshuffle", "pooling", "rnn", "sparse", "transformer",
    "upsampling", "BatchNorm1d", "BatchNorm2d", "ModuleDict", "ModuleList", "Sequential",
    "Conv1d", "Conv2d", "ConvTranspose1d", "ConvTranspose2d", "Dropout", "Dropout2d", "Flatten",
    "Identity", "Linear", "Module", "GroupNorm", "LayerNorm", "LocalResponseNorm",
    "PixelShuffle", "PixelUnshuffle", "AvgPool1d", "AvgPool2d", "MaxPool1d", "MaxPool2d", "GRU",
    "LSTM", "RNN", "GRUCell", "LSTMCell", "RNNCell", "Embedding",
]  # fmt: skip
