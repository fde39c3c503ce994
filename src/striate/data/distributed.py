"""``DistributedSampler``: each process of a data-parallel job reads its own shard of the data
set, reshuffled every epoch (PyTorch's ``torch.utils.data.distributed.DistributedSampler``).

Every rank draws the same permutation (from ``seed + epoch``, not from the global generator, so
the shards never depend on what else a rank has drawn), pads it by repeating its first indices
until it divides evenly (or drops the tail with ``drop_last``), and takes every
``num_replicas``-th index starting at its rank. The shards are disjoint (apart from the padding)
and together cover the data set; call :meth:`set_epoch` at the start of each epoch, or every
epoch sees the same order.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from .. import distributed as dist

__all__ = ["DistributedSampler"]


class DistributedSampler:
    """Indices of this rank's shard of ``dataset``; pass it to ``DataLoader(sampler=...)``.

    Args:
        dataset: anything with ``__len__``.
        num_replicas, rank: the world size and this process's rank (default: the process
            group's).
        shuffle: permute the indices each epoch.
        seed: the shuffling seed, the same on every rank.
        drop_last: drop the tail that does not divide evenly instead of padding it.
    """

    def __init__(self, dataset, num_replicas: int | None = None, rank: int | None = None,
                 shuffle: bool = True, seed: int = 0, drop_last: bool = False):
        if num_replicas is None or rank is None:
            if not dist.is_initialized():
                raise RuntimeError("DistributedSampler: pass num_replicas and rank, or call "
                                   "striate.distributed.init_process_group first")
            num_replicas = dist.get_world_size() if num_replicas is None else num_replicas
            rank = dist.get_rank() if rank is None else rank
        if not isinstance(num_replicas, numbers.Integral) or num_replicas < 1:
            raise ValueError(f"DistributedSampler: num_replicas must be a positive int, got "
                             f"{num_replicas!r}")
        if not isinstance(rank, numbers.Integral) or not 0 <= rank < num_replicas:
            raise ValueError(f"DistributedSampler: rank must be in [0, {num_replicas - 1}], got "
                             f"{rank!r}")
        self.dataset = dataset
        self.num_replicas, self.rank = int(num_replicas), int(rank)
        self.shuffle, self.seed, self.drop_last = bool(shuffle), int(seed), bool(drop_last)
        self.epoch = 0
        n = len(dataset)
        if self.drop_last and n % self.num_replicas:
            self.num_samples = n // self.num_replicas
        else:
            self.num_samples = math.ceil(n / self.num_replicas)
        self.total_size = self.num_samples * self.num_replicas

    def set_epoch(self, epoch: int) -> None:
        """Use the order of ``epoch`` (the same on every rank) from the next iteration on."""
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return self.num_samples

    def __iter__(self):
        n = len(self.dataset)
        if self.shuffle:
            order = np.random.default_rng(self.seed + self.epoch).permutation(n)
        else:
            order = np.arange(n)
        if self.total_size > n:  # pad with the first indices, as many times as needed
            order = np.resize(order, self.total_size)
        order = order[:self.total_size]
        return iter(order[self.rank:self.total_size:self.num_replicas].tolist())
