"""Baseline layers in the same framework: BinaryConnect and BNN weights (STE), full precision.

* BinaryConnect (Courbariaux, Bengio, David, NeurIPS 2015): real latent weights
  W clipped to [-1, 1] after every update; the forward pass uses binarized
  weights W_b = sign(W) (deterministic) or W_b = +1 with probability
  hard_sigmoid(W) = clip((W + 1)/2, 0, 1) (stochastic, training only); the
  gradient with respect to W_b is applied to W (straight-through estimator).
  Test time uses the deterministic sign(W).
* BNN (Hubara et al., arXiv:1609.07061): the same binary weights and, in the
  model, binary sign activations with the STE 1_{|x|<=1}.
* TWN, ternary weight networks (Li & Liu, arXiv:1605.04711): latent real W
  used as alpha · t, t = sign(W) · 1[|W| > delta] with delta = 0.7 E|W| and
  alpha = E[|W| : |W| > delta] per layer; STE to W; no clipping.
* Full precision: ``torch.nn.Linear`` / ``torch.nn.Conv2d``.
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from .activations import sign_pm1
from .layers import _check_padding, _check_sizes

__all__ = [
    "BinaryConnectLinear",
    "BinaryConnectConv2d",
    "TernaryWeightLinear",
    "TernaryWeightConv2d",
    "binarize_deterministic",
    "binarize_stochastic",
    "ternarize_twn",
]


class _STEIdentity(torch.autograd.Function):
    """Returns the binarized tensor forward, passes the gradient unchanged to the latent weights."""

    @staticmethod
    def forward(ctx, w: torch.Tensor, wb: torch.Tensor) -> torch.Tensor:  # noqa: D102
        return wb

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor, None]:  # noqa: D102
        return grad, None


def binarize_deterministic(w: torch.Tensor) -> torch.Tensor:
    """sign(w) with sign(0) = +1; gradient passed straight through to w."""
    return _STEIdentity.apply(w, sign_pm1(w.detach()))


def binarize_stochastic(w: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """+1 with probability clip((w+1)/2, 0, 1), else -1; gradient passed straight through to w."""
    p = ((w.detach() + 1.0) * 0.5).clamp(0.0, 1.0)
    u = torch.rand(w.shape, generator=generator, dtype=w.dtype, device=w.device)
    return _STEIdentity.apply(w, torch.where(u < p, torch.ones_like(p), -torch.ones_like(p)))


class _BinaryConnectWeights(nn.Module):
    """Latent real weights W in [-1, 1] used through their binarization (shared by the linear and conv layers)."""

    weight: nn.Parameter
    bias: nn.Parameter | None
    stochastic: bool

    def _fan_in(self) -> int:
        return int(self.weight[0].numel())

    def reset_parameters(self) -> None:
        """W ~ Uniform(-1/sqrt(fan_in), 1/sqrt(fan_in)) (torch.nn.Linear's scale); bias = 0."""
        bound = 1.0 / math.sqrt(self._fan_in())
        with torch.no_grad():
            self.weight.uniform_(-bound, bound)
            if self.bias is not None:
                self.bias.zero_()

    def binary_weight(self) -> torch.Tensor:
        """The binary weights used by this forward pass (STE-differentiable)."""
        if self.stochastic and self.training:
            return binarize_stochastic(self.weight)
        return binarize_deterministic(self.weight)

    def deployed_weight(self) -> torch.Tensor:
        """Deterministic sign(W) as ±1 floats (sign(0) = +1)."""
        return sign_pm1(self.weight.detach())

    @torch.no_grad()
    def clip_(self) -> None:
        """Project the latent weights onto [-1, 1] (BinaryConnect's clipping)."""
        self.weight.clamp_(-1.0, 1.0)


def _init_linear(layer: nn.Module, in_features: int, out_features: int, bias: bool) -> None:
    """Sizes, a latent (out, in) weight and an optional bias, for the straight-through linear layers."""
    _check_sizes(in_features=in_features, out_features=out_features)
    layer.in_features = in_features
    layer.out_features = out_features
    layer.weight = nn.Parameter(torch.empty(out_features, in_features))
    layer.bias = nn.Parameter(torch.empty(out_features)) if bias else None


def _init_conv(layer: nn.Module, in_channels: int, out_channels: int, kernel_size: int, padding: int,
               bias: bool) -> None:  # fmt: skip
    """Sizes, a latent (out, in, k, k) kernel and an optional bias, for the straight-through conv layers."""
    _check_sizes(in_channels=in_channels, out_channels=out_channels, kernel_size=kernel_size)
    _check_padding(padding)
    layer.in_channels = in_channels
    layer.out_channels = out_channels
    layer.kernel_size = kernel_size
    layer.padding = padding
    layer.weight = nn.Parameter(torch.empty(out_channels, in_channels, kernel_size, kernel_size))
    layer.bias = nn.Parameter(torch.empty(out_channels)) if bias else None


class BinaryConnectLinear(_BinaryConnectWeights):
    """Linear layer with BinaryConnect weights: latent real W in [-1, 1], binary W_b in the forward pass.

    y = x @ W_b.T (+ b), W_b = sign(W) (or a hard-sigmoid sample when
    ``stochastic`` and training); the STE applies dL/dW_b to W; :meth:`clip_`
    projects W back to [-1, 1] after each optimizer step.

    Args:
        in_features, out_features: layer sizes.
        bias: real bias (default False).
        stochastic: stochastic binarization while training (default False).
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = False, stochastic: bool = False) -> None:
        super().__init__()
        _init_linear(self, in_features, out_features, bias)
        self.stochastic = bool(stochastic)
        self.reset_parameters()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x @ W_b.T (+ b)."""
        return F.linear(x, self.binary_weight(), self.bias)

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}, stochastic={self.stochastic}"
        )


