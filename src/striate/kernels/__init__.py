"""Raw array kernels, no autograd: im2col/col2im, convolution as a GEMM, pooling with argmax.

The course's names and shapes: ``conv_forward(x, w, b, stride, pad) -> out, cache`` and
``conv_backward(dout, cache) -> dx, dw, db``; ``max_pool_forward`` / ``avg_pool_forward`` likewise.
Each fast kernel has a readable loop version in :mod:`striate.kernels.naive`, the test oracle.
Dilated, grouped and depthwise convolution live in :mod:`~striate.kernels.conv_general`; unpooling,
adaptive and fractional pooling in :mod:`~striate.kernels.pool_extra`.
Inside, the fast kernels work channels-last (NHWC); see :mod:`striate.kernels.im2col`.
"""

from .conv import (
    ConvCache,
    conv_backward,
    conv_forward,
    conv_output_shape,
    conv_transpose_backward,
    conv_transpose_forward,
    conv_transpose_output_shape,
)
from .conv_general import GeneralConvCache
from .im2col import col2im, im2col, output_size, pad_nhwc, pair, to_nhwc, window_view
from .naive import (
    avg_pool_backward_naive,
    avg_pool_forward_naive,
    conv_backward_naive,
    conv_forward_naive,
    conv_transpose_forward_naive,
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
from .pool_extra import (
    adaptive_avg_pool_backward,
    adaptive_avg_pool_forward,
    adaptive_max_pool_backward,
    adaptive_max_pool_forward,
    fractional_max_pool_backward,
    fractional_max_pool_forward,
    max_pool_indices,
    max_unpool_backward,
    max_unpool_forward,
)

__all__ = [
    "ConvCache",
    "GeneralConvCache",
    "adaptive_avg_pool_backward",
    "adaptive_avg_pool_forward",
    "adaptive_max_pool_backward",
    "adaptive_max_pool_forward",
    "conv_transpose_backward",
    "conv_transpose_forward",
    "conv_transpose_forward_naive",
    "conv_transpose_output_shape",
    "fractional_max_pool_backward",
    "fractional_max_pool_forward",
    "max_pool_indices",
    "max_unpool_backward",
    "max_unpool_forward",
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
