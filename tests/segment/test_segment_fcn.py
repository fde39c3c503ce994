"""The FCN's four upsamplings and skips, the sliding-window baseline, and their training step."""

import numpy as np
import pytest

import striate
from striate.detect.scenes import make_scenes
from striate.segment.fcn import FCN, UPSAMPLE_MODES, SlidingWindowSegmenter


@pytest.mark.parametrize("mode", UPSAMPLE_MODES)
def test_fcn_shapes_and_gradients_reach_the_input_layer(mode):
    striate.manual_seed(0)
    s = make_scenes(2, size=32, seed=0)
    m = FCN(4, widths=(4, 8, 8), upsample=mode)
    out = m(striate.Tensor(s.images))
    assert out.shape == (2, 4, 32, 32)
    loss, _ = m.loss(striate.Tensor(s.images), s)
    loss.backward()
    assert np.abs(m.stem[0][0].weight.grad.array).sum() > 0
    assert m.predict(s.images).shape == (2, 32, 32)


def test_fcn_rejects_unknown_mode():
    with pytest.raises(ValueError, match="FCN: upsample must be one of"):
        FCN(upsample="bilinear")


def test_sliding_window_crops_and_training_step():
    striate.manual_seed(0)
    m = SlidingWindowSegmenter(4, window=7, width=4)
    imgs = np.arange(2 * 3 * 9 * 9, dtype=np.float32).reshape(2, 3, 9, 9)
    crops = m.windows(imgs, np.array([4, 0]), np.array([4, 8]), np.array([1, 0]))
    np.testing.assert_array_equal(crops[0], imgs[1, :, 1:8, 1:8])
    # at a corner the window reaches past the image: zeros there
    np.testing.assert_array_equal(crops[1][:, 3:, :4], imgs[0, :, :4, 5:])
    assert crops[1][:, :3].sum() == 0
    s = make_scenes(2, size=32, seed=0)
    loss, _ = m.loss(striate.Tensor(s.images), s, per_image=16)
    loss.backward()
    assert np.isfinite(loss.item())
    assert m.predict(s.images[:1]).shape == (1, 32, 32)
