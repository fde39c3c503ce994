"""The channels-last convention, in one place: every kernel (convolution, pooling, batch norm,
ReLU) reads and writes activations this way.

The API is NCHW, as PyTorch's. In memory the kernels keep activations channels-last (NHWC): a
convolution patch is then runs of C contiguous values and ``cols @ W`` comes out in NHWC order
with no transpose. A kernel's result that is NHWC in memory is handed back as an NCHW-shaped view
(:func:`nchw_view`), so the next kernel finds it channels-last again at no cost
(:func:`to_nhwc` is then free). The same holds for (N, C, *) arrays of any rank: "channels-last"
means ``moveaxis(x, 1, -1)`` is C-contiguous.
"""

from __future__ import annotations

import numpy as np

__all__ = ["is_channels_last", "nchw_view", "nhwc_view_if_channels_last", "to_channels_last",
           "to_nhwc"]


def _last(nd):
    """The axes that move dim 1 (channels) to the end."""
    return (0, *range(2, nd), 1)


def _first(nd):
    """The axes that move the last dim (channels) to dim 1."""
    return (0, nd - 1, *range(1, nd - 1))


def is_channels_last(x: np.ndarray) -> bool:
    """Whether an (N, C, *) array is the NCHW view of channels-last memory (and not also plain
    C-contiguous, as arrays with one channel or one pixel are)."""
    return x.ndim >= 3 and not x.flags.c_contiguous and \
        x.transpose(_last(x.ndim)).flags.c_contiguous


def nhwc_view_if_channels_last(x: np.ndarray) -> np.ndarray | None:
    """The (N, *, C) view of a channels-last x (see :func:`is_channels_last`), else None."""
    if x.ndim < 3 or x.flags.c_contiguous:
        return None
    v = x.transpose(_last(x.ndim))
    return v if v.flags.c_contiguous else None


def to_nhwc(x: np.ndarray) -> np.ndarray:
    """The (N, *, C) view of an (N, C, *) array: free when x is channels-last in memory, a copy
    otherwise (one transposing pass)."""
    v = x.transpose(_last(x.ndim))
    return v if v.flags.c_contiguous else np.ascontiguousarray(v)


def nchw_view(a: np.ndarray) -> np.ndarray:
    """An (N, *, C) array handed back as the (N, C, *) view of the same memory."""
    return a.transpose(_first(a.ndim))


def to_channels_last(x: np.ndarray) -> np.ndarray:
    """x's values in channels-last memory, as an (N, C, H, W) view: an NCHW-contiguous 4-D x with
    more than one channel and pixel is copied once (a residual sum of a channels-last branch and
    an NCHW shortcut comes out NCHW: NumPy picks C order when its operands' layouts disagree),
    so the convolutions that read it do not each transpose it; any other x comes back as is."""
    if x.ndim == 4 and x.flags.c_contiguous and x.shape[1] > 1 and x.shape[2] * x.shape[3] > 1:
        return nchw_view(np.ascontiguousarray(x.transpose(0, 2, 3, 1)))
    return x
