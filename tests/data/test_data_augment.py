"""Augmentation transforms: exact results on known arrays, per-sample randomness, serialisation,
and determinism of augmented DataLoader epochs whatever the prefetch thread's timing."""

import threading
import time

import numpy as np
import pytest

import striate
from striate.data import DataLoader, TensorDataset
from striate.data.augment import (
    ColorJitter,
    RandomAffine,
    RandomCrop,
    RandomHorizontalFlip,
    RandomResizedCrop,
    RandomRotation,
    RandomVerticalFlip,
)
from striate.data.transforms import Compose, Normalize, transform_from_dict


def _batch(n=6, c=3, h=7, w=7, seed=0):
    return np.random.default_rng(seed).random((n, c, h, w)).astype(np.float32)


def test_flip_p1_and_p0_are_exact():
    x = _batch()
    np.testing.assert_array_equal(RandomHorizontalFlip(1.0)(x, np.random.default_rng(0)),
                                  x[..., ::-1])
    np.testing.assert_array_equal(RandomVerticalFlip(1.0)(x, np.random.default_rng(0)),
                                  x[:, :, ::-1])
    np.testing.assert_array_equal(RandomHorizontalFlip(0.0)(x, np.random.default_rng(0)), x)


def test_flip_is_per_sample():
    x = _batch(n=200)
    out = RandomHorizontalFlip(0.5)(x, np.random.default_rng(1))
    flipped = np.array([np.array_equal(o, s[..., ::-1]) for o, s in zip(out, x)])
    kept = np.array([np.array_equal(o, s) for o, s in zip(out, x)])
    assert np.all(flipped ^ kept)
    assert 60 < flipped.sum() < 140


def test_crop_windows_are_the_padded_input_at_drawn_offsets():
    x = np.arange(2 * 1 * 4 * 4, dtype=np.float32).reshape(2, 1, 4, 4) + 1
    t = RandomCrop(4, padding=2, fill=-1.0)
    rng = np.random.default_rng(3)
    out = t(x, rng)
    # redo the draws: the same generator state gives the same offsets
    r = np.random.default_rng(3)
    top, left = r.integers(0, 5, size=2), r.integers(0, 5, size=2)
    padded = np.pad(x, ((0, 0), (0, 0), (2, 2), (2, 2)), constant_values=-1.0)
    for i in range(2):
        np.testing.assert_array_equal(out[i], padded[i, :, top[i]:top[i] + 4, left[i]:left[i] + 4])


def test_crop_without_padding_to_same_size_is_identity_and_smaller_crop_is_a_window():
    x = _batch()
    np.testing.assert_array_equal(RandomCrop(7)(x, np.random.default_rng(0)), x)
    out = RandomCrop((3, 5))(x, np.random.default_rng(0))
    assert out.shape == (6, 3, 3, 5)
    for o, s in zip(out, x):  # every output is some window of its own input
        assert any(np.array_equal(o, s[:, i:i + 3, j:j + 5]) for i in range(5) for j in range(3))
    with pytest.raises(ValueError, match="larger than the padded input"):
        RandomCrop(9)(x)


def test_reflect_padding_mode():
    x = _batch(n=3)
    out = RandomCrop(7, padding=1, padding_mode="reflect")(x, np.random.default_rng(0))
    padded = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)), mode="reflect")
    for o, p in zip(out, padded):
        assert any(np.array_equal(o, p[:, i:i + 7, j:j + 7]) for i in range(3) for j in range(3))


@pytest.mark.parametrize("mode", ["nearest", "bilinear"])
@pytest.mark.parametrize("hw", [(5, 5), (6, 6)])
def test_rotation_by_90_degrees_equals_rot90(mode, hw):
    x = _batch(h=hw[0], w=hw[1])
    out = RandomRotation((90, 90), interpolation=mode)(x, np.random.default_rng(0))
    np.testing.assert_allclose(out, np.rot90(x, 1, axes=(2, 3)), atol=1e-5)
    out = RandomRotation((-90, -90), interpolation=mode)(x, np.random.default_rng(0))
    np.testing.assert_allclose(out, np.rot90(x, -1, axes=(2, 3)), atol=1e-5)


def test_rotation_zero_is_identity_and_fill_marks_the_outside():
    x = _batch()
    np.testing.assert_allclose(RandomRotation(0)(x, np.random.default_rng(0)), x, atol=1e-6)
    ones = np.ones((1, 1, 9, 9), np.float32)
    out = RandomRotation((45, 45), interpolation="nearest", fill=-5.0)(ones)
    assert out[0, 0, 0, 0] == -5.0 and out[0, 0, 4, 4] == 1.0  # corners come from outside


