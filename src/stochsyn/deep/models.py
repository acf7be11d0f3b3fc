"""Models for the four methods, built from one architecture grammar (:mod:`.architecture`).

Architectures: ``"mlp:784-1024-1024-10"`` (dense) or ``"cnn:32c5-p2-64c3-p2-512-10"``
(convolutional; ``"cnn"`` alone is the documented default
:data:`~stochsyn.deep.architecture.DEFAULT_CNN`). Every weight layer is followed by
batch norm, the activation and the pooling its tokens name; every convolution and
dense layer has binary weights, the first one seeing the real standardized pixels.

Model kinds (``build_model(kind, arch, **options)``):

* ``"stochastic"`` — :class:`StochasticNet`: stochastic binary synapses trained by
  mean/variance propagation (docs/deep.md, "Mathematics"); deployed with weights
  sign(m) and deterministic activations.
* ``"binaryconnect"`` — :class:`BinaryConnectNet`: BinaryConnect weights, ReLU units.
* ``"bnn"`` — :class:`BNNNet`: binary weights and sign activations, STE.
* ``"twn"`` — :class:`TWNNet`: ternary weight networks (Li & Liu 2016), ReLU units.
* ``"float"`` — :class:`FloatNet`: full precision, ReLU units.

``StochasticMLP``/``StochasticCNN``, ``BinaryConnectMLP``, ``BNNMLP`` and
``FloatMLP`` are the same classes under their earlier names.

Every model takes raw images in [0, 1] (any shape (B, ...)), standardizes them
as (x - mean)/std with the dataset's pixel statistics (``set_preprocess``),
reshapes them to the architecture's input shape and returns class scores.
``set_mode("deploy")`` selects the deployed binary network; for every model with
binary or ternary weights (MLP or CNN, sign or ReLU units) ``export_spec()``
describes it exactly (the contract used by ``stochsyn.bitpack``):

    z = x @ weight.T (+ bias)  or  conv(x, weight, zero padding)
      -> batch norm (eval statistics) -> sign (sign(0)=+1) or ReLU -> pools

for hidden layers, and the scores after the last layer's optional batch norm.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from .activations import ACTIVATIONS, MomentActivation, sign_pm1, ste_sign
from .architecture import Architecture, Conv, Dense, Pool, check_arch_fits, parse_architecture
from .baselines import BinaryConnectConv2d, BinaryConnectLinear, TernaryWeightConv2d, TernaryWeightLinear
from .layers import (
    MODES,
    VARIANCES,
    MeanVarBatchNorm,
    StochasticBinaryConv2d,
    StochasticBinaryLinear,
    StochasticTernaryConv2d,
    StochasticTernaryLinear,
    _StochasticSynapses,
    _TernarySynapses,
)
from .pooling import (
    MAX_POOL_RULES,
    avg_pool_moments,
    comonotone_max_pool_gauss_moments,
    comonotone_max_pool_sign_moments,
    comonotone_sign_max_pool_moments,
    max_pool_gauss_moments,
    max_pool_sign_moments,
    pool_values,
    sign_max_pool_moments,
)

#: Images per chunk of the no-gradient passes (deploy calibration, test evaluation). Larger
#: chunks make tensors above glibc's mmap threshold, fresh pages from the kernel on every
#: call: at 1,000 images the page faults were 40% of a calibration's CPU time (4.4 s against
#: 2.3 s at 100 for the default CNN) and of BinaryConnect's test pass (2.8 s against 1.3 s).
EVAL_BATCH_SIZE = 100

__all__ = [
    "EVAL_BATCH_SIZE",
    "MODEL_KINDS",
    "OUTPUTS",
    "parse_arch",
    "build_model",
    "model_class",
    "synaptic_variance",
    "DeepModel",
    "StochasticNet",
    "BinaryConnectNet",
    "BNNNet",
    "TWNNet",
    "FloatNet",
    "SYNAPSES",
    "zero_weight_fraction",
    "StochasticMLP",
    "StochasticCNN",
    "BinaryConnectMLP",
    "BNNMLP",
    "FloatMLP",
    "check_arch_fits",
]

MODEL_KINDS = ("stochastic", "binaryconnect", "bnn", "twn", "float")
OUTPUTS = ("probit", "snr", "mean")


def parse_arch(arch: str) -> tuple[str, list[Any]]:
    """(family, layers): ``("mlp", [in, h1, ..., out])`` for an MLP, ``("cnn", tokens)``
    for a CNN (:class:`~.architecture.Conv`, :class:`~.architecture.Pool`,
    :class:`~.architecture.Dense`); ValueError when malformed."""
    a = parse_architecture(arch)
    if a.family == "mlp":
        return "mlp", [a.input_shape[0]] + [t.units for t in a.layers if isinstance(t, Dense)]
    return "cnn", list(a.layers)


def _as_architecture(arch: str | Architecture | list[int]) -> Architecture:
    if isinstance(arch, Architecture):
        return arch
    if isinstance(arch, (list, tuple)):
        return parse_architecture("mlp:" + "-".join(str(s) for s in arch))
    return parse_architecture(arch)


class DeepModel(nn.Module):
    """Common behaviour: input standardization, modes, export, hooks used by the trainer."""

    kind: str = ""
    modes: tuple[str, ...] = ("mean-field", "deploy")
    # True where the eval-mode forward is the same network in every mode (the straight-through
    # and float models), so one test pass serves both accuracies
    eval_modes_coincide: bool = True

    def __init__(self, arch: str | Architecture | list[int], class_names: list[str] | None,
                 options: dict[str, Any]) -> None:  # fmt: skip
        super().__init__()
        self.architecture = _as_architecture(arch)
        self.arch = str(self.architecture)
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
        """(x - mean)/std, reshaped to (B, *input_shape): (B, features) or (B, C, H, W)."""
        return ((x - self.input_mean) / self.input_std).reshape(-1, *self.architecture.input_shape)

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

    def set_step(self, step: int) -> None:
        """Hook run before each training step (0-based count over the run): step schedules."""

    def penalty(self) -> torch.Tensor | None:
        """Extra term added to the training loss at each step (None: nothing; see StochasticNet)."""
        return None

    @torch.no_grad()
    def calibrate_deploy(self, x: torch.Tensor, batch_size: int = EVAL_BATCH_SIZE) -> None:
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
        spec = {
            "arch": self.arch,
            "class_names": list(names),
            "preprocess": {"mean": float(self.input_mean), "std": float(self.input_std)},
            "layers": layers,
        }
        if self.architecture.family == "cnn":
            spec["input_shape"] = [int(s) for s in self.architecture.input_shape]
        return spec

    def _layer_spec(self, i: int, weight: torch.Tensor, bias: np.ndarray | None, bn: dict[str, Any] | None,
                    activation: str) -> dict[str, Any]:  # fmt: skip
        """One entry of the export spec: a "linear" layer, or a "conv" layer with its padding and pools."""
        layer = self.layers[i]
        entry: dict[str, Any] = {
            "kind": "conv" if hasattr(layer, "kernel_size") else "linear",
            "weight": weight.detach().cpu().to(torch.int8).numpy().copy(),
            "bias": bias,
            "bn": bn,
            "activation": activation,
        }
        if entry["kind"] == "conv":
            entry["padding"] = int(layer.padding)
            entry["pools"] = [[p.kind, int(p.size)] for p in self.pools[i]]
        return entry

    def _export_check(self, activation: str) -> None:
        if activation not in ("sign", "relu"):
            raise ValueError(f"a {self.kind} network with activation={activation!r} cannot be exported: "
                             f"only sign and relu networks can")  # fmt: skip


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


def _build_layers(model: DeepModel, conv: Callable[[int, int, Conv], nn.Module],
                  linear: Callable[[int, int], nn.Module],
                  norm: Callable[[int, bool], nn.Module] | None) -> None:  # fmt: skip
    """model.layers / model.norms from its architecture, and model.pools (the pools after each layer)."""
    layers, norms, pools = [], [], []
    for spec, after, in_shape, out_shape in model.architecture.blocks():
        if isinstance(spec, Conv):
            layers.append(conv(in_shape[0], spec.channels, spec))
        else:
            layers.append(linear(in_shape[0], spec.units))
        if norm is not None:
            norms.append(norm(out_shape[0], isinstance(spec, Conv)))
        pools.append(after)
    model.layers = nn.ModuleList(layers)
    model.norms = nn.ModuleList(norms) if norm is not None else None
    model.pools = pools


def _flatten_for(layer: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Flatten (B, C, H, W) maps before the first dense layer (every conv layer has a kernel_size)."""
    return x.flatten(1) if x.dim() > 2 and not hasattr(layer, "kernel_size") else x


