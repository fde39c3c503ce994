"""``striate.save`` / ``striate.load`` with ``torch.save`` / ``torch.load``'s contract.

``save(obj, path)`` writes nested dicts/lists/tuples of Tensors, arrays and plain scalars in the
checkpoint format of :mod:`striate.train.checkpoint` (one ``.npz`` archive: the arrays plus a JSON
document describing the structure; loading it can never run code). A path ending in
``.safetensors`` writes a flat ``{name: tensor}`` dict as safetensors instead (the optional
``safetensors`` extra), the format PyTorch's ecosystem uses to share weights safely.

``load(path)`` reads any of:

- a striate file written by :func:`save` (or a Trainer checkpoint);
- a ``.safetensors`` file (e.g. ``safetensors.torch.save_file(model.state_dict(), path)``);
- a plain ``.npz`` archive of named arrays (e.g. ``np.savez(path, **{k: v.numpy() ...})``);

the last two come back as an ordered ``{name: Tensor}`` dict. A PyTorch pickle file (``.pt`` /
``.pth`` from ``torch.save``, zip or legacy format) is refused with a message on how to convert it.

Objects that are not plain data (a whole ``nn.Module``) are pickled into the archive; as in
PyTorch 2.6+, ``load`` defaults to ``weights_only=True`` and refuses them, naming the classes the
pickle holds (found without running it), until the caller passes ``weights_only=False`` or allows
those classes with :func:`add_safe_globals` / :class:`safe_globals`.

:func:`load_torch_state_dict` loads such a PyTorch ``state_dict`` into a striate model: striate's
layers use PyTorch's parameter names and layouts (``Linear.weight`` is ``(out, in)``, ``Conv2d``'s
``(F, C, HH, WW)``), so the names and shapes are checked and the arrays copied in.
"""

from __future__ import annotations

import io
import os
import pickle
import struct
import tempfile
import zipfile
from collections import OrderedDict
from collections.abc import Mapping

import numpy as np

from .autograd.tensor import Tensor
from .train import checkpoint as _checkpoint

__all__ = [
    "add_safe_globals",
    "clear_safe_globals",
    "get_safe_globals",
    "load",
    "load_torch_state_dict",
    "safe_globals",
    "save",
]

_SAFETENSORS_HINT = "pip install 'striate[safetensors]'"


def _safetensors_numpy():
    try:
        import safetensors.numpy as st
    except ImportError as e:
        raise ImportError(
            f"reading and writing .safetensors files needs the safetensors package: "
            f"{_SAFETENSORS_HINT}"
        ) from e
    return st


def _save_safetensors(obj, path: str) -> None:
    if not isinstance(obj, Mapping):
        raise TypeError(f"save: a .safetensors file holds a flat dict of names to tensors, got "
                        f"{type(obj).__name__}")
    arrays = {}
    for k, v in obj.items():
        if not isinstance(k, str) or not isinstance(v, (Tensor, np.ndarray)):
            raise TypeError(f"save: a .safetensors file holds str names and Tensors/arrays only, "
                            f"got {type(k).__name__} -> {type(v).__name__} at {k!r}")
        arrays[k] = np.ascontiguousarray(_checkpoint._host(v.array if isinstance(v, Tensor)
                                                           else v))
    st = _safetensors_numpy()
    _checkpoint.write_atomic(path, lambda fh: fh.write(st.save(arrays)))


def _is_safetensors(path: str) -> bool:
    """A safetensors file starts with a little-endian u64 header length, then JSON ``{``."""
    with open(path, "rb") as fh:
        head = fh.read(9)
    if len(head) < 9 or head[8:9] != b"{":
        return False
    (n,) = struct.unpack("<Q", head[:8])
    return 0 < n <= os.path.getsize(path) - 8


def _map(obj, fn):
    if isinstance(obj, Tensor):
        return fn(obj)
    if isinstance(obj, dict):
        return type(obj)((k, _map(v, fn)) for k, v in obj.items())
    if isinstance(obj, (list, tuple)):
        return type(obj)(_map(v, fn) for v in obj)
    return obj


# ---- save / load with PyTorch's contract ---------------------------------------------------------

# A whole object (an nn.Module, a custom class) cannot be described by the JSON document of the
# checkpoint format; it is pickled into this member of the same .npz archive instead, and reading
# it back needs weights_only=False (or every class it names allowed by add_safe_globals).
_PICKLE_KEY = "__striate_pickle__"
# pre-1.6 torch.save files (_use_new_zipfile_serialization=False) start with a pickled LONG1 of
# this magic number
_TORCH_LEGACY_MAGIC = (0x1950A86A20F9469CFC6C).to_bytes(10, "little")
_TORCH_HINT = (
    "Convert it in PyTorch with safetensors.torch.save_file(state_dict, "
    "'model.safetensors') or numpy.savez('model.npz', **{k: v.numpy() for k, v in "
    "state_dict.items()}), then load that"
)

