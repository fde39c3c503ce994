"""Test-session settings and the fixtures every test file may use.

The suite runs thousands of tiny array operations; a multi-threaded BLAS only adds hand-off cost
to those, and on a loaded 2-core machine its spinning threads fight each other. Set before NumPy
loads; a value the caller exported wins.

Every test starts from generators seeded by its own id (:func:`_seed_each_test`), so a case's data
does not depend on which cases ran before it, or whether they ran at all (``-k``, ``-x``, xdist).
"""

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import zlib  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402

import striate  # noqa: E402


def _test_seed(nodeid: str) -> int:
    return zlib.crc32(nodeid.encode())


@pytest.fixture(autouse=True)
def _seed_each_test(request):
    """Seed striate's generator, NumPy's legacy one, and a test module's own ``RNG`` (the
    module-level ``np.random.Generator`` many test files draw their data from) from the test's
    id."""
    seed = _test_seed(request.node.nodeid)
    striate.manual_seed(seed)
    np.random.seed(seed)
    module = request.module
    if isinstance(getattr(module, "RNG", None), np.random.Generator):
        module.RNG = np.random.default_rng(seed)
    yield


@pytest.fixture
def rng(request) -> np.random.Generator:
    """A NumPy generator seeded by the test's id."""
    return np.random.default_rng(_test_seed(request.node.nodeid))


@pytest.fixture
def torch():
    """PyTorch; the test is skipped where it is not installed."""
    return pytest.importorskip("torch")


@pytest.fixture
def tF(torch):
    """``torch.nn.functional``; the test is skipped where PyTorch is not installed."""
    return torch.nn.functional
