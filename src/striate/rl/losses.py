"""The policy-gradient losses, written with striate's ops so autograd gives their gradients.

``ppo_clip_loss`` is PPO's clipped surrogate; ``policy_gradient_loss`` is REINFORCE's and A2C's
``-E[log pi(a|s) A]``. The Huber loss of DQN is ``striate.nn.functional.huber_loss``.
"""

from __future__ import annotations

from .. import ops
from ..autograd.tensor import Tensor

__all__ = ["policy_gradient_loss", "ppo_clip_loss"]


def policy_gradient_loss(log_prob: Tensor, advantages: Tensor) -> Tensor:
    """``-mean(log pi(a|s) A)``: its gradient is the (negated) policy-gradient estimate
    ``E[grad log pi(a|s) A]``; the advantages are constants (no gradient reaches them)."""
    return -(log_prob * advantages.detach()).mean()


def ppo_clip_loss(log_prob: Tensor, old_log_prob: Tensor, advantages: Tensor,
                  clip: float) -> Tensor:
    """PPO's clipped surrogate, negated for minimising:
    ``-mean(min(rho A, clip(rho, 1 - eps, 1 + eps) A))`` with ``rho = pi / pi_old``.

    Where the ratio has left ``[1 - eps, 1 + eps]`` in the direction the advantage favours, the
    clipped term is the minimum and is constant: that sample's gradient is zero, so one batch
    cannot push the policy far from the one that collected it.

    Raises:
        ValueError: ``clip`` not > 0.
    """
    if not clip > 0:
        raise ValueError(f"ppo_clip_loss: clip must be > 0, got {clip}")
    ratio = ops.exp(log_prob - old_log_prob.detach())
    A = advantages.detach()
    return -ops.minimum(ratio * A, ops.clamp(ratio, 1 - clip, 1 + clip) * A).mean()
