"""Training: the ``Trainer`` fit loop, metrics, pickle-free checkpoints and the babysitting checks.

``Trainer(model, optimizer).fit(train_loader, val_loader, epochs)`` trains with a progress bar,
validates each epoch, writes ``config.json``, ``metrics.csv``, checkpoints and plots to ``out_dir``,
and resumes exactly from a checkpoint. ``save``/``load`` store nested data of Tensors and arrays
as an ``.npz`` without pickle.
"""

from .checkpoint import CheckpointError, load, save
from .checks import TrainingDiverged
from .ensemble import EMA, Ensemble, snapshot_ensemble
from .metrics import AverageMeter, EMAMeter, accuracy
from .trainer import Trainer
from .transfer import freeze, load_backbone, param_groups, replace_head, unfreeze

__all__ = [
    "AverageMeter",
    "CheckpointError",
    "EMA",
    "EMAMeter",
    "Ensemble",
    "Trainer",
    "TrainingDiverged",
    "accuracy",
    "freeze",
    "load",
    "load_backbone",
    "param_groups",
    "replace_head",
    "save",
    "snapshot_ensemble",
    "unfreeze",
]
