"""The character-level language model's application: its sampler and its training loop (what
``striate charnn train`` runs); the model itself is :class:`striate.models.charnn.CharRNN`.

Training reads random windows of ``seq_len + 1`` characters from the corpus (inputs are the first
``seq_len``, targets the same shifted by one), minimises the temporal softmax loss per character
with Adam, clips the gradients' total norm (5 by default), and every ``sample_every`` steps
writes the losses, a plot, a checkpoint and a sample into the run folder.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable

import numpy as np

from .. import backend
from .. import ops as F
from ..autograd.grad_mode import no_grad
from ..autograd.tensor import Tensor
from ..models.charnn import CharRNN
from ..nn.utils import clip_grad_norm_
from ..optim import Adam
from ..train import load, save
from ..train.history import write_csv, write_json, write_text_atomic
from .vocab import CharVocab

__all__ = ["CHECKPOINT", "CharRNN", "load_charnn", "sample", "train_charnn"]

CHECKPOINT = "checkpoint_last.npz"


def _config_model(config: dict) -> CharRNN:
    return CharRNN(config["vocab_size"], config["embed_dim"], config["hidden"], config["layers"],
                   config.get("dropout", 0.0))


def sample(model: CharRNN, vocab: CharVocab, length: int, seed_text: str = "\n",
           temperature: float = 1.0, greedy: bool = False, rng=None) -> str:
    """Generate ``length`` characters after ``seed_text``: feed the seed, then draw each next
    character from ``softmax(logits / temperature)`` (or take the argmax with ``greedy``).

    Returns the seed followed by the generated characters. The draws use ``rng`` (a NumPy
    Generator; default striate's seeded generator).
    """
    if length < 0:
        raise ValueError(f"sample: length must be >= 0, got {length}")
    if not greedy and not temperature > 0:
        raise ValueError(f"sample: temperature must be > 0, got {temperature}")
    if not seed_text:
        raise ValueError("sample: seed_text must hold at least one character")
    missing = sorted({c for c in seed_text if c not in vocab})
    if missing:
        raise ValueError(f"sample: seed_text has characters the model never saw: {missing!r}")
    rng = backend.get_rng() if rng is None else rng
    was_training = model.training
    model.eval()
    out = []
    with no_grad():
        logits, state = model(Tensor(vocab.encode(seed_text)[None]))
        for _ in range(length):
            z = logits.array[0, -1].astype(np.float64)
            if greedy:
                nxt = int(z.argmax())
            else:
                z = z / temperature
                p = np.exp(z - z.max())
                nxt = int(rng.choice(len(p), p=p / p.sum()))
            out.append(nxt)
            logits, state = model(Tensor(np.array([[nxt]], dtype=np.int64)), state)
    model.train(was_training)
    return seed_text + vocab.decode(out)


def _batch(data: np.ndarray, batch_size: int, seq_len: int, rng) -> tuple[Tensor, Tensor]:
    starts = rng.integers(0, len(data) - seq_len - 1, size=batch_size)
    win = data[starts[:, None] + np.arange(seq_len + 1)]
    return Tensor(win[:, :-1]), Tensor(win[:, 1:])


def _eval_loss(model: CharRNN, batches) -> float:
    model.eval()
    with no_grad():
        losses = [F.temporal_softmax_loss(model(x)[0], y, normalize="tokens").item()
                  for x, y in batches]
    model.train()
    return float(np.mean(losses))


def _plot(path: str, rows: list[dict]) -> None:
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:  # plots are optional; the CSV holds the same numbers
        return
    fig = Figure(figsize=(6, 4), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    steps = [r["step"] for r in rows]
    ax.plot(steps, [r["train_loss"] for r in rows], marker="o", markersize=3, label="train")
    ax.plot(steps, [r["val_loss"] for r in rows], marker="o", markersize=3, label="val")
    ax.set_xlabel("step")
    ax.set_ylabel("loss per character (nats)")
    ax.set_title("character model")
    ax.grid(True, alpha=0.3)
    ax.legend()
    fig.tight_layout()
    tmp = path + ".tmp.png"
    fig.savefig(tmp, format="png")
    os.replace(tmp, path)


def train_charnn(text: str, out_dir: str, *, steps: int | None = None,
                 minutes: float | None = None, seq_len: int = 64, batch_size: int = 32,
                 hidden: int = 256, embed_dim: int = 64, layers: int = 2, lr: float = 2e-3,
                 clip: float | None = 5.0, sample_every: int = 200, sample_length: int = 300,
                 seed_text: str = "def ", temperature: float = 0.8, seed: int = 0,
                 log: Callable[[str], None] = print) -> dict:
    """Train a :class:`CharRNN` on ``text`` and write the run folder ``out_dir``.

    Stops after ``steps`` updates or ``minutes`` of wall time (whichever is given; both: the
    first reached). Writes ``config.json``, ``metrics.csv`` (step, seconds, train and val loss per
    character), ``loss.png``, ``samples.txt`` (a sample every ``sample_every`` steps) and
    ``checkpoint_last.npz`` (model, optimizer, vocabulary, config, step).

    Returns the final record ``{"step", "seconds", "train_loss", "val_loss"}``.
    """
    if steps is None and minutes is None:
        raise ValueError("train_charnn: give steps or minutes")
    if len(text) < 2 * (seq_len + 2):
        raise ValueError(f"train_charnn: the text has {len(text)} characters; it needs at least "
                         f"{2 * (seq_len + 2)} for seq_len {seq_len}")
    backend.manual_seed(seed)
    rng = backend.get_rng()
    vocab = CharVocab.build(text)
    data = vocab.encode(text)
    cut = max(len(data) - max(len(data) // 20, seq_len + 2), seq_len + 2)  # last 5%: validation
    train_data, val_data = data[:cut], data[cut - 1 :]
    val_rng = np.random.default_rng(seed + 1)
    val_batches = [_batch(val_data, batch_size, seq_len, val_rng) for _ in range(4)]
    config = {"model": "charnn", "vocab_size": len(vocab), "embed_dim": embed_dim,
              "hidden": hidden, "layers": layers, "seq_len": seq_len, "batch_size": batch_size,
              "lr": lr, "clip": clip, "seed": seed, "corpus_chars": len(text)}
    os.makedirs(out_dir, exist_ok=True)
    write_json(os.path.join(out_dir, "config.json"), config)
    model = CharRNN(len(vocab), embed_dim, hidden, layers)
    opt = Adam(model.parameters(), lr=lr)
    params = list(model.parameters())
    rows, recent, samples = [], [], []
    start = time.perf_counter()
    step = 0
    log(f"charnn: {len(text):,} characters, vocabulary {len(vocab)}, "
        f"{model.num_parameters():,} parameters -> {out_dir}")

    def checkpoint(final: bool) -> None:
        seconds = time.perf_counter() - start
        record = {"step": step, "seconds": round(seconds, 1),
                  "train_loss": float(np.mean(recent)) if recent else math.nan,
                  "val_loss": _eval_loss(model, val_batches)}
        rows.append(record)
        recent.clear()
        text_out = sample(model, vocab, sample_length, seed_text, temperature)
        samples.append(f"=== step {step} ({seconds:.0f} s), val loss {record['val_loss']:.3f} "
                       f"===\n{text_out}\n")
        write_csv(os.path.join(out_dir, "metrics.csv"), rows)
        write_text_atomic(os.path.join(out_dir, "samples.txt"), "\n".join(samples))
        _plot(os.path.join(out_dir, "loss.png"), rows)
        save({"model": model.state_dict(), "optimizer": opt.state_dict(), "config": config,
              "vocab": vocab.chars, "step": step}, os.path.join(out_dir, CHECKPOINT))
        log(f"step {step:6d}  {seconds:7.0f} s  train {record['train_loss']:.3f}  "
            f"val {record['val_loss']:.3f}" + ("  (done)" if final else ""))

    def done() -> bool:
        if steps is not None and step >= steps:
            return True
        return minutes is not None and time.perf_counter() - start >= 60 * minutes

    while not done():
        x, y = _batch(train_data, batch_size, seq_len, rng)
        logits, _ = model(x)
        loss = F.temporal_softmax_loss(logits, y, normalize="tokens")
        opt.zero_grad()
        loss.backward()
        if clip:
            clip_grad_norm_(params, clip)
        opt.step()
        recent.append(loss.item())
        step += 1
        if step % sample_every == 0 and not done():
            checkpoint(False)
    checkpoint(True)
    return rows[-1]


def load_charnn(path: str) -> tuple[CharRNN, CharVocab, dict]:
    """A trained model from a run folder (or its checkpoint file): ``(model, vocab, config)``."""
    if os.path.isdir(path):
        path = os.path.join(path, CHECKPOINT)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"load_charnn: no checkpoint at {path}")
    ckpt = load(path)
    if not isinstance(ckpt, dict) or ckpt.get("config", {}).get("model") != "charnn":
        raise ValueError(f"load_charnn: {path} is not a charnn checkpoint")
    model = _config_model(ckpt["config"])
    model.load_state_dict(ckpt["model"])
    return model, CharVocab(ckpt["vocab"]), ckpt["config"]
