"""Fit a polynomial with one Linear layer, in the style of PyTorch's regression example: features
x, x^2, x^3, x^4, random batches, a hand-written SGD update on ``param.data``."""

import importlib
import os

torch = importlib.import_module(os.environ.get("TORCHLIKE_LIB", "striate"))  # import torch
nn, F = torch.nn, torch.nn.functional

POLY_DEGREE = 4
W_TARGET = torch.tensor([[0.5], [-1.2], [0.3], [0.8]])
B_TARGET = torch.tensor([0.7])


def make_features(x):
    """Builds features i.e. a matrix with columns [x, x^2, x^3, x^4]."""
    x = x.unsqueeze(1)
    return torch.cat([x ** i for i in range(1, POLY_DEGREE + 1)], 1)


def f(x):
    return x.mm(W_TARGET) + B_TARGET.item()


def get_batch(batch_size=32):
    random = torch.randn(batch_size)
    x = make_features(random)
    return x, f(x)


def main(max_steps=2000):
    torch.manual_seed(0)
    fc = nn.Linear(W_TARGET.size(0), 1)
    batch_idx = 0
    while batch_idx < max_steps:
        batch_idx += 1
        batch_x, batch_y = get_batch()
        fc.zero_grad()
        loss = F.smooth_l1_loss(fc(batch_x), batch_y)
        loss.backward()
        for param in fc.parameters():
            param.data.add_(-0.1 * param.grad)
        if loss.item() < 1e-3:
            break
    error = (fc.weight.view(-1) - W_TARGET.view(-1)).abs().max().item()
    print(f"Loss: {loss.item():.6f} after {batch_idx} batches, max weight error {error:.4f}")
    return {"loss": loss.item(), "weight_error": error, "steps": batch_idx}


if __name__ == "__main__":
    main()
