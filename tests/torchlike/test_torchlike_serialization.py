"""striate.save / striate.load, and loading PyTorch state_dicts (safetensors, .npz)."""

from __future__ import annotations

import io
import os
import pickle
import zipfile

import numpy as np
import pytest

import striate
import striate.nn as nn


def _striate_net():
    net = nn.Module()
    net.conv = nn.Conv2d(3, 4, 3, padding=1)
    net.bn = nn.BatchNorm2d(4)
    net.fc = nn.Linear(4 * 4 * 4, 5)
    return net


def _forward(lib, net, x):
    F = lib.nn.functional
    h = F.max_pool2d(F.relu(net.bn(net.conv(x))), 2)
    return net.fc(lib.flatten(h, 1))


def _torch_net(torch):
    net = torch.nn.Module()
    net.conv = torch.nn.Conv2d(3, 4, 3, padding=1)
    net.bn = torch.nn.BatchNorm2d(4)
    net.fc = torch.nn.Linear(4 * 4 * 4, 5)
    with torch.no_grad():  # non-trivial running statistics
        net.bn.running_mean.uniform_(-1, 1)
        net.bn.running_var.uniform_(0.5, 2)
        net.bn.num_batches_tracked += 7
    return net.eval()


def test_round_trip_of_nested_containers(tmp_path):
    obj = {"model": _striate_net().state_dict(), "step": 3, "lrs": [0.1, 0.01],
           "pair": (striate.ones(2), None), "name": "run", "array": np.arange(4)}
    path = tmp_path / "ckpt.pt"
    striate.save(obj, path)
    back = striate.load(path, map_location="cpu", weights_only=True)
    assert list(back["model"]) == list(obj["model"])
    for k, v in obj["model"].items():
        np.testing.assert_array_equal(back["model"][k].array, v.array)
        assert back["model"][k].dtype == v.dtype
    assert back["step"] == 3 and back["lrs"] == [0.1, 0.01] and back["name"] == "run"
    assert isinstance(back["pair"], tuple) and back["pair"][1] is None
    np.testing.assert_array_equal(back["array"], np.arange(4))
    with zipfile.ZipFile(path) as z:  # no pickle anywhere
        assert not any(n.endswith(".pkl") for n in z.namelist())


def test_whole_module_saves_and_needs_weights_only_false(tmp_path):
    net = nn.Sequential(nn.Linear(4, 3), nn.ReLU())
    path = tmp_path / "m.pt"
    striate.save(net, path)
    with pytest.raises(pickle.UnpicklingError, match=r"naming .*Linear.*weights_only=False"):
        striate.load(path)
    back = striate.load(path, weights_only=False)
    x = striate.randn(3, 4)
    np.testing.assert_array_equal(back(x).array, net(x).array)
    # allowing the classes makes a weights_only load accept them, as PyTorch's safe_globals
    classes = {type(m) for m in net.modules()} | {striate.nn.Parameter}
    with striate.serialization.safe_globals(list(classes)):
        again = striate.load(path)
    np.testing.assert_array_equal(again(x).array, net(x).array)
    with pytest.raises(pickle.UnpicklingError):
        striate.load(path)  # the block is over


def test_save_and_load_accept_file_objects(tmp_path):
    buf = io.BytesIO()
    striate.save({"w": striate.arange(3.0), "n": 2}, buf)
    buf.seek(0)
    back = striate.load(buf)
    assert back["n"] == 2 and back["w"].tolist() == [0.0, 1.0, 2.0]
    with open(tmp_path / "f.pt", "wb") as fh:
        striate.save([striate.ones(2)], fh)
    with open(tmp_path / "f.pt", "rb") as fh:
        assert striate.load(fh)[0].tolist() == [1.0, 1.0]
    with pytest.raises(TypeError, match="file path .* or a binary file object"):
        striate.save({}, object())
    with pytest.raises(TypeError, match="neither plain data .*function at f.* nor picklable"):
        striate.save({"f": lambda: 0}, tmp_path / "f.pt")
    with pytest.raises(FileNotFoundError, match="no such file"):
        striate.load(tmp_path / "missing.pt")


class _Boom:
    def __reduce__(self):
        return (os.system, ("touch " + _Boom.marker,))


def test_a_malicious_pickle_never_runs_under_weights_only(tmp_path):
    marker = tmp_path / "pwned"
    _Boom.marker = str(marker)
    path = tmp_path / "evil.pt"
    striate.save({"x": _Boom()}, path)
    with pytest.raises(pickle.UnpicklingError, match=r"naming (posix|os)\.system"):
        striate.load(path)
    assert not marker.exists()
    # a bare pickle file (not a striate archive) is refused before any unpickling
    (tmp_path / "raw.pkl").write_bytes(pickle.dumps(_Boom()))
    with pytest.raises(ValueError, match="Python pickle"):
        striate.load(tmp_path / "raw.pkl", weights_only=False)
    assert not marker.exists()