def _set_beta(model: nn.Module, beta: float) -> None:
    for layer in model.modules():
        if isinstance(layer, _StochasticSynapses):
            layer.beta = float(beta)


def synaptic_variance(model: nn.Module) -> torch.Tensor:
    """Mean synaptic variance <Var W> (binary: <1 - m**2>) over every stochastic synapse of ``model``.

    0 when every synapse is polarized (the stochastic network is the deployed
    one); for binary synapses 1 - tanh(h_init)**2 on average at initialization.
    """
    total, count = None, 0
    for layer in model.modules():
        if isinstance(layer, _StochasticSynapses):
            values = layer.synapse_variance()
            total = values.sum() if total is None else total + values.sum()
            count += values.numel()
    if total is None:
        raise ValueError(f"{type(model).__name__} has no stochastic synapses")
    return total / count


def zero_weight_fraction(model: nn.Module) -> float:
    """Fraction of deployed weights equal to 0 over every low-precision weight layer of ``model``."""
    zeros, count = 0, 0
    for layer in model.modules():
        if hasattr(layer, "deployed_weight"):
            w = layer.deployed_weight()
            zeros += int((w == 0).sum())
            count += w.numel()
    return zeros / max(1, count)


SYNAPSES = ("binary", "ternary")


def _check_stochastic_options(activation: str, output: str, score_scale: float, beta_growth: float,
                              polarize: float, synapses: str, zero_prior: float, variance: str,
                              max_pool: str = "comonotone", sample_units: float = 0.0,
                              sample_warmup: int = 0) -> None:  # fmt: skip
    if not (isinstance(sample_warmup, int) and not isinstance(sample_warmup, bool) and sample_warmup >= 0):
        raise ValueError(f"sample_warmup={sample_warmup!r}: expected a non-negative int (training steps)")
    if max_pool not in MAX_POOL_RULES:
        raise ValueError(f"max_pool={max_pool!r}: expected one of {MAX_POOL_RULES}")
    if not (isinstance(sample_units, (int, float)) and 0.0 <= sample_units <= 1.0):
        raise ValueError(f"sample_units={sample_units!r}: expected a fraction in [0, 1]")
    if sample_units and activation != "sign":
        raise ValueError(f"sample_units={sample_units!r} draws ±1 units: it needs activation='sign'")
    if variance not in VARIANCES:
        raise ValueError(f"variance={variance!r}: expected one of {VARIANCES}")
    if synapses not in SYNAPSES:
        raise ValueError(f"synapses={synapses!r}: expected one of {SYNAPSES}")
    if not (isinstance(zero_prior, (int, float)) and math.isfinite(zero_prior)):
        raise ValueError(f"zero_prior={zero_prior!r}: expected a finite float")
    if zero_prior != 0 and synapses != "ternary":
        raise ValueError(f"zero_prior={zero_prior!r} weighs the zero state: it needs synapses='ternary'")
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


