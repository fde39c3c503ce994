"""Shape ops: reshape/view/flatten, transpose/permute, squeeze/unsqueeze, expand, repeat,
indexing, cat/stack/split/chunk and pad."""

from __future__ import annotations

import numpy as np
import pytest
from opcheck import check_both as check
from opcheck import check_nn, check_op

import striate
from striate import functional as F

RNG = np.random.default_rng(2)


def randn(*shape):
    return RNG.standard_normal(shape)


# ---- reshaping ----


@pytest.mark.parametrize(
    "f, shape",
    [
        (lambda m, x: x.reshape(4, 6), (4, 6)),
        (lambda m, x: x.reshape(-1), (24,)),
        (lambda m, x: x.reshape((2, -1, 3)), (2, 4, 3)),
        (lambda m, x: m.reshape(x, (3, 8)), (3, 8)),
        (lambda m, x: x.view(6, 4), (6, 4)),
        (lambda m, x: x.view(-1, 2), (12, 2)),
        (lambda m, x: x.flatten(), (24,)),
        (lambda m, x: x.flatten(1), (2, 12)),
        (lambda m, x: m.flatten(x, 0, 1), (6, 4)),
        (lambda m, x: x.flatten(-2, -1), (2, 12)),
        (lambda m, x: x.transpose(0, 2), (4, 3, 2)),
        (lambda m, x: m.transpose(x, -1, 0), (4, 3, 2)),
        (lambda m, x: x.permute(2, 0, 1), (4, 2, 3)),
        (lambda m, x: m.permute(x, (1, 2, 0)), (3, 4, 2)),
        (lambda m, x: x.permute(2, 0, 1).reshape(8, 3), (8, 3)),
        (lambda m, x: x.transpose(0, 1).reshape(3, 8), (3, 8)),  # reshape of a non-contiguous view
    ],
)
def test_reshape_family(f, shape):
    out = check(f, [randn(2, 3, 4)])
    assert out.shape == shape


def test_squeeze_unsqueeze():
    x = randn(2, 1, 3, 1)
    assert check(lambda m, a: a.squeeze(), [x]).shape == (2, 3)
    assert check(lambda m, a: a.squeeze(1), [x]).shape == (2, 3, 1)
    assert check(lambda m, a: m.squeeze(a, -1), [x]).shape == (2, 1, 3)
    assert check(lambda m, a: a.squeeze(0), [x]).shape == (2, 1, 3, 1)  # size 2: unchanged
    y = randn(2, 3)
    assert check(lambda m, a: a.unsqueeze(0), [y]).shape == (1, 2, 3)
    assert check(lambda m, a: a.unsqueeze(-1), [y]).shape == (2, 3, 1)
    assert check(lambda m, a: m.unsqueeze(a, 1), [y]).shape == (2, 1, 3)


def test_expand():
    assert check(lambda m, a: a.expand(3, -1, 4), [randn(1, 2, 1)]).shape == (3, 2, 4)
    assert check(lambda m, a: a.expand(2, 3, 5) * 1.0, [randn(3, 1)]).shape == (2, 3, 5)
    assert check(lambda m, a: m.exp(a.expand((4, 3))), [randn(3)]).shape == (4, 3)


def test_expand_gradient_sums_over_the_copies():
    x = striate.tensor(np.ones((1, 3)), requires_grad=True)
    x.expand(4, 3).sum().backward()
    np.testing.assert_array_equal(x.grad.array, np.full((1, 3), 4.0))


def test_expand_invalid_shape_is_named():
    with pytest.raises(ValueError, match=r"expand: shape \(3, 1\) can't be expanded to \(1, 4\)"):
        striate.ones(3, 1).expand(1, 4)
    with pytest.raises(ValueError, match="expand"):
        striate.ones(2, 3).expand(4, 3)


@pytest.mark.parametrize("sizes", [(2, 3), (1, 1), (2, 1, 3), (3, 2, 2, 1)])
def test_repeat(sizes):
    x = randn(2, 3)
    out = check(lambda m, a: a.repeat(*sizes), [x])
    np.testing.assert_array_equal(out, np.tile(x, sizes))


def test_repeat_too_few_sizes():
    with pytest.raises(ValueError, match="repeat: 1 repeat counts given for a tensor of 2 dims"):
        F.repeat(striate.ones(2, 3), 2)


# ---- indexing ----


@pytest.mark.parametrize(
    "index",
    [
        1,
        -1,
        (slice(1, 3),),
        (slice(None), 2),
        (slice(0, 3, 2), slice(1, None)),
        (1, slice(None), -2),
        (None, slice(1, 3)),
        (Ellipsis, 1),
        (0, Ellipsis, None),
        (slice(None), None, slice(2, 4)),
        (slice(None, None, 2), Ellipsis, slice(1, 2)),
    ],
    ids=str,
)
def test_getitem_basic(index):
    x = randn(4, 5, 3)
    out = check(lambda m, a: a[index], [x])
    np.testing.assert_array_equal(out, x[index])


