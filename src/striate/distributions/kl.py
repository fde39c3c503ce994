"""``kl_divergence(p, q)``: KL(p || q) in closed form, dispatched on the pair of types."""

from __future__ import annotations

import numpy as np

from .. import ops
from ..autograd.tensor import Tensor
from .bernoulli import Bernoulli
from .categorical import Categorical
from .distribution import Distribution, sum_rightmost
from .independent import Independent
from .normal import Normal

__all__ = ["kl_divergence", "register_kl"]

_KL: dict = {}


def register_kl(type_p: type, type_q: type):
    """Decorator registering ``fn(p, q)`` as KL(p || q) for that pair of types."""
    def wrap(fn):
        _KL[(type_p, type_q)] = fn
        return fn
    return wrap


def kl_divergence(p: Distribution, q: Distribution) -> Tensor:
    """``KL(p || q) = E_p[log p(x) - log q(x)]``, batched over ``batch_shape``.

    Raises:
        NotImplementedError: no closed form registered for ``(type(p), type(q))``.
    """
    for (tp, tq), fn in _KL.items():
        if isinstance(p, tp) and isinstance(q, tq):
            return fn(p, q)
    raise NotImplementedError(f"kl_divergence: no closed form for {type(p).__name__} || "
                              f"{type(q).__name__} (known: "
                              + ", ".join(f"{a.__name__}-{b.__name__}" for a, b in _KL) + ")")


def _fill(t: Tensor, mask: np.ndarray, value: float) -> Tensor:
    return ops.where(Tensor(mask), Tensor(np.asarray(value, dtype=t.dtype)), t) if mask.any() \
        else t


@register_kl(Normal, Normal)
def _kl_normal_normal(p: Normal, q: Normal) -> Tensor:
    # 1/2 (s_p^2/s_q^2 + (m_p - m_q)^2/s_q^2 - 1 - log(s_p^2/s_q^2))
    var_ratio = (p.scale / q.scale) ** 2
    t1 = ((p.loc - q.loc) / q.scale) ** 2
    return 0.5 * (var_ratio + t1 - 1 - var_ratio.log())


@register_kl(Bernoulli, Bernoulli)
def _kl_bernoulli_bernoulli(p: Bernoulli, q: Bernoulli) -> Tensor:
    # p log(p/q) + (1-p) log((1-p)/(1-q)), written with softplus of the logits; the terms of
    # p = 0 or p = 1 vanish, and q = 0 or q = 1 where p puts mass gives inf
    sp = ops.softplus
    inf = float("inf")
    t1 = p.probs * (sp(-q.logits, threshold=inf) - sp(-p.logits, threshold=inf))
    t1 = _fill(_fill(t1, np.broadcast_to(q.probs.array == 0, t1.shape), inf),
               np.broadcast_to(p.probs.array == 0, t1.shape), 0.0)
    t2 = (1 - p.probs) * (sp(q.logits, threshold=inf) - sp(p.logits, threshold=inf))
    t2 = _fill(_fill(t2, np.broadcast_to(q.probs.array == 1, t2.shape), inf),
               np.broadcast_to(p.probs.array == 1, t2.shape), 0.0)
    return t1 + t2


@register_kl(Categorical, Categorical)
def _kl_categorical_categorical(p: Categorical, q: Categorical) -> Tensor:
    # sum_k p_k (log p_k - log q_k); 0 where p_k = 0, inf where q_k = 0 < p_k
    t = p.probs * (p.logits - q.logits)
    t = _fill(t, np.broadcast_to(q.probs.array == 0, t.shape), float("inf"))
    t = _fill(t, np.broadcast_to(p.probs.array == 0, t.shape), 0.0)
    return t.sum(dim=-1)


@register_kl(Independent, Independent)
def _kl_independent_independent(p: Independent, q: Independent) -> Tensor:
    if p.reinterpreted_batch_ndims != q.reinterpreted_batch_ndims:
        raise NotImplementedError("kl_divergence: Independent distributions with different "
                                  "reinterpreted_batch_ndims")
    return sum_rightmost(kl_divergence(p.base_dist, q.base_dist), p.reinterpreted_batch_ndims)
