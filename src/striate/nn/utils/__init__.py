"""``striate.nn.utils``: gradient clipping and flattening parameters into one vector.

``clip_grad_norm_`` and ``clip_grad_value_`` live here, under PyTorch's ``torch.nn.utils`` names;
``striate.optim`` re-exports them.
"""

from .clip_grad import clip_grad_norm_, clip_grad_value_
from .convert_parameters import parameters_to_vector, vector_to_parameters

__all__ = ["clip_grad_norm_", "clip_grad_value_", "parameters_to_vector", "vector_to_parameters"]
