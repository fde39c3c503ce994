"""Property tests: every op of `optable.SPECS` against PyTorch on generated calls.

The CI run is derandomized (a fixed seed per op), keeps no example database, and draws
`STRIATE_FUZZ_EXAMPLES` examples per op (default 12, so the whole fuzz suite takes well under a
minute). The slow mode is opt-in by environment variable only, because CI runs `-m slow` tests
too: `STRIATE_FUZZ_EXAMPLES=500 python -m pytest tests/fuzz` draws many more examples per op.
`STRIATE_FUZZ_REPORT=path.json` writes the totals per op (examples, agree, both raise, known).
"""

from __future__ import annotations

import os

import pytest

pytest.importorskip("torch")

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from .deliberate import match as deliberate  # noqa: E402
from .engine import compare  # noqa: E402
from .known_disagreements import match  # noqa: E402
from .optable import SPECS  # noqa: E402
from .stats import STATS  # noqa: E402

COLLECT = os.environ.get("STRIATE_FUZZ_COLLECT")  # a path: record, do not fail (for triage)
COLLECTED: dict = {}
EXAMPLES = int(os.environ.get("STRIATE_FUZZ_EXAMPLES", "12"))


@pytest.mark.parametrize("name", sorted(SPECS))
def test_op_matches_pytorch(name):
    spec = SPECS[name]
    stats = STATS[name]

    @settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
              suppress_health_check=list(HealthCheck), print_blob=False)
    @given(data=st.data())
    def run(data):
        grad = spec.diff and data.draw(st.integers(0, 2), label="grad mode") == 0
        case = data.draw(spec.gen(grad), label="case")
        mismatches, outcome = compare(spec, case, grad=grad)
        stats["examples"] += 1
        unknown = []
        for m in mismatches:
            chosen = deliberate(name, m.aspect, case)
            if chosen is not None:  # a documented decision: striate must do what it says
                assert chosen.check(spec, case), f"{name}: not as documented ({chosen.does})"
                stats["deliberate"] += 1
            elif match(name, m.aspect, case) is None:
                unknown.append(m)
        mismatches = [m for m in mismatches if deliberate(name, m.aspect, case) is None]
        if unknown and COLLECT:
            for m in unknown:  # keep the smallest case per (op, aspect) for the known list
                key = f"{name}|{m.aspect}"
                size = sum(a.a.size for a in case.arrays())
                if key not in COLLECTED or COLLECTED[key][0] > size:
                    COLLECTED[key] = (size, f"{m} || grad={grad} || {case!r}")
            stats["failed"] += 1
            return
        if unknown:
            stats["failed"] += 1
            raise AssertionError(f"{name} disagrees with PyTorch on {case!r} (grad={grad}): "
                                 + "; ".join(map(str, unknown)))
        if mismatches:
            stats["known"] += 1
            for m in mismatches:
                stats["known_" + m.aspect] += 1
        else:
            stats["agree" if outcome == "agree" else "both_raise"] += 1

    run()


def teardown_module(module):
    if COLLECT:
        import json

        with open(COLLECT, "w") as f:
            json.dump({k: v[1] for k, v in sorted(COLLECTED.items())}, f, indent=1)
