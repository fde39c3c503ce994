"""Module backward hooks (``register_full_backward_hook``, ``register_full_backward_pre_hook``,
``register_backward_hook``) and the graph nodes' hooks they are built on: the calls and the
gradients equal PyTorch's on the same modules and weights (float64)."""

import warnings

import numpy as np
import pytest

import striate
import striate.nn as nn
from striate.autograd import gradcheck

TOL = dict(atol=1e-12, rtol=1e-10)


def _np(t):
    """A hook argument as comparable data: None, or a float64 array."""
    if t is None:
        return None
    return np.array(t.detach().numpy() if hasattr(t, "detach") else t.array, dtype=np.float64)


def _same(a, b):
    assert len(a) == len(b), (a, b)
    for u, v in zip(a, b):
        assert (u is None) == (v is None), (a, b)
        if u is not None:
            np.testing.assert_allclose(u, v, **TOL)


def _recorder(calls, tag):
    def hook(module, *grads):
        calls.append((tag, *(tuple(_np(g) for g in gs) for gs in grads)))
    return hook


class TwoInTwoOut:
    """forward(x, y, scale) -> (x * y * scale, y * 3), in both libraries."""

    @staticmethod
    def make(lib):
        class M(lib.nn.Module):
            def forward(self, x, y, scale):
                return x * y * scale, y * 3.0
        return M()


def _pair(torch, shape_in=(3, 4), shape_out=2):
    """A float64 Linear -> Tanh -> Linear in striate and the same in torch, same weights."""
    s = nn.Sequential(nn.Linear(shape_in[1], 5), nn.Tanh(), nn.Linear(5, shape_out)).double()
    t = torch.nn.Sequential(torch.nn.Linear(shape_in[1], 5), torch.nn.Tanh(),
                            torch.nn.Linear(5, shape_out)).double()
    with torch.no_grad():
        for (_, p), (_, q) in zip(s.named_parameters(), t.named_parameters()):
            q.copy_(torch.from_numpy(p.array))
    return s, t


def _run_both(torch, s, t, x, hooks):
    """Register ``hooks`` (kind, child index, factory(lib) -> hook) on both, run a backward of a
    weighted sum, return (striate calls, torch calls, striate grads, torch grads)."""
    out = []
    for lib, m in ((striate, s), (torch, t)):
        calls = []
        for kind, i, factory in hooks:
            getattr(m[i], kind)(factory(calls, lib))
        xi = lib.tensor(x, requires_grad=True)
        y = m(xi)
        w = lib.tensor(np.linspace(-1, 1, y.numel()).reshape(tuple(y.shape)))
        (y * w).sum().backward()
        grads = [_np(xi.grad)] + [_np(p.grad) for p in m.parameters()]
        out.append((calls, grads))
    (cs, gs), (ct, gt) = out
    return cs, ct, gs, gt


def _compare(cs, ct, gs, gt):
    assert [c[0] for c in cs] == [c[0] for c in ct]
    for a, b in zip(cs, ct):
        for u, v in zip(a[1:], b[1:]):
            _same(u, v)
    _same(gs, gt)


def test_full_hook_and_pre_hook_see_torchs_gradients(torch, rng):
    s, t = _pair(torch)
    x = rng.standard_normal((3, 4))
    hooks = [(kind, i, lambda calls, lib, i=i, kind=kind: _recorder(calls, f"{kind}{i}"))
             for i in range(3) for kind in ("register_full_backward_hook",
                                            "register_full_backward_pre_hook")]
    cs, ct, gs, gt = _run_both(torch, s, t, x, hooks)
    assert len(cs) == 6  # every hook fired once, in torch's order (checked by _compare)
    _compare(cs, ct, gs, gt)


def test_returned_gradients_replace_and_chain(torch, rng):
    """A full hook's grad_input replaces the input gradient (the next hook sees it); a pre-hook's
    grad_output replaces the output gradient, so the module's parameters see it too."""
    s, t = _pair(torch)
    x = rng.standard_normal((3, 4))

    def scale_input(calls, lib):
        return lambda m, gi, go: (gi[0] * 10.0,)

    def clamp_output(calls, lib):
        return lambda m, go: (go[0].clamp(min=0.0),)

    hooks = [("register_full_backward_hook", 1, scale_input),
             ("register_full_backward_hook", 1, lambda c, lib: _recorder(c, "after")),
             ("register_full_backward_pre_hook", 2, clamp_output),
             ("register_full_backward_hook", 2, lambda c, lib: _recorder(c, "last"))]
    cs, ct, gs, gt = _run_both(torch, s, t, x, hooks)
    _compare(cs, ct, gs, gt)
    # and the hooks did change something: without them the gradients differ
    plain = _run_both(torch, *_pair(torch), x, [])[2]
    assert not np.allclose(plain[0], gs[0])


