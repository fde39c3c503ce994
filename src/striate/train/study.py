"""Hyper-parameter search shared through Optuna: many ``striate search`` processes, on one
machine or many, work through one study kept in a relational database (SQLite for one machine,
PostgreSQL for many).

The notes' search maps onto Optuna's pieces:

- the ranges: :class:`~striate.train.search.LogUniform` becomes ``suggest_float(log=True)``,
  ``Uniform`` a linear ``suggest_float``, ``Choice`` ``suggest_categorical``;
- coarse to fine: the first trials of the study are sampled at random over the whole range
  (coarse); after them the TPE sampler concentrates on the regions where the good trials are
  (fine), reading every worker's trials from the database;
- abandoning a trial whose loss exceeds 3x its initial loss, and epoch-wise early stopping:
  :func:`notes_pruner`, an Optuna pruner; each epoch reports its validation accuracy, and a trial
  is pruned when its training loss ran away, or when its accuracy is below the median of the
  other trials at the same epoch (Optuna's ``MedianPruner``).

A worker killed in the middle of a trial stops sending the trial's heartbeat; once its grace
period has passed, the next worker to start a trial (or ``--report``) marks it failed, so the
study never waits for it. Optuna and psycopg are in the ``search`` extra.
"""

from __future__ import annotations

import math
import numbers
import os
import random
import time
import warnings
from collections.abc import Callable

from .search import Choice, LogUniform, Uniform
from .search_trials import TrialData

__all__ = ["notes_pruner", "open_study", "optuna_search", "study_report", "suggest"]

EXTRA_HINT = 'pip install "striate[search]"'
HEARTBEAT_S = 2  # how often a running trial says it is alive
GRACE_S = 10  # a trial silent this long is marked failed


def _optuna():
    try:
        import optuna
    except ImportError as e:
        raise ImportError(f"--storage needs Optuna (and psycopg for PostgreSQL): {EXTRA_HINT} "
                          f"({e})") from None
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    # heartbeats and fail_stale_trials are marked experimental; they are what makes a dead
    # worker's trial fail instead of hanging, so they are used on purpose
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    return optuna


def open_study(storage: str, study_name: str, seed: int = 0, startup_trials: int = 10,
               create: bool = True):
    """The study ``study_name`` in ``storage`` (a database URL: ``sqlite:///search.db``,
    ``postgresql+psycopg://user@host:5432/db``), created on first use, maximising validation
    accuracy, with heartbeats so that a dead worker's trial is marked failed.

    Raises:
        ValueError: a URL that is not a database URL, or (``create=False``) no such study.
    """
    optuna = _optuna()
    if not isinstance(storage, str) or "://" not in storage:
        raise ValueError(f"--storage: expected a database URL such as sqlite:///search.db or "
                         f"postgresql+psycopg://user@host/db, got {storage!r}")
    for attempt in range(5):
        try:
            rdb = optuna.storages.RDBStorage(storage, heartbeat_interval=HEARTBEAT_S,
                                             grace_period=GRACE_S)
            break
        except Exception as e:  # SQLAlchemy's errors: a bad URL, a server that is not there
            text = " ".join(str(e).split())
            # workers started together on a new database race to create Optuna's tables; the
            # loser sees "already exists" and finds the tables there when it tries again
            if attempt < 4 and ("already exists" in text or "UniqueViolation" in text):
                time.sleep(0.5 + random.random())
                continue
            raise ValueError(f"--storage {storage}: cannot open the database: "
                             f"{text[:300]}") from None
    sampler = optuna.samplers.TPESampler(seed=seed, n_startup_trials=startup_trials)
    if not create:
        names = [s.study_name for s in optuna.get_all_study_summaries(rdb)]
        if study_name not in names:
            raise ValueError(f"--study: no study {study_name!r} in {storage} (it has: "
                             f"{', '.join(names) or 'none'})")
    return optuna.create_study(study_name=study_name, storage=rdb, sampler=sampler,
                               pruner=notes_pruner(), direction="maximize", load_if_exists=True)


