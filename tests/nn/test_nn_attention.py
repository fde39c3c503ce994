"""MultiheadAttention and scaled_dot_product_attention against PyTorch (copied weights: outputs,
attention weights, input and parameter gradients) and a float64 gradient check of the fused
attention node."""

import numpy as np
import pytest
import striate.functional as F
from opcheck import check_nn, check_op

import striate
from striate import nn

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.filterwarnings("ignore:Support for mismatched key_padding_mask")
from torchpair import compare, copy_weights  # noqa: E402


def _sdpa_inputs(rng, L=4, S=5, E=3, lead=(2, 2)):
    return [rng.standard_normal(lead + (L, E)), rng.standard_normal(lead + (S, E)),
            rng.standard_normal(lead + (S, E + 1))]


def test_sdpa_gradcheck_and_torch_plain_causal_scale():
    rng = np.random.default_rng(0)
    check_nn(lambda F, q, k, v: F.scaled_dot_product_attention(q, k, v), _sdpa_inputs(rng))
    check_nn(lambda F, q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True),
             _sdpa_inputs(rng, L=5, S=5))
    check_nn(lambda F, q, k, v: F.scaled_dot_product_attention(q, k, v, scale=0.3),
             _sdpa_inputs(rng, lead=(3,)))


def test_sdpa_masks_bool_and_float_with_mask_gradient():
    rng = np.random.default_rng(1)
    q, k, v = _sdpa_inputs(rng)
    keep = rng.random((4, 5)) < 0.7
    keep[:, 0] = True
    check_nn(lambda F, q, k, v, m: F.scaled_dot_product_attention(q, k, v, attn_mask=m),
             [q, k, v, keep])
    fmask = rng.standard_normal((2, 1, 4, 5))  # broadcast over heads; its gradient is summed
    check_nn(lambda F, q, k, v, m: F.scaled_dot_product_attention(q, k, v, attn_mask=m),
             [q, k, v, fmask])


def test_sdpa_fully_masked_row_gives_zeros_as_torch():
    rng = np.random.default_rng(2)
    q, k, v = _sdpa_inputs(rng)
    keep = np.ones((4, 5), dtype=bool)
    keep[1] = False
    out = F.scaled_dot_product_attention(*(striate.tensor(a) for a in (q, k, v)),
                                         attn_mask=striate.tensor(keep)).array
    ref = torch.nn.functional.scaled_dot_product_attention(
        *(torch.tensor(a) for a in (q, k, v)), attn_mask=torch.tensor(keep)).numpy()
    np.testing.assert_allclose(out, ref, atol=1e-12)
    assert not out[..., 1, :].any()


def test_sdpa_dropout_statistics_and_gradcheck():
    rng = np.random.default_rng(3)
    q, k, v = (striate.tensor(a) for a in _sdpa_inputs(rng, L=64, S=64, lead=(4,)))
    striate.manual_seed(0)
    dropped = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5).array
    plain = F.scaled_dot_product_attention(q, k, v).array
    assert not np.allclose(dropped, plain)
    # dropout is unbiased: averaged over many draws the output approaches the plain one
    striate.manual_seed(1)
    mean = np.mean([F.scaled_dot_product_attention(q, k, v, dropout_p=0.5).array
                    for _ in range(200)], axis=0)
    np.testing.assert_allclose(mean, plain, atol=0.15)

    def fixed_mask_sdpa(q, k, v):
        striate.manual_seed(5)  # the same dropout mask at every evaluation
        return F.scaled_dot_product_attention(q, k, v, dropout_p=0.3)

    check_op(fixed_mask_sdpa, _sdpa_inputs(rng))


def test_sdpa_bad_arguments_name_the_function():
    q = striate.randn(2, 3, 4)
    with pytest.raises(ValueError, match="scaled_dot_product_attention: expected query"):
        F.scaled_dot_product_attention(q, striate.randn(2, 3, 5), striate.randn(2, 3, 5))
    with pytest.raises(ValueError, match="not both"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=striate.ones(3, 3), is_causal=True)


def _pair(**kw):
    t = torch.nn.MultiheadAttention(8, 2, **kw).double()
    kw.pop("dtype", None)
    s = nn.MultiheadAttention(8, 2, dtype=np.float64, **kw)
    copy_weights(s, t)
    return s, t


