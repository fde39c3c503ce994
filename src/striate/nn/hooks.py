"""``RemovableHandle``: what the ``register_*_hook`` methods return (defined in
``striate.autograd.hooks``, where the graph nodes' hooks use it too)."""

from ..autograd.hooks import RemovableHandle

__all__ = ["RemovableHandle"]
