"""Training and evaluation of a captioner: teacher forcing, Adam, gradient clipping, a run folder.

Every (image, reference caption) pair is one training example; after each epoch the validation
split is captioned greedily and scored with BLEU, and the checkpoint of the best validation
BLEU-4 is kept. A checkpoint holds the model's ``state_dict`` and the run's config (with the
vocabulary), so ``striate caption sample|evaluate`` rebuild the model without the data.
"""

from __future__ import annotations

import math
import time
from pathlib import Path

from ..autograd.grad_mode import no_grad
from ..autograd.tensor import Tensor
from ..backend import get_rng
from .bleu import bleu_scores
from .shapes import CaptionData, CaptionSplit, Vocabulary

__all__ = ["train_captioner", "caption_split", "evaluate_bleu", "save_captioner"]


def caption_split(model, split: CaptionSplit, vocab: Vocabulary, beam_size: int = 1,
                  max_length: int = 16, batch_size: int = 256) -> list[str]:
    """Generated captions (strings) for every image of ``split``: greedy for ``beam_size=1``,
    beam search otherwise."""
    out = []
    for lo in range(0, len(split), batch_size):
        x = Tensor(split.images[lo:lo + batch_size])
        ids = model.greedy(x, max_length) if beam_size == 1 else \
            model.beam_search(x, beam_size, max_length)
        out += [vocab.decode(row) for row in ids]
    return out


def evaluate_bleu(model, split: CaptionSplit, vocab: Vocabulary, beam_size: int = 1,
                  max_length: int = 16) -> tuple[dict, list[str]]:
    """BLEU-1..4 of the model's captions of ``split`` against its references, and the
    captions."""
    hyps = caption_split(model, split, vocab, beam_size, max_length)
    return bleu_scores(split.captions, hyps), hyps


def _val_loss(model, split, vocab, max_length, batch_size=256) -> float:
    idx, caps = split.pairs(vocab, max_length)
    total, n = 0.0, 0
    was = model.training
    model.eval()
    with no_grad():
        for lo in range(0, len(idx), batch_size):
            sel = slice(lo, lo + batch_size)
            loss = model.loss(Tensor(split.images[idx[sel]]), caps[sel])
            total += loss.item() * len(idx[sel])
            n += len(idx[sel])
    model.train(was)
    return total / max(n, 1)


def save_captioner(path, model, config: dict, extra: dict | None = None) -> None:
    """A checkpoint: ``{"model": state_dict, "config": config, ...extra}``."""
    from ..train import save

    save({"model": model.state_dict(), "config": config, **(extra or {})}, str(path))


def train_captioner(model, data: CaptionData, config: dict, out_dir=None, log=print,
                    max_steps: int | None = None) -> list[dict]:
    """Train ``model`` on ``data`` with the settings in ``config``.

    Args:
        model: a captioner (``striate.caption.model``).
        data: the data set; its vocabulary must be the model's.
        config: ``epochs``, ``batch_size``, ``lr``, ``grad_clip``, ``lr_decay`` (per epoch),
            ``max_length``, ``val_images`` (how many validation images to caption per epoch).
        out_dir: run folder for ``metrics.csv``, plots and checkpoints (None: nothing written).
        log: where progress lines go.
        max_steps: stop after this many optimizer steps in all (for tests).
    Returns:
        the per-epoch records (``train_loss``, ``val_loss``, ``val_bleu1..4``, ``lr``, ``time``).
    """
    from .. import optim
    from ..optim.clip import clip_grad_norm_
    from ..train.history import plot_history, write_csv

    epochs, bs = int(config.get("epochs", 10)), int(config.get("batch_size", 64))
    lr, clip = float(config.get("lr", 2e-3)), config.get("grad_clip", 5.0)
    decay, max_length = float(config.get("lr_decay", 0.9)), int(data.max_length)
    n_val = int(config.get("val_images", 500))
    opt = optim.Adam(model.parameters(), lr=lr)
    idx, caps = data.train.pairs(data.vocab, max_length)
    val = CaptionSplit(data.val.images[:n_val], data.val.captions[:n_val])
    out = Path(out_dir) if out_dir is not None else None
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
    history, best, steps, start = [], -1.0, 0, time.perf_counter()
    for epoch in range(1, epochs + 1):
        for group in opt.param_groups:
            group["lr"] = lr * decay ** (epoch - 1)
        order = get_rng().permutation(len(idx))
        model.train()
        total, seen = 0.0, 0
        for lo in range(0, len(order), bs):
            sel = order[lo:lo + bs]
            loss = model.loss(Tensor(data.train.images[idx[sel]]), caps[sel])
            opt.zero_grad()
            loss.backward()
            if clip:
                clip_grad_norm_(model.parameters(), float(clip))
            opt.step()
            value = loss.item()
            if not math.isfinite(value):
                raise RuntimeError(f"caption training diverged at epoch {epoch}: loss {value}; "
                                   "try a smaller --lr")
            total, seen, steps = total + value * len(sel), seen + len(sel), steps + 1
            if max_steps is not None and steps >= max_steps:
                break
        record = {"epoch": epoch, "train_loss": total / max(seen, 1),
                  "val_loss": _val_loss(model, val, data.vocab, max_length),
                  "lr": opt.param_groups[0]["lr"]}
        scores, hyps = evaluate_bleu(model, val, data.vocab, 1, max_length + 2)
        record.update({f"val_{k}": v for k, v in scores.items()})
        record["time"] = time.perf_counter() - start
        history.append(record)
        log(f"epoch {epoch}/{epochs}: train loss {record['train_loss']:.3f}, val loss "
            f"{record['val_loss']:.3f}, val BLEU-4 {scores['bleu4']:.3f} "
            f"({record['time']:.0f} s)  e.g. {hyps[0]!r}")
        if out is not None:
            write_csv(str(out / "metrics.csv"), history)
            plot_history(str(out), history, ["bleu4"])
            save_captioner(out / "checkpoint_last.npz", model, config, {"epoch": epoch})
            if scores["bleu4"] > best:
                best = scores["bleu4"]
                save_captioner(out / "checkpoint_best.npz", model, config, {"epoch": epoch})
        if max_steps is not None and steps >= max_steps:
            break
    return history
