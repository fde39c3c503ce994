"""Datasets in their standard on-disk formats, read from files the user points to (never
downloaded): CIFAR-10 / CIFAR-100 (the "python version" batches), MNIST / Fashion-MNIST (IDX files,
gzipped or not) and a folder of images with one sub-folder per class.

Every loader returns a ``DatasetSplits`` whose images are float32 (N, C, H, W) in [0, 1] (or the
raw uint8 with ``dtype="uint8"``), labels int64 (N,), and the class names. Importing this module
registers ``cifar10``, ``cifar100``, ``mnist``, ``fashion-mnist`` and ``folder`` with
``load_dataset``, so ``--data cifar10:PATH`` works in every ``striate`` command.

Byte layouts (as published upstream):

* CIFAR "python version": each batch file is a pickle (protocol 2, written by Python 2) of a dict
  with bytes keys: ``b'data'`` a uint8 array (N, 3072), each row the 1024 red, then 1024 green,
  then 1024 blue values of a 32x32 image in row-major order; ``b'labels'`` (CIFAR-10) or
  ``b'fine_labels'`` / ``b'coarse_labels'`` (CIFAR-100) lists of ints. CIFAR-10 has
  ``data_batch_1`` .. ``data_batch_5``, ``test_batch`` and ``batches.meta`` (``b'label_names'``);
  CIFAR-100 has ``train``, ``test`` and ``meta`` (``b'fine_label_names'``,
  ``b'coarse_label_names'``). The pickles are read with a restricted unpickler that builds only
  dicts, lists, bytes, str, numbers and NumPy arrays: a file naming any other class or function is
  refused, so a batch file cannot run code.
* IDX (MNIST, Fashion-MNIST): a big-endian header, the magic number ``0x00 0x00 TYPE NDIM``
  (2051 = 0x00000803 for uint8 images with 3 dimensions, 2049 = 0x00000801 for uint8 labels
  with 1), then NDIM big-endian uint32 sizes, then the values in row-major order. The files are
  ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte`` and
  ``t10k-labels-idx1-ubyte``, each optionally gzipped (``.gz``).
"""

from __future__ import annotations

import gzip
import io
import pickle
import zlib
from pathlib import Path

import numpy as np

from .datasets import DatasetSplits, Split, register_dataset, stratified_split

__all__ = [
    "CIFAR10_CLASSES",
    "MNIST_CLASSES",
    "FASHION_MNIST_CLASSES",
    "DatasetFormatError",
    "load_cifar10",
    "load_cifar100",
    "load_mnist",
    "load_fashion_mnist",
    "load_image_folder",
    "read_cifar_batch",
    "read_idx",
    "safe_unpickle",
]

CIFAR10_CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse",
                   "ship", "truck"]
MNIST_CLASSES = [str(k) for k in range(10)]
FASHION_MNIST_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal",
                         "Shirt", "Sneaker", "Bag", "Ankle boot"]
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm",
                  ".pgm"}


class DatasetFormatError(ValueError):
    """A dataset file is missing, truncated, or not in the format its name promises."""


# ----------------------------------------------------------------------------- restricted pickle

def _latin1_encode(text, encoding="latin1"):
    # Python 3 writes bytes into protocol-2 pickles as _codecs.encode(str, 'latin1')
    if encoding not in ("latin1", "latin-1") or not isinstance(text, str):
        raise pickle.UnpicklingError(f"_codecs.encode with encoding {encoding!r} is not allowed")
    return text.encode("latin1")


def _allowed_globals() -> dict:
    import importlib

    allowed = {("_codecs", "encode"): _latin1_encode,
               ("numpy", "ndarray"): np.ndarray,
               ("numpy", "dtype"): np.dtype}
    core = "numpy._core" if np.lib.NumpyVersion(np.__version__) >= "2.0.0" else "numpy.core"
    for mod, name in (("multiarray", "_reconstruct"), ("multiarray", "scalar"),
                      ("numeric", "_frombuffer")):
        try:
            fn = getattr(importlib.import_module(f"{core}.{mod}"), name)
        except (ImportError, AttributeError):  # pragma: no cover - an older NumPy
            continue
        # pickles written by NumPy 1.x name numpy.core, by 2.x numpy._core: the same functions
        allowed[(f"numpy.core.{mod}", name)] = allowed[(f"numpy._core.{mod}", name)] = fn
    return allowed


