"""Transforms: ToTensor, Normalize (given and fitted), Compose, saving and loading."""

import json

import numpy as np
import pytest

from striate.autograd.tensor import Tensor
from striate.data import DataLoader, TensorDataset
from striate.data.transforms import (
    Compose,
    Lambda,
    Normalize,
    ToTensor,
    transform_from_dict,
)


def _images(n=6, c=3, h=4, w=5, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, c, h, w)) * [[[2.0]], [[0.5]], [[1.0]]] + [[[1]], [[-3]], [[0]]]


def test_to_tensor_hwc_uint8():
    img = np.random.default_rng(0).integers(0, 256, (4, 5, 3), dtype=np.uint8)
    out = ToTensor()(img)
    assert isinstance(out, Tensor) and out.shape == (3, 4, 5) and out.dtype == np.float32
    np.testing.assert_allclose(out.array, img.transpose(2, 0, 1) / 255.0, rtol=1e-6)
    assert out.array.flags.c_contiguous
    assert 0.0 <= out.array.min() and out.array.max() <= 1.0


def test_to_tensor_gray_batch_and_float():
    assert ToTensor()(np.zeros((4, 5), np.uint8)).shape == (1, 4, 5)
    batch = np.full((2, 4, 5, 3), 51, np.uint8)
    out = ToTensor()(batch)
    assert out.shape == (2, 3, 4, 5)
    np.testing.assert_allclose(out.array, 0.2, rtol=1e-6)
    f = np.full((4, 5, 3), 7.0)  # non-uint8: cast, not scaled (as torchvision)
    out = ToTensor()(f)
    assert out.dtype == np.float32 and out.array.max() == 7.0
    np.testing.assert_allclose(ToTensor()(np.full((2, 2), 65535, np.uint16)).array, 1.0)
    with pytest.raises(ValueError, match=r"got shape \(2, 2, 2, 2, 2\)"):
        ToTensor()(np.zeros((2, 2, 2, 2, 2), np.uint8))


def test_to_tensor_pil():
    Image = pytest.importorskip("PIL.Image")
    arr = np.random.default_rng(1).integers(0, 256, (6, 7, 3), dtype=np.uint8)
    out = ToTensor()(Image.fromarray(arr))
    np.testing.assert_allclose(out.array, arr.transpose(2, 0, 1) / 255.0, rtol=1e-6)
    gray = ToTensor()(Image.fromarray(arr[..., 0]))
    assert gray.shape == (1, 6, 7)
    pal = Image.fromarray(arr).convert("P")
    assert ToTensor()(pal).shape == (3, 6, 7)  # palette images go through RGB


def test_normalize_per_channel_like_torchvision():
    x = _images().astype(np.float32)
    norm = Normalize([1.0, -3.0, 0.0], [2.0, 0.5, 1.0])
    out = norm(x)
    assert out.dtype == np.float32 and out.shape == x.shape
    expected = (x - np.array([1, -3, 0]).reshape(3, 1, 1)) / np.array([2, 0.5, 1]).reshape(3, 1, 1)
    np.testing.assert_allclose(out, expected, rtol=1e-6)
    np.testing.assert_allclose(norm(x[0]), expected[0], rtol=1e-6)  # one image (C, H, W)
    t = norm(Tensor(x))
    assert isinstance(t, Tensor)
    np.testing.assert_allclose(norm.inverse(out), x, rtol=1e-5, atol=1e-5)


def test_normalize_matches_torchvision_formula_in_torch():
    torch = pytest.importorskip("torch")
    x = _images().astype(np.float32)
    mean, std = [0.4, 0.5, 0.6], [0.2, 0.3, 0.4]
    ref = (torch.from_numpy(x) - torch.tensor(mean).view(3, 1, 1)) / torch.tensor(std).view(3, 1, 1)
    np.testing.assert_allclose(Normalize(mean, std)(x), ref.numpy(), rtol=1e-6, atol=1e-6)


def test_normalize_errors():
    with pytest.raises(ValueError, match="std must be positive"):
        Normalize([0.0, 0.0], [1.0, 0.0])
    norm = Normalize([0.5, 0.5, 0.5], [0.2, 0.2, 0.2])
    with pytest.raises(
        ValueError, match=r"input of shape \(2, 4, 8, 8\) does not match .*\(3, 1, 1\)"
    ):
        norm(np.zeros((2, 4, 8, 8), np.float32))
    with pytest.raises(TypeError, match="apply ToTensor first"):
        norm(np.zeros((3, 4, 4), np.uint8))
    with pytest.raises(ValueError, match="do not broadcast"):
        Normalize([0.1, 0.2], [0.1, 0.2, 0.3])


