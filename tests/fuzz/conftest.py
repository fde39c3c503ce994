"""Writes the fuzz suite's totals per op to $STRIATE_FUZZ_REPORT (JSON) at the session's end."""

import json
import os


def pytest_sessionfinish(session, exitstatus):
    path = os.environ.get("STRIATE_FUZZ_REPORT")
    if not path:
        return
    from .stats import STATS

    ops = {k: dict(v) for k, v in sorted(STATS.items())}
    total = {}
    for v in ops.values():
        for key, n in v.items():
            total[key] = total.get(key, 0) + n
    with open(path, "w") as f:
        json.dump({"total": total, "ops": ops}, f, indent=1)