def test_guided_backprop_style_relu_hooks_equal_torch(torch, rng):
    """Clamping the gradient at every ReLU (guided backpropagation), with the full hook and
    with the deprecated one (the same thing on a one-node module)."""
    for kind in ("register_full_backward_hook", "register_backward_hook"):
        s = nn.Sequential(nn.Conv2d(2, 3, 3), nn.ReLU(), nn.Flatten(), nn.Linear(12, 3),
                          nn.ReLU()).double()
        t = torch.nn.Sequential(torch.nn.Conv2d(2, 3, 3), torch.nn.ReLU(), torch.nn.Flatten(),
                                torch.nn.Linear(12, 3), torch.nn.ReLU()).double()
        with torch.no_grad():
            for p, q in zip(s.parameters(), t.parameters()):
                q.copy_(torch.from_numpy(p.array))
        x = rng.standard_normal((2, 2, 4, 4))
        relus = [i for i, m in enumerate(s) if isinstance(m, nn.ReLU)]
        hooks = [(kind, i, lambda calls, lib: lambda m, gi, go: (gi[0].clamp(min=0.0),))
                 for i in relus]
        hooks += [(kind, i, lambda calls, lib, i=i: _recorder(calls, f"relu{i}")) for i in relus]
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # a one-node module: no deprecation warning either
            cs, ct, gs, gt = _run_both(torch, s, t, x, hooks)
        _compare(cs, ct, gs, gt)


def test_several_inputs_and_outputs(torch):
    """grad_input: zeros for a tensor that needs no grad, None for a non-tensor; grad_output:
    None for an output no gradient reached."""
    res = []
    for lib in (striate, torch):
        m = TwoInTwoOut.make(lib)
        calls = []
        m.register_full_backward_pre_hook(_recorder(calls, "pre"))
        m.register_full_backward_hook(_recorder(calls, "full"))
        x = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        y = lib.tensor([3.0, 4.0], dtype=lib.float64)
        a, b = m(x, y, 2.0)
        assert not b.requires_grad and a.grad_fn.name() == "BackwardHookFunctionBackward"
        a.sum().backward()
        # now y requires grad and only the second output is used
        y.requires_grad_(True)
        a, b = m(x, y, 2.0)
        (b * 2).sum().backward()
        res.append(calls)
    _compare(res[0], res[1], [], [])
    assert res[0][1][1][1] is not None and not res[0][1][1][1].any()  # zeros for y
    assert res[0][1][1][2] is None  # the float argument


def test_no_input_requires_grad_fires_at_the_outputs(torch):
    res = []
    for lib in (striate, torch):
        lin = lib.nn.Linear(3, 2).double()
        calls = []
        lin.register_full_backward_hook(_recorder(calls, "full"))
        with pytest.warns(UserWarning, match="no inputs require gradients"):
            lin(lib.ones(4, 3, dtype=lib.float64)).sum().backward()
        res.append(calls)
        assert res[-1][0][1] == (None,)
        lin.register_full_backward_hook(lambda m, gi, go, lib=lib: (lib.ones(4, 3),))
        with pytest.raises(RuntimeError, match="no input requires gradient"):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                lin(lib.ones(4, 3, dtype=lib.float64)).sum().backward()


def test_hooks_run_for_autograd_grad_and_keep_gradcheck_exact():
    lin = nn.Linear(3, 2).double()
    seen = []
    lin.register_full_backward_hook(lambda m, gi, go: seen.append(gi[0].shape))
    x = striate.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    (gx,) = striate.autograd.grad(lin(x).sum(), x)
    assert seen == [(2, 3)]
    np.testing.assert_allclose(gx.array, np.ones((2, 2)) @ lin.weight.array, **TOL)
    # a hook that returns nothing leaves every gradient exact
    assert gradcheck(lambda t: lin(t).tanh(), (x,))