def default_unit_rule(activation: str) -> dict[str, Any]:
    """The training rule a stochastic model gets by default for its hidden units.

    Sign units: the filter-mean variance and every unit drawn ±1 in training after a
    warm-up of pure mean-field steps (``variance="filter-mean"``, ``sample_units=1.0``,
    ``sample_warmup=200``). With ±1 inputs the exact variance of every layer after the first
    is input-independent (computed once per batch), so only the first layer's variance is
    approximated; a compiled default-CNN step costs 1.33× BinaryConnect's (1.87× for the
    exact mean-field pass) and the deployed CNN is more accurate (docs/deep.md, "Defaults
    since 2026-12-06"). Drawn units learn slowly in the first few dozen steps, hence the
    warm-up (small data sets stay mean-field). ReLU units: the exact mean-field pass
    (``"exact"``, 0.0, 0). Stored runs without these keys mean "exact", 0.0 and 0
    (``train.LEGACY_MODEL_OPTIONS``).
    """
    if activation == "sign":
        return {"variance": "filter-mean", "sample_units": 1.0, "sample_warmup": 200}
    return {"variance": "exact", "sample_units": 0.0, "sample_warmup": 0}


class _StochasticSchedules:
    """Epoch schedules shared by the stochastic models (``beta_growth``, ``polarize``)."""

    beta_growth: float
    polarize: float
    polarize_weight: float = 0.0

    def set_epoch(self, epoch: int) -> None:
        """beta = beta_growth**(epoch - 1) in every layer (m = tanh(beta h)), and
        polarization weight lambda_e = polarize * (epoch - 1)."""
        _set_beta(self, self.beta_growth ** (epoch - 1))  # type: ignore[arg-type]
        self.polarize_weight = self.polarize * (epoch - 1)

    def penalty(self) -> torch.Tensor | None:
        """lambda_e * <Var W> (see :func:`synaptic_variance`); None while lambda_e = 0."""
        if self.polarize_weight == 0.0:
            return None
        return self.polarize_weight * synaptic_variance(self)  # type: ignore[arg-type]


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


def _sample_sign_units(mean: torch.Tensor, var: torch.Tensor,
                       rate: float) -> tuple[torch.Tensor, torch.Tensor | None]:  # fmt: skip
    """A fraction ``rate`` of ±1 units (means ``mean``) replaced by draws: value s ∈ {±1} with
    P(s = +1) = (1 + mean)/2, variance 0, gradient straight through to the mean (E[s] = mean).
    At ``rate`` ≥ 1 every unit is drawn and the variance is returned as None: the next layer
    then takes the deterministic-input path (no variance term from its inputs).

    One uniform u per unit decides both: the unit is drawn when u < rate, and then s = +1 when
    u < rate·(1 + mean)/2 (given u < rate, u/rate is uniform on [0, 1)). Random numbers are a
    large part of a compiled CPU step, so one draw per unit instead of two.
    """
    u = torch.rand_like(mean)
    draw = torch.where(u < (0.5 * rate) * (1.0 + mean), 1.0, -1.0).to(mean.dtype)
    hard = mean + (draw - mean).detach()
    if rate >= 1.0:
        return hard, None
    take = u < rate
    return torch.where(take, hard, mean), var.masked_fill(take, 0.0)


