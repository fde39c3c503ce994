"""In-place ops on tensors in the graph are recorded, as in PyTorch: the tensor's grad_fn becomes
the in-place op's node, whose input is the tensor's old history (issue 11)."""

from __future__ import annotations

import numpy as np
import pytest

import striate

torch = pytest.importorskip("torch")


def _both(seed, shape=(3, 4)):
    xs = np.random.default_rng(seed).standard_normal(shape)
    return striate.tensor(xs, requires_grad=True), torch.tensor(xs, requires_grad=True)


def _w(seed, shape=(3, 4)):
    ws = np.random.default_rng(seed).standard_normal(shape)
    return striate.tensor(ws, requires_grad=True), torch.tensor(ws, requires_grad=True)


CASES = {
    "mul_": lambda h, o, lib: h.mul_(3.0),
    "mul_tensor": lambda h, o, lib: h.mul_(o),
    "add_": lambda h, o, lib: h.add_(o, alpha=2.0),
    "sub_": lambda h, o, lib: h.sub_(o),
    "div_": lambda h, o, lib: h.div_(o * o + 1.0),
    "clamp_": lambda h, o, lib: h.clamp_(-0.5, 0.7),
    "relu_": lambda h, o, lib: h.relu_(),
    "copy_tensor": lambda h, o, lib: h.copy_(o),
    "copy_broadcast": lambda h, o, lib: h.copy_(o[0]),
    "copy_constant": lambda h, o, lib: h.copy_(lib.zeros(3, 4, dtype=lib.float64)),
    "fill_": lambda h, o, lib: h.fill_(2.0),
    "zero_": lambda h, o, lib: h.zero_(),
    "setitem_scalar": lambda h, o, lib: h.__setitem__(0, 5.0),
    "setitem_tensor": lambda h, o, lib: h.__setitem__((slice(None), 1), o[:, 2]),
    "setitem_mask": lambda h, o, lib: h.__setitem__(h > 0, 0.0),
    "masked_fill_": lambda h, o, lib: h.masked_fill_(o > 0, 1.5),
    "twice": lambda h, o, lib: h.mul_(o).add_(1.0),
}


@pytest.mark.parametrize("name", list(CASES))
def test_inplace_on_a_non_leaf_matches_pytorch(name):
    change = CASES[name]
    x, tx = _both(1)
    w, tw = _w(2)
    h = x * 2.0 + 1.0
    th = tx * 2.0 + 1.0
    r = change(h, w, striate)
    tr = change(th, tw, torch)
    assert (r is h) or name.startswith("setitem")
    np.testing.assert_allclose(h.array, th.detach().numpy(), rtol=1e-12, atol=1e-12)
    (h * h).sum().backward()
    (th * th).sum().backward()
    del tr
    np.testing.assert_allclose(x.grad.array, tx.grad.numpy(), rtol=1e-10, atol=1e-12)
    if tw.grad is None:
        assert w.grad is None or not w.grad.array.any()
    else:
        np.testing.assert_allclose(w.grad.array, tw.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_the_issue_reproduction():
    x = striate.randn(3, requires_grad=True)
    h = x * 2
    h.mul_(3)
    assert h.grad_fn.name() == "MulBackward"
    h.sum().backward()
    np.testing.assert_allclose(x.grad.array, 6.0)
    x.grad = None
    a = x * 2
    a.copy_(striate.tensor(0.0))
    a.sum().backward()
    np.testing.assert_array_equal(x.grad.array, 0.0)


def test_writing_a_grad_value_into_a_plain_buffer_records_it():
    w, tw = _w(3, (4,))
    buf, tbuf = striate.zeros(3, 4, dtype=np.float64), torch.zeros(3, 4, dtype=torch.float64)
    buf[1] = w * 2
    tbuf[1] = tw * 2
    assert buf.requires_grad and not buf.is_leaf
    (buf.sum() * 3).backward()
    (tbuf.sum() * 3).backward()
    np.testing.assert_allclose(w.grad.array, tw.grad.numpy())


def test_inplace_on_a_leaf_that_requires_grad_raises_outside_no_grad():
    x, tx = _both(4)
    for f in (lambda t: t.mul_(2.0), lambda t: t.__setitem__(0, 1.0), lambda t: t.zero_()):
        with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
            f(x)
        with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
            f(tx)
    with striate.no_grad():
        x.mul_(2.0)


def test_inplace_through_a_view_of_a_graph_tensor_is_recorded_as_pytorch_records_it():
    # PyTorch's CopySlices: the write goes into the base's history, the view is made again
    x, tx = _both(5)
    h, th = x * 2.0, tx * 2.0
    h[0].mul_(x[1])
    th[0].mul_(tx[1])
    assert h.grad_fn.name() == "CopySlicesBackward"
    g = np.random.default_rng(0).standard_normal(h.shape)
    h.backward(striate.tensor(g))
    th.backward(torch.tensor(g))
    np.testing.assert_allclose(h.array, th.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(x.grad.array, tx.grad.numpy(), rtol=1e-12, atol=1e-12)
    # a view that is no writable window on its base (a broadcast) still raises clearly
    e = (x * 1.0).expand(2, 3, 4)
    with pytest.raises(RuntimeError, match="view"):
        e.mul_(2.0)


def test_inplace_on_a_saved_output_raises_at_backward_as_in_pytorch():
    x, tx = _both(6)
    h, th = x.exp(), tx.exp()
    h.mul_(2.0)
    th.mul_(2.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        h.sum().backward()
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        th.sum().backward()
