"""striate.nn.utils and striate.nn.functional."""

import numpy as np
import pytest

import striate
from striate import nn
from striate.nn.utils import (
    clip_grad_norm_,
    clip_grad_value_,
    parameters_to_vector,
    vector_to_parameters,
)


def test_nn_functional_is_striate_functional():
    import striate.nn.functional as F

    assert F is striate.functional
    assert nn.functional is striate.functional
    assert F.relu is striate.ops.relu


def test_parameters_to_vector_and_back():
    net = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    vec = parameters_to_vector(net.parameters())
    assert vec.shape == (3 * 4 + 4 + 4 * 2 + 2,)
    np.testing.assert_array_equal(vec.array[:12], net[0].weight.array.ravel())
    np.testing.assert_array_equal(vec.array[-2:], net[2].bias.array)
    # differentiable: d(sum(v^2))/dw = 2w
    (vec * vec).sum().backward()
    np.testing.assert_allclose(net[0].weight.grad.array, 2 * net[0].weight.array)

    params = list(net.parameters())
    arrays = [p.array for p in params]
    new = striate.arange(vec.shape[0], dtype=np.float64)
    vector_to_parameters(new, net.parameters())
    assert [p.array for p in net.parameters()] == arrays  # copied in place
    assert net[0].weight.dtype == np.float32
    np.testing.assert_array_equal(net[0].weight.array.ravel(), np.arange(12))
    np.testing.assert_array_equal(net[2].bias.array, [24, 25])


def test_vector_to_parameters_errors():
    net = nn.Linear(2, 2)
    with pytest.raises(ValueError, match="vec has 5 elements but the parameters hold 6"):
        vector_to_parameters(striate.zeros(5), net.parameters())
    with pytest.raises(TypeError, match="vec must be a Tensor"):
        vector_to_parameters(np.zeros(6), net.parameters())
    with pytest.raises(ValueError, match="1-D"):
        vector_to_parameters(striate.zeros(2, 3), net.parameters())
    with pytest.raises(TypeError, match="parameter 1 must be a Tensor"):
        parameters_to_vector([net.weight, np.zeros(2)])


def test_clip_grad_reexports_work_on_a_model():
    net = nn.Linear(4, 3)
    (net(striate.ones(2, 4)) * 100).sum().backward()
    total = clip_grad_norm_(net.parameters(), max_norm=1.0)
    assert float(total) > 1.0
    norm = np.sqrt(sum(float((p.grad.array.astype(np.float64) ** 2).sum())
                       for p in net.parameters()))
    assert norm == pytest.approx(1.0, rel=1e-4)
    clip_grad_value_(net.parameters(), 0.01)
    assert max(float(np.abs(p.grad.array).max()) for p in net.parameters()) <= 0.01 + 1e-7
