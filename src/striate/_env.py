"""Environment settings that only take effect before NumPy is first imported, so the package
imports this module before anything else (and before NumPy).

OpenBLAS's worker threads spin after each call and steal the core that the next kernel needs on
small machines; a passive wait policy measured 130 -> 92 ms per ConvNet step (PERFORMANCE.md).
Both variables are read once, when NumPy loads OpenBLAS. A value already in the environment is
never overridden.

A program that imported NumPy before striate (``import numpy as np`` on line 1) has loaded
OpenBLAS with its spinning workers already: ``BLAS_POLICY_MISSED`` records that, and
:mod:`striate.parallel` then keeps BLAS on one thread at run time and splits the work over its
own threads instead, so that no BLAS worker ever wakes to spin.
"""

import os
import sys

#: NumPy (and with it OpenBLAS) was loaded before striate, without OPENBLAS_THREAD_TIMEOUT set
BLAS_POLICY_MISSED = "numpy" in sys.modules and "OPENBLAS_THREAD_TIMEOUT" not in os.environ

os.environ.setdefault("OMP_WAIT_POLICY", "passive")
os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "4")
