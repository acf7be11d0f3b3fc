"""Models: MLPs (and a small conv net) built from an architecture string, for the four methods.

Architecture strings:

* ``"mlp:784-1024-1024-10"`` — sizes of the input, hidden and output layers.
* ``"cnn:C1-C2-H-K"`` (stochastic model only) — two 3×3 conv layers with C1 and
  C2 channels, each followed by 2×2 average pooling, then a dense hidden layer
  of H units and K outputs, for 1×28×28 inputs.

Model kinds (``build_model(kind, arch, **options)``):

* ``"stochastic"`` — :class:`StochasticMLP` / :class:`StochasticCNN`: stochastic
  binary synapses trained by mean/variance propagation (docs/deep.md,
  "Mathematics"); deployed with weights sign(m) and deterministic activations.
* ``"binaryconnect"`` — :class:`BinaryConnectMLP`: BinaryConnect weights, ReLU units.
* ``"bnn"`` — :class:`BNNMLP`: binary weights and sign activations, STE.
* ``"float"`` — :class:`FloatMLP`: full precision, ReLU units.

Every model takes raw images in [0, 1] (any shape (B, ...)), standardizes them
as (x - mean)/std with the dataset's pixel statistics (``set_preprocess``), and
returns class scores. ``set_mode("deploy")`` selects the deployed binary network;
for sign-activation MLPs ``export_spec()`` describes it exactly (the contract
used by ``stochsyn.bitpack``):

    z = x @ weight.T (+ bias) -> batch norm (eval statistics) -> sign (sign(0)=+1)

for hidden layers, and the scores after the last layer's optional batch norm.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from .activations import ACTIVATIONS, MomentActivation, sign_pm1, ste_sign
from .baselines import BinaryConnectLinear
from .layers import MODES, MeanVarBatchNorm, StochasticBinaryConv2d, StochasticBinaryLinear

__all__ = [
    "MODEL_KINDS",
    "OUTPUTS",
    "parse_arch",
    "build_model",
    "synaptic_variance",
    "DeepModel",
    "StochasticMLP",
    "StochasticCNN",
    "BinaryConnectMLP",
    "BNNMLP",
    "FloatMLP",
    "check_arch_fits",
]

MODEL_KINDS = ("stochastic", "binaryconnect", "bnn", "float")
OUTPUTS = ("probit", "snr", "mean")


def parse_arch(arch: str) -> tuple[str, list[int]]:
    """Split ``"mlp:784-1024-10"`` / ``"cnn:16-32-256-10"`` into (family, sizes); ValueError when malformed."""
    if not isinstance(arch, str) or ":" not in arch:
        raise ValueError(f"arch={arch!r}: expected 'mlp:IN-H1-...-OUT' or 'cnn:C1-C2-H-OUT'")
    family, _, spec = arch.partition(":")
    try:
        sizes = [int(s) for s in spec.split("-")]
    except ValueError:
        raise ValueError(f"arch={arch!r}: layer sizes must be integers separated by '-'") from None
    if any(s < 1 for s in sizes):
        raise ValueError(f"arch={arch!r}: layer sizes must be positive")
    if family == "mlp":
        if len(sizes) < 2:
            raise ValueError(f"arch={arch!r}: an MLP needs at least an input and an output size")
    elif family == "cnn":
        if len(sizes) != 4:
            raise ValueError(f"arch={arch!r}: expected 'cnn:C1-C2-H-OUT' (four integers)")
    else:
        raise ValueError(f"arch={arch!r}: unknown family {family!r}; expected 'mlp' or 'cnn'")
    return family, sizes


def check_arch_fits(arch: str, n_features: int, n_classes: int) -> None:
    """ValueError when ``arch`` does not fit data with ``n_features`` inputs and ``n_classes``
    classes (checked before a model is built, so a mismatch is not a shape error mid-run)."""
    family, sizes = parse_arch(arch)
    if family == "mlp" and sizes[0] != n_features:
        raise ValueError(f"arch={arch!r} takes {sizes[0]} inputs but the data has {n_features} "
                         f"features per example; start the MLP with {n_features}")
    if sizes[-1] != n_classes:
        raise ValueError(f"arch={arch!r} has {sizes[-1]} outputs but the data has {n_classes} classes; "
                         f"end the architecture with {n_classes}")


class DeepModel(nn.Module):
    """Common behaviour: input standardization, modes, export, hooks used by the trainer."""

    kind: str = ""
    modes: tuple[str, ...] = ("mean-field", "deploy")

    def __init__(self, arch: str, class_names: list[str] | None, options: dict[str, Any]) -> None:
        super().__init__()
        self.arch = arch
        self.options = dict(options)
        self.mode = "mean-field"
        self.register_buffer("input_mean", torch.tensor(0.0))
        self.register_buffer("input_std", torch.tensor(1.0))
        self.class_names = list(class_names) if class_names is not None else None

    def set_preprocess(self, mean: float, std: float) -> None:
        """Inputs become (x - mean)/std; ``std`` must be positive."""
        if not (math.isfinite(mean) and math.isfinite(std) and std > 0):
            raise ValueError(f"preprocess mean={mean!r}, std={std!r}: expected finite values with std > 0")
        self.input_mean.fill_(float(mean))
        self.input_std.fill_(float(std))

    def preprocess(self, x: torch.Tensor) -> torch.Tensor:
        """(x - mean)/std, flattened to (B, features)."""
        return ((x - self.input_mean) / self.input_std).flatten(1)

    def set_mode(self, mode: str) -> "DeepModel":
        """Choose the forward computation: one of ``self.modes``."""
        if mode not in self.modes:
            raise ValueError(f"mode={mode!r}: expected one of {self.modes} for a {self.kind} model")
        self.mode = mode
        return self

    def after_step(self) -> None:
        """Hook run after each optimizer step (weight clipping for BinaryConnect/BNN)."""

    def set_epoch(self, epoch: int) -> None:
        """Hook run before each training epoch (1-based): schedules that depend on the epoch."""

    def penalty(self) -> torch.Tensor | None:
        """Extra term added to the training loss at each step (None: nothing; see StochasticMLP)."""
        return None

    @torch.no_grad()
    def calibrate_deploy(self, x: torch.Tensor, batch_size: int = 2000) -> None:
        """Measure the statistics the deployed network needs (only stochastic models have any)."""

    def hparams(self) -> dict[str, Any]:
        """Everything needed to rebuild the model with :func:`build_model`."""
        return {"kind": self.kind, "arch": self.arch, "class_names": self.class_names, **self.options}

    def export_spec(self) -> dict[str, Any]:
        """The deployed binary network as plain numpy arrays (see the module docstring)."""
        raise ValueError(f"a {self.kind} model ({self.arch}) cannot be exported as a binary sign network")

    def _spec(self, layers: list[dict[str, Any]]) -> dict[str, Any]:
        n_out = layers[-1]["weight"].shape[0]
        names = self.class_names if self.class_names is not None else [str(c) for c in range(n_out)]
        return {
            "arch": self.arch,
            "class_names": list(names),
            "preprocess": {"mean": float(self.input_mean), "std": float(self.input_std)},
            "layers": layers,
        }


def _np32(t: torch.Tensor | None) -> np.ndarray | None:
    return None if t is None else t.detach().cpu().to(torch.float32).numpy().copy()


def _bn_spec(weight, bias, mean, var, eps: float) -> dict[str, Any]:
    return {
        "running_mean": _np32(mean),
        "running_var": _np32(var),
        "weight": _np32(weight),
        "bias": _np32(bias),
        "eps": float(eps),
    }


def _set_beta(model: nn.Module, beta: float) -> None:
    for layer in model.modules():
        if isinstance(layer, (StochasticBinaryLinear, StochasticBinaryConv2d)):
            layer.beta = float(beta)


def synaptic_variance(model: nn.Module) -> torch.Tensor:
    """Mean synaptic variance <1 - m**2> = <Var W> over every stochastic binary synapse of ``model``.

    0 when every synapse is polarized (m = ±1: the stochastic network is the
    deployed one), 1 - tanh(h_init)**2 on average at initialization.
    """
    total, count = None, 0
    for layer in model.modules():
        if isinstance(layer, (StochasticBinaryLinear, StochasticBinaryConv2d)):
            m = layer.m
            part = (1.0 - m * m).sum()
            total = part if total is None else total + part
            count += m.numel()
    if total is None:
        raise ValueError(f"{type(model).__name__} has no stochastic binary synapses")
    return total / count


def _check_stochastic_options(activation: str, output: str, score_scale: float, beta_growth: float,
                              polarize: float) -> None:
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation={activation!r}: expected one of {ACTIVATIONS}")
    if output not in OUTPUTS:
        raise ValueError(f"output={output!r}: expected one of {OUTPUTS}")
    if not (isinstance(score_scale, (int, float)) and math.isfinite(score_scale) and score_scale > 0):
        raise ValueError(f"score_scale={score_scale!r}: expected a positive float")
    if not (isinstance(beta_growth, (int, float)) and math.isfinite(beta_growth) and beta_growth >= 1):
        raise ValueError(f"beta_growth={beta_growth!r}: expected a float >= 1")
    if not (isinstance(polarize, (int, float)) and math.isfinite(polarize) and polarize >= 0):
        raise ValueError(f"polarize={polarize!r}: expected a non-negative float")


class _StochasticSchedules:
    """Epoch schedules shared by the stochastic models (``beta_growth``, ``polarize``)."""

    beta_growth: float
    polarize: float
    polarize_weight: float = 0.0

    def set_epoch(self, epoch: int) -> None:
        """beta = beta_growth**(epoch - 1) in every layer (m = tanh(beta h)), and
        polarization weight lambda_e = polarize * (epoch - 1)."""
        _set_beta(self, self.beta_growth ** (epoch - 1))
        self.polarize_weight = self.polarize * (epoch - 1)

    def penalty(self) -> torch.Tensor | None:
        """lambda_e * <1 - m**2> (see :func:`synaptic_variance`); None while lambda_e = 0."""
        if self.polarize_weight == 0.0:
            return None
        return self.polarize_weight * synaptic_variance(self)


def _output_scores(output: str, scale: float, mean: torch.Tensor, var: torch.Tensor) -> torch.Tensor:
    """Class scores from the output Gaussian N(mean, var).

    "probit": mean / sqrt(1 + pi var / 8) — the probit approximation of the
    expected softmax under Gaussian score noise (MacKay 1992); "snr":
    mean / sqrt(var) (docs/deep.md, "Mathematics"); "mean": mean. Multiplied by ``scale``.
    """
    if output == "probit":
        s = mean / torch.sqrt(1.0 + (math.pi / 8.0) * var)
    elif output == "snr":
        s = mean / torch.sqrt(var.clamp_min(1e-8))
    else:
        s = mean
    return s * scale


class StochasticMLP(_StochasticSchedules, DeepModel):
    """MLP of :class:`StochasticBinaryLinear` layers with optional :class:`MeanVarBatchNorm`.

    Modes: "mean-field" (training; moments propagated, scores from
    ``output``), "deploy" (weights sign(m), deterministic activations, batch norm
    with the calibrated deploy statistics), "sample" (local reparameterization,
    one stochastic network per example; pass ``generator`` to ``forward``).

    Args:
        sizes: layer sizes [in, h1, ..., out].
        activation: hidden units, "sign" (default) or "relu".
        batch_norm: batch norm after every layer, the output included (default True).
        bias: real biases (default False; batch norm supplies the offsets).
        h_init: latent fields start uniform in [-h_init, h_init] (default 1.0).
        output: score map of the output Gaussian, "probit" (default), "snr" or "mean".
        score_scale: multiplies the scores (default 1.0).
        beta_growth: inverse-temperature schedule m = tanh(beta h) with
            beta = beta_growth**(epoch - 1) (default 1.0: no annealing).
        polarize: polarization term lambda_e * <1 - m**2> added to the training
            loss, lambda_e = polarize * (epoch - 1) (default 0.0: off; drives
            m -> ±1 so the mean-field and deployed networks converge; it did not
            raise deployed accuracy in our measurements, see docs/deep.md).
    """

    kind = "stochastic"
    modes = MODES

    def __init__(
        self,
        sizes: list[int],
        activation: str = "sign",
        batch_norm: bool = True,
        bias: bool = False,
        h_init: float = 1.0,
        output: str = "probit",
        score_scale: float = 1.0,
        beta_growth: float = 1.0,
        polarize: float = 0.0,
        class_names: list[str] | None = None,
    ) -> None:
        _check_stochastic_options(activation, output, score_scale, beta_growth, polarize)
        arch = "mlp:" + "-".join(str(s) for s in sizes)
        options = dict(activation=activation, batch_norm=batch_norm, bias=bias, h_init=h_init, output=output,
                       score_scale=score_scale, beta_growth=beta_growth, polarize=polarize)  # fmt: skip
        super().__init__(arch, class_names, options)
        self.sizes = list(sizes)
        self.output = output
        self.score_scale = float(score_scale)
        self.layers = nn.ModuleList(
            StochasticBinaryLinear(a, b, bias=bias, h_init=h_init) for a, b in zip(sizes[:-1], sizes[1:])
        )
        self.norms = nn.ModuleList(MeanVarBatchNorm(b) for b in sizes[1:]) if batch_norm else None
        self.act = MomentActivation(activation)
        self.beta_growth = float(beta_growth)
        self.polarize = float(polarize)

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """Class scores of raw inputs ``x`` in [0, 1] according to ``self.mode``."""
        a = self.preprocess(x)
        last = len(self.layers) - 1
        if self.mode == "mean-field":
            mean, var = a, None
            for i, layer in enumerate(self.layers):
                mean, var = layer.forward_moments(mean, var)
                if self.norms is not None:
                    mean, var = self.norms[i].forward_moments(mean, var)
                if i < last:
                    mean, var = self.act.forward_moments(mean, var)
            return _output_scores(self.output, self.score_scale, mean, var)
        for i, layer in enumerate(self.layers):
            if self.mode == "deploy":
                z = layer(a)
                if self.norms is not None:
                    z = self.norms[i](z)
            else:
                z = layer.forward_sample(a, generator)
                if self.norms is not None:
                    z = self.norms[i].forward_sample(z)
            a = self.act(z) if i < last else z
        return a

    @torch.no_grad()
    def calibrate_deploy(self, x: torch.Tensor, batch_size: int = 2000) -> None:
        """Set each batch norm's deploy statistics to the exact mean/variance of the
        deployed pre-activations over ``x`` (layer by layer, earlier layers already calibrated)."""
        if self.norms is None:
            return
        a = self.preprocess(x)
        last = len(self.layers) - 1
        for i, layer in enumerate(self.layers):
            z = torch.cat([layer(a[j : j + batch_size]) for j in range(0, len(a), batch_size)])
            bn = self.norms[i]
            bn.deploy_mean.copy_(z.mean(dim=0))
            bn.deploy_var.copy_(z.var(dim=0, unbiased=False))
            z = bn(z)
            a = self.act(z) if i < last else z

    def export_spec(self) -> dict[str, Any]:
        """The deployed network (weights sign(h) as int8, deploy batch-norm statistics)."""
        if self.act.name != "sign":
            raise ValueError(f"activation={self.act.name!r}: only sign-activation networks can be exported")
        layers = []
        last = len(self.layers) - 1
        for i, layer in enumerate(self.layers):
            bn = None
            if self.norms is not None:
                n = self.norms[i]
                bn = _bn_spec(n.weight, n.bias, n.deploy_mean, n.deploy_var, n.eps)
            layers.append({
                "kind": "linear",
                "weight": layer.deployed_weight().detach().cpu().to(torch.int8).numpy().copy(),
                "bias": _np32(layer.bias),
                "bn": bn,
                "activation": "sign" if i < last else "none",
            })  # fmt: skip
        return self._spec(layers)


class StochasticCNN(_StochasticSchedules, DeepModel):
    """Small conv net of stochastic binary synapses for 1×28×28 inputs (not exportable).

    conv3×3(C1, pad 1) → BN → act → avgpool2 → conv3×3(C2, pad 1) → BN → act →
    avgpool2 → dense(H) → BN → act → dense(K) → BN. Average pooling of independent
    units: mean averages, variance averages divided by the pool size (4).

    Args: as :class:`StochasticMLP`; ``sizes`` = [C1, C2, H, K].
    """

    kind = "stochastic"
    modes = MODES

    def __init__(
        self,
        sizes: list[int],
        activation: str = "sign",
        batch_norm: bool = True,
        bias: bool = False,
        h_init: float = 1.0,
        output: str = "probit",
        score_scale: float = 1.0,
        beta_growth: float = 1.0,
        polarize: float = 0.0,
        class_names: list[str] | None = None,
    ) -> None:
        _check_stochastic_options(activation, output, score_scale, beta_growth, polarize)
        if not batch_norm:
            raise ValueError("batch_norm=False: the conv net needs batch norm")
        c1, c2, hidden, k = sizes
        arch = f"cnn:{c1}-{c2}-{hidden}-{k}"
        options = dict(activation=activation, batch_norm=True, bias=bias, h_init=h_init, output=output,
                       score_scale=score_scale, beta_growth=beta_growth, polarize=polarize)  # fmt: skip
        super().__init__(arch, class_names, options)
        self.output = output
        self.score_scale = float(score_scale)
        self.layers = nn.ModuleList([
            StochasticBinaryConv2d(1, c1, 3, padding=1, bias=bias, h_init=h_init),
            StochasticBinaryConv2d(c1, c2, 3, padding=1, bias=bias, h_init=h_init),
            StochasticBinaryLinear(c2 * 7 * 7, hidden, bias=bias, h_init=h_init),
            StochasticBinaryLinear(hidden, k, bias=bias, h_init=h_init),
        ])  # fmt: skip
        self.norms = nn.ModuleList(MeanVarBatchNorm(c) for c in (c1, c2, hidden, k))
        self.act = MomentActivation(activation)
        self.beta_growth = float(beta_growth)
        self.polarize = float(polarize)

    def preprocess(self, x: torch.Tensor) -> torch.Tensor:
        """(x - mean)/std reshaped to (B, 1, 28, 28)."""
        return ((x - self.input_mean) / self.input_std).reshape(-1, 1, 28, 28)

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """Class scores of raw inputs ``x`` in [0, 1] according to ``self.mode``."""
        a = self.preprocess(x)
        if self.mode == "mean-field":
            mean, var = a, None
            for i, layer in enumerate(self.layers):
                if i == 2:
                    mean, var = mean.flatten(1), var.flatten(1)
                mean, var = layer.forward_moments(mean, var)
                mean, var = self.norms[i].forward_moments(mean, var)
                if i < 3:
                    mean, var = self.act.forward_moments(mean, var)
                if i < 2:
                    mean, var = F.avg_pool2d(mean, 2), F.avg_pool2d(var, 2) / 4.0
            return _output_scores(self.output, self.score_scale, mean, var)
        for i, layer in enumerate(self.layers):
            if i == 2:
                a = a.flatten(1)
            if self.mode == "deploy":
                z = self.norms[i](layer(a))
            else:
                z = self.norms[i].forward_sample(layer.forward_sample(a, generator))
            a = self.act(z) if i < 3 else z
            if i < 2:
                a = F.avg_pool2d(a, 2)
        return a

    @torch.no_grad()
    def calibrate_deploy(self, x: torch.Tensor, batch_size: int = 1000) -> None:
        """Exact per-channel deploy statistics over ``x``, layer by layer."""
        a = self.preprocess(x)
        for i, layer in enumerate(self.layers):
            if i == 2:
                a = a.flatten(1)
            z = torch.cat([layer(a[j : j + batch_size]) for j in range(0, len(a), batch_size)])
            dims = [d for d in range(z.dim()) if d != 1]
            bn = self.norms[i]
            bn.deploy_mean.copy_(z.mean(dim=dims))
            bn.deploy_var.copy_(z.var(dim=dims, unbiased=False))
            z = bn(z)
            a = self.act(z) if i < 3 else z
            if i < 2:
                a = F.avg_pool2d(a, 2)


class _STEMLP(DeepModel):
    """MLP of BinaryConnect / full-precision linear layers with torch batch norm."""

    def __init__(self, sizes, layer_factory, activation: str, batch_norm: bool, class_names, options) -> None:
        super().__init__("mlp:" + "-".join(str(s) for s in sizes), class_names, options)
        self.sizes = list(sizes)
        self.activation = activation
        self.layers = nn.ModuleList(layer_factory(a, b) for a, b in zip(sizes[:-1], sizes[1:]))
        self.norms = nn.ModuleList(nn.BatchNorm1d(b) for b in sizes[1:]) if batch_norm else None

    def _act(self, z: torch.Tensor) -> torch.Tensor:
        if self.activation == "sign":
            return ste_sign(z) if self.training else sign_pm1(z)
        return torch.relu(z)

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """Class scores; "mean-field" and "deploy" coincide for these models at eval time."""
        a = self.preprocess(x)
        last = len(self.layers) - 1
        for i, layer in enumerate(self.layers):
            z = layer(a)
            if self.norms is not None:
                z = self.norms[i](z)
            a = self._act(z) if i < last else z
        return a

    def after_step(self) -> None:
        """Clip BinaryConnect latent weights to [-1, 1]."""
        for layer in self.layers:
            if isinstance(layer, BinaryConnectLinear):
                layer.clip_()

    def export_spec(self) -> dict[str, Any]:
        """The deployed sign network: sign(W) as int8 and the batch-norm running statistics."""
        if self.activation != "sign" or not all(isinstance(l, BinaryConnectLinear) for l in self.layers):
            return super().export_spec()
        layers = []
        last = len(self.layers) - 1
        for i, layer in enumerate(self.layers):
            bn = None
            if self.norms is not None:
                n = self.norms[i]
                bn = _bn_spec(n.weight, n.bias, n.running_mean, n.running_var, n.eps)
            layers.append({
                "kind": "linear",
                "weight": layer.deployed_weight().cpu().to(torch.int8).numpy().copy(),
                "bias": _np32(layer.bias),
                "bn": bn,
                "activation": "sign" if i < last else "none",
            })  # fmt: skip
        return self._spec(layers)


class BinaryConnectMLP(_STEMLP):
    """BinaryConnect MLP: binary weights (STE, clipping), real ReLU units, batch norm.

    Args:
        sizes: layer sizes [in, h1, ..., out].
        stochastic: stochastic binarization while training (default False).
        activation: hidden units, "relu" (default, as in BinaryConnect) or "sign".
        batch_norm: batch norm after every layer (default True).
        bias: real biases (default False).
    """

    kind = "binaryconnect"

    def __init__(self, sizes, stochastic: bool = False, activation: str = "relu", batch_norm: bool = True,
                 bias: bool = False, class_names=None) -> None:  # fmt: skip
        if activation not in ("relu", "sign"):
            raise ValueError(f"activation={activation!r}: expected 'relu' or 'sign'")
        options = dict(stochastic=stochastic, activation=activation, batch_norm=batch_norm, bias=bias)
        super().__init__(sizes, lambda a, b: BinaryConnectLinear(a, b, bias=bias, stochastic=stochastic),
                         activation, batch_norm, class_names, options)  # fmt: skip


class BNNMLP(_STEMLP):
    """BNN MLP (Hubara et al.): binary weights and sign activations, both with STE; batch norm.

    The first layer takes the real standardized inputs.

    Args:
        sizes: layer sizes [in, h1, ..., out].
        batch_norm: batch norm after every layer (default True).
        bias: real biases (default False).
    """

    kind = "bnn"

    def __init__(self, sizes, batch_norm: bool = True, bias: bool = False, class_names=None) -> None:
        options = dict(batch_norm=batch_norm, bias=bias)
        super().__init__(sizes, lambda a, b: BinaryConnectLinear(a, b, bias=bias), "sign", batch_norm,
                         class_names, options)  # fmt: skip


class FloatMLP(_STEMLP):
    """Full-precision MLP with ReLU units and batch norm (not exportable).

    Args:
        sizes: layer sizes [in, h1, ..., out].
        batch_norm: batch norm after every layer (default True).
        bias: biases (default True).
    """

    kind = "float"

    def __init__(self, sizes, batch_norm: bool = True, bias: bool = True, class_names=None) -> None:
        options = dict(batch_norm=batch_norm, bias=bias)
        super().__init__(sizes, lambda a, b: nn.Linear(a, b, bias=bias), "relu", batch_norm, class_names, options)


def build_model(kind: str, arch: str, class_names: list[str] | None = None, **options: Any) -> DeepModel:
    """Construct a model of ``kind`` (one of ``MODEL_KINDS``) for ``arch``; options as in each class."""
    if kind not in MODEL_KINDS:
        raise ValueError(f"model={kind!r}: expected one of {MODEL_KINDS}")
    family, sizes = parse_arch(arch)
    if family == "cnn":
        if kind != "stochastic":
            raise ValueError(f"arch={arch!r}: the conv net exists only for model='stochastic'")
        return StochasticCNN(sizes, class_names=class_names, **options)
    cls = {"stochastic": StochasticMLP, "binaryconnect": BinaryConnectMLP, "bnn": BNNMLP, "float": FloatMLP}[kind]
    try:
        return cls(sizes, class_names=class_names, **options)
    except TypeError as exc:
        raise TypeError(f"options {sorted(options)} for model={kind!r}: {exc}") from None
