"""Issue 11: silent wrong answers, shapes, errors and empty tensors, each against PyTorch."""

import numpy as np
import pytest
import striate.functional as F

import striate
from striate.kernels import compiled

torch = pytest.importorskip("torch")
TF = torch.nn.functional
nan, inf = float("nan"), float("inf")


def _both(fn, arrays, lib_args=None, grad=True, atol=1e-6, rtol=1e-6, seed=0):
    """Run ``fn(lib, *tensors)`` in striate and PyTorch on the same float64 arrays; compare the
    outputs and (with ``grad``) the gradients of a random projection, NaN equal to NaN."""
    xs = [striate.tensor(a, requires_grad=grad and a.dtype.kind == "f") for a in arrays]
    ts = [torch.tensor(a, requires_grad=grad and a.dtype.kind == "f") for a in arrays]
    y, z = fn(striate, F, *xs), fn(torch, TF, *ts)
    assert y.shape == tuple(z.shape)
    np.testing.assert_allclose(y.array, z.detach().numpy(), atol=atol, rtol=rtol)
    if grad:
        g = np.random.default_rng(seed).standard_normal(y.shape)
        y.backward(striate.tensor(g))
        z.backward(torch.tensor(g))
        for x, t in zip(xs, ts):
            if t.requires_grad:
                np.testing.assert_allclose(x.grad.array, t.grad.numpy(), atol=atol, rtol=rtol)
    return y


# ---- NaN gradients where PyTorch gives a number -----------------------------------------------

@pytest.mark.parametrize("name", ["std", "var"])
@pytest.mark.parametrize("dim", [1, None, (0, 1)])
def test_std_var_of_constant_rows(name, dim):
    x = np.ones((2, 3))
    x[1] = 2.5
    _both(lambda m, f, a: getattr(a, name)(dim=dim) if dim is not None else getattr(a, name)(),
          [x])


def test_std_gradient_still_right_elsewhere():
    x = np.random.default_rng(1).standard_normal((3, 5))
    x[0] = 4.0
    _both(lambda m, f, a: a.std(1) * 2, [x])


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_all_targets_ignored(reduction):
    x = np.random.default_rng(2).standard_normal((3, 4))
    t = np.full(3, -100)
    y = _both(lambda m, f, a, b: f.cross_entropy(a, b, reduction=reduction), [x, t])
    if reduction == "mean":
        assert np.isnan(y.item())  # 0 / 0, as PyTorch; the gradient (checked above) is 0


def test_nll_loss_all_targets_ignored():
    x = np.random.default_rng(3).standard_normal((3, 4))
    _both(lambda m, f, a, b: f.nll_loss(a, b, ignore_index=1), [x, np.array([1, 1, 1])])


@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_ignored_rows_with_inf_logits_do_not_poison_the_loss(smoothing):
    x = np.array([[1.0, 2.0, 3.0], [inf, 0.0, 0.0], [0.5, -1.0, 1.0]])
    t = np.array([0, -100, 2])
    xs = striate.tensor(x, requires_grad=True)
    ts = torch.tensor(x, requires_grad=True)
    y = F.cross_entropy(xs, striate.tensor(t), label_smoothing=smoothing)
    z = TF.cross_entropy(ts, torch.tensor(t), label_smoothing=smoothing)
    assert np.isfinite(y.item())
    np.testing.assert_allclose(y.item(), z.item(), rtol=1e-7)
    y.backward()
    z.backward()
    # the counted rows' gradients agree (PyTorch's ignored inf row holds NaN; so does ours)
    np.testing.assert_allclose(xs.grad.array, ts.grad.numpy(), rtol=1e-7, atol=1e-12)
    y2 = F.nll_loss(striate.tensor(x), striate.tensor(t))
    np.testing.assert_allclose(y2.item(), TF.nll_loss(torch.tensor(x), torch.tensor(t)).item())


def test_pow_at_zero_with_zero_exponent():
    x = np.array([0.0, 0.0, 2.0, -1.5])
    _both(lambda m, f, a, b: a ** b, [x, np.array([0.0])])
    _both(lambda m, f, a, b: a ** b, [x, np.array([0.0, 1.0, 0.0, 2.0])])
    _both(lambda m, f, a: a ** 0.0, [x])
    # the exponent's gradient at a zero base: 0 for exponents >= 0 (PyTorch's convention)
    _both(lambda m, f, a, b: a ** b, [np.array([0.0, 0.0, 3.0]), np.array([0.0, 2.0, 1.5])])


