"""The one helper every op test uses: gradient check in float64, and PyTorch parity if installed.

``check_op(fn, inputs, torch_fn=...)`` runs ``fn`` on striate tensors made from ``inputs``
(NumPy arrays; float ones require grad), checks its gradients against centred differences in
float64, and, where PyTorch is installed and ``torch_fn`` is given, runs ``torch_fn`` on torch
tensors made from the same arrays and compares forward outputs and gradients (float64 and
float32). ``fn`` and ``torch_fn`` receive the tensors positionally; often they are the same lambda
with ``F`` swapped.
"""

from __future__ import annotations

import importlib.util

import numpy as np

import striate
from striate.autograd import gradcheck

HAVE_TORCH = importlib.util.find_spec("torch") is not None


def _make(inputs, dtype, requires_grad=True):
    out = []
    for a in inputs:
        a = np.asarray(a)
        if a.dtype.kind == "f":
            out.append(striate.Tensor(a.astype(dtype), requires_grad=requires_grad))
        else:
            out.append(striate.Tensor(a))
    return out


def check_op(fn, inputs, torch_fn=None, atol: float = 1e-7, rtol: float = 1e-5,
             atol32: float = 1e-4, check_grad: bool = True, grad_inputs=None):
    """Gradcheck ``fn`` in float64 and, where possible, compare with ``torch_fn``.

    Args:
        fn: function of striate Tensors returning one Tensor.
        inputs: NumPy arrays (floats become tensors that require grad).
        torch_fn: the same computation in PyTorch, or None.
        atol, rtol: the gradient check passes an element when
            ``|analytic - numeric| <= atol + rtol * |numeric|`` (as PyTorch's gradcheck judges):
            a bare relative error fails a correct op on elements near zero, whose rounding
            differs with the machine's BLAS kernels.
        grad_inputs: indices of inputs to differentiate (default: every float input).
    Returns the float64 forward output as a NumPy array.
    """
    xs = _make(inputs, np.float64)
    if grad_inputs is not None:
        for i, t in enumerate(xs):
            t.requires_grad = t.requires_grad and i in grad_inputs
    out = fn(*xs)
    if check_grad:
        gradcheck(fn, xs, atol=atol, rtol=rtol)
    if torch_fn is not None and HAVE_TORCH:
        _compare_torch(fn, torch_fn, inputs, np.float64, 1e-9, grad_inputs)
        _compare_torch(fn, torch_fn, inputs, np.float32, atol32, grad_inputs)
    return out.array


def _compare_torch(fn, torch_fn, inputs, dtype, atol, grad_inputs):
    import torch

    xs = _make(inputs, dtype)
    ts = []
    for i, a in enumerate(inputs):
        a = np.asarray(a)
        if a.dtype.kind == "f":
            want = grad_inputs is None or i in grad_inputs
            ts.append(torch.tensor(a.astype(dtype), requires_grad=want))
        else:
            ts.append(torch.tensor(a))
        if grad_inputs is not None and i not in grad_inputs and xs[i].requires_grad:
            xs[i].requires_grad = False
    out = fn(*xs)
    tout = torch_fn(*ts)
    np.testing.assert_allclose(out.array, tout.detach().numpy(), rtol=atol, atol=atol,
                               err_msg=f"forward differs from PyTorch ({np.dtype(dtype)})")
    if not out.requires_grad:
        return
    g = np.random.default_rng(1).standard_normal(out.shape).astype(dtype)
    out.backward(striate.Tensor(g))
    tout.backward(torch.tensor(g))
    for i, (x, t) in enumerate(zip(xs, ts)):
        if isinstance(t, torch.Tensor) and t.requires_grad:
            assert x.grad is not None, f"input {i}: no gradient, PyTorch has one"
            np.testing.assert_allclose(
                x.grad.array, t.grad.numpy(), rtol=atol * 10, atol=atol * 10,
                err_msg=f"gradient of input {i} differs from PyTorch ({np.dtype(dtype)})",
            )


def check_both(f, inputs, **kw):
    """``check_op`` with one expression ``f(lib, *tensors)`` run through ``striate`` and
    ``torch``: ``check_both(lambda lib, x: lib.exp(x), [a])``."""
    import importlib

    return check_op(lambda *t: f(striate, *t), inputs,
                    lambda *t: f(importlib.import_module("torch"), *t), **kw)


def check_nn(f, inputs, **kw):
    """As :func:`check_both`, through ``striate.functional`` and ``torch.nn.functional``."""
    import importlib

    import striate.functional as F

    return check_op(lambda *t: f(F, *t), inputs,
                    lambda *t: f(importlib.import_module("torch.nn.functional"), *t), **kw)


def torch_or_skip():
    """PyTorch, imported when first needed; the calling test is skipped where it is missing."""
    import pytest

    return pytest.importorskip("torch")


def functional_or_skip():
    """``torch.nn.functional``, as :func:`torch_or_skip`."""
    return torch_or_skip().nn.functional
