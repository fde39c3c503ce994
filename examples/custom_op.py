"""A custom differentiable op, end to end: softplus(x) = log(1 + exp(x)).

The same steps as adding an op to striate itself (docs/adding-an-op.md): a ``Function`` with a
forward and a backward on raw arrays, a public function that checks its arguments once, a module,
a float64 gradient check, and a comparison with PyTorch where it is installed.

Run: python examples/custom_op.py
"""

import numpy as np

import striate
from striate import nn
from striate.autograd import Function, gradcheck


class Softplus(Function):
    """y = log(1 + exp(beta x)) / beta, linear above ``threshold`` (as PyTorch)."""

    @staticmethod
    def forward(ctx, x, beta, threshold):
        z = beta * x
        # logaddexp(0, z) = log(1 + e^z) without overflow for large z
        y = np.where(z > threshold, x, np.logaddexp(0.0, z) / beta)
        ctx.save_for_backward(x)
        ctx.beta, ctx.threshold = beta, threshold
        return y.astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, dy):
        # d softplus / dx = sigmoid(beta x); 1 where the op is linear
        (x,) = ctx.saved
        z = ctx.beta * x
        s = np.where(z > ctx.threshold, 1.0, 0.5 * (1.0 + np.tanh(0.5 * z)))
        return dy * s.astype(dy.dtype, copy=False)


def softplus(input: striate.Tensor, beta: float = 1.0, threshold: float = 20.0) -> striate.Tensor:
    """Softplus of ``input`` (any shape), elementwise. Arguments are checked here, once."""
    if not isinstance(input, striate.Tensor):
        raise TypeError(f"softplus: input must be a Tensor, got {type(input).__name__}")
    if input.dtype.kind != "f":
        raise TypeError(f"softplus: input must be a floating-point tensor, got {input.dtype}")
    if not beta > 0:
        raise ValueError(f"softplus: beta must be positive, got {beta}")
    return Softplus.apply(input, beta=float(beta), threshold=float(threshold))


class SoftplusModule(nn.Module):
    """``nn.Softplus``: holds the op's settings; no parameters."""

    def __init__(self, beta: float = 1.0, threshold: float = 20.0):
        super().__init__()
        self.beta, self.threshold = beta, threshold

    def forward(self, x):
        return softplus(x, self.beta, self.threshold)


def main() -> None:
    rng = np.random.default_rng(0)
    a = rng.standard_normal((4, 6)) * 5
    x = striate.tensor(a, requires_grad=True)               # float64 for the gradient check
    print("gradcheck", gradcheck(lambda t: softplus(t, beta=2.0, threshold=5.0), [x]))

    net = nn.Sequential(nn.Linear(6, 3), SoftplusModule())
    print("module output shape", tuple(net(striate.randn(2, 6)).shape))

    try:
        import torch
    except ImportError:
        print("PyTorch not installed: skipped the comparison")
        return
    t = torch.tensor(a, requires_grad=True)
    torch.nn.functional.softplus(t, beta=2.0, threshold=5.0).sum().backward()
    y = softplus(x, beta=2.0, threshold=5.0)
    x.grad = None
    y.sum().backward()
    same = (np.allclose(y.array, torch.nn.functional.softplus(t, 2.0, 5.0).detach().numpy())
            and np.allclose(x.grad.array, t.grad.numpy()))
    print("equal to PyTorch", same)


if __name__ == "__main__":
    main()
