"""``striate.save`` / ``striate.load``, shaped like ``torch.save`` / ``torch.load``, never pickle.

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
``.pth`` from ``torch.save``) is refused with a message on how to convert it.

:func:`load_torch_state_dict` loads such a PyTorch ``state_dict`` into a striate model: striate's
layers use PyTorch's parameter names and layouts (``Linear.weight`` is ``(out, in)``, ``Conv2d``'s
``(F, C, HH, WW)``), so the names and shapes are checked and the arrays copied in.
"""

from __future__ import annotations

import os
import struct
import zipfile
from collections import OrderedDict
from collections.abc import Mapping

import numpy as np

from .autograd.tensor import Tensor
from .train import checkpoint as _checkpoint

__all__ = ["load", "load_torch_state_dict", "save"]

_SAFETENSORS_HINT = "pip install 'striate[safetensors]'"


def _path(f, fn: str) -> str:
    if isinstance(f, (str, os.PathLike)):
        return os.fspath(f)
    raise TypeError(
        f"{fn}: f must be a file path (str or os.PathLike), got {type(f).__name__}; "
        "file objects are not supported"
    )


def _safetensors_numpy():
    try:
        import safetensors.numpy as st
    except ImportError as e:
        raise ImportError(
            f"reading and writing .safetensors files needs the safetensors package: "
            f"{_SAFETENSORS_HINT}"
        ) from e
    return st


def save(obj, f) -> None:
    """Save ``obj`` to the file ``f``, like ``torch.save``, without pickle.

    Args:
        obj: a ``state_dict``, an optimizer's, or any nesting of dict/list/tuple holding Tensors,
            NumPy arrays, numbers, strings, bools and None. For a ``.safetensors`` path: a flat
            dict of names to Tensors or arrays.
        f: the path to write (exactly this name; the write is atomic).

    Raises:
        TypeError: ``obj`` holds something else (a module, a function, ...); the message says
            where. Save ``model.state_dict()``, not the model.

    Example:
        >>> import os, tempfile, striate
        >>> path = os.path.join(tempfile.mkdtemp(), "net.pth")
        >>> striate.save({"w": striate.ones(2)}, path)
        >>> striate.load(path)["w"].tolist()
        [1.0, 1.0]
    """
    path = _path(f, "save")
    if path.endswith(".safetensors"):
        _save_safetensors(obj, path)
        return
    if hasattr(obj, "state_dict") and hasattr(obj, "parameters"):
        raise TypeError(
            f"save: got a whole {type(obj).__name__} module; striate saves data, not objects "
            "(that needs pickle): save model.state_dict() and load it with "
            "model.load_state_dict(striate.load(path))"
        )
    _checkpoint.save(obj, path)


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
    tmp = f"{path}.tmp{os.getpid()}"
    try:
        st.save_file(arrays, tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


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


def load(f, map_location=None, weights_only: bool = True, **kwargs):
    """Load what :func:`save` wrote, or a state_dict saved as ``.safetensors`` or ``.npz``.

    Args:
        f: the file path.
        map_location: None or a device string (``"cpu"``, ``"cuda"``) to move every Tensor to.
        weights_only: accepted for ``torch.load`` compatibility; striate only ever loads data
            (no pickle), whatever it is set to.

    Returns:
        the saved object (Tensors come back as Tensors), or an ordered ``{name: Tensor}`` dict
        for safetensors and plain ``.npz`` files.

    Raises:
        FileNotFoundError: no file at ``f``.
        ValueError: a PyTorch pickle (``torch.save``) file, or an unreadable file.
    """
    del weights_only, kwargs  # mmap=..., pickle_module=...: nothing to do without pickle
    path = _path(f, "load")
    if not os.path.exists(path):
        raise FileNotFoundError(f"load: no such file {path!r}")
    if os.path.isfile(path) and _is_safetensors(path):
        st = _safetensors_numpy()
        obj = OrderedDict((k, Tensor(v)) for k, v in st.load_file(path).items())
    else:
        obj = _load_archive(path)
    if map_location is not None:
        obj = _map(obj, lambda t: t.to(str(map_location)))
    return obj


def _load_archive(path: str):
    try:
        return _checkpoint.load(path)
    except _checkpoint.CheckpointError as err:
        if not zipfile.is_zipfile(path):
            raise
        with zipfile.ZipFile(path) as z:
            names = z.namelist()
        if any(n.endswith("data.pkl") for n in names):
            raise ValueError(
                f"load: {path!r} is a PyTorch pickle file (torch.save); striate never unpickles. "
                "Convert it in PyTorch with safetensors.torch.save_file(state_dict, "
                "'model.safetensors') or numpy.savez('model.npz', **{k: v.numpy() for k, v in "
                "state_dict.items()}), then load that"
            ) from None
        if any(n.endswith(".npy") for n in names) and _checkpoint.META_KEY + ".npy" not in names:
            with open(path, "rb") as fh, np.load(fh, allow_pickle=False) as archive:
                return OrderedDict((k, Tensor(archive[k])) for k in archive.files)
        raise err


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