def suggest(trial, space: dict) -> dict:
    """The config values ``trial`` samples from a space of the notes' ranges."""
    out = {}
    for name, r in space.items():
        if isinstance(r, LogUniform):
            out[name] = trial.suggest_float(name, float(r.low), float(r.high), log=True)
        elif isinstance(r, Uniform):
            out[name] = trial.suggest_float(name, float(r.low), float(r.high))
        elif isinstance(r, Choice):
            out[name] = trial.suggest_categorical(name, list(r.values))
        else:  # a fixed value
            out[name] = r
    return out


def notes_pruner(factor: float = 3.0, startup_trials: int = 5, warmup_epochs: int = 1):
    """The notes' two ways of giving up on a trial, as an Optuna pruner.

    A trial is pruned when the training loss it reported (user attribute ``loss``) exceeds
    ``factor`` times its first loss (``initial_loss``), or is not finite: the learning rate is
    too high and the run will not come back; or, from ``warmup_epochs`` on, when Optuna's
    ``MedianPruner`` finds its validation accuracy below the median of the earlier trials at the
    same epoch (epoch-wise early stopping).
    """
    optuna = _optuna()

    class NotesPruner(optuna.pruners.BasePruner):
        def __init__(self):
            self.factor = float(factor)
            self.median = optuna.pruners.MedianPruner(n_startup_trials=startup_trials,
                                                      n_warmup_steps=warmup_epochs)

        def prune(self, study, trial) -> bool:
            first, loss = trial.user_attrs.get("initial_loss"), trial.user_attrs.get("loss")
            if first is not None and loss is not None and (
                    not math.isfinite(loss) or loss > self.factor * first):
                return True
            return self.median.prune(study, trial)

    return NotesPruner()


def optuna_search(space: dict, data, base_config: dict, trials: int, storage: str,
                  study_name: str, seed: int = 0, trial_fn: Callable | None = None,
                  log: Callable | None = None, startup_trials: int = 10):
    """Run ``trials`` trials of the shared study (other processes may run theirs at the same
    time) and return the study.

    Each trial trains ``base_config`` with the values the sampler suggests (and a seed of its
    own, ``seed`` + the study's trial number), reports the validation accuracy of every epoch,
    and ends as COMPLETE (value: the last validation accuracy), PRUNED (abandoned by
    :func:`notes_pruner`) or FAIL (an error, or a worker that died).

    Args:
        space: ``{name: LogUniform | Uniform | Choice | fixed value}``.
        data: a ``DatasetSplits`` or ``TrialData`` (train and val only).
        base_config: the fixed part of every trial's config.
        trial_fn: ``fn(config, data, on_epoch=...)`` returning a row with ``val_acc``
            (default: :func:`~striate.train.search_trials.run_trial`); one without
            ``on_epoch`` support (the classic classifiers) is called as ``fn(config, data)``.
    """
    optuna = _optuna()
    if isinstance(trials, bool) or not isinstance(trials, numbers.Integral) or trials < 1:
        raise ValueError(f"optuna_search: trials must be a positive int, got {trials!r}")
    from .search_trials import run_trial

    trial_fn = trial_fn or run_trial
    data = TrialData.of(data)
    study = open_study(storage, study_name, seed=seed, startup_trials=startup_trials)

    def objective(trial):
        config = {**base_config, **suggest(trial, space), "seed": seed + trial.number}
        trial.set_user_attr("seed", config["seed"])
        trial.set_user_attr("pid", os.getpid())

        def on_epoch(epoch: int, record: dict) -> None:
            loss = float(record["train_loss"])
            if "initial_loss" not in trial.user_attrs:
                trial.set_user_attr("initial_loss", float(record.get("initial_loss", loss)))
            trial.set_user_attr("loss", loss)
            trial.report(float(record.get("val_acc", math.nan)), epoch)
            if trial.should_prune():
                raise optuna.TrialPruned(f"pruned at epoch {epoch}")

        try:
            row = trial_fn(config, data, on_epoch=on_epoch)
        except TypeError as e:
            if "on_epoch" not in str(e):
                raise
            row = trial_fn(config, data)
        if row.get("status", "ok") != "ok" or not math.isfinite(row["val_acc"]):
            raise optuna.TrialPruned("the loss ran away (3x the initial loss)")
        return float(row["val_acc"])

    def report(study, frozen):
        if log is None:
            return
        shown = ", ".join(f"{k}={_fmt(v)}" for k, v in frozen.params.items())
        value = "" if frozen.value is None else f" val_acc {frozen.value:.4f}"
        log(f"trial {frozen.number}: {frozen.state.name.lower()}{value} ({shown})")

    study.optimize(objective, n_trials=int(trials), callbacks=[report],
                   catch=(ValueError, RuntimeError, FloatingPointError))
    return study


