"""Bit-packed inference for binary networks: ±1 weights at one bit each, XNOR-popcount kernels.

Modules: :mod:`.packing` (pack/unpack), :mod:`.kernels` (xnor_matmul and
friends), :mod:`.layers` (packed layers, folding of batch norm + sign into
thresholds), :mod:`.model` (PackedNetwork and its ``.npz`` format),
:mod:`.export` (export_model / export_run), :mod:`.onnx_export` (the same network as an
ONNX file of standard operators). See docs/bitpack.md.
"""

from .export import export_model, export_run, network_from_spec
from .onnx_export import OnnxNetwork, export_onnx, export_run_onnx, spec_to_onnx
from .kernels import real_binary_matmul, real_sign_pack, xnor_matmul, xnor_sign_pack
from .model import FORMAT_NAME, FORMAT_VERSION, PackedNetwork
from .packing import n_words, pack, unpack

__all__ = [
    "pack",
    "unpack",
    "n_words",
    "xnor_matmul",
    "xnor_sign_pack",
    "real_binary_matmul",
    "real_sign_pack",
    "PackedNetwork",
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "network_from_spec",
    "export_model",
    "export_run",
    "export_onnx",
    "OnnxNetwork",
    "export_run_onnx",
    "spec_to_onnx",
]
