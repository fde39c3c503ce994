"""Data: datasets, the prefetching ``DataLoader``, transforms, and the bundled digits.

>>> from striate.data import DataLoader, digits
>>> d = digits()
>>> loader = DataLoader(d.train.dataset(), batch_size=64, shuffle=True)
>>> x, y = next(iter(loader))
>>> tuple(x.shape), str(y.dtype)
((64, 1, 8, 8), 'int64')
"""

from . import augment, transforms
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
from .distributed import DistributedSampler
from .formats import (
    DatasetFormatError,
    load_cifar10,
    load_cifar100,
    load_fashion_mnist,
    load_image_folder,
    load_mnist,
    read_cifar_batch,
    read_idx,
)
from .loader import DataLoader, default_collate
from .sampling import subsample, subsample_splits
from .transforms import Compose, Normalize, ToTensor

__all__ = [
    "augment",
    "DATASETS",
    "Compose",
    "DataLoader",
    "DistributedSampler",
    "Dataset",
    "DatasetFormatError",
    "DatasetSplits",
    "Normalize",
    "Split",
    "Subset",
    "TensorDataset",
    "ToTensor",
    "default_collate",
    "digits",
    "load_cifar10",
    "load_cifar100",
    "load_dataset",
    "load_fashion_mnist",
    "load_image_folder",
    "load_mnist",
    "random_split",
    "read_cifar_batch",
    "read_idx",
    "register_dataset",
    "stratified_split",
    "subsample",
    "subsample_splits",
    "transforms",
]
