"""utils.draw_graph: DOT text for backward graphs (with values and gradients of small leaves)
and for traced forward graphs; files written, SVG only where dot exists."""

import shutil

import pytest

import striate
from striate import jit, nn
from striate.utils import draw_graph


def test_backward_graph_of_the_notes_circuit_with_values_and_gradients(tmp_path):
    # f = (x + y) z at x=-2, y=5, z=-4 (the notes' example): df/dx = df/dy = z = -4, df/dz = 3
    x = striate.tensor(-2.0, requires_grad=True)
    y = striate.tensor(5.0, requires_grad=True)
    z = striate.tensor(-4.0, requires_grad=True)
    f = (x + y) * z
    f.backward(retain_graph=True)
    dot = draw_graph(f, tmp_path / "circuit", params={"x": x, "y": y, "z": z})
    assert dot.startswith('digraph "backward graph"')
    assert "MulBackward" in dot and "AddBackward" in dot
    assert "x\\n()\\nvalue -2.\\ngrad -4." in dot
    assert "z\\n()\\nvalue -4.\\ngrad 3." in dot
    assert dot.count("->") == 5  # x, y -> add; add, z -> mul; mul -> output
    assert (tmp_path / "circuit.dot").read_text() == dot


def test_forward_graph_of_a_traced_model_shows_ops_attributes_and_shapes(tmp_path):
    m = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.ReLU(), nn.Flatten(),
                      nn.Linear(2 * 4 * 4, 3)).eval()
    t = jit.trace(m, striate.randn(1, 1, 4, 4))
    dot = draw_graph(t, tmp_path / "net.svg", format="svg")
    for text in ("conv2d", "stride=(1, 1)", "0.weight (2, 1, 3, 3)", "(1, 2, 4, 4)", "linear",
                 "output 0"):
        assert text in dot
    assert (tmp_path / "net.dot").exists()
    assert (tmp_path / "net.svg").exists() == (shutil.which("dot") is not None)
    assert draw_graph(t.graph) == draw_graph(t)


def test_bad_inputs_are_named():
    with pytest.raises(ValueError, match="no grad_fn"):
        draw_graph(striate.ones(2))
    with pytest.raises(TypeError, match="expected a Tensor, a traced module or a jit Graph"):
        draw_graph(3)
    with pytest.raises(ValueError, match="format must be"):
        draw_graph(striate.ones(2), format="pdf")