def test_a_failed_save_leaves_no_temporary_file_and_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.pt"
    striate.save({"v": 1}, path)

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt  # a Ctrl-C in the middle of writing

    monkeypatch.setattr(np, "savez", interrupted)
    with pytest.raises(KeyboardInterrupt):
        striate.save({"v": 2}, path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt.pt"]
    monkeypatch.undo()
    assert striate.load(path) == {"v": 1}


def test_a_legacy_torch_file_is_named_with_the_conversion_hint(tmp_path):
    torch = pytest.importorskip("torch")
    path = tmp_path / "old.pth"
    torch.save(torch.nn.Linear(2, 3).state_dict(), path, _use_new_zipfile_serialization=False)
    with pytest.raises(ValueError, match="legacy .*pre-1.6.*safetensors.torch.save_file"):
        striate.load(path)
    with pytest.raises(ValueError, match="legacy"):
        striate.load(path, weights_only=False)


def test_load_refuses_a_pytorch_pickle_with_a_way_out(tmp_path):
    torch = pytest.importorskip("torch")
    path = tmp_path / "model.pth"
    torch.save(torch.nn.Linear(2, 3).state_dict(), path)
    with pytest.raises(ValueError, match="never unpickles.*safetensors.torch.save_file"):
        striate.load(path)


def test_pytorch_state_dict_via_safetensors_runs_the_same(tmp_path):
    torch = pytest.importorskip("torch")
    st = pytest.importorskip("safetensors.torch")
    tnet = _torch_net(torch)
    path = tmp_path / "model.safetensors"
    st.save_file(tnet.state_dict(), str(path))
    loaded = striate.load(path)
    assert set(loaded) == set(tnet.state_dict()) and isinstance(loaded["fc.weight"],
                                                                striate.Tensor)
    snet = _striate_net()
    result = striate.load_torch_state_dict(snet, path)
    assert result.missing_keys == [] and result.unexpected_keys == []
    snet.eval()
    x = np.random.default_rng(0).standard_normal((2, 3, 8, 8)).astype(np.float32)
    with torch.no_grad():
        want = _forward(torch, tnet, torch.tensor(x)).numpy()
    got = _forward(striate, snet, striate.tensor(x)).array
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    assert int(snet.bn.num_batches_tracked.item()) == 7


def test_pytorch_state_dict_via_npz_and_dict(tmp_path):
    torch = pytest.importorskip("torch")
    tnet = _torch_net(torch)
    sd = {k: v.numpy() for k, v in tnet.state_dict().items()}
    path = tmp_path / "model.npz"
    np.savez(path, **sd)
    loaded = striate.load(path)
    assert list(loaded) == list(sd)
    snet = _striate_net()
    striate.load_torch_state_dict(snet, path)
    np.testing.assert_array_equal(snet.fc.weight.array, sd["fc.weight"])
    # a live torch state_dict works too, and "module." (DataParallel) is stripped
    snet2 = _striate_net()
    striate.load_torch_state_dict(snet2, {f"module.{k}": v for k, v in tnet.state_dict().items()})
    np.testing.assert_array_equal(snet2.conv.weight.array, sd["conv.weight"])


def test_mismatches_are_named_and_nothing_is_copied():
    snet = _striate_net()
    before = snet.fc.weight.array.copy()
    sd = {k: v.array.copy() for k, v in _striate_net().state_dict().items()}
    sd["fc.weight"] = sd["fc.weight"].T.copy()
    sd["extra.bias"] = np.zeros(3)
    del sd["conv.bias"]
    with pytest.raises(RuntimeError) as info:
        striate.load_torch_state_dict(snet, sd)
    msg = str(info.value)
    assert "'fc.weight': the model has shape (5, 64), the file (64, 5) (transposed?)" in msg
    assert "missing from the file: 'conv.bias'" in msg and "not in the model: 'extra.bias'" in msg
    np.testing.assert_array_equal(snet.fc.weight.array, before)
    # without strict, the shapes are still checked but names may differ
    sd["fc.weight"] = sd["fc.weight"].T.copy()
    res = striate.load_torch_state_dict(snet, sd, strict=False)
    assert res.missing_keys == ["conv.bias"] and res.unexpected_keys == ["extra.bias"]
    # num_batches_tracked, absent from old PyTorch files, is never required
    sd["conv.bias"] = np.zeros(4)
    del sd["bn.num_batches_tracked"], sd["extra.bias"]
    assert striate.load_torch_state_dict(snet, sd).missing_keys == []


def test_safetensors_save_is_readable_by_pytorch(tmp_path):
    torch = pytest.importorskip("torch")
    st = pytest.importorskip("safetensors.torch")
    net = _striate_net()
    path = tmp_path / "w.safetensors"
    striate.save(net.state_dict(), path)
    back = st.load_file(str(path))
    tnet = _torch_net(torch)
    tnet.load_state_dict(back)  # names and shapes fit PyTorch's own module
    np.testing.assert_array_equal(back["fc.weight"].numpy(), net.fc.weight.array)
    with pytest.raises(TypeError, match="flat dict"):
        striate.save([net.fc.weight], tmp_path / "bad.safetensors")


def test_missing_safetensors_names_the_extra(tmp_path, monkeypatch):
    import sys

    path = tmp_path / "w.safetensors"
    header = b'{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}'
    path.write_bytes(len(header).to_bytes(8, "little") + header + b"\0" * 4)
    monkeypatch.setitem(sys.modules, "safetensors.numpy", None)
    with pytest.raises(ImportError, match=r"striate\[safetensors\]"):
        striate.load(path)
    with pytest.raises(ImportError, match=r"striate\[safetensors\]"):
        striate.save({"w": striate.ones(1)}, path)
