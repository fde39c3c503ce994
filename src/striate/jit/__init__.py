"""Static graphs (``torch.jit``'s place): trace a model into a graph, optimise it, run it.

``trace(model, example_inputs)`` records one forward (:mod:`.trace`); the graph (:mod:`.graph`)
is data that the passes (:mod:`.passes`) rewrite, ``striate.utils.draw_graph`` draws and
``striate.onnx.export`` writes out. ``optimize_for_inference`` folds batch norms, fuses
activations and plans buffers, as ``torch.jit.optimize_for_inference`` does.
"""

from .graph import Graph, Node, run_graph
from .module import GraphModule, TracedModule
from .passes import (
    constant_folding,
    eliminate_dead_code,
    fold_batch_norm,
    fuse_activations,
    optimize_for_inference,
    plan_buffers,
)
from .trace import TracerWarning, TracingCheckError, trace

__all__ = ["trace", "TracerWarning", "TracingCheckError", "TracedModule", "GraphModule", "Graph",
           "Node", "run_graph", "eliminate_dead_code", "constant_folding", "fold_batch_norm",
           "fuse_activations", "plan_buffers", "optimize_for_inference"]
