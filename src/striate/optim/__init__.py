"""Optimizers (SGD, Adagrad, RMSprop, Adadelta, Adam, AdamW, LBFGS), gradient clipping, and
learning-rate schedules.

PyTorch's names and semantics: ``opt = striate.optim.SGD(model.parameters(), lr=0.1,
momentum=0.9)``, then ``opt.zero_grad(); loss.backward(); opt.step()`` each batch; schedules live in
:mod:`striate.optim.lr_scheduler`.
"""

from . import lr_scheduler
from .adadelta import Adadelta
from .adam import Adam, AdamW
from .adaptive import Adagrad, RMSprop
from .clip import clip_grad_norm_, clip_grad_value_
from .factory import OPTIMIZERS, create_optimizer
from .lbfgs import LBFGS
from .optimizer import Optimizer
from .sgd import SGD

__all__ = [
    "OPTIMIZERS",
    "SGD",
    "Adadelta",
    "Adagrad",
    "Adam",
    "AdamW",
    "LBFGS",
    "Optimizer",
    "RMSprop",
    "clip_grad_norm_",
    "clip_grad_value_",
    "create_optimizer",
    "lr_scheduler",
]