def _pool_all(x: torch.Tensor, pools: tuple[Pool, ...]) -> torch.Tensor:
    for p in pools:
        x = pool_values(x, p.kind, p.size)
    return x


def _activate_pool(act: Callable[[torch.Tensor], torch.Tensor], z: torch.Tensor, pools: tuple[Pool, ...]) -> torch.Tensor:
    """pools(act(z)) for a non-decreasing ``act`` (sign with sign(0) = +1, relu). Where no
    gradient is needed the leading max pools run first — max act(z) = act(max z) — so ``act``
    sees a map size² smaller, equal value for value; with gradients the order is kept (the
    straight-through gradient of a pooled sign is routed differently)."""
    if torch.is_grad_enabled() and z.requires_grad:
        return _pool_all(act(z), pools)
    k = _leading_max_pools(pools)
    return _pool_all(act(_pool_all(z, pools[:k])), pools[k:])


def _leading_max_pools(pools: tuple[Pool, ...]) -> int:
    """How many of ``pools`` are max pools before the first average pool."""
    k = 0
    while k < len(pools) and pools[k].kind == "max":
        k += 1
    return k


def _channel_shape(z: torch.Tensor) -> list[int]:
    return [1, -1] + [1] * (z.dim() - 2)


class _StreamedChannelMoments:
    """Per-channel mean and (biased) variance of maps (B, C, ...) given chunk by chunk.

    Sums accumulate in float64 across chunks; within a chunk the maps are shifted by the
    first chunk's channel means, so that the variance does not cancel for channels far from
    zero mean. :meth:`add_` works in place on the chunk (no full-size temporaries: on a CPU
    the allocations cost as much as the arithmetic).
    """

    def __init__(self) -> None:
        self.shift: torch.Tensor | None = None
        self.n = 0
        self.s1: torch.Tensor | float = 0.0
        self.s2: torch.Tensor | float = 0.0

    def add_(self, z: torch.Tensor) -> None:
        """Add the chunk ``z`` (overwritten)."""
        dims = [d for d in range(z.dim()) if d != 1]
        if self.shift is None:
            self.shift = z.mean(dim=dims)
        z.sub_(self.shift.view(_channel_shape(z)))
        self.s1 = self.s1 + z.sum(dim=dims).double()
        self.s2 = self.s2 + z.square_().sum(dim=dims).double()
        self.n += z.numel() // z.shape[1]

    def result(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(mean, variance), float64."""
        if self.shift is None:
            raise ValueError("no chunks were added")
        m1 = self.s1 / self.n
        return m1 + self.shift.double(), (self.s2 / self.n - m1 * m1).clamp_min(0.0)


class StochasticNet(_StochasticSchedules, DeepModel):
    """Network of stochastic binary synapses (:class:`StochasticBinaryLinear` /
    :class:`StochasticBinaryConv2d`) with :class:`MeanVarBatchNorm`, for any architecture.

    Modes: "mean-field" (training; moments propagated, scores from
    ``output``), "deploy" (weights sign(m), deterministic activations, batch norm
    with the calibrated deploy statistics), "sample" (local reparameterization,
    one stochastic network per example; pass ``generator`` to ``forward``).

    Pooling in the mean-field pass (:mod:`.pooling`): average pooling of the
    activations' moments; max pooling of sign units by the exact rule for
    independent ±1 units (the OR of the bits); max pooling of ReLU units on the
    Gaussian pre-activations by Clark's pairwise rule, then the ReLU moments.

    Args:
        arch: architecture string, :class:`~.architecture.Architecture`, or MLP sizes [in, h1, ..., out].
        activation: hidden units, "sign" (default) or "relu".
        batch_norm: batch norm after every layer, the output included (default
            True; required for convolutional networks).
        bias: real biases (default False; batch norm supplies the offsets).
        h_init: latent fields start uniform in [-h_init, h_init] (default 1.0).
        output: score map of the output Gaussian, "probit" (default), "snr" or "mean".
        score_scale: multiplies the scores (default 1.0).
        beta_growth: inverse-temperature schedule m = tanh(beta h) with
            beta = beta_growth**(epoch - 1) (default 1.0: no annealing).
        polarize: polarization term lambda_e * <Var W> added to the training
            loss, lambda_e = polarize * (epoch - 1) (default 0.0: off; drives
            m -> ±1 so the mean-field and deployed networks converge; it did not
            raise deployed accuracy in our measurements, see docs/deep.md).
        synapses: "binary" (default; W ∈ {±1}) or "ternary" (W ∈ {−1, 0, +1},
            a categorical distribution per synapse; deployed at its most probable level).
        zero_prior: log prior odds of the zero state against ±1, θ(0) in the
            softmax (default 0.0; ternary synapses only): an l0-style prior, the
            larger the sparser the deployed network (docs/deep.md, "Ternary synapses").
        variance: the mean-field variance rule (:data:`~.layers.VARIANCES`): "exact" (a
            second weight product per layer) or "filter-mean" (each unit's synaptic
            variances replaced by their mean over its fan-in: no second product;
            docs/deep.md, "Training cost"). Default None: "filter-mean" with sign units,
            "exact" with ReLU units (:func:`default_unit_rule`).
        max_pool: the dependence assumed between the units of a max-pooling window in
            the mean-field pass (:data:`~.pooling.MAX_POOL_RULES`): "comonotone"
            (default; units driven by one common noise, as the weight-sharing units of a
            window nearly are: the max of the units' means) or "independent" (the OR of
            independent bits, Clark's rule for ReLU units; the default before 2026-12-06,
            2–3 points lower deployed on the measured CNNs: docs/deep.md, "Sign units").
        sample_units: in training, the fraction ρ of hidden sign units (after pooling)
            replaced by a draw s = ±1 with P(s = +1) = (1 + mean)/2 and variance 0, the
            gradient passed straight through to the mean (0.0: the pure mean-field
            pass). The next layer then sees hard ±1 inputs, as the deployed
            network does; evaluation is unchanged (docs/deep.md, "Sign units"). At 1 every
            a_j² is 1, so ``variance="filter-mean"`` is exact there (away from zero padding)
            and the input-variance term vanishes. Default None: 1.0 with sign units, 0.0
            with ReLU units (:func:`default_unit_rule`).
        sample_warmup: training steps of :func:`~.train.train` before the draws begin (the
            trainer reports its step through :meth:`set_step`; a model used directly draws
            from its first step). Default None: 200 with sign units, 0 with ReLU units.

    Shape: input (B, ...) with prod(...) = the architecture's input size; output (B, classes).

    Examples:
        >>> net = StochasticNet("cnn:4c3-p2-16-10")
        >>> net(torch.rand(2, 1, 28, 28)).shape
        torch.Size([2, 10])
    """

    kind = "stochastic"
    eval_modes_coincide = False
    modes = MODES

    def __init__(
        self,
        arch: str | Architecture | list[int],
        activation: str = "sign",
        batch_norm: bool = True,
        bias: bool = False,
        h_init: float = 1.0,
        output: str = "probit",
        score_scale: float = 1.0,
        beta_growth: float = 1.0,
        polarize: float = 0.0,
        synapses: str = "binary",
        zero_prior: float = 0.0,
        variance: str | None = None,
        max_pool: str = "comonotone",
        sample_units: float | None = None,
        sample_warmup: int | None = None,
        class_names: list[str] | None = None,
    ) -> None:
        rule = default_unit_rule(activation)
        variance = rule["variance"] if variance is None else variance
        sample_units = rule["sample_units"] if sample_units is None else sample_units
        sample_warmup = rule["sample_warmup"] if sample_warmup is None else sample_warmup
        _check_stochastic_options(activation, output, score_scale, beta_growth, polarize, synapses, zero_prior,
                                  variance, max_pool, sample_units, sample_warmup)  # fmt: skip
        options = dict(activation=activation, batch_norm=batch_norm, bias=bias, h_init=h_init, output=output,
                       score_scale=score_scale, beta_growth=beta_growth, polarize=polarize)  # fmt: skip
        if synapses != "binary" or zero_prior != 0.0:  # stored only when set: earlier runs' hparams stay valid
            options.update(synapses=synapses, zero_prior=zero_prior)
        # always stored: their defaults changed (train.LEGACY_MODEL_OPTIONS)
        options.update(variance=variance, max_pool=max_pool, sample_units=float(sample_units),
                       sample_warmup=int(sample_warmup))  # fmt: skip
        super().__init__(arch, class_names, options)
        self.max_pool = max_pool
        self.sample_units = float(sample_units)
        self.sample_warmup = int(sample_warmup)
        # a python bool the compiled forward guards on: one recompilation when the draws begin
        self.draws_on = True
        if not batch_norm and self.architecture.family == "cnn":
            raise ValueError("batch_norm=False: the stochastic conv net needs batch norm")
        self.output = output
        self.score_scale = float(score_scale)
        conv_cls, linear_cls = {
            "binary": (StochasticBinaryConv2d, StochasticBinaryLinear),
            "ternary": (StochasticTernaryConv2d, StochasticTernaryLinear),
        }[synapses]
        self.synapses = synapses
        _build_layers(
            self,
            lambda c_in, c_out, spec: conv_cls(c_in, c_out, spec.kernel, padding=spec.padding, bias=bias,
                                               h_init=h_init),  # fmt: skip
            lambda a, b: linear_cls(a, b, bias=bias, h_init=h_init),
            (lambda c, is_conv: MeanVarBatchNorm(c)) if batch_norm else None,
        )
        for layer in self.layers:
            if isinstance(layer, _TernarySynapses):
                layer.zero_prior = float(zero_prior)
            if isinstance(layer, _StochasticSynapses):
                layer.variance = variance
        self.act = MomentActivation(activation)
        self.beta_growth = float(beta_growth)
        self.polarize = float(polarize)

    def set_step(self, step: int) -> None:
        """The unit draws (``sample_units``) begin at step ``sample_warmup``."""
        self.draws_on = step >= self.sample_warmup

    def _activate_pool_moments(self, mean: torch.Tensor, var: torch.Tensor,
                               pools: tuple[Pool, ...]) -> tuple[torch.Tensor, torch.Tensor]:  # fmt: skip
        activated = False
        comonotone = self.max_pool == "comonotone"
        gauss_max = comonotone_max_pool_gauss_moments if comonotone else max_pool_gauss_moments
        for p in pools:
            if p.kind == "max" and self.act.name == "relu" and not activated:
                mean, var = gauss_max(mean, var, p.size)
                continue
            if p.kind == "max" and self.act.name == "sign" and not activated:
                # the two steps in one pass
                sign_max = comonotone_sign_max_pool_moments if comonotone else sign_max_pool_moments
                mean, var = sign_max(mean, var, p.size)
                activated = True
                continue
            if not activated:
                mean, var = self.act.forward_moments(mean, var)
                activated = True
            if p.kind == "avg":
                mean, var = avg_pool_moments(mean, var, p.size)
            elif self.act.name == "sign":
                mean, var = (comonotone_max_pool_sign_moments if comonotone else max_pool_sign_moments)(mean, p.size)
            else:  # max of rectified units after an average pool: the Gaussian rule as an approximation
                mean, var = gauss_max(mean, var, p.size)
        if not activated:
            mean, var = self.act.forward_moments(mean, var)
        return mean, var

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """Class scores of raw inputs ``x`` in [0, 1] according to ``self.mode``."""
        a = self.preprocess(x)
        last = len(self.layers) - 1
        if self.mode == "mean-field":
            mean, var = a, None
            # every unit of the previous layer drawn ±1 (sample_units = 1, training): the next
            # layer's variance does not depend on the data (layers' ``pm1_inputs``)
            pm1 = False
            for i, layer in enumerate(self.layers):
                mean = _flatten_for(layer, mean)
                var = None if var is None else _flatten_for(layer, var)
                mean, var = layer.forward_moments(mean, var, pm1_inputs=pm1)
                if self.norms is not None:
                    mean, var = self.norms[i].forward_moments(mean, var)
                if i < last:
                    mean, var = self._activate_pool_moments(mean, var, self.pools[i])
                    if self.sample_units and self.training and self.draws_on:
                        mean, var = _sample_sign_units(mean, var, self.sample_units)
                        pm1 = var is None
            return _output_scores(self.output, self.score_scale, mean, var)
        for i, layer in enumerate(self.layers):
            a = _flatten_for(layer, a)
            if self.mode == "deploy":
                z = layer(a)
                if self.norms is not None:
                    z = self.norms[i](z)
            else:
                z = layer.forward_sample(a, generator)
                if self.norms is not None:
                    z = self.norms[i].forward_sample(z)
            a = _activate_pool(self.act, z, self.pools[i]) if i < last else z
        return a

    @torch.no_grad()
    def calibrate_deploy(self, x: torch.Tensor, batch_size: int = EVAL_BATCH_SIZE) -> None:
        """Set each batch norm's deploy statistics to the exact per-channel mean/variance of the
        deployed pre-activations over ``x`` (layer by layer, earlier layers already calibrated).

        One convolution per layer and chunk. Batch norm with scale gamma_c is non-decreasing in
        s_c z (s_c = sign gamma_c, +1 at 0), so the leading max pools are taken on s_c z as the
        chunk is computed, before the statistics are known, and only the pooled maps are kept:
        size² times less memory and batch-norm work, the same values as pooling after it.
        """
        if self.norms is None:
            return
        # the layer inputs stay in chunks: no full-set copies between layers
        chunks = [self.preprocess(x[j : j + batch_size]) for j in range(0, len(x), batch_size)]
        last = len(self.layers) - 1
        for i, layer in enumerate(self.layers):
            bn = self.norms[i]
            hidden = i < last
            pools = self.pools[i] if hidden else ()
            lead = _leading_max_pools(pools)
            flip = torch.where(bn.weight < 0, -1.0, 1.0)
            moments = _StreamedChannelMoments()
            kept = []
            for a in chunks:
                z = layer(_flatten_for(layer, a))
                z.mul_(flip.view(_channel_shape(z)))
                if hidden:
                    kept.append(_pool_all(z, pools[:lead]) if lead else z.clone())
                moments.add_(z)  # consumes z
            mean, var = moments.result()
            bn.deploy_mean.copy_(mean * flip.double())  # the statistics of z from those of s z
            bn.deploy_var.copy_(var)
            if not hidden:
                break
            # batch norm in the variable s z: gamma (z - M) = |gamma| (s z - s M)
            m, g = bn.deploy_mean * flip, bn.weight.abs()
            chunks = [
                _pool_all(self.act(F.batch_norm(z, m, bn.deploy_var, g, bn.bias, False, 0.0, bn.eps)), pools[lead:])
                for z in kept
            ]  # fmt: skip

    def export_spec(self) -> dict[str, Any]:
        """The deployed network (weights sign(h) as int8, deploy batch-norm statistics)."""
        self._export_check(self.act.name)
        layers = []
        last = len(self.layers) - 1
        for i, layer in enumerate(self.layers):
            bn = None
            if self.norms is not None:
                n = self.norms[i]
                bn = _bn_spec(n.weight, n.bias, n.deploy_mean, n.deploy_var, n.eps)
            layers.append(self._layer_spec(i, layer.deployed_weight(), _np32(layer.bias), bn,
                                           self.act.name if i < last else "none"))  # fmt: skip
        return self._spec(layers)


class _STENet(DeepModel):
    """Network of BinaryConnect / full-precision layers with torch batch norm, for any architecture."""

    def __init__(self, arch, conv_factory, linear_factory, activation: str, batch_norm: bool, class_names,
                 options) -> None:  # fmt: skip
        super().__init__(arch, class_names, options)
        self.activation = activation
        _build_layers(
            self, conv_factory, linear_factory,
            (lambda c, is_conv: nn.BatchNorm2d(c) if is_conv else nn.BatchNorm1d(c)) if batch_norm else None,
        )  # fmt: skip

    def _act(self, z: torch.Tensor) -> torch.Tensor:
        if self.activation == "sign":
            return ste_sign(z) if self.training else sign_pm1(z)
        return torch.relu(z)

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """Class scores; "mean-field" and "deploy" coincide for these models at eval time."""
        a = self.preprocess(x)
        last = len(self.layers) - 1
        for i, layer in enumerate(self.layers):
            z = layer(_flatten_for(layer, a))
            if self.norms is not None:
                z = self.norms[i](z)
            a = _activate_pool(self._act, z, self.pools[i]) if i < last else z
        return a

    def after_step(self) -> None:
        """Clip BinaryConnect latent weights to [-1, 1]."""
        for layer in self.layers:
            if isinstance(layer, (BinaryConnectLinear, BinaryConnectConv2d)):
                layer.clip_()

    def export_spec(self) -> dict[str, Any]:
        """The deployed sign network: sign(W) (BinaryConnect/BNN) or the ternary levels t
        (TWN) as int8, and the batch-norm running statistics. TWN's positive scale
        alpha is folded into the batch norm: BN(alpha z' + b) = BN'(z') with
        mean' = (mean − b)/alpha, var' = var/alpha², eps' = eps/alpha²."""
        low_precision = (BinaryConnectLinear, BinaryConnectConv2d, TernaryWeightLinear, TernaryWeightConv2d)
        if not all(isinstance(layer, low_precision) for layer in self.layers):
            return super().export_spec()
        self._export_check(self.activation)
        layers = []
        last = len(self.layers) - 1
        for i, layer in enumerate(self.layers):
            twn = isinstance(layer, (TernaryWeightLinear, TernaryWeightConv2d))
            scale = layer.deploy_scale() if twn else 1.0
            bias = layer.bias
            bn = None
            if self.norms is not None:
                n = self.norms[i]
                if twn:
                    mean = n.running_mean if bias is None else n.running_mean - bias.detach()
                    bn = _bn_spec(n.weight, n.bias, mean / scale, n.running_var / scale**2, n.eps / scale**2)
                    bias = None
                else:
                    bn = _bn_spec(n.weight, n.bias, n.running_mean, n.running_var, n.eps)
            elif twn:
                raise ValueError("a TWN network without batch norm cannot be exported (its scale has nowhere to go)")
            layers.append(self._layer_spec(i, layer.deployed_weight(), _np32(bias), bn,
                                           self.activation if i < last else "none"))  # fmt: skip
        return self._spec(layers)


def _bc_conv(bias: bool, stochastic: bool = False):
    return lambda c_in, c_out, spec: BinaryConnectConv2d(c_in, c_out, spec.kernel, padding=spec.padding, bias=bias,
                                                         stochastic=stochastic)  # fmt: skip


class BinaryConnectNet(_STENet):
    """BinaryConnect network: binary weights (STE, clipping), real ReLU units, batch norm.

    Args:
        arch: architecture string, :class:`~.architecture.Architecture`, or MLP sizes [in, h1, ..., out].
        stochastic: stochastic binarization while training (default False).
        activation: hidden units, "relu" (default, as in BinaryConnect) or "sign".
        batch_norm: batch norm after every layer (default True).
        bias: real biases (default False).
    """

    kind = "binaryconnect"

    def __init__(self, arch, stochastic: bool = False, activation: str = "relu", batch_norm: bool = True,
                 bias: bool = False, class_names=None) -> None:  # fmt: skip
        if activation not in ("relu", "sign"):
            raise ValueError(f"activation={activation!r}: expected 'relu' or 'sign'")
        options = dict(stochastic=stochastic, activation=activation, batch_norm=batch_norm, bias=bias)
        super().__init__(arch, _bc_conv(bias, stochastic),
                         lambda a, b: BinaryConnectLinear(a, b, bias=bias, stochastic=stochastic),
                         activation, batch_norm, class_names, options)  # fmt: skip


class BNNNet(_STENet):
    """BNN (Hubara et al.): binary weights and sign activations, both with STE; batch norm.

    The first layer takes the real standardized inputs.

    Args:
        arch: architecture string, :class:`~.architecture.Architecture`, or MLP sizes [in, h1, ..., out].
        batch_norm: batch norm after every layer (default True).
        bias: real biases (default False).
    """

    kind = "bnn"

    def __init__(self, arch, batch_norm: bool = True, bias: bool = False, class_names=None) -> None:
        options = dict(batch_norm=batch_norm, bias=bias)
        super().__init__(arch, _bc_conv(bias), lambda a, b: BinaryConnectLinear(a, b, bias=bias), "sign",
                         batch_norm, class_names, options)  # fmt: skip


class TWNNet(_STENet):
    """Ternary weight network (Li & Liu, arXiv:1605.04711): weights alpha · t, t ∈ {−1, 0, +1}
    (threshold 0.7 E|W| per layer, STE), batch norm.

    Args:
        arch: architecture string, :class:`~.architecture.Architecture`, or MLP sizes [in, h1, ..., out].
        activation: hidden units, "relu" (default, as in TWN) or "sign".
        batch_norm: batch norm after every layer (default True).
        bias: real biases (default False).
    """

    kind = "twn"

    def __init__(self, arch, activation: str = "relu", batch_norm: bool = True, bias: bool = False,
                 class_names=None) -> None:  # fmt: skip
        if activation not in ("relu", "sign"):
            raise ValueError(f"activation={activation!r}: expected 'relu' or 'sign'")
        options = dict(activation=activation, batch_norm=batch_norm, bias=bias)
        super().__init__(
            arch,
            lambda c_in, c_out, spec: TernaryWeightConv2d(c_in, c_out, spec.kernel, padding=spec.padding, bias=bias),
            lambda a, b: TernaryWeightLinear(a, b, bias=bias),
            activation, batch_norm, class_names, options,
        )  # fmt: skip


class FloatNet(_STENet):
    """Full-precision network with ReLU units and batch norm (not exportable).

    Args:
        arch: architecture string, :class:`~.architecture.Architecture`, or MLP sizes [in, h1, ..., out].
        batch_norm: batch norm after every layer (default True).
        bias: biases (default True).
    """

    kind = "float"

    def __init__(self, arch, batch_norm: bool = True, bias: bool = True, class_names=None) -> None:
        options = dict(batch_norm=batch_norm, bias=bias)
        super().__init__(arch, lambda c_in, c_out, spec: nn.Conv2d(c_in, c_out, spec.kernel, padding=spec.padding,
                                                                   bias=bias),  # fmt: skip
                         lambda a, b: nn.Linear(a, b, bias=bias), "relu", batch_norm, class_names, options)


# The earlier, family-specific names of the same classes.
StochasticMLP = StochasticCNN = StochasticNet
BinaryConnectMLP = BinaryConnectNet
BNNMLP = BNNNet
FloatMLP = FloatNet

_CLASSES: dict[str, type[DeepModel]] = {
    "stochastic": StochasticNet, "binaryconnect": BinaryConnectNet, "bnn": BNNNet, "twn": TWNNet, "float": FloatNet,
}  # fmt: skip


def model_class(kind: str) -> type[DeepModel]:
    """The class behind ``build_model(kind, ...)`` (``kind`` one of ``MODEL_KINDS``)."""
    return _CLASSES[kind]


def build_model(kind: str, arch: str, class_names: list[str] | None = None, **options: Any) -> DeepModel:
    """Construct a model of ``kind`` (one of ``MODEL_KINDS``) for ``arch``; options as in each class."""
    if kind not in MODEL_KINDS:
        raise ValueError(f"model={kind!r}: expected one of {MODEL_KINDS}")
    architecture = parse_architecture(arch)
    try:
        return _CLASSES[kind](architecture, class_names=class_names, **options)  # type: ignore[call-arg]
    except TypeError as exc:
        raise TypeError(f"options {sorted(options)} for model={kind!r}: {exc}") from None
