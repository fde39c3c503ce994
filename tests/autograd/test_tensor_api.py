"""Tensor basics: data access, dtype rules of striate.tensor, creation functions, seeding."""

from __future__ import annotations

import numpy as np
import pytest

import striate


def test_item_numpy_tolist_shape_dtype():
    t = striate.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert t.shape == (2, 2) and t.dtype == np.float32 and t.ndim == 2
    assert t.size() == (2, 2) and t.size(1) == 2 and t.numel() == 4 and len(t) == 2
    assert t.tolist() == [[1.0, 2.0], [3.0, 4.0]]
    a = t.numpy()
    assert isinstance(a, np.ndarray) and a is t.array  # shared, as torch's .numpy()
    s = t.sum()
    assert isinstance(s.item(), float) and s.item() == 10.0
    assert isinstance(striate.tensor([7]).item(), int)
    with pytest.raises(ValueError, match=r"item: only one-element .* shape \(2, 2\)"):
        t.item()
    assert float(s) == 10.0 and int(striate.tensor(3)) == 3


def test_numpy_on_requires_grad_raises():
    x = striate.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="detach"):
        x.numpy()
    assert x.detach().numpy().tolist() == [1.0]


@pytest.mark.parametrize(
    "data, dtype",
    [
        (1.5, np.float32),
        ([1.0, 2.0], np.float32),
        ([[1, 2], [3, 4.5]], np.float32),
        (3, np.int64),
        ([1, 2, 3], np.int64),
        ([True, False], np.bool_),
        (np.array([1.0, 2.0]), np.float64),  # an ndarray keeps its dtype
        (np.array([1.0], dtype=np.float32), np.float32),
        (np.array([1, 2], dtype=np.int32), np.int32),
        (np.float64(2.0), np.float64),  # a NumPy scalar too
    ],
)
def test_tensor_dtype_rules(data, dtype):
    t = striate.tensor(data)
    assert t.dtype == dtype
    np.testing.assert_array_equal(t.array, np.asarray(data))


def test_tensor_explicit_dtype_and_copy():
    a = np.array([1.0, 2.0])
    t = striate.tensor(a, dtype=np.float32)
    assert t.dtype == np.float32
    u = striate.tensor(a)
    a[0] = 100.0
    assert u.array[0] == 1.0  # tensor() copies
    assert striate.from_numpy(a).array is a  # from_numpy shares
    assert striate.tensor([1, 2], dtype=striate.float64).dtype == np.float64


def test_tensor_requires_grad_only_for_floats():
    with pytest.raises(
        RuntimeError, match="only floating tensors can require grad, got dtype int64"
    ):
        striate.tensor([1, 2], requires_grad=True)
    assert striate.tensor([1.0], requires_grad=True).requires_grad


def test_tensor_rejects_objects():
    with pytest.raises(TypeError, match="tensor"):
        striate.tensor([object()])


def test_creation_functions():
    z = striate.zeros(2, 3)
    assert z.shape == (2, 3) and z.dtype == np.float32 and not z.array.any()
    assert striate.zeros((2, 3)).shape == (2, 3)
    o = striate.ones(4, dtype=np.float64, requires_grad=True)
    assert o.dtype == np.float64 and o.requires_grad and o.array.sum() == 4
    r = striate.randn(100, 50)
    assert r.shape == (100, 50) and r.dtype == np.float32
    assert abs(float(r.array.mean())) < 0.05 and abs(float(r.array.std()) - 1) < 0.05
    u = striate.rand(1000)
    assert u.dtype == np.float32 and u.array.min() >= 0 and u.array.max() < 1
    a = striate.arange(5)
    assert a.dtype == np.int64 and a.tolist() == [0, 1, 2, 3, 4]
    af = striate.arange(0, 1, 0.25)
    assert af.dtype == np.float32 and af.tolist() == [0.0, 0.25, 0.5, 0.75]
    assert striate.arange(2, 8, 3).tolist() == [2, 5]
    ls = striate.linspace(0, 1, 5)
    assert ls.dtype == np.float32 and ls.tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]
    e = striate.eye(3)
    np.testing.assert_array_equal(e.array, np.eye(3))
    assert e.dtype == np.float32 and striate.eye(2, 3).shape == (2, 3)
    f = striate.full((2, 2), 7.0)
    assert f.dtype == np.float32 and f.tolist() == [[7.0, 7.0], [7.0, 7.0]]
    assert striate.full((3,), 2).dtype == np.int64
    assert striate.full((1,), True).dtype == np.bool_
    assert striate.zeros_like(f).shape == (2, 2) and striate.ones_like(f).array.sum() == 4


def test_creation_shape_errors():
    with pytest.raises(ValueError, match="non-negative ints"):
        striate.zeros(2, -1)
    with pytest.raises(ValueError, match="non-negative ints"):
        striate.ones(2.5)


def test_manual_seed_reproducible():
    striate.manual_seed(123)
    a, b = striate.randn(5), striate.rand(3)
    striate.manual_seed(123)
    c, d = striate.randn(5), striate.rand(3)
    np.testing.assert_array_equal(a.array, c.array)
    np.testing.assert_array_equal(b.array, d.array)
    assert striate.initial_seed() == 123
    striate.manual_seed(124)
    assert not np.array_equal(striate.randn(5).array, a.array)
    with pytest.raises(TypeError, match="manual_seed: seed must be an int"):
        striate.manual_seed(1.5)


def test_rng_state_roundtrip():
    from striate import backend

    striate.manual_seed(7)
    state = backend.get_rng_state()
    a = striate.randn(4)
    backend.set_rng_state(state)
    np.testing.assert_array_equal(striate.randn(4).array, a.array)


def test_default_dtype_switch():
    try:
        striate.set_default_dtype(np.float64)
        assert striate.tensor(1.0).dtype == np.float64 and striate.zeros(1).dtype == np.float64
    finally:
        striate.set_default_dtype(np.float32)
    assert striate.tensor(1.0).dtype == np.float32
    with pytest.raises(TypeError, match="floating"):
        striate.set_default_dtype(np.int32)


def test_dtype_conversions():
    x = striate.tensor([1.5, -2.5])
    assert x.double().dtype == np.float64 and x.half().dtype == np.float16
    assert x.long().tolist() == [1, -2] and x.to(np.float64).dtype == np.float64
    assert x.to("cpu") is x and x.device == "cpu"


def test_repr_mentions_grad():
    x = striate.tensor([1.0], requires_grad=True)
    assert "requires_grad=True" in repr(x)
    assert "grad_fn=<MulBackward>" in repr(x * 2.0)
    assert "float64" in repr(striate.tensor(np.array([1.0])))


def test_bool_of_many_elements_is_ambiguous():
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(striate.ones(2))
    assert bool(striate.ones(1))
