"""A checkpoint whose members declare more data than the file holds is refused by name before
anything is allocated."""

import io
import zipfile

import numpy as np
import pytest

from striate.train import CheckpointError, load, save


def _npy_header(shape, dtype="<f4"):
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buf, {"descr": dtype, "fortran_order": False, "shape": shape})
    return buf.getvalue()


def test_member_claiming_1e11_floats_is_refused_naming_file_and_member(tmp_path):
    path = tmp_path / "ok.npz"
    save({"w": np.ones(3, np.float32)}, path)
    forged = tmp_path / "forged.npz"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(forged, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "a0.npy":
                data = _npy_header((10 ** 11,)) + np.ones(3, np.float32).tobytes()
            dst.writestr(info.filename, data)
    with pytest.raises(CheckpointError, match=r"forged\.npz.*'a0\.npy' declares shape "
                                              r"\(100000000000,\)"):
        load(forged)
    assert load(path)["w"].shape == (3,)  # the honest file still loads


def test_deflated_member_claiming_an_impossible_ratio_is_refused(tmp_path):
    forged = tmp_path / "bomb.npz"
    with zipfile.ZipFile(forged, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("a0.npy", _npy_header((10 ** 6,)) + bytes(4 * 10 ** 6))
    data = bytearray(forged.read_bytes())
    # raise the declared uncompressed size of the member in the central directory
    cd = data.rfind(b"PK\x01\x02")
    data[cd + 24:cd + 28] = (2 ** 32 - 1).to_bytes(4, "little")
    forged.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match=r"bomb\.npz.*'a0\.npy' claims"):
        load(forged)
