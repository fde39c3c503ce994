"""Environment settings that only take effect before NumPy is first imported, so the package
imports this module before anything else (and before NumPy).

OpenBLAS's worker threads spin after each call and steal the core that the next kernel needs on
small machines; a passive wait policy measured 130 -> 92 ms per ConvNet step (PERFORMANCE.md).
Both variables are read once, when NumPy loads OpenBLAS: a program that imported NumPy before
striate keeps its own settings. A value already in the environment is never overridden.
"""

import os

os.environ.setdefault("OMP_WAIT_POLICY", "passive")
os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "4")
