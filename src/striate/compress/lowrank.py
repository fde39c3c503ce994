"""Low-rank factorisation: fewer multiply-adds by the truncated SVD.

- A ``Linear`` with weight ``W`` (out x in) becomes two: ``in -> r`` (``sqrt(S_r) V_r^T``) then
  ``r -> out`` (``U_r sqrt(S_r)``, with the bias): ``r (in + out)`` weights instead of
  ``in * out``.
- A ``k x k`` ``Conv2d`` becomes a ``k x 1`` conv into ``r`` channels followed by a ``1 x k`` conv
  out of them (Jaderberg et al. 2014's scheme 2): with ``M[(c, i), (f, j)] = W[f, c, i, j]``,
  the truncated SVD ``M ~ U_r S_r V_r^T`` gives the vertical filters from ``U_r sqrt(S_r)`` and
  the horizontal ones from ``sqrt(S_r) V_r^T``. At full rank (``r = min(C k, F k)``) both are
  exact; lower ranks keep the directions of largest singular value.

Fine-tune afterwards (``compress.finetune``): the factors train like any layers.
"""

from __future__ import annotations

import numpy as np

from .. import nn

__all__ = ["factorize_linear", "factorize_conv", "low_rank"]


def _rank(rank, full: int, where: str) -> int:
    if isinstance(rank, float) and 0 < rank <= 1:
        return max(1, int(round(rank * full)))
    if isinstance(rank, (int, np.integer)) and not isinstance(rank, bool) and rank >= 1:
        return min(int(rank), full)
    raise ValueError(f"{where}: rank must be an int >= 1 or a fraction in (0, 1], got {rank!r}")


def factorize_linear(linear: nn.Linear, rank) -> nn.Sequential:
    """Two Linears of inner width ``rank`` (an int, or a fraction of the full rank)."""
    w = linear.weight.array.astype(np.float64)
    r = _rank(rank, min(w.shape), "factorize_linear")
    u, s, vt = np.linalg.svd(w, full_matrices=False)
    root = np.sqrt(s[:r])
    first = nn.Linear(linear.in_features, r, bias=False)
    second = nn.Linear(r, linear.out_features, bias=linear.bias is not None)
    dt = linear.weight.array.dtype
    first.weight.array = (root[:, None] * vt[:r]).astype(dt)
    second.weight.array = (u[:, :r] * root[None, :]).astype(dt)
    if linear.bias is not None:
        second.bias.array = linear.bias.array.copy()
    return nn.Sequential(first, second)


def factorize_conv(conv: nn.Conv2d, rank) -> nn.Sequential:
    """A ``k x 1`` conv into ``rank`` channels, then a ``1 x k`` conv (stride and padding split
    between them, so the output has the original shape)."""
    if conv.groups != 1 or conv.dilation != (1, 1) or isinstance(conv.padding, str):
        raise ValueError("factorize_conv: only groups=1, dilation 1 and numeric padding")
    w = conv.weight.array.astype(np.float64)
    F, C, kh, kw = w.shape
    m = w.transpose(1, 2, 0, 3).reshape(C * kh, F * kw)  # M[(c, i), (f, j)]
    r = _rank(rank, min(m.shape), "factorize_conv")
    u, s, vt = np.linalg.svd(m, full_matrices=False)
    root = np.sqrt(s[:r])
    (sh, sw), (ph, pw) = conv.stride, conv.padding
    vertical = nn.Conv2d(C, r, (kh, 1), stride=(sh, 1), padding=(ph, 0), bias=False)
    horizontal = nn.Conv2d(r, F, (1, kw), stride=(1, sw), padding=(0, pw),
                           bias=conv.bias is not None)
    dt = conv.weight.array.dtype
    # vertical[r, c, i, 0] = U[(c, i), r] sqrt(s_r)
    # horizontal[f, r, 0, j] = sqrt(s_r) V^T[r, (f, j)]
    vertical.weight.array = (u[:, :r] * root).reshape(C, kh, r).transpose(2, 0, 1)[
        ..., None].astype(dt)
    horizontal.weight.array = (root[:, None] * vt[:r]).reshape(r, F, kw).transpose(1, 0, 2)[
        :, :, None, :].astype(dt)
    if conv.bias is not None:
        horizontal.bias.array = conv.bias.array.copy()
    return nn.Sequential(vertical, horizontal)


def low_rank(model, rank=0.5, kinds=(nn.Linear, nn.Conv2d), skip_last: bool = True):
    """Replace every Linear and k x k Conv2d (k > 1) of ``model`` by its factorisation of
    ``rank`` (in place; the class-score layer is kept when ``skip_last``). Returns the model."""
    targets = []
    for parent in model.modules():
        for name, child in parent._modules.items():
            if isinstance(child, kinds) and not (isinstance(child, nn.Conv2d)
                                                 and child.kernel_size == (1, 1)):
                targets.append((parent, name, child))
    # in depth-first order (model.modules()), not parent by parent: a ConvNet's head, a child
    # of the model itself, comes after the convs of its `features`, so skip_last keeps it
    order = {id(m): i for i, m in enumerate(model.modules())}
    targets.sort(key=lambda t: order[id(t[2])])
    if skip_last and targets and isinstance(targets[-1][2], nn.Linear):
        targets = targets[:-1]
    if not targets:
        raise ValueError("low_rank: the model has no layer to factorise")
    for parent, name, child in targets:
        new = (factorize_linear(child, rank) if isinstance(child, nn.Linear)
               else factorize_conv(child, rank))
        setattr(parent, name, new)
    return model
