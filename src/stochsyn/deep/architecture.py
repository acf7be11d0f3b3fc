"""Architecture strings: one grammar for every model of :mod:`stochsyn.deep`.

Two families, the same for the stochastic, BinaryConnect, BNN and float models:

* ``"mlp:IN-H1-...-OUT"`` — dense layers; the sizes of the input, the hidden
  layers and the output (e.g. ``"mlp:784-1024-1024-10"``).
* ``"cnn:[CxHxW:]TOKENS"`` — a VGG-style convolutional network. ``CxHxW`` is
  the input shape (default ``1x28x28``, the (Fashion-)MNIST images); the tokens,
  separated by ``-``, are

  ===========  ==========================================================
  ``NcK``      convolution with N output channels, K×K kernel (K odd),
               stride 1, "same" zero padding K // 2
  ``pK``       max pooling K×K, stride K (floor on odd sizes)
  ``aK``       average pooling K×K, stride K
  ``N``        dense layer of N units (the first one flattens the maps)
  ===========  ==========================================================

  Convolutions (and their pooling) come first, then at least one dense layer;
  the last token is the output layer (number of classes). ``"cnn"`` alone is
  :data:`DEFAULT_CNN`. The original four-integer form ``"cnn:C1-C2-H-K"`` means
  ``"cnn:C1c3-a2-C2c3-a2-H-K"``.

Every model builds a layer as *weights → batch norm → activation → pooling*;
the output layer has no activation. Every convolution and dense layer has
low-precision weights (binary, or ternary for the few-level models); the first
layer sees the real standardized pixels, as is usual (Courbariaux et al. 2015;
Hubara et al. 2016). Because the activations (sign, ReLU) are non-decreasing,
max pooling commutes with them: pooling the activations and activating the
pooled pre-activations give the same deployed network.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

__all__ = [
    "DEFAULT_CNN",
    "FAMILIES",
    "Conv",
    "Pool",
    "Dense",
    "Architecture",
    "parse_architecture",
    "check_arch_fits",
]

FAMILIES = ("mlp", "cnn")
DEFAULT_INPUT_SHAPE = (1, 28, 28)
# The documented default CNN (docs/deep.md, "Convolutional networks").
DEFAULT_CNN = "cnn:32c5-p2-64c3-p2-512-10"

_CONV = re.compile(r"^(\d+)c(\d+)$")
_POOL = re.compile(r"^([pa])(\d+)$")
_SHAPE = re.compile(r"^(\d+)x(\d+)x(\d+)$")


@dataclass(frozen=True)
class Conv:
    """K×K convolution to ``channels`` maps, stride 1, zero padding K // 2."""

    channels: int
    kernel: int

    @property
    def padding(self) -> int:
        return self.kernel // 2

    def __str__(self) -> str:
        return f"{self.channels}c{self.kernel}"


@dataclass(frozen=True)
class Pool:
    """``kind`` "max" or "avg" pooling over non-overlapping size×size windows."""

    kind: str
    size: int

    def __str__(self) -> str:
        return f"{'p' if self.kind == 'max' else 'a'}{self.size}"


@dataclass(frozen=True)
class Dense:
    """Dense layer of ``units`` outputs."""

    units: int

    def __str__(self) -> str:
        return str(self.units)


