"""Dataset files in their exact upstream formats, written here byte for byte and read back."""

import gzip
import io
import pickle
import struct

import numpy as np
import pytest

from striate.data import (
    DatasetFormatError,
    load_cifar10,
    load_cifar100,
    load_dataset,
    load_fashion_mnist,
    load_image_folder,
    load_mnist,
    read_cifar_batch,
    read_idx,
    subsample,
    subsample_splits,
)
from striate.data.datasets import Split
from striate.data.formats import safe_unpickle


class _Py2Pickler(pickle._Pickler):
    """Pickles as Python 2 wrote the CIFAR files: byte strings as BINSTRING opcodes (not
    Python 3's ``_codecs.encode`` call) and NumPy under its 1.x name ``numpy.core``."""

    dispatch = dict(pickle._Pickler.dispatch)

    def save_bytes(self, obj):
        n = len(obj)
        if n < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([n]) + obj)
        else:
            self.write(pickle.BINSTRING + struct.pack("<i", n) + obj)
        self.memoize(obj)

    dispatch[bytes] = save_bytes


def py2_pickle(obj) -> bytes:
    buf = io.BytesIO()
    _Py2Pickler(buf, protocol=2).dump(obj)
    return buf.getvalue().replace(b"cnumpy._core.multiarray\n", b"cnumpy.core.multiarray\n")


def _images(rng, n):
    return rng.integers(0, 256, size=(n, 3072), dtype=np.uint8)


def write_cifar10(root, n_per_batch=6, n_test=10, seed=0):
    rng = np.random.default_rng(seed)
    root.mkdir(parents=True, exist_ok=True)
    batches = []
    for i in range(1, 6):
        data = _images(rng, n_per_batch)
        labels = [int(v) for v in rng.integers(0, 10, n_per_batch)]
        d = {b"batch_label": f"training batch {i} of 5".encode(), b"labels": labels,
             b"data": data, b"filenames": [f"img_{i}_{j}.png".encode()
                                           for j in range(n_per_batch)]}
        (root / f"data_batch_{i}").write_bytes(py2_pickle(d))
        batches.append((data, labels))
    test = _images(rng, n_test)
    test_labels = [int(v) for v in np.arange(n_test) % 10]
    (root / "test_batch").write_bytes(py2_pickle(
        {b"batch_label": b"testing batch 1 of 1", b"labels": test_labels, b"data": test,
         b"filenames": [b"t.png"] * n_test}))
    names = [b"airplane", b"automobile", b"bird", b"cat", b"deer", b"dog", b"frog", b"horse",
             b"ship", b"truck"]
    (root / "batches.meta").write_bytes(py2_pickle(
        {b"num_cases_per_batch": n_per_batch, b"label_names": names, b"num_vis": 3072}))
    return batches, (test, test_labels)


def test_cifar_batch_layout_is_red_then_green_then_blue_planes(tmp_path):
    row = np.zeros((1, 3072), np.uint8)
    row[0, 0] = 10            # red, pixel (0, 0)
    row[0, 1024 + 33] = 20    # green, pixel (1, 1)
    row[0, 2048 + 1023] = 30  # blue, pixel (31, 31)
    (tmp_path / "b").write_bytes(py2_pickle({b"data": row, b"labels": [7]}))
    X, y = read_cifar_batch(tmp_path / "b")
    assert X.shape == (1, 3, 32, 32) and X.dtype == np.uint8 and y.tolist() == [7]
    assert X[0, 0, 0, 0] == 10 and X[0, 1, 1, 1] == 20 and X[0, 2, 31, 31] == 30
    assert X.sum() == 60


