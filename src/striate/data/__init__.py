"""Data: datasets, the prefetching ``DataLoader``, transforms, and the bundled digits.

>>> from striate.data import DataLoader, digits
>>> d = digits()
>>> loader = DataLoader(d.train.dataset(), batch_size=64, shuffle=True)
>>> x, y = next(iter(loader))
>>> tuple(x.shape), str(y.dtype)
((64, 1, 8, 8), 'int64')
"""

from . import transforms
from .dataset import Dataset, Subset, TensorDataset, random_split
from .datasets import (
    DATASETS,
    DatasetSplits,
    Split,
    digits,
    load_dataset,
    register_dataset,
    stratified_split,
)
from .loader import DataLoader, default_collate
from .transforms import Compose, Normalize, ToTensor

__all__ = [
    "DATASETS",
    "Compose",
    "DataLoader",
    "Dataset",
    "DatasetSplits",
    "Normalize",
    "Split",
    "Subset",
    "TensorDataset",
    "ToTensor",
    "default_collate",
    "digits",
    "load_dataset",
    "random_split",
    "register_dataset",
    "stratified_split",
    "transforms",
]
