"""The ``striate`` command: ``striate train``, ``striate eval``, ``striate predict``.

Each sub-command lives in ``commands.py``; this module parses arguments and turns the errors a
user can cause (a missing file, an unknown model, a checkpoint of another model, an unreadable
image) into one line on stderr and exit status 2. ``STRIATE_DEBUG=1`` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import os
import sys

__all__ = ["main", "build_parser", "CommandError"]


class CommandError(Exception):
    """An error caused by the command's input, reported as one line without a traceback."""


def _positive_int(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if v <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {v}")
    return v


def _non_negative_float(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if v < 0 or v != v:
        raise argparse.ArgumentTypeError(f"expected a non-negative number, got {text}")
    return v


def build_parser() -> argparse.ArgumentParser:
    from .. import __version__
    from ..models import list_models
    from .commands import DEFAULT_EPOCHS, OPTIMIZERS, SCHEDULES

    parser = argparse.ArgumentParser(
        prog="striate",
        description="striate: the CS231n curriculum as one deep-learning library, on NumPy.",
        epilog="Run `striate COMMAND --help` for the options of a command.",
    )
    parser.add_argument("--version", action="version", version=f"striate {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    t = sub.add_parser(
        "train",
        help="train a model (by default a small ConvNet on the bundled digits)",
        description="Train a model, show progress, print the test accuracy, and write a run "
        "folder (config, metrics CSV, best and last checkpoints, plots).",
    )
    t.add_argument("--model", default="convnet", choices=list_models(),
                   help="architecture (default: %(default)s)")
    t.add_argument("--data", default="digits",
                   help="dataset: 'digits' (bundled, default)")
    t.add_argument("--epochs", type=_positive_int, default=None,
                   help=f"default: {DEFAULT_EPOCHS} (with --resume: the run's own)")
    t.add_argument("--batch-size", type=_positive_int, default=64, help="default: %(default)s")
    t.add_argument("--optimizer", default="adam", choices=sorted(OPTIMIZERS),
                   help="default: %(default)s")
    t.add_argument("--lr", type=_non_negative_float, default=3e-3,
                   help="learning rate (default: %(default)s)")
    t.add_argument("--momentum", type=_non_negative_float, default=0.9,
                   help="momentum for sgd/rmsprop (default: %(default)s)")
    t.add_argument("--weight-decay", type=_non_negative_float, default=1e-4,
                   help="L2 weight decay (default: %(default)s)")
    t.add_argument("--schedule", default="cosine", choices=sorted(SCHEDULES),
                   help="learning-rate schedule (default: %(default)s)")
    t.add_argument("--grad-clip", type=_non_negative_float, default=None,
                   help="clip the gradient norm to this value (default: off)")
    t.add_argument("--seed", type=int, default=0, help="random seed (default: %(default)s)")
    t.add_argument("--out", default="runs", help="folder for run folders (default: %(default)s)")
    t.add_argument("--name", default=None, help="run name (default: MODEL-DATA)")
    t.add_argument("--resume", default=None, metavar="CHECKPOINT",
                   help="continue a run from its checkpoint_last.npz")
    t.add_argument("--no-progress", action="store_true", help="no progress bars")

    e = sub.add_parser(
        "eval",
        help="evaluate a run or checkpoint on its dataset",
        description="Print loss and accuracy of a trained model on a split of its dataset.",
    )
    e.add_argument("run", metavar="RUN_OR_CHECKPOINT",
                   help="a run folder (its best checkpoint is used) or a checkpoint .npz")
    e.add_argument("--split", default="test", choices=["train", "val", "test"],
                   help="default: %(default)s")
    e.add_argument("--batch-size", type=_positive_int, default=256, help="default: %(default)s")

    p = sub.add_parser(
        "predict",
        help="classify image files with a trained model",
        description="Classify image files (any format Pillow reads). Images are converted to the "
        "model's channels and size and normalised as in training.",
    )
    p.add_argument("checkpoint", metavar="CHECKPOINT", help="a checkpoint .npz or a run folder")
    p.add_argument("images", metavar="IMAGE", nargs="+", help="image files")
    p.add_argument("--top-k", type=_positive_int, default=3, help="default: %(default)s")
    p.add_argument("--invert", choices=["auto", "yes", "no"], default="auto",
                   help="invert grey levels so ink is bright, as in the digits data; 'auto' "
                   "inverts images with a light background (default: %(default)s)")
    return parser


def main(argv=None) -> int:
    """Entry point of the ``striate`` command; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    from . import commands

    run = {"train": commands.train, "eval": commands.evaluate, "predict": commands.predict}
    try:
        return run[args.command](args) or 0
    except KeyboardInterrupt:
        print("striate: interrupted", file=sys.stderr)
        return 130
    except Exception as e:  # one line for the user; the traceback on demand
        if os.environ.get("STRIATE_DEBUG"):
            raise
        msg = str(e) if isinstance(e, (CommandError, OSError, ValueError, KeyError,
                                        ImportError, RuntimeError, TypeError)) else repr(e)
        if isinstance(e, KeyError):
            msg = str(e.args[0]) if e.args else msg
        msg = " ".join(msg.split())  # one line, whatever the message
        print(f"striate {args.command}: error: {msg}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
