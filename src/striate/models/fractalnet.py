"""FractalNet (Larsson, Maire & Shakhnarovich 2016): ultra-deep networks without residuals.

The expansion rule builds a block of ``C`` columns from one convolutional unit (conv 3x3 - BN -
ReLU): ``f_1(z) = conv(z)`` and ``f_{C+1}(z) = join(f_C(f_C(z)), conv(z))``, where a join is the
element-wise mean of its inputs. Column ``c`` (0 = the shallowest) holds ``2**c`` units, so a
block is ``2**(C-1)`` units deep along its deepest path and has ``2**C - 1`` units in all. ``B``
blocks, each followed by a 2x2 max-pool, and a linear classifier make the network; the paper's
CIFAR model has B = 5, C = 3 (20 layers) and widths (64, 128, 256, 512, 512).

Drop-path regularises the columns against co-adapting. Local: each join drops each of its inputs
with probability ``drop_local`` (0.15 in the paper), keeping at least one. Global: one column is
chosen for the whole network and every join keeps only that column's input. Training mixes the
two per mini-batch (``global_fraction`` of the batches, one half in the paper); evaluation joins
every column. ``column=c`` evaluates the plain column ``c`` alone (the paper's "deepest column"
result is ``column=C - 1``).

A join here takes every column that ends at it (a join of joins is one join of all their inputs,
as in the paper's figure), so the last join of a block averages ``C`` inputs.
"""

from __future__ import annotations

from .. import backend, nn
from ..nn import init
from ._common import check_input_shape

__all__ = ["FractalNet", "fractalnet"]


class _Unit(nn.Module):
    """conv 3x3 - BN - ReLU (- dropout): the paper's convolutional unit."""

    def __init__(self, cin: int, cout: int, dropout: float):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU()
        self.dropout = nn.Dropout(dropout) if dropout > 0 else None

    def forward(self, x):
        y = self.relu(self.bn(self.conv(x)))
        return self.dropout(y) if self.dropout is not None else y


def _join(inputs, drop_local: float, training: bool):
    """The element-wise mean of the inputs kept; in training each is dropped with probability
    ``drop_local``, at least one always kept."""
    if training and drop_local > 0 and len(inputs) > 1:
        rng = backend.get_rng()
        keep = rng.random(len(inputs)) >= drop_local
        if not keep.any():
            keep[rng.integers(len(inputs))] = True
        inputs = [x for x, k in zip(inputs, keep) if k]
    out = inputs[0]
    for x in inputs[1:]:
        out = out + x
    return out if len(inputs) == 1 else out * (1.0 / len(inputs))


class _Fractal(nn.Module):
    """``f_C``: returns the outputs of the columns ending at its final join, deepest first, as
    ``(column, tensor)`` pairs; its own unit is column ``column``, its sub-fractals' the next."""

    def __init__(self, cin: int, cout: int, columns: int, column: int, drop_local: float,
                 dropout: float):
        super().__init__()
        self.column, self.drop_local = column, drop_local
        self.unit = _Unit(cin, cout, dropout)
        if columns > 1:
            self.first = _Fractal(cin, cout, columns - 1, column + 1, drop_local, dropout)
            self.second = _Fractal(cout, cout, columns - 1, column + 1, drop_local, dropout)
        else:
            self.first = self.second = None

    def forward(self, x, only: int | None = None):
        # `only`: the one column every join keeps (global drop-path or `column=`)
        deep = []
        if self.first is not None and (only is None or only > self.column):
            inner = self.first(x, only)
            h = _join([t for _, t in inner], self.drop_local, self.training)
            deep = self.second(h, only)
        own = [(self.column, self.unit(x))] if only is None or only == self.column else []
        return deep + own


