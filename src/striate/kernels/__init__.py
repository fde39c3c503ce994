"""Raw array kernels, no autograd: im2col/col2im, convolution as a GEMM, pooling with argmax.

The course's names and shapes: ``conv_forward(x, w, b, stride, pad) -> out, cache`` and
``conv_backward(dout, cache) -> dx, dw, db``; ``max_pool_forward`` / ``avg_pool_forward`` likewise.
Each fast kernel has a readable loop version in :mod:`striate.kernels.naive`, the test oracle.
Inside, the fast kernels work channels-last (NHWC); see :mod:`striate.kernels.im2col`.
"""

from .conv import ConvCache, conv_backward, conv_forward, conv_output_shape
from .im2col import col2im, im2col, output_size, pad_nhwc, pair, to_nhwc, window_view
from .naive import (
    avg_pool_backward_naive,
    avg_pool_forward_naive,
    conv_backward_naive,
    conv_forward_naive,
    max_pool_backward_naive,
    max_pool_forward_naive,
)
from .pool import (
    PoolCache,
    avg_pool_backward,
    avg_pool_forward,
    max_pool_backward,
    max_pool_forward,
)

__all__ = [
    "ConvCache",
    "PoolCache",
    "avg_pool_backward",
    "avg_pool_backward_naive",
    "avg_pool_forward",
    "avg_pool_forward_naive",
    "col2im",
    "conv_backward",
    "conv_backward_naive",
    "conv_forward",
    "conv_forward_naive",
    "conv_output_shape",
    "im2col",
    "max_pool_backward",
    "max_pool_backward_naive",
    "max_pool_forward",
    "max_pool_forward_naive",
    "output_size",
    "pad_nhwc",
    "pair",
    "to_nhwc",
    "window_view",
]
