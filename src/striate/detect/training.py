"""One training loop for every detector here and the segmentation networks of
``striate.segment``: a model with ``loss(images, batch) -> (loss, parts)`` trains on a split of
:class:`~striate.detect.scenes.Scenes` with Adam and a cosine learning-rate decay; after each
epoch ``evaluate(model)`` scores the validation split and the best epoch's weights are kept.

A run folder (when given) gets ``metrics.csv``, ``loss.png``, ``checkpoint_last.npz`` and
``checkpoint_best.npz`` (``{"model": state_dict, "config": config, "epoch"}``, the format of
:func:`striate.train.save`), so ``eval`` and ``predict`` rebuild the model from the config.
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np

from ..autograd.tensor import Tensor
from ..backend import get_rng

__all__ = ["fit", "save_checkpoint", "batches"]


def save_checkpoint(path, model, config: dict, extra: dict | None = None) -> None:
    """``{"model": state_dict, "config": config, **extra}`` through :func:`striate.train.save`."""
    from ..train import save

    save({"model": model.state_dict(), "config": config, **(extra or {})}, str(path))


def batches(n: int, batch_size: int):
    """Index arrays of consecutive batches of ``range(n)``."""
    for lo in range(0, n, batch_size):
        yield np.arange(lo, min(lo + batch_size, n))


def fit(model, train, config: dict, evaluate=None, out_dir=None, log=print,
        max_steps: int | None = None, progress: bool = True) -> list[dict]:
    """Train ``model`` on the scenes ``train``.

    Args:
        model: a Module with ``loss(images: Tensor, batch: Scenes) -> (loss, {name: float})``.
        train: the training :class:`Scenes`.
        config: ``epochs``, ``batch_size``, ``lr``, ``weight_decay`` (default 0), ``flip``
            (random horizontal flips, default True).
        evaluate: ``evaluate(model) -> {metric: value, ..., "score": value}`` on held-out data
            after each epoch; the best ``score`` gives ``checkpoint_best.npz``.
        out_dir: run folder, or None to write nothing.
        log: where the per-epoch lines go.
        max_steps: stop after this many optimizer steps (tests).
        progress: a tqdm bar per epoch.
    Returns:
        per-epoch records: ``epoch``, ``train_loss``, each loss part, the metrics, ``lr``,
        ``time`` (seconds since the start).
    """
    from .. import optim
    from ..train.history import plot_history, write_csv

    epochs, bs = int(config.get("epochs", 10)), int(config.get("batch_size", 32))
    lr = float(config.get("lr", 1e-3))
    opt = optim.Adam(model.parameters(), lr=lr, weight_decay=float(config.get("weight_decay", 0)))
    steps_per_epoch = math.ceil(len(train) / bs)
    total_steps = epochs * steps_per_epoch
    out = Path(out_dir) if out_dir is not None else None
    history, best, step, start = [], -math.inf, 0, time.perf_counter()
    for epoch in range(1, epochs + 1):
        model.train()
        order = get_rng().permutation(len(train))
        sums: dict = {}
        bar = _bar(steps_per_epoch, f"epoch {epoch}/{epochs}", progress)
        for lo in range(0, len(order), bs):
            # cosine decay to 5% over the whole run, per step
            frac = step / max(total_steps, 1)
            for g in opt.param_groups:
                g["lr"] = lr * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * frac)))
            batch = train.subset(np.sort(order[lo:lo + bs]))
            if config.get("flip", True):
                batch = flip_some(batch, get_rng().random(len(batch)) < 0.5)
            loss, parts = model.loss(Tensor(batch.images), batch)
            opt.zero_grad()
            loss.backward()
            opt.step()
            value = loss.item()
            if not math.isfinite(value):
                raise RuntimeError(f"training diverged at epoch {epoch}: loss {value}; "
                                   "try a smaller --lr")
            for k, v in {"train_loss": value, **parts}.items():
                sums[k] = sums.get(k, 0.0) + float(v) * len(batch)
            step += 1
            if bar is not None:
                bar.update(1)
                bar.set_postfix(loss=f"{value:.3f}")
            if max_steps is not None and step >= max_steps:
                break
        if bar is not None:
            bar.close()
        seen = min(len(train), (step - (epoch - 1) * steps_per_epoch) * bs)
        record = {"epoch": epoch, **{k: v / max(seen, 1) for k, v in sums.items()},
                  "lr": opt.param_groups[0]["lr"]}
        if evaluate is not None:
            model.eval()
            record.update(evaluate(model))
        record["time"] = time.perf_counter() - start
        history.append(record)
        shown = ", ".join(f"{k} {v:.3f}" for k, v in record.items()
                          if k not in ("epoch", "lr", "time") and isinstance(v, float))
        log(f"epoch {epoch}/{epochs}: {shown} ({record['time']:.0f} s)")
        if out is not None:
            write_csv(str(out / "metrics.csv"), history)
            plot_history(str(out), history, [k for k in record if k == "score"])
            save_checkpoint(out / "checkpoint_last.npz", model, config, {"epoch": epoch})
            score = record.get("score", -record["train_loss"])
            if score > best:
                best = score
                save_checkpoint(out / "checkpoint_best.npz", model, config, {"epoch": epoch})
        if max_steps is not None and step >= max_steps:
            break
    model.eval()
    return history


def _bar(total: int, desc: str, on: bool):
    if not on:
        return None
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, leave=False, unit="batch")


def flip_some(batch, which: np.ndarray):
    """The batch with the images ``which`` mirrored left-right, boxes and masks with them."""
    from .scenes import Scenes

    if not which.any():
        return batch
    W = batch.images.shape[-1]
    images = batch.images.copy()
    images[which] = images[which, :, :, ::-1]
    semantic = batch.semantic.copy()
    semantic[which] = semantic[which, :, ::-1]
    boxes, masks = list(batch.boxes), list(batch.instance_masks)
    for i in np.flatnonzero(which):
        b = boxes[i].copy()
        b[:, [0, 2]] = W - boxes[i][:, [2, 0]]
        boxes[i] = b
        masks[i] = masks[i][:, :, ::-1]
    return Scenes(images, boxes, list(batch.labels), masks, semantic, batch.classes)