class _Refused(pickle.UnpicklingError):
    """The pickle names a class or function outside the allowed few."""


class _RestrictedUnpickler(pickle.Unpickler):
    """Unpickler that resolves only the few NumPy constructors an array pickle needs."""

    _allowed: dict | None = None

    def find_class(self, module, name):
        if _RestrictedUnpickler._allowed is None:
            _RestrictedUnpickler._allowed = _allowed_globals()
        fn = _RestrictedUnpickler._allowed.get((module, name))
        if fn is None:
            raise _Refused(
                f"refusing to load {module}.{name}: only dicts, lists, bytes, str, numbers and "
                f"NumPy arrays are allowed in a dataset file")
        return fn


def safe_unpickle(data: bytes, source: str = "<bytes>"):
    """Unpickle ``data`` allowing only plain containers, bytes, str, numbers and NumPy arrays.

    Strings of a Python 2 pickle come back as bytes (``encoding="bytes"``), as upstream CIFAR
    loaders read them. Object arrays are refused.

    Raises:
        DatasetFormatError: naming ``source``, for a truncated, corrupt or disallowed pickle.
    """
    try:
        obj = _RestrictedUnpickler(io.BytesIO(data), encoding="bytes").load()
    except _Refused as e:
        raise DatasetFormatError(f"{source}: not a plain-data dataset pickle: {e}") from None
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, IndexError, KeyError,
            AttributeError, OverflowError, MemoryError) as e:
        raise DatasetFormatError(
            f"{source}: truncated or corrupt pickle ({type(e).__name__}: {e})") from None
    _refuse_object_arrays(obj, source)
    return obj


def _refuse_object_arrays(obj, source):
    stack, seen = [obj], set()
    while stack:
        o = stack.pop()
        if id(o) in seen:  # a pickle can make a list that contains itself
            continue
        seen.add(id(o))
        if isinstance(o, np.ndarray) and o.dtype.hasobject:
            raise DatasetFormatError(f"{source}: object arrays are not allowed in a dataset file")
        if isinstance(o, dict):
            stack.extend(o.keys())
            stack.extend(o.values())
        elif isinstance(o, (list, tuple)):
            stack.extend(o)


def _read_bytes(path: Path) -> bytes:
    if not path.is_file():
        raise DatasetFormatError(f"{path}: no such file")
    data = path.read_bytes()
    if path.suffix == ".gz":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as e:
            raise DatasetFormatError(f"{path}: truncated or corrupt gzip file ({e})") from None
    return data


# ----------------------------------------------------------------------------- CIFAR

def _key(d: dict, name: str):
    """d[b'name'] (Python 2 pickles) or d['name'] (a Python 3 re-pickle)."""
    if name.encode() in d:
        return d[name.encode()]
    return d.get(name)


def read_cifar_batch(path, label_key: str = "labels"):
    """One CIFAR "python version" batch file as (X uint8 (N, 3, 32, 32), y int64 (N,)).

    Raises:
        DatasetFormatError: naming the file when it is missing, truncated, not a dict with
            ``b'data'`` (N, 3072) uint8 and ``label_key`` (N labels), or of inconsistent sizes.
    """
    path = Path(path)
    d = safe_unpickle(_read_bytes(path), str(path))
    if not isinstance(d, dict):
        raise DatasetFormatError(f"{path}: expected a pickled dict, got {type(d).__name__}")
    data, labels = _key(d, "data"), _key(d, label_key)
    if data is None or labels is None:
        keys = ", ".join(repr(k) for k in d)
        raise DatasetFormatError(
            f"{path}: expected keys b'data' and b'{label_key}', found {keys or 'none'}")
    data = np.asarray(data)
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3072:
        raise DatasetFormatError(
            f"{path}: b'data' must be uint8 of shape (N, 3072), got {data.dtype} {data.shape}")
    try:
        y = np.asarray(labels, dtype=np.int64).reshape(-1)
    except (TypeError, ValueError) as e:
        raise DatasetFormatError(f"{path}: b'{label_key}' is not a list of ints ({e})") from None
    if len(y) != len(data):
        raise DatasetFormatError(
            f"{path}: {len(data)} images but {len(y)} labels in b'{label_key}'")
    # each row is 1024 R, 1024 G, 1024 B values of a row-major 32x32 image: already (3, 32, 32)
    return data.reshape(-1, 3, 32, 32), y


