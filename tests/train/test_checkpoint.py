"""striate.train.checkpoint: pickle-free, atomic save/load of nested Tensors, arrays and scalars."""

import math
import os
import zipfile
from collections import OrderedDict

import numpy as np
import pytest

import striate
import striate.optim
from striate import backend
from striate.train import CheckpointError, load, save
from striate.train import checkpoint as ckpt_mod


def _nested():
    rng = np.random.default_rng(0)
    return {
        "w": striate.tensor(rng.standard_normal((3, 4)).astype(np.float32), requires_grad=True),
        "b16": striate.tensor(np.arange(3, dtype=np.float16)),
        "f64": rng.standard_normal(5),
        "i8": np.array([-3, 4, 127], dtype=np.int8),
        "u8": np.arange(6, dtype=np.uint8).reshape(2, 3),
        "mask": np.array([True, False]),
        "zero_d": np.array(2.5, dtype=np.float32),
        "empty": np.zeros((0, 3), dtype=np.float32),
        "np_f32": np.float32(0.25),
        "np_i64": np.int64(-7),
        "big": 2**100 + 1,
        "floats": [0.1, math.inf, -math.inf, 1e-320],
        "nan": math.nan,
        "text": "héllo ☃",
        "none": None,
        "flags": (True, False),
        "int_keys": {0: {"momentum_buffer": np.ones(2)}, 7: "x"},
        "tuple_key": {(1, "a"): 3},
        "ordered": OrderedDict([("z", 1), ("a", 2)]),
        "nested": [[], {}, (), [1, [2, (3, {"deep": np.int32(4)})]]],
        "tricky_keys": {"$tensor": 1, "$dict": [2]},
    }


def test_roundtrip_preserves_structure_types_and_dtypes(tmp_path):
    obj = _nested()
    path = tmp_path / "c.npz"
    save(obj, path)
    got = load(path)
    assert list(got) == list(obj)
    assert isinstance(got["w"], striate.Tensor) and got["w"].requires_grad
    assert got["w"].dtype == np.float32 and np.array_equal(got["w"].array, obj["w"].array)
    assert isinstance(got["b16"], striate.Tensor) and got["b16"].dtype == np.float16
    assert not got["b16"].requires_grad
    for k in ("f64", "i8", "u8", "mask", "zero_d", "empty"):
        assert type(got[k]) is np.ndarray and not isinstance(got[k], striate.Tensor)
        assert got[k].dtype == obj[k].dtype and got[k].shape == obj[k].shape
        assert np.array_equal(got[k], obj[k])
    assert type(got["np_f32"]) is np.float32 and got["np_f32"] == 0.25
    assert type(got["np_i64"]) is np.int64 and got["np_i64"] == -7
    assert got["big"] == 2**100 + 1 and type(got["big"]) is int
    assert got["floats"] == [0.1, math.inf, -math.inf, 1e-320]
    assert math.isnan(got["nan"])
    assert got["text"] == "héllo ☃" and got["none"] is None
    assert got["flags"] == (True, False) and type(got["flags"]) is tuple
    assert list(got["int_keys"]) == [0, 7]
    assert np.array_equal(got["int_keys"][0]["momentum_buffer"], np.ones(2))
    assert got["tuple_key"] == {(1, "a"): 3}
    assert got["ordered"] == {"z": 1, "a": 2} and list(got["ordered"]) == ["z", "a"]
    assert got["nested"][:3] == [[], {}, ()]
    deep = got["nested"][3][1][1][1]["deep"]
    assert type(deep) is np.int32 and deep == 4
    assert got["tricky_keys"] == {"$tensor": 1, "$dict": [2]}


def test_roundtrip_of_rng_state_and_optimizer_state_dict(tmp_path):
    striate.manual_seed(3)
    backend.get_rng().standard_normal(10)
    state = backend.get_rng_state()
    expected = backend.get_rng().standard_normal(3)
    w = striate.randn(4, 3, requires_grad=True)
    opt = striate.optim.SGD([w], lr=0.1, momentum=0.9)
    w.grad = striate.ones(4, 3)
    opt.step()
    save({"rng": state, "opt": opt.state_dict()}, tmp_path / "s.npz")
    got = load(tmp_path / "s.npz")
    assert got["rng"] == state
    backend.set_rng_state(got["rng"])
    assert np.array_equal(backend.get_rng().standard_normal(3), expected)
    opt2 = striate.optim.SGD([w], lr=0.5, momentum=0.9)
    opt2.load_state_dict(got["opt"])
    assert opt2.param_groups[0]["lr"] == 0.1
    buf = opt.state[w]["momentum_buffer"]
    assert np.array_equal(opt2.state[w]["momentum_buffer"], buf)


def test_the_file_is_an_npz_without_pickle(tmp_path):
    save({"x": striate.ones(2)}, tmp_path / "c.npz")
    with zipfile.ZipFile(tmp_path / "c.npz") as z:
        assert all(info.compress_type == zipfile.ZIP_STORED for info in z.infolist())
    with np.load(tmp_path / "c.npz", allow_pickle=False) as z:
        assert ckpt_mod.META_KEY in z.files and z[ckpt_mod.META_KEY].dtype == np.uint8


