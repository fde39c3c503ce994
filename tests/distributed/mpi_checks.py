"""Checks that need several MPI processes; ``test_distributed.py`` runs this file under
``mpirun -n 2`` and reads its last line. Each check compares what the ranks compute together
with what one process computes on the whole batch, in float64."""

from __future__ import annotations

import sys

import numpy as np

import striate
import striate.distributed as dist
from striate import nn
from striate.nn.parallel import DistributedDataParallel

dist.init_process_group("mpi")
RANK, WORLD = dist.get_rank(), dist.get_world_size()
striate.set_default_dtype(np.float64)


def close(a, b, what, atol=1e-10, rtol=1e-8):
    a, b = np.asarray(getattr(a, "array", a)), np.asarray(getattr(b, "array", b))
    if a.shape != b.shape or not np.allclose(a, b, atol=atol, rtol=rtol):
        err = np.abs(a - b).max() if a.shape == b.shape else f"shapes {a.shape} {b.shape}"
        raise AssertionError(f"rank {RANK}: {what} differs (max error {err})")


def my_rows(m):
    return slice(RANK * m // WORLD, (RANK + 1) * m // WORLD)


def check_collectives():
    t = striate.tensor([1.0, 2.0, 3.0]) * (RANK + 1)
    v = t._version[0]
    dist.all_reduce(t)
    close(t, np.array([1.0, 2.0, 3.0]) * sum(range(1, WORLD + 1)), "all_reduce SUM")
    assert t._version[0] > v, "all_reduce must bump the tensor's version"
    t = striate.tensor([float(RANK)])
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    close(t, [WORLD - 1.0], "all_reduce MAX")
    t = striate.tensor([float(RANK + 1)])
    dist.all_reduce(t, op=dist.ReduceOp.AVG)
    close(t, [(WORLD + 1) / 2], "all_reduce AVG")
    b = striate.full((2, 2), float(RANK))
    dist.broadcast(b, src=WORLD - 1)
    close(b, np.full((2, 2), WORLD - 1.0), "broadcast")
    outs = [striate.zeros(3) for _ in range(WORLD)]
    dist.all_gather(outs, striate.full((3,), float(RANK)))
    for r, o in enumerate(outs):
        close(o, np.full(3, float(r)), f"all_gather[{r}]")
    objs = [f"from {RANK}"]
    dist.broadcast_object_list(objs, src=0)
    assert objs == ["from 0"], objs
    w = dist.all_reduce(striate.ones(4), async_op=True)
    w.wait()


def model_and_batch(seed=0, bn=True):
    striate.manual_seed(seed)
    layers = [nn.Conv2d(2, 4, 3, padding=1)]
    if bn:
        layers.append(nn.BatchNorm2d(4))
    layers += [nn.ReLU(), nn.Flatten(), nn.Linear(4 * 5 * 5, 3)]
    model = nn.Sequential(*layers)
    rng = np.random.default_rng(seed)
    x = striate.tensor(rng.standard_normal((7, 2, 5, 5)))  # 7 rows: an uneven split
    y = striate.tensor(rng.integers(0, 3, 7))
    return model, x, y


def check_ddp_equals_one_process(bucket_cap_mb):
    """SyncBatchNorm + DDP on each rank's rows, loss scaled by its share as the Trainer does,
    give the full batch's gradients and running statistics."""
    ref, x, y = model_and_batch()
    model, _, _ = model_and_batch(seed=1)  # other weights: DDP must broadcast rank 0's
    if RANK == 0:
        model.load_state_dict(ref.state_dict())
    ref.train()
    striate.functional.cross_entropy(ref(x), y).backward()
    model = nn.SyncBatchNorm.convert_sync_batchnorm(model)
    ddp = DistributedDataParallel(model, bucket_cap_mb=bucket_cap_mb)
    n_buckets = len(ddp._reducer.buckets)
    rows = my_rows(7)
    n = rows.stop - rows.start
    loss = striate.functional.cross_entropy(ddp(x[rows]), y[rows]) * (n * WORLD / 7)
    loss.backward()
    for (name, p), (_, q) in zip(ref.named_parameters(), model.named_parameters()):
        close(q.grad, p.grad, f"gradient of {name} (buckets: {n_buckets})")
    for (name, b), (_, c) in zip(ref.named_buffers(), model.named_buffers()):
        close(c, b, f"buffer {name}")
    return n_buckets


def check_unused_and_no_sync():
    striate.manual_seed(0)
    lin, extra = nn.Linear(3, 2), nn.Linear(3, 2)
    model = nn.ModuleDict({"lin": lin, "extra": extra})

    class Uses(nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, x):
            return self.inner["lin"](x)

    x = striate.ones(2, 3) * (RANK + 1)
    ddp = DistributedDataParallel(Uses(model))
    ddp(x).sum().backward()
    try:
        ddp(x)
    except RuntimeError as e:
        assert "find_unused_parameters" in str(e) and "extra" in str(e), e
    else:
        raise AssertionError("an unused parameter must make the next forward raise")
    lin.weight.grad = None
    lin.bias.grad = None
    ddp = DistributedDataParallel(Uses(model), find_unused_parameters=True)
    ddp(x).sum().backward()
    mean_x = (1 + WORLD) / 2
    # d sum(x W^T + b) / dW = the column sums of x: 2 (rank + 1), averaged over the ranks
    close(lin.weight.grad, np.full((2, 3), 2 * mean_x), "gradient with find_unused_parameters")
    # no_sync: local accumulation, then the next synced backward averages the sums
    lin.weight.grad = None
    lin.bias.grad = None
    with ddp.no_sync():
        ddp(x).sum().backward()
    close(lin.weight.grad, np.full((2, 3), 2 * (RANK + 1.0)), "gradient inside no_sync")
    ddp(x).sum().backward()
    close(lin.weight.grad, np.full((2, 3), 4 * mean_x), "gradient after no_sync")


check_collectives()
one = check_ddp_equals_one_process(bucket_cap_mb=25)
many = check_ddp_equals_one_process(bucket_cap_mb=1e-4)  # one parameter per bucket
assert one == 1 and many > 3, (one, many)
check_unused_and_no_sync()
dist.barrier()
print(f"rank {RANK}: mpi checks passed, bytes sent {dist.bytes_sent()}", flush=True)
dist.destroy_process_group()
sys.exit(0)
