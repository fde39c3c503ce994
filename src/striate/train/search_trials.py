"""One trial of a hyper-parameter search: train what a config names, measure it on the
validation split, abandon it early when its loss runs away.

``run_trial(config, data)`` is a top-level function so worker processes started with "spawn"
can import it by name. It trains ``kind="model"`` (the default):
``striate.models.create_model(config["model"], ...)`` trained by the ``Trainer`` on per-channel
normalised images; keys ``lr``, ``reg`` (weight decay), ``optimizer`` ("adam"), ``momentum``
(0.9), ``epochs`` (5), ``batch_size`` (64), ``model_args`` (keyword arguments of the model). The
classic classifiers (``kind="linear-svm"`` / ``"softmax"``) are an application above ``train``:
their trials are :func:`striate.classic.search.run_trial`, which also runs this kind.

Both stop a trial whose smoothed loss exceeds ``factor`` (3) times its initial loss, or turns
NaN (``striate.train.checks.DivergenceMonitor``), and report it as ``status="abandoned"``.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ..optim import create_optimizer
from .checks import TrainingDiverged

__all__ = ["CLASSIC_KINDS", "TrialData", "accuracy", "check_keys", "run_trial"]

CLASSIC_KINDS = ("linear-svm", "softmax")  # trained by striate.classic.search.run_trial
MODEL_KEYS = {"kind", "model", "model_args", "lr", "reg", "optimizer", "momentum", "epochs",
              "batch_size", "factor", "seed"}


@dataclass(eq=False)
class TrialData:
    """The arrays a trial sees: train (N, C, H, W) and val; test only for the final
    evaluation (the search never sends it to the workers)."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    num_classes: int
    input_shape: tuple
    X_test: np.ndarray | None = None
    y_test: np.ndarray | None = None
    _prepared: dict = field(default_factory=dict, repr=False)

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_prepared"] = {}  # derived arrays are recomputed in the worker, not shipped
        return state

    @classmethod
    def of(cls, data, with_test: bool = False) -> TrialData:
        """From a ``DatasetSplits`` (or a TrialData, returned as is when the test split need
        not be dropped)."""
        if isinstance(data, TrialData):
            if with_test or data.X_test is None:
                return data
            return cls(data.X_train, data.y_train, data.X_val, data.y_val, data.num_classes,
                       data.input_shape)
        for attr in ("train", "val", "test", "num_classes", "input_shape"):
            if not hasattr(data, attr):
                raise TypeError(f"search: data must be a DatasetSplits or TrialData, got "
                                f"{type(data).__name__} (no {attr!r})")
        test = data.test if with_test else None
        return cls(np.asarray(data.train.X), np.asarray(data.train.y), np.asarray(data.val.X),
                   np.asarray(data.val.y), int(data.num_classes), tuple(data.input_shape),
                   None if test is None else np.asarray(test.X),
                   None if test is None else np.asarray(test.y))

    def prepared(self, how: str):
        """(transform, X_train, X_val) for ``how`` = "flat" (flattened, minus the mean training
        image, divided by the training pixels' std: one number, as ``striate linear`` does) or
        "normalized" (per-channel mean/std of the training images)."""
        if how not in self._prepared:
            if how == "flat":
                flat = self.X_train.reshape(len(self.X_train), -1).astype(np.float32)
                mean = flat.mean(0)
                std = np.float32(flat.std() or 1.0)

                def transform(X, mean=mean, std=std):
                    return (np.asarray(X, np.float32).reshape(len(X), -1) - mean) / std
            else:
                from ..data.transforms import Normalize

                norm = Normalize.fit(self.X_train, per_channel=True)

                def transform(X, norm=norm):
                    return norm(np.asarray(X, np.float32))
            self._prepared[how] = (transform, transform(self.X_train), transform(self.X_val))
        return self._prepared[how]


def check_keys(config: dict, allowed: set, kind: str) -> None:
    """Refuse config keys a trial of this kind does not know."""
    unknown = sorted(set(config) - allowed)
    if unknown:
        raise ValueError(f"run_trial: unknown key(s) {unknown} for kind {kind!r}; "
                         f"known: {sorted(allowed)}")