def _label_names(path: Path, key: str, expected: int) -> list[str]:
    if not path.is_file():
        return []
    d = safe_unpickle(_read_bytes(path), str(path))
    names = _key(d, key) if isinstance(d, dict) else None
    if not isinstance(names, list) or len(names) < expected:
        raise DatasetFormatError(
            f"{path}: expected a list of at least {expected} class names under b'{key}'")
    return [n.decode("utf-8") if isinstance(n, bytes) else str(n) for n in names]


def _cifar_dir(root, marker: str, sub: str) -> Path:
    root = Path(root)
    if not root.exists():
        raise DatasetFormatError(f"{root}: no such folder")
    if not (root / marker).exists() and (root / sub).is_dir():
        root = root / sub  # the folder the archive unpacks to
    if not (root / marker).exists():
        raise DatasetFormatError(f"{root}: no {marker} file here (or in {sub}/)")
    return root


def _to_float(X: np.ndarray, dtype) -> np.ndarray:
    if np.dtype(dtype) == np.uint8:
        return X
    if np.dtype(dtype).kind != "f":
        raise ValueError(f"dtype must be 'uint8' or a float dtype, got {dtype!r}")
    out = X.astype(dtype)
    out *= np.asarray(1 / 255, dtype=dtype)
    return out


_DEFAULT_VAL = {"cifar10": 1000, "cifar100": 1000, "mnist": 5000, "fashion-mnist": 5000}