def test_fit_per_channel_on_train_applied_unchanged_to_test():
    train = _images(n=200, seed=0).astype(np.float32)
    test = _images(n=50, seed=1).astype(np.float32)
    norm = Normalize.fit(train)
    assert norm.mean.shape == norm.std.shape == (3, 1, 1)
    np.testing.assert_allclose(norm.mean.ravel(), train.mean(axis=(0, 2, 3)), rtol=1e-5)
    np.testing.assert_allclose(norm.std.ravel(), train.std(axis=(0, 2, 3)), rtol=1e-5)
    z = norm(train)
    np.testing.assert_allclose(z.mean(axis=(0, 2, 3)), 0, atol=1e-5)
    np.testing.assert_allclose(z.std(axis=(0, 2, 3)), 1, atol=1e-4)
    before = norm.state_dict()
    zt = norm(test)  # the test set's own statistics are not used
    expected = (test - train.mean(axis=(0, 2, 3), keepdims=True)[0]) / train.std(
        axis=(0, 2, 3), keepdims=True
    )[0]
    np.testing.assert_allclose(zt, expected, rtol=1e-4, atol=1e-5)
    assert not np.allclose(zt.mean(axis=(0, 2, 3)), 0, atol=1e-3)
    after = norm.state_dict()
    assert all(np.array_equal(before[k], after[k]) for k in ("mean", "std"))


def test_fit_mean_image_and_constant_pixels():
    train = _images(n=40).astype(np.float32)
    train[:, :, 0, 0] = 0.25  # a constant pixel: its std 0 is replaced by 1
    norm = Normalize.fit(train, per_channel=False)
    assert norm.mean.shape == (3, 4, 5)
    np.testing.assert_allclose(norm.mean, train.mean(axis=0), rtol=1e-5, atol=1e-6)
    assert np.all(norm.std[:, 0, 0] == 1.0)
    out = norm(train)
    np.testing.assert_allclose(out[:, :, 0, 0], 0, atol=1e-7)
    centred = Normalize.fit(train, per_channel=False, scale=False)
    np.testing.assert_allclose(centred(train), train - train.mean(axis=0), atol=1e-5)


def test_fit_flat_features_and_uint8_chunks():
    flat = np.random.default_rng(2).standard_normal((30, 7))
    norm = Normalize.fit(flat)
    assert norm.mean.shape == (7,)
    np.testing.assert_allclose(norm(flat).std(axis=0), 1, rtol=1e-6)
    big = np.random.default_rng(3).integers(0, 256, (300, 3, 64, 64), dtype=np.uint8)
    n8 = Normalize.fit(big)  # several chunks; float64 accumulation
    np.testing.assert_allclose(n8.mean.ravel(), big.mean(axis=(0, 2, 3)), rtol=1e-10)
    np.testing.assert_allclose(n8.std.ravel(), big.std(axis=(0, 2, 3)), rtol=1e-10)
    with pytest.raises(ValueError, match=r"non-empty batch .* got shape \(5,\)"):
        Normalize.fit(np.zeros(5))


def test_state_dict_round_trip_and_json():
    train = _images(n=20).astype(np.float32)
    norm = Normalize.fit(train, per_channel=False)
    other = Normalize(0.0, 1.0)
    other.load_state_dict(norm.state_dict())
    np.testing.assert_array_equal(other(train), norm(train))
    with pytest.raises(KeyError, match="std"):
        other.load_state_dict({"mean": 0.0})
    flat = Normalize.fit(np.random.default_rng(0).standard_normal((9, 4)))
    for t in (norm, flat):
        d = json.loads(json.dumps(t.to_dict()))
        back = transform_from_dict(d)
        assert back.mean.shape == t.mean.shape  # (D,) stays (D,), not (D, 1, 1)
        np.testing.assert_array_equal(back.std, t.std)


def test_compose_and_save_pipeline():
    mean, std = [0.5, 0.5, 0.5], [0.25, 0.25, 0.25]
    pipe = Compose([ToTensor(), Normalize(mean, std)])
    batch = np.full((2, 4, 4, 3), 255, np.uint8)
    out = pipe(batch)
    assert isinstance(out, Tensor) and out.shape == (2, 3, 4, 4)
    np.testing.assert_allclose(out.array, 2.0)
    again = transform_from_dict(json.loads(json.dumps(pipe.to_dict())))
    np.testing.assert_array_equal(again(batch).array, out.array)
    assert "Normalize" in repr(again)
    with pytest.raises(TypeError, match="cannot be saved"):
        Compose([Lambda(lambda x: x)]).to_dict()
    with pytest.raises(ValueError, match="unknown transform type 'Blur'"):
        transform_from_dict({"type": "Blur"})
    with pytest.raises(TypeError, match="transform 1 must be callable"):
        Compose([ToTensor(), 3])


def test_transforms_in_a_loader_on_uint8_batches():
    imgs = np.random.default_rng(0).integers(0, 256, (10, 8, 8, 3), dtype=np.uint8)
    ds = TensorDataset(imgs, np.arange(10))
    fitted = Normalize.fit(ToTensor()(imgs).array)
    loader = DataLoader(ds, batch_size=4, transform=Compose([ToTensor(), fitted]))
    xs = [x.array for x, _ in loader]
    assert [x.shape for x in xs] == [(4, 3, 8, 8), (4, 3, 8, 8), (2, 3, 8, 8)]
    allx = np.concatenate(xs)
    np.testing.assert_allclose(allx.mean(axis=(0, 2, 3)), 0, atol=1e-5)
    assert allx.dtype == np.float32
