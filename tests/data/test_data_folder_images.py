"""``folder:`` data: bit depths, a single class and hostile images give the right data or a clear
error naming the file or folder."""

import numpy as np
import pytest

from striate.data import DatasetFormatError, load_image_folder

PIL = pytest.importorskip("PIL")
from PIL import Image  # noqa: E402


def _two_class_folder(root, first_class_images):
    (root / "a").mkdir(parents=True)
    (root / "b").mkdir()
    for i, im in enumerate(first_class_images):
        im.save(root / "a" / f"{i}.png")
    for i in range(len(first_class_images)):
        Image.new("L", (4, 4), 0).save(root / "b" / f"{i}.png")


@pytest.mark.parametrize("channels", [1, 3])
def test_16_bit_pngs_are_scaled_not_clipped(tmp_path, channels):
    rng = np.random.default_rng(0)
    arrays = [rng.integers(0, 65536, size=(4, 4)).astype(np.uint16) for _ in range(5)]
    ims = [Image.fromarray(a) for a in arrays]  # mode I;16, saved as a 16-bit PNG
    _two_class_folder(tmp_path, ims)
    with Image.open(tmp_path / "a" / "0.png") as im:
        assert im.mode in ("I", "I;16")  # what Pillow gives back for 16-bit grayscale
    data = load_image_folder(tmp_path, size=4, channels=channels, val_fraction=0.0,
                             test_fraction=0.0)
    X, y = data.train.X, data.train.y
    assert X.max() <= 1.0
    got = sorted(x[0].ravel().tolist() for x in X[y == 0])
    want = sorted((a.ravel() / 65535.0).tolist() for a in arrays)
    np.testing.assert_allclose(got, want, atol=0.5 / 255 + 1e-6, rtol=0)
    if channels == 3:
        np.testing.assert_array_equal(X[:, 0], X[:, 2])  # gray in all three channels


def test_single_class_folder_is_refused_naming_it(tmp_path):
    (tmp_path / "only").mkdir()
    for i in range(4):
        Image.new("L", (4, 4), 10 * i).save(tmp_path / "only" / f"{i}.png")
    with pytest.raises(DatasetFormatError, match="only one class.*'only'"):
        load_image_folder(tmp_path, size=4)
    (tmp_path / "empty").mkdir()  # a second class without images is still one class
    with pytest.raises(DatasetFormatError, match=str(tmp_path / "only")):
        load_image_folder(tmp_path, size=4)


def test_decompression_bomb_names_the_file(tmp_path, monkeypatch):
    _two_class_folder(tmp_path, [Image.new("L", (4, 4), 1) for _ in range(2)])
    Image.new("L", (64, 64), 0).save(tmp_path / "b" / "bomb.png")
    # Pillow refuses images over twice MAX_IMAGE_PIXELS outright
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    with pytest.raises(DatasetFormatError, match=r"bomb\.png: refused as a possible "
                                                 r"decompression bomb"):
        load_image_folder(tmp_path, size=4)