def test_shear_and_translate_move_pixels_as_expected():
    x = np.zeros((1, 1, 5, 5), np.float32)
    x[0, 0, 2, 2] = 1.0
    # a horizontal translation by u * 0.4 * 5 pixels, u ~ U(-1, 1) drawn after the angle
    t = RandomAffine(0, translate=(0.4, 0.0), interpolation="nearest")
    for seed in range(5):
        out = t(x, np.random.default_rng(seed))
        r = np.random.default_rng(seed)
        r.uniform(0, 0, size=1)  # the angle
        shift = r.uniform(-1, 1, size=1)[0] * 0.4 * 5
        ys, xs = np.nonzero(out[0, 0])
        # nearest sampling: output column j reads column floor(j - shift + 0.5)
        assert ys.tolist() == [2] and xs.tolist() == [int(np.ceil(2 + shift - 0.5))]
    # shear along x keeps the centre row and moves the others sideways
    x = np.zeros((1, 1, 5, 5), np.float32)
    x[0, 0, :, 2] = 1.0
    out = RandomAffine(0, shear=(45, 45), interpolation="nearest")(x, np.random.default_rng(0))
    assert out[0, 0, 2, 2] == 1.0
    assert out[0, 0, 0, 0] == 1.0 and out[0, 0, 4, 4] == 1.0  # x' = x + y: a diagonal


def test_resized_crop_full_box_is_identity_and_shapes():
    x = _batch()
    out = RandomResizedCrop(7, scale=(1, 1), ratio=(1, 1))(x, np.random.default_rng(0))
    np.testing.assert_allclose(out, x, atol=1e-6)
    out = RandomResizedCrop((4, 6), scale=(0.2, 0.5))(x, np.random.default_rng(0))
    assert out.shape == (6, 3, 4, 6) and out.dtype == np.float32
    assert out.min() >= x.min() - 1e-6 and out.max() <= x.max() + 1e-6  # interpolation only


def test_color_jitter_brightness_and_contrast_math():
    x = _batch(c=1)
    out = ColorJitter(brightness=0.5, clip=None)(x, np.random.default_rng(0))
    f = np.random.default_rng(0).uniform(0.5, 1.5, size=6)
    np.testing.assert_allclose(out, x * f[:, None, None, None], rtol=1e-6)
    out = ColorJitter(contrast=0.5, clip=None)(x, np.random.default_rng(0))
    m = x.mean(axis=(1, 2, 3), keepdims=True)
    np.testing.assert_allclose(out, m + f[:, None, None, None] * (x - m), rtol=1e-5, atol=1e-6)


def test_color_jitter_saturation_zero_gives_grey_and_hue_keeps_grey():
    x = _batch()
    t = ColorJitter(saturation=1.0, clip=None)
    out = t(x, np.random.default_rng(0))
    assert out.shape == x.shape and np.all(np.isfinite(out))
    grey = np.repeat(np.einsum("nchw,c->nhw", x, [0.299, 0.587, 0.114])[:, None], 3, axis=1)
    out = ColorJitter(hue=0.5, clip=None)(grey.astype(np.float32), np.random.default_rng(0))
    np.testing.assert_allclose(out, grey, atol=1e-5)  # a hue shift leaves greys alone
    out = ColorJitter(0.9, 0.9, 0.9, 0.2)(x, np.random.default_rng(0))
    assert out.min() >= 0 and out.max() <= 1
    with pytest.raises(ValueError, match="need RGB"):
        ColorJitter(saturation=0.2)(_batch(c=1))


def test_single_image_tensor_and_errors():
    img = _batch(n=1)[0]
    assert RandomHorizontalFlip(1.0)(img).shape == img.shape
    out = RandomCrop(7, 1)(striate.tensor(img))
    assert isinstance(out, striate.Tensor) and out.shape == img.shape
    with pytest.raises(TypeError, match="floating-point"):
        RandomCrop(2)(np.zeros((1, 1, 4, 4), np.uint8))
    with pytest.raises(ValueError, match="interpolation"):
        RandomRotation(10, interpolation="cubic")
    with pytest.raises(ValueError, match="p must be"):
        RandomHorizontalFlip(2)


