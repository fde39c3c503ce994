"""Pickle-free saving and loading of nested Python data holding Tensors and arrays.

A file is one uncompressed ``.npz`` archive (``np.savez``): every array leaf under a generated key
(``a0``, ``a1``, ...) plus one entry, ``__striate__``, holding a UTF-8 JSON document (as a uint8
array) that describes the structure and says which leaves are Tensors, NumPy arrays or NumPy
scalars. Loading uses ``allow_pickle=False``, so a file can never run code.

What can be saved: dicts (any keys of the supported scalar types, insertion order kept), lists,
tuples, ``Tensor``, ``numpy.ndarray`` (not of dtype object), NumPy scalars, ``int`` (any size),
``float`` (NaN and infinities too), ``str``, ``bool`` and ``None``. A dict subclass such as
``OrderedDict`` comes back as a plain ``dict``; a Tensor comes back as a ``Tensor`` on the CPU with
its dtype and ``requires_grad`` flag.

Writing is atomic: the archive goes to a temporary file in the target's directory, is flushed and
fsynced, and then ``os.replace``-d over the target, so a crash leaves either the old file or the
new one, never half of one.

Example:
    >>> import os, tempfile, numpy as np, striate
    >>> from striate.train import save, load
    >>> path = os.path.join(tempfile.mkdtemp(), "ckpt.npz")
    >>> save({"w": striate.ones(2, 3), "step": 7, "lr": 0.1}, path)
    >>> obj = load(path)
    >>> type(obj["w"]).__name__, obj["w"].shape, obj["step"], obj["lr"]
    ('Tensor', (2, 3), 7, 0.1)
"""

from __future__ import annotations

import json
import math
import os
import tempfile
import zipfile
from collections.abc import Mapping

import numpy as np

from .. import backend
from ..autograd.tensor import Tensor

__all__ = ["CheckpointError", "load", "save"]

FORMAT = "striate"
VERSION = 1
META_KEY = "__striate__"


class CheckpointError(ValueError):
    """A file that is not a readable striate checkpoint (corrupt, truncated or foreign)."""


# ---- encoding -----------------------------------------------------------------------------------
#
# JSON nodes: null / true / false / int / finite float / str stand for themselves; a JSON list is a
# Python list; every other value is an object with one tag key:
#   {"$tuple": [node, ...]}                  {"$dict": {str: node}}  (all keys are str)
#   {"$items": [[key_node, node], ...]}      (a dict with some non-str keys, e.g. optimizer state)
#   {"$float": "nan" | "inf" | "-inf"}       (standard JSON has no non-finite numbers)
#   {"$tensor": key, "requires_grad": bool}  {"$ndarray": key}  {"$npscalar": key}


def _where(path: str) -> str:
    return path or "<root>"


def _host(array) -> np.ndarray:
    """A NumPy view/copy of ``array`` (a CuPy array is copied to the host)."""
    if backend.get_array_module(array) is not np:  # pragma: no cover - GPU only
        array = array.get()
    return np.asarray(array)


class _Encoder:
    def __init__(self):
        self.arrays: dict[str, np.ndarray] = {}

    def _store(self, array: np.ndarray, path: str) -> str:
        if array.dtype.kind == "O" or array.dtype.hasobject:
            raise TypeError(
                f"save: the array at {_where(path)} has dtype object, which cannot be saved "
                "without pickle; convert it to a numeric dtype or to a list"
            )
        key = f"a{len(self.arrays)}"
        self.arrays[key] = array
        return key

    def encode(self, obj, path: str):
        # bool before int: bool is a subclass of int
        if obj is None or isinstance(obj, (bool, str)):
            return obj
        if isinstance(obj, np.generic):
            return {"$npscalar": self._store(np.asarray(obj), path)}
        if isinstance(obj, int):
            return int(obj)
        if isinstance(obj, float):
            if math.isfinite(obj):
                return float(obj)
            return {"$float": "nan" if math.isnan(obj) else ("inf" if obj > 0 else "-inf")}
        if isinstance(obj, Tensor):
            key = self._store(_host(obj.array), path)
            return {"$tensor": key, "requires_grad": bool(obj.requires_grad)}
        if isinstance(obj, np.ndarray) or backend.get_array_module(obj) is not np:
            return {"$ndarray": self._store(_host(obj), path)}
        if isinstance(obj, list):
            return [self.encode(v, f"{path}[{i}]") for i, v in enumerate(obj)]
        if isinstance(obj, tuple):
            return {"$tuple": [self.encode(v, f"{path}[{i}]") for i, v in enumerate(obj)]}
        if isinstance(obj, Mapping):
            if all(isinstance(k, str) for k in obj):
                return {"$dict": {k: self.encode(v, f"{path}.{k}" if path else k)
                                  for k, v in obj.items()}}
            items = []
            for k, v in obj.items():
                if k is not None and not isinstance(k, (bool, int, float, str, tuple)):
                    raise TypeError(
                        f"save: unsupported dict key of type {type(k).__name__} ({k!r}) at "
                        f"{_where(path)}; keys must be str, int, float, bool, None or tuples"
                    )
                items.append([self.encode(k, path), self.encode(v, f"{path}[{k!r}]")])
            return {"$items": items}
        raise TypeError(
            f"save: unsupported object of type {type(obj).__name__} at {_where(path)}; "
            "supported: dict, list, tuple, Tensor, numpy array or scalar, int, float, str, "
            "bool, None"
        )


