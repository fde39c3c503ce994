"""Test-session settings.

The suite runs thousands of tiny array operations; a multi-threaded BLAS only adds hand-off cost
to those, and on a loaded 2-core machine its spinning threads fight each other (measured: one
captioning step 11.7 s with default threads, 0.57 s single-threaded). Set before NumPy loads;
a value the caller exported wins.
"""

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
