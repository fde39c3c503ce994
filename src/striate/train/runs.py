"""A trained model back from a run folder or checkpoint that ``striate train`` wrote.

The checkpoint's config names the model, the dataset and the input normalisation fitted on the
training split, so the model and its preprocessing come back exactly as trained (the weights of a
run with ``--ema`` are its averages). Tools that work on trained models (``striate.vis``, ...)
start here, and so does every run ``striate compress`` writes (pruned, factorised, int8,
distilled: see ``train.architecture``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .checkpoint import load

__all__ = ["TrainedRun", "checkpoint_path", "load_run"]


@dataclass
class TrainedRun:
    """What ``load_run`` returns: the checkpoint's ``path`` and ``config``, the dataset ``data``
    (``DatasetSplits``), the fitted ``norm`` (a ``Normalize``) and the ``model`` in eval mode."""

    path: Path
    config: dict
    data: object
    norm: object
    model: object

    @property
    def classes(self) -> list:
        return list(self.config.get("classes", self.data.classes))


def checkpoint_path(run_or_checkpoint, prefer=("checkpoint_best.npz", "checkpoint_last.npz")):
    """The checkpoint a path names: the file itself, or in a run folder the first of ``prefer``.

    Raises:
        FileNotFoundError: no such path, or a folder without any of ``prefer``.
    """
    path = Path(run_or_checkpoint)
    if path.is_dir():
        for name in prefer:
            if (path / name).exists():
                return path / name
        raise FileNotFoundError(f"{path} is a folder without {' or '.join(prefer)}: not a run "
                                "folder of `striate train`")
    if not path.exists():
        raise FileNotFoundError(f"no such run folder or checkpoint: {path}")
    return path


def trained_state(ckpt) -> dict:
    """The weights to use from a checkpoint: a run with ``--ema`` uses its averaged weights."""
    state = dict(ckpt["model"])
    if ckpt.get("ema"):
        state.update(ckpt["ema"]["shadow"])
    return state


def load_run(run_or_checkpoint) -> TrainedRun:
    """Rebuild the model, dataset and normalisation of a run folder or checkpoint.

    A compressed run (``striate compress ...``) comes back as compressed: its config records
    the layers that differ from the zoo's architecture (``train.architecture``).

    Raises:
        FileNotFoundError: no such run folder or checkpoint.
        ValueError: the file is not a striate training checkpoint, or its weights do not fit
            the model its config names.
    """
    from ..data import load_dataset
    from ..data.transforms import Normalize, transform_from_dict
    from .architecture import build_model

    path = checkpoint_path(run_or_checkpoint)
    ckpt = load(path)
    if not isinstance(ckpt, dict) or "config" not in ckpt or "model" not in ckpt:
        raise ValueError(f"{path} is not a striate training checkpoint (no config or model)")
    config = ckpt["config"]
    data = load_dataset(config["data"])
    norm = (transform_from_dict(config["normalize"]) if "normalize" in config
            else Normalize.fit(data.train.X, per_channel=True))
    try:
        model = build_model(config, data.num_classes, data.input_shape)
    except (TypeError, ValueError) as e:
        raise ValueError(f"{path}: cannot rebuild model {config['model']!r}: {e}") from None
    try:
        model.load_state_dict(trained_state(ckpt))
    except (KeyError, ValueError, RuntimeError) as e:
        detail = "; ".join(line.strip() for line in str(e).splitlines() if line.strip())
        raise ValueError(f"{path} does not fit model {config['model']!r} on "
                         f"{config['data']!r}: {detail}") from None
    model.eval()
    return TrainedRun(path, config, data, norm, model)
