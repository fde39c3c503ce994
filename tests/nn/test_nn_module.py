"""Module: registration, traversal, state_dict, modes, hooks, dtype conversion, repr."""

import copy
import pickle

import numpy as np
import pytest

import striate
from striate import nn


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Linear(3, 4)
        self.scale = nn.Parameter(np.ones(4, np.float32))
        self.register_buffer("count", striate.zeros(1))
        self.register_buffer("scratch", striate.zeros(2), persistent=False)

    def forward(self, x):
        return self.conv(x) * self.scale


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.first = Block()
        self.act = nn.ReLU()
        self.head = nn.Linear(4, 2)

    def forward(self, x):
        return self.head(self.act(self.first(x)))


def test_parameter_is_a_leaf_tensor_that_shares_its_array():
    a = np.zeros((2, 3), np.float32)
    p = nn.Parameter(a)
    assert isinstance(p, striate.Tensor) and p.requires_grad and p.is_leaf
    assert p.array is a
    t = striate.ones(2)
    assert nn.Parameter(t).array is t.array
    assert not nn.Parameter(t, requires_grad=False).requires_grad
    assert repr(p).startswith("Parameter containing:\ntensor(")
    assert nn.Parameter().shape == (0,)


def test_registration_order_and_kinds():
    b = Block()
    assert list(b._parameters) == ["scale"]
    assert list(b._modules) == ["conv"]
    assert list(b._buffers) == ["count", "scratch"]
    assert [n for n, _ in b.named_parameters()] == ["scale", "conv.weight", "conv.bias"]
    assert b.scale is b._parameters["scale"]
    assert b.count is b._buffers["count"]


def test_nested_names_and_children():
    net = Net()
    names = [n for n, _ in net.named_parameters()]
    assert names == ["first.scale", "first.conv.weight", "first.conv.bias", "head.weight",
                     "head.bias"]
    assert [n for n, _ in net.named_buffers()] == ["first.count", "first.scratch"]
    assert [n for n, _ in net.named_children()] == ["first", "act", "head"]
    assert [n for n, _ in net.named_modules()] == ["", "first", "first.conv", "act", "head"]
    assert len(list(net.parameters(recurse=False))) == 0
    assert len(list(net.modules())) == 5
    assert net.get_submodule("first.conv") is net.first.conv
    with pytest.raises(AttributeError, match="no sub-module 'nope'"):
        net.get_submodule("first.nope")
    assert net.num_parameters() == 4 + 12 + 4 + 8 + 2


def test_shared_parameter_and_module_counted_once():
    lin = nn.Linear(2, 2)
    seq = nn.Sequential(lin, nn.ReLU(), lin)
    assert len(list(seq.parameters())) == 2
    assert [n for n, _ in seq.named_modules()] == ["", "0", "1"]
    # state_dict keeps both names, as PyTorch does
    assert list(seq.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]


