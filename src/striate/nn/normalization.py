"""Normalisation layers: ``BatchNorm1d``, ``BatchNorm2d`` (Ioffe & Szegedy 2015) and
``LayerNorm`` (Ba et al. 2016), around ``F.batch_norm`` and ``F.layer_norm``.

BatchNorm in training mode normalises with the batch's mean and (biased) variance per channel and
updates the running estimates, ``running = (1 - momentum) * running + momentum * batch`` (with
the unbiased batch variance, as PyTorch); in eval mode it uses the running estimates.
"""

from __future__ import annotations

import numbers

import numpy as np

from .. import backend
from .. import distributed as dist
from .. import ops as F
from ..autograd import Function
from ..autograd.tensor import Tensor
from ..kernels.batchnorm import BatchStats
from ._weighted import check_device, place
from .module import Module
from .parameter import Parameter

__all__ = ["BatchNorm1d", "BatchNorm2d", "GroupNorm", "LayerNorm", "LocalResponseNorm",
           "SyncBatchNorm"]


class _BatchNorm(Module):
    _dims: tuple = ()
    _layout = ""

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True, device=None,
                 dtype=None, *, bias: bool = True):
        super().__init__()
        name = type(self).__name__
        check_device(device, name)
        if not isinstance(num_features, numbers.Integral) or num_features <= 0:
            raise ValueError(f"{name}: num_features must be a positive int, got {num_features!r}")
        if momentum is not None and not 0.0 <= momentum <= 1.0:
            raise ValueError(f"{name}: momentum must be in [0, 1] or None, got {momentum!r}")
        self.num_features = int(num_features)
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.use_bias = affine and bias
        self.track_running_stats = track_running_stats
        dt = backend.get_default_dtype() if dtype is None else np.dtype(dtype)
        if affine:
            self.weight = Parameter(np.ones(self.num_features, dtype=dt))
            if bias:
                self.bias = Parameter(np.zeros(self.num_features, dtype=dt))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", Tensor(np.zeros(self.num_features, dtype=dt)))
            self.register_buffer("running_var", Tensor(np.ones(self.num_features, dtype=dt)))
            self.register_buffer("num_batches_tracked", Tensor(np.zeros((), dtype=np.int64)))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        place(self, device)

    def reset_running_stats(self) -> None:
        """Running mean 0, running variance 1, no batches seen."""
        if self.track_running_stats:
            self.running_mean.array[...] = 0
            self.running_var.array[...] = 1
            self.num_batches_tracked.array[...] = 0

    def reset_parameters(self) -> None:
        """Reset the running statistics, and gamma to 1, beta to 0."""
        self.reset_running_stats()
        if self.weight is not None:
            self.weight.array[...] = 1
        if self.bias is not None:
            self.bias.array[...] = 0

    def _check_input(self, input: Tensor) -> None:
        name = type(self).__name__
        if input.ndim not in self._dims:
            want = " or ".join(f"{d}D" for d in self._dims)
            raise ValueError(
                f"{name}: expected {want} input {self._layout}, got {input.ndim}D input "
                f"of shape {tuple(input.shape)}"
            )
        if input.shape[1] != self.num_features:
            raise ValueError(
                f"{name}: input has {input.shape[1]} channels (dim 1) but the layer expects "
                f"{self.num_features} (input shape {tuple(input.shape)})"
            )

    def forward(self, input: Tensor) -> Tensor:
        self._check_input(input)
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked.add_(1)  # in place: bumps its version
            if self.momentum is None:  # a cumulative moving average over all batches seen
                factor = 1.0 / float(self.num_batches_tracked.item())
        # without running statistics the batch's own statistics are used in eval mode too
        use_batch_stats = self.training or self.running_mean is None
        keep = not self.training or self.track_running_stats
        return F.batch_norm(
            input,
            self.running_mean if keep else None,
            self.running_var if keep else None,
            self.weight,
            self.bias,
            use_batch_stats,
            factor,
            self.eps,
        )

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, bias={self.use_bias}, "
                f"track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of (N, C) features or (N, C, L) sequences, per channel C.

    Args:
        num_features: C.
        eps: added to the variance before the square root (default 1e-5).
        momentum: weight of the new batch in the running statistics (default 0.1); None for a
            cumulative average.
        affine: learn a per-channel scale ``weight`` (gamma) and shift ``bias`` (beta).
        bias: (keyword) with ``affine``, learn the shift too (default True), as PyTorch 2.13.
        track_running_stats: keep ``running_mean``, ``running_var`` and
            ``num_batches_tracked`` buffers for eval mode.
    """

    _dims = (2, 3)
    _layout = "(N, C) or (N, C, L)"


class BatchNorm2d(_BatchNorm):
    """Spatial batch normalisation of (N, C, H, W) maps: statistics per channel over N, H, W.

    Arguments as :class:`BatchNorm1d`.
    """

    _dims = (4,)
    _layout = "(N, C, H, W)"


class LayerNorm(Module):
    """Normalise over the last dims ``normalized_shape`` of each sample: mean 0 and variance 1
    per sample, then an elementwise affine map. Same computation in training and eval.

    Args:
        normalized_shape: an int or a tuple, the trailing shape to normalise over.
        eps: added to the variance (default 1e-5).
        elementwise_affine: learn ``weight`` (ones) and ``bias`` (zeros) of that shape.
        bias: learn the bias too (only with ``elementwise_affine``).
    """

    def __init__(self, normalized_shape, eps: float = 1e-5, elementwise_affine: bool = True,
                 bias: bool = True, device=None, dtype=None):
        super().__init__()
        check_device(device, "LayerNorm")
        if isinstance(normalized_shape, numbers.Integral):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(int(s) for s in normalized_shape)
        if not self.normalized_shape or any(s <= 0 for s in self.normalized_shape):
            raise ValueError(
                f"LayerNorm: normalized_shape must be positive sizes, got {normalized_shape!r}"
            )
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        self.use_bias = bias
        dt = backend.get_default_dtype() if dtype is None else np.dtype(dtype)
        if elementwise_affine:
            self.weight = Parameter(np.ones(self.normalized_shape, dtype=dt))
            if bias:
                self.bias = Parameter(np.zeros(self.normalized_shape, dtype=dt))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        place(self, device)

    def reset_parameters(self) -> None:
        if self.weight is not None:
            self.weight.array[...] = 1
        if self.bias is not None:
            self.bias.array[...] = 0

    def forward(self, input: Tensor) -> Tensor:
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}, bias={self.use_bias}")


class GroupNorm(Module):
    """Group normalization (Wu & He 2018): the channels split into ``num_groups`` groups, each
    sample's group normalised over its channels and positions, then a per-channel affine map.
    Independent of the batch size; same computation in training and eval.

    Args:
        num_groups: groups, dividing num_channels (1: layer norm over (C, H, W); C: instance norm).
        num_channels: C of the (N, C, *) input.
        eps: added to the variance (default 1e-5).
        affine: learn ``weight`` (ones, (C,)) and ``bias`` (zeros, (C,)).
    """

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5, affine: bool = True,
                 device=None, dtype=None, *, bias: bool = True):
        super().__init__()
        check_device(device, "GroupNorm")
        for name, v in (("num_groups", num_groups), ("num_channels", num_channels)):
            if not isinstance(v, numbers.Integral) or isinstance(v, bool) or v <= 0:
                raise ValueError(f"GroupNorm: {name} must be a positive int, got {v!r}")
        if num_channels % num_groups:
            raise ValueError(
                f"GroupNorm: num_channels {num_channels} must be divisible by num_groups "
                f"{num_groups}"
            )
        self.num_groups, self.num_channels = int(num_groups), int(num_channels)
        self.eps, self.affine = eps, affine
        dt = backend.get_default_dtype() if dtype is None else np.dtype(dtype)
        if affine:
            self.weight = Parameter(np.ones(self.num_channels, dtype=dt))
            if bias:
                self.bias = Parameter(np.zeros(self.num_channels, dtype=dt))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        place(self, device)

    def reset_parameters(self) -> None:
        if self.weight is not None:
            self.weight.array[...] = 1
        if self.bias is not None:
            self.bias.array[...] = 0

    def forward(self, input: Tensor) -> Tensor:
        if input.ndim < 2 or input.shape[1] != self.num_channels:
            raise ValueError(
                f"GroupNorm: expected input (N, {self.num_channels}, *), got shape "
                f"{tuple(input.shape)}"
            )
        return F.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}"


class LocalResponseNorm(Module):
    """AlexNet's local response normalization across channels, PyTorch's formula:
    ``b_c = a_c / (k + alpha / size * sum of a_c'^2 over size neighbouring channels) ** beta``.

    Input (N, C, *); output of the same shape. No parameters. AlexNet used size=5, alpha=1e-4,
    beta=0.75, k=2.
    """

    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0):
        super().__init__()
        if not isinstance(size, numbers.Integral) or isinstance(size, bool) or size <= 0:
            raise ValueError(f"LocalResponseNorm: size must be a positive int, got {size!r}")
        self.size, self.alpha, self.beta, self.k = int(size), alpha, beta, k

    def forward(self, input: Tensor) -> Tensor:
        return F.local_response_norm(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self) -> str:
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"

# ---- SyncBatchNorm -------------------------------------------------------------------------------
# ``nn.SyncBatchNorm``: batch normalization whose statistics span every process of a
# data-parallel job, so N processes with B/N samples each normalise exactly as one process with B.
#
# Forward all-reduces, per channel, the sum and the sum of squares of the local values and their
# count, and normalises with the global mean and (biased) variance; the running estimates are
# updated with the global ones, so every rank keeps the same buffers. Backward all-reduces the two
# per-channel sums the input gradient needs (of dy and of dy * xhat):
#
#     dx = gamma * inv_std * (dy - sum(dy) / M - xhat * sum(dy * xhat) / M)
#
# with the sums and M over all ranks. The gradients of gamma and beta stay local sums: the
# gradient averaging of ``DistributedDataParallel`` combines them like every other parameter's.
# Outside a process group of more than one rank it is ``BatchNorm`` exactly.


def _channel_axes(x: np.ndarray) -> tuple:
    return (0,) + tuple(range(2, x.ndim))


def _plane(v: np.ndarray, ndim: int) -> np.ndarray:
    return v.reshape((1, -1) + (1,) * (ndim - 2))


def _global_stats(x: np.ndarray) -> BatchStats:
    """Mean and biased variance per channel over every rank's values (float64 sums)."""
    axes = _channel_axes(x)
    c = x.shape[1]
    local_count = x.size // c
    buf = np.empty(2 * c + 1, np.float64)
    buf[:c] = x.sum(axis=axes, dtype=np.float64)
    buf[c:2 * c] = np.square(x, dtype=np.float64).sum(axis=axes)
    buf[-1] = local_count
    dist.all_reduce(buf)
    count = int(round(buf[-1]))
    mean = buf[:c] / count
    var = np.maximum(buf[c:2 * c] / count - mean * mean, 0.0)
    return BatchStats(mean.astype(x.dtype), var.astype(x.dtype), count, True)


class _SyncBatchNormFn(Function):
    @staticmethod
    def forward(ctx, x, gamma, beta, stats, eps):
        nd = x.ndim
        inv_std = (1.0 / np.sqrt(stats.var.astype(np.float64) + eps)).astype(x.dtype)
        xhat = (x - _plane(stats.mean, nd)) * _plane(inv_std, nd)
        y = xhat if gamma is None else xhat * _plane(gamma.astype(x.dtype, copy=False), nd)
        if beta is not None:
            y = y + _plane(beta.astype(x.dtype, copy=False), nd)
        ctx.save_for_backward(xhat, inv_std, gamma)
        ctx.count = stats.count
        return y

    @staticmethod
    def backward(ctx, g):
        xhat, inv_std, gamma = ctx.saved
        nd, c = g.ndim, g.shape[1]
        axes = _channel_axes(g)
        need_x, need_w, need_b = ctx.needs_input_grad
        sum_dy = g.sum(axis=axes, dtype=np.float64)
        sum_dy_xhat = (g * xhat).sum(axis=axes, dtype=np.float64)
        dgamma = sum_dy_xhat.astype(g.dtype) if need_w else None  # local: DDP averages them
        dbeta = sum_dy.astype(g.dtype) if need_b else None
        dx = None
        if need_x:
            both = np.concatenate([sum_dy, sum_dy_xhat])
            dist.all_reduce(both)
            m = ctx.count
            mean_dy = _plane((both[:c] / m).astype(g.dtype), nd)
            mean_dy_xhat = _plane((both[c:] / m).astype(g.dtype), nd)
            scale = inv_std if gamma is None else inv_std * gamma.astype(g.dtype, copy=False)
            dx = _plane(scale, nd) * (g - mean_dy - xhat * mean_dy_xhat)
        return dx, dgamma, dbeta


class SyncBatchNorm(_BatchNorm):
    """Batch normalization over (N, C, *) inputs with statistics across all processes.

    PyTorch's signature (``process_group`` is the default group: striate has one). In eval mode,
    or with one process, it computes what ``BatchNorm{1,2,3}d`` computes.
    """

    _dims = (2, 3, 4, 5)
    _layout = "(N, C, *)"

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True, process_group=None,
                 device=None, dtype=None, bias: bool = True):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype,
                         bias=bias)
        self.process_group = process_group

    def forward(self, input: Tensor) -> Tensor:
        if not (self.training and dist.is_initialized() and dist.get_world_size() > 1):
            return super().forward(input)
        self._check_input(input)
        x = input.array
        stats = _global_stats(x)
        if stats.count <= 1:
            raise ValueError(f"SyncBatchNorm: expected more than 1 value per channel over all "
                             f"ranks when training, got input shape {tuple(x.shape)}")
        if self.track_running_stats:
            self.num_batches_tracked.add_(1)
            factor = (1.0 / float(self.num_batches_tracked.item()) if self.momentum is None
                      else self.momentum)
            unbiased = stats.var * (stats.count / (stats.count - 1))
            for r, stat in ((self.running_mean, stats.mean), (self.running_var, unbiased)):
                r.mul_(1 - factor).add_((factor * stat).astype(r.dtype, copy=False))
        return _SyncBatchNormFn.apply(input, self.weight, self.bias, stats=stats,
                                      eps=float(self.eps))

    @classmethod
    def convert_sync_batchnorm(cls, module: Module, process_group=None) -> Module:
        """Replace every ``BatchNorm*d`` inside ``module`` (or ``module`` itself) by a
        ``SyncBatchNorm`` with the same parameters and running statistics; returns the result."""
        if isinstance(module, _BatchNorm) and not isinstance(module, SyncBatchNorm):
            new = cls(module.num_features, module.eps, module.momentum, module.affine,
                      module.track_running_stats, process_group, bias=module.use_bias)
            if module.weight is not None:
                new.weight = module.weight
            if module.bias is not None:
                new.bias = module.bias
            for name in ("running_mean", "running_var", "num_batches_tracked"):
                setattr(new, name, getattr(module, name))
            new.train(module.training)
            return new
        for name, child in list(module.named_children()):
            converted = cls.convert_sync_batchnorm(child, process_group)
            if converted is not child:
                setattr(module, name, converted)
        return module
