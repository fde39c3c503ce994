"""Hyper-parameter search, the notes' way.

- Train on the training split, choose on the validation split, and touch the test split once, at
  the very end (:meth:`SearchResult.evaluate_test` refuses a second look).
- k-fold cross-validation (:func:`kfold_indices`, :func:`cross_validate`) when data is scarce.
- Random search with log-uniform sampling, ``10 ** uniform(log10 lo, log10 hi)``, for scale
  parameters such as learning rate and regularisation strength; a grid for comparison.
- Coarse to fine: each stage narrows the ranges around the best trials of the one before.
- Early abandonment: a trial whose loss exceeds 3x its initial loss stops at once.
- Trials run in worker processes (``workers=N``; ``workers=1`` runs them inline), each seeded
  from the search seed and its index, so the table does not depend on the number of workers.

A trial is a config dict; :func:`run_trial` trains what it names — ``kind="model"``, any model
of ``striate.models`` trained by the :class:`~striate.train.Trainer` — and returns one row of the
table; ``trial_fn=striate.classic.run_trial`` adds ``kind="linear-svm"`` and ``"softmax"``, the
classic classifiers of ``striate.classic``. A custom top-level function
``trial_fn(config, data, evaluate_test=False) -> {"val_acc": ..., ...}`` (with ``"test_acc"``
when ``evaluate_test``) can replace it. Workers are started with "spawn": a script that calls
``search(..., workers=N)`` needs the usual ``if __name__ == "__main__":`` guard. The results
are written as a CSV table and a scatter plot of validation accuracy over the two main
hyper-parameters on log axes (``SearchResult.to_csv``, ``.plot``).

Example:
    >>> from striate.classic import run_trial
    >>> from striate.data import digits
    >>> space = {"lr": LogUniform(1e-3, 1e-1), "reg": LogUniform(1e-5, 1e-2)}
    >>> result = search(space, digits(), {"kind": "softmax", "num_iters": 200},
    ...                 trials=4, stages=2, trial_fn=run_trial)               # doctest: +SKIP
    >>> result.best["val_acc"]                                                # doctest: +SKIP
"""

from __future__ import annotations

import functools
import math
import numbers
import os
import time
from collections.abc import Callable

import numpy as np

from .search_space import (
    Choice,
    LogUniform,
    Uniform,
    grid_configs,
    kfold_indices,
    load_space,
    narrow,
    parse_range,
    sample_configs,
)
from .search_trials import TrialData, run_trial

__all__ = [
    "Choice",
    "LogUniform",
    "SearchResult",
    "TrialData",
    "Uniform",
    "cross_validate",
    "grid_configs",
    "kfold_indices",
    "load_space",
    "narrow",
    "parse_range",
    "run_trial",
    "sample_configs",
    "search",
]

COLUMNS = ["trial", "stage", "status", "val_acc", "train_acc", "initial_loss", "final_loss",
           "seed", "seconds"]

_worker_data: TrialData | None = None


def _init_worker(data: TrialData) -> None:
    global _worker_data
    _worker_data = data


def _call_in_worker(trial_fn: Callable, config: dict) -> dict:
    return _timed(trial_fn, config, _worker_data)


def _timed(trial_fn: Callable, config: dict, data: TrialData) -> dict:
    t0 = time.perf_counter()
    row = dict(trial_fn(config, data))
    if "val_acc" not in row:
        raise ValueError(f"search: the trial function must return a dict with 'val_acc', got "
                         f"keys {sorted(row)}")
    row.setdefault("status", "ok")
    row["seconds"] = round(time.perf_counter() - t0, 3)
    return row


