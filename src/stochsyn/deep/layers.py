"""Layers with stochastic binary or ternary synapses, and a batch norm acting on (mean, variance).

Each synapse W_ij is an independent ±1 variable with P(W_ij = ±1) = (1 ± m_ij)/2,
m_ij = tanh(h_ij); the latent fields h are the trained parameters
(Baldassi et al., PRL 120, 268103 (2018), arXiv:1710.09825). For inputs with
means a_j and variances s_j the pre-activation z_i = sum_j W_ij x_j (+ b_i) is, by
the central limit theorem, Gaussian with

    mean_i = sum_j m_ij a_j (+ b_i)
    var_i  = sum_j [(a_j**2 + s_j) - m_ij**2 a_j**2]
           = sum_j (1 - m_ij**2) a_j**2 + sum_j s_j

(docs/deep.md, "Mathematics"; Soudry et al. 2014). Ternary synapses
W ∈ {−1, 0, +1} carry a categorical distribution (two trained fields per
synapse, :class:`StochasticTernaryLinear`); with m = E[W] and r = E[W²] the same
CLT gives var_i = sum_j (r_ij − m_ij**2) a_j**2 + sum_j r_ij s_j. Three modes:

* ``"mean-field"`` (training): ``forward_moments(mean, var)`` propagates the
  two moments; ``var=None`` means a deterministic input.
* ``"deploy"``: ``forward(x)`` with the most probable weights: sign(m) for
  binary synapses (sign(0) := +1), the most probable level for ternary ones.
* ``"sample"``: ``forward(x, generator)`` draws z ~ N(mean, var) for the given
  input values — the local reparameterization trick (Kingma et al. 2015;
  Shayer, Levi, Fetaya, ICLR 2018), i.e. an independent weight sample per example.

The layer's mode is chosen by the model that calls it; the methods are explicit.
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from .. import synapses
from ..synapses import levels_for
from .activations import VAR_FLOOR, sign_pm1

__all__ = [
    "MODES",
    "VARIANCES",
    "StochasticBinaryLinear",
    "StochasticBinaryConv2d",
    "StochasticTernaryLinear",
    "StochasticTernaryConv2d",
    "MeanVarBatchNorm",
]

MODES = ("mean-field", "deploy", "sample")

#: Variance rules of the mean-field pass: "exact" is the CLT sum above (one product per
#: moment); "filter-mean" replaces each synapse's Var W and E[W²] by their means over the
#: output unit's fan-in, var_i ≈ ⟨Var W⟩_i Σ_j a_j² + ⟨E[W²]⟩_i Σ_j s_j — exact when the
#: synapses of a unit are equally polarized or the inputs' second moments are uniform —
#: so the variance costs a channel sum and a box filter instead of a second weight product.
VARIANCES = ("exact", "filter-mean")


def _weight_variance(m: torch.Tensor, r: torch.Tensor | None) -> torch.Tensor:
    """Var W = E[W²] − m² from the synaptic moments (r = None: binary synapses, E[W²] = 1)."""
    return (1.0 if r is None else r) - m * m


def _check_init(h_init: float) -> float:
    if not (isinstance(h_init, (int, float)) and math.isfinite(h_init) and h_init > 0):
        raise ValueError(f"h_init={h_init!r}: expected a positive finite float")
    return float(h_init)


class _StochasticSynapses(nn.Module):
    """A tensor of independent stochastic synapses: its moments, its deployed value, its schedule."""

    bias: nn.Parameter | None
    h_init: float
    # "exact" or "filter-mean" (:data:`VARIANCES`); set by the model.
    variance: str = "exact"

    @property
    def beta(self) -> float:
        """Inverse temperature of the synaptic distribution (m = tanh(beta h), or softmax(beta theta)).

        Set by the model's schedule: annealing beta up polarizes the synapses, so that the
        deployed network approaches the trained one. Default 1."""
        buf = self._buffers.get("beta_")
        return 1.0 if buf is None else float(buf)

    @beta.setter
    def beta(self, value: float) -> None:
        # Once beta leaves 1 it lives in a 0-d buffer changed in place: a compiled forward
        # takes the buffer as an input, whereas a Python float is a guarded constant, and a
        # new beta every epoch recompiled the graph until dynamo's recompile limit sent the
        # forward back to eager (epochs 30-60% slower from epoch 5 on; docs/deep.md).
        buf = self._buffers.get("beta_")
        if buf is not None:
            buf.fill_(float(value))
        elif value != 1.0:
            ref = next(self.parameters())
            self.register_buffer("beta_", torch.tensor(float(value), dtype=ref.dtype, device=ref.device),
                                 persistent=False)  # fmt: skip

    def _at_beta(self, fields: torch.Tensor) -> torch.Tensor:
        """beta * fields (the fields themselves while beta has never left 1)."""
        buf = self._buffers.get("beta_")
        return fields if buf is None else fields * buf

    def _make_synapses(self, shape: tuple[int, ...]) -> None:
        raise NotImplementedError

    def _filter_mean_moments(self, m: torch.Tensor, r: torch.Tensor | None,
                             dims: tuple[int, ...]) -> tuple[torch.Tensor, torch.Tensor | float]:
        """Per output unit, Var W and E[W²] averaged over its fan-in (the ``dims`` axes)."""
        vbar = _weight_variance(m, r).mean(dim=dims)
        return vbar, (1.0 if r is None else r.mean(dim=dims))

    def synapse_moments(self) -> tuple[torch.Tensor, torch.Tensor | None]:
        """(m, r) = (E[W], E[W²]); r is None when E[W²] = 1 (binary synapses)."""
        raise NotImplementedError

    @property
    def m(self) -> torch.Tensor:
        """Synaptic means E[W]."""
        return self.synapse_moments()[0]

    def synapse_variance(self) -> torch.Tensor:
        """Var W = E[W²] − m² per synapse."""
        m, r = self.synapse_moments()
        return _weight_variance(m, r)

    def deployed_weight(self) -> torch.Tensor:
        """The deployed weights (most probable level) as floats."""
        raise NotImplementedError


class _BinarySynapses(_StochasticSynapses):
    """W ∈ {±1} with P(W = ±1) = (1 ± m)/2, m = tanh(beta h); the latent fields h are trained."""

    h: nn.Parameter

    def _make_synapses(self, shape: tuple[int, ...]) -> None:
        self.h = nn.Parameter(torch.empty(shape))

    def reset_parameters(self) -> None:
        """h ~ Uniform(-h_init, h_init) (so |m| <= tanh(h_init)); bias = 0."""
        with torch.no_grad():
            self.h.uniform_(-self.h_init, self.h_init)
            if self.bias is not None:
                self.bias.zero_()

    def synapse_moments(self) -> tuple[torch.Tensor, torch.Tensor | None]:
        """(tanh(beta h), None): E[W²] = 1."""
        return torch.tanh(self._at_beta(self.h)), None

    def deployed_weight(self) -> torch.Tensor:
        """The deployed binary weights sign(m) = sign(h) as ±1 floats (sign(0) = +1)."""
        return sign_pm1(self.h)


class _TernarySynapses(_StochasticSynapses):
    """W ∈ {−1, 0, +1} with a categorical distribution p = softmax(beta θ) per synapse.

    Two trained fields per synapse, θ(−1) and θ(+1) (``fields[..., 0]`` and
    ``fields[..., 1]``); θ(0) = ``zero_prior`` (fixed, default 0) removes the
    softmax's shift freedom and is the log prior odds of the zero state:
    p(w) ∝ π(w) exp θ(w) with π(0)/π(±1) = exp(zero_prior), the sparsity control
    (a synapse deploys to 0 unless a field θ(±1) exceeds zero_prior). The moments
    m = p(+1) − p(−1), r = E[W²] = 1 − p(0), and the deployed (most probable)
    level come from :mod:`stochsyn.synapses`, shared with the perceptron solver.
    """

    fields: nn.Parameter
    levels = levels_for(3)
    zero_prior: float = 0.0

    def _make_synapses(self, shape: tuple[int, ...]) -> None:
        self.fields = nn.Parameter(torch.empty(*shape, 2))

    def reset_parameters(self) -> None:
        """θ(±1) = ±h with h ~ Uniform(-h_init, h_init) (the binary layer's m = tanh h when p(0) → 0); bias = 0."""
        with torch.no_grad():
            h = torch.empty(self.fields.shape[:-1]).uniform_(-self.h_init, self.h_init)
            self.fields[..., 0].copy_(-h)
            self.fields[..., 1].copy_(h)
            if self.bias is not None:
                self.bias.zero_()

    def probabilities(self) -> torch.Tensor:
        """p(w) for w = −1, 0, +1 on the last axis (shape (*weight_shape, 3))."""
        f = self._at_beta(self.fields)
        theta = torch.stack([f[..., 0], torch.full_like(f[..., 0], self.zero_prior), f[..., 1]], dim=-1)
        return synapses.softmax(theta)

    def zero_probability(self) -> torch.Tensor:
        """p(W = 0) per synapse (its mean is the expected fraction of zero weights)."""
        return self.probabilities()[..., 1]

    def synapse_moments(self) -> tuple[torch.Tensor, torch.Tensor | None]:
        """(m, r) = (p(+1) − p(−1), 1 − p(0))."""
        m, r = synapses.moments(self.probabilities(), self.levels)
        return m, r

    def deployed_weight(self) -> torch.Tensor:
        """The most probable level (ties: 0 first, then +1) as floats in {−1, 0, +1}."""
        with torch.no_grad():
            return synapses.deploy(self.probabilities(), self.levels).to(self.fields.dtype)


def _check_sizes(**values: int) -> None:
    """ValueError unless every value is a positive int (layer sizes, kernel sizes, strides)."""
    for name, val in values.items():
        if not isinstance(val, int) or isinstance(val, bool) or val < 1:
            raise ValueError(f"{name}={val!r}: expected a positive int")


def _check_pm1_call(var: torch.Tensor | None) -> None:
    if var is not None:
        raise ValueError("pm1_inputs=True: ±1 inputs are deterministic values, var must be None")


def _check_padding(padding: int) -> None:
    """ValueError unless ``padding`` is a non-negative int."""
    if not isinstance(padding, int) or padding < 0:
        raise ValueError(f"padding={padding!r}: expected a non-negative int")


class _StochasticLinear(_StochasticSynapses):
    """Fully connected layer of stochastic synapses W (out×in), for either synapse type.

    mean = a @ m.T (+ b);  var = (a**2) @ (r − m**2).T + s @ r.T
    (binary synapses: r = 1, var = (a**2) @ (1 − m**2).T + sum_j s_j).
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = False, h_init: float = 1.0) -> None:
        super().__init__()
        _check_sizes(in_features=in_features, out_features=out_features)
        self.in_features = in_features
        self.out_features = out_features
        self.h_init = _check_init(h_init)
        self._make_synapses((out_features, in_features))
        self.bias = nn.Parameter(torch.empty(out_features)) if bias else None
        self.reset_parameters()

    def forward_moments(
        self, mean: torch.Tensor, var: torch.Tensor | None = None, pm1_inputs: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Gaussian moments of the pre-activation given input moments (``var=None``: deterministic input).

        ``pm1_inputs``: the inputs are ±1 values (``var`` must be None), so a_j² = 1 and the
        variance Σ_j Var W_ij is the same for every example: shape (1, out), exact under
        either variance rule, no product with the data."""
        m, r = self.synapse_moments()
        out_mean = F.linear(mean, m, self.bias)
        if pm1_inputs:
            _check_pm1_call(var)
            return out_mean, _weight_variance(m, r).sum(dim=1)[None, :]
        if self.variance == "filter-mean":
            vbar, rbar = self._filter_mean_moments(m, r, (1,))
            out_var = (mean * mean).sum(dim=-1, keepdim=True) * vbar
            if var is not None:
                out_var = out_var + var.sum(dim=-1, keepdim=True) * rbar
            return out_mean, out_var
        out_var = F.linear(mean * mean, _weight_variance(m, r))
        if var is not None:
            out_var = out_var + (var.sum(dim=-1, keepdim=True) if r is None else F.linear(var, r))
        return out_mean, out_var

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Deploy mode: x @ W_deployed.T (+ b)."""
        return F.linear(x, self.deployed_weight(), self.bias)

    def forward_sample(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """Sample mode: z ~ N(x @ m.T + b, x**2 @ Var(W).T), one weight draw per example."""
        mean, var = self.forward_moments(x)
        eps = torch.randn(mean.shape, generator=generator, dtype=mean.dtype, device=mean.device)
        return mean + torch.sqrt(var.clamp_min(0.0)) * eps

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}, h_init={self.h_init}"
        )


class _StochasticConv2d(_StochasticSynapses):
    """2-D convolution with stochastic kernels W (out×in×k×k), for either synapse type.

    mean = conv(a, m) (+ b);  var = conv(a**2, r − m**2) + conv(s, r)
    (the same per-receptive-field sums as the linear layer).
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        stride: int = 1,
        padding: int = 0,
        bias: bool = False,
        h_init: float = 1.0,
    ) -> None:
        super().__init__()
        _check_sizes(in_channels=in_channels, out_channels=out_channels, kernel_size=kernel_size, stride=stride)
        _check_padding(padding)
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = kernel_size
        self.stride = stride
        self.padding = padding
        self.h_init = _check_init(h_init)
        self._make_synapses((out_channels, in_channels, kernel_size, kernel_size))
        self.bias = nn.Parameter(torch.empty(out_channels)) if bias else None
        self.reset_parameters()

    def _conv(self, x: torch.Tensor, w: torch.Tensor, b: torch.Tensor | None = None) -> torch.Tensor:
        return F.conv2d(x, w, b, stride=self.stride, padding=self.padding)

    def forward_moments(
        self, mean: torch.Tensor, var: torch.Tensor | None = None, pm1_inputs: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Gaussian moments of the pre-activation given input moments (``var=None``: deterministic input).

        ``pm1_inputs``: the inputs are ±1 values (``var`` must be None), so a_j² = 1 inside the
        image and 0 on the zero padding: the variance is conv(1, Var W), the same for every
        example, computed once on a map of ones (shape (1, C, H, W)); exact under either
        variance rule."""
        m, r = self.synapse_moments()
        out_mean = self._conv(mean, m, self.bias)
        if pm1_inputs:
            _check_pm1_call(var)
            ones = torch.ones((1, *mean.shape[1:]), dtype=mean.dtype, device=mean.device)
            return out_mean, self._conv(ones, _weight_variance(m, r))
        if self.variance == "filter-mean":
            vbar, rbar = self._filter_mean_moments(m, r, (1, 2, 3))
            box = torch.ones(1, 1, self.kernel_size, self.kernel_size, dtype=mean.dtype, device=mean.device)
            out_var = self._conv((mean * mean).sum(dim=1, keepdim=True), box) * vbar[:, None, None]
            if var is not None:
                rb = rbar if isinstance(rbar, float) else rbar[:, None, None]
                out_var = out_var + self._conv(var.sum(dim=1, keepdim=True), box) * rb
            return out_mean, out_var
        out_var = self._conv(mean * mean, _weight_variance(m, r))
        if var is not None:
            if r is None:  # E[W²] = 1: the same sum for every output channel, over the channel-summed variance
                ones = torch.ones(1, 1, self.kernel_size, self.kernel_size, dtype=var.dtype, device=var.device)
                out_var = out_var + self._conv(var.sum(dim=1, keepdim=True), ones)
            else:
                out_var = out_var + self._conv(var, r)
        return out_mean, out_var

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Deploy mode: conv(x, W_deployed) (+ b)."""
        return self._conv(x, self.deployed_weight(), self.bias)

    def forward_sample(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """Sample mode (local reparameterization): z ~ N(conv(x, m) + b, conv(x**2, Var W))."""
        mean, var = self.forward_moments(x)
        eps = torch.randn(mean.shape, generator=generator, dtype=mean.dtype, device=mean.device)
        return mean + torch.sqrt(var.clamp_min(0.0)) * eps

    def extra_repr(self) -> str:
        return (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}, "
            f"padding={self.padding}, bias={self.bias is not None}, h_init={self.h_init}"
        )


class StochasticBinaryLinear(_BinarySynapses, _StochasticLinear):
    """Fully connected layer of stochastic binary synapses W ∈ {±1}^(out×in).

    mean = a @ m.T (+ b);  var = (a**2) @ (1 - m**2).T + sum_j s_j.

    Args:
        in_features, out_features: layer sizes.
        bias: add a real (deterministic) bias b (default False).
        h_init: latent fields start uniform in [-h_init, h_init] (default 1.0).

    Shape: (B, in_features) -> (B, out_features) (mean and variance alike).
    """


class StochasticBinaryConv2d(_BinarySynapses, _StochasticConv2d):
    """2-D convolution with stochastic binary kernels W ∈ {±1}^(out×in×k×k).

    mean = conv(a, m) (+ b);  var = conv(a**2, 1 - m**2) + conv(s, 1).

    Args:
        in_channels, out_channels, kernel_size: as in ``torch.nn.Conv2d`` (square kernel).
        stride, padding: as in ``torch.nn.Conv2d`` (defaults 1 and 0).
        bias: add a real per-channel bias (default False).
        h_init: latent fields start uniform in [-h_init, h_init] (default 1.0).
    """


class StochasticTernaryLinear(_TernarySynapses, _StochasticLinear):
    """Fully connected layer of stochastic ternary synapses W ∈ {−1, 0, +1}^(out×in).

    mean = a @ m.T (+ b);  var = (a**2) @ (r − m**2).T + s @ r.T, with
    m = p(+1) − p(−1), r = 1 − p(0) (see :class:`_TernarySynapses`).

    Args: as :class:`StochasticBinaryLinear` (``h_init`` sets θ(±1) = ±h, h uniform in [-h_init, h_init]).
    """


class StochasticTernaryConv2d(_TernarySynapses, _StochasticConv2d):
    """2-D convolution with stochastic ternary kernels W ∈ {−1, 0, +1}^(out×in×k×k).

    mean = conv(a, m) (+ b);  var = conv(a**2, r − m**2) + conv(s, r).

    Args: as :class:`StochasticBinaryConv2d`.
    """


class MeanVarBatchNorm(nn.Module):
    """Batch normalization of a Gaussian pre-activation N(mean, var), per channel (dim 1).

    Training: with batch statistics M = <mean>, S = Var_batch(mean) + <var> (the
    total variance of z over examples *and* synapse noise),
        mean' = gamma (mean - M) / sqrt(S + eps) + beta,   var' = gamma**2 var / (S + eps).
    Running averages of M and S (momentum as in torch.nn.BatchNorm) serve
    ``eval``. The deployed network (weights sign(m)) sees a different
    pre-activation scale, so it gets its own statistics ``deploy_mean`` /
    ``deploy_var``, measured on training data by the model's ``calibrate_deploy``;
    :meth:`forward` (deploy) is exactly ``F.batch_norm`` in eval mode with them.

    Args:
        num_features: channels.
        eps: added to the variance (default 1e-5).
        momentum: running-average momentum (default 0.1).
    """

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float = 0.1) -> None:
        super().__init__()
        self.num_features = num_features
        self.eps = float(eps)
        self.momentum = float(momentum)
        self.weight = nn.Parameter(torch.ones(num_features))
        self.bias = nn.Parameter(torch.zeros(num_features))
        self.register_buffer("running_mean", torch.zeros(num_features))
        self.register_buffer("running_var", torch.ones(num_features))
        self.register_buffer("deploy_mean", torch.zeros(num_features))
        self.register_buffer("deploy_var", torch.ones(num_features))

    def reset_parameters(self) -> None:
        """gamma = 1, beta = 0, running and deploy statistics reset to (0, 1)."""
        with torch.no_grad():
            self.weight.fill_(1.0)
            self.bias.zero_()
            for name in ("running_mean", "deploy_mean"):
                getattr(self, name).zero_()
            for name in ("running_var", "deploy_var"):
                getattr(self, name).fill_(1.0)

    def _shape(self, x: torch.Tensor) -> list[int]:
        return [1, self.num_features] + [1] * (x.dim() - 2)

    def forward_moments(self, mean: torch.Tensor, var: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Normalize (mean, var) with batch statistics (training) or running statistics (eval)."""
        shape = self._shape(mean)
        if self.training:
            dims = [d for d in range(mean.dim()) if d != 1]
            bm = mean.mean(dim=dims)
            bs = mean.var(dim=dims, unbiased=False) + var.mean(dim=dims)
            with torch.no_grad():
                self.running_mean.lerp_(bm.detach(), self.momentum)
                self.running_var.lerp_(bs.detach(), self.momentum)
        else:
            bm, bs = self.running_mean, self.running_var
        scale = self.weight / torch.sqrt(bs + self.eps)
        out_mean = (mean - bm.view(shape)) * scale.view(shape) + self.bias.view(shape)
        out_var = var * (scale * scale).view(shape)
        return out_mean, out_var.clamp_min(VAR_FLOOR)

    def forward_sample(self, z: torch.Tensor) -> torch.Tensor:
        """Normalize sampled pre-activations with the running (mean-field) statistics."""
        return F.batch_norm(z, self.running_mean, self.running_var, self.weight, self.bias, False, 0.0, self.eps)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """Deploy mode: F.batch_norm(z, deploy_mean, deploy_var, gamma, beta, eval, eps)."""
        return F.batch_norm(z, self.deploy_mean, self.deploy_var, self.weight, self.bias, False, 0.0, self.eps)

    def extra_repr(self) -> str:
        return f"{self.num_features}, eps={self.eps}, momentum={self.momentum}"
