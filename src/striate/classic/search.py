"""Search trials of the classic classifiers: ``run_trial`` trains what a config names,
``kind="linear-svm"`` / ``"softmax"`` here (``striate.classic.LinearSVM`` / ``Softmax``) and any
other kind through :func:`striate.train.search_trials.run_trial`; pass it to
``striate.train.search(..., trial_fn=run_trial)``.

A linear trial fits flattened, mean-centred images scaled by one std; keys ``lr``, ``reg``,
``num_iters`` (1000), ``batch_size`` (200), ``reg_type`` ("l2"), ``delta`` (the SVM's margin),
``check_every`` (50 iterations between divergence checks), ``factor`` and ``seed``. A trial whose
smoothed loss exceeds ``factor`` (3) times its initial loss, or turns NaN, stops and is reported
as ``status="abandoned"``.
"""

from __future__ import annotations

import math

import numpy as np

from .. import backend
from ..train import search_trials
from ..train.checks import DivergenceMonitor, TrainingDiverged
from ..train.search_trials import CLASSIC_KINDS, TrialData, accuracy, check_keys
from .linear import LinearSVM, Softmax

__all__ = ["CLASSIC_KINDS", "run_trial"]

LINEAR_KEYS = {"kind", "lr", "reg", "num_iters", "batch_size", "reg_type", "delta",
               "check_every", "factor", "seed"}


def run_trial(config: dict, data: TrialData, evaluate_test: bool = False) -> dict:
    """One search trial: a linear classifier for the classic kinds, else
    :func:`striate.train.search_trials.run_trial`; the same row either way."""
    kind = config.get("kind", "model")
    if kind not in CLASSIC_KINDS:
        return search_trials.run_trial(config, data, evaluate_test)
    if "lr" not in config:
        raise ValueError(f"run_trial: the config needs a learning rate 'lr', got keys "
                         f"{sorted(config)}")
    check_keys(config, LINEAR_KEYS, kind)
    data = data if isinstance(data, TrialData) else TrialData.of(data, with_test=evaluate_test)
    return _linear_trial(config, data, evaluate_test)


def _linear_trial(config: dict, data: TrialData, evaluate_test: bool) -> dict:
    backend.manual_seed(int(config.get("seed", 0)))
    transform, Xtr, Xval = data.prepared("flat")
    clf = (LinearSVM(float(config.get("delta", 1.0))) if config["kind"] == "linear-svm"
           else Softmax())
    num_iters = int(config.get("num_iters", 1000))
    check_every = int(config.get("check_every", 50))
    monitor = DivergenceMonitor(float(config.get("factor", 3.0)))
    losses: list[float] = []
    status = "ok"
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        while len(losses) < num_iters:
            n = min(check_every, num_iters - len(losses))
            # train() continues from the current weights, so a trial runs in short chunks and
            # stops at the first chunk whose loss has run away
            chunk = clf.train(Xtr, data.y_train, learning_rate=float(config["lr"]),
                              reg=float(config.get("reg", 0.0)), num_iters=n,
                              batch_size=int(config.get("batch_size", 200)),
                              reg_type=config.get("reg_type", "l2"),
                              num_classes=data.num_classes)
            try:
                for i, loss in enumerate(chunk):
                    monitor.update(loss, 0, len(losses) + i)
            except TrainingDiverged:
                status = "abandoned"
            losses += chunk
            if status != "ok":
                break
    row = {"status": status, "initial_loss": losses[0], "final_loss": losses[-1],
           "steps": len(losses)}
    if status == "ok":
        row["val_acc"] = accuracy(clf.predict(Xval), data.y_val)
        row["train_acc"] = accuracy(clf.predict(Xtr), data.y_train)
    else:
        row["val_acc"] = row["train_acc"] = math.nan
    if evaluate_test:
        row["test_acc"] = accuracy(clf.predict(transform(data.X_test)), data.y_test)
    return row
