"""Every differentiable operation, with the names of ``torch`` / ``torch.nn.functional``.

Exposed as ``striate.functional`` (and ``striate.nn.functional``); the usual import is
``import striate.functional as F``.
"""

from .activation import *  # noqa: F403
from .activation import __all__ as _activation
from .elementwise import *  # noqa: F403
from .elementwise import __all__ as _elementwise
from .linalg import *  # noqa: F403
from .linalg import __all__ as _linalg
from .reduction import *  # noqa: F403
from .reduction import __all__ as _reduction
from .shape import *  # noqa: F403
from .shape import __all__ as _shape

__all__ = _activation + _elementwise + _linalg + _reduction + _shape