def _encode(obj) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The arrays to store and the JSON document (as a uint8 array) describing ``obj``."""
    enc = _Encoder()
    root = enc.encode(obj, "")
    doc = {"format": FORMAT, "version": VERSION, "root": root}
    text = json.dumps(doc, allow_nan=False, separators=(",", ":"))
    return enc.arrays, np.frombuffer(text.encode("utf-8"), dtype=np.uint8)


# ---- decoding -----------------------------------------------------------------------------------


class _Decoder:
    def __init__(self, arrays: Mapping, source: str):
        self.arrays = arrays
        self.source = source

    def _array(self, key) -> np.ndarray:
        if not isinstance(key, str) or key not in self.arrays:
            raise CheckpointError(
                f"load: {self.source} is corrupt: its structure refers to array {key!r}, which "
                "the archive does not hold"
            )
        return self.arrays[key]

    def decode(self, node):
        if node is None or isinstance(node, (bool, int, float, str)):
            return node
        if isinstance(node, list):
            return [self.decode(v) for v in node]
        if isinstance(node, dict) and len(node) >= 1:
            if "$tensor" in node:
                return Tensor(self._array(node["$tensor"]),
                              requires_grad=bool(node.get("requires_grad", False)))
            if "$ndarray" in node:
                return self._array(node["$ndarray"])
            if "$npscalar" in node:
                return self._array(node["$npscalar"])[()]
            if "$float" in node and node["$float"] in ("nan", "inf", "-inf"):
                return float(node["$float"])
            if "$tuple" in node and isinstance(node["$tuple"], list):
                return tuple(self.decode(v) for v in node["$tuple"])
            if "$dict" in node and isinstance(node["$dict"], dict):
                return {k: self.decode(v) for k, v in node["$dict"].items()}
            if "$items" in node and isinstance(node["$items"], list):
                return {self.decode(k): self.decode(v) for k, v in node["$items"]}
        raise CheckpointError(
            f"load: {self.source} is corrupt: unknown structure node {node!r:.80}"
        )


# ---- files --------------------------------------------------------------------------------------


def _fsync_dir(directory: str) -> None:
    """Make the rename itself durable (POSIX); skipped where directories can't be opened."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # pragma: no cover - e.g. Windows
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


