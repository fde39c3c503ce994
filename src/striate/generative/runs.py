"""Training any generative model into a run folder, resuming, and loading a trained run.

``train_run(kind, data, out_dir)`` writes ``config.json``, ``metrics.csv`` (per epoch: the mean
training losses, the held-out metric of the kind, seconds), ``loss.png`` (the losses' curves,
both players' for a GAN), ``samples_epoch001.png``, ... (a grid after every epoch, drawn from
the same noise each time, so the grids show one set of samples improving), ``samples.png`` (the
last), ``summary.json`` (the final numbers) and ``checkpoint_last.npz`` (networks, optimizers,
history, the random generator's state), from which ``train_run(..., resume=out_dir)`` continues
exactly where it stopped. The curves are drawn every 10 epochs and at the end (drawing them
costs more than an epoch of the small models); ``metrics.csv`` is written every epoch.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable

import numpy as np

from .. import backend
from ..autograd.tensor import Tensor
from ..train import load, save
from ..train.history import write_csv, write_json
from .images import save_grid
from .tasks import DEFAULTS, KINDS, Task, make_task

__all__ = ["CHECKPOINT", "load_run", "train_run"]

CHECKPOINT = "checkpoint_last.npz"


def _levels(data) -> int:
    return 17 if data.name == "digits" else 256


def make_config(kind: str, data, data_spec: str, seed: int = 0, **options) -> dict:
    """The run's config: the kind's defaults, overridden by the non-None ``options``."""
    if kind not in DEFAULTS:
        raise ValueError(f"train_run: kind must be one of {', '.join(KINDS)}, got {kind!r}")
    config = {"kind": kind, **DEFAULTS[kind]}
    unknown = sorted(k for k, v in options.items() if v is not None and k not in config)
    if unknown:
        raise ValueError(f"train_run: {kind} has no option {', '.join(unknown)} (options: "
                         f"{', '.join(sorted(DEFAULTS[kind]))})")
    config.update({k: v for k, v in options.items() if v is not None})
    config.update({"data": data_spec, "shape": list(data.input_shape), "levels": _levels(data),
                   "seed": seed})
    return config


def _draw(path: str, history: list[dict], keys: list[str], ylabel: str, title: str) -> None:
    """One figure of ``history[key]`` per epoch for each key, written atomically (Agg canvas:
    no display needed, pyplot never loaded)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6, 4), dpi=80)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    for key in keys:
        pts = [(r["epoch"], r[key]) for r in history if np.isfinite(r.get(key, np.nan))]
        if pts:
            ax.plot(*zip(*pts), marker="o", markersize=2, label=key)
    ax.set_xlabel("epoch")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    ax.legend()
    fig.tight_layout()
    tmp = f"{path}.tmp.png"
    fig.savefig(tmp, format="png")
    os.replace(tmp, path)


def _plot_losses(out_dir: str, history: list[dict], task: Task) -> None:
    try:
        import matplotlib  # noqa: F401
    except ImportError:  # the plots are optional; metrics.csv holds the same numbers
        return
    kind = task.config["kind"]
    keys = [f"train_{k}" for k in task.loss_names] + \
        [k for k in ("test_loss",) if any(k in r for r in history)]
    _draw(os.path.join(out_dir, "loss.png"), history, keys, "loss", f"{kind} losses")
    for metric in ("test_elbo", "test_bits_per_dim"):
        if any(metric in r for r in history):
            _draw(os.path.join(out_dir, f"{metric}.png"), history, [metric], metric,
                  f"{kind}: {metric.replace('_', ' ')}")


def _progress(iterable, total: int, desc: str, enabled: bool):
    if not enabled:
        return iterable
    try:
        from tqdm.auto import tqdm
    except ImportError:  # pragma: no cover - tqdm is a dependency
        return iterable
    return tqdm(iterable, total=total, desc=desc, leave=False, dynamic_ncols=True)


