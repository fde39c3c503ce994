"""nn.quantized: the int8 layers' integers are state (they save, load and rebuild), and their
input gradient is the straight-through one of the float layer with the dequantized weights."""

import numpy as np
import striate.functional as F

import striate
from striate import nn
from striate.nn.quantized import QuantizedConv2d, QuantizedLinear


def test_quantized_linear_rebuilds_from_its_state_dict(rng):
    lin = nn.Linear(12, 5)
    q = QuantizedLinear.from_float(lin, (-2.0, 2.0), per_channel=True, symmetric=False)
    fresh = QuantizedLinear(12, 5, per_channel=True, symmetric=False)
    fresh.load_state_dict(q.state_dict())
    x = striate.tensor(rng.standard_normal((3, 12)).astype(np.float32))
    np.testing.assert_array_equal(fresh(x).array, q(x).array)
    assert q.state_dict()["weight_int8"].dtype == np.int8
    assert q.state_dict()["bias_int32"].dtype == np.int32


def test_quantized_linear_input_gradient_is_straight_through(rng):
    lin = nn.Linear(6, 4).double()
    q = QuantizedLinear.from_float(lin, (-1.0, 1.0))
    x = striate.tensor(rng.uniform(-1.5, 1.5, (5, 6)), requires_grad=True)
    dy = rng.standard_normal((5, 4))
    q(x).backward(striate.tensor(dy))
    inside = np.abs(x.array) <= 1.0 + q.x_scale / 2  # rounds into [0, 255]
    expected = (dy @ q.dequantized_weight().astype(np.float64)) * inside
    np.testing.assert_allclose(x.grad.array, expected, atol=1e-12, rtol=1e-12)
    assert (~inside).any() and (x.grad.array[~inside] == 0).all()


def test_quantized_conv_input_gradient_is_the_float_convs(rng):
    conv = nn.Conv2d(3, 4, 3, stride=2, padding=1).double()
    q = QuantizedConv2d.from_float(conv, (-4.0, 4.0))
    x = rng.standard_normal((2, 3, 7, 7))
    dy = rng.standard_normal((2, 4, 4, 4))
    xt = striate.tensor(x, requires_grad=True)
    q(xt).backward(striate.tensor(dy))
    xr = striate.tensor(x, requires_grad=True)
    w = striate.tensor(q.dequantized_weight().astype(np.float64))
    F.conv2d(xr, w, None, stride=2, padding=1).backward(striate.tensor(dy))
    np.testing.assert_allclose(xt.grad.array, xr.grad.array, atol=1e-10, rtol=1e-10)
