"""Layers with stochastic binary synapses, and a batch norm acting on (mean, variance).

Each synapse W_ij is an independent ±1 variable with P(W_ij = ±1) = (1 ± m_ij)/2,
m_ij = tanh(h_ij); the latent fields h are the trained parameters
(Baldassi et al., PRL 120, 268103 (2018), arXiv:1710.09825). For inputs with
means a_j and variances s_j the pre-activation z_i = sum_j W_ij x_j (+ b_i) is, by
the central limit theorem, Gaussian with

    mean_i = sum_j m_ij a_j (+ b_i)
    var_i  = sum_j [(a_j**2 + s_j) - m_ij**2 a_j**2]
           = sum_j (1 - m_ij**2) a_j**2 + sum_j s_j

(docs/deep.md, "Mathematics"; Soudry et al. 2014). Three modes:

* ``"mean-field"`` (training): ``forward_moments(mean, var)`` propagates the
  two moments; ``var=None`` means a deterministic input.
* ``"deploy"``: ``forward(x)`` with the weights sign(m) (sign(0) := +1).
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

from .activations import VAR_FLOOR, sign_pm1

__all__ = ["MODES", "StochasticBinaryLinear", "StochasticBinaryConv2d", "MeanVarBatchNorm"]

MODES = ("mean-field", "deploy", "sample")


def _check_init(h_init: float) -> float:
    if not (isinstance(h_init, (int, float)) and math.isfinite(h_init) and h_init > 0):
        raise ValueError(f"h_init={h_init!r}: expected a positive finite float")
    return float(h_init)


class _StochasticBinaryBase(nn.Module):
    """Shared parameter handling: latent fields h, m = tanh(h), deployed sign(m)."""

    h: nn.Parameter
    bias: nn.Parameter | None
    h_init: float
    # Inverse temperature of the synaptic distribution, m = tanh(beta h); set by
    # the model's schedule (annealing beta up polarizes the synapses so that the
    # deployed sign(m) network approaches the trained stochastic one).
    beta: float = 1.0

    def reset_parameters(self) -> None:
        """h ~ Uniform(-h_init, h_init) (so |m| <= tanh(h_init)); bias = 0."""
        with torch.no_grad():
            self.h.uniform_(-self.h_init, self.h_init)
            if self.bias is not None:
                self.bias.zero_()

    @property
    def m(self) -> torch.Tensor:
        """Synaptic means m = tanh(beta h) = E[W]."""
        return torch.tanh(self.h * self.beta) if self.beta != 1.0 else torch.tanh(self.h)

    def deployed_weight(self) -> torch.Tensor:
        """The deployed binary weights sign(m) = sign(h) as ±1 floats (sign(0) = +1)."""
        return sign_pm1(self.h)


class StochasticBinaryLinear(_StochasticBinaryBase):
    """Fully connected layer of stochastic binary synapses W ∈ {±1}^(out×in).

    mean = a @ m.T (+ b);  var = (a**2) @ (1 - m**2).T + sum_j s_j.

    Args:
        in_features, out_features: layer sizes.
        bias: add a real (deterministic) bias b (default False).
        h_init: latent fields start uniform in [-h_init, h_init] (default 1.0).
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = False, h_init: float = 1.0) -> None:
        super().__init__()
        for name, val in (("in_features", in_features), ("out_features", out_features)):
            if not isinstance(val, int) or isinstance(val, bool) or val < 1:
                raise ValueError(f"{name}={val!r}: expected a positive int")
        self.in_features = in_features
        self.out_features = out_features
        self.h_init = _check_init(h_init)
        self.h = nn.Parameter(torch.empty(out_features, in_features))
        self.bias = nn.Parameter(torch.empty(out_features)) if bias else None
        self.reset_parameters()

    def forward_moments(
        self, mean: torch.Tensor, var: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Gaussian moments of the pre-activation given input moments (``var=None``: deterministic input)."""
        m = self.m
        out_mean = F.linear(mean, m, self.bias)
        out_var = F.linear(mean * mean, 1.0 - m * m)
        if var is not None:
            out_var = out_var + var.sum(dim=-1, keepdim=True)
        return out_mean, out_var

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Deploy mode: x @ sign(m).T (+ b)."""
        return F.linear(x, self.deployed_weight(), self.bias)

    def forward_sample(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """Sample mode: z ~ N(x @ m.T + b, x**2 @ (1-m**2).T), one weight draw per example."""
        mean, var = self.forward_moments(x)
        eps = torch.randn(mean.shape, generator=generator, dtype=mean.dtype, device=mean.device)
        return mean + torch.sqrt(var.clamp_min(0.0)) * eps

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}, h_init={self.h_init}"
        )


class StochasticBinaryConv2d(_StochasticBinaryBase):
    """2-D convolution with stochastic binary kernels W ∈ {±1}^(out×in×k×k).

    mean = conv(a, m) (+ b);  var = conv(a**2, 1 - m**2) + conv(s, 1)
    (the same per-receptive-field sums as :class:`StochasticBinaryLinear`).

    Args:
        in_channels, out_channels, kernel_size: as in ``torch.nn.Conv2d`` (square kernel).
        stride, padding: as in ``torch.nn.Conv2d`` (defaults 1 and 0).
        bias: add a real per-channel bias (default False).
        h_init: latent fields start uniform in [-h_init, h_init] (default 1.0).
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
        for name, val in (
            ("in_channels", in_channels),
            ("out_channels", out_channels),
            ("kernel_size", kernel_size),
            ("stride", stride),
        ):
            if not isinstance(val, int) or isinstance(val, bool) or val < 1:
                raise ValueError(f"{name}={val!r}: expected a positive int")
        if not isinstance(padding, int) or padding < 0:
            raise ValueError(f"padding={padding!r}: expected a non-negative int")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = kernel_size
        self.stride = stride
        self.padding = padding
        self.h_init = _check_init(h_init)
        self.h = nn.Parameter(torch.empty(out_channels, in_channels, kernel_size, kernel_size))
        self.bias = nn.Parameter(torch.empty(out_channels)) if bias else None
        self.reset_parameters()

    def _conv(self, x: torch.Tensor, w: torch.Tensor, b: torch.Tensor | None = None) -> torch.Tensor:
        return F.conv2d(x, w, b, stride=self.stride, padding=self.padding)

    def forward_moments(
        self, mean: torch.Tensor, var: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Gaussian moments of the pre-activation given input moments (``var=None``: deterministic input)."""
        m = self.m
        out_mean = self._conv(mean, m, self.bias)
        out_var = self._conv(mean * mean, 1.0 - m * m)
        if var is not None:
            ones = torch.ones(1, self.in_channels, self.kernel_size, self.kernel_size, dtype=var.dtype, device=var.device)
            out_var = out_var + self._conv(var, ones)
        return out_mean, out_var

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Deploy mode: conv(x, sign(m)) (+ b)."""
        return self._conv(x, self.deployed_weight(), self.bias)

    def forward_sample(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """Sample mode (local reparameterization): z ~ N(conv(x, m) + b, conv(x**2, 1 - m**2))."""
        mean, var = self.forward_moments(x)
        eps = torch.randn(mean.shape, generator=generator, dtype=mean.dtype, device=mean.device)
        return mean + torch.sqrt(var.clamp_min(0.0)) * eps

    def extra_repr(self) -> str:
        return (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}, "
            f"padding={self.padding}, bias={self.bias is not None}, h_init={self.h_init}"
        )


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
