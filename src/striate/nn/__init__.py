"""``striate.nn``: ``Module``, ``Parameter``, layers, containers and ``init``.

``striate.nn.functional`` is the same module object as ``striate.functional`` (the ops), so
``import striate.nn.functional as F`` works as in PyTorch.
"""

import sys as _sys

from .. import ops as functional
from . import init, modules, parallel, utils
from .activation import ELU, GELU, LeakyReLU, LogSoftmax, PReLU, ReLU, Sigmoid, Softmax, Tanh
from .attention import MultiheadAttention
from .container import ModuleDict, ModuleList, Sequential
from .conv import AvgPool2d, Conv2d, MaxPool2d
from .conv1d import AvgPool1d, Conv1d, ConvTranspose1d, MaxPool1d
from .conv_extra import (
    AdaptiveAvgPool2d,
    AdaptiveMaxPool2d,
    BedOfNails,
    ConvTranspose2d,
    FractionalMaxPool2d,
    MaxUnpool2d,
    Upsample,
    UpsamplingBilinear2d,
    UpsamplingNearest2d,
)
from .dropout import DropConnectLinear, Dropout, Dropout2d, StochasticDepth
from .linear import Flatten, Identity, Linear, Maxout, Unflatten
from .loss import (
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    HuberLoss,
    KLDivLoss,
    L1Loss,
    MSELoss,
    MultiMarginLoss,
    NLLLoss,
    SmoothL1Loss,
)
from .module import Module, RemovableHandle
from .normalization import (
    BatchNorm1d,
    BatchNorm2d,
    GroupNorm,
    LayerNorm,
    LocalResponseNorm,
    SyncBatchNorm,
)
from .parallel import DataParallel
from .parameter import Parameter
from .pixelshuffle import PixelShuffle, PixelUnshuffle
from .recurrent import (
    GRU,
    LSTM,
    RNN,
    Embedding,
    GRUCell,
    Highway,
    LSTMCell,
    RNNCell,
    TemporalSoftmaxLoss,
)
from .tbptt import detach_state, tbptt_chunks, tbptt_train
from .transformer import (
    Transformer,
    TransformerDecoder,
    TransformerDecoderLayer,
    TransformerEncoder,
    TransformerEncoderLayer,
)

_sys.modules[__name__ + ".functional"] = functional

__all__ = [
    "ELU",
    "AvgPool2d",
    "BCELoss",
    "BCEWithLogitsLoss",
    "BatchNorm1d",
    "BatchNorm2d",
    "SyncBatchNorm",
    "Conv2d",
    "CrossEntropyLoss",
    "Dropout",
    "Flatten",
    "Unflatten",
    "HuberLoss",
    "Identity",
    "KLDivLoss",
    "L1Loss",
    "LayerNorm",
    "LeakyReLU",
    "Linear",
    "LogSoftmax",
    "MSELoss",
    "MaxPool2d",
    "Maxout",
    "Module",
    "ModuleDict",
    "ModuleList",
    "MultiMarginLoss",
    "NLLLoss",
    "PReLU",
    "Parameter",
    "ReLU",
    "RemovableHandle",
    "Sequential",
    "Sigmoid",
    "SmoothL1Loss",
    "Softmax",
    "Tanh",
    "functional",
    "init",
    "utils",
    "GRU",
    "LSTM",
    "RNN",
    "Embedding",
    "GRUCell",
    "Highway",
    "LSTMCell",
    "RNNCell",
    "TemporalSoftmaxLoss",
    "detach_state",
    "tbptt_chunks",
    "tbptt_train",
    "AdaptiveAvgPool2d",
    "AdaptiveMaxPool2d",
    "BedOfNails",
    "ConvTranspose2d",
    "DropConnectLinear",
    "Dropout2d",
    "FractionalMaxPool2d",
    "GroupNorm",
    "LocalResponseNorm",
    "MaxUnpool2d",
    "StochasticDepth",
    "Upsample",
    "UpsamplingNearest2d",
    "UpsamplingBilinear2d",
    # wave 2 (PyTorch's API surface)
    "AvgPool1d",
    "Conv1d",
    "ConvTranspose1d",
    "DataParallel",
    "GELU",
    "MaxPool1d",
    "MultiheadAttention",
    "PixelShuffle",
    "PixelUnshuffle",
    "Transformer",
    "TransformerDecoder",
    "TransformerDecoderLayer",
    "TransformerEncoder",
    "TransformerEncoderLayer",
    "modules",
    "parallel",
]
