"""``SummaryWriter``: TensorBoard event files, with ``torch.utils.tensorboard``'s methods.

The event files are written by tensorboardX (the optional ``tensorboard`` extra:
``pip install 'striate[tensorboard]'``); this class takes striate Tensors where tensorboardX takes
arrays, checks its arguments in striate's terms, and is what :class:`striate.train.Trainer`
writes to with ``tensorboard=True``. View the logs with ``tensorboard --logdir runs``.

Example:
    >>> from striate.utils.tensorboard import SummaryWriter       # doctest: +SKIP
    >>> with SummaryWriter("runs/demo") as w:                      # doctest: +SKIP
    ...     for step in range(10):
    ...         w.add_scalar("loss", 1.0 / (step + 1), step)
"""

from __future__ import annotations

import numbers
import os

import numpy as np

from ..autograd.tensor import Tensor

__all__ = ["SummaryWriter"]

EXTRA_HINT = "pip install 'striate[tensorboard]' (tensorboardX)"


def _array(x, what: str) -> np.ndarray:
    if isinstance(x, Tensor):
        x = x.detach().array
    try:
        a = np.asarray(x)
    except Exception as e:  # noqa: BLE001 - report any unconvertible value the same way
        raise TypeError(f"{what}: expected a Tensor or array, got {type(x).__name__}") from e
    if a.dtype.kind not in "biuf":
        raise TypeError(f"{what}: expected numeric data, got dtype {a.dtype}")
    return a


def _scalar(x, what: str) -> float:
    if isinstance(x, (Tensor, np.ndarray, np.generic)):
        a = _array(x, what)
        if a.size != 1:
            raise ValueError(f"{what}: expected a single number, got shape {a.shape}")
        return float(a.reshape(()))
    if isinstance(x, numbers.Real):
        return float(x)
    raise TypeError(f"{what}: expected a number or a one-element Tensor, got {type(x).__name__}")