def study_report(study, out_dir=None, top: int = 5) -> list[str]:
    """Lines describing ``study`` (counts per state, the best trials) and, with ``out_dir``,
    ``study.csv`` and ``study.png`` (validation accuracy over the first two parameters, log axes
    for log-sampled ones) written there. Stale trials of dead workers are marked failed first."""
    optuna = _optuna()
    optuna.storages.fail_stale_trials(study)
    trials = study.get_trials(deepcopy=False)
    states = {}
    for t in trials:
        states[t.state.name.lower()] = states.get(t.state.name.lower(), 0) + 1
    lines = [f"study {study.study_name}: {len(trials)} trials ("
             + ", ".join(f"{n} {s}" for s, n in sorted(states.items())) + ")"]
    done = sorted((t for t in trials if t.state == optuna.trial.TrialState.COMPLETE),
                  key=lambda t: -t.value)
    for t in done[:top]:
        shown = ", ".join(f"{k}={_fmt(v)}" for k, v in t.params.items())
        lines.append(f"  trial {t.number}: val_acc {t.value:.4f}  {shown}")
    if out_dir is not None:
        _write_table(trials, os.path.join(os.fspath(out_dir), "study.csv"))
        if _plot(trials, os.path.join(os.fspath(out_dir), "study.png")):
            lines.append(f"  scatter plot: {os.path.join(os.fspath(out_dir), 'study.png')}")
    return lines


def _write_table(trials, path: str) -> None:
    import csv
    import io

    from .history import write_text_atomic

    params = list(dict.fromkeys(k for t in trials for k in t.params))
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["trial", "state", "val_acc", *params, "seed", "epochs_reported"])
    for t in trials:
        w.writerow([t.number, t.state.name.lower(), "" if t.value is None else f"{t.value:.6g}",
                    *(_fmt(t.params[p]) if p in t.params else "" for p in params),
                    t.user_attrs.get("seed", ""), len(t.intermediate_values)])
    write_text_atomic(path, buf.getvalue())


def _plot(trials, path: str) -> bool:
    from .history import new_figure

    params = list(dict.fromkeys(k for t in trials for k in t.params
                                if isinstance(t.params[k], float)))
    if len(params) < 2:
        return False
    fig = new_figure()
    if fig is None:
        return False
    x, y = params[:2]
    ax = fig.add_subplot(1, 1, 1)
    ok = [t for t in trials if t.value is not None and x in t.params and y in t.params]
    bad = [t for t in trials if t.value is None and x in t.params and y in t.params]
    if ok:
        sc = ax.scatter([t.params[x] for t in ok], [t.params[y] for t in ok],
                        c=[t.value for t in ok], cmap="viridis", s=40, edgecolors="k",
                        linewidths=0.3)
        fig.colorbar(sc, ax=ax, label="validation accuracy")
        best = max(ok, key=lambda t: t.value)
        ax.scatter([best.params[x]], [best.params[y]], marker="*", s=250, c="red",
                   edgecolors="k", label=f"best {best.value:.3f}")
    if bad:
        ax.scatter([t.params[x] for t in bad], [t.params[y] for t in bad], marker="x", c="0.5",
                   label="pruned / failed")
    for name, set_scale in ((x, ax.set_xscale), (y, ax.set_yscale)):
        dists = [t.distributions.get(name) for t in trials if name in t.distributions]
        if dists and getattr(dists[0], "log", False):
            set_scale("log")
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    ax.set_title(f"validation accuracy of {len(trials)} trials")
    ax.grid(True, alpha=0.3, which="both")
    if ok or bad:
        ax.legend(loc="best", fontsize="small")
    fig.tight_layout()
    fig.savefig(path, format="png")
    return True


def _fmt(v) -> str:
    return f"{v:.3g}" if isinstance(v, float) else str(v)
