"""Graph passes: each returns a graph that computes the same outputs, and does its job."""

import numpy as np
import pytest

import striate
from striate import functional as F
from striate import jit, nn
from striate.jit.passes import planned_peak_bytes


def _net(rng):
    m = nn.Sequential(nn.Conv2d(3, 6, 3, padding=1, bias=False), nn.BatchNorm2d(6), nn.ReLU(),
                      nn.Conv2d(6, 6, 3, padding=1), nn.BatchNorm2d(6), nn.ReLU(),
                      nn.Flatten(), nn.Linear(6 * 6 * 6, 8), nn.BatchNorm1d(8), nn.ReLU(),
                      nn.Linear(8, 3))
    for mod in m.modules():
        if isinstance(mod, (nn.BatchNorm2d, nn.BatchNorm1d)):
            n = mod.num_features
            mod.running_mean.array[:] = rng.standard_normal(n)
            mod.running_var.array[:] = rng.uniform(0.5, 2.0, n)
            mod.weight.array[:] = rng.uniform(0.5, 1.5, n)
            mod.bias.array[:] = rng.standard_normal(n)
    return m.eval()



def _same(graph_a, graph_b, model, x):
    consts = {**graph_a.constants, **{k: t.array for k, t in model.state_dict().items()}}
    a = jit.run_graph(graph_a, [x.array], consts)[0]
    consts_b = {**consts, **graph_b.constants}
    b = jit.run_graph(graph_b, [x.array], consts_b)[0]
    np.testing.assert_allclose(b, a, rtol=1e-4, atol=1e-5)


@pytest.fixture
def traced(rng):
    m = _net(rng)
    x = striate.tensor(rng.standard_normal((4, 3, 6, 6)).astype(np.float32))
    return m, jit.trace(m, x), x


def test_fold_batch_norm_removes_every_bn_and_keeps_outputs(traced):
    m, t, x = traced
    g = jit.fold_batch_norm(t.graph)
    assert "batch_norm" not in g.op_counts()
    assert g.op_counts()["conv2d"] == 2 and g.op_counts()["linear"] == 2
    _same(t.graph, g, m, x)


def test_fuse_activations_merges_relus_and_keeps_outputs(traced):
    m, t, x = traced
    g = jit.fuse_activations(jit.fold_batch_norm(t.graph))
    assert g.op_counts() == {"conv2d_relu": 2, "reshape": 1, "linear_relu": 1, "linear": 1}
    _same(t.graph, g, m, x)


def test_dead_code_elimination_drops_unused_nodes_only():
    def f(x):
        unused = F.sigmoid(x) * 3  # noqa: F841 - dead on purpose
        return F.relu(x) + 1

    x = striate.randn(5)
    g = jit.trace(f, x).graph
    assert g.op_counts()["sigmoid"] == 1
    d = jit.eliminate_dead_code(g)
    assert d.op_counts() == {"relu": 1, "add": 1}
    np.testing.assert_array_equal(jit.run_graph(d, [x.array], d.constants)[0],
                                  jit.run_graph(g, [x.array], g.constants)[0])


def test_constant_folding_precomputes_constant_subgraphs():
    w = nn.Parameter(striate.randn(4, 4).array)

    def f(x):
        return x @ (w.t() * 2.0).exp()

    x = striate.randn(3, 4)
    t = jit.trace(f, x)
    folded = jit.constant_folding(t.graph)
    assert set(folded.op_counts()) == {"matmul"}
    np.testing.assert_allclose(jit.run_graph(folded, [x.array], folded.constants)[0],
                               f(x).array, rtol=1e-6, atol=1e-6)


def test_constant_folding_leaves_parameters_unless_asked():
    m = nn.Linear(3, 3)

    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = m

        def forward(self, x):
            return x @ self.lin.weight.t()

    t = jit.trace(M(), striate.randn(2, 3))
    assert "permute" in jit.constant_folding(t.graph).op_counts()
    assert "permute" not in jit.constant_folding(t.graph, include_params=True).op_counts()


def test_plan_buffers_frees_early_and_writes_in_place_without_changing_outputs(traced, rng):
    m, t, x = traced
    g = jit.plan_buffers(t.graph)
    assert any(n.inplace for n in g.nodes)
    assert planned_peak_bytes(g) < planned_peak_bytes(t.graph)
    _same(t.graph, g, m, x)
    # an in-place write never touches a value that is read later (residual block: add reads x)
    class Res(nn.Module):
        def __init__(self):
            super().__init__()
            self.c = nn.Conv2d(2, 2, 3, padding=1)

        def forward(self, x):
            y = F.relu(self.c(x))
            return F.relu(y + y * 2) + y

    r = Res().eval()
    xr = striate.tensor(rng.standard_normal((2, 2, 4, 4)).astype(np.float32))
    tr = jit.trace(r, xr)
    opt = jit.optimize_for_inference(tr)
    with striate.no_grad():
        np.testing.assert_allclose(opt(xr).array, r(xr).array, rtol=1e-5, atol=1e-6)


def test_optimize_for_inference_equals_eager_and_needs_eval(traced, rng):
    m, t, x = traced
    opt = jit.optimize_for_inference(t)
    with striate.no_grad():
        for n in (1, 7):
            xn = striate.tensor(rng.standard_normal((n, 3, 6, 6)).astype(np.float32))
            np.testing.assert_allclose(opt(xn).array, m(xn).array, rtol=1e-4, atol=1e-5)
    m.train()
    with pytest.raises(ValueError, match="model.eval"):
        jit.optimize_for_inference(jit.trace(m, x, check_trace=False))


@pytest.mark.parametrize("k, stride, pad, bias", [(3, 1, 1, True), (3, 2, 0, False),
                                                  (1, 1, 0, True), (1, 2, 0, False)])
def test_conv_relu_kernel_equals_conv_then_relu(rng, k, stride, pad, bias):
    from striate.kernels.conv import conv_forward, conv_relu_forward

    x = rng.standard_normal((3, 4, 7, 7)).astype(np.float32)
    w = rng.standard_normal((5, 4, k, k)).astype(np.float32)
    b = rng.standard_normal(5).astype(np.float32) if bias else None
    ref, _ = conv_forward(x, w, b, stride, pad)
    got = conv_relu_forward(x, w, b, stride, pad)
    np.testing.assert_allclose(got, np.maximum(ref, 0), rtol=1e-6, atol=1e-6)
