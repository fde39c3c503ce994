"""The names PyTorch users reach for exist where they look, with PyTorch's return conventions."""

from __future__ import annotations  # noqa: I001 - striate.nn.functional is an alias module

import numpy as np
import pytest

import striate
import striate.nn as nn
import striate.nn.functional as F
import striate.optim as optim

RNG = np.random.default_rng(4)


def test_namespaces():
    import striate.utils.data
    from striate.utils.data import DataLoader, Dataset, Subset, TensorDataset, random_split

    assert F is striate.functional
    assert striate.utils.data.DataLoader is DataLoader is striate.data.DataLoader
    assert (Dataset, Subset, TensorDataset, random_split) == (
        striate.data.Dataset, striate.data.Subset, striate.data.TensorDataset,
        striate.data.random_split)
    from striate.optim.lr_scheduler import (  # noqa: F401
        CosineAnnealingLR,
        ExponentialLR,
        LambdaLR,
        OneCycleLR,
        ReduceLROnPlateau,
        StepLR,
    )
    assert optim.lr_scheduler.OneCycleLR is OneCycleLR
    from striate.utils.tensorboard import SummaryWriter  # noqa: F401
    for name in ["CrossEntropyLoss", "NLLLoss", "MSELoss", "L1Loss", "SmoothL1Loss", "BCELoss",
                 "BCEWithLogitsLoss", "MultiMarginLoss", "KLDivLoss"]:
        assert issubclass(getattr(nn, name), nn.Module)
    for name in ["from_numpy", "as_tensor", "zeros_like", "ones_like", "full", "eye", "linspace",
                 "flatten", "max", "min", "argmax", "topk", "sort", "where", "clamp", "stack",
                 "cat", "chunk", "squeeze", "unsqueeze", "expand", "repeat", "gather",
                 "scatter_add", "masked_fill", "einsum", "save", "load", "no_grad"]:
        assert callable(getattr(striate, name)), name


def test_random_split_subsets_cover_the_data():
    from striate.utils.data import TensorDataset, random_split

    ds = TensorDataset(striate.arange(10))
    a, b = random_split(ds, [7, 3])
    got = sorted(int(a[i][0]) for i in range(len(a))) + sorted(int(b[i][0]) for i in range(3))
    assert sorted(got) == list(range(10)) and len(a) == 7


def _pair(make):
    """The same expression in striate and torch, compared as arrays (values and dtype)."""
    torch = pytest.importorskip("torch")
    s, t = make(striate), make(torch)
    if isinstance(t, (tuple, list)):
        assert len(s) == len(t)
        for a, b in zip(s, t):
            _same(a, b)
    else:
        _same(s, t)


def _same(a, b):
    b = b.detach().numpy() if hasattr(b, "detach") else np.asarray(b)
    a = a.array if isinstance(a, striate.Tensor) else np.asarray(a)
    assert a.shape == b.shape, (a.shape, b.shape)
    assert a.dtype == b.dtype, (a.dtype, b.dtype)
    np.testing.assert_allclose(a, b, rtol=1e-6)


X = RNG.standard_normal((3, 4)).astype(np.float32)
A = RNG.standard_normal((2, 1, 3)).astype(np.float32)


@pytest.mark.parametrize("make", [
    lambda m: m.from_numpy(X),
    lambda m: m.as_tensor([[1, 2], [3, 4]]),
    lambda m: m.as_tensor([1.5, 2.0]),
    lambda m: m.zeros_like(m.tensor(X)),
    lambda m: m.ones_like(m.tensor(X)),
    lambda m: m.full((2, 3), 1.5),
    lambda m: m.full((2,), 7),
    lambda m: m.eye(3),
    lambda m: m.eye(2, 3),
    lambda m: m.linspace(0, 1, 5),
    lambda m: m.arange(5),
    lambda m: m.flatten(m.tensor(A), 1),
    lambda m: m.max(m.tensor(X), 1),
    lambda m: m.min(m.tensor(X), 0, keepdim=True),
    lambda m: m.max(m.tensor(X)),
    lambda m: m.argmax(m.tensor(X), dim=1),
    lambda m: m.argmax(m.tensor(X)),
    lambda m: m.where(m.tensor(X) > 0, m.tensor(X), m.zeros_like(m.tensor(X))),
    lambda m: m.clamp(m.tensor(X), -0.5, 0.5),
    lambda m: m.stack([m.tensor(X), m.tensor(X)], dim=1),
    lambda m: m.cat([m.tensor(X), m.tensor(X)], dim=0),
    lambda m: m.chunk(m.arange(10), 4),
    lambda m: m.chunk(m.arange(5), 4),
    lambda m: m.squeeze(m.tensor(A)),
    lambda m: m.squeeze(m.tensor(A), 1),
    lambda m: m.unsqueeze(m.tensor(X), -1),
    lambda m: m.tensor(A).expand(2, 5, 3),
    lambda m: m.tensor(A).expand(-1, 4, -1),
    lambda m: m.tensor(X).repeat(2, 1, 3),
    lambda m: m.tensor(X) > 0,
    lambda m: m.tensor(X) <= 0.1,
    lambda m: m.tensor(X) == m.tensor(X),
    lambda m: m.tensor(X) != 0,
    lambda m: m.tensor(X).gt(0.2),
    lambda m: (m.tensor(X) > 0).all(),
    lambda m: (m.tensor(X) > 0).any(dim=1),
    lambda m: m.tensor(X).float(),
    lambda m: m.tensor(X).long(),
    lambda m: m.tensor(X).to(m.float64),
    lambda m: m.tensor(X).view(4, 3),
    lambda m: m.tensor(X).view(-1),
    lambda m: m.tensor(X).t().contiguous(),
])
def test_like_torch(make):
    _pair(make)


