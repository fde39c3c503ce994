"""``torch.nn.modules.module``'s names, for programs that import them from there."""

from ..global_hooks import (  # noqa: F401
    register_module_backward_hook,
    register_module_forward_hook,
    register_module_forward_pre_hook,
    register_module_full_backward_hook,
    register_module_full_backward_pre_hook,
)
from ..module import Module  # noqa: F401
