"""``striate.nn.utils.prune``: PyTorch's masks, names and hook, checked against torch's prune on
the same weights."""

import numpy as np
import pytest

import striate
from striate import nn
from striate.nn.utils import prune


@pytest.fixture
def tprune(torch):
    import torch.nn.utils.prune as tprune

    return tprune


def _pair(torch, shape_in=7, shape_out=5):
    """A striate Linear and a torch Linear holding the same weights."""
    lin = nn.Linear(shape_in, shape_out)
    t = torch.nn.Linear(shape_in, shape_out)
    with torch.no_grad():
        t.weight.copy_(torch.from_numpy(lin.weight.array.copy()))
        t.bias.copy_(torch.from_numpy(lin.bias.array.copy()))
    return lin, t


def test_l1_unstructured_names_hook_and_torch_mask(torch, tprune):
    lin, t = _pair(torch)
    w = lin.weight
    prune.l1_unstructured(lin, "weight", amount=0.4)
    tprune.l1_unstructured(t, "weight", amount=0.4)
    assert sorted(lin.state_dict()) == sorted(t.state_dict()) == ["bias", "weight_mask",
                                                                   "weight_orig"]
    assert lin.weight_orig is w  # the same Parameter: an optimizer holding it stays valid
    assert [n for n, _ in lin.named_parameters()] == ["bias", "weight_orig"]
    np.testing.assert_array_equal(lin.weight_mask.array, t.weight_mask.numpy())
    np.testing.assert_allclose(lin.weight.array, t.weight.detach().numpy(), rtol=0, atol=0)
    assert prune.is_pruned(lin) and not prune.is_pruned(nn.Linear(2, 2))


def test_pruned_weights_get_no_gradient_and_hook_recomputes(rng):
    lin = nn.Linear(6, 4)
    prune.l1_unstructured(lin, "weight", amount=10)
    x = striate.Tensor(rng.standard_normal((3, 6)).astype(np.float32))
    lin(x).sum().backward()
    mask = lin.weight_mask.array
    g = lin.weight_orig.grad.array
    assert (g[mask == 0] == 0).all() and (g[mask == 1] != 0).any()
    # the hook recomputes weight from weight_orig at every call
    lin.weight_orig.array[...] = 1.0
    lin.weight_orig._bump_version()
    lin(x)
    np.testing.assert_array_equal(lin.weight.array, mask)


def test_iterative_pruning_combines_masks_like_torch(torch, tprune):
    lin, t = _pair(torch, 10, 8)
    for amount in (0.5, 0.5, 3):
        prune.l1_unstructured(lin, "weight", amount=amount)
        tprune.l1_unstructured(t, "weight", amount=amount)
        np.testing.assert_array_equal(lin.weight_mask.array, t.weight_mask.numpy())
    assert int((lin.weight_mask.array == 0).sum()) == 40 + 20 + 3
    assert len(lin._forward_pre_hooks) == 1


def test_global_unstructured_matches_torch(torch, tprune):
    a, ta = _pair(torch, 9, 6)
    b, tb = _pair(torch, 6, 4)
    prune.l1_unstructured(a, "weight", amount=0.2)  # an earlier mask takes part
    tprune.l1_unstructured(ta, "weight", amount=0.2)
    prune.global_unstructured([(a, "weight"), (b, "weight")],
                              pruning_method=prune.L1Unstructured, amount=0.5)
    tprune.global_unstructured([(ta, "weight"), (tb, "weight")],
                                             pruning_method=tprune.L1Unstructured,
                                             amount=0.5)
    np.testing.assert_array_equal(a.weight_mask.array, ta.weight_mask.numpy())
    np.testing.assert_array_equal(b.weight_mask.array, tb.weight_mask.numpy())
    total = a.weight_mask.array.size + b.weight_mask.array.size
    zeros = (a.weight_mask.array == 0).sum() + (b.weight_mask.array == 0).sum()
    before = round(0.2 * a.weight_mask.array.size)
    assert zeros == before + round(0.5 * (total - before))


@pytest.mark.parametrize("n,dim", [(2, 0), (1, 1), (float("inf"), 0)])
def test_ln_structured_matches_torch(torch, tprune, n, dim):
    conv = nn.Conv2d(3, 6, 3)
    tconv = torch.nn.Conv2d(3, 6, 3)
    with torch.no_grad():
        tconv.weight.copy_(torch.from_numpy(conv.weight.array.copy()))
    prune.ln_structured(conv, "weight", amount=0.34, n=n, dim=dim)
    tprune.ln_structured(tconv, "weight", amount=0.34, n=n, dim=dim)
    np.testing.assert_array_equal(conv.weight_mask.array, tconv.weight_mask.numpy())
    # twice: the second round prunes among the channels left
    prune.ln_structured(conv, "weight", amount=1, n=n, dim=dim)
    tprune.ln_structured(tconv, "weight", amount=1, n=n, dim=dim)
    np.testing.assert_array_equal(conv.weight_mask.array, tconv.weight_mask.numpy())


def test_random_unstructured_counts_and_remove(rng):
    lin = nn.Linear(10, 10)
    prune.random_unstructured(lin, "weight", amount=0.3)
    assert int((lin.weight_mask.array == 0).sum()) == 30
    expected = lin.weight.array.copy()
    prune.remove(lin, "weight")
    assert isinstance(lin.weight, nn.Parameter)
    assert sorted(lin.state_dict()) == ["bias", "weight"]
    assert not prune.is_pruned(lin)
    np.testing.assert_array_equal(lin.weight.array, expected)
    with pytest.raises(ValueError, match="prune.remove: parameter 'weight'"):
        prune.remove(lin, "weight")


def test_pruned_state_dict_loads_after_identity():
    a = nn.Linear(4, 3)
    prune.l1_unstructured(a, "weight", amount=0.5)
    b = prune.identity(nn.Linear(4, 3), "weight")
    b.load_state_dict(a.state_dict())
    b(striate.zeros(1, 4))
    np.testing.assert_array_equal(b.weight.array, a.weight.array)


def test_bad_amounts_are_named():
    with pytest.raises(ValueError, match="l1_unstructured: amount must be a fraction"):
        prune.l1_unstructured(nn.Linear(2, 2), "weight", amount=1.5)
    with pytest.raises(ValueError, match="amount=9 is more than the 4"):
        prune.l1_unstructured(nn.Linear(2, 2), "weight", amount=9)
    with pytest.raises(AttributeError, match="has no tensor 'nope'"):
        prune.l1_unstructured(nn.Linear(2, 2), "nope", amount=1)
