"""Model ensembles, snapshot ensembles and Polyak averaging (an EMA of the weights).

The notes' "a few percent for free" tricks at test time:

- :class:`Ensemble` averages the class probabilities of several independently trained models;
- :func:`snapshot_ensemble` builds one from the per-epoch checkpoints of a single run
  (``Trainer(..., keep_snapshots=True)``), best with a cyclic learning rate;
- :class:`EMA` keeps an exponential moving average of the weights during training and evaluates
  with it (``Trainer(..., ema_decay=0.999)``).
"""

from __future__ import annotations

import contextlib
import math
import numbers
import os
import re
from collections.abc import Callable, Iterator, Sequence

import numpy as np

from ..autograd.grad_mode import no_grad
from ..autograd.tensor import Tensor
from ..nn import Module, ModuleList

__all__ = ["EMA", "Ensemble", "snapshot_ensemble", "snapshot_paths"]


def _softmax(s: np.ndarray) -> np.ndarray:
    e = np.exp(s - s.max(axis=1, keepdims=True))  # shift by the max: exp never overflows
    return e / e.sum(axis=1, keepdims=True)


class Ensemble(Module):
    """Average the softmax probabilities of several models: (N, ...) -> (N, K).

    ``forward`` returns the log of the averaged probabilities, so the output works everywhere a
    model's scores do: ``argmax`` gives the ensemble's prediction, and ``cross_entropy`` (hence
    ``Trainer.evaluate``) gives the ensemble's loss, since softmax(log p) = p. Use
    :meth:`predict_proba` for the probabilities themselves. An ensemble is for evaluation: its
    forward runs without gradients.

    Args:
        models: the members (``nn.Module``s with the same number of classes K).
        weights: optional non-negative weight per model (normalised to sum to 1).
    """

    def __init__(self, models: Sequence, weights: Sequence[float] | None = None):
        super().__init__()
        models = list(models)
        if not models:
            raise ValueError("Ensemble: models must hold at least one model, got none")
        for i, m in enumerate(models):
            if not isinstance(m, Module):
                raise TypeError(f"Ensemble: model {i} must be an nn.Module, got "
                                f"{type(m).__name__}")
        if weights is None:
            w = np.full(len(models), 1.0 / len(models))
        else:
            w = np.asarray(weights, dtype=np.float64)
            if w.shape != (len(models),) or np.any(w < 0) or not w.sum() > 0:
                raise ValueError(f"Ensemble: weights must be {len(models)} non-negative numbers "
                                 f"with a positive sum, got {weights!r}")
            w = w / w.sum()
        self.members = ModuleList(models)
        self.weights = w

    def predict_proba(self, x) -> np.ndarray:
        """The weighted mean of the members' softmax probabilities, an array (N, K)."""
        total = None
        with no_grad():
            for w, m in zip(self.weights, self.members):
                scores = m(x)
                p = _softmax(np.asarray(scores.array, dtype=np.float64))
                if total is not None and p.shape != total.shape:
                    raise ValueError(f"Ensemble: members disagree on the output shape: "
                                     f"{total.shape} and {p.shape}")
                total = w * p if total is None else total + w * p
        return total

    def forward(self, x) -> Tensor:
        p = self.predict_proba(x)
        dtype = x.dtype if isinstance(x, Tensor) and x.dtype.kind == "f" else np.float32
        return Tensor(np.log(np.maximum(p, 1e-30)).astype(dtype))


_SNAPSHOT = re.compile(r"^checkpoint_epoch(\d+)\.npz$")


def snapshot_paths(run_dir: str | os.PathLike) -> list[str]:
    """The run's ``checkpoint_epoch{N}.npz`` files, by epoch."""
    run_dir = os.fspath(run_dir)
    if not os.path.isdir(run_dir):
        raise FileNotFoundError(f"snapshot_ensemble: no such run folder: {run_dir!r}")
    found = sorted((int(m.group(1)), name) for name in os.listdir(run_dir)
                   if (m := _SNAPSHOT.match(name)))
    return [os.path.join(run_dir, name) for _, name in found]


def _model_from_config(config: dict) -> Module:
    from ..models import create_model

    try:
        return create_model(config["model"], num_classes=len(config["classes"]),
                            input_shape=tuple(config["input_shape"]))
    except KeyError as e:
        raise ValueError(f"snapshot_ensemble: the run's config lacks {e}; pass model_fn, a "
                         f"function returning a fresh model of the run's architecture") from None


