"""``backward(inputs=...)`` accumulates into the listed tensors only, as PyTorch's."""

import numpy as np
import pytest

import striate


def test_backward_inputs_equal_torch(torch, rng):
    a0, b0 = rng.standard_normal(3), rng.standard_normal(3)
    res = []
    for lib in (striate, torch):
        a = lib.tensor(a0, requires_grad=True)
        b = lib.tensor(b0, requires_grad=True)
        c = lib.tensor(a0, requires_grad=True)
        h = a.exp()
        h.retain_grad()
        y = (h * b).sum()
        y.backward(inputs=[b, h], retain_graph=True)
        assert a.grad is None  # not listed: untouched
        y.backward(inputs=[c, b])  # c is not in the graph: keeps None; b accumulates again
        assert c.grad is None
        res.append([g.detach().numpy().copy() for g in (b.grad, h.grad)])
    for u, v in zip(*res):
        np.testing.assert_allclose(u, v, rtol=1e-12, atol=1e-12)


def test_backward_inputs_errors():
    x = striate.ones(2, requires_grad=True)
    y = (x * 2).sum()
    with pytest.raises(RuntimeError, match="inputs argument cannot be empty"):
        y.backward(inputs=[], retain_graph=True)
    with pytest.raises(RuntimeError, match=r"inputs\[0\] does not require grad"):
        y.backward(inputs=[striate.ones(2)])