@pytest.mark.parametrize(
    "index",
    [
        (slice(None, None, -1),),
        (slice(None), slice(3, 0, -2)),
        (slice(None, None, -2), 1, slice(None, None, -1)),
    ],
    ids=str,
)
def test_getitem_negative_steps(index):
    # PyTorch has no negative steps: compare with NumPy and with torch.flip where it applies
    x = randn(4, 5, 3)
    out = check_op(lambda a: a[index], [x])
    np.testing.assert_array_equal(out, x[index])


def test_getitem_negative_step_matches_flip():
    check_op(lambda a: a[:, ::-1], [randn(3, 4)], torch_fn=lambda a: a.flip(1))


def test_getitem_integer_array_with_repeats():
    x = randn(5, 3)
    idx = np.array([0, 2, 2, 4, 0, 0])
    out = check(lambda m, a, i: a[i], [x, idx])
    np.testing.assert_array_equal(out, x[idx])
    t = striate.tensor(x, requires_grad=True)
    t[idx].sum().backward()  # repeated rows accumulate: row 0 three times, row 2 twice
    np.testing.assert_array_equal(t.grad.array[:, 0], [3, 0, 2, 0, 1])


def test_getitem_python_list_and_2d_index():
    x = randn(5, 4)
    check(lambda m, a: a[[1, 1, 3]], [x])
    out = check(lambda m, a, i: a[i], [x, np.array([[0, 1], [1, 4]])])
    assert out.shape == (2, 2, 4)


def test_getitem_bool_mask():
    x = randn(4, 5)
    mask = x > 0.2
    out = check(lambda m, a, k: a[k], [x, mask])
    np.testing.assert_array_equal(out, x[mask])
    row_mask = np.array([True, False, True, True])
    assert check(lambda m, a, k: a[k], [x, row_mask]).shape == (3, 5)


@pytest.mark.parametrize(
    "make",
    [
        lambda i, j: (i, slice(1, 4)),
        lambda i, j: (slice(None), i),
        lambda i, j: (i, j),
        lambda i, j: (Ellipsis, j),
        lambda i, j: (i, slice(None), j),
        lambda i, j: (None, i, 2),
    ],
)
def test_getitem_mixed(make):
    x = randn(4, 5, 6)
    i = np.array([3, 0, 3])
    j = np.array([1, 1, 4])
    out = check(lambda m, a, ii, jj: a[make(ii, jj)], [x, i, j])
    np.testing.assert_array_equal(out, x[make(i, j)])


def test_getitem_non_contiguous_input():
    x = randn(4, 5)
    check(lambda m, a, i: a.transpose(0, 1)[i, 1:3], [x, np.array([4, 0, 4])])


def test_getitem_bad_index_names_shape():
    with pytest.raises(IndexError, match=r"getitem: .* invalid for shape \(2, 3\)"):
        striate.ones(2, 3)[5]


def test_getitem_float32():
    x = striate.tensor(randn(4, 5).astype(np.float32), requires_grad=True)
    y = x[np.array([0, 0, 3])] * 2 + x[1:3].sum() + x[x.array > 0].sum()
    assert y.dtype == np.float32
    y.sum().backward()
    assert x.grad.dtype == np.float32


# ---- cat / stack / split / chunk ----


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_cat(dim):
    shapes = [[2, 3, 4], [2, 3, 4], [2, 3, 4]]
    for k, s in enumerate(shapes):
        s[dim] += k  # sizes differ along dim only
    out = check(lambda m, a, b, c: m.cat([a, b, c], dim=dim), [randn(*s) for s in shapes])
    assert out.shape[dim] == sum(s[dim] for s in shapes)


def test_cat_with_a_constant_and_concatenate_alias():
    c = striate.tensor(np.ones((2, 2)))
    x = striate.tensor(randn(2, 3), requires_grad=True)
    y = F.concatenate((x, c), dim=1)
    assert y.shape == (2, 5)
    (y * y).sum().backward()
    np.testing.assert_allclose(x.grad.array, 2 * x.array)
    assert c.grad is None


def test_cat_mismatched_shapes_named():
    with pytest.raises(
        ValueError,
        match=r"cat: tensors\[1\] has shape \(2, 4\) but tensors\[0\] "
        r"has shape \(3, 4\); all dims except dim 1 must match",
    ):
        F.cat([striate.ones(3, 4), striate.ones(2, 4)], dim=1)
    with pytest.raises(ValueError, match="non-empty"):
        F.cat([])


@pytest.mark.parametrize("dim", [0, 1, 2, -1])
def test_stack(dim):
    out = check(lambda m, a, b: m.stack([a, b * 2.0], dim=dim), [randn(3, 4), randn(3, 4)])
    assert out.shape == np.stack([np.zeros((3, 4))] * 2, axis=dim).shape


def test_stack_mismatched_shapes_named():
    with pytest.raises(ValueError, match=r"stack: tensors\[1\] has shape \(3,\)"):
        F.stack([striate.ones(2), striate.ones(3)])


