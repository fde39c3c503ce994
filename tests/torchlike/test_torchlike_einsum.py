"""einsum: gradcheck in float64 and PyTorch parity over the equation forms."""

from __future__ import annotations

import numpy as np
import pytest
from opcheck import check_op

import striate

RNG = np.random.default_rng(9)


def _check(eq, *shapes):
    inputs = [RNG.standard_normal(s) for s in shapes]
    try:
        import torch

        torch_fn = lambda *t: torch.einsum(eq, *t)  # noqa: E731
    except ImportError:  # pragma: no cover - torch is optional
        torch_fn = None
    return check_op(lambda *t: striate.einsum(eq, *t), inputs, torch_fn)


@pytest.mark.parametrize("eq, shapes", [
    ("ij,jk->ik", [(3, 4), (4, 5)]),
    ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
    ("ij,ij->", [(3, 4), (3, 4)]),
    ("i,j->ij", [(3,), (4,)]),
    ("ijk->kji", [(2, 3, 4)]),
    ("ij->j", [(3, 4)]),
    ("ii->i", [(4, 4)]),                       # diagonal
    ("ii", [(4, 4)]),                          # trace (implicit output)
    ("ij,jk", [(3, 4), (4, 5)]),               # implicit output: ik
    ("ba,ca", [(3, 4), (2, 4)]),               # implicit output sorted: bc
    ("...ij,...jk->...ik", [(2, 3, 4), (4, 5)]),   # ellipsis broadcasts
    ("bij,bjk->bik", [(1, 3, 4), (2, 4, 5)]),  # size-1 dim broadcast
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 5)]),
    ("bhqd,bhkd->bhqk", [(2, 2, 3, 4), (2, 2, 5, 4)]),  # attention scores
    ("iij->j", [(3, 3, 2)]),
    ("ij,k->ijk", [(2, 3), (2,)]),
])
def test_einsum_matches_torch(eq, shapes):
    _check(eq, *shapes)


def test_einsum_list_form_and_values():
    a = striate.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert striate.einsum("ii->", [a]).item() == 5.0
    np.testing.assert_allclose(striate.einsum("ij,jk->ik", a, a).array, a.array @ a.array)


@pytest.mark.parametrize("eq, shapes, match", [
    ("ij,jk->ik", [(3, 4)], "1 were given"),
    ("ij->ij", [(3, 4, 5)], "has 3 dims"),
    ("ij,jk->ik", [(3, 4), (5, 6)], "size 4 in one operand and 5"),
    ("ij->ik", [(3, 4)], "output subscript 'k'"),
    ("i1->i", [(3, 4)], "must be letters"),
])
def test_einsum_errors(eq, shapes, match):
    with pytest.raises(ValueError, match=match):
        striate.einsum(eq, *[striate.randn(*s) for s in shapes])
