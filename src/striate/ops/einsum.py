"""``einsum``: Einstein summation over any number of operands, differentiable in each.

The gradient of one operand is itself an einsum: the upstream gradient (subscripted like the
output) contracted with the other operands, written out in that operand's subscripts. Three cases
need care around that one line: a letter only the operand has (summed away in the forward, so its
gradient is broadcast back), a size-1 dimension broadcast against a larger one (summed back), and a
letter repeated inside one operand (``'ii->i'``, a diagonal: the gradient is placed back on it).
"""

from __future__ import annotations

import string

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import Tensor

__all__ = ["einsum"]


def _parse(equation: str, shapes: list[tuple]) -> tuple[list[str], str, dict[str, int]]:
    """Explicit subscripts (ellipses expanded to fresh letters), the output's, and each letter's
    size after broadcasting."""
    if not isinstance(equation, str):
        raise TypeError(f"einsum: equation must be a str, got {type(equation).__name__}")
    eq = equation.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(shapes):
        raise ValueError(
            f"einsum: equation {equation!r} has {len(terms)} operand(s) but {len(shapes)} "
            "were given"
        )
    used = set(eq) - set(".,->")
    bad = sorted(c for c in used if c not in string.ascii_letters)
    if bad:
        raise ValueError(f"einsum: subscripts must be letters, got {bad} in {equation!r}")
    spare = [c for c in string.ascii_letters if c not in used]
    ell_rank = 0
    for term, shape in zip(terms, shapes):
        if "..." in term:
            ell_rank = max(ell_rank, len(shape) - (len(term) - 3))
    ell = "".join(spare[:ell_rank])
    out_terms = []
    for i, (term, shape) in enumerate(zip(terms, shapes)):
        if "..." in term:
            k = len(shape) - (len(term) - 3)
            if k < 0 or term.count("...") > 1:
                raise ValueError(f"einsum: subscripts {term!r} don't fit operand {i} of shape "
                                 f"{shape}")
            term = term.replace("...", ell[ell_rank - k:])
        if "." in term or len(term) != len(shape):
            raise ValueError(
                f"einsum: operand {i} has {len(shape)} dims (shape {shape}) but subscripts "
                f"{terms[i]!r} name {len(term)}"
            )
        out_terms.append(term)
    if arrow:
        out = rhs.replace("...", ell)
        if "." in out:
            raise ValueError(f"einsum: malformed output subscripts {rhs!r}")
    else:
        counts = {c: "".join(out_terms).count(c) for c in set("".join(out_terms)) - set(ell)}
        out = ell + "".join(sorted(c for c, n in counts.items() if n == 1))
    for c in out:
        if out.count(c) > 1 or not any(c in t for t in out_terms):
            raise ValueError(
                f"einsum: output subscript {c!r} of {equation!r} must appear once in the output "
                "and in some operand"
            )
    sizes: dict[str, int] = {}
    for i, (term, shape) in enumerate(zip(out_terms, shapes)):
        for c, n in zip(term, shape):
            m = sizes.get(c, 1)
            if n != 1 and m != 1 and n != m:
                raise ValueError(
                    f"einsum: subscript {c!r} has size {m} in one operand and {n} in operand "
                    f"{i} (shape {shape}); they must match or be 1"
                )
            sizes[c] = n if m == 1 else m  # not max(m, n): a size 0 meets 1 as 0
    return out_terms, out, sizes


def _contract(spec: str, arrays) -> np.ndarray:
    return np.einsum(spec, *arrays, optimize=len(arrays) > 1)


class Einsum(Function):
    @staticmethod
    def forward(ctx, *arrays, terms, out, sizes):
        ctx.save_for_backward(*arrays)
        ctx.terms, ctx.out, ctx.sizes = terms, out, sizes
        return np.asarray(_contract(",".join(terms) + "->" + out, arrays))

    @staticmethod
    def backward(ctx, g):
        arrays, terms, out, sizes = ctx.saved, ctx.terms, ctx.out, ctx.sizes
        grads = []
        for k, (a, term) in enumerate(zip(arrays, terms)):
            if not ctx.needs_input_grad[k]:
                grads.append(None)
                continue
            others = [t for j, t in enumerate(terms) if j != k]
            elsewhere = set(out).union(*others) if others else set(out)
            unique = "".join(dict.fromkeys(term))
            present = "".join(c for c in unique if c in elsewhere)
            # d out / d a: contract g with every other operand, keeping a's letters
            gk = _contract(",".join([out, *others]) + "->" + present,
                           [g, *(x for j, x in enumerate(arrays) if j != k)])
            own = {c: n for c, n in zip(term, a.shape)}
            # letters only ``a`` has were summed in the forward: every element gets the gradient
            gk = gk.reshape([sizes[c] if c in present else 1 for c in unique])
            gk = np.broadcast_to(gk, [sizes[c] if c in present else own[c] for c in unique])
            # a size-1 dim that was broadcast against a larger one: sum the gradient back
            axes = tuple(i for i, c in enumerate(unique) if own[c] == 1 and sizes[c] != 1)
            if axes:
                gk = gk.sum(axis=axes, keepdims=True)
            if len(unique) == len(term):
                grads.append(np.ascontiguousarray(gk.transpose([unique.index(c) for c in term])))
                continue
            # a repeated letter reads a diagonal: put the gradient back on that diagonal
            grid = dict(zip(unique, np.ogrid[tuple(slice(0, own[c]) for c in unique)]))
            dx = np.zeros(a.shape, dtype=g.dtype)
            dx[tuple(grid[c] for c in term)] = gk
            grads.append(dx)
        return tuple(grads)


def einsum(equation: str, *operands) -> Tensor:
    """Einstein summation, as ``torch.einsum``: ``einsum('ij,jk->ik', a, b)`` is ``a @ b``.

    Args:
        equation: comma-separated subscripts per operand (letters; ``...`` for broadcast
            leading dims), optionally ``->`` and the output's subscripts. Without ``->`` the
            output holds the letters that appear once, in alphabetical order.
        operands: tensors (or one list of them), one per subscript group.

    Returns:
        the contraction; differentiable in every operand.

    Example:
        >>> import striate
        >>> a = striate.tensor([[1.0, 2.0], [3.0, 4.0]])
        >>> striate.einsum('ii->', a).item(), striate.einsum('ij->j', a).tolist()
        (5.0, [4.0, 6.0])
    """
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    if not operands:
        raise ValueError("einsum: expected at least one operand")
    for i, t in enumerate(operands):
        if not isinstance(t, Tensor):
            raise TypeError(f"einsum: operand {i} must be a Tensor, got {type(t).__name__}")
    terms, out, sizes = _parse(equation, [tuple(t.shape) for t in operands])
    return Einsum.apply(*operands, terms=terms, out=out, sizes=sizes)