class FractalNet(nn.Module):
    """FractalNet: (N, C, H, W) -> (N, num_classes).

    Args:
        num_classes, input_shape: outputs, and the (C, H, W) of one image.
        columns: C, the columns of each block (3: 20 layers with 5 blocks; 4: 40 layers).
        channels: the width of each block; their number is the number of blocks B.
        drop_local: local drop-path probability of each join input (training only).
        global_fraction: the share of training batches that use global drop-path.
        dropout: a dropout rate per block after every unit (the paper's (0, .1, .2, .3, .4)
            variant), or one rate for all; 0 (default) for drop-path only.
        column: None joins every column (default); an int keeps only that column, in training
            and evaluation (the paper's single-column subnetworks).

    The 2x2 max-pool after a block is skipped once a map is down to one pixel, so the same net
    fits 8x8 digits (blocks 4 and 5 then run at 1x1) and 32x32 CIFAR images.
    """

    def __init__(self, num_classes: int = 10, input_shape=(3, 32, 32), columns: int = 3,
                 channels=(64, 128, 256, 512, 512), drop_local: float = 0.15,
                 global_fraction: float = 0.5, dropout=0.0, column: int | None = None):
        super().__init__()
        c, h, w = check_input_shape(input_shape, "FractalNet")
        if not isinstance(columns, int) or columns < 1:
            raise ValueError(f"FractalNet: columns must be an int >= 1, got {columns!r}")
        if not 0 <= drop_local < 1 or not 0 <= global_fraction <= 1:
            raise ValueError(f"FractalNet: drop_local must be in [0, 1) and global_fraction in "
                             f"[0, 1], got {drop_local!r} and {global_fraction!r}")
        if column is not None and not 0 <= column < columns:
            raise ValueError(f"FractalNet: column must be None or in 0..{columns - 1}, "
                             f"got {column!r}")
        channels = tuple(int(k) for k in channels)
        rates = (tuple(dropout) if isinstance(dropout, (tuple, list))
                 else (float(dropout),) * len(channels))
        if len(rates) != len(channels):
            raise ValueError(f"FractalNet: dropout needs one rate per block ({len(channels)}), "
                             f"got {dropout!r}")
        self.columns, self.global_fraction, self.column = columns, global_fraction, column
        self.blocks = nn.ModuleList()
        self.pools = []
        for width, rate in zip(channels, rates):
            self.blocks.append(_Fractal(c, width, columns, 0, drop_local, rate))
            pool = h >= 2 and w >= 2
            self.pools.append(pool)
            if pool:
                h, w = h // 2, w // 2
            c = width
        self.pool = nn.MaxPool2d(2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.head = nn.Linear(c, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                init.ones_(m.weight)
                init.zeros_(m.bias)
        bound = 1.0 / c ** 0.5  # PyTorch's Linear default, explicit
        init.uniform_(self.head.weight, -bound, bound)
        init.uniform_(self.head.bias, -bound, bound)

    def _global_column(self) -> int | None:
        """The column of this batch: ``column=``, or in training a random one for a
        ``global_fraction`` of the batches (global drop-path); None joins every column."""
        if self.column is not None:
            return self.column
        if not self.training or self.global_fraction == 0:
            return None
        rng = backend.get_rng()
        if rng.random() < self.global_fraction:
            return int(rng.integers(self.columns))
        return None

    def forward(self, x):
        only = self._global_column()
        for block, pool in zip(self.blocks, self.pools):
            outs = block(x, only)
            # the last join of a block; with a single column it is that column's output
            x = _join([t for _, t in outs], block.drop_local, self.training)
            if pool:
                x = self.pool(x)
        return self.head(self.avgpool(x).flatten(1))


def fractalnet(num_classes: int = 10, input_shape=(3, 32, 32), **kwargs) -> FractalNet:
    """FractalNet with the paper's CIFAR layout: 5 blocks of 3 columns (20 layers), widths
    64-128-256-512-512, local drop-path 0.15 and global drop-path on half the batches;
    33,724,618 parameters for 10 classes."""
    return FractalNet(num_classes, input_shape, **kwargs)