def snapshot_ensemble(run_dir: str | os.PathLike, model_fn: Callable[[], Module] | None = None,
                      last: int | None = None, epochs: Sequence[int] | None = None) -> Ensemble:
    """An :class:`Ensemble` of one run's per-epoch snapshots (``keep_snapshots=True``).

    Args:
        run_dir: the run folder holding ``checkpoint_epoch{N}.npz``.
        model_fn: builds a fresh model of the run's architecture; by default the model named
            in the run's config (as ``striate train`` writes it: ``model``, ``classes``,
            ``input_shape``) is built with ``striate.models.create_model``.
        last: use only the last ``last`` snapshots.
        epochs: use the snapshots of these epochs (1-based).

    Returns:
        the ensemble, in eval mode.

    Raises:
        FileNotFoundError: no snapshot (or a requested epoch missing) in ``run_dir``.
    """
    from .checkpoint import load

    paths = snapshot_paths(run_dir)
    if not paths:
        raise FileNotFoundError(f"snapshot_ensemble: {os.fspath(run_dir)!r} holds no "
                                f"checkpoint_epoch*.npz; train with keep_snapshots=True")
    if epochs is not None:
        want = {int(e) for e in epochs}
        have = {int(_SNAPSHOT.match(os.path.basename(p)).group(1)): p for p in paths}
        missing = sorted(want - set(have))
        if missing:
            raise FileNotFoundError(f"snapshot_ensemble: no snapshot for epoch(s) {missing} in "
                                    f"{os.fspath(run_dir)!r} (have {sorted(have)})")
        paths = [have[e] for e in sorted(want)]
    if last is not None:
        if not (isinstance(last, numbers.Integral) and last >= 1):
            raise ValueError(f"snapshot_ensemble: last must be an int >= 1, got {last!r}")
        paths = paths[-last:]
    models = []
    for path in paths:
        ckpt = load(path)
        model = model_fn() if model_fn is not None else _model_from_config(ckpt["config"])
        state = dict(ckpt["model"])
        if ckpt.get("ema"):
            state.update(ckpt["ema"]["shadow"])  # a run with Polyak averaging: its averaged weights
        model.load_state_dict(state)
        models.append(model)
    return Ensemble(models).eval()


class EMA:
    """Polyak averaging: an exponential moving average of a model's parameters.

    After every optimizer step, :meth:`update` does ``avg = d * avg + (1 - d) * param`` for
    each floating-point parameter; evaluating with the averages is usually a little better than
    with the last weights. Floating-point buffers (BatchNorm's running statistics) are averaged
    the same way, so the averaged weights are evaluated with statistics of matching age (the
    live model's statistics belong to the live weights: ResNet-20 on the digits lost up to 1%
    test accuracy with them).

    Args:
        model: the ``nn.Module`` being trained.
        decay: d in [0, 1).
        warmup: use ``min(decay, (1 + t) / (10 + t))`` at update t, so that early averages are
            not dominated by the random initialisation (short runs need it); False uses d always.

    Example:
        >>> ema = EMA(model, decay=0.999)                              # doctest: +SKIP
        >>> ...; optimizer.step(); ema.update()                        # doctest: +SKIP
        >>> with ema.average_parameters():                             # doctest: +SKIP
        ...     val = trainer.evaluate(val_loader)
    """

    def __init__(self, model: Module, decay: float = 0.999, warmup: bool = True):
        if not isinstance(model, Module):
            raise TypeError(f"EMA: model must be an nn.Module, got {type(model).__name__}")
        if not (isinstance(decay, numbers.Real) and 0 <= decay < 1 and math.isfinite(decay)):
            raise ValueError(f"EMA: decay must be a number in [0, 1), got {decay!r}")
        self.model, self.decay, self.warmup = model, float(decay), bool(warmup)
        self.num_updates = 0
        self._params = [(n, p) for n, p in model.named_parameters() if p.dtype.kind == "f"]
        self._params += [(n, b) for n, b in model.named_buffers() if b.dtype.kind == "f"]
        self.shadow = {n: p.array.copy() for n, p in self._params}

    def current_decay(self) -> float:
        """The decay the next :meth:`update` uses."""
        t = self.num_updates
        return min(self.decay, (1 + t) / (10 + t)) if self.warmup else self.decay

    def update(self) -> None:
        """Move every average towards the current parameter: ``avg += (1 - d) (param - avg)``."""
        d = self.current_decay()
        for n, p in self._params:
            s = self.shadow[n]
            s += (1.0 - d) * (p.array - s)
        self.num_updates += 1

    def apply_to(self, model: Module | None = None) -> None:
        """Copy the averages into ``model``'s parameters (this EMA's model by default), for
        good: evaluate or save the averaged model."""
        target = self.model if model is None else model
        target.load_state_dict(self.shadow, strict=False)

    @contextlib.contextmanager
    def average_parameters(self) -> Iterator[Module]:
        """Inside the block the model holds the averaged weights; afterwards its own again."""
        saved = {n: p.array.copy() for n, p in self._params}
        self.apply_to()
        try:
            yield self.model
        finally:
            for n, p in self._params:
                p.array[...] = saved[n]

    def state_dict(self) -> dict:
        """``{"decay", "warmup", "num_updates", "shadow": {name: array}}`` (copies)."""
        return {"decay": self.decay, "warmup": self.warmup, "num_updates": self.num_updates,
                "shadow": {n: a.copy() for n, a in self.shadow.items()}}

    def load_state_dict(self, state: dict) -> None:
        """Restore :meth:`state_dict`; the averages must match the model's parameters."""
        shadow = state["shadow"]
        if set(shadow) != set(self.shadow):
            raise ValueError(f"EMA.load_state_dict: the saved averages are for parameters "
                             f"{sorted(shadow)}, the model has {sorted(self.shadow)}")
        for n, a in shadow.items():
            a = a.array if isinstance(a, Tensor) else np.asarray(a)
            if a.shape != self.shadow[n].shape:
                raise ValueError(f"EMA.load_state_dict: {n} has shape {a.shape}, the model's "
                                 f"is {self.shadow[n].shape}")
            self.shadow[n][...] = a
        self.decay, self.warmup = float(state["decay"]), bool(state["warmup"])
        self.num_updates = int(state["num_updates"])

    def __repr__(self) -> str:
        return (f"EMA(decay={self.decay}, warmup={self.warmup}, "
                f"num_updates={self.num_updates}, params={len(self._params)})")