def _weighted(pieces):
    """A scalar where each piece has a different weight, so a misrouted gradient shows."""
    total = 0
    for k, p in enumerate(pieces):
        total = total + (p * (k + 1)).sum() + (p * p).sum()
    return total


@pytest.mark.parametrize("sizes, dim", [(2, 1), (3, 1), ([1, 4, 2], 1), (1, 0), ([2, 1], 0)])
def test_split(sizes, dim):
    x = randn(3, 7)
    check(lambda m, a: _weighted(m.split(a, sizes, dim=dim)), [x])
    check(lambda m, a: _weighted(a.split(sizes, dim)), [x])
    pieces = F.split(striate.tensor(x), sizes, dim=dim)
    want = np.split(x, np.cumsum(sizes)[:-1], axis=dim) if isinstance(sizes, list) else None
    if want is not None:
        for p, w in zip(pieces, want):
            np.testing.assert_array_equal(p.array, w)


@pytest.mark.parametrize("chunks, dim", [(3, 1), (2, 0), (7, 1), (4, -1)])
def test_chunk(chunks, dim):
    x = randn(3, 7)
    check(lambda m, a: _weighted(m.chunk(a, chunks, dim=dim)), [x])
    got = [p.shape for p in F.chunk(striate.tensor(x), chunks, dim)]
    torch = pytest.importorskip("torch")
    assert got == [tuple(p.shape) for p in torch.chunk(torch.tensor(x), chunks, dim)]


def test_split_bad_sections():
    with pytest.raises(ValueError, match=r"split: sections \[2, 2\] sum to 4, not to dim size 7"):
        F.split(striate.ones(3, 7), [2, 2], dim=1)


# ---- pad ----


@pytest.mark.parametrize(
    "pad, shape",
    [((1, 2), (2, 3, 4)), ((2, 1, 0, 3), (2, 3, 4)), ((1, 1, 1, 1, 1, 1), (2, 3, 4))],
)
def test_pad_constant(pad, shape):
    x = randn(*shape)
    out = check_nn(lambda m, a: m.pad(a, pad, mode="constant", value=0.5), [x])
    np.testing.assert_array_equal(out, np.pad(x, _np_widths(pad, len(shape)), constant_values=0.5))


def _np_widths(pad, ndim):
    """torch-style (last-dim-first) pad pairs as np.pad's per-dim widths."""
    widths = [(0, 0)] * (ndim - len(pad) // 2)
    return widths + [(pad[2 * i], pad[2 * i + 1]) for i in reversed(range(len(pad) // 2))]


@pytest.mark.parametrize("mode", ["reflect", "replicate"])
@pytest.mark.parametrize("pad, shape", [((2, 1), (2, 3, 5)), ((1, 2, 2, 1), (2, 3, 4, 5))])
def test_pad_reflect_replicate(mode, pad, shape):
    out = check_nn(lambda m, a: m.pad(a, pad, mode=mode), [randn(*shape)])
    np_mode = {"replicate": "edge"}.get(mode, mode)
    widths = _np_widths(pad, len(shape))
    x = randn(*shape)
    np.testing.assert_array_equal(
        F.pad(striate.tensor(x), pad, mode=mode).array, np.pad(x, widths, mode=np_mode)
    )
    assert out.shape == tuple(n + lo + hi for n, (lo, hi) in zip(shape, widths))


def test_pad_float32_and_errors():
    x = striate.tensor(randn(1, 2, 3, 3).astype(np.float32), requires_grad=True)
    for mode in ("constant", "reflect", "replicate"):
        y = F.pad(x, (1, 1, 1, 1), mode=mode)
        assert y.dtype == np.float32
        y.sum().backward()
        assert x.grad.dtype == np.float32
    with pytest.raises(ValueError, match="pad: pad must have an even length"):
        F.pad(x, (1, 2, 3))
    with pytest.raises(ValueError, match="pad: mode must be"):
        F.pad(x, (1, 1), mode="wrap-around")


# ---- errors ----


def test_reshape_invalid_shape_named():
    x = striate.ones(2, 3)
    with pytest.raises(
        ValueError,
        match=r"reshape: shape \(4, 2\) is invalid for input of shape "
        r"\(2, 3\) \(6 elements\)",
    ):
        x.reshape(4, 2)
    with pytest.raises(ValueError, match="reshape"):
        x.reshape(-1, -1)
    with pytest.raises(ValueError, match="reshape"):
        x.reshape(4, -1)


def test_permute_and_dim_errors_named():
    x = striate.ones(2, 3, 4)
    with pytest.raises(ValueError, match="permute: dims .* is not a permutation"):
        x.permute(0, 1, 1)
    with pytest.raises(IndexError, match="transpose: dim 3 is out of range"):
        x.transpose(0, 3)
    with pytest.raises(IndexError, match="unsqueeze: dim 5 is out of range"):
        x.unsqueeze(5)