class BinaryConnectConv2d(_BinaryConnectWeights):
    """2-D convolution with BinaryConnect kernels (latent W in [-1, 1], binary W_b forward, STE).

    Args:
        in_channels, out_channels, kernel_size: as in ``torch.nn.Conv2d`` (square kernel).
        padding: zero padding (default 0; the architectures use kernel_size // 2).
        bias: real per-channel bias (default False).
        stochastic: stochastic binarization while training (default False).

    Shape: (B, in_channels, H, W) -> (B, out_channels, H + 2 padding - kernel_size + 1, ...).
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, padding: int = 0, bias: bool = False,
                 stochastic: bool = False) -> None:  # fmt: skip
        super().__init__()
        _init_conv(self, in_channels, out_channels, kernel_size, padding, bias)
        self.stochastic = bool(stochastic)
        self.reset_parameters()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """conv(x, W_b) (+ b)."""
        return F.conv2d(x, self.binary_weight(), self.bias, padding=self.padding)

    def extra_repr(self) -> str:
        return (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, padding={self.padding}, "
            f"bias={self.bias is not None}, stochastic={self.stochastic}"
        )


def ternarize_twn(w: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Ternary weight networks (Li & Liu, arXiv:1605.04711): the layer's threshold and scale.

    delta = 0.7 · E|W| over the layer, t = sign(W) · 1[|W| > delta] ∈ {−1, 0, +1},
    alpha = E[|W| : |W| > delta] (the least-squares scale of t). Returns (t, alpha),
    both detached.
    """
    a = w.detach().abs()
    delta = 0.7 * a.mean()
    keep = a > delta
    t = torch.where(keep, torch.sign(w.detach()), torch.zeros_like(a))
    # a masked mean rather than a[keep].mean(): no data-dependent shape or branch, so the
    # training step compiles as one graph (alpha = 0 when nothing is kept)
    kept = keep.to(a.dtype)
    alpha = (a * kept).sum() / kept.sum().clamp_min(1.0)
    return t, alpha


class _TernaryWeights(nn.Module):
    """Latent real weights W used as alpha · t, t = TWN ternarization of W (STE to W)."""

    weight: nn.Parameter
    bias: nn.Parameter | None

    def reset_parameters(self) -> None:
        """W ~ Uniform(-1/sqrt(fan_in), 1/sqrt(fan_in)); bias = 0."""
        bound = 1.0 / math.sqrt(int(self.weight[0].numel()))
        with torch.no_grad():
            self.weight.uniform_(-bound, bound)
            if self.bias is not None:
                self.bias.zero_()

    def ternary_weight(self) -> torch.Tensor:
        """alpha · t in the forward pass, the gradient passed straight through to W."""
        t, alpha = ternarize_twn(self.weight)
        return _STEIdentity.apply(self.weight, alpha * t)

    def deployed_weight(self) -> torch.Tensor:
        """The ternary levels t ∈ {−1, 0, +1} (the positive scale alpha is :meth:`deploy_scale`)."""
        return ternarize_twn(self.weight)[0]

    def deploy_scale(self) -> float:
        """alpha: the deployed layer computes alpha · (t · x); batch norm can absorb it."""
        return float(ternarize_twn(self.weight)[1])

    @torch.no_grad()
    def clip_(self) -> None:
        """TWN does not clip its latent weights (kept for the trainer's uniform hook)."""


class TernaryWeightLinear(_TernaryWeights):
    """Linear layer with TWN weights: y = x @ (alpha t).T (+ b), t the ternarized latent W (STE).

    Args:
        in_features, out_features: layer sizes.
        bias: real bias (default False).
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = False) -> None:
        super().__init__()
        _init_linear(self, in_features, out_features, bias)
        self.reset_parameters()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x @ (alpha t).T (+ b)."""
        return F.linear(x, self.ternary_weight(), self.bias)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class TernaryWeightConv2d(_TernaryWeights):
    """2-D convolution with TWN kernels alpha · t (STE to the latent kernels).

    Args:
        in_channels, out_channels, kernel_size: as in ``torch.nn.Conv2d`` (square kernel).
        padding: zero padding (default 0).
        bias: real per-channel bias (default False).
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, padding: int = 0,
                 bias: bool = False) -> None:  # fmt: skip
        super().__init__()
        _init_conv(self, in_channels, out_channels, kernel_size, padding, bias)
        self.reset_parameters()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """conv(x, alpha t) (+ b)."""
        return F.conv2d(x, self.ternary_weight(), self.bias, padding=self.padding)

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, padding={self.padding}, "
                f"bias={self.bias is not None}")  # fmt: skip