def test_cifar10_reads_the_python_version_batches(tmp_path):
    batches, (test, test_labels) = write_cifar10(tmp_path / "cifar-10-batches-py")
    data = load_cifar10(tmp_path, num_val=5)  # the parent folder works too
    assert data.classes[0] == "airplane" and data.classes[9] == "truck"
    assert data.input_shape == (3, 32, 32)
    assert len(data.train) == 25 and len(data.val) == 5 and len(data.test) == 10
    assert data.test.X.dtype == np.float32
    np.testing.assert_allclose(data.test.X, test.reshape(-1, 3, 32, 32) / 255.0, atol=1e-7)
    assert data.test.y.tolist() == test_labels
    # train + val together are exactly the 30 training images with their labels
    all_rows = np.concatenate([batch for batch, _ in batches]).reshape(-1, 3, 32, 32)
    got = np.concatenate([data.train.X, data.val.X])
    got_y = np.concatenate([data.train.y, data.val.y])
    want = {(r.tobytes(), int(label)) for r, label in
            zip(all_rows, np.concatenate([lab for _, lab in batches]))}
    have = {(np.rint(r * 255).astype(np.uint8).tobytes(), int(label))
            for r, label in zip(got, got_y)}
    assert have == want
    raw = load_cifar10(tmp_path / "cifar-10-batches-py", num_val=0, dtype="uint8")
    assert raw.train.X.dtype == np.uint8 and len(raw.train) == 30


def test_cifar10_through_load_dataset(tmp_path):
    write_cifar10(tmp_path)
    data = load_dataset(f"cifar10:{tmp_path}")
    assert data.name == "cifar10" and data.num_classes == 10
    with pytest.raises(ValueError, match="needs a path"):
        load_dataset("cifar10")


def test_cifar100_fine_and_coarse_labels(tmp_path):
    rng = np.random.default_rng(1)
    for name, n in (("train", 40), ("test", 8)):
        (tmp_path / name).write_bytes(py2_pickle({
            b"filenames": [b"x.png"] * n, b"batch_label": name.encode(),
            b"fine_labels": [int(v) for v in rng.integers(0, 100, n)],
            b"coarse_labels": [int(v) for v in rng.integers(0, 20, n)],
            b"data": _images(rng, n)}))
    (tmp_path / "meta").write_bytes(py2_pickle({
        b"fine_label_names": [f"fine{k}".encode() for k in range(100)],
        b"coarse_label_names": [f"coarse{k}".encode() for k in range(20)]}))
    fine = load_cifar100(tmp_path, num_val=4)
    assert fine.num_classes == 100 and fine.classes[5] == "fine5"
    assert len(fine.train) + len(fine.val) == 40 and len(fine.test) == 8
    coarse = load_cifar100(tmp_path, num_val=4, label_mode="coarse")
    assert coarse.num_classes == 20 and coarse.test.y.max() < 20
    assert load_dataset(f"cifar100:{tmp_path}").num_classes == 100


