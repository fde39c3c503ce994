"""When the compiled loops are used: ``STRIATE_COMPILED``, the size rule, and the NumPy fallback
where numba cannot be imported. Each case runs in a fresh process, since what matters is what
that process imports."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import striate
from striate.kernels import compiled

SRC = str(Path(striate.__file__).resolve().parent.parent)

# a ReLU, a 2x2 max pool and a batch norm, forward and backward, on an input of `size` values;
# prints whether numba got imported and a checksum of the gradient
PROGRAM = """
import json, sys
import numpy as np
{block}
import striate
from striate import nn
from striate.kernels import compiled
rng = np.random.default_rng(0)
n = {size} // (8 * 8 * 8)
x = striate.tensor(rng.standard_normal((n, 8, 8, 8)).astype(np.float32), requires_grad=True)
net = nn.Sequential(nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2))
net(x).sum().backward()
print(json.dumps({{"numba": "numba" in sys.modules, "switch": compiled.USE_COMPILED,
                  "grad": float(np.abs(x.grad.numpy()).sum())}}))
"""

BLOCK_NUMBA = "sys.modules['numba'] = None  # numba cannot be imported in this process"


def _run(size, env=None, block=""):
    e = {k: v for k, v in os.environ.items() if k != "STRIATE_COMPILED"}
    e.update(env or {})
    e["PYTHONPATH"] = SRC + os.pathsep + e.get("PYTHONPATH", "")
    p = subprocess.run([sys.executable, "-c", PROGRAM.format(size=size, block=block)], env=e,
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout.strip().splitlines()[-1]), p.stderr


def test_default_leaves_numba_unimported_for_small_arrays():
    out, _ = _run(1 << 14)
    assert out["switch"] is None and out["numba"] is False


@pytest.mark.skipif(not compiled.HAVE_NUMBA, reason="numba is not installed")
def test_default_compiles_for_large_arrays_and_matches_numpy():
    size = compiled.COMPILED_MIN_SIZE
    big, _ = _run(size)
    forced_off, _ = _run(size, {"STRIATE_COMPILED": "0"})
    assert big["numba"] is True
    assert forced_off["switch"] is False and forced_off["numba"] is False
    assert big["grad"] == pytest.approx(forced_off["grad"], rel=1e-5, abs=1e-3)


@pytest.mark.skipif(not compiled.HAVE_NUMBA, reason="numba is not installed")
def test_switch_on_compiles_small_arrays_too():
    on, _ = _run(1 << 14, {"STRIATE_COMPILED": "1"})
    off, _ = _run(1 << 14, {"STRIATE_COMPILED": "0"})
    assert on["switch"] is True and on["numba"] is True
    assert on["grad"] == pytest.approx(off["grad"], rel=1e-5, abs=1e-3)


def test_without_numba_the_numpy_path_runs_with_one_notice():
    out, err = _run(compiled.COMPILED_MIN_SIZE, {"STRIATE_COMPILED": "1"}, BLOCK_NUMBA)
    ref, _ = _run(compiled.COMPILED_MIN_SIZE, {"STRIATE_COMPILED": "0"})
    notices = [line for line in err.splitlines() if "using the NumPy kernels" in line]
    assert len(notices) == 1, err
    assert out["grad"] == pytest.approx(ref["grad"], rel=1e-5, abs=1e-3)


@pytest.mark.parametrize("model", ["mlp", "convnet"])
def test_train_on_the_digits_does_not_import_numba(tmp_path, model):
    """The main job (and an MLP) stays on the NumPy paths: importing numba would cost more than
    it saves on 8x8 images. matplotlib loads in the plot helper process, not in this one."""
    code = ("import sys\nfrom striate.cli import main\n"
            f"rc = main(['train', '--model', '{model}', '--epochs', '1', '--no-progress', "
            f"'--out', {str(tmp_path)!r}])\n"
            "print('numba' in sys.modules, 'matplotlib' in sys.modules)\nsys.exit(rc)")
    e = {k: v for k, v in os.environ.items() if k != "STRIATE_COMPILED"}
    e["PYTHONPATH"] = SRC + os.pathsep + e.get("PYTHONPATH", "")
    p = subprocess.run([sys.executable, "-c", code], env=e, capture_output=True, text=True,
                       timeout=600)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip().splitlines()[-1] == "False False"
    for name in ("loss.png", "accuracy.png", "lr.png"):
        assert len(list(tmp_path.glob(f"*/{name}"))) == 1