@pytest.mark.parametrize("kw", [{}, {"bias": False}, {"kdim": 3, "vdim": 5},
                                {"add_bias_kv": True}, {"add_zero_attn": True},
                                {"batch_first": True}])
@pytest.mark.parametrize("need_weights", [True, False])
def test_mha_matches_torch_with_masks(kw, need_weights):
    rng = np.random.default_rng(4)
    s, t = _pair(**kw)
    L, S, N = 4, 6, 3
    shape = (lambda a, b: (b, a)) if kw.get("batch_first") else (lambda a, b: (a, b))
    q = rng.standard_normal(shape(L, N) + (8,))
    k = rng.standard_normal(shape(S, N) + (kw.get("kdim", 8),))
    v = rng.standard_normal(shape(S, N) + (kw.get("vdim", 8),))
    kpm = rng.random((N, S)) < 0.3
    kpm[:, 0] = False
    for attn_mask in (rng.random((L, S)) < 0.3,                  # bool 2-D
                      rng.standard_normal((L, S)),               # float 2-D
                      rng.random((N * 2, L, S)) < 0.3):          # bool 3-D, per head
        s.zero_grad()
        t.zero_grad()
        compare(s, t, [q, k, v], attn_mask=attn_mask, key_padding_mask=kpm,
                need_weights=need_weights)
    compare(s, t, [q, k, v], key_padding_mask=rng.standard_normal((N, S)),
            need_weights=need_weights, average_attn_weights=False, grad=False)


def test_mha_causal_unbatched_and_weights_paths_agree():
    rng = np.random.default_rng(5)
    s, t = _pair()
    x = rng.standard_normal((5, 8))  # unbatched (L, E)
    causal = torch.nn.Transformer.generate_square_subsequent_mask(5, dtype=torch.float64).numpy()
    out = compare(s, t, [x, x, x], attn_mask=causal, is_causal=True, need_weights=False)
    assert out[0].shape == (5, 8) and out[1] is None
    out = compare(s, t, [x, x, x], attn_mask=causal, average_attn_weights=False)
    assert out[1].shape == (2, 5, 5)
    xs = striate.tensor(rng.standard_normal((5, 2, 8)))
    a = s(xs, xs, xs, need_weights=True)[0].array
    b = s(xs, xs, xs, need_weights=False)[0].array
    np.testing.assert_allclose(a, b, atol=1e-12)
    with pytest.raises(ValueError, match="is_causal=True needs attn_mask"):
        s(xs, xs, xs, is_causal=True)


def test_mha_dropout_only_in_training_and_init():
    striate.manual_seed(0)
    m = nn.MultiheadAttention(16, 4, dropout=0.5)
    x = striate.randn(3, 2, 16)
    m.eval()
    np.testing.assert_array_equal(m(x, x, x)[0].array, m(x, x, x)[0].array)
    m.train()
    assert not np.allclose(m(x, x, x)[0].array, m(x, x, x)[0].array)
    bound = np.sqrt(6 / (16 + 48))  # xavier_uniform on the (3E, E) in_proj_weight
    w = m.in_proj_weight.array
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound
    assert not m.in_proj_bias.array.any() and not m.out_proj.bias.array.any()
    with pytest.raises(ValueError, match="divisible by num_heads"):
        nn.MultiheadAttention(10, 3)


def test_multi_head_attention_forward_gradcheck():
    rng = np.random.default_rng(6)
    L, S, N, E = 3, 4, 2, 4
    mask = np.zeros((L, S))
    mask[0, 3] = -np.inf

    def fn(F, q, k, v, w, b, wo, bo):
        return F.multi_head_attention_forward(
            q, k, v, E, 2, w, b, None, None, False, 0.0, wo, bo, training=False,
            attn_mask=_mask_like(F, q), need_weights=False)[0]

    def _mask_like(F, q):
        if F is striate.functional:
            return striate.tensor(mask.astype(q.dtype))
        return torch.tensor(mask, dtype=q.dtype)

    check_nn(fn, [rng.standard_normal((L, N, E)), rng.standard_normal((S, N, E)),
                  rng.standard_normal((S, N, E)), rng.standard_normal((3 * E, E)),
                  rng.standard_normal(3 * E), rng.standard_normal((E, E)),
                  rng.standard_normal(E)])
