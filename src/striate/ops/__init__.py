"""Every differentiable operation, with the names of ``torch`` / ``torch.nn.functional``.

Exposed as ``striate.functional`` (and ``striate.nn.functional``); the usual import is
``import striate.functional as F``.
"""

from .activation import *  # noqa: F403
from .activation import __all__ as _activation
from .conv import *  # noqa: F403
from .conv import __all__ as _conv
from .dropout import *  # noqa: F403
from .dropout import __all__ as _dropout
from .elementwise import *  # noqa: F403
from .elementwise import __all__ as _elementwise
from .linalg import *  # noqa: F403
from .linalg import __all__ as _linalg
from .loss import *  # noqa: F403
from .loss import __all__ as _loss
from .normalization import *  # noqa: F403
from .normalization import __all__ as _normalization
from .pooling import *  # noqa: F403
from .pooling import __all__ as _pooling
from .reduction import *  # noqa: F403
from .reduction import __all__ as _reduction
from .shape import *  # noqa: F403
from .shape import __all__ as _shape

__all__ = (
    _activation + _conv + _dropout + _elementwise + _linalg + _loss + _normalization + _pooling
    + _reduction + _shape
)
