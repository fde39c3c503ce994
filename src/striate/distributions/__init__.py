"""``striate.distributions``: probability distributions with ``torch.distributions``' names.

``Normal``, ``Bernoulli``, ``Categorical`` and ``Independent``, each with ``sample``,
``log_prob``, ``entropy``, ``mean``, ``variance``, ``stddev``, ``batch_shape``/``event_shape`` and
``expand``; ``Normal.rsample`` is the reparameterised (differentiable) draw of the VAE;
``kl_divergence`` has the closed forms; ``Normal.cdf`` / ``icdf``, ``enumerate_support`` of the
discrete ones, and ``constraints`` (``arg_constraints``, ``support``) as PyTorch's. Draws come
from striate's seeded generator (``striate.manual_seed``). Parameters and values are validated
by default, as in PyTorch.
"""

from . import constraints
from .bernoulli import Bernoulli
from .categorical import Categorical
from .distribution import Distribution
from .independent import Independent
from .kl import kl_divergence, register_kl
from .normal import Normal

__all__ = [
    "Bernoulli",
    "Categorical",
    "Distribution",
    "Independent",
    "Normal",
    "constraints",
    "kl_divergence",
    "register_kl",
]