def test_tensor_accessors():
    torch = pytest.importorskip("torch")
    s, t = striate.tensor(X), torch.tensor(X)
    assert tuple(s.size()) == tuple(t.size()) and s.size(1) == t.size(1) == 4
    assert s.dim() == t.dim() == 2 and s.numel() == t.numel() == 12
    assert s[1, 2].item() == pytest.approx(t[1, 2].item())
    assert type(striate.tensor([3]).item()) is int
    assert s.tolist() == t.tolist()
    assert striate.tensor(X).t().contiguous().array.flags.c_contiguous
    a = np.zeros(3)
    shared, copied = striate.from_numpy(a), striate.tensor(a)
    a[0] = 5.0  # from_numpy and as_tensor share memory, tensor copies, as in PyTorch
    assert shared[0].item() == striate.as_tensor(a)[0].item() == 5.0 and copied[0].item() == 0.0


def test_in_place_ops():
    torch = pytest.importorskip("torch")
    s, t = striate.tensor(X.copy()), torch.tensor(X.copy())
    for lib, x in ((striate, s), (torch, t)):
        y = x.add_(lib.ones(3, 4), alpha=2)
        assert y is x
        x.mul_(0.5)
        x.add_(1.0)
    _same(s, t)
    s.copy_(striate.ones(4))  # broadcast copy
    assert s.tolist() == [[1.0] * 4] * 3
    assert s.zero_() is s and not s.array.any()
    w = striate.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        w.add_(1.0)
    with striate.no_grad():
        w.add_(1.0)
    assert w.tolist() == [2.0, 2.0]


def test_max_over_a_dim_is_a_values_indices_pair_with_gradient():
    x = striate.tensor([[1.0, 5.0, 2.0], [7.0, 0.0, 3.0]], requires_grad=True)
    values, indices = striate.max(x, 1)
    assert striate.max(x, 1).indices.tolist() == indices.tolist() == [1, 0]
    values.sum().backward()
    assert x.grad.tolist() == [[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]


def test_dtype_conversions_are_differentiable():
    x = striate.tensor([1.0, 2.0], dtype=striate.float64, requires_grad=True)
    y = x.float()
    assert y.dtype == np.float32 and y.requires_grad
    (y * 3).sum().backward()
    assert x.grad.dtype == np.float64 and x.grad.tolist() == [3.0, 3.0]
    assert x.detach().long().dtype == np.int64


def test_device_idiom():
    device = striate.device("cuda:0" if striate.cuda.is_available() else "cpu")
    assert device in ("cpu", "cuda:0") and device.type in ("cpu", "cuda")
    net = nn.Linear(3, 2).to(device)
    assert net(striate.ones(4, 3).to(device)).shape == (4, 2)
    d = striate.device("cuda", 1)
    assert d == "cuda:1" and (d.type, d.index) == ("cuda", 1)
    assert repr(d) == "device(type='cuda', index=1)" and striate.device(d) is d
    assert isinstance(striate.cuda.device_count(), int)
    for bad, match in [("tpu", "'cpu' or 'cuda'"), ("cuda:x", "bad device index"), (3, "str")]:
        with pytest.raises((ValueError, TypeError), match=match):
            striate.device(bad)


def test_backends_accelerator_and_safe_globals_namespaces():
    import striate.backends.cudnn as cudnn

    assert cudnn.benchmark is False and cudnn.enabled is True and not cudnn.is_available()
    cudnn.benchmark = True  # a PyTorch program sets it; nothing changes
    cudnn.deterministic = True
    cudnn.benchmark = cudnn.deterministic = False
    assert striate.accelerator.is_available() is False
    assert striate.accelerator.current_accelerator() is None
    assert striate.accelerator.current_accelerator(check_available=True) is None
    from striate.serialization import add_safe_globals, get_safe_globals, safe_globals

    assert callable(add_safe_globals) and callable(get_safe_globals)
    with safe_globals([nn.Linear]):
        assert nn.Linear in get_safe_globals()
    assert nn.Linear not in get_safe_globals()


def test_accelerator_agrees_with_cpu_only_torch():
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("compares with a CPU-only PyTorch")
    assert striate.accelerator.is_available() == torch.accelerator.is_available()
    assert (striate.accelerator.current_accelerator() is None) == (
        torch.accelerator.current_accelerator() is None)


@pytest.mark.parametrize("make", [
    lambda d: striate.tensor([1.0, 2.0], device=d), lambda d: striate.as_tensor([1], device=d),
    lambda d: striate.zeros(2, 3, device=d), lambda d: striate.ones(2, device=d),
    lambda d: striate.empty(2, device=d), lambda d: striate.full((2,), 1.5, device=d),
    lambda d: striate.zeros_like(striate.ones(2), device=d),
    lambda d: striate.ones_like(striate.ones(2), device=d),
    lambda d: striate.full_like(striate.ones(2), 3.0, device=d),
    lambda d: striate.randn(2, device=d), lambda d: striate.rand(2, device=d),
    lambda d: striate.randint(0, 5, (3,), device=d), lambda d: striate.randperm(4, device=d),
    lambda d: striate.arange(4, device=d), lambda d: striate.linspace(0, 1, 5, device=d),
    lambda d: striate.eye(3, device=d),
])
def test_factories_take_device_as_pytorch(make):
    made = make("cpu")
    assert made.device == "cpu"
    assert make(striate.device("cpu")).shape == made.shape
    assert make(None).shape == made.shape
    with pytest.raises(RuntimeError, match=r"^\w+: device 'cuda' is not supported"):
        make("cuda")


def test_factory_signatures_show_device():
    import inspect

    for name in ("tensor", "zeros", "ones", "randn", "rand", "arange", "full", "eye"):
        assert "device" in inspect.signature(getattr(striate, name)).parameters, name
