"""torch functions added for ported programs: gradients in float64 and PyTorch parity."""

from __future__ import annotations

import numpy as np
import pytest
from tests.opcheck import HAVE_TORCH, check_both, check_nn

import striate

R = np.random.default_rng(0)
A = R.standard_normal((3, 4))
POS = R.uniform(0.2, 2.0, (3, 4))


@pytest.mark.parametrize("name", ["log1p", "expm1", "sin", "cos"])
def test_elementwise(name):
    x = POS if name == "log1p" else A
    check_both(lambda lib, t: getattr(lib, name)(t), [x])
    check_both(lambda lib, t: getattr(t, name)(), [x])


def test_softplus_and_logsigmoid():
    x = A * 10  # both branches of the threshold
    check_nn(lambda F, t: F.softplus(t), [x])
    check_nn(lambda F, t: F.softplus(t, beta=2.0, threshold=5.0), [x])
    check_nn(lambda F, t: F.logsigmoid(t), [x])


@pytest.mark.parametrize("dim", [None, 0, 1, -1])
def test_prod_including_zeros(dim):
    x = A.copy()
    x[1, 2] = 0.0  # one zero: the gradient is the product of the others, not prod / x
    if dim is None:
        check_both(lambda lib, t: lib.prod(t), [x])
    else:
        check_both(lambda lib, t: lib.prod(t, dim), [x])
        check_both(lambda lib, t: t.prod(dim, keepdim=True), [x])


@pytest.mark.parametrize("name", ["cumsum", "cumprod"])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_cumulative(name, dim):
    check_both(lambda lib, t: getattr(lib, name)(t, dim), [A])
    check_both(lambda lib, t: getattr(t, name)(dim=dim), [A])


def test_cumprod_with_zeros():
    x = A.copy()
    x[0, 1] = 0.0
    x[2, 3] = 0.0
    check_both(lambda lib, t: lib.cumprod(t, 1), [x])


@pytest.mark.parametrize("dim", [0, 1, (0, 1)])
def test_logsumexp(dim):
    check_both(lambda lib, t: lib.logsumexp(t * 30, dim), [A])
    check_both(lambda lib, t: t.logsumexp(dim, keepdim=True), [A])


@pytest.mark.parametrize("p", [1, 2, 3, 1.5, float("inf")])
def test_norms(p):
    check_both(lambda lib, t: lib.linalg.vector_norm(t, p, dim=1), [A])
    check_both(lambda lib, t: lib.norm(t, p), [A])
    check_both(lambda lib, t: t.norm(p, dim=0, keepdim=True), [A])


def test_linalg_norm_and_zero_vector_gradient():
    check_both(lambda lib, t: lib.linalg.norm(t), [A])
    check_both(lambda lib, t: lib.linalg.norm(t, dim=1), [A])
    x = striate.tensor(np.zeros(3), requires_grad=True)
    striate.linalg.vector_norm(x).backward()
    np.testing.assert_array_equal(x.grad.array, 0.0)  # as PyTorch: 0, not nan
    assert striate.linalg.vector_norm(striate.tensor([1.0, 0.0, 2.0]), 0).item() == 2


@pytest.mark.parametrize("diagonal", [-1, 0, 2])
def test_tril_triu(diagonal):
    check_both(lambda lib, t: lib.tril(t, diagonal), [A])
    check_both(lambda lib, t: t.triu(diagonal), [A])


def test_flip_roll_narrow():
    check_both(lambda lib, t: lib.flip(t, (0, 1)), [A])
    check_both(lambda lib, t: t.flip(1), [A])
    check_both(lambda lib, t: lib.roll(t, 2, 1), [A])
    check_both(lambda lib, t: lib.roll(t, (1, -1), (0, 1)), [A])
    check_both(lambda lib, t: lib.roll(t, 5), [A])
    check_both(lambda lib, t: lib.narrow(t, 1, 1, 2), [A])
    check_both(lambda lib, t: t.narrow(0, -2, 2), [A])
    with pytest.raises(IndexError, match="narrow: start 3 \\+ length 2 exceeds"):
        striate.narrow(striate.tensor(A), 0, 3, 2)