# ---- maximum / minimum ties, max pooling ------------------------------------------------------

@pytest.mark.parametrize("name", ["maximum", "minimum"])
def test_maximum_minimum_split_ties(name):
    a = np.array([1.0, 2.0, 5.0, nan, 3.0])
    b = np.array([1.0, 3.0, 4.0, 1.0, nan])
    _both(lambda m, f, x, y: getattr(m, name)(x, y), [a, b])
    _both(lambda m, f, x, y: getattr(m, name)(x, y), [np.ones((2, 3)), np.ones(3)])


POOL_CASES = [
    (np.array([[[[1.0, nan, 2, 3], [4, 5, 6, 7], [1, 2, 3, 4], [5, 6, 7, 8]]]]),
     dict(kernel_size=2, stride=1)),
    (np.array([[[[1.0, nan, 2, 3], [4, 5, 6, 7], [1, 2, 3, 4], [5, 6, 7, 8]]]]),
     dict(kernel_size=3, stride=1, padding=1)),
    (np.array([[[[nan, 1.0, nan], [2, nan, 3], [4, 5, 6]]]]), dict(kernel_size=2, stride=1)),
    (np.full((1, 1, 2, 2), -inf), dict(kernel_size=2, stride=1, padding=1)),
    (np.full((1, 2, 3, 3), -inf), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
    (np.full((1, 1, 9, 9), -inf), dict(kernel_size=9, stride=1, padding=4)),  # > 64: argmax path
]


@pytest.mark.parametrize("use_compiled", [False, True])
@pytest.mark.parametrize("case", range(len(POOL_CASES)))
def test_max_pool_keeps_gradients_with_nan_and_inf(case, use_compiled, monkeypatch):
    monkeypatch.setattr(compiled, "USE_COMPILED", use_compiled)
    x, kw = POOL_CASES[case]
    _both(lambda m, f, a: f.max_pool2d(a, **kw), [x])


@pytest.mark.parametrize("use_compiled", [False, True])
def test_max_pool_random_nan_inf_windows(use_compiled, monkeypatch):
    monkeypatch.setattr(compiled, "USE_COMPILED", use_compiled)
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, 3, 9, 9))
    x[x > 1.5] = nan
    x[x < -1.0] = -inf
    for kw in (dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1),
               dict(kernel_size=9, stride=1, padding=4), dict(kernel_size=2, stride=1)):
        _both(lambda m, f, a, kw=kw: f.max_pool2d(a, **kw), [x], atol=1e-12)


# ---- shapes ------------------------------------------------------------------------------------

INDICES = [
    lambda lib: (0, slice(None), [0, 1]),
    lambda lib: (slice(None), 0, [1, 0, 1]),
    lambda lib: ([0, 1], slice(None), 0),
    lambda lib: (0, slice(None), [[0, 1]]),
    lambda lib: (None, 0, slice(None), [0, 1]),
    lambda lib: (0, Ellipsis, [0, 1]),
    lambda lib: ([0], slice(None), [0, 1]),
    lambda lib: (lib.tensor(1), slice(None), lib.tensor([0, 3])),
    lambda lib: (0, slice(None), lib.tensor([True, False, True, True])),
]


@pytest.mark.parametrize("k", range(len(INDICES)))
def test_advanced_indexing_shapes_follow_torch(k):
    x = np.random.default_rng(5).standard_normal((2, 3, 4))
    _both(lambda m, f, a: a[INDICES[k](m)], [x])


def test_advanced_index_assignment_follows_torch_shapes():
    x = striate.zeros(2, 3, 4)
    x[0, :, [0, 1]] = striate.ones(3, 2)
    t = torch.zeros(2, 3, 4)
    t[0, :, [0, 1]] = torch.ones(3, 2)
    np.testing.assert_array_equal(x.array, t.numpy())


def test_sum_over_empty_dim_tuple_reduces_everything():
    x = np.random.default_rng(6).standard_normal((2, 3))
    _both(lambda m, f, a: a.sum(dim=()), [x])
    _both(lambda m, f, a: m.mean(a, dim=()), [x])