_safe_globals: list = []
# where NumPy keeps the function that rebuilds a pickled array (numpy._core since NumPy 2)
_np_multiarray = np._core.multiarray if hasattr(np, "_core") else np.core.multiarray


def add_safe_globals(safe_globals: list) -> None:
    """Allow these classes/functions in files loaded with ``weights_only=True`` (as PyTorch).

    A pickled object that names only allowed globals (plus Tensors and arrays) then loads without
    ``weights_only=False``; anything else is still refused before it can run.

    Args:
        safe_globals: classes or functions, or ``(obj, "module.Name")`` pairs.
    """
    for g in safe_globals:
        if g not in _safe_globals:
            _safe_globals.append(g)


def get_safe_globals() -> list:
    """The globals :func:`add_safe_globals` has allowed."""
    return list(_safe_globals)


def clear_safe_globals() -> None:
    """Forget every global :func:`add_safe_globals` allowed."""
    _safe_globals.clear()


class safe_globals:  # noqa: N801 - PyTorch's name
    """Context manager allowing ``safe_globals`` for ``weights_only`` loads inside the block."""

    def __init__(self, safe_globals: list):
        self.safe_globals = list(safe_globals)

    def __enter__(self):
        self._before = get_safe_globals()
        add_safe_globals(self.safe_globals)
        return self

    def __exit__(self, *exc) -> None:
        _safe_globals[:] = self._before


def _global_name(g) -> str:
    if isinstance(g, tuple):
        return g[1]
    return f"{g.__module__}.{g.__qualname__}"


def _allowed_globals() -> dict:
    """``"module.Name" -> object`` that a weights_only unpickling may reach."""
    allowed = {
        "striate.autograd.tensor.Tensor": Tensor,
        "numpy.ndarray": np.ndarray,
        "numpy.dtype": np.dtype,
        "collections.OrderedDict": OrderedDict,
    }
    for g in _safe_globals:
        allowed[_global_name(g)] = g[0] if isinstance(g, tuple) else g
    return allowed


class _Refused:
    """Stands in for every global a weights_only load does not allow: it accepts whatever it is
    given and runs nothing, so the scan can go on and name all of them at once."""

    def __init__(self, *args, **kwargs):
        pass

    def __setstate__(self, state):
        pass


class _WeightsOnlyUnpickler(pickle.Unpickler):
    def __init__(self, fh):
        super().__init__(fh)
        self.allowed = _allowed_globals()
        self.refused: list[str] = []

    def find_class(self, module: str, name: str):
        full = f"{module}.{name}"
        if module in ("numpy.core.multiarray", "numpy._core.multiarray") and name == "_reconstruct":
            return _np_multiarray._reconstruct
        if full in self.allowed:
            return self.allowed[full]
        if full not in self.refused:
            self.refused.append(full)
        return _Refused


def _unpickle(data: bytes, source: str, weights_only: bool):
    if not weights_only:
        return pickle.loads(data)
    unpickler = _WeightsOnlyUnpickler(io.BytesIO(data))
    try:
        obj = unpickler.load()
    except Exception as e:  # noqa: BLE001 - a stand-in broke the rebuild; the names say why
        if not unpickler.refused:
            raise ValueError(f"load: {source} holds a pickled object that could not be read: "
                             f"{type(e).__name__}: {e}") from e
        obj = None
    if unpickler.refused:
        raise pickle.UnpicklingError(
            f"load: weights_only=True loads tensors, arrays and plain containers only, but "
            f"{source} holds a pickled object naming {', '.join(unpickler.refused)}. If you "
            "trust the file, load it with striate.load(f, weights_only=False) (that runs its "
            "code), or allow those classes with striate.serialization.add_safe_globals([...])"
        )
    return obj


def _encode_members(obj) -> dict[str, np.ndarray]:
    """The archive members for ``obj``: data as the checkpoint format, objects as a pickle."""
    try:
        arrays, meta = _checkpoint._encode(obj)
        return {_checkpoint.META_KEY: meta, **arrays}
    except TypeError as plain_error:
        try:
            data = pickle.dumps(obj, protocol=4)
        except Exception as e:  # noqa: BLE001 - pickle raises several types for one cause
            raise TypeError(f"save: cannot save {type(obj).__name__}: it is neither plain data "
                            f"({plain_error}) nor picklable ({type(e).__name__}: {e})") from e
        return {_PICKLE_KEY: np.frombuffer(data, dtype=np.uint8)}