class SummaryWriter:
    """Write TensorBoard event files to ``log_dir``.

    Args:
        log_dir: the folder (created); default ``runs/<date>_<host>`` as in PyTorch.
        comment: appended to the default ``log_dir``.
        purge_step, max_queue, flush_secs, filename_suffix: as in PyTorch / tensorboardX.

    Raises:
        ImportError: tensorboardX is not installed (names the extra to install).
    """

    def __init__(self, log_dir: str | os.PathLike | None = None, comment: str = "",
                 purge_step: int | None = None, max_queue: int = 10, flush_secs: int = 120,
                 filename_suffix: str = ""):
        try:
            from tensorboardX import SummaryWriter as _Writer
        except ImportError as e:
            raise ImportError(f"SummaryWriter needs tensorboardX: {EXTRA_HINT}") from e
        self._w = _Writer(logdir=None if log_dir is None else os.fspath(log_dir),
                          comment=comment, purge_step=purge_step, max_queue=max_queue,
                          flush_secs=flush_secs, filename_suffix=filename_suffix)

    @property
    def log_dir(self) -> str:
        """The folder the event files go to."""
        return self._w.logdir

    def add_scalar(self, tag: str, scalar_value, global_step: int | None = None,
                   walltime: float | None = None) -> None:
        """One point of the curve ``tag``: a number or a one-element Tensor at ``global_step``."""
        self._w.add_scalar(tag, _scalar(scalar_value, f"add_scalar({tag!r})"), global_step,
                           walltime)

    def add_scalars(self, main_tag: str, tag_scalar_dict: dict, global_step: int | None = None,
                    walltime: float | None = None) -> None:
        """Several curves in one chart: ``{'train': 0.5, 'val': 0.7}`` under ``main_tag``. Each
        curve is a run of its own, in ``log_dir/<main_tag>/<name>`` (tensorboardX's layout;
        PyTorch's writer names it ``<main_tag>_<name>``)."""
        if not isinstance(tag_scalar_dict, dict):
            raise TypeError(f"add_scalars: tag_scalar_dict must be a dict of name -> number, got "
                            f"{type(tag_scalar_dict).__name__}")
        values = {k: _scalar(v, f"add_scalars({main_tag!r}, {k!r})")
                  for k, v in tag_scalar_dict.items()}
        self._w.add_scalars(main_tag, values, global_step, walltime)

    def add_histogram(self, tag: str, values, global_step: int | None = None,
                      bins: str | int = "tensorflow", walltime: float | None = None) -> None:
        """The distribution of ``values`` (a Tensor of any shape), e.g. a layer's weights."""
        a = _array(values, f"add_histogram({tag!r})").astype(np.float64).ravel()
        if a.size == 0 or not np.isfinite(a).all():
            raise ValueError(f"add_histogram({tag!r}): values must be non-empty and finite")
        self._w.add_histogram(tag, a, global_step, bins=bins, walltime=walltime)

    def add_image(self, tag: str, img_tensor, global_step: int | None = None,
                  walltime: float | None = None, dataformats: str = "CHW") -> None:
        """An image: floats in [0, 1] or uint8 in [0, 255], laid out as ``dataformats``
        (``'CHW'`` default, ``'HWC'``, ``'HW'``); C is 1 or 3 (or 4 with alpha)."""
        a = _array(img_tensor, f"add_image({tag!r})")
        if a.ndim != len(dataformats):
            raise ValueError(f"add_image({tag!r}): dataformats {dataformats!r} needs "
                             f"{len(dataformats)} dims, got shape {a.shape}")
        self._w.add_image(tag, a, global_step, walltime, dataformats=dataformats)

    def add_text(self, tag: str, text_string: str, global_step: int | None = None,
                 walltime: float | None = None) -> None:
        """A piece of text (Markdown), e.g. the run's config."""
        if not isinstance(text_string, str):
            raise TypeError(f"add_text({tag!r}): text_string must be a str, got "
                            f"{type(text_string).__name__}")
        self._w.add_text(tag, text_string, global_step, walltime)

    def add_hparams(self, hparam_dict: dict, metric_dict: dict,
                    hparam_domain_discrete: dict | None = None, run_name: str | None = None,
                    global_step: int | None = None) -> None:
        """One row of TensorBoard's HPARAMS table: the run's hyper-parameters (numbers, strings,
        bools) and its final metrics (numbers), written to a sub-run as PyTorch does.

        ``hparam_domain_discrete`` (declaring each hyper-parameter's possible values) is not
        supported by the tensorboardX writer: TensorBoard shows the values the runs logged."""
        if not isinstance(hparam_dict, dict) or not isinstance(metric_dict, dict):
            raise TypeError("add_hparams: hparam_dict and metric_dict must be dicts")
        if hparam_domain_discrete is not None:
            raise ValueError("add_hparams: hparam_domain_discrete is not supported by the "
                             "tensorboardX writer; leave it None")
        for k, v in hparam_dict.items():
            if not isinstance(v, (bool, str, numbers.Real)):
                raise TypeError(f"add_hparams: hparam {k!r} must be a number, str or bool, got "
                                f"{type(v).__name__}")
        metrics = {k: _scalar(v, f"add_hparams metric {k!r}") for k, v in metric_dict.items()}
        self._w.add_hparams(hparam_dict, metrics, name=run_name, global_step=global_step)

    def flush(self) -> None:
        """Write pending events to disk."""
        self._w.flush()

    def close(self) -> None:
        """Flush and close the event files."""
        self._w.close()

    def __enter__(self) -> SummaryWriter:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def trainer_log_dir(tensorboard, out_dir) -> str | None:
    """Where a Trainer's ``tensorboard`` option sends its event files: None for False,
    ``out_dir/tensorboard`` for True, the given folder for a path. Checks tensorboardX is there.
    """
    if tensorboard is False or tensorboard is None:
        return None
    if tensorboard is True:
        if out_dir is None:
            raise ValueError("Trainer: tensorboard=True writes to out_dir/tensorboard, but out_dir "
                             "is None; pass out_dir or a folder as tensorboard=")
        folder = os.path.join(os.fspath(out_dir), "tensorboard")
    elif isinstance(tensorboard, (str, os.PathLike)):
        folder = os.fspath(tensorboard)
    else:
        raise TypeError(f"Trainer: tensorboard must be a bool or a folder path, got "
                        f"{type(tensorboard).__name__}")
    try:
        import tensorboardX  # noqa: F401 - fail now, not after the first epoch
    except ImportError as e:
        raise ImportError(f"Trainer: tensorboard= needs tensorboardX: {EXTRA_HINT}") from e
    return folder


def log_epoch(writer: SummaryWriter, record: dict) -> None:
    """Write one epoch of a Trainer's history: ``train_loss`` as ``loss/train``, ``val_acc`` as
    ``acc/val`` (and so for every metric), ``lr``, at step ``record['epoch']``."""
    step = int(record["epoch"])
    for key, value in record.items():
        if not isinstance(value, numbers.Real) or isinstance(value, bool):
            continue
        split, _, name = key.partition("_")
        if split in ("train", "val") and name:
            writer.add_scalar(f"{name}/{split}", value, step)
        elif key == "lr":
            writer.add_scalar("lr", value, step)
    writer.flush()
