"""copy.deepcopy of tensors and modules, as in PyTorch: a new leaf with its own gradient."""

import copy

import numpy as np

import striate
import striate.nn as nn


def test_a_deep_copied_module_trains_its_own_parameters_while_a_graph_of_the_original_lives():
    # the copy's leaves used to share the original's gradient accumulator (a weak reference the
    # copy kept): backward through the copy filled the original's .grad
    striate.manual_seed(0)
    original = nn.Linear(2, 2)
    alive = original(striate.randn(3, 2)).sum()  # a graph that still holds the accumulators
    twin = copy.deepcopy(original)
    twin(striate.randn(3, 2)).sum().backward()
    assert twin.weight.grad is not None and original.weight.grad is None
    alive.backward()
    assert original.weight.grad is not None
    assert type(twin.weight) is nn.Parameter and twin.weight.requires_grad


def test_deepcopy_copies_values_and_grad_and_has_its_own_version(torch):
    x = striate.tensor([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward()
    y = copy.deepcopy(x)
    np.testing.assert_array_equal(y.grad.array, [2.0, 4.0])
    assert y.array is not x.array and y.grad is not x.grad and y.is_leaf and y.requires_grad
    with striate.no_grad():
        y.add_(1)
    assert x._version[0] == 0 and x.tolist() == [1.0, 2.0]
    tx = torch.tensor([1.0, 2.0], requires_grad=True)
    (tx * tx).sum().backward()
    assert copy.deepcopy(tx).grad.tolist() == y.grad.tolist()


def test_deepcopy_of_a_tensor_with_history_gives_its_values_and_a_pruned_module_copies():
    # PyTorch refuses (docs/from-pytorch.md): here the copy is the values, with no history
    h = striate.tensor([1.0], requires_grad=True) * 2
    c = copy.deepcopy(h)
    assert c.is_leaf and not c.requires_grad and c.tolist() == [2.0]
    from striate.nn.utils import prune

    striate.manual_seed(0)
    layer = nn.Linear(4, 3)
    prune.l1_unstructured(layer, "weight", amount=0.5)
    x = striate.randn(2, 4)
    want = layer(x).array
    twin = copy.deepcopy(layer)
    np.testing.assert_array_equal(twin(x).array, want)
    twin(x).sum().backward()
    assert twin.weight_orig.grad is not None and layer.weight_orig.grad is None