def _run_all(trial_fn, configs: list[dict], data: TrialData, workers: int) -> list[dict]:
    """Run the trials in order (inline) or in a spawn-started process pool; rows in order."""
    if workers == 1 or len(configs) <= 1:
        return [_timed(trial_fn, c, data) for c in configs]
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # one BLAS thread per worker when the workers fill the cores; children inherit os.environ
    threads = str(max(1, (os.cpu_count() or 1) // workers))
    keys = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")
    saved = {k: os.environ.get(k) for k in keys}
    os.environ.update({k: threads for k in keys})
    try:
        with ProcessPoolExecutor(max_workers=min(workers, len(configs)),
                                 mp_context=multiprocessing.get_context("spawn"),
                                 initializer=_init_worker, initargs=(data,)) as pool:
            return list(pool.map(_call_in_worker, [trial_fn] * len(configs), configs))
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


class SearchResult:
    """The table of a search: ``rows`` (one dict per trial, in trial order), the ``space`` of
    every stage, and the ``best`` row (highest validation accuracy among finished trials;
    the earlier trial wins a tie)."""

    def __init__(self, rows: list[dict], spaces: list[dict], base_config: dict,
                 params: list[str], trial_fn: Callable):
        self.rows, self.spaces, self.base_config = rows, spaces, base_config
        self.params = params
        self.trial_fn = trial_fn
        self.test_acc: float | None = None

    @property
    def best(self) -> dict | None:
        ok = [r for r in self.rows if r["status"] == "ok" and math.isfinite(r["val_acc"])]
        return max(ok, key=lambda r: (r["val_acc"], -r["trial"])) if ok else None

    @property
    def best_config(self) -> dict:
        """The full config (base config + sampled values + seed) of the best trial."""
        best = self.best
        if best is None:
            raise RuntimeError("SearchResult: no trial finished, so there is no best config "
                               "(all were abandoned or failed; lower the learning rates)")
        return {**self.base_config, **{p: best[p] for p in self.params}, "seed": best["seed"]}

    def evaluate_test(self, data, trial_fn: Callable | None = None) -> float:
        """Retrain the best config (same seed, so the same model) and measure it on the test
        split: the one look at the test set the notes allow. A second call raises.

        Args:
            data: the ``DatasetSplits`` (or ``TrialData`` with ``X_test``/``y_test``) searched on.
        """
        if self.test_acc is not None:
            raise RuntimeError(f"evaluate_test: the test set was already used once (accuracy "
                               f"{self.test_acc:.4f}); choosing again after looking at it would "
                               "make it a validation set")
        data = TrialData.of(data, with_test=True)
        if data.X_test is None:
            raise ValueError("evaluate_test: data has no test split")
        row = (trial_fn or self.trial_fn)(self.best_config, data, evaluate_test=True)
        self.test_acc = float(row["test_acc"])
        return self.test_acc

    def columns(self) -> list[str]:
        cols = COLUMNS[:3] + self.params + COLUMNS[3:]
        extra = [k for r in self.rows for k in r if k not in cols]
        return cols + list(dict.fromkeys(extra))

    def to_csv(self, path) -> None:
        """The table, one row per trial, sampled parameters after trial/stage/status."""
        import csv
        import io

        from .history import write_text_atomic

        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=self.columns(), extrasaction="ignore",
                           lineterminator="\n")
        w.writeheader()
        for r in self.rows:
            w.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in r.items()})
        write_text_atomic(os.fspath(path), buf.getvalue())

    def plot(self, path, x: str | None = None, y: str | None = None) -> bool:
        """Scatter plot of validation accuracy (colour) over two sampled parameters (the first
        two by default), log axes for log-sampled ones; abandoned trials as grey crosses, the
        best as a red star. Returns False (writing nothing) without matplotlib or with fewer
        than two sampled parameters."""
        ranged = [p for p in self.params if isinstance(self.spaces[0][p], (LogUniform, Uniform))]
        numeric = [p for p in self.params if p not in ranged and isinstance(
            self.spaces[0][p], Choice) and all(isinstance(r.get(p), numbers.Real)
                                               for r in self.rows)]
        names = ranged + numeric
        x = x or (names[0] if names else None)
        y = y or (names[1] if len(names) > 1 else None)
        if x is None or y is None:
            return False
        from .history import new_figure

        fig = new_figure()
        if fig is None:
            return False
        ax = fig.add_subplot(1, 1, 1)
        ok = [r for r in self.rows if r["status"] == "ok"]
        bad = [r for r in self.rows if r["status"] != "ok"]
        if ok:
            accs = [r["val_acc"] for r in ok]
            markers = "osD^vP"
            stages = sorted({r["stage"] for r in ok})
            for st in stages:  # one marker per stage, one colour scale for all
                rs = [r for r in ok if r["stage"] == st]
                sc = ax.scatter([r[x] for r in rs], [r[y] for r in rs],
                                c=[r["val_acc"] for r in rs], cmap="viridis", s=40,
                                vmin=min(accs), vmax=max(accs), edgecolors="k", linewidths=0.3,
                                marker=markers[(st - 1) % len(markers)],
                                label=f"stage {st}" if len(stages) > 1 else None)
            fig.colorbar(sc, ax=ax, label="validation accuracy")
        if bad:
            ax.scatter([r[x] for r in bad], [r[y] for r in bad], marker="x", c="0.5",
                       label="abandoned / failed")
        best = self.best
        if best is not None:
            ax.scatter([best[x]], [best[y]], marker="*", s=250, c="red", edgecolors="k",
                       label=f"best {best['val_acc']:.3f}")
        for name, set_scale in ((x, ax.set_xscale), (y, ax.set_yscale)):
            if isinstance(self.spaces[0].get(name), LogUniform):
                set_scale("log")
        ax.set_xlabel(x)
        ax.set_ylabel(y)
        ax.set_title(f"validation accuracy of {len(self.rows)} trials")
        ax.grid(True, alpha=0.3, which="both")
        ax.legend(loc="best", fontsize="small")
        fig.tight_layout()
        fig.savefig(os.fspath(path), format="png")
        return True

    def __repr__(self) -> str:
        best = self.best
        shown = "none" if best is None else f"val_acc {best['val_acc']:.4f}"
        return f"SearchResult({len(self.rows)} trials, {len(self.spaces)} stage(s), best {shown})"