@dataclass(frozen=True)
class Architecture:
    """A parsed architecture string (see the module docstring).

    Attributes:
        family: "mlp" or "cnn".
        input_shape: (features,) for an MLP, (channels, height, width) for a CNN.
        layers: the layer tokens in order (for an MLP, the Dense layers after the input).
    """

    family: str
    input_shape: tuple[int, ...]
    layers: tuple[Conv | Pool | Dense, ...]

    @property
    def n_inputs(self) -> int:
        return math.prod(self.input_shape)

    @property
    def n_outputs(self) -> int:
        last = self.layers[-1]
        assert isinstance(last, Dense)
        return last.units

    def __str__(self) -> str:
        body = "-".join(str(t) for t in self.layers)
        if self.family == "mlp":
            return f"mlp:{self.input_shape[0]}-{body}"
        shape = "x".join(str(s) for s in self.input_shape)
        prefix = "" if self.input_shape == DEFAULT_INPUT_SHAPE else f"{shape}:"
        return f"cnn:{prefix}{body}"

    def blocks(self) -> list[tuple[Conv | Dense, tuple[Pool, ...], tuple[int, ...], tuple[int, ...]]]:
        """One entry per weight layer: (layer, the pools that follow it, input shape, output shape).

        Shapes are (C, H, W) for convolutions and (features,) for dense layers;
        the shape after the pools is the next layer's input shape.
        """
        out: list[tuple[Conv | Dense, tuple[Pool, ...], tuple[int, ...], tuple[int, ...]]] = []
        shape = self.input_shape
        i = 0
        while i < len(self.layers):
            layer = self.layers[i]
            assert isinstance(layer, (Conv, Dense))
            if isinstance(layer, Conv):
                after: tuple[int, ...] = (layer.channels, shape[1], shape[2])
            else:
                after = (layer.units,)
            pools = []
            j = i + 1
            while j < len(self.layers) and isinstance(self.layers[j], Pool):
                p = self.layers[j]
                assert isinstance(p, Pool)
                pools.append(p)
                j += 1
            out.append((layer, tuple(pools), shape, after))
            shape = after
            for p in pools:
                shape = (shape[0], shape[1] // p.size, shape[2] // p.size)
            if j < len(self.layers) and isinstance(self.layers[j], Dense) and len(shape) == 3:
                shape = (math.prod(shape),)
            i = j
        return out


def _positive(text: str, arch: str, what: str) -> int:
    value = int(text)
    if value < 1:
        raise ValueError(f"arch={arch!r}: {what} must be positive, got {value}")
    return value


def _parse_cnn(arch: str, spec: str) -> Architecture:
    shape = DEFAULT_INPUT_SHAPE
    if ":" in spec:
        head, _, spec = spec.partition(":")
        match = _SHAPE.match(head)
        if match is None:
            raise ValueError(f"arch={arch!r}: input shape {head!r} should read CxHxW, e.g. 1x28x28")
        shape = tuple(_positive(g, arch, "the input shape") for g in match.groups())  # type: ignore[assignment]
    tokens = spec.split("-")
    if len(tokens) == 4 and all(t.isdigit() for t in tokens):  # the original cnn:C1-C2-H-K
        c1, c2, h, k = tokens
        tokens = [f"{c1}c3", "a2", f"{c2}c3", "a2", h, k]
    layers: list[Conv | Pool | Dense] = []
    hw = list(shape[1:])
    seen_dense = False
    for tok in tokens:
        if tok.isdigit():
            layers.append(Dense(_positive(tok, arch, "a dense layer size")))
            seen_dense = True
            continue
        if seen_dense:
            raise ValueError(f"arch={arch!r}: token {tok!r} after a dense layer; convolutions and pooling come first")
        conv, pool = _CONV.match(tok), _POOL.match(tok)
        if conv is not None:
            k = _positive(conv.group(2), arch, "a kernel size")
            if k % 2 == 0:
                raise ValueError(f"arch={arch!r}: kernel size {k} in {tok!r} must be odd ('same' padding)")
            layers.append(Conv(_positive(conv.group(1), arch, "a channel count"), k))
        elif pool is not None:
            if not layers:
                raise ValueError(f"arch={arch!r}: pooling {tok!r} before any convolution")
            size = _positive(pool.group(2), arch, "a pooling size")
            if size > min(hw):
                raise ValueError(f"arch={arch!r}: pooling {tok!r} on {hw[0]}x{hw[1]} maps leaves nothing")
            hw = [v // size for v in hw]
            layers.append(Pool("max" if pool.group(1) == "p" else "avg", size))
        else:
            raise ValueError(
                f"arch={arch!r}: token {tok!r} is not NcK (conv), pK / aK (max / average pooling) or N (dense)"
            )
    if not any(isinstance(t, Conv) for t in layers):
        raise ValueError(f"arch={arch!r}: a CNN needs at least one convolution NcK (use 'mlp:...' otherwise)")
    if not seen_dense:
        raise ValueError(f"arch={arch!r}: a CNN ends with dense layers, the last one the number of classes")
    return Architecture("cnn", shape, tuple(layers))


def parse_architecture(arch: str) -> Architecture:
    """Parse an architecture string of either family (module docstring); ValueError when malformed."""
    if arch == "cnn":
        arch = DEFAULT_CNN
    if not isinstance(arch, str) or ":" not in arch:
        raise ValueError(f"arch={arch!r}: expected 'mlp:IN-H1-...-OUT', 'cnn' or 'cnn:TOKENS' (e.g. {DEFAULT_CNN!r})")
    family, _, spec = arch.partition(":")
    if family == "cnn":
        return _parse_cnn(arch, spec)
    if family != "mlp":
        raise ValueError(f"arch={arch!r}: unknown family {family!r}; expected one of {FAMILIES}")
    try:
        sizes = [int(s) for s in spec.split("-")]
    except ValueError:
        raise ValueError(f"arch={arch!r}: layer sizes must be integers separated by '-'") from None
    if any(s < 1 for s in sizes):
        raise ValueError(f"arch={arch!r}: layer sizes must be positive")
    if len(sizes) < 2:
        raise ValueError(f"arch={arch!r}: an MLP needs at least an input and an output size")
    return Architecture("mlp", (sizes[0],), tuple(Dense(s) for s in sizes[1:]))


def check_arch_fits(arch: str, n_features: int, n_classes: int) -> None:
    """ValueError when ``arch`` does not fit data with ``n_features`` inputs and ``n_classes`` classes."""
    a = parse_architecture(arch)
    if a.n_inputs != n_features:
        raise ValueError(f"arch={arch!r} takes {a.n_inputs} inputs but the data has {n_features} "
                         f"features per example")  # fmt: skip
    if a.n_outputs != n_classes:
        raise ValueError(f"arch={arch!r} has {a.n_outputs} outputs but the data has {n_classes} classes; "
                         f"make the last size {n_classes}")  # fmt: skip
