"""``striate.nn.utils``: gradient clipping, flattening parameters into one vector, and pruning
(``striate.nn.utils.prune``, PyTorch's masks and names).

``clip_grad_norm_`` and ``clip_grad_value_`` live here, under PyTorch's ``torch.nn.utils`` names;
``striate.optim`` re-exports them.
"""

from . import prune
from .clip_grad import clip_grad_norm_, clip_grad_value_
from .convert_parameters import parameters_to_vector, vector_to_parameters

__all__ = ["prune", "clip_grad_norm_", "clip_grad_value_", "parameters_to_vector",
           "vector_to_parameters"]