def test_removed_hooks_and_prepend():
    lin = nn.Linear(2, 2)
    order = []
    h1 = lin.register_full_backward_hook(lambda m, gi, go: order.append(1))
    lin.register_full_backward_hook(lambda m, gi, go: order.append(2))
    lin.register_full_backward_hook(lambda m, gi, go: order.append(0), prepend=True)
    x = striate.ones(1, 2, requires_grad=True)
    lin(x).sum().backward()
    assert order == [0, 1, 2]
    h1.remove()
    order.clear()
    lin(x).sum().backward()
    assert order == [0, 2]


def test_errors_name_what_was_expected(torch):
    for lib in (striate, torch):
        x = lib.ones(1, 2, requires_grad=True)
        lin = lib.nn.Linear(2, 2)
        lin.register_full_backward_hook(lambda m, gi, go: (gi[0], gi[0]))
        with pytest.raises(RuntimeError, match="invalid number of grad_input, got 2, but expected"):
            lin(x).sum().backward()
        lin = lib.nn.Linear(2, 2)
        lin.register_full_backward_pre_hook(lambda m, go: (go[0], go[0]))
        with pytest.raises(RuntimeError, match="invalid number of grad_output, got 2"):
            lin(x).sum().backward()
        lin = lib.nn.Linear(2, 2)
        lin.register_full_backward_hook(lambda m, gi, go, lib=lib: (lib.ones(3),))
        with pytest.raises(RuntimeError, match="size"):
            lin(x).sum().backward()
        lin = lib.nn.Linear(2, 2)
        lin.register_backward_hook(lambda m, gi, go: None)
        with pytest.raises(RuntimeError, match="Cannot use both regular backward hooks and full"):
            lin.register_full_backward_hook(lambda m, gi, go: None)
        # the output (a view made by the hooks' node) cannot change in place
        lin = lib.nn.Linear(2, 2)
        lin.register_full_backward_hook(lambda m, gi, go: None)
        with pytest.raises(RuntimeError, match="BackwardHookFunction"):
            lin(x).add_(1.0)

        class AddsInPlace(lib.nn.Module):
            def forward(self, t):
                return t.mul_(2.0)
        m = AddsInPlace()
        m.register_full_backward_hook(lambda m, gi, go: None)
        with pytest.raises(RuntimeError, match="BackwardHookFunction"):
            m(x * 1.0)


def test_deprecated_hook_on_a_many_node_module_warns_and_sees_that_node(torch):
    """register_backward_hook hooks the node that made the output, as PyTorch does, and warns
    where PyTorch warns (the node is not the whole forward)."""
    class Net(nn.Module):
        def forward(self, x):
            return (x * 2.0).exp()
    m = Net()
    seen = []
    m.register_backward_hook(lambda mod, gi, go: seen.append(gi))
    x = striate.tensor([0.5, 1.0], dtype=striate.float64, requires_grad=True)
    with pytest.warns(FutureWarning, match="multiple autograd Nodes"):
        y = m(x)
    y.sum().backward()
    # the hooked node is exp: its one input gradient is exp(2x), not d/dx = 2 exp(2x)
    np.testing.assert_allclose(seen[0][0].array, np.exp([1.0, 2.0]), **TOL)
    np.testing.assert_allclose(x.grad.array, 2 * np.exp([1.0, 2.0]), **TOL)


def test_node_hooks_equal_torchs(torch, rng):
    a0, b0 = rng.standard_normal(3), rng.standard_normal(3)
    res = []
    for lib in (striate, torch):
        a = lib.tensor(a0, requires_grad=True)
        b = lib.tensor(b0, requires_grad=True)
        y = a * b
        seen = []
        y.grad_fn.register_prehook(lambda go: (go[0] * 3.0,))
        h = y.grad_fn.register_hook(lambda gi, go, seen=seen: seen.append((_np(gi[0]), _np(go[0]))))
        y.grad_fn.register_hook(lambda gi, go: (gi[0], gi[1] * 0.0))
        y.sum().backward(retain_graph=True)
        h.remove()
        y.sum().backward()
        res.append((seen, _np(a.grad), _np(b.grad)))
    (ss, sa, sb), (ts, ta, tb) = res
    assert len(ss) == len(ts) == 1
    _same(ss[0], ts[0])
    _same([sa, sb], [ta, tb])
    assert not sb.any()
