"""PixelCNN and PixelRNN: masks, causality (no output sees its own pixel or a later one),
masked weights that stay masked, likelihood in bits, the independent-pixel baseline."""

import math

import numpy as np
import pytest
from opcheck import check_op

import striate
from striate.generative import (
    MaskedConv2d,
    PixelCNN,
    PixelRNN,
    bits_per_dim,
    causal_mask,
    independent_pixel_bits,
    sample_autoregressive,
)
from striate.generative.pixelcnn import nll_loss, to_levels
from striate.optim import SGD


def test_causal_masks():
    a, b = causal_mask(3, 3, "A"), causal_mask(3, 3, "B")
    np.testing.assert_array_equal(a, [[1, 1, 1], [1, 0, 0], [0, 0, 0]])
    np.testing.assert_array_equal(b, [[1, 1, 1], [1, 1, 0], [0, 0, 0]])
    with pytest.raises(ValueError, match="mask_type must be 'A' or 'B', got 'C'"):
        causal_mask(3, 3, "C")
    with pytest.raises(ValueError, match="MaskedConv2d: kernel_size must be odd, got 4"):
        MaskedConv2d("A", 1, 2, 4)


def test_masked_conv_is_conv_with_masked_weights_and_its_gradient(rng, torch):
    striate.set_default_dtype(np.float64)
    try:
        conv = MaskedConv2d("B", 2, 3, 3)
    finally:
        striate.set_default_dtype(np.float32)
    x = rng.standard_normal((2, 2, 5, 5))
    g = rng.standard_normal((2, 3, 5, 5))
    xs = striate.tensor(x, requires_grad=True)
    conv(xs).backward(striate.tensor(g))
    m = torch.tensor(causal_mask(3, 3, "B"), dtype=torch.float64)
    xt = torch.tensor(x, requires_grad=True)
    wt = torch.tensor(conv.weight.array, requires_grad=True)
    bt = torch.tensor(conv.bias.array, requires_grad=True)
    out = torch.nn.functional.conv2d(xt, wt * m, bt, padding=1)
    out.backward(torch.tensor(g))
    np.testing.assert_allclose(conv(xs).array, out.detach().numpy(), rtol=1e-10, atol=1e-12)
    for ours, theirs in ((xs, xt), (conv.weight, wt), (conv.bias, bt)):
        np.testing.assert_allclose(ours.grad.array, theirs.grad.numpy(), rtol=1e-10, atol=1e-12)
    # and the input gradient against centred differences
    check_op(lambda t: conv(t), [x])


@pytest.mark.parametrize("make", [lambda: PixelCNN(17, 16, 2, 5), lambda: PixelRNN(17, 8)],
                         ids=["pixelcnn", "pixelrnn"])
def test_no_output_sees_its_own_pixel_or_later_ones(make, rng):
    model = make()
    h = w = 6
    for i, j in [(0, 0), (2, 3), (5, 5)]:
        x = striate.tensor(rng.random((1, 1, h, w)).astype(np.float32), requires_grad=True)
        model(x)[0, :, i, j].sum().backward()
        seen = np.abs(x.grad.array[0, 0]) > 0
        later = np.arange(h * w).reshape(h, w) >= i * w + j
        assert not (seen & later).any(), f"output ({i}, {j}) sees {np.argwhere(seen & later)}"
        if (i, j) != (0, 0):
            assert seen.any()


def test_masked_weights_get_zero_gradient_and_stay_masked(rng):
    model = PixelCNN(17, 8, 1, 5)
    first = model.net[0]
    x = striate.tensor(rng.random((4, 1, 6, 6)).astype(np.float32))
    opt = SGD(model.parameters(), lr=0.1)
    for _ in range(2):
        loss = nll_loss(model, x)
        opt.zero_grad()
        loss.backward()
        hidden = first.mask.array == 0
        assert np.all(first.weight.grad.array[:, :, hidden] == 0)
        opt.step()
    # the forward never uses them, whatever they hold
    np.testing.assert_array_equal(first.mask.array, causal_mask(5, 5, "A"))


def test_bits_per_dim_is_the_cross_entropy_in_bits(rng):
    model = PixelCNN(5, 8, 1, 3)
    X = to_levels(rng.random((6, 1, 4, 4)), 5) / 4.0
    logits = model(striate.tensor(X.astype(np.float32))).array.astype(np.float64)
    t = to_levels(X, 5)[:, 0]
    logp = logits - np.log(np.exp(logits).sum(1, keepdims=True))
    nll = -np.take_along_axis(logp, t[:, None], 1).mean()
    np.testing.assert_allclose(bits_per_dim(model, X, batch_size=4), nll / math.log(2),
                               rtol=1e-5)


def test_independent_pixel_baseline():
    # pixel 0 always level 1, pixel 1 levels 0 and 2 half the time each; alpha 0: exact counts
    tr = np.array([[[[1, 0]]], [[[1, 2]]]]) / 2.0
    te = np.array([[[[1, 2]]]]) / 2.0
    assert independent_pixel_bits(tr, te, 3, alpha=0) == pytest.approx((0 + 1) / 2)
    # with one pseudo-count per level: pixel 0 has p(1) = 3/5, pixel 1 p(2) = 2/5
    want = -(math.log2(3 / 5) + math.log2(2 / 5)) / 2
    assert independent_pixel_bits(tr, te, 3) == pytest.approx(want)


def test_sampling_follows_a_model_that_copies_its_left_neighbour():
    # a model whose logits put all mass on the level of the pixel to the left (level 3 at the
    # start of a row): every sampled row is constant 3
    class Copy(striate.nn.Module):
        levels = 4

        def forward(self, x):
            lv = to_levels(x, 4)[:, 0]
            left = np.concatenate([np.full(lv.shape[:2] + (1,), 3), lv[:, :, :-1]], 2)
            z = np.full((len(lv), 4) + lv.shape[1:], -50.0)
            np.put_along_axis(z, left[:, None], 50.0, 1)
            return striate.tensor(z)

    x = sample_autoregressive(Copy(), 3, (1, 2, 3), np.random.default_rng(0))
    np.testing.assert_array_equal(x, np.ones((3, 1, 2, 3)))