@pytest.mark.parametrize("how", [2, [0], [0, 0]])
def test_split_of_an_empty_dim(how):
    got = [c.shape for c in striate.ones(0, 3).split(how)]
    assert got == [tuple(c.shape) for c in torch.ones(0, 3).split(how)]


@pytest.mark.parametrize("chunks", [1, 2, 3])
def test_chunk_of_an_empty_dim(chunks):
    got = [c.shape for c in striate.ones(0, 3).chunk(chunks)]
    assert got == [tuple(c.shape) for c in torch.ones(0, 3).chunk(chunks)]


@pytest.mark.parametrize("descending", [True, False])
def test_sort_puts_nan_where_torch_does(descending):
    rng = np.random.default_rng(7)
    x = rng.standard_normal((4, 30))
    x[rng.random(x.shape) < 0.2] = nan
    x[0, 3], x[1, 4] = inf, -inf
    got = striate.tensor(x).sort(dim=1, descending=descending)
    want = torch.tensor(x).sort(dim=1, descending=descending, stable=True)
    np.testing.assert_array_equal(got.values.array, want.values.numpy())
    np.testing.assert_array_equal(got.indices.array, want.indices.numpy())
    # stable on both sides: the NaNs' order among themselves decides where their gradients go
    _both(lambda m, f, a: a.sort(dim=1, descending=descending, stable=True)[0], [x])


@pytest.mark.parametrize("k", [1, 2, 5, 30])
@pytest.mark.parametrize("largest", [True, False])
def test_topk_counts_nan_as_largest(k, largest):
    rng = np.random.default_rng(8)
    x = rng.standard_normal((3, 60))
    x[[0, 1, 1], [7, 3, 40]] = nan  # one NaN per row at most: PyTorch orders equal values freely
    x[1, 40] = 0.0
    _both(lambda m, f, a: a.topk(k, largest=largest)[0], [x])
    got = striate.tensor([1.0, nan, 3.0, 2.0]).topk(2)
    assert got.indices.tolist() == [1, 2]


# ---- errors that name the op, and what PyTorch accepts ----------------------------------------

@pytest.mark.parametrize("call, match", [
    (lambda: striate.ones(2, 3) * striate.ones(4), r"mul: shapes \(2, 3\) and \(4,\) are not "
                                                   "broadcastable"),
    (lambda: striate.ones(2, 3) + striate.ones(2, 4), "add: shapes"),
    (lambda: striate.where(striate.ones(2, 3) > 0, striate.ones(3), striate.ones(4)),
     "where: shapes"),
    (lambda: striate.ones(2, 3) < striate.ones(4), "lt: shapes"),
    (lambda: striate.ones(2, 3).sum(dim=(0, 0)), "sum: dim 0 appears more than once"),
    (lambda: striate.ones(2, 3).mean(dim=(1, -1)), "mean: dim 1 appears more than once"),
    (lambda: striate.ones(2, 3).permute(0, 0), "permute: dims .* a dim repeats"),
    (lambda: striate.ones(2, 3).permute(0, 3), "permute: dim 3 is out of range"),
    (lambda: striate.amax(striate.ones(0, 3), 0), "amax: cannot reduce over dim 0 of size 0"),
    (lambda: striate.argmax(striate.ones(0, 3), 0), "argmax: cannot reduce over dim 0"),
    (lambda: striate.max(striate.ones(0, 3), 0), "max: cannot reduce over dim 0"),
    (lambda: striate.ones(3).chunk(0), "chunk: chunks must be a positive int, got 0"),
    (lambda: striate.ones(2, 3, 4).t(), "t: expects a tensor with at most 2 dimensions"),
    (lambda: striate.tensor(2.0).sum(dim=1), "sum: dim 1 is out of range"),
])
def test_errors_name_the_op(call, match):
    with pytest.raises((ValueError, IndexError, TypeError), match=match):
        call()


def test_out_of_range_index_assignment_names_the_op():
    x = striate.ones(3)
    with pytest.raises(IndexError, match=r"__setitem__: .* index 5 .* shape \(3,\)"):
        x[5] = 1.0
    with pytest.raises(ValueError, match="__setitem__: can't assign a value of shape"):
        x[0:2] = striate.ones(3)