def test_cifar_refuses_truncated_and_malformed_files(tmp_path):
    write_cifar10(tmp_path)
    blob = (tmp_path / "data_batch_3").read_bytes()
    (tmp_path / "data_batch_3").write_bytes(blob[: len(blob) // 2])
    with pytest.raises(DatasetFormatError, match="data_batch_3.*truncated or corrupt"):
        load_cifar10(tmp_path)
    (tmp_path / "data_batch_3").write_bytes(py2_pickle({b"data": np.zeros((2, 100), np.uint8),
                                                        b"labels": [0, 1]}))
    with pytest.raises(DatasetFormatError, match=r"data_batch_3.*\(N, 3072\)"):
        load_cifar10(tmp_path)
    (tmp_path / "data_batch_3").write_bytes(py2_pickle({b"data": np.zeros((2, 3072), np.uint8),
                                                        b"labels": [0]}))
    with pytest.raises(DatasetFormatError, match="data_batch_3: 2 images but 1 labels"):
        load_cifar10(tmp_path)
    (tmp_path / "data_batch_3").unlink()
    with pytest.raises(DatasetFormatError, match="data_batch_3: no such file"):
        load_cifar10(tmp_path)
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetFormatError, match="empty: no test_batch file here"):
        load_cifar10(tmp_path / "empty")


class _Evil:
    def __reduce__(self):
        return (print, ("this must never run",))


def test_unpickler_refuses_anything_but_plain_data(tmp_path, capsys):
    evil = pickle.dumps({b"data": _Evil(), b"labels": [0]}, protocol=2)
    (tmp_path / "data_batch_1").write_bytes(evil)
    with pytest.raises(DatasetFormatError,
                       match=r"data_batch_1.*refusing to load (__builtin__|builtins)\.print"):
        read_cifar_batch(tmp_path / "data_batch_1")
    assert "never run" not in capsys.readouterr().out
    obj = np.array([1, "a"], dtype=object)
    with pytest.raises(DatasetFormatError, match="object arrays"):
        safe_unpickle(pickle.dumps({"data": obj}, protocol=2), "x")
    cyclic = [1]
    cyclic.append(cyclic)
    back = safe_unpickle(pickle.dumps({"c": cyclic}, protocol=2), "x")
    assert back["c"][1] is back["c"]
    # Python 3 pickles of plain data and arrays, any protocol, are fine
    arr = np.arange(6, dtype=np.uint8).reshape(2, 3)
    for proto in (2, 4, 5):
        back = safe_unpickle(pickle.dumps({b"data": arr, "s": "t", "l": [1, 2.5]},
                                          protocol=proto), "x")
        np.testing.assert_array_equal(back[b"data"], arr)
        assert back["l"] == [1, 2.5]


def _idx_bytes(magic, arr):
    return struct.pack(">I", magic) + b"".join(struct.pack(">I", s) for s in arr.shape) + \
        arr.astype(np.uint8).tobytes()


def write_mnist(root, n_train=30, n_test=10, gz=True, seed=0):
    rng = np.random.default_rng(seed)
    root.mkdir(parents=True, exist_ok=True)
    out = {}
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        X = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        y = (np.arange(n) % 10).astype(np.uint8)
        for kind, magic, arr in (("images-idx3", 2051, X), ("labels-idx1", 2049, y)):
            blob = _idx_bytes(magic, arr)
            name = f"{prefix}-{kind}-ubyte"
            if gz:
                (root / (name + ".gz")).write_bytes(gzip.compress(blob))
            else:
                (root / name).write_bytes(blob)
        out[prefix] = (X, y)
    return out


@pytest.mark.parametrize("gz", [True, False])
def test_mnist_idx_files_gzipped_or_not(tmp_path, gz):
    arrays = write_mnist(tmp_path, gz=gz)
    data = load_mnist(tmp_path, num_val=10)
    assert data.input_shape == (1, 28, 28) and data.classes == [str(k) for k in range(10)]
    assert len(data.train) == 20 and len(data.val) == 10
    X, y = arrays["t10k"]
    np.testing.assert_allclose(data.test.X[:, 0], X / 255.0, atol=1e-7)
    assert data.test.y.dtype == np.int64 and data.test.y.tolist() == y.tolist()
    assert load_dataset(f"mnist:{tmp_path}").name == "mnist"
    fashion = load_fashion_mnist(tmp_path, num_val=10)
    assert fashion.classes[9] == "Ankle boot"
    assert load_dataset(f"fashion-mnist:{tmp_path}").name == "fashion-mnist"


def test_idx_header_is_big_endian_with_the_magic_number(tmp_path):
    arr = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    blob = _idx_bytes(2051, arr)
    assert blob[:4] == b"\x00\x00\x08\x03" and blob[4:8] == b"\x00\x00\x00\x02"
    (tmp_path / "a").write_bytes(blob)
    np.testing.assert_array_equal(read_idx(tmp_path / "a", 2051), arr)
    with pytest.raises(DatasetFormatError, match="expected IDX magic number 2049"):
        read_idx(tmp_path / "a", 2049)
    (tmp_path / "f").write_bytes(struct.pack(">IIf", 0x0D01, 1, 1.5))  # float32 IDX
    assert read_idx(tmp_path / "f").tolist() == [1.5]


def test_idx_refuses_truncated_trailing_and_corrupt_files(tmp_path):
    write_mnist(tmp_path)
    path = tmp_path / "train-images-idx3-ubyte.gz"
    blob = gzip.decompress(path.read_bytes())
    path.write_bytes(gzip.compress(blob[:-5]))
    with pytest.raises(DatasetFormatError, match="train-images-idx3-ubyte.gz: truncated"):
        load_mnist(tmp_path, num_val=5)
    path.write_bytes(gzip.compress(blob + b"xx"))
    with pytest.raises(DatasetFormatError, match="trailing bytes"):
        load_mnist(tmp_path, num_val=5)
    path.write_bytes(gzip.compress(blob)[:40])
    with pytest.raises(DatasetFormatError, match="train-images-idx3-ubyte.gz: truncated or "
                                                 "corrupt gzip"):
        load_mnist(tmp_path, num_val=5)
    path.write_bytes(gzip.compress(b"\x01\x02\x03\x04rest"))
    with pytest.raises(DatasetFormatError, match="not an IDX file"):
        load_mnist(tmp_path, num_val=5)
    path.unlink()
    with pytest.raises(DatasetFormatError, match="no train-images-idx3-ubyte"):
        load_mnist(tmp_path, num_val=5)


def test_mnist_labels_must_match_the_images(tmp_path):
    write_mnist(tmp_path, gz=False)
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(_idx_bytes(2049, np.zeros(3)))
    with pytest.raises(DatasetFormatError, match="10 images but t10k-labels-idx1-ubyte has 3"):
        load_mnist(tmp_path, num_val=5)


def _write_png(path, size, color, mode="RGB"):
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new(mode, size, color).save(path)


def test_image_folder_resizes_and_splits(tmp_path):
    for i in range(10):
        _write_png(tmp_path / "cat" / f"{i}.png", (20 + i, 15), (255, 0, 0))
        _write_png(tmp_path / "dog" / f"{i}.jpg", (9, 30), (0, 0, 255))
    (tmp_path / "dog" / "notes.txt").write_text("not an image")
    data = load_image_folder(tmp_path, size=8, val_fraction=0.2, test_fraction=0.2)
    assert data.classes == ["cat", "dog"] and data.input_shape == (3, 8, 8)
    assert (len(data.train), len(data.val), len(data.test)) == (12, 4, 4)
    X = np.concatenate([data.train.X, data.val.X, data.test.X])
    y = np.concatenate([data.train.y, data.val.y, data.test.y])
    np.testing.assert_allclose(X[y == 0][:, 0], 1.0, atol=0.02)   # red cats
    np.testing.assert_allclose(X[y == 1][:, 2], 1.0, atol=0.02)   # blue dogs
    gray = load_dataset(f"folder:{tmp_path}?size=4x6&channels=1")
    assert gray.input_shape == (1, 4, 6)
    with pytest.raises(ValueError, match="folder option 'sizes=3' not understood"):
        load_dataset(f"folder:{tmp_path}?sizes=3")


def test_image_folder_with_train_and_test_folders(tmp_path):
    for split, n in (("train", 6), ("test", 2)):
        for c in ("a", "b"):
            for i in range(n):
                _write_png(tmp_path / split / c / f"{i}.png", (5, 5), 128, mode="L")
    data = load_image_folder(tmp_path, size=(4, 4), channels=1, val_fraction=1 / 6)
    assert (len(data.train), len(data.val), len(data.test)) == (10, 2, 4)
    (tmp_path / "train" / "a" / "bad.png").write_bytes(b"\x89PNG garbage")
    with pytest.raises(DatasetFormatError, match="bad.png: cannot read image"):
        load_image_folder(tmp_path)
    with pytest.raises(DatasetFormatError, match="no such folder"):
        load_image_folder(tmp_path / "missing")


def test_subsample_keeps_class_balance():
    y = np.repeat(np.arange(4), 25)
    split = Split(np.arange(100, dtype=np.float32)[:, None], y)
    small = subsample(split, 20, seed=3)
    assert len(small) == 20 and np.bincount(small.y).tolist() == [5, 5, 5, 5]
    np.testing.assert_array_equal(small.X[:, 0].astype(int), np.sort(small.X[:, 0]).astype(int))
    assert subsample(split, None) is split and subsample(split, 500) is split
    assert len(subsample(split, 7, stratified=False)) == 7
    with pytest.raises(ValueError, match="n must be a positive int"):
        subsample(split, 0)
    from striate.data import digits

    d = subsample_splits(digits(), train=100, test=50)
    assert (len(d.train), len(d.test)) == (100, 50) and len(d.val) == len(digits().val)