def _file_mode() -> int:
    """The mode a plain ``open`` would give a new file (mkstemp makes it 0600)."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


_FILE_MODE = _file_mode()


def save(obj, path: str | os.PathLike) -> None:
    """Write ``obj`` (nested dicts/lists/tuples of Tensors, arrays and scalars) to ``path``.

    The file is written to exactly ``path`` (no ``.npz`` is appended), atomically: a temporary
    file in the same directory is filled, flushed, fsynced and renamed over ``path``.

    Args:
        obj: the data to save; see the module docstring for the supported types.
        path: the file to write; its directory must exist.

    Raises:
        TypeError: ``obj`` holds an unsupported type (the message names where, e.g.
            ``optimizer.state[0]``); nothing is written then.
        FileNotFoundError: the directory of ``path`` does not exist.
    """
    path = os.fspath(path)
    arrays, meta = _encode(obj)  # may raise TypeError before anything touches the disk
    write_atomic(path, lambda f: np.savez(f, allow_pickle=False, **{META_KEY: meta}, **arrays))


# deflate cannot expand data more than about 1032 times; a member claiming more is forged
_MAX_DEFLATE_RATIO = 1100


def write_atomic(path: str, write) -> None:
    """Fill a temporary file beside ``path`` with ``write(fh)``, then rename it over ``path``.

    On any exception (Ctrl-C included) the temporary file is removed and ``path`` is untouched.
    A process killed outright (SIGKILL, power loss) cannot clean up: its temporary file carries
    its process id, and the next write beside it removes the files of processes that no longer
    exist.
    """
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"save: the directory {directory!r} of {path!r} does not exist")
    prefix = f".{os.path.basename(path)}."
    _remove_orphans(directory, prefix)
    fd, tmp = tempfile.mkstemp(prefix=f"{prefix}{os.getpid()}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, _FILE_MODE)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:  # pragma: no cover - already renamed
            pass
        raise
    _fsync_dir(directory)


def _remove_orphans(directory: str, prefix: str) -> None:
    """Delete ``prefix<pid>.*.tmp`` files in ``directory`` whose writer process is gone."""
    for name in os.listdir(directory):
        if not (name.startswith(prefix) and name.endswith(".tmp")):
            continue
        pid = name[len(prefix):].split(".", 1)[0]
        if not pid.isdigit():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            try:
                os.unlink(os.path.join(directory, name))
            except FileNotFoundError:  # another writer removed it first
                pass
        except PermissionError:  # alive, another user's
            pass


def _check_member_sizes(f, path: str) -> None:
    """Refuse an archive whose ``.npy`` members declare more data than the file can hold, before
    NumPy allocates it (a forged header claiming 10^11 floats would otherwise be a bare
    ``MemoryError``). Leaves ``f`` at its start; a file that is not a zip is left to ``np.load``."""
    if not zipfile.is_zipfile(f):
        f.seek(0)
        return
    f.seek(0)
    size = os.fstat(f.fileno()).st_size
    with zipfile.ZipFile(f) as z:
        for info in z.infolist():
            stored = info.compress_type == zipfile.ZIP_STORED
            limit = info.compress_size * (1 if stored else _MAX_DEFLATE_RATIO)
            if info.compress_size > size or info.file_size > limit:
                raise CheckpointError(
                    f"load: {path!r} is corrupt: member {info.filename!r} claims "
                    f"{info.file_size} bytes from {info.compress_size} stored bytes in a "
                    f"{size}-byte file")
            with z.open(info) as m:
                try:
                    version = np.lib.format.read_magic(m)
                    if version == (1, 0):
                        shape, _, dtype = np.lib.format.read_array_header_1_0(m)
                    elif version == (2, 0):
                        shape, _, dtype = np.lib.format.read_array_header_2_0(m)
                    else:
                        continue  # np.load reports versions it does not know
                except ValueError:
                    continue  # not an .npy member: np.load reports it
                declared = math.prod(shape) * dtype.itemsize
                available = info.file_size - m.tell()
            if declared > available:
                raise CheckpointError(
                    f"load: {path!r} is corrupt or forged: member {info.filename!r} declares "
                    f"shape {tuple(shape)} of {dtype} ({declared} bytes) but holds only "
                    f"{available} bytes")
    f.seek(0)


def load(path: str | os.PathLike):
    """Read what :func:`save` wrote to ``path``; Tensors come back as Tensors (on the CPU).

    Raises:
        FileNotFoundError: there is no file at ``path``.
        CheckpointError: (a ``ValueError``) the file is not a readable striate checkpoint —
            truncated, corrupt, a foreign ``.npz``/``.npy``, or holding pickled data.
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"load: no checkpoint at {path!r}")
    if os.path.isdir(path):
        raise IsADirectoryError(f"load: {path!r} is a directory, expected a checkpoint file")
    # np.load is given our own file object: on a truncated zip it would otherwise leak the file
    # it opened itself
    try:
        with open(path, "rb") as f:
            _check_member_sizes(f, path)
            archive = np.load(f, allow_pickle=False)
            if not isinstance(archive, np.lib.npyio.NpzFile):
                raise CheckpointError(
                    f"load: {path!r} is a .npy array file, not a striate checkpoint (.npz)"
                )
            with archive:
                if META_KEY not in archive.files:
                    raise CheckpointError(
                        f"load: {path!r} is an .npz archive but not a striate checkpoint (no "
                        f"'{META_KEY}' entry; it holds {sorted(archive.files)[:5]})"
                    )
                arrays = {name: archive[name] for name in archive.files}
    except CheckpointError:
        raise
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, KeyError) as e:
        raise CheckpointError(
            f"load: {path!r} is not a readable striate checkpoint (corrupt or truncated): "
            f"{type(e).__name__}: {e}"
        ) from e
    try:
        doc = json.loads(bytes(arrays.pop(META_KEY)).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise CheckpointError(f"load: {path!r} is corrupt: its structure document is not valid "
                              f"JSON ({e})") from e
    if not isinstance(doc, dict) or doc.get("format") != FORMAT or "root" not in doc:
        raise CheckpointError(f"load: {path!r} is corrupt: its structure document lacks the "
                              f"'{FORMAT}' format marker")
    if doc.get("version", 0) > VERSION:
        raise CheckpointError(f"load: {path!r} has format version {doc['version']}, newer than "
                              f"this striate reads ({VERSION}); upgrade striate")
    try:
        return _Decoder(arrays, repr(path)).decode(doc["root"])
    except (TypeError, ValueError) as e:
        if isinstance(e, CheckpointError):
            raise
        raise CheckpointError(f"load: {path!r} is corrupt: malformed structure ({e})") from e