def test_reductions_over_an_empty_dim_that_torch_allows():
    x = np.ones((0, 3))
    _both(lambda m, f, a: m.amax(a, 1), [x])
    _both(lambda m, f, a: a.sum(0), [x])
    got = striate.max(striate.ones(0, 3), 1)
    assert got.values.shape == (0,) and got.indices.shape == (0,)


@pytest.mark.parametrize("dim", [0, -1])
@pytest.mark.parametrize("name", ["sum", "mean", "amax", "amin", "std", "var"])
def test_reductions_of_a_0d_tensor_accept_dim_0(name, dim):
    kw = {"unbiased": False} if name in ("std", "var") else {}
    _both(lambda m, f, a: getattr(m, name)(a, dim, **kw), [np.array(2.5)])
    _both(lambda m, f, a: getattr(m, name)(a, dim, keepdim=True, **kw), [np.array(2.5)])


@pytest.mark.parametrize("name", ["max", "min", "argmax", "argmin"])
def test_arg_reductions_of_a_0d_tensor(name):
    for dim in (0, -1):
        got = getattr(striate, name)(striate.tensor(2.5), dim)
        want = getattr(torch, name)(torch.tensor(2.5), dim)
        if name in ("max", "min"):
            assert got.values.item() == want.values.item() and got.indices.item() == 0
        else:
            assert got.shape == tuple(want.shape) and got.item() == want.item()


def test_t_of_small_tensors_is_identity():
    assert striate.ones(3).t().shape == (3,)
    assert striate.tensor(1.0).t().shape == ()


# ---- empty tensors -----------------------------------------------------------------------------

@pytest.mark.parametrize("x_shape, w_shape", [((2, 0), (3, 0)), ((2, 3), (0, 3)),
                                              ((0, 3), (4, 3)), ((2, 5, 0), (3, 0))])
def test_linear_with_size_0_features(x_shape, w_shape):
    rng = np.random.default_rng(9)
    arrays = [rng.standard_normal(x_shape), rng.standard_normal(w_shape),
              rng.standard_normal(w_shape[0])]
    _both(lambda m, f, x, w, b: f.linear(x, w, b), arrays)
    _both(lambda m, f, x, w: f.linear(x, w), arrays[:2])


@pytest.mark.parametrize("sa, sb", [((0,), (0,)), ((2, 0), (0,)), ((0,), (0, 4)),
                                    ((2, 0), (0, 3)), ((2, 3), (3, 0)), ((2, 4, 3), (3,))])
def test_matmul_with_size_0_dims(sa, sb):
    rng = np.random.default_rng(10)
    _both(lambda m, f, a, b: a @ b, [rng.standard_normal(sa), rng.standard_normal(sb)])


@pytest.mark.parametrize("name", ["adaptive_avg_pool2d", "adaptive_max_pool2d"])
@pytest.mark.parametrize("shape", [(0, 3, 5, 5), (0, 1, 2, 3)])
def test_adaptive_pooling_of_empty_batches(name, shape):
    _both(lambda m, f, a: getattr(f, name)(a, 2), [np.ones(shape)])


# ---- sign, tensor() of non-numbers -------------------------------------------------------------

def test_sign_has_zero_gradient_and_a_method():
    x = np.array([-2.0, 0.0, 3.0, nan])
    _both(lambda m, f, a: m.sign(a) * a, [x])
    _both(lambda m, f, a: a.sign(), [x])
    assert striate.tensor([-3, 0, 2]).sign().tolist() == [-1, 0, 1]


@pytest.mark.parametrize("data", ["abc", ["a", "b"], [b"x"], [object()], [[1.0], "a"]])
def test_tensor_refuses_non_numbers(data):
    with pytest.raises((TypeError, ValueError), match="tensor: data must"):
        striate.tensor(data)
    with pytest.raises((TypeError, ValueError, RuntimeError)):
        torch.tensor(data)


@pytest.mark.parametrize("shape", [(0, 3), (3, 0)])
def test_einsum_with_size_0_dims(shape):
    x = np.ones(shape)
    _both(lambda m, f, a: m.einsum("ij,kj->ik", a, a * 2), [x])
    _both(lambda m, f, a: m.einsum("ij->j", a), [x])


def test_sign_of_a_0d_tensor_and_its_zero_gradient():
    x = striate.tensor(-1.5, requires_grad=True)
    y = striate.sign(x)
    y.backward()
    assert y.item() == -1.0 and x.grad.item() == 0.0
