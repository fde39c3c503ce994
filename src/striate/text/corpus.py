"""Corpus readers: any text file, or the Python standard library's ``.py`` sources.

``stdlib_corpus`` concatenates the standard library's modules in sorted order of their relative
paths (POSIX separators), so the same Python install always gives the same text; test suites,
``site-packages`` and caches are left out, and reading stops at a size cap.
"""

from __future__ import annotations

import os
import sysconfig
from pathlib import Path

__all__ = ["read_corpus", "read_text", "stdlib_corpus", "stdlib_files"]

DEFAULT_MAX_CHARS = 3_000_000
_SKIP_DIRS = {"site-packages", "dist-packages", "__pycache__", "test", "tests", "idle_test"}


def stdlib_files(root: str | os.PathLike | None = None) -> list[Path]:
    """The ``.py`` files under the standard library folder (``sysconfig``'s ``stdlib`` path, or
    ``root``), sorted by relative path, skipping tests, site-packages and caches."""
    root = Path(root if root is not None else sysconfig.get_paths()["stdlib"])
    if not root.is_dir():
        raise FileNotFoundError(f"stdlib_files: no standard library folder at {root}")
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in _SKIP_DIRS and not d.startswith(".")]
        for f in filenames:
            if f.endswith(".py"):
                found.append(Path(dirpath, f))
    return sorted(found, key=lambda p: p.relative_to(root).as_posix())


def _normalise(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def stdlib_corpus(max_chars: int = DEFAULT_MAX_CHARS,
                  root: str | os.PathLike | None = None) -> str:
    """The standard library's sources concatenated (files that are not valid UTF-8 are skipped),
    cut at ``max_chars`` characters. Deterministic for a given Python install."""
    if max_chars <= 0:
        raise ValueError(f"stdlib_corpus: max_chars must be positive, got {max_chars}")
    parts, size = [], 0
    for path in stdlib_files(root):
        try:
            text = _normalise(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, OSError):
            continue
        if not text.strip():
            continue
        if not text.endswith("\n"):
            text += "\n"
        parts.append(text)
        size += len(text)
        if size >= max_chars:
            break
    return "".join(parts)[:max_chars]


def read_text(path: str | os.PathLike, max_chars: int | None = None) -> str:
    """A UTF-8 text file (undecodable bytes replaced), newlines normalised, optionally capped."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"read_text: no such file: {path}")
    text = _normalise(path.read_text(encoding="utf-8", errors="replace"))
    if not text:
        raise ValueError(f"read_text: {path} is empty")
    return text if max_chars is None else text[:max_chars]


def read_corpus(path: str | os.PathLike | None = None,
                max_chars: int | None = DEFAULT_MAX_CHARS) -> str:
    """``read_text(path)`` for a file, or the standard library's sources when ``path`` is None."""
    if path is None:
        return stdlib_corpus(max_chars or DEFAULT_MAX_CHARS)
    return read_text(path, max_chars)
