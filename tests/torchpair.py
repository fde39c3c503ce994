"""Run one PyTorch module and its striate twin (weights copied from PyTorch) on the same inputs,
and compare outputs and every gradient (inputs and parameters)."""

from __future__ import annotations

import numpy as np

import striate


def copy_weights(ours, theirs) -> None:
    """Load PyTorch's state_dict into ``ours`` (keys must match exactly, in order)."""
    sd = theirs.state_dict()
    assert list(ours.state_dict()) == list(sd), (list(ours.state_dict()), list(sd))
    ours.load_state_dict({k: v.detach().numpy() for k, v in sd.items()})


def _first(out):
    return out[0] if isinstance(out, tuple) else out


def compare(ours, theirs, arrays, call=None, atol=1e-10, rtol=1e-7, grad=True, **kwargs):
    """``call(module, *tensors, **kwargs)`` (default: ``module(*tensors, **kwargs)``) on both;
    float arrays become tensors that require grad; kwargs values that are arrays become tensors
    (no grad). Compares the first output, then the gradients of a random projection of it.
    Returns striate's output."""
    import torch

    call = call or (lambda m, *a, **k: m(*a, **k))
    xs = [striate.tensor(a, requires_grad=a.dtype.kind == "f" and grad) for a in arrays]
    ts = [torch.tensor(a, requires_grad=a.dtype.kind == "f" and grad) for a in arrays]
    kw_s = {k: striate.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    kw_t = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    out, tout = call(ours, *xs, **kw_s), call(theirs, *ts, **kw_t)
    o, t = _first(out), _first(tout)
    np.testing.assert_allclose(o.array, t.detach().numpy(), atol=atol, rtol=rtol,
                               err_msg="output differs from PyTorch")
    if isinstance(out, tuple) and out[1] is not None and isinstance(tout[1], torch.Tensor):
        np.testing.assert_allclose(out[1].array, tout[1].detach().numpy(), atol=atol, rtol=rtol,
                                   err_msg="second output differs from PyTorch")
    if not grad:
        return out
    g = np.random.default_rng(7).standard_normal(o.shape)
    (o * striate.tensor(g)).sum().backward()
    (t * torch.tensor(g)).sum().backward()
    for i, (x, tx) in enumerate(zip(xs, ts)):
        if tx.requires_grad:
            np.testing.assert_allclose(x.grad.array, tx.grad.numpy(), atol=atol * 10,
                                       rtol=rtol * 10, err_msg=f"gradient of input {i}")
    theirs_p = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        tp = theirs_p[name]
        if tp.grad is None:
            assert p.grad is None or not p.grad.array.any(), name
            continue
        assert p.grad is not None, f"{name}: no gradient, PyTorch has one"
        np.testing.assert_allclose(p.grad.array, tp.grad.numpy(), atol=atol * 10,
                                   rtol=rtol * 10, err_msg=f"gradient of {name}")
    return out