def save(obj, f, pickle_module=None, pickle_protocol: int = 2,
         _use_new_zipfile_serialization: bool = True) -> None:
    """Save ``obj`` to ``f`` (a path or a binary file object), like ``torch.save``.

    Data (dicts, lists, tuples of Tensors, arrays, numbers, strings, None: every ``state_dict``)
    is written as an ``.npz`` archive with a JSON document of its structure: loading it can never
    run code. Anything else (a whole ``nn.Module``) is pickled into the same archive, and, as in
    PyTorch 2.6+, loading it then needs ``weights_only=False``. A path ending in ``.safetensors``
    writes a flat ``{name: tensor}`` dict as safetensors. Writes to a path are atomic.

    Args:
        obj: what to save.
        f: a path (str or os.PathLike) or a file object opened for binary writing.
        pickle_module, pickle_protocol, _use_new_zipfile_serialization: accepted for
            ``torch.save`` compatibility; striate always writes its own format.

    Raises:
        TypeError: ``obj`` is neither plain data nor picklable (the message says why), or ``f``
            is neither a path nor a writable file object.

    Example:
        >>> import os, tempfile, striate
        >>> path = os.path.join(tempfile.mkdtemp(), "net.pth")
        >>> striate.save({"w": striate.ones(2)}, path)
        >>> striate.load(path)["w"].tolist()
        [1.0, 1.0]
    """
    del pickle_module, pickle_protocol, _use_new_zipfile_serialization
    if isinstance(f, (str, os.PathLike)):
        path = os.fspath(f)
        if path.endswith(".safetensors"):
            _save_safetensors(obj, path)
            return
        members = _encode_members(obj)
        _checkpoint.write_atomic(path, lambda fh: np.savez(fh, allow_pickle=False, **members))
        return
    if not hasattr(f, "write"):
        raise TypeError(f"save: f must be a file path (str or os.PathLike) or a binary file "
                        f"object, got {type(f).__name__}")
    members = _encode_members(obj)
    buf = io.BytesIO()
    np.savez(buf, allow_pickle=False, **members)
    f.write(buf.getvalue())


def load(f, map_location=None, pickle_module=None, *, weights_only: bool = True,
         mmap=None, **kwargs):
    """Load what :func:`save` wrote (from a path or a binary file object), like ``torch.load``.

    Also reads a ``.safetensors`` file or a plain ``.npz`` of named arrays (both come back as an
    ordered ``{name: Tensor}`` dict). A PyTorch pickle (``torch.save``, zip or legacy format) is
    refused with the way to convert it: striate never runs a foreign pickle.

    Args:
        f: a path, or a binary file object positioned at the start of the saved data.
        map_location: None or a device string (``"cpu"``) to move every Tensor to.
        weights_only: True (the default, as in PyTorch 2.6+): load tensors, arrays and plain
            containers only; a file holding a pickled object is refused, naming the classes it
            holds, unless they were allowed with :func:`add_safe_globals`. False: unpickle it
            (that runs code from the file: only for files you trust).
        pickle_module, mmap: accepted for ``torch.load`` compatibility.

    Returns:
        the saved object (Tensors come back as Tensors).

    Raises:
        FileNotFoundError: no file at ``f``.
        pickle.UnpicklingError: ``weights_only=True`` and the file holds a pickled object.
        ValueError: a PyTorch pickle file, or a file that is not readable (corrupt, truncated).
    """
    del pickle_module, mmap, kwargs
    if isinstance(f, (str, os.PathLike)):
        path = os.fspath(f)
        if not os.path.exists(path):
            raise FileNotFoundError(f"load: no such file {path!r}")
        obj = _load_path(path, repr(path), weights_only)
    elif hasattr(f, "read"):
        data = f.read()
        source = repr(getattr(f, "name", "<file object>"))
        with tempfile.TemporaryDirectory() as tmpdir:
            path = os.path.join(tmpdir, "loaded")
            with open(path, "wb") as fh:
                fh.write(data)
            obj = _load_path(path, source, weights_only)
    else:
        raise TypeError(f"load: f must be a file path (str or os.PathLike) or a binary file "
                        f"object, got {type(f).__name__}")
    if map_location is not None:
        obj = _map(obj, lambda t: t.to(str(map_location)))
    return obj


