"""Every differentiable operation, with the names of ``torch`` / ``torch.nn.functional``.

Exposed as ``striate.functional`` (and ``striate.nn.functional``); the usual import is
``import striate.functional as F``.
"""

from .activation import *  # noqa: F403
from .activation import __all__ as _activation
from .attention import *  # noqa: F403
from .attention import __all__ as _attention
from .conv import *  # noqa: F403
from .conv import __all__ as _conv
from .dropout import *  # noqa: F403
from .dropout import __all__ as _dropout
from .einsum import *  # noqa: F403
from .einsum import __all__ as _einsum
from .elementwise import *  # noqa: F403
from .elementwise import __all__ as _elementwise
from .embedding import *  # noqa: F403
from .embedding import __all__ as _embedding
from .erf import *  # noqa: F403
from .erf import __all__ as _erf
from .gelu import *  # noqa: F403
from .gelu import __all__ as _gelu
from .indexing import *  # noqa: F403
from .indexing import __all__ as _indexing
from .linalg import *  # noqa: F403
from .linalg import __all__ as _linalg
from .local_response_norm import *  # noqa: F403
from .local_response_norm import __all__ as _local_response_norm
from .loss import *  # noqa: F403
from .loss import __all__ as _loss
from .modular import *  # noqa: F403
from .modular import __all__ as _modular
from .normalization import *  # noqa: F403
from .normalization import __all__ as _normalization
from .onedim import *  # noqa: F403
from .onedim import __all__ as _onedim
from .pixel_shuffle import *  # noqa: F403
from .pixel_shuffle import __all__ as _pixel_shuffle
from .pooling import *  # noqa: F403
from .pooling import __all__ as _pooling
from .pooling_extra import *  # noqa: F403
from .pooling_extra import __all__ as _pooling_extra
from .random import *  # noqa: F403
from .random import __all__ as _random
from .recurrent import *  # noqa: F403
from .recurrent import __all__ as _recurrent
from .reduction import *  # noqa: F403
from .reduction import __all__ as _reduction
from .regularization import *  # noqa: F403
from .regularization import __all__ as _regularization
from .shape import *  # noqa: F403
from .shape import __all__ as _shape
from .temporal import *  # noqa: F403
from .temporal import __all__ as _temporal
from .upsample import *  # noqa: F403
from .upsample import __all__ as _upsample

__all__ = (
    _activation + _conv + _dropout + _elementwise + _linalg + _loss + _normalization + _pooling
    + _reduction + _shape
    + _einsum + _indexing
    + _embedding + _recurrent + _temporal
    + _local_response_norm + _pooling_extra + _regularization + _upsample
    + _attention + _gelu + _onedim + _pixel_shuffle
    + _random
    + _modular + _erf
)

from .tensor_methods import setup_tensor as _setup_tensor  # noqa: E402

_setup_tensor()
