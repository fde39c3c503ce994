"""Grad mode: no_grad stops recording, per thread, as a block or a decorator."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import striate


def leaf():
    return striate.tensor(np.array([1.0, 2.0]), requires_grad=True)


def test_no_grad_blocks_recording():
    x = leaf()
    with striate.no_grad():
        assert not striate.is_grad_enabled()
        y = striate.exp(x * 2.0).sum()
    assert striate.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None and y.is_leaf
    assert y.item() == pytest.approx(np.exp(2.0) + np.exp(4.0))
    with pytest.raises(RuntimeError, match="does not require grad"):
        y.backward()


def test_no_grad_restores_on_exception():
    with pytest.raises(ValueError), striate.no_grad():
        raise ValueError("boom")
    assert striate.is_grad_enabled()


def test_nested_modes():
    x = leaf()
    with striate.no_grad():
        with striate.enable_grad():
            assert (x * 2.0).requires_grad
        with striate.no_grad():
            assert not striate.is_grad_enabled()
        assert not striate.is_grad_enabled()
        assert not (x * 2.0).requires_grad
    assert striate.is_grad_enabled()


def test_no_grad_as_decorator():
    x = leaf()

    @striate.no_grad()
    def f(t):
        return t * 3.0

    @striate.no_grad
    def g(t):  # without parentheses, as PyTorch allows
        return t * 3.0

    assert f.__name__ == "f" and g.__name__ == "g"
    for fn in (f, g):
        y = fn(x)
        assert not y.requires_grad
        assert striate.is_grad_enabled()
    assert (x * 3.0).requires_grad


def test_set_grad_enabled_forms():
    x = leaf()
    with striate.set_grad_enabled(False):
        assert not (x * 1.0).requires_grad
    assert striate.is_grad_enabled()
    striate.set_grad_enabled(False)  # as a function: for the thread, until switched back
    try:
        assert not (x * 1.0).requires_grad
    finally:
        striate.set_grad_enabled(True)
    assert (x * 1.0).requires_grad

    @striate.set_grad_enabled(False)
    def f(t):
        return t * 1.0

    assert striate.is_grad_enabled()  # decorating does not switch the mode
    assert not f(x).requires_grad
    assert striate.is_grad_enabled()


def test_grad_mode_is_thread_local():
    x = leaf()
    entered, release = threading.Event(), threading.Event()
    seen = {}

    def worker():
        with striate.no_grad():
            seen["worker"] = striate.is_grad_enabled()
            entered.set()
            release.wait(5)

    th = threading.Thread(target=worker)
    th.start()
    try:
        assert entered.wait(5)
        # the worker sits inside no_grad right now; this thread still records
        assert striate.is_grad_enabled()
        y = x * 2.0
        assert y.requires_grad and y.grad_fn is not None
    finally:
        release.set()
        th.join()
    assert seen["worker"] is False


def test_new_thread_starts_with_grad_enabled_even_under_no_grad():
    seen = {}

    def worker():
        seen["enabled"] = striate.is_grad_enabled()

    with striate.no_grad():
        th = threading.Thread(target=worker)
        th.start()
        th.join()
    assert seen["enabled"] is True
