"""jit.trace: the graph it records, running it (any batch, with gradients), and the warning for
data-dependent control flow."""

import numpy as np
import pytest

import striate
from striate import functional as F
from striate import jit, nn


def _small_convnet():
    return nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Flatten(), nn.Linear(4 * 4 * 4, 5))


def _randomise_bn(model, rng):
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            n = m.num_features
            m.running_mean.array[:] = rng.standard_normal(n)
            m.running_var.array[:] = rng.uniform(0.5, 2.0, n)
            m.weight.array[:] = rng.uniform(0.5, 1.5, n)
            m.bias.array[:] = rng.standard_normal(n)


def test_trace_records_functional_ops_with_attributes_and_named_parameters(rng):
    m = _small_convnet().eval()
    t = jit.trace(m, striate.randn(2, 3, 8, 8))
    g = t.graph
    assert [n.op for n in g.nodes] == ["conv2d", "batch_norm", "relu", "max_pool2d", "reshape",
                                       "linear"]
    conv = g.nodes[0]
    assert conv.inputs == ["input_0", "0.weight", "0.bias"]
    assert conv.attrs["stride"] == (1, 1) and conv.attrs["padding"] == (1, 1)
    assert conv.scope == "0"
    assert g.nodes[1].inputs[3:] == ["1.running_mean", "1.running_var"]
    assert g.params == {"0.weight", "0.bias", "1.weight", "1.bias", "5.weight", "5.bias"}
    assert "%" in t.code and "conv2d" in t.code
    # state_dict keys are the model's
    assert list(t.state_dict()) == list(m.state_dict())


def test_traced_module_equals_eager_on_other_inputs_and_batch_sizes(rng):
    m = _small_convnet().eval()
    _randomise_bn(m, rng)
    t = jit.trace(m, striate.randn(2, 3, 8, 8))
    for n in (1, 5):
        x = striate.tensor(rng.standard_normal((n, 3, 8, 8)).astype(np.float32))
        with striate.no_grad():
            np.testing.assert_allclose(t(x).array, m(x).array, rtol=1e-6, atol=1e-6)
    with pytest.raises(ValueError, match="traced for"):
        t(striate.randn(2, 3, 9, 9))


def test_traced_module_trains_its_parameters_are_the_models():
    m = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 2))
    x = striate.randn(6, 4)
    t = jit.trace(m, x)
    t(x).pow(2).sum().backward()
    ref = [p.grad.array.copy() for p in m.parameters()]
    m.zero_grad()
    m(x).pow(2).sum().backward()
    for r, p in zip(ref, m.parameters()):
        np.testing.assert_allclose(r, p.grad.array, rtol=1e-6, atol=1e-7)
    assert {id(p) for p in t.parameters()} == {id(p) for p in m.parameters()}


def test_trace_of_a_function_with_tuple_output():
    def f(a, b):
        return F.relu(a) * b, a.sum(dim=1)

    a, b = striate.randn(3, 4), striate.randn(3, 4)
    t = jit.trace(f, (a, b))
    out = t(a, b)
    assert isinstance(out, tuple) and len(out) == 2
    np.testing.assert_allclose(out[0].array, f(a, b)[0].array, rtol=1e-6, atol=0)


class _Branchy(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 3)

    def forward(self, x):
        if x.sum() > 0:  # data-dependent: the trace keeps one branch only
            return self.fc(x)
        return -x


def test_data_dependent_control_flow_warns_with_the_models_line():
    x = striate.ones(2, 3)
    with pytest.warns(jit.TracerWarning, match=r"bool\(\) at .*test_jit_trace.py:\d+"):
        m = _Branchy()
        t = jit.trace(m, x)
    assert t.data_dependent and t.data_dependent[0][0] == "bool()"
    # the branch taken is baked in: a negative input gives the wrong answer, as warned
    with striate.no_grad():
        assert np.allclose(m(-x).array, x.array)  # eager takes the other branch
        assert not np.allclose(t(-x).array, x.array)


def test_no_warning_without_data_dependence(recwarn):
    jit.trace(_small_convnet().eval(), striate.randn(1, 3, 8, 8))
    assert not [w for w in recwarn if issubclass(w.category, jit.TracerWarning)]


def test_trace_hook_is_off_after_tracing_and_on_error():
    from striate.autograd import function

    def bad(x):
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        jit.trace(bad, striate.randn(2))
    assert function._trace_hook is None
    with pytest.raises(TypeError, match="example_inputs"):
        jit.trace(nn.Linear(2, 2), [1, 2])