def train_run(kind: str, data, out_dir: str, *, data_spec: str = "digits",
              epochs: int | None = None, seed: int = 0, resume: bool = False,
              progress: bool = True, log: Callable[[str], None] = print, **options) -> dict:
    """Train a model of ``kind`` (one of :data:`KINDS`) on ``data.train`` into ``out_dir``.

    Args:
        data: a ``DatasetSplits`` (images in [0, 1]).
        data_spec: how the data was named (stored in the config, e.g. ``"mnist:/data"``).
        epochs: total epochs (default: the kind's); with ``resume`` the run continues to it.
        resume: continue the run in ``out_dir`` from its checkpoint.
        options: the kind's hyper-parameters (``lr``, ``batch_size``, ``latent_dim``, ...).

    Returns:
        the summary: the last epoch's record plus the kind's final numbers.
    """
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, CHECKPOINT)
    if resume:
        ckpt = _read_checkpoint(path)
        config = ckpt["config"]
        if epochs is not None:
            config["epochs"] = epochs
        task = make_task(config)
        task.load_state_dict(ckpt["state"])
        history, start = list(ckpt["history"]), int(ckpt["epoch"])
        backend.set_rng_state(ckpt["rng_state"])
        log(f"{kind}: resumed {out_dir} after epoch {start}")
    else:
        config = make_config(kind, data, data_spec, seed, epochs=epochs, **options)
        backend.manual_seed(seed)
        task = make_task(config)
        history, start = [], 0
    write_json(os.path.join(out_dir, "config.json"), config)
    X = task.prepare(data.train.X)
    X_test = data.test.X
    n, bs = len(X), config["batch_size"]
    params = sum(p.numel() for m in task.modules.values() for p in m.parameters())
    if not resume:
        log(f"{kind}: {n} training images {tuple(config['shape'])}, {params:,} parameters "
            f"-> {out_dir}")
    t0 = time.perf_counter() - (history[-1]["seconds"] if history else 0.0)
    for epoch in range(start + 1, config["epochs"] + 1):
        task.train()
        order = backend.get_rng().permutation(n)
        sums = {k: 0.0 for k in task.loss_names}
        steps = 0
        bar = _progress(range(0, n, bs), -(-n // bs), f"epoch {epoch}/{config['epochs']}",
                        progress)
        for s in bar:
            losses = task.step(Tensor(X[order[s:s + bs]]))
            for k, v in losses.items():
                sums[k] += v
            steps += 1
            if progress and hasattr(bar, "set_postfix"):
                bar.set_postfix({k: f"{v:.3f}" for k, v in losses.items()})
        record = {"epoch": epoch, **{f"train_{k}": v / steps for k, v in sums.items()}}
        record.update(task.evaluate(X_test))
        record["seconds"] = round(time.perf_counter() - t0, 2)
        history.append(record)
        # the grid's noise comes from its own generator: the same draws every epoch, and the
        # training generator's stream stays as it was (a resumed run repeats exactly)
        grid = task.epoch_grid(X_test, np.random.default_rng(config["seed"] + 12345))
        save_grid(grid, os.path.join(out_dir, f"samples_epoch{epoch:03d}.png"), nrow=8)
        save_grid(grid, os.path.join(out_dir, "samples.png"), nrow=8)
        write_csv(os.path.join(out_dir, "metrics.csv"), history)
        if epoch == config["epochs"] or epoch % 10 == 0:  # a plot costs more than an epoch
            _plot_losses(out_dir, history, task)
        save({"kind": kind, "config": config, "epoch": epoch, "history": history,
              "state": task.state_dict(), "rng_state": backend.get_rng_state()}, path)
        log(f"epoch {epoch:3d}  " + "  ".join(f"{k} {v:.4f}" for k, v in record.items()
                                              if k not in ("epoch", "seconds"))
            + f"  ({record['seconds']:.0f} s)")
    summary = {**(history[-1] if history else {}), **task.final_report(data, progress)}
    write_json(os.path.join(out_dir, "summary.json"), summary)
    return summary


def _read_checkpoint(path: str) -> dict:
    if os.path.isdir(path):
        path = os.path.join(path, CHECKPOINT)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"no generative run at {os.path.dirname(path) or path} "
                                f"(no {CHECKPOINT})")
    ckpt = load(path)
    if not isinstance(ckpt, dict) or ckpt.get("kind") not in KINDS or "state" not in ckpt:
        raise ValueError(f"{path} is not a checkpoint of `striate generate` (kinds: "
                         f"{', '.join(KINDS)})")
    return ckpt


def load_run(path: str, kinds: tuple[str, ...] | None = None) -> tuple[Task, dict]:
    """A trained run (folder or checkpoint file): ``(task, checkpoint)``; ``kinds`` restricts
    which kinds are accepted (another kind raises ValueError naming both)."""
    ckpt = _read_checkpoint(path)
    if kinds is not None and ckpt["kind"] not in kinds:
        raise ValueError(f"{path} is a {ckpt['kind']} run; expected {' or '.join(kinds)}")
    task = make_task(ckpt["config"])
    task.load_state_dict(ckpt["state"], optimizers=False)
    task.train(False)
    return task, ckpt


def read_summary(out_dir: str) -> dict:
    with open(os.path.join(out_dir, "summary.json")) as f:
        return json.load(f)
