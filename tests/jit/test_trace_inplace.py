"""A traced forward that writes in place (``out += identity``, ``out[:, 0] *= 2``) records the
writes as ops, so the graph computes what the model computes on other inputs too."""

from __future__ import annotations

import numpy as np

import striate
import striate.nn as nn


class _Residual(nn.Module):
    """torchvision's ResNet idiom: the skip connection added in place."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 3, 3, padding=1)
        self.bn = nn.BatchNorm2d(3)

    def forward(self, x):
        out = self.bn(self.conv(x))
        out += x
        out[:, 0] *= 2.0  # through a view
        return out.relu()


def test_inplace_writes_are_in_the_traced_graph():
    m = _Residual().eval()
    traced = striate.jit.trace(m, striate.randn(2, 3, 5, 5))
    ops = [n.op for n in traced.graph.nodes]
    assert "add" in ops and "mul" in ops, ops
    x = striate.randn(4, 3, 5, 5)
    np.testing.assert_allclose(traced(x).array, m(x).array, rtol=1e-6, atol=1e-6)
    # the parameters are untouched by the trace: still leaves that require grad
    assert all(p.is_leaf and p.requires_grad for p in m.parameters())