def test_assigning_before_init_is_a_clear_error():
    class Bad(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(np.zeros(2))
            super().__init__()

    with pytest.raises(AttributeError, match=r"before Module.__init__\(\).*Bad"):
        Bad()

    class BadModule(nn.Module):
        def __init__(self):
            self.fc = nn.Linear(1, 1)

    with pytest.raises(AttributeError, match="cannot assign module 'fc'"):
        BadModule()


def test_setattr_type_errors_and_reassignment():
    lin = nn.Linear(2, 3)
    with pytest.raises(TypeError, match="parameter 'weight'"):
        lin.weight = striate.zeros(3, 2)
    lin.bias = None
    assert lin.bias is None and "bias" in lin._parameters
    assert [n for n, _ in lin.named_parameters()] == ["weight"]
    net = Net()
    with pytest.raises(TypeError, match="child module 'head'"):
        net.head = 3
    b = Block()
    with pytest.raises(TypeError, match="buffer 'count'"):
        b.count = np.zeros(1)
    new = striate.ones(1)
    b.count = new
    assert b.count is new
    # a plain attribute becomes a parameter when a Parameter is assigned to its name
    m = nn.Module()
    m.x = 1
    m.x = nn.Parameter(np.zeros(1))
    assert "x" in m._parameters and "x" not in m.__dict__


def test_register_errors():
    m = nn.Module()
    with pytest.raises(KeyError, match="must not contain a dot"):
        m.register_buffer("a.b", striate.zeros(1))
    with pytest.raises(TypeError, match="buffer 'buf'"):
        m.register_buffer("buf", np.zeros(1))
    with pytest.raises(TypeError, match="parameter 'p'"):
        m.register_parameter("p", striate.zeros(1))
    with pytest.raises(TypeError, match="not a Module"):
        m.add_module("sub", "not a module")
    m.other = 5
    with pytest.raises(KeyError, match="already exists"):
        m.register_buffer("other", striate.zeros(1))


def test_getattr_and_delattr():
    net = Net()
    with pytest.raises(AttributeError, match="'Net' object has no attribute 'missing'"):
        net.missing  # noqa: B018
    del net.head
    assert "head" not in net._modules
    with pytest.raises(AttributeError):
        net.head  # noqa: B018
    b = Block()
    del b.scratch
    assert "scratch" not in b._buffers and "scratch" not in b._non_persistent_buffers_set
    assert "conv" in dir(b)


def test_train_eval_propagate():
    net = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.Dropout(0.5), nn.ReLU()))
    assert all(m.training for m in net.modules())
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    net[1].train()
    assert not net.training and net[1][0].training
    net.train()
    assert all(m.training for m in net.modules())
    with pytest.raises(TypeError, match="bool"):
        net.train("yes")


def test_apply_visits_children_first():
    net = Net()
    seen = []
    assert net.apply(lambda m: seen.append(type(m).__name__)) is net
    assert seen == ["Linear", "Block", "ReLU", "Linear", "Net"]


def test_requires_grad_and_zero_grad():
    net = Net()
    net.requires_grad_(False)
    assert not any(p.requires_grad for p in net.parameters())
    assert net.num_parameters(trainable_only=True) == 0
    net.requires_grad_()
    out = net(striate.randn(5, 3)).sum()
    out.backward()
    assert all(p.grad is not None for p in net.parameters())
    grads = [p.grad for p in net.parameters()]
    net.zero_grad(set_to_none=False)
    assert all(p.grad is g and not g.array.any() for p, g in zip(net.parameters(), grads))
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


def test_state_dict_names_copies_and_persistence():
    net = Net()
    sd = net.state_dict()
    assert list(sd) == ["first.scale", "first.count", "first.conv.weight", "first.conv.bias",
                        "head.weight", "head.bias"]
    assert "first.scratch" not in sd
    for (name, value), live in zip(sd.items(), net.state_dict(keep_vars=True).values()):
        assert isinstance(value, striate.Tensor)
        np.testing.assert_array_equal(value.array, live.array)
        assert not np.shares_memory(value.array, live.array), name
    assert net.state_dict(keep_vars=True)["head.weight"] is net.head.weight


