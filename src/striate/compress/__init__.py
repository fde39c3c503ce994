"""``striate.compress``: the "Efficient Methods" lecture as functions on trained models.

Pruning (``pruning``: magnitude, global or per layer, iterative prune -> retrain, DSD;
``channels``: structured pruning that removes whole channels), Deep Compression (``deep``:
pruning, k-means weight sharing with centroid fine-tuning, Huffman coding, the size in bytes at
each stage), int8 quantization (``quantize``: post-training
with integer kernels, and quantization-aware training with fake quantization). Each function
changes a model in place and returns it, so the result evaluates, saves and loads like any
striate model. The masks follow ``striate.nn.utils.prune`` (PyTorch's names). ``distill``
trains a small student on a teacher's softened outputs.
"""

from ..nn.winograd import use_winograd, winograd_eligible
from .channels import ChannelGroup, channel_groups, channel_prune, remove_channels
from .deep import deep_compression, dense_bytes, prune_schedule, shared_bytes, sparse_bytes
from .distill import distill, distillation_loss, transfer_set
from .fit import evaluate, finetune, inference_time
from .huffman import decode_layer, encode_layer, huffman_decode, huffman_encode
from .lowbit import binarize, freeze_low_bit, ternarize
from .lowrank import factorize_conv, factorize_linear, low_rank
from .pruning import (
    dsd,
    finalize,
    iterative_prune,
    magnitude_prune,
    prunable,
    sparsity,
)
from .quantize import (
    QuantizedConv2d,
    QuantizedLinear,
    convert_qat,
    fake_quantize,
    fold_batchnorm,
    model_bytes_int8,
    prepare_qat,
    quantize_model,
)
from .sharing import is_shared, kmeans_1d, share_weights, unshare_weights

__all__ = [
    "QuantizedConv2d", "QuantizedLinear", "convert_qat", "fake_quantize", "fold_batchnorm",
    "model_bytes_int8", "prepare_qat", "quantize_model",
    "binarize", "freeze_low_bit", "ternarize", "distill", "distillation_loss", "factorize_conv",
    "factorize_linear", "low_rank", "use_winograd", "winograd_eligible",
    "ChannelGroup", "channel_groups", "remove_channels",
    "channel_prune", "decode_layer", "deep_compression", "dense_bytes", "dsd", "encode_layer",
    "evaluate", "finalize", "finetune", "huffman_decode", "huffman_encode", "inference_time",
    "is_shared", "iterative_prune", "kmeans_1d", "magnitude_prune", "prunable", "prune_schedule",
    "share_weights", "shared_bytes", "sparse_bytes", "sparsity", "transfer_set",
    "unshare_weights",
]