def test_mm_bmm_methods_and_alpha_forms():
    b = R.standard_normal((4, 2))
    check_both(lambda lib, x, y: x.mm(y), [A, b])
    check_both(lambda lib, x, y: x.bmm(y), [R.standard_normal((2, 3, 4)),
                                             R.standard_normal((2, 4, 5))])
    check_both(lambda lib, x, y: x.add(y, alpha=0.5), [A, POS])
    check_both(lambda lib, x, y: x.sub(y, alpha=2), [A, POS])
    check_both(lambda lib, x, y: x.mul(y).div(y + 1).pow(2), [A, POS])
    check_both(lambda lib, x: x.amax(1) + x.amin(0).sum(), [A])


def test_non_differentiable_functions_match_torch():
    torch = pytest.importorskip("torch")
    x = striate.tensor(A)
    tx = torch.tensor(A)
    labels = np.array([[0, 3], [2, 1]])
    np.testing.assert_array_equal(striate.nn.functional.one_hot(striate.tensor(labels)).numpy(),
                                  torch.nn.functional.one_hot(torch.tensor(labels)).numpy())
    np.testing.assert_array_equal(
        striate.nn.functional.one_hot(striate.tensor(labels), 6).numpy(),
        torch.nn.functional.one_hot(torch.tensor(labels), 6).numpy())
    y = A + 1e-7
    assert striate.allclose(x, striate.tensor(y)) == torch.allclose(tx, torch.tensor(y))
    np.testing.assert_array_equal(striate.isclose(x, striate.tensor(A + 1e-3 * A)).numpy(),
                                  torch.isclose(tx, torch.tensor(A + 1e-3 * A)).numpy())
    assert format(striate.tensor(3.14159), ".2f") == format(torch.tensor(3.14159), ".2f")
    assert x.is_cuda is tx.is_cuda is False
    for fn in ("new_zeros", "new_ones"):
        ours, theirs = getattr(x, fn)((2, 3)), getattr(tx, fn)((2, 3))
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
        assert ours.dtype == np.float64 and getattr(x, fn)(2, 3).shape == (2, 3)
    assert x.new_full((2,), 7.0).tolist() == tx.new_full((2,), 7.0).tolist()
    assert x.new_tensor([1, 2]).dtype == np.float64
    assert tx.new_tensor([1, 2]).dtype == torch.float64
    np.testing.assert_array_equal(x.div(striate.tensor(0.7), rounding_mode="floor").numpy(),
                                  tx.div(0.7, rounding_mode="floor").numpy())


def test_random_functions_parse_like_torch_and_are_seeded():
    striate.manual_seed(0)
    a = striate.randint(5, (3, 4))
    assert a.shape == (3, 4) and a.dtype == np.int64 and 0 <= a.min().item() and a.max() < 5
    b = striate.randint(3, 6, (100,))
    assert b.min().item() >= 3 and b.max().item() < 6
    assert striate.randint(0, 2, size=(2,)).shape == (2,)
    with pytest.raises(TypeError, match="randint: expected"):
        striate.randint(5)
    x = striate.zeros(2, 3, dtype=striate.float64)
    assert striate.randn_like(x).dtype == np.float64
    assert striate.rand_like(x, dtype=striate.float32).dtype == np.float32
    striate.manual_seed(1)
    r1 = striate.randn_like(x).numpy()
    striate.manual_seed(1)
    np.testing.assert_array_equal(r1, striate.randn_like(x).numpy())
    # multinomial: frequencies follow the weights, no repeats without replacement
    w = striate.tensor([[1.0, 0.0, 3.0], [1.0, 1.0, 1.0]])
    s = striate.multinomial(w, 4000, replacement=True).numpy()
    np.testing.assert_allclose(np.bincount(s[0], minlength=3) / 4000, [0.25, 0, 0.75], atol=0.03)
    s = w[1:].multinomial(3).numpy()
    assert sorted(s[0]) == [0, 1, 2]
    with pytest.raises(ValueError, match="cannot draw 3 samples without replacement"):
        striate.multinomial(w[0], 3)


@pytest.mark.skipif(not HAVE_TORCH, reason="compares with PyTorch")
def test_randint_shapes_match_torch():
    import torch

    for args in [(5, (3,)), (2, 7, (2, 2))]:
        assert tuple(striate.randint(*args).shape) == tuple(torch.randint(*args).shape)
