"""The ``onnx`` extra, imported when first needed, with a one-line error when it is missing."""

from __future__ import annotations


def require_onnx(where: str):
    """The ``onnx`` package, or an ImportError naming the extra to install."""
    try:
        import onnx
    except ImportError:
        raise ImportError(f"{where} needs onnx: pip install \"striate[onnx]\"") from None
    return onnx


def require_onnxruntime(where: str):
    """The ``onnxruntime`` package, or an ImportError naming the extra to install."""
    try:
        import onnxruntime
    except ImportError:
        raise ImportError(f"{where} needs onnxruntime: pip install \"striate[onnx]\"") from None
    return onnxruntime
