"""Per-op totals of the fuzz run, written out by `conftest.py` when STRIATE_FUZZ_REPORT is set."""

from collections import Counter, defaultdict

STATS: defaultdict = defaultdict(Counter)