def search(space: dict, data, base_config: dict | None = None, trials: int = 20,
           stages: int = 1, method: str = "random", workers: int = 1, seed: int = 0,
           keep: int | None = None, trial_fn: Callable | None = None,
           folds: int | None = None, log: Callable | None = None) -> SearchResult:
    """Search hyper-parameters in stages from coarse to fine.

    Args:
        space: ``{name: LogUniform | Uniform | Choice | fixed value}`` (see ``parse_range``).
        data: a ``DatasetSplits`` (train and val are used; test only by ``evaluate_test``)
            or a ``TrialData``.
        base_config: the fixed part of every trial's config (``kind``, ``model``, ``epochs``,
            ``num_iters``, ``optimizer``, ``batch_size``, ``factor``, ...).
        trials: trials per stage (for ``method="grid"``: about this many grid points).
        stages: 1 is a plain search; each further stage narrows the ranges around the best
            ``keep`` trials of the previous one (default: the best quarter, at least 2).
        method: ``"random"`` (log-uniform sampling) or ``"grid"``.
        workers: processes running trials at once (1: inline).
        seed: fixes the sampled configs and every trial's own seed (``seed + trial index``).
        trial_fn: a top-level function ``(config, data) -> dict`` with ``val_acc`` (default
            :func:`run_trial`); it must be importable by name for ``workers > 1``.
        folds: judge each config by ``folds``-fold cross-validation on the training and
            validation data pooled (:func:`cross_validate`) instead of the one validation
            split; ``val_acc`` is then the mean over the folds and ``val_acc_std`` its spread.
        log: a print-like callable for one line per stage (None: silent).
    """
    if method not in ("random", "grid"):
        raise ValueError(f"search: method must be 'random' or 'grid', got {method!r}")
    for name, v in (("trials", trials), ("stages", stages), ("workers", workers)):
        if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < 1:
            raise ValueError(f"search: {name} must be a positive int, got {v!r}")
    if not isinstance(space, dict) or not space:
        raise ValueError(f"search: space must be a non-empty dict of ranges, got {space!r}")
    trial_fn = trial_fn or run_trial
    final_fn = trial_fn
    base = dict(base_config or {})
    data = TrialData.of(data)
    if folds is not None:
        kfold_indices(len(data.y_train) + len(data.y_val), folds)  # a bad k fails here
        trial_fn = functools.partial(_cross_validated, trial_fn=trial_fn, k=folds, seed=seed)
    params = list(space)
    rows: list[dict] = []
    spaces = [dict(space)]
    for stage in range(stages):
        current = spaces[-1]
        rng = np.random.default_rng([seed, stage])
        sampled = (sample_configs(current, trials, rng) if method == "random"
                   else grid_configs(current, trials))
        configs = []
        for values in sampled:
            configs.append({**base, **values, "seed": seed + len(rows) + len(configs)})
        out = _run_all(trial_fn, configs, data, workers)
        for cfg, row in zip(configs, out):
            full = {"trial": cfg["seed"] - seed, "stage": stage + 1, **row}
            full.update({p: cfg[p] for p in params})
            full["seed"] = cfg["seed"]
            rows.append(full)
        stage_rows = rows[-len(configs):]
        if log is not None:
            done = [r for r in stage_rows if r["status"] == "ok"]
            best = max(done, key=lambda r: r["val_acc"]) if done else None
            msg = (f"stage {stage + 1}/{stages}: {len(stage_rows)} trials, "
                   f"{len(stage_rows) - len(done)} abandoned")
            if best is not None:
                shown = ", ".join(f"{p}={_fmt(best[p])}" for p in params)
                msg += f"; best val_acc {best['val_acc']:.4f} ({shown})"
            log(msg)
        if stage + 1 < stages:
            spaces.append(narrow(current, stage_rows, keep=keep))
    return SearchResult(rows, spaces, base, params, final_fn)


