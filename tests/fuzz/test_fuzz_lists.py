"""The fuzz suite's lists stay honest: every public op is compared or excluded with a reason,
every known disagreement still happens (strict: delete the entry when its fix lands), and every
deliberate difference is real and is what striate does."""

from __future__ import annotations

import inspect
import types

import pytest

pytest.importorskip("torch")

import striate.functional as F  # noqa: E402

import striate  # noqa: E402

from .deliberate import DELIBERATE  # noqa: E402
from .engine import compare  # noqa: E402
from .known_disagreements import KNOWN  # noqa: E402
from .optable import EXCLUDED, SPECS  # noqa: E402


def public_names() -> list[str]:
    """Every public function of striate.functional and every public member of Tensor."""
    names = [f"F.{n}" for n, o in vars(F).items() if not n.startswith("_") and callable(o)
             and not isinstance(o, types.ModuleType) and not inspect.isclass(o)]
    names += [f"Tensor.{n}" for n in dir(striate.Tensor) if not n.startswith("_")]
    return sorted(names)


def test_every_public_op_is_compared_or_excluded():
    missing = [n for n in public_names() if n not in SPECS and n not in EXCLUDED]
    assert not missing, f"public ops neither in optable.SPECS nor in optable.EXCLUDED: {missing}"


def test_exclusions_name_real_ops_with_a_reason():
    public = set(public_names())
    assert not [n for n in EXCLUDED if n not in public], "EXCLUDED names an op that is gone"
    assert not [n for n in EXCLUDED if n in SPECS], "an op is both compared and excluded"
    assert all(len(why) > 10 for why in EXCLUDED.values())


def test_known_entries_name_compared_ops():
    for k in KNOWN:
        assert k.ops and all(op in SPECS for op in k.ops), k.ops
        assert k.aspect in {"value", "dtype", "shape", "grad", "accepts", "raises", "error"}


@pytest.mark.parametrize("k", KNOWN, ids=lambda k: f"{k.ops[0]}-{k.aspect}")
def test_known_disagreements_still_happen(k):
    """Strict: the repro must still disagree with PyTorch in the listed way (on the entry's
    first op), and the entry's condition must hold for its own repro."""
    assert k.when(k.repro), f"{k.ops[0]}: the entry's condition does not hold for its repro"
    mismatches, _ = compare(SPECS[k.ops[0]], k.repro, grad=k.grad)
    aspects = {m.aspect for m in mismatches}
    assert k.aspect in aspects, (
        f"{k.ops[0]} no longer shows '{k.aspect}' ({k.reason}): the fix landed, delete this "
        f"entry from tests/fuzz/known_disagreements.py (found: {sorted(aspects) or 'agreement'})")


@pytest.mark.parametrize("d", [d for d in DELIBERATE if d.example is not None],
                         ids=lambda d: f"{d.ops[0]}-{d.aspect}")
def test_deliberate_differences_are_real_and_hold(d):
    spec = SPECS[d.ops[0]]
    assert d.when(d.example)
    mismatches, _ = compare(spec, d.example, grad=d.grad)
    assert d.aspect in {m.aspect for m in mismatches}, "PyTorch now agrees: drop the entry"
    assert d.check(spec, d.example), d.does


def test_docs_list_every_deliberate_difference():
    from pathlib import Path

    doc = (Path(__file__).parents[2] / "docs" / "from-pytorch.md").read_text()
    section = doc.split("## Deliberate differences, checked by the fuzz suite", 1)[-1]
    for d in DELIBERATE:
        for op in d.ops:
            assert f"`{op}`" in section, f"docs/from-pytorch.md does not list {op}"