def _load_path(path: str, source: str, weights_only: bool):
    if os.path.isfile(path) and _is_safetensors(path):
        st = _safetensors_numpy()
        return OrderedDict((k, Tensor(v)) for k, v in st.load_file(path).items())
    if os.path.isfile(path) and not zipfile.is_zipfile(path):
        with open(path, "rb") as fh:
            head = fh.read(64)
        if head[:1] == b"\x80" and _TORCH_LEGACY_MAGIC in head:
            raise ValueError(
                f"load: {source} is a PyTorch file in the legacy (pre-1.6, non-zip) torch.save "
                f"format, a pickle; striate never unpickles. {_TORCH_HINT}"
            )
        if head[:1] == b"\x80":
            raise ValueError(f"load: {source} is a Python pickle, not a striate file; striate "
                             "never unpickles foreign files")
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as z:
            names = z.namelist()
        if _PICKLE_KEY + ".npy" in names:
            with open(path, "rb") as fh, np.load(fh, allow_pickle=False) as archive:
                data = archive[_PICKLE_KEY].tobytes()
            return _unpickle(data, source, weights_only)
        if any(n.endswith("data.pkl") for n in names):
            raise ValueError(f"load: {source} is a PyTorch pickle file (torch.save); striate "
                             f"never unpickles. {_TORCH_HINT}")
        if _checkpoint.META_KEY + ".npy" not in names and any(n.endswith(".npy") for n in names):
            with open(path, "rb") as fh, np.load(fh, allow_pickle=False) as archive:
                return OrderedDict((k, Tensor(archive[k])) for k in archive.files)
    return _checkpoint.load(path)


def load_torch_state_dict(model, source, strict: bool = True, strip_prefix: str | None = None):
    """Load a PyTorch ``state_dict`` (a ``.safetensors``/``.npz`` path, or a dict of arrays or
    Tensors) into a striate ``model`` with the same architecture.

    Names are PyTorch's dotted names (``features.0.weight``); layouts are the same in both
    libraries, so values are copied as they are (cast to each parameter's dtype). Every name and
    shape is checked before anything is copied: a failed load leaves the model untouched.

    Args:
        model: a ``striate.nn.Module``.
        source: a file path, or a mapping of names to arrays / Tensors / torch tensors.
        strict: missing or unexpected names are an error (``num_batches_tracked``, which older
            PyTorch files lack, is never required).
        strip_prefix: removed from the start of every name that has it (``"module."`` from a
            ``DataParallel`` model); None strips ``"module."`` only when every name has it.

    Returns:
        ``(missing_keys, unexpected_keys)`` as ``Module.load_state_dict``.

    Raises:
        RuntimeError: naming each missing/unexpected name and each shape mismatch (with a hint
            when the shape is the transpose of the expected one).
    """
    sd = load(source) if isinstance(source, (str, os.PathLike)) else source
    if not isinstance(sd, Mapping):
        raise TypeError(f"load_torch_state_dict: expected a state_dict (a mapping of names to "
                        f"tensors), got {type(sd).__name__}")
    sd = OrderedDict((k, _as_array(k, v)) for k, v in sd.items())
    keys = list(sd)
    if strip_prefix is None and keys and all(k.startswith("module.") for k in keys):
        strip_prefix = "module."
    if strip_prefix:
        sd = OrderedDict((k[len(strip_prefix):] if k.startswith(strip_prefix) else k, v)
                         for k, v in sd.items())
    own = model.state_dict(keep_vars=True)
    missing = [k for k in own if k not in sd and not k.endswith("num_batches_tracked")]
    unexpected = [k for k in sd if k not in own]
    errors = []
    if strict and missing:
        errors.append("missing from the file: " + ", ".join(map(repr, missing)))
    if strict and unexpected:
        errors.append("not in the model: " + ", ".join(map(repr, unexpected)))
    for k, v in sd.items():
        if k in own and tuple(v.shape) != tuple(own[k].shape):
            hint = " (transposed?)" if tuple(v.shape)[::-1] == tuple(own[k].shape) else ""
            errors.append(f"{k!r}: the model has shape {tuple(own[k].shape)}, the file "
                          f"{tuple(v.shape)}{hint}")
    if errors:
        raise RuntimeError(f"load_torch_state_dict: the state_dict does not fit "
                           f"{type(model).__name__}:\n\t" + "\n\t".join(errors))
    result = model.load_state_dict({k: v for k, v in sd.items() if k in own}, strict=False)
    return type(result)(missing, unexpected)


def _as_array(name, value) -> np.ndarray:
    if isinstance(value, Tensor):
        return value.array
    if hasattr(value, "detach") and hasattr(value, "cpu"):  # a torch tensor, without importing it
        return value.detach().cpu().numpy()
    arr = np.asarray(value)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"load_torch_state_dict: {name!r} holds {type(value).__name__} data of "
                        f"dtype {arr.dtype}, not numbers")
    return arr

