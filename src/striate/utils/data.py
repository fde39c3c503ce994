"""``torch.utils.data``'s names, from :mod:`striate.data`: the same objects, not copies.

>>> from striate.utils.data import DataLoader, TensorDataset
>>> import striate
>>> ds = TensorDataset(striate.randn(10, 3), striate.arange(10))
>>> [tuple(x.shape) for x, _ in DataLoader(ds, batch_size=4)]
[(4, 3), (4, 3), (2, 3)]
"""

from ..data import (
    DataLoader,
    Dataset,
    DistributedSampler,
    Subset,
    TensorDataset,
    default_collate,
    random_split,
)

__all__ = ["DataLoader", "Dataset", "DistributedSampler", "Subset", "TensorDataset",
           "default_collate", "random_split"]