@pytest.mark.parametrize("t", [
    RandomCrop(5, padding=1, padding_mode="edge"), RandomHorizontalFlip(0.3),
    RandomResizedCrop(5, scale=(0.3, 1)), ColorJitter(0.1, 0.2, 0.3, 0.05),
    RandomRotation(20, interpolation="nearest"),
    RandomAffine(10, shear=5, translate=(0.1, 0.2), scale=(0.9, 1.1), fill=0.5)])
def test_to_dict_round_trip_gives_the_same_output(t):
    d = transform_from_dict(t.to_dict())
    x = _batch()
    np.testing.assert_array_equal(t(x, np.random.default_rng(4)), d(x, np.random.default_rng(4)))
    import json

    assert json.loads(json.dumps(t.to_dict())) == t.to_dict()


def _aug():
    return Compose([RandomCrop(7, padding=2), RandomHorizontalFlip(),
                    RandomRotation(10), Normalize(0.5, 0.25)])


def _epochs(prefetch, sleep=False, epochs=2):
    striate.manual_seed(7)
    x = _batch(n=40)
    loader = DataLoader(TensorDataset(x, np.arange(40)), batch_size=8, shuffle=True,
                        transform=_aug(), prefetch=prefetch)
    out = []
    for _ in range(epochs):
        for xb, yb in loader:
            # the training step draws from the global generator (dropout...) meanwhile
            striate.backend.get_rng().random(100)
            if sleep:
                time.sleep(0.002)
            out.append((xb.array.copy(), yb.array.copy()))
    return out


def test_augmented_epochs_are_fixed_by_the_seed_whatever_the_threads():
    a = _epochs(prefetch=0)
    b = _epochs(prefetch=3, sleep=True)
    c = _epochs(prefetch=1)
    assert len(a) == len(b) == 10
    for (xa, ya), (xb, yb), (xc, _yc) in zip(a, b, c):
        np.testing.assert_array_equal(ya, yb)
        np.testing.assert_array_equal(xa, xb)
        np.testing.assert_array_equal(xa, xc)
    # two epochs draw different augmentations of the same samples
    assert not np.array_equal(a[0][0], a[5][0])


def test_augmentation_does_not_touch_the_global_generator_from_the_worker():
    striate.manual_seed(3)
    x = _batch(n=64)
    seen = []

    class Spy(RandomHorizontalFlip):
        def apply(self, x, rng=None):
            seen.append((threading.current_thread().name, rng is striate.backend.get_rng()))
            return super().apply(x, rng)

    loader = DataLoader(TensorDataset(x, np.arange(64)), batch_size=16, transform=Spy(),
                        prefetch=2)
    state = striate.backend.get_rng_state()
    it = iter(loader)  # one draw, here, for the epoch's seed
    after_iter = striate.backend.get_rng_state()
    list(it)
    assert striate.backend.get_rng_state() == after_iter != state
    assert len(seen) == 4 and not any(is_global for _, is_global in seen)
    assert all(name == "striate-DataLoader-prefetch" for name, _ in seen)


def test_loader_without_random_transform_draws_nothing_extra():
    striate.manual_seed(3)
    x = _batch(n=16)
    loader = DataLoader(TensorDataset(x, np.arange(16)), batch_size=8,
                        transform=Normalize(0.5, 0.5))
    state = striate.backend.get_rng_state()
    list(loader)
    assert striate.backend.get_rng_state() == state


def test_build_augmentation_from_a_command_line_spec():
    from striate.data.augment import build_augmentation

    ts = build_augmentation("crop, flip=0.3,rotate=10,jitter", (3, 32, 32))
    assert [type(t).__name__ for t in ts] == ["RandomCrop", "RandomHorizontalFlip",
                                              "RandomRotation", "ColorJitter"]
    assert ts[0].padding == 4 and ts[1].p == 0.3 and ts[2].degrees == (-10.0, 10.0)
    assert ts[3].hue == 0.05
    (crop, jitter) = build_augmentation("crop,jitter", (1, 8, 8))
    assert crop.padding == 1 and jitter.saturation == 0 and jitter.hue == 0  # grey images
    assert build_augmentation("", (1, 8, 8)) == []
    x = Compose(build_augmentation("scale,shear,translate,vflip", (1, 8, 8)))(_batch(c=1, h=8,
                                                                                     w=8))
    assert x.shape == (6, 1, 8, 8)
    with pytest.raises(ValueError, match="unknown augmentation 'warp'"):
        build_augmentation("crop,warp", (1, 8, 8))
    with pytest.raises(ValueError, match="needs a number"):
        build_augmentation("rotate=ten", (1, 8, 8))