def _cross_validated(config: dict, data: TrialData, trial_fn: Callable, k: int,
                     seed: int) -> dict:
    """A trial judged by k-fold cross-validation (top level, so workers can import it)."""
    cv = cross_validate(config, data, k=k, seed=seed, trial_fn=trial_fn)
    return {"status": "ok" if any(a > 0 for a in cv["fold_acc"]) else "abandoned",
            "val_acc": cv["val_acc"], "val_acc_std": cv["val_acc_std"]}


def _fmt(v) -> str:
    return f"{v:.3g}" if isinstance(v, float) else str(v)


def cross_validate(config: dict, data, k: int = 5, seed: int = 0,
                   trial_fn: Callable | None = None) -> dict:
    """k-fold cross-validation of one config on the training and validation data pooled:
    each fold is the validation set once while the other k-1 train.

    Returns:
        ``{"val_acc": mean, "val_acc_std": spread, "fold_acc": [one per fold]}``; a fold that
        was abandoned counts as accuracy 0.
    """
    data = TrialData.of(data)
    trial_fn = trial_fn or run_trial
    X = np.concatenate([data.X_train, data.X_val])
    y = np.concatenate([data.y_train, data.y_val])
    accs = []
    for tr, va in kfold_indices(len(y), k, seed):
        fold = TrialData(X[tr], y[tr], X[va], y[va], data.num_classes, data.input_shape)
        row = trial_fn({**config, "seed": config.get("seed", seed)}, fold)
        accs.append(float(row["val_acc"]) if row.get("status", "ok") == "ok" else 0.0)
    return {"val_acc": float(np.mean(accs)), "val_acc_std": float(np.std(accs)),
            "fold_acc": accs}
