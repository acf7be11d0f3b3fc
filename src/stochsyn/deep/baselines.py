"""Baseline layers in the same framework: BinaryConnect and BNN weights (STE), full precision.

* BinaryConnect (Courbariaux, Bengio, David, NeurIPS 2015): real latent weights
  W clipped to [-1, 1] after every update; the forward pass uses binarized
  weights W_b = sign(W) (deterministic) or W_b = +1 with probability
  hard_sigmoid(W) = clip((W + 1)/2, 0, 1) (stochastic, training only); the
  gradient with respect to W_b is applied to W (straight-through estimator).
  Test time uses the deterministic sign(W).
* BNN (Hubara et al., arXiv:1609.07061): the same binary weights and, in the
  model, binary sign activations with the STE 1_{|x|<=1}.
* Full precision: ``torch.nn.Linear``.
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from .activations import sign_pm1

__all__ = ["BinaryConnectLinear", "binarize_deterministic", "binarize_stochastic"]


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


class BinaryConnectLinear(nn.Module):
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
        for name, val in (("in_features", in_features), ("out_features", out_features)):
            if not isinstance(val, int) or isinstance(val, bool) or val < 1:
                raise ValueError(f"{name}={val!r}: expected a positive int")
        self.in_features = in_features
        self.out_features = out_features
        self.stochastic = bool(stochastic)
        self.weight = nn.Parameter(torch.empty(out_features, in_features))
        self.bias = nn.Parameter(torch.empty(out_features)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """W ~ Uniform(-1/sqrt(in), 1/sqrt(in)) (torch.nn.Linear's scale); bias = 0."""
        bound = 1.0 / math.sqrt(self.in_features)
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

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x @ W_b.T (+ b)."""
        return F.linear(x, self.binary_weight(), self.bias)

    @torch.no_grad()
    def clip_(self) -> None:
        """Project the latent weights onto [-1, 1] (BinaryConnect's clipping)."""
        self.weight.clamp_(-1.0, 1.0)

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}, stochastic={self.stochastic}"
        )