def test_save_writes_exactly_the_path_and_leaves_no_temp_file(tmp_path):
    save([1, 2], tmp_path / "model.ckpt")  # no .npz appended
    assert sorted(os.listdir(tmp_path)) == ["model.ckpt"]
    save([3], tmp_path / "model.ckpt")  # overwrite
    assert sorted(os.listdir(tmp_path)) == ["model.ckpt"]
    assert load(tmp_path / "model.ckpt") == [3]


def test_a_failure_mid_write_leaves_the_old_file_intact(tmp_path, monkeypatch):
    path = tmp_path / "c.npz"
    save({"v": np.arange(4)}, path)
    before = path.read_bytes()

    def broken_savez(f, *args, **kwargs):
        f.write(b"PK\x03\x04 half a zip")
        raise OSError("disk full")

    monkeypatch.setattr(ckpt_mod.np, "savez", broken_savez)
    with pytest.raises(OSError, match="disk full"):
        save({"v": np.arange(100)}, path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["c.npz"]
    assert np.array_equal(load(path)["v"], np.arange(4))


def test_unsupported_type_names_the_key_and_writes_nothing(tmp_path):
    path = tmp_path / "c.npz"
    with pytest.raises(TypeError, match=r"unsupported object of type function at opt\.hooks\[1\]"):
        save({"opt": {"hooks": [1, lambda: 0]}}, path)
    with pytest.raises(TypeError, match="the array at a has dtype object"):
        save({"a": np.array([1, "x"], dtype=object)}, path)
    with pytest.raises(TypeError, match="unsupported dict key of type object"):
        save({object(): 1}, path)
    assert os.listdir(tmp_path) == []


def test_missing_file_and_missing_directory(tmp_path):
    with pytest.raises(FileNotFoundError, match="no checkpoint at .*nope.npz"):
        load(tmp_path / "nope.npz")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        save(1, tmp_path / "no_dir" / "c.npz")


@pytest.mark.parametrize("damage", ["truncate", "garbage", "foreign_npz", "npy", "bad_json"])
def test_corrupt_files_raise_checkpoint_error_naming_the_path(tmp_path, damage):
    path = tmp_path / "c.npz"
    save({"w": striate.randn(50, 50), "n": 1}, path)
    data = path.read_bytes()
    if damage == "truncate":
        path.write_bytes(data[: len(data) // 2])
    elif damage == "garbage":
        path.write_bytes(b"\x00\x01not a checkpoint at all" * 10)
    elif damage == "foreign_npz":
        with open(path, "wb") as f:
            np.savez(f, weights=np.ones(3))
    elif damage == "npy":
        with open(path, "wb") as f:
            np.save(f, np.ones(3))
    else:
        meta = np.frombuffer(b"{not json", dtype=np.uint8)
        with open(path, "wb") as f:
            np.savez(f, **{ckpt_mod.META_KEY: meta})
    with pytest.raises(CheckpointError, match="c.npz") as info:
        load(path)
    assert isinstance(info.value, ValueError)
    assert "\n" not in str(info.value)


def test_pickled_content_is_refused(tmp_path):
    path = tmp_path / "c.npz"
    meta = np.frombuffer(b'{"format":"striate","version":1,"root":{"$ndarray":"a0"}}', np.uint8)
    with open(path, "wb") as f:
        np.savez(f, **{ckpt_mod.META_KEY: meta, "a0": np.array([{"evil": 1}], dtype=object)})
    with pytest.raises(CheckpointError, match="corrupt or truncated"):
        load(path)


def test_structure_referring_to_a_missing_array_is_corrupt(tmp_path):
    path = tmp_path / "c.npz"
    meta = np.frombuffer(b'{"format":"striate","version":1,"root":{"$tensor":"a9"}}', np.uint8)
    with open(path, "wb") as f:
        np.savez(f, **{ckpt_mod.META_KEY: meta})
    with pytest.raises(CheckpointError, match="refers to array 'a9'"):
        load(path)


def test_a_killed_writers_temporary_file_is_removed_by_the_next_save(tmp_path):
    import subprocess
    import sys

    from striate.train.checkpoint import save as save_checkpoint

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    orphan = tmp_path / f".ckpt.npz.{int(dead.stdout)}.abc123.tmp"  # left by a SIGKILL
    alive = tmp_path / f".ckpt.npz.{os.getpid()}.def456.tmp"  # another save still writing
    other = tmp_path / ".other.npz.1.x.tmp"
    for f in (orphan, alive, other):
        f.write_bytes(b"partial")
    save_checkpoint({"w": np.ones(3)}, tmp_path / "ckpt.npz")
    assert not orphan.exists()
    assert alive.exists() and other.exists()
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix == ".tmp") == sorted(
        [alive.name, other.name])
