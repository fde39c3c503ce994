"""Forward hooks' options (``prepend``, ``with_kwargs``, ``always_call``): the same calls, order
and results as PyTorch's on the same module."""

import pytest

import striate


def _run(lib):
    class M(lib.nn.Module):
        def forward(self, x, scale=1.0, fail=False):
            if fail:
                raise ValueError("boom")
            return x * scale

    m, calls = M(), []
    m.register_forward_pre_hook(lambda mod, a: calls.append("pre1"))

    def pre_kw(mod, args, kwargs):
        calls.append(("pre_kw", sorted(kwargs)))
        return args, {**kwargs, "scale": 3.0}

    m.register_forward_pre_hook(pre_kw, with_kwargs=True)
    m.register_forward_pre_hook(lambda mod, a: calls.append("pre0"), prepend=True)
    m.register_forward_hook(lambda mod, a, k, out: calls.append(("fwd_kw", float(out.sum()),
                                                                 sorted(k))), with_kwargs=True)
    m.register_forward_hook(lambda mod, a, out: calls.append(("always", out is None)),
                            always_call=True)
    m.register_forward_hook(lambda mod, a, out: out + 1, prepend=True)
    total = float(m(lib.ones(2), scale=2.0).sum())
    with pytest.raises(ValueError, match="boom"):
        m(lib.ones(2), fail=True)
    bad = M()
    bad.register_forward_pre_hook(lambda mod, a, k: a, with_kwargs=True)
    with pytest.raises(RuntimeError, match=r"must return None or a tuple of \(new_args, "):
        bad(lib.ones(2))
    return total, calls


def test_forward_hook_options_equal_torch(torch):
    ours, theirs = _run(striate), _run(torch)
    assert ours == theirs
    assert ours[0] == 8.0  # scale 3 from the kwargs hook, +1 from the prepended hook
    assert ("always", True) in ours[1]  # ran when forward raised


def _global_run(lib, mod):
    """Global hooks on a two-layer net: the order of calls, then every handle removed."""
    calls = []
    net = lib.nn.Sequential(lib.nn.Linear(2, 3), lib.nn.Tanh())
    net[0].register_forward_hook(lambda m, a, o: calls.append(("own", type(m).__name__)))
    handles = [
        mod.register_module_forward_pre_hook(lambda m, a: calls.append(("pre",
                                                                        type(m).__name__))),
        mod.register_module_forward_hook(lambda m, a, o: calls.append(("fwd", type(m).__name__))),
        mod.register_module_full_backward_pre_hook(
            lambda m, go: calls.append(("bpre", type(m).__name__))),
        mod.register_module_full_backward_hook(
            lambda m, gi, go: calls.append(("bwd", type(m).__name__, gi[0] is None))),
    ]
    try:
        with pytest.raises(RuntimeError, match="Cannot use both regular backward hooks and full"):
            mod.register_module_backward_hook(lambda m, gi, go: None)
        net(lib.ones(1, 2, requires_grad=True)).sum().backward()
    finally:
        for h in handles:
            h.remove()
    net(lib.ones(1, 2)).sum()  # removed: no more calls
    return calls


def test_global_module_hooks_equal_torch(torch):
    import striate.nn.modules.module as ours

    theirs = _global_run(torch, torch.nn.modules.module)
    assert _global_run(striate, ours) == theirs
    assert ("bwd", "Linear", False) in theirs
