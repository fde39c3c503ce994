"""Where PyTorch users look for utilities: ``striate.utils.data`` (datasets and the DataLoader)
and ``striate.utils.tensorboard`` (``SummaryWriter``, with the optional ``tensorboard`` extra);
``draw_graph`` draws a computational graph (Graphviz DOT)."""

from . import data, tensorboard
from .draw import draw_graph

__all__ = ["data", "tensorboard", "draw_graph"]
