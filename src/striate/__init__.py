"""striate: the CS231n curriculum as one deep-learning library, on NumPy.

The API is shaped like PyTorch's: ``striate.tensor``, ``striate.nn``, ``striate.optim``,
``striate.functional`` (also ``striate.nn.functional``), ``striate.data``, ``striate.train``.
"""

import sys as _sys

# first, before NumPy: environment settings NumPy reads when it is imported (see _env.py)
from . import _env  # noqa: F401

# isort: split
import numpy as _np

from . import backend, ops
from . import ops as functional
from .autograd import Tensor, enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .autograd.size import Size
from .autograd.tensor import (
    arange,
    as_tensor,
    empty,
    eye,
    from_numpy,
    full,
    full_like,
    linspace,
    ones,
    ones_like,
    rand,
    randint,
    randn,
    randperm,
    tensor,
    zeros,
    zeros_like,
)
from .backend import get_default_dtype, initial_seed, manual_seed, set_default_dtype
from .ops import *  # noqa: F403  - torch.exp, torch.cat, torch.max, ... at the top level

# `import striate.functional as F` gives the ops package itself: one object under both names
_sys.modules[__name__ + ".functional"] = ops

from . import cuda, data, nn, optim, utils  # noqa: E402 - they build on the names above
from .devices import device  # noqa: E402
from .parallel import get_num_threads, set_num_threads  # noqa: E402
from .serialization import load, load_torch_state_dict, save  # noqa: E402

# isort: split
# PyTorch's other namespaces (torch.distributions, torch.linalg, torch.backends, ...)
from . import accelerator, backends, distributions, linalg, serialization  # noqa: E402

float16 = _np.float16
float32 = _np.float32
float64 = _np.float64
half, float, double = float16, float32, float64  # noqa: A001 - PyTorch's names
int32 = _np.int32
int64 = _np.int64
long = int64
uint8 = _np.uint8
bool = _np.bool_  # noqa: A001

__version__ = "0.1.0"

# Packages loaded on first use (``striate.onnx.export(...)`` after ``import striate``), so that
# ``import striate`` never pays for them, nor needs their optional dependencies.
_LAZY_PACKAGES = frozenset({
    "amp", "jit", "onnx",  # PyTorch's namespaces
    "vis", "generative", "detect", "segment", "rl", "compress", "adversarial",  # applications
})


def __getattr__(name):
    if name in _LAZY_PACKAGES:
        import importlib

        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
