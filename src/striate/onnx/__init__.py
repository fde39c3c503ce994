"""ONNX, the ecosystem's model format (``torch.onnx``'s place): ``export`` writes a striate model
as an ONNX file (traced by ``striate.jit``), ``load_model`` reads one back as a striate module.

The ``onnx`` package (and ``onnxruntime`` to run the files elsewhere) comes with the ``onnx``
extra: ``pip install "striate[onnx]"``; it is imported only when a function here runs.
"""

from .export import UnsupportedOperatorError, export, to_onnx_model
from .load import SUPPORTED_OPSETS, load_model

__all__ = ["export", "to_onnx_model", "load_model", "UnsupportedOperatorError",
           "SUPPORTED_OPSETS"]