def _with_val(name, Xtr, ytr, Xte, yte, classes, num_val, seed, dtype) -> DatasetSplits:
    """Split ``num_val`` stratified validation images off the training set; None means the
    standard size ``default_val[name]``, or a tenth of a smaller training set."""
    if num_val is None:
        num_val = min(_DEFAULT_VAL.get(name, 0), len(ytr) // 10)
    if isinstance(num_val, bool) or not isinstance(num_val, (int, np.integer)) \
            or not 0 <= num_val < len(ytr):
        raise ValueError(f"{name}: num_val must be in [0, {len(ytr)}), got {num_val}")
    tr, va, _ = stratified_split(ytr, num_val / len(ytr), 0.0, seed=seed)
    return DatasetSplits(
        name=name,
        train=Split(_to_float(Xtr[tr], dtype), ytr[tr]),
        val=Split(_to_float(Xtr[va], dtype), ytr[va]),
        test=Split(_to_float(Xte, dtype), yte),
        classes=list(classes),
        input_shape=tuple(int(s) for s in Xtr.shape[1:]),
    )


def load_cifar10(root, num_val: int | None = None, split_seed: int = 0,
                 dtype="float32") -> DatasetSplits:
    """CIFAR-10 from the folder holding ``data_batch_1..5``, ``test_batch``, ``batches.meta``
    (or its parent holding ``cifar-10-batches-py/``).

    Returns 50,000 - num_val train, num_val val (stratified; default 1,000, or a tenth of a
    smaller training set) and 10,000 test images,
    (N, 3, 32, 32) float32 in [0, 1] (uint8 with ``dtype="uint8"``), labels int64.

    Raises:
        DatasetFormatError: a missing, truncated or malformed file, named in the message.
    """
    root = _cifar_dir(root, "test_batch", "cifar-10-batches-py")
    parts = [read_cifar_batch(root / f"data_batch_{i}") for i in range(1, 6)]
    Xtr = np.concatenate([p[0] for p in parts])
    ytr = np.concatenate([p[1] for p in parts])
    Xte, yte = read_cifar_batch(root / "test_batch")
    classes = _label_names(root / "batches.meta", "label_names", 10) or CIFAR10_CLASSES
    _check_labels(root, np.concatenate([ytr, yte]), len(classes))
    return _with_val("cifar10", Xtr, ytr, Xte, yte, classes[:10], num_val, split_seed, dtype)


def load_cifar100(root, num_val: int | None = None, split_seed: int = 0, label_mode: str = "fine",
                  dtype="float32") -> DatasetSplits:
    """CIFAR-100 from the folder holding ``train``, ``test`` and ``meta`` (or its parent holding
    ``cifar-100-python/``), with the 100 fine labels or (``label_mode="coarse"``) the 20
    superclasses. Shapes and dtypes as ``load_cifar10``; 50,000 training and 10,000 test images.
    """
    if label_mode not in ("fine", "coarse"):
        raise ValueError(
            f"load_cifar100: label_mode must be 'fine' or 'coarse', got {label_mode!r}")
    root = _cifar_dir(root, "test", "cifar-100-python")
    key = f"{label_mode}_labels"
    Xtr, ytr = read_cifar_batch(root / "train", key)
    Xte, yte = read_cifar_batch(root / "test", key)
    n = 100 if label_mode == "fine" else 20
    classes = _label_names(root / "meta", f"{label_mode}_label_names", n)
    classes = classes or [str(k) for k in range(n)]
    _check_labels(root, np.concatenate([ytr, yte]), len(classes))
    return _with_val("cifar100", Xtr, ytr, Xte, yte, classes, num_val, split_seed, dtype)


def _check_labels(where, y, num_classes):
    if len(y) and (y.min() < 0 or y.max() >= num_classes):
        raise DatasetFormatError(
            f"{where}: labels must be in 0..{num_classes - 1}, found {y.min()}..{y.max()}")


# ----------------------------------------------------------------------------- IDX (MNIST)

_IDX_TYPES = {0x08: np.dtype(">u1"), 0x09: np.dtype(">i1"), 0x0B: np.dtype(">i2"),
              0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}


def read_idx(path, expect_magic: int | None = None) -> np.ndarray:
    """An IDX file (gzipped when its name ends in ``.gz``) as a NumPy array of its shape.

    Args:
        path: the file.
        expect_magic: 2051 for MNIST images, 2049 for labels; None accepts any valid header.

    Raises:
        DatasetFormatError: naming the file: missing, bad magic number, or fewer bytes than
            the header promises (truncated); also a corrupt gzip stream.
    """
    path = Path(path)
    raw = _read_bytes(path)
    if len(raw) < 4:
        raise DatasetFormatError(f"{path}: truncated IDX file ({len(raw)} bytes, no header)")
    magic = int.from_bytes(raw[:4], "big")
    zero, type_code, ndim = magic >> 16, raw[2], raw[3]
    if zero != 0 or type_code not in _IDX_TYPES or ndim == 0:
        raise DatasetFormatError(f"{path}: not an IDX file (magic number {magic:#010x})")
    if expect_magic is not None and magic != expect_magic:
        raise DatasetFormatError(
            f"{path}: expected IDX magic number {expect_magic} ({expect_magic:#010x}), "
            f"got {magic} ({magic:#010x})")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DatasetFormatError(f"{path}: truncated IDX header ({len(raw)} of {header} bytes)")
    shape = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    dt = _IDX_TYPES[type_code]
    need = header + int(np.prod(shape, dtype=np.int64)) * dt.itemsize
    if len(raw) != need:
        what = "truncated" if len(raw) < need else "has trailing bytes"
        raise DatasetFormatError(
            f"{path}: {what}: header says shape {shape} ({need} bytes), file has {len(raw)}")
    return np.frombuffer(raw, dtype=dt, offset=header).reshape(shape).astype(dt.newbyteorder("="))


def _idx_file(root: Path, stem: str) -> Path:
    for name in (stem, stem + ".gz", stem.replace("-idx", ".idx"), stem.replace("-idx", ".idx")
                 + ".gz"):
        if (root / name).is_file():
            return root / name
    raise DatasetFormatError(f"{root}: no {stem} or {stem}.gz file here")


def _load_idx_dataset(name, root, classes, num_val, split_seed, dtype) -> DatasetSplits:
    root = Path(root)
    if not root.is_dir():
        raise DatasetFormatError(f"{root}: no such folder")
    arrays = {}
    for split, prefix in (("train", "train"), ("test", "t10k")):
        img_path = _idx_file(root, f"{prefix}-images-idx3-ubyte")
        lab_path = _idx_file(root, f"{prefix}-labels-idx1-ubyte")
        X = read_idx(img_path, 2051)
        y = read_idx(lab_path, 2049).astype(np.int64)
        if len(X) != len(y):
            raise DatasetFormatError(
                f"{img_path}: {len(X)} images but {lab_path.name} has {len(y)} labels")
        _check_labels(lab_path, y, len(classes))
        arrays[split] = (X[:, None], y)
    (Xtr, ytr), (Xte, yte) = arrays["train"], arrays["test"]
    return _with_val(name, Xtr, ytr, Xte, yte, classes, num_val, split_seed, dtype)


def load_mnist(root, num_val: int | None = None, split_seed: int = 0,
               dtype="float32") -> DatasetSplits:
    """MNIST from the folder holding the four IDX files (each optionally ``.gz``).

    Returns 60,000 - num_val train, num_val val (default 5,000, or a tenth of a smaller
    training set) and 10,000 test images (N, 1, 28, 28),
    float32 in [0, 1] (uint8 with ``dtype="uint8"``); labels int64; classes "0".."9".
    """
    return _load_idx_dataset("mnist", root, MNIST_CLASSES, num_val, split_seed, dtype)


def load_fashion_mnist(root, num_val: int | None = None, split_seed: int = 0,
                       dtype="float32") -> DatasetSplits:
    """Fashion-MNIST: the MNIST file layout, with the ten clothing class names."""
    return _load_idx_dataset("fashion-mnist", root, FASHION_MNIST_CLASSES, num_val, split_seed,
                             dtype)


# ----------------------------------------------------------------------------- image folders

def _read_class_folders(root: Path, size, channels, classes=None):
    from PIL import Image, UnidentifiedImageError

    train = classes is None  # the split that defines the classes must have two or more
    if classes is None:
        classes = sorted(p.name for p in root.iterdir() if p.is_dir())
    if not classes:
        raise DatasetFormatError(f"{root}: expected one sub-folder per class, found none")
    h, w = size
    images, labels = [], []
    for c, name in enumerate(classes):
        folder = root / name
        files = sorted(p for p in folder.iterdir()
                       if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES) \
            if folder.is_dir() else []
        for f in files:
            try:
                with Image.open(f) as im:
                    im = _to_8bit(im).convert("L" if channels == 1 else "RGB")
                    a = np.asarray(im.resize((w, h), Image.BILINEAR), dtype=np.uint8)
            except Image.DecompressionBombError as e:
                raise DatasetFormatError(f"{f}: refused as a possible decompression bomb ({e})") \
                    from None
            except (UnidentifiedImageError, OSError, ValueError) as e:
                raise DatasetFormatError(f"{f}: cannot read image ({e})") from None
            images.append(a[None] if channels == 1 else a.transpose(2, 0, 1))
            labels.append(c)
    if not images:
        raise DatasetFormatError(
            f"{root}: no images found in the class folders ({', '.join(classes)})")
    found = sorted({classes[c] for c in labels})
    if train and len(found) < 2:
        # one class would train to a constant answer and report 100% accuracy
        raise DatasetFormatError(
            f"{root}: images of only one class ({found[0]!r}, in {root / found[0]}); a "
            "classifier needs at least two class sub-folders with images")
    return np.stack(images), np.asarray(labels, dtype=np.int64), classes


def _to_8bit(im):
    """A 16- or 32-bit integer grayscale image scaled to 8 bits (Pillow's ``convert`` clips
    them at 255, which turns a 16-bit PNG all white); other images unchanged."""
    from PIL import Image

    if im.mode != "I" and not im.mode.startswith("I;16"):
        return im
    a = np.asarray(im).astype(np.float64)
    top = 65535.0 if im.mode.startswith("I;16") or a.max(initial=0) <= 65535 else 2.0 ** 32 - 1
    a = np.clip(a, 0, top) * (255.0 / top)
    return Image.fromarray(np.rint(a).astype(np.uint8), "L")


def load_image_folder(root, size=32, channels: int = 3, val_fraction: float = 0.1,
                      test_fraction: float = 0.2, split_seed: int = 0,
                      dtype="float32") -> DatasetSplits:
    """Images in ``root/<class>/*.png|jpg|...`` (any format Pillow reads), resized to ``size``.

    With ``root/train/<class>/`` and ``root/test/<class>/`` those are the training and test
    sets (and a ``root/val/`` is the validation set when present, else ``val_fraction`` of
    train is held out); otherwise all images are split stratified by class into train / val /
    test with the given fractions. Class names are the sorted sub-folder names.

    Args:
        size: an int (square) or (height, width).
        channels: 3 (RGB) or 1 (grayscale).

    Returns:
        ``DatasetSplits`` of (N, channels, height, width) float32 in [0, 1] (or uint8).
    """
    root = Path(root)
    if not root.is_dir():
        raise DatasetFormatError(f"{root}: no such folder")
    size = (size, size) if isinstance(size, int) else tuple(int(s) for s in size)
    if len(size) != 2 or min(size) <= 0:
        raise ValueError(f"load_image_folder: size must be a positive int or (h, w), got {size}")
    if channels not in (1, 3):
        raise ValueError(f"load_image_folder: channels must be 1 or 3, got {channels}")
    name = f"folder:{root}"
    if (root / "train").is_dir() and (root / "test").is_dir():
        Xtr, ytr, classes = _read_class_folders(root / "train", size, channels)
        Xte, yte, _ = _read_class_folders(root / "test", size, channels, classes)
        if (root / "val").is_dir():
            Xva, yva, _ = _read_class_folders(root / "val", size, channels, classes)
            return DatasetSplits(name, Split(_to_float(Xtr, dtype), ytr),
                                 Split(_to_float(Xva, dtype), yva),
                                 Split(_to_float(Xte, dtype), yte), classes, Xtr.shape[1:])
        return _with_val(name, Xtr, ytr, Xte, yte, classes, int(round(val_fraction * len(ytr))),
                         split_seed, dtype)
    X, y, classes = _read_class_folders(root, size, channels)
    tr, va, te = stratified_split(y, val_fraction, test_fraction, seed=split_seed)
    return DatasetSplits(name, Split(_to_float(X[tr], dtype), y[tr]),
                         Split(_to_float(X[va], dtype), y[va]),
                         Split(_to_float(X[te], dtype), y[te]), classes, tuple(X.shape[1:]))


def _folder_from_spec(path: str | None) -> DatasetSplits:
    """``folder:PATH`` or ``folder:PATH?size=64&channels=1`` (size N or HxW; default 32, RGB)."""
    if not path:
        raise ValueError("load_dataset: 'folder' needs a path: --data folder:PATH[?size=32]")
    path, _, query = path.partition("?")
    opts = {}
    for item in filter(None, query.split("&")):
        key, _, value = item.partition("=")
        try:
            if key == "size":
                h, _, w = value.lower().partition("x")
                opts["size"] = (int(h), int(w or h))
            elif key == "channels":
                opts["channels"] = int(value)
            else:
                raise ValueError
        except ValueError:
            raise ValueError(f"load_dataset: folder option {item!r} not understood; use "
                             f"size=N or size=HxW and channels=1|3") from None
    return load_image_folder(path, **opts)


def _needs_path(name, fn):
    def loader(path):
        if not path:
            raise ValueError(f"load_dataset: {name!r} needs a path: --data {name}:PATH")
        return fn(path)
    loader.__doc__ = fn.__doc__
    return loader


for _name, _fn in (("cifar10", load_cifar10), ("cifar100", load_cifar100),
                   ("mnist", load_mnist), ("fashion-mnist", load_fashion_mnist)):
    register_dataset(_name, _needs_path(_name, _fn), replace=True)
register_dataset("folder", _folder_from_spec, replace=True)
