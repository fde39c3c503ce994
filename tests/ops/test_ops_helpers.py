"""The one validation layer: the public functions check their arguments once, in the user's
terms (ops/_helpers.py); layers and kernels below do not check them again."""

from __future__ import annotations

import numpy as np
import pytest

import striate
from striate import nn
from striate.ops import _helpers, conv


def test_pair_arg_normalises_and_names_the_function_and_argument():
    assert _helpers.pair_arg(3, "stride", "conv2d", 1) == (3, 3)
    assert _helpers.pair_arg([2, np.int64(1)], "stride", "conv2d", 1) == (2, 1)
    with pytest.raises(TypeError, match=r"conv2d: stride must be an int or a pair of ints, "
                                        r"got 1\.5"):
        _helpers.pair_arg(1.5, "stride", "conv2d", 1)
    with pytest.raises(TypeError, match="got True"):
        _helpers.pair_arg(True, "stride", "conv2d", 1)
    with pytest.raises(ValueError, match=r"max_pool2d: padding must be >= 0, got \(1, -1\)"):
        _helpers.pair_arg((1, -1), "padding", "max_pool2d", 0)


def test_require_ndim_hints_at_a_missing_batch_dim():
    with pytest.raises(ValueError, match=r"conv2d: input must be 4-D \(N, C, H, W\), got shape "
                                         r"\(3, 5, 5\) \(add a batch dimension"):
        _helpers.require_ndim("conv2d", np.zeros((3, 5, 5)), 4)


def test_a_conv_layer_call_checks_each_pair_once(monkeypatch):
    calls = []
    real = conv.pair_arg

    def spy(v, name, fn, minimum):
        calls.append((fn, name))
        return real(v, name, fn, minimum)

    layer = nn.Conv2d(3, 4, 3, stride=2, padding=1, dilation=1)
    monkeypatch.setattr(conv, "pair_arg", spy)
    x = striate.randn(2, 3, 8, 8, requires_grad=True)
    layer(x).sum().backward()
    # stride, dilation and padding, once each, by the public function; none by the kernels
    assert sorted(calls) == [("conv2d", "dilation"), ("conv2d", "padding"), ("conv2d", "stride")]