def test_state_dict_roundtrip_into_fresh_model():
    striate.manual_seed(0)
    a = Net()
    a.first.count.array[...] = 7
    striate.manual_seed(1)
    b = Net()
    assert not np.allclose(a.head.weight.array, b.head.weight.array)
    w_before = b.head.weight
    arr_before = b.head.weight.array
    result = b.load_state_dict(a.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    for (na, ta), (nb, tb) in zip(a.state_dict().items(), b.state_dict().items()):
        assert na == nb
        np.testing.assert_array_equal(ta.array, tb.array)
    # copied in place: same Parameter, same array, yet not aliasing the source model
    assert b.head.weight is w_before and b.head.weight.array is arr_before
    assert not np.shares_memory(a.head.weight.array, b.head.weight.array)
    a.head.weight.array[...] = 0
    assert b.head.weight.array.any()
    # NumPy arrays are accepted and cast to the model's dtype
    b.load_state_dict({k: v.array.astype(np.float64) for k, v in a.state_dict().items()})
    assert b.head.weight.dtype == np.float32 and not b.head.weight.array.any()


def test_load_state_dict_strict_errors_list_the_keys():
    net = Net()
    sd = net.state_dict()
    del sd["head.bias"]
    sd["extra.weight"] = striate.zeros(1)
    with pytest.raises(RuntimeError) as e:
        net.load_state_dict(sd)
    msg = str(e.value)
    assert "Missing key(s)" in msg and "'head.bias'" in msg
    assert "Unexpected key(s)" in msg and "'extra.weight'" in msg
    before = net.head.weight.array.copy()
    sd["head.weight"] = striate.zeros(2, 4)
    missing, unexpected = net.load_state_dict(sd, strict=False)
    assert missing == ["head.bias"] and unexpected == ["extra.weight"]
    assert not net.head.weight.array.any()
    net.head.weight.array[...] = before
    with pytest.raises(TypeError, match="mapping"):
        net.load_state_dict([1, 2])


def test_load_state_dict_shape_mismatch_names_key_and_shapes_and_changes_nothing():
    net = Net()
    sd = {k: striate.zeros(*v.shape) for k, v in net.state_dict().items()}
    sd["head.weight"] = striate.zeros(3, 4)
    before = net.first.conv.weight.array.copy()
    with pytest.raises(RuntimeError, match=r"head.weight.*\(2, 4\).*\(3, 4\)"):
        net.load_state_dict(sd, strict=False)
    np.testing.assert_array_equal(net.first.conv.weight.array, before)


def test_to_double_keeps_parameter_identity_and_int_buffers():
    bn = nn.BatchNorm1d(3)
    net = nn.Sequential(nn.Linear(2, 3), bn)
    params = list(net.parameters())
    net(striate.randn(4, 2)).sum().backward()
    assert net.to(striate.float64) is net
    assert [id(p) for p in net.parameters()] == [id(p) for p in params]
    assert all(p.dtype == np.float64 and p.grad.dtype == np.float64 for p in params)
    assert bn.running_mean.dtype == np.float64
    assert bn.num_batches_tracked.dtype == np.int64
    net.float()
    assert all(p.dtype == np.float32 for p in params)
    assert net.double()[0].weight.dtype == np.float64
    net.to(striate.zeros(1))  # dtype (and device) of a tensor
    assert net[0].weight.dtype == np.float32
    assert net.to("cpu")[0].weight is params[0]
    with pytest.raises(TypeError, match="floating"):
        net.to(striate.int64)


def test_forward_hooks_and_pre_hooks():
    lin = nn.Linear(3, 2)
    seen = []
    h1 = lin.register_forward_hook(lambda m, args, out: seen.append((m, args[0].shape, out.shape)))
    x = striate.randn(4, 3)
    y = lin(x)
    assert seen == [(lin, (4, 3), (4, 2))]
    h1.remove()
    lin(x)
    assert len(seen) == 1
    # a pre-hook may replace the input, a forward hook the output
    with (
        lin.register_forward_pre_hook(lambda m, args: args[0] * 0),
        lin.register_forward_hook(lambda m, args, out: out + 1),
    ):
        z = lin(x)
    np.testing.assert_allclose(z.array, np.tile(lin.bias.array + 1, (4, 1)))
    np.testing.assert_allclose(lin(x).array, y.array)


def test_forward_missing_is_reported():
    with pytest.raises(NotImplementedError, match=r'\[Module\] is missing the required "forward"'):
        nn.Module()(1)


def test_repr_like_torch():
    net = Net()
    expected = (
        "Net(\n"
        "  (first): Block(\n"
        "    (conv): Linear(in_features=3, out_features=4, bias=True)\n"
        "  )\n"
        "  (act): ReLU()\n"
        "  (head): Linear(in_features=4, out_features=2, bias=True)\n"
        ")"
    )
    assert repr(net) == expected

    class Custom(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(1, 1, bias=False)

        def extra_repr(self):
            return "k=3"

    assert repr(Custom()) == (
        "Custom(\n  k=3\n  (fc): Linear(in_features=1, out_features=1, bias=False)\n)"
    )


def test_deepcopy_and_pickle():
    net = Net()
    for clone in (copy.deepcopy(net), pickle.loads(pickle.dumps(net))):
        assert [n for n, _ in clone.named_parameters()] == [n for n, _ in net.named_parameters()]
        assert isinstance(clone.head.weight, nn.Parameter)
        assert clone.head.weight is not net.head.weight
        np.testing.assert_array_equal(clone.head.weight.array, net.head.weight.array)
        x = striate.randn(2, 3)
        np.testing.assert_allclose(clone(x).array, net(x).array)
