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
