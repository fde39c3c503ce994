"""``Trainer``: the fit loop with validation, history, checkpoints, plots and babysitting checks.

A run folder (``out_dir``) receives ``config.json`` at the start, then after every epoch
``metrics.csv``, ``checkpoint_last.npz`` and, when the monitored metric improves,
``checkpoint_best.npz``; ``loss.png``, ``accuracy.png`` and ``lr.png`` at the end of ``fit``.

A checkpoint holds the model's, the optimizer's and the scheduler's ``state_dict``, the number of
finished epochs, the config, the history, the best metric, the state of the checks and the state
of striate's global random generator, so ``fit(..., resume=path)`` continues bit for bit: two
epochs in one go give the same weights as one epoch, a fresh process, and a resumed second one.

Example:
    >>> import striate, numpy as np
    >>> from striate.train import Trainer
    >>> trainer = Trainer(model, striate.optim.SGD(model.parameters(), lr=0.1))  # doctest: +SKIP
    >>> history = trainer.fit(train_loader, val_loader, epochs=10)             # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import numbers
import os
import sys
import time
import warnings
from collections.abc import Callable, Iterable

import numpy as np

from .. import backend
from ..autograd.grad_mode import no_grad
from ..utils import tensorboard as _tensorboard
from . import history as _files
from .checkpoint import load, save
from .checks import (
    DivergenceMonitor,
    TrainingDiverged,
    initial_loss_message,
    snapshot,
    update_ratio_report,
    update_ratios,
)
from .metrics import AverageMeter, accuracy
from .transfer import keep_frozen_norms_in_eval

__all__ = ["Trainer", "TrainingDiverged"]

CHECKPOINT_FORMAT = "striate.train/1"
LAST, BEST = "checkpoint_last.npz", "checkpoint_best.npz"


class _Log:
    """``info``/``warning`` over a print-like callable, a ``logging.Logger``, or nothing."""

    def __init__(self, log):
        if log is None:
            try:
                from tqdm import tqdm

                log = tqdm.write  # prints above a live progress bar instead of through it
            except ImportError:  # pragma: no cover - tqdm is a dependency
                log = print
        if log is False:
            self.info = self.warning = lambda msg: None
        elif isinstance(log, logging.Logger) or (hasattr(log, "info") and hasattr(log, "warning")):
            self.info, self.warning = log.info, log.warning
        elif callable(log):
            self.info = log
            self.warning = lambda msg: log(f"WARNING: {msg}")
        else:
            raise TypeError(f"Trainer: log must be a callable, a logging.Logger, None or False, "
                            f"got {type(log).__name__}")


def _metric_table(metrics) -> list[tuple[str, str, Callable]]:
    """``[(key, name, fn)]``: key is the history suffix (``acc``), name the evaluate key."""
    if isinstance(metrics, str) or callable(metrics):
        metrics = (metrics,)
    items = metrics.items() if isinstance(metrics, dict) else [(None, m) for m in metrics]
    table = []
    for name, m in items:
        if m in ("accuracy", "acc"):
            table.append(("acc", name or "accuracy", accuracy))
        elif callable(m):
            name = name or getattr(m, "__name__", None) or type(m).__name__
            table.append((name, name, m))
        else:
            raise ValueError(f"Trainer: metrics must be 'accuracy' or callables "
                             f"fn(logits, targets) -> float, got {m!r}")
    return table


def _is_cross_entropy(loss_fn) -> bool:
    name = getattr(loss_fn, "__name__", type(loss_fn).__name__)
    return name in ("cross_entropy", "CrossEntropyLoss", "softmax_cross_entropy")


def _close(iterator) -> None:
    """Close a generator left mid-way (a DataLoader's prefetching one stops its thread)."""
    close = getattr(iterator, "close", None)
    if close is not None:
        close()


class _Shards:
    """This rank's part of data-parallel training (``Trainer(distributed=True)``).

    Rank r of R takes rows ``[r*m//R, (r+1)*m//R)`` of every global batch of m rows. Its loss
    (the mean over its rows) is scaled by ``R * n_r / m`` before backward, so that the gradient
    average of ``DistributedDataParallel`` equals the gradient of the mean over the whole batch
    even when m does not divide evenly; a rank left without rows still runs a backward of zeros
    (every rank must join every gradient all-reduce). The step's loss and metrics are combined
    over the ranks with one small all-reduce, so every rank sees the global batch's values and
    takes the same decisions (divergence checks, best checkpoint).
    """

    def __init__(self):
        from .. import distributed as dist

        self.dist = dist
        self.rank, self.world = dist.get_rank(), dist.get_world_size()
        self.rows = (0, 0, 0)

    def slice(self, x, y):
        m = int(x.shape[0])
        lo, hi = self.rank * m // self.world, (self.rank + 1) * m // self.world
        self.rows = (lo, hi, m)
        return x[lo:hi], y[lo:hi]

    def scope(self):
        """Random draws inside (dropout) take this rank's rows of the global batch's draw."""
        return backend.batch_shard(*self.rows)

    def step(self, out, loss, n: int, value: float, values: list):
        local = np.array([n, value * n if n else 0.0, *(v * n if n else 0.0 for v in values)],
                         np.float64)
        self.dist.all_reduce(local)
        total = int(round(local[0]))
        if n == 0:
            loss = out.sum() * 0.0
        elif n * self.world != total:
            loss = loss * (n * self.world / total)
        return loss, total, float(local[1] / total), [float(v / total) for v in local[2:]]

    def combine(self, meters: list) -> None:
        local = np.array([x for m in meters for x in (m.sum, m.count)], np.float64)
        self.dist.all_reduce(local)
        for k, m in enumerate(meters):
            m.sum, m.count = float(local[2 * k]), int(round(local[2 * k + 1]))


def _batch(batch, where: str):
    if not isinstance(batch, (tuple, list)) or len(batch) != 2:
        got = f"{len(batch)} fields" if isinstance(batch, (tuple, list)) else type(batch).__name__
        raise ValueError(f"{where}: each batch must be an (inputs, targets) pair, got {got}")
    return batch


class Trainer:
    """Train a model with an optimizer, watching it the way the CS231n notes babysit a run.

    Args:
        model: a ``striate.nn.Module`` (anything callable with ``parameters``,
            ``named_parameters``, ``state_dict``, ``load_state_dict``, ``train``, ``eval``).
        optimizer: a ``striate.optim.Optimizer`` over the model's parameters; None for a
            Trainer that only evaluates.
        loss_fn: ``fn(output, targets) -> scalar Tensor``; ``striate.functional.cross_entropy``
            when None.
        scheduler: a learning-rate scheduler, stepped after every epoch (or every batch with
            ``scheduler_interval='step'``); ``ReduceLROnPlateau`` gets the validation loss (the
            training loss without validation).
        metrics: ``'accuracy'`` and/or callables ``fn(logits, targets) -> float`` (or a dict
            ``{name: fn}``); history keys are ``train_acc``/``val_acc`` for accuracy and
            ``train_<name>``/``val_<name>`` otherwise.
        out_dir: the run folder (created); None writes no files.
        config: a JSON-able dict describing the run, saved as ``config.json`` and in checkpoints.
        grad_clip: clip the gradients' total 2-norm to this before every step (None: off).
        progress: show a tqdm bar per epoch on stderr (loss, accuracy, lr, samples/s).
        checks: run the babysitting checks (see ``striate.train.checks``): initial loss vs
            log(C) (warns), divergence (raises :class:`TrainingDiverged`), update/weight ratios
            (logged each epoch, in history as ``update_ratios`` per parameter and
            ``update_ratio``, the median over the weights; biases are not judged).
        log: where one-line messages go: a print-like callable, a ``logging.Logger``, None
            (``tqdm.write`` to stdout) or False (silent).
        monitor: the history key that picks ``checkpoint_best`` (``'val_acc'``; ``'val_loss'``);
            a ``*loss`` is minimised, anything else maximised. Without validation data, the
            ``train_`` counterpart is used.
        scheduler_interval: ``'epoch'`` (default) or ``'step'``.
        divergence_factor: stop when the smoothed loss exceeds this many times the first loss.
        keep_snapshots: also write ``checkpoint_epoch{N}.npz`` after every epoch (for
            ``striate.train.snapshot_ensemble``).
        ema_decay: keep a Polyak average of the weights (``striate.train.EMA`` with this decay,
            updated after every step, saved in checkpoints as ``"ema"``); validation and
            :meth:`evaluate` then use the averaged weights. None: off.
        tensorboard: also write each epoch's losses, metrics and lr as TensorBoard event files
            (``loss/train``, ``acc/val``, ``lr``, ...): True for ``out_dir/tensorboard``, or a
            folder. Needs the ``tensorboard`` extra (tensorboardX).
        distributed: data-parallel training over the processes of ``striate.distributed``
            (see ``docs/distributed.md``): every rank's loaders yield the same global batches
            (the same seed draws the same order) and each rank trains on its contiguous slice of
            every batch, so a run gives the same weights at any process count; the model should
            be a ``DistributedDataParallel`` (with ``SyncBatchNorm`` for batch statistics over
            the global batch). Losses and metrics are averaged over the ranks, checkpoints hold
            the wrapped model's own ``state_dict`` (no ``module.`` prefix), and only the rank
            given an ``out_dir`` (rank 0) writes files.

    Attributes:
        history: list of per-epoch dicts (``epoch, train_loss, train_acc, val_loss, val_acc,
            lr, time, update_ratio, update_ratios``).
        epoch: the number of finished epochs.
        best: the best value of ``monitor`` so far (None before the first epoch).

    Divergence is reported by raising :class:`TrainingDiverged` (a ``RuntimeError``) from
    ``fit``, before the bad step is applied; the finished epochs stay in ``history``,
    ``metrics.csv``, the plots and ``checkpoint_last.npz``, so a run can resume from there
    with a lower learning rate.
    """

    def __init__(self, model, optimizer, loss_fn: Callable | None = None, scheduler=None,
                 metrics: Iterable = ("accuracy",), out_dir: str | os.PathLike | None = None,
                 config: dict | None = None, grad_clip: float | None = None,
                 progress: bool = True, checks: bool = True, log=None, monitor: str = "val_acc",
                 scheduler_interval: str = "epoch", divergence_factor: float = 3.0,
                 keep_snapshots: bool = False, ema_decay: float | None = None,
                 tensorboard: bool | str | os.PathLike = False, distributed: bool = False):
        if not callable(model):
            raise TypeError(f"Trainer: model must be callable (an nn.Module), got "
                            f"{type(model).__name__}")
        if optimizer is not None and not (hasattr(optimizer, "param_groups")
                                          and hasattr(optimizer, "step")):
            raise TypeError(f"Trainer: optimizer must be a striate.optim.Optimizer, got "
                            f"{type(optimizer).__name__}")
        if loss_fn is None:
            from .. import ops

            loss_fn = ops.cross_entropy
        if grad_clip is not None and not (isinstance(grad_clip, numbers.Real) and grad_clip > 0):
            raise ValueError(f"Trainer: grad_clip must be a positive number or None, got "
                             f"{grad_clip!r}")
        if scheduler_interval not in ("epoch", "step"):
            raise ValueError(f"Trainer: scheduler_interval must be 'epoch' or 'step', got "
                             f"{scheduler_interval!r}")
        if config is not None and not isinstance(config, dict):
            raise TypeError(f"Trainer: config must be a dict or None, got {type(config).__name__}")
        self.model, self.optimizer, self.loss_fn, self.scheduler = model, optimizer, loss_fn, \
            scheduler
        self.metrics = _metric_table(metrics)
        keys = ["loss"] + [k for k, _, _ in self.metrics]
        allowed = [f"{s}_{k}" for s in ("val", "train") for k in keys]
        if monitor not in allowed:
            raise ValueError(f"Trainer: monitor must be one of {allowed}, got {monitor!r}")
        self.monitor = monitor
        self.out_dir = None if out_dir is None else os.fspath(out_dir)
        self.grad_clip = grad_clip
        self.progress, self.checks = bool(progress), bool(checks)
        self.scheduler_interval = scheduler_interval
        self._log = _Log(log)
        self._divergence = DivergenceMonitor(divergence_factor)
        self.history: list[dict] = []
        self.epoch = 0
        self.step = 0
        self.best: float | None = None
        self.best_epoch: int | None = None
        self._named = None
        self._active_monitor = monitor
        # JSON-normalised once, so config.json and the checkpoints hold the same thing
        self.config = json.loads(json.dumps(config if config is not None else
                                            self._default_config(), default=str))
        self.keep_snapshots = bool(keep_snapshots)
        self._shards = _Shards() if distributed else None
        # the weights a checkpoint holds: a data-parallel wrapper's module, without "module."
        self._state_model = getattr(model, "module", model) if distributed else model
        self._tb_dir = _tensorboard.trainer_log_dir(tensorboard, self.out_dir)
        self._tb = None  # the SummaryWriter, open during fit
        self.ema = None
        if ema_decay is not None:
            from .ensemble import EMA

            self.ema = EMA(model, decay=ema_decay)

    # ---- public API ---------------------------------------------------------------------------

    def fit(self, train_loader, val_loader=None, epochs: int = 1,
            resume: str | os.PathLike | bool | None = None) -> list[dict]:
        """Train until ``epochs`` epochs are done in total, validating after each one.

        Args:
            train_loader: iterable of ``(x, y)`` batches of Tensors (a ``DataLoader``).
            val_loader: the same for validation, or None.
            epochs: the total number of epochs of the run; a resumed run (or a second ``fit``
                on this trainer) trains only the epochs still missing.
            resume: a checkpoint path to continue from, or True for ``out_dir``'s
                ``checkpoint_last.npz``.

        Returns:
            ``self.history``, one dict per epoch.

        Raises:
            TrainingDiverged: the loss became NaN/inf or ran away (with ``checks``).
        """
        if not isinstance(epochs, numbers.Integral) or epochs < 0:
            raise ValueError(f"fit: epochs must be an int >= 0, got {epochs!r}")
        if self.optimizer is None:
            raise ValueError("fit: this Trainer has no optimizer (optimizer=None only evaluates)")
        if resume is not None and resume is not False:
            self.load_checkpoint(self._resume_path(resume))
        if self.out_dir is not None:
            os.makedirs(self.out_dir, exist_ok=True)
            _files.write_json(os.path.join(self.out_dir, "config.json"), self.config)
        if self.epoch >= epochs:
            self._log.info(f"fit: {self.epoch} epoch(s) already done, nothing to train (epochs "
                           f"counts the run's total; pass epochs={self.epoch + 1} for one more)")
            return self.history
        monitor = self.monitor
        if val_loader is None and monitor.startswith("val_"):
            monitor = "train_" + monitor[4:]  # no validation data: judge the training metric
        self._active_monitor = monitor
        if self._tb_dir is not None:
            self._tb = _tensorboard.SummaryWriter(self._tb_dir)
        try:
            for epoch in range(self.epoch + 1, epochs + 1):
                self._run_epoch(train_loader, val_loader, epoch, epochs, monitor)
        except TrainingDiverged as e:
            self._log.warning(str(e))
            raise
        finally:
            if self._tb is not None:
                self._tb.close()
                self._tb = None
            if self.out_dir is not None and self.history:
                _files.plot_history(self.out_dir, self.history, [k for k, _, _ in self.metrics])
        return self.history

    def evaluate(self, loader) -> dict[str, float]:
        """Mean loss and metrics over ``loader`` in eval mode without gradients.

        The model's previous train/eval mode is restored afterwards.

        Returns:
            ``{'loss': ..., 'accuracy': ..., <other metric names>: ...}``, sample-weighted means.

        Raises:
            ValueError: the loader yields no batches, or a batch that is not an (x, y) pair.
        """
        was_training = getattr(self.model, "training", None)
        if hasattr(self.model, "eval"):
            self.model.eval()
        loss_m = AverageMeter()
        meters = [AverageMeter() for _ in self.metrics]
        batches = iter(loader)
        averaged = self.ema.average_parameters() if self.ema is not None else None
        if averaged is not None:
            averaged.__enter__()  # the Polyak-averaged weights, until `finally` restores them
        try:
            with no_grad():
                for batch in batches:
                    x, y = _batch(batch, "evaluate")
                    if self._shards is not None:
                        x, y = self._shards.slice(x, y)
                    n = int(x.shape[0])
                    if n == 0:  # this rank's slice of a batch smaller than the world
                        continue
                    out = self.model(x)
                    loss_m.update(float(self.loss_fn(out, y).item()), n)
                    for m, (_, _, fn) in zip(meters, self.metrics):
                        m.update(fn(out, y), n)
            if self._shards is not None:  # sample-weighted means over every rank's slices
                self._shards.combine([loss_m, *meters])
        finally:
            _close(batches)
            if averaged is not None:
                averaged.__exit__(None, None, None)
            if was_training is not None and hasattr(self.model, "train"):
                self.model.train(was_training)
        if loss_m.count == 0:
            raise ValueError("evaluate: the loader yielded no batches")
        return {"loss": loss_m.avg, **{name: m.avg for m, (_, name, _) in
                                      zip(meters, self.metrics)}}

    def state_dict(self) -> dict:
        """Everything a checkpoint holds (see the module docstring)."""
        return {
            "format": CHECKPOINT_FORMAT,
            "epoch": self.epoch,
            "step": self.step,
            "model": self._state_model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": None if self.scheduler is None else self.scheduler.state_dict(),
            "config": self.config,
            "history": self.history,
            "best": {"monitor": self._active_monitor, "value": self.best, "epoch": self.best_epoch},
            "checks": self._divergence.state_dict(),
            "rng_state": backend.get_rng_state(),
            **({"ema": self.ema.state_dict()} if self.ema is not None else {}),
        }

    def save_checkpoint(self, path: str | os.PathLike) -> None:
        """Write :meth:`state_dict` to ``path`` atomically (``striate.train.save``)."""
        save(self.state_dict(), path)

    def load_checkpoint(self, path: str | os.PathLike) -> dict:
        """Restore model, optimizer, scheduler, history, counters and the global RNG state.

        Returns:
            the loaded checkpoint dict.

        Raises:
            FileNotFoundError / CheckpointError: no readable checkpoint at ``path``.
            ValueError: a file that is a striate archive but not a Trainer checkpoint.
        """
        ckpt = load(path)
        if not isinstance(ckpt, dict) or ckpt.get("format") != CHECKPOINT_FORMAT:
            raise ValueError(f"load_checkpoint: {os.fspath(path)!r} is not a Trainer checkpoint "
                             f"(expected format {CHECKPOINT_FORMAT!r})")
        self._state_model.load_state_dict(ckpt["model"])
        self.optimizer.load_state_dict(ckpt["optimizer"])
        if self.scheduler is not None and ckpt["scheduler"] is not None:
            self.scheduler.load_state_dict(ckpt["scheduler"])
        elif (self.scheduler is None) != (ckpt["scheduler"] is None):
            has = "has" if ckpt["scheduler"] is not None else "has no"
            self._warn(f"load_checkpoint: {os.fspath(path)!r} {has} scheduler state but the "
                       f"trainer {'has none' if self.scheduler is None else 'has one'}; the "
                       "schedule will not continue exactly", stacklevel=3)
        self.epoch, self.step = int(ckpt["epoch"]), int(ckpt["step"])
        self.history = list(ckpt["history"])
        best = ckpt["best"]
        self.best, self.best_epoch = best["value"], best["epoch"]
        self._divergence.load_state_dict(ckpt["checks"])
        backend.set_rng_state(ckpt["rng_state"])
        if self.ema is not None and ckpt.get("ema") is not None:
            self.ema.load_state_dict(ckpt["ema"])
        self._log.info(f"resumed from {os.fspath(path)} after epoch {self.epoch}")
        return ckpt

    # ---- the loop -----------------------------------------------------------------------------

    def _run_epoch(self, train_loader, val_loader, epoch: int, epochs: int, monitor: str) -> None:
        t0 = time.perf_counter()
        train = self._train_epoch(train_loader, epoch, epochs)
        record: dict = {"epoch": epoch, "train_loss": train["loss"]}
        record.update({f"train_{k}": train[k] for k, _, _ in self.metrics})
        if val_loader is not None:
            val = self.evaluate(val_loader)
            record["val_loss"] = val["loss"]
            record.update({f"val_{k}": val[name] for k, name, _ in self.metrics})
        record["lr"] = train["lr"]
        record["time"] = time.perf_counter() - t0
        if train["ratios"] is not None:
            median, line, flagged = update_ratio_report(train["ratios"], epoch,
                                                        self._judged_params(), self._annealed())
            record["update_ratio"] = median
            record["update_ratios"] = train["ratios"]
            (self._log.warning if flagged else self._log.info)(line)
        if self.scheduler is not None and self.scheduler_interval == "epoch":
            self._step_scheduler(record)
        self.history.append(record)
        if self._tb is not None:
            _tensorboard.log_epoch(self._tb, record)
        self.epoch = epoch
        value = record.get(monitor, math.nan)
        better = (value < self.best if monitor.endswith("loss") else value > self.best) \
            if self.best is not None else math.isfinite(value)
        if better:
            self.best, self.best_epoch = value, epoch
        self._log.info(self._summary(record, epochs, train["samples_per_s"], better))
        if self.out_dir is not None:
            _files.write_csv(os.path.join(self.out_dir, "metrics.csv"), self.history)
            ckpt = self.state_dict()
            save(ckpt, os.path.join(self.out_dir, LAST))
            if better:
                save(ckpt, os.path.join(self.out_dir, BEST))
            if self.keep_snapshots:
                save(ckpt, os.path.join(self.out_dir, f"checkpoint_epoch{epoch}.npz"))

    def _train_epoch(self, loader, epoch: int, epochs: int) -> dict:
        if hasattr(self.model, "train"):
            self.model.train()
            keep_frozen_norms_in_eval(self.model)  # frozen BatchNorms keep their statistics
        try:
            n_batches = len(loader)
        except TypeError:
            n_batches = None
        batches = iter(loader)  # closed in `finally`: an early stop also ends a prefetch thread
        bar = self._bar(batches, n_batches, f"epoch {epoch}/{epochs}")
        loss_m = AverageMeter()
        meters = [AverageMeter() for _ in self.metrics]
        ratios = None
        lr = self._lr()
        samples, t0 = 0, time.perf_counter()
        params = [p for g in self.optimizer.param_groups for p in g["params"]]
        try:
            for i, batch in enumerate(bar):
                x, y = _batch(batch, "fit")
                if self._shards is not None:
                    x, y = self._shards.slice(x, y)
                with self._shards.scope() if self._shards else contextlib.nullcontext():
                    out = self.model(x)
                n = int(x.shape[0])
                loss = self.loss_fn(out, y) if n else None
                value = float(loss.item()) if n else 0.0
                values = [fn(out, y) if n else 0.0 for _, _, fn in self.metrics]
                if self._shards is not None:  # every rank sees the global batch's numbers
                    loss, n, value, values = self._shards.step(out, loss, n, value, values)
                lr = self._lr()
                if self.checks:
                    self._check_loss(value, out, epoch, i, lr)
                self.optimizer.zero_grad()
                loss.backward()
                if self.grad_clip is not None:
                    from ..optim import clip_grad_norm_

                    clip_grad_norm_(params, self.grad_clip)
                # the update/weight ratio of the epoch's last step (the first without a len)
                measure = self.checks and i == (n_batches - 1 if n_batches else 0)
                before = snapshot(self._named_params()) if measure else None
                self.optimizer.step()
                if before is not None:
                    ratios = update_ratios(before)
                if self.ema is not None:
                    self.ema.update()
                if self.scheduler is not None and self.scheduler_interval == "step":
                    self.scheduler.step()
                self.step += 1
                samples += n
                loss_m.update(value, n)
                for m, v in zip(meters, values):
                    m.update(v, n)
                if bar is not batches:
                    self._postfix(bar, loss_m, meters, lr, samples / (time.perf_counter() - t0))
        finally:
            if bar is not batches:
                bar.close()
            _close(batches)
        if loss_m.count == 0:
            raise ValueError("fit: the training loader yielded no batches")
        out = {"loss": loss_m.avg, "lr": lr, "ratios": ratios,
               "samples_per_s": samples / max(time.perf_counter() - t0, 1e-9)}
        out.update({k: m.avg for m, (k, _, _) in zip(meters, self.metrics)})
        return out

    # ---- helpers ------------------------------------------------------------------------------

    def _check_loss(self, value: float, out, epoch: int, step: int, lr: float) -> None:
        first = self._divergence.initial is None
        self._divergence.update(value, epoch, step, lr)  # raises TrainingDiverged
        if first and _is_cross_entropy(self.loss_fn) and len(out.shape) >= 2:
            msg = initial_loss_message(value, int(out.shape[1]))
            if msg is not None:
                self._warn(msg)
            else:
                self._log.info(f"initial loss {value:.4g} ~ log({out.shape[1]}) = "
                               f"{math.log(out.shape[1]):.4g}, as expected at initialisation")

    def _warn(self, msg: str, stacklevel: int = 6) -> None:
        # 6: _warn <- _check_loss <- _train_epoch <- _run_epoch <- fit <- the caller of fit
        self._log.warning(msg)
        warnings.warn(msg, UserWarning, stacklevel=stacklevel)

    def _named_params(self) -> list:
        if self._named is None:
            ids = {id(p) for g in self.optimizer.param_groups for p in g["params"]}
            named = []
            if hasattr(self.model, "named_parameters"):
                named = [(n, p) for n, p in self.model.named_parameters() if id(p) in ids]
            if len(named) != len(ids):  # parameters the model does not name: number them
                named = [(f"group{gi}.param{i}", p) for gi, g in
                         enumerate(self.optimizer.param_groups) for i, p in enumerate(g["params"])]
            self._named = named
        return self._named

    def _judged_params(self) -> set[str]:
        """The parameters whose update ratio is judged: weights (ndim >= 2) when there are any."""
        named = self._named_params()
        weights = {n for n, p in named if len(p.shape) >= 2}
        return weights or {n for n, _ in named}

    def _annealed(self) -> bool:
        """Whether a schedule has taken the learning rate below a tenth of where it started."""
        if self.scheduler is None:
            return False
        g = self.optimizer.param_groups[0]
        return float(g["lr"]) < 0.1 * float(g.get("initial_lr", g["lr"]))

    def _lr(self) -> float:
        return float(self.optimizer.param_groups[0]["lr"])

    def _step_scheduler(self, record: dict) -> None:
        from ..optim.lr_scheduler import ReduceLROnPlateau

        if isinstance(self.scheduler, ReduceLROnPlateau):
            self.scheduler.step(record.get("val_loss", record["train_loss"]))
        else:
            self.scheduler.step()

    def _resume_path(self, resume) -> str:
        if resume is True or resume == "last":
            if self.out_dir is None:
                raise ValueError("fit: resume=True needs out_dir (or pass a checkpoint path)")
            return os.path.join(self.out_dir, LAST)
        return os.fspath(resume)

    def _bar(self, loader, total, desc: str):
        if not self.progress:
            return loader
        try:
            from tqdm.auto import tqdm
        except ImportError:  # pragma: no cover - tqdm is a dependency
            return loader
        return tqdm(loader, total=total, desc=desc, leave=False, file=sys.stderr,
                    dynamic_ncols=True, unit="batch")

    def _postfix(self, bar, loss_m, meters, lr: float, rate: float) -> None:
        post = {"loss": f"{loss_m.avg:.4f}"}
        post.update({k: f"{m.avg:.4f}" for m, (k, _, _) in zip(meters, self.metrics)})
        post["lr"] = f"{lr:.2e}"
        post["samples/s"] = f"{rate:,.0f}"
        bar.set_postfix(post, refresh=False)

    def _summary(self, record: dict, epochs: int, rate: float, better: bool) -> str:
        parts = [f"epoch {record['epoch']}/{epochs}"]
        for k, v in record.items():
            if k.startswith(("train_", "val_")) and isinstance(v, float):
                parts.append(f"{k} {v:.4f}")
        parts.append(f"lr {record['lr']:.2e}")
        parts.append(f"{rate:,.0f} samples/s")
        parts.append(f"{record['time']:.1f}s")
        if better:
            parts.append(f"(best {self._active_monitor})")
        return "  ".join(parts)

    def _default_config(self) -> dict:
        opt = self.optimizer
        groups = [] if opt is None else opt.param_groups
        return {
            "model": type(self.model).__name__,
            "optimizer": type(opt).__name__ if opt is not None else None,
            "optimizer_options": {k: v for k, v in groups[0].items()
                                  if k != "params" and isinstance(v, (int, float, str, bool,
                                                                      tuple, list, type(None)))}
            if groups else {},
            "loss_fn": getattr(self.loss_fn, "__name__", type(self.loss_fn).__name__),
            "scheduler": None if self.scheduler is None else type(self.scheduler).__name__,
            "grad_clip": self.grad_clip,
            "monitor": self.monitor,
        }
