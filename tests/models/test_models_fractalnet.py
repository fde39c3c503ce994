"""FractalNet: the expansion rule's layout, its parameter count, the join, drop-path in training
and none in evaluation."""

import numpy as np
import pytest

import striate
from striate import functional as F
from striate.models import create_model, list_models
from striate.models.fractalnet import FractalNet, _Fractal, _join
from striate.models.stats import count_parameters, skip_init


def test_registered_and_shapes():
    assert "fractalnet" in list_models()
    striate.manual_seed(0)
    for shape in [(1, 8, 8), (3, 32, 32)]:
        model = FractalNet(7, shape, channels=(4, 8, 8, 8, 8))
        for mode in (True, False):
            model.train(mode)
            assert model(striate.randn(3, *shape)).shape == (3, 7)


def test_parameter_count_of_the_papers_cifar_layout():
    # B = 5 blocks of C = 3 columns (20 layers), widths 64-128-256-512-512, 10 classes, as the
    # paper's text describes it (its Table 1's 38.6M matches no such network: docs/fuzzing.md).
    # The count comes from the architecture: a block of width k after width k' has
    # 2**C - 1 = 7 units, C of them reading k' channels:
    # C * 9 k' k + (2**C - 1 - C) * 9 k**2 conv weights (no bias: BN follows) + 7 * 2k BN; then
    # a 512 -> 10 linear layer: 33,724,618, the count pytorchcv's fractalnet_cifar10 asserts too.
    with skip_init():
        model = create_model("fractalnet", 10, (3, 32, 32))
    widths = [3, 64, 128, 256, 512, 512]
    want = sum(3 * 9 * a * b + 4 * 9 * b * b + 7 * 2 * b for a, b in zip(widths, widths[1:]))
    assert count_parameters(model) == want + 512 * 10 + 10 == 33_724_618


def test_expansion_rule_layout():
    # column c holds 2**c units: 2**C - 1 units in all, the deepest path 2**(C-1) units long
    block = _Fractal(3, 4, 4, 0, 0.0, 0.0)
    units = [m for m in block.modules() if type(m).__name__ == "_Unit"]
    assert len(units) == 2 ** 4 - 1
    columns = [m.column for m in block.modules() if isinstance(m, _Fractal)]
    assert [columns.count(c) for c in range(4)] == [1, 2, 4, 8]
    striate.manual_seed(0)
    block.eval()
    outs = block(striate.randn(2, 3, 5, 5))
    assert [c for c, _ in outs] == [3, 2, 1, 0]  # the final join sees every column


def test_join_is_the_elementwise_mean_and_local_drop_keeps_one():
    a, b, c = (striate.tensor(np.full((2, 3), v, np.float32)) for v in (1.0, 2.0, 6.0))
    np.testing.assert_allclose(_join([a, b, c], 0.15, training=False).array, 3.0)
    striate.manual_seed(0)
    seen = set()
    for _ in range(200):
        v = float(_join([a, b, c], 0.9, training=True).array[0, 0])
        seen.add(round(v, 4))
    # subsets kept: never empty; with p = 0.9 single inputs are common, all three rarer
    assert {1.0, 2.0, 6.0} <= seen and seen <= {1.0, 2.0, 6.0, 1.5, 3.5, 4.0, 3.0}


def test_drop_path_in_training_only():
    striate.manual_seed(0)
    model = FractalNet(3, (1, 8, 8), channels=(4, 8), drop_local=0.5, global_fraction=0.5)
    x = striate.randn(4, 1, 8, 8)
    model.eval()
    with striate.no_grad():
        ref = model(x).array.copy()
        np.testing.assert_array_equal(model(x).array, ref)  # evaluation: deterministic
        model.train()
        outs = {model(x).array.tobytes() for _ in range(12)}
    assert len(outs) > 3  # training: different paths on different batches
    # one column alone equals the global drop-path network restricted to it
    model.eval()
    single = FractalNet(3, (1, 8, 8), channels=(4, 8), column=2)
    single.load_state_dict(model.state_dict())
    single.eval()
    with striate.no_grad():
        col = single(x).array
    assert not np.allclose(col, ref)


def test_gradients_reach_every_parameter():
    striate.manual_seed(0)
    model = FractalNet(3, (1, 8, 8), channels=(4, 8), drop_local=0.0, global_fraction=0.0)
    F.cross_entropy(model(striate.randn(4, 1, 8, 8)), striate.tensor([0, 1, 2, 0])).backward()
    assert all(p.grad is not None and np.isfinite(p.grad.array).all() and
               np.abs(p.grad.array).sum() > 0 for p in model.parameters())


def test_global_drop_path_trains_only_the_chosen_column():
    striate.manual_seed(0)
    model = FractalNet(3, (1, 8, 8), channels=(4,), column=0)
    model.train()
    F.cross_entropy(model(striate.randn(4, 1, 8, 8)), striate.tensor([0, 1, 2, 0])).backward()
    block = model.blocks[0]
    assert block.unit.conv.weight.grad is not None
    assert all(p.grad is None for p in block.first.parameters())


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="FractalNet: columns"):
        FractalNet(3, (1, 8, 8), columns=0)
    with pytest.raises(ValueError, match="FractalNet: column must be"):
        FractalNet(3, (1, 8, 8), columns=2, column=2)
    with pytest.raises(ValueError, match="FractalNet: dropout needs one rate per block"):
        FractalNet(3, (1, 8, 8), channels=(4, 8), dropout=(0.1,))