def run_trial(config: dict, data: TrialData, evaluate_test: bool = False,
              on_epoch: Callable | None = None) -> dict:
    """Train the config's model on ``data.X_train`` and measure it.

    ``on_epoch(epoch, record)``, when given, is called after every epoch with the epoch's
    history record (plus ``initial_loss``); it may raise to stop the trial (an Optuna pruner
    does).

    Returns:
        ``{"status": "ok" | "abandoned", "val_acc", "train_acc", "initial_loss",
        "final_loss", "steps"}`` (accuracies NaN when abandoned), plus ``"test_acc"`` with
        ``evaluate_test``.

    Raises:
        ValueError: an unknown kind or key, or a missing learning rate.
    """
    kind = config.get("kind", "model")
    if "lr" not in config:
        raise ValueError(f"run_trial: the config needs a learning rate 'lr', got keys "
                         f"{sorted(config)}")
    data = data if isinstance(data, TrialData) else TrialData.of(data, with_test=evaluate_test)
    if kind in CLASSIC_KINDS:
        raise ValueError(f"run_trial: kind {kind!r} is a classic classifier; its trials are "
                         "striate.classic.search.run_trial (pass it as trial_fn to search)")
    if kind == "model":
        check_keys(config, MODEL_KEYS, kind)
        return _model_trial(config, data, evaluate_test, on_epoch)
    raise ValueError(f"run_trial: kind must be 'model', 'linear-svm' or 'softmax', got {kind!r}")


def accuracy(pred, y) -> float:
    """The fraction of predictions equal to the labels."""
    return float(np.mean(np.asarray(pred) == np.asarray(y)))


def _model_trial(config: dict, data: TrialData, evaluate_test: bool,
                 on_epoch: Callable | None = None) -> dict:
    import striate

    from ..data import DataLoader, TensorDataset
    from ..models import create_model
    from .trainer import Trainer

    striate.manual_seed(int(config.get("seed", 0)))
    transform, Xtr, Xval = data.prepared("normalized")
    model = create_model(config.get("model", "mlp"), num_classes=data.num_classes,
                         input_shape=data.input_shape, **dict(config.get("model_args", {})))
    opt = create_optimizer(config.get("optimizer", "adam"), model.parameters(),
                           lr=float(config["lr"]), weight_decay=float(config.get("reg", 0.0)),
                           momentum=float(config.get("momentum", 0.9)))
    trainer = Trainer(model, opt, progress=False, log=False,
                      divergence_factor=float(config.get("factor", 3.0)))
    bs = int(config.get("batch_size", 64))
    train_loader = DataLoader(TensorDataset(Xtr, data.y_train), batch_size=bs, shuffle=True)
    val_loader = DataLoader(TensorDataset(Xval, data.y_val), batch_size=512)
    status = "ok"
    with warnings.catch_warnings(), np.errstate(over="ignore", invalid="ignore"):
        warnings.simplefilter("ignore")  # the initial-loss advice is for interactive runs
        try:
            for epoch in range(1, int(config.get("epochs", 5)) + 1):  # fit goes on each time
                trainer.fit(train_loader, val_loader, epochs=epoch)
                if on_epoch is not None:
                    on_epoch(epoch, {**trainer.history[-1],
                                     "initial_loss": trainer._divergence.initial})
        except TrainingDiverged:
            status = "abandoned"
    last = trainer.history[-1] if trainer.history else {}
    row = {"status": status, "initial_loss": trainer._divergence.initial,
           "final_loss": last.get("train_loss", math.nan), "steps": trainer.step}
    if status == "ok":
        row["val_acc"], row["train_acc"] = float(last["val_acc"]), float(last["train_acc"])
    else:
        row["val_acc"] = row["train_acc"] = math.nan
    if evaluate_test:
        test = DataLoader(TensorDataset(transform(data.X_test), data.y_test), batch_size=512)
        row["test_acc"] = float(trainer.evaluate(test)["accuracy"])
    return row
