"""The ``striate`` command.

Each family of sub-commands lives in its own module of this package (``train.py`` holds
``train``, ``eval`` and ``predict``) with an ``add_parsers(subparsers)`` function that adds its
sub-commands, each with ``set_defaults(handler=function)``; ``COMMAND_MODULES`` lists them in the
order ``striate --help`` shows them. This module turns the errors a user can cause (a missing
file, an unknown model, a checkpoint of another model, an unreadable image) into one line on
stderr and exit status 2. ``STRIATE_DEBUG=1`` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import datetime
import importlib
import os
import sys
from pathlib import Path

__all__ = ["main", "build_parser", "CommandError", "positive_int", "non_negative_float",
           "model_name", "run_dir"]

COMMAND_MODULES = ["train", "classic", "models", "convnets", "classic_tools", "charnn", "caption",
                   "graphs", "rl", "generate", "detect", "compress", "attack", "visualize"]


class CommandError(Exception):
    """An error caused by the command's input, reported as one line without a traceback."""


def model_name(text: str) -> str:
    """argparse type: a name of the model zoo; a wrong one gets a short error with the nearest
    names, and `striate models` lists them all (with parameters and multiply-adds)."""
    import difflib

    from ..models import list_models

    names = list_models()
    if text in names:
        return text
    close = difflib.get_close_matches(text, names, n=3)
    hint = f" (did you mean {', '.join(close)}?)" if close else ""
    raise argparse.ArgumentTypeError(f"unknown model {text!r}{hint}; `striate models` lists them")


def positive_int(text: str) -> int:
    """argparse type: an int > 0."""
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if v <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {v}")
    return v


def non_negative_float(text: str) -> float:
    """argparse type: a finite float >= 0."""
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0 <= v < float("inf"):
        raise argparse.ArgumentTypeError(f"expected a non-negative number, got {text}")
    return v


def run_dir(out, name: str) -> Path:
    """Create and return a new run folder ``OUT/<date>-<time>-NAME`` (``-2``, ``-3``, ... when
    taken).

    The folder is made here with ``os.mkdir`` (no ``exist_ok``): the one caller whose ``mkdir``
    succeeds owns the name, so two runs started in the same second never share a folder.
    """
    stamp = datetime.datetime.now().strftime("%Y-%m-%d-%H%M%S")
    return new_folder(Path(out), f"{stamp}-{name}")


def new_folder(parent: Path, base: str) -> Path:
    """Atomically create ``parent/base`` (or ``base-2``, ``base-3``, ...) and return its path."""
    parent.mkdir(parents=True, exist_ok=True)
    k = 1
    while True:
        path = parent / (base if k == 1 else f"{base}-{k}")
        try:
            os.mkdir(path)
            return path
        except FileExistsError:
            k += 1


def build_parser() -> argparse.ArgumentParser:
    from .. import __version__

    parser = argparse.ArgumentParser(
        prog="striate",
        description="striate: the CS231n curriculum as one deep-learning library, on NumPy.",
        epilog="Run `striate COMMAND --help` for the options of a command.",
    )
    parser.add_argument("--version", action="version", version=f"striate {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(f"{__name__}.{name}").add_parsers(sub)
    return parser


def main(argv=None) -> int:
    """Entry point of the ``striate`` command; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)  # to relaunch (train --nproc)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        return args.handler(args) or 0
    except KeyboardInterrupt:
        print("striate: interrupted", file=sys.stderr)
        return 130
    except Exception as e:  # one line for the user; the traceback on demand
        if os.environ.get("STRIATE_DEBUG"):
            raise
        if isinstance(e, KeyError) and e.args:
            msg = str(e.args[0])
        elif isinstance(e, (CommandError, OSError, ValueError, ImportError, RuntimeError,
                            TypeError)):
            msg = str(e)
        else:
            msg = repr(e)
        msg = " ".join(msg.split())  # one line, whatever the message
        print(f"striate {args.command}: error: {msg}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
