"""In-place changes after a forward: an error where a backward would read changed memory (as in
PyTorch), no error where nothing saved was touched."""

from __future__ import annotations

import numpy as np
import pytest

import striate
from striate import functional as F

RNG = np.random.default_rng(21)


def leaf(*shape):
    return striate.tensor(RNG.standard_normal(shape), requires_grad=True)


def test_changing_a_saved_output_raises():
    x = leaf(3, 4)
    y = F.sigmoid(x)  # backward reads y
    y.add_(1.0)
    with pytest.raises(RuntimeError, match="Sigmoid saved .* in-place"):
        y.sum().backward()


def test_changing_a_saved_input_raises_also_through_a_view_or_detach():
    for change in (lambda a: a.mul_(3.0), lambda a: a[0].add_(1.0),
                   lambda a: a.detach().zero_()):
        x, w = leaf(2, 3), leaf(3, 4)
        a = x * 2.0
        z = a @ w  # backward reads a and w
        # (the write through the view a[0] is recorded on a, as PyTorch's CopySlices records
        # it, and moves the version the matmul's node checks)
        with pytest.raises(RuntimeError, match="in-place"):
            change(a)
            z.sum().backward()


def test_changing_an_input_a_kernel_cache_kept_raises():
    x, w = leaf(2, 3, 6, 6), leaf(4, 3, 3, 3)
    h = x * 1.0
    out = F.conv2d(h, w, padding=1)  # the convolution's cache keeps h's memory for dW
    h.add_(1.0)
    with pytest.raises(RuntimeError, match="Conv"):
        out.sum().backward()


def test_harmless_changes_do_not_raise():
    x = leaf(3, 4)
    a = x * 2.0
    z = a + 1.0  # addition saves nothing
    a.add_(5.0)
    z.sum().backward()
    np.testing.assert_allclose(x.grad.array, 2.0)
    # relu keeps a private mask, not its output
    x.grad = None
    y = F.relu(x)
    y.add_(7.0)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.array, (x.array > 0).astype(float))
    # .data is not tracked (PyTorch's .data): a deliberate, unchecked change
    x.grad = None
    s = F.sigmoid(x)
    s.data.mul_(1.0)
    s.sum().backward()
    assert x.grad is not None


def test_a_second_backward_after_a_change_raises():
    x = leaf(3)
    y = F.sigmoid(x)
    y.sum().backward(retain_graph=True)
    with striate.no_grad():
        y.add_(0.0)  # the version moves; a second backward would read changed memory
    with pytest.raises(RuntimeError, match="in-place"):
        y.sum().backward()


# ---- every writer of a tensor's memory bumps its version ---------------------------------------
# The classic alternating-update bug: y = lin(x); opt.step(); y.backward() must raise, as in
# PyTorch, instead of computing x.grad with the updated weight.

def _torch_raises_too(make_opt):
    torch = pytest.importorskip("torch")
    lin = torch.nn.Linear(3, 2).double()
    x = torch.randn(4, 3, dtype=torch.float64, requires_grad=True)
    y = lin(x)
    y.sum().backward(retain_graph=True)
    make_opt(torch.optim, lin.parameters()).step()
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


@pytest.mark.parametrize("make_opt", [
    lambda o, p: o.SGD(p, lr=0.1),
    lambda o, p: o.SGD(p, lr=0.1, momentum=0.9, weight_decay=1e-3),
    lambda o, p: o.Adam(p, lr=0.1),
    lambda o, p: o.AdamW(p, lr=0.1),
    lambda o, p: o.Adagrad(p, lr=0.1),
    lambda o, p: o.RMSprop(p, lr=0.1),
], ids=["sgd", "sgd-momentum", "adam", "adamw", "adagrad", "rmsprop"])
def test_an_optimizer_step_between_forward_and_backward_raises(make_opt):
    striate.manual_seed(0)
    lin = striate.nn.Linear(3, 2)
    x = striate.randn(4, 3, requires_grad=True)
    y = lin(x)  # linear's backward reads the weight for x.grad
    y.sum().backward(retain_graph=True)
    opt = make_opt(striate.optim, lin.parameters())
    opt.step()
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()
    _torch_raises_too(make_opt)


def test_a_step_after_backward_is_fine():
    striate.manual_seed(0)
    lin = striate.nn.Linear(3, 2)
    opt = striate.optim.SGD(lin.parameters(), lr=0.1)
    v = lin.weight._version_number
    for _ in range(2):
        opt.zero_grad()
        lin(striate.randn(4, 3)).sum().backward()
        opt.step()
    assert lin.weight._version_number == v + 2


def test_load_state_dict_bumps_the_version():
    striate.manual_seed(0)
    lin = striate.nn.Linear(3, 2)
    x = striate.randn(4, 3, requires_grad=True)
    y = lin(x)
    v = lin.weight._version_number
    lin.load_state_dict(striate.nn.Linear(3, 2).state_dict())
    assert lin.weight._version_number > v
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


@pytest.mark.parametrize("init", [
    lambda w: striate.nn.init.normal_(w),
    lambda w: striate.nn.init.uniform_(w),
    lambda w: striate.nn.init.constant_(w, 0.5),
    lambda w: striate.nn.init.zeros_(w),
    lambda w: striate.nn.init.kaiming_uniform_(w),
    lambda w: striate.nn.init.xavier_normal_(w),
    lambda w: striate.nn.init.orthogonal_(w),
], ids=["normal_", "uniform_", "constant_", "zeros_", "kaiming_uniform_", "xavier_normal_",
        "orthogonal_"])
def test_nn_init_bumps_the_version(init):
    striate.manual_seed(0)
    lin = striate.nn.Linear(3, 2)
    x = striate.randn(4, 3, requires_grad=True)
    y = lin(x)
    with striate.no_grad():
        init(lin.weight)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


@pytest.mark.parametrize("write", [
    lambda w: w.copy_(striate.zeros(2, 3)),
    lambda w: w.fill_(1.0),
    lambda w: w.zero_(),
    lambda w: w.add_(1.0),
    lambda w: w.mul_(2.0),
    lambda w: w.clamp_(0.0, 0.1),
    lambda w: w.__setitem__(0, 3.0),
    lambda w: w.masked_fill_(w.array > 0, 0.0),
    lambda w: w.normal_(),
    lambda w: w.uniform_(),
    lambda w: striate.nn.utils.vector_to_parameters(striate.zeros(6), [w]),
], ids=["copy_", "fill_", "zero_", "add_", "mul_", "clamp_", "setitem", "masked_fill_",
        "normal_", "uniform_", "vector_to_parameters"])
def test_tensor_writers_bump_the_version(write):
    w = striate.randn(2, 3, requires_grad=True)
    x = striate.randn(4, 2, requires_grad=True)
    y = x @ w  # matmul's backward reads w for x.grad
    v = w._version_number
    with striate.no_grad():
        write(w)
    assert w._version_number > v
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


def test_lbfgs_step_bumps_the_parameters_versions():
    w = striate.tensor(np.array([1.0, -2.0]), requires_grad=True)
    opt = striate.optim.LBFGS([w], lr=0.5, max_iter=2)

    def closure():
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss

    y = w * w  # saves w for its backward
    opt.step(closure)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()
