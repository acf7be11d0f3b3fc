"""Pooling of values and of (mean, variance) pairs, for the architectures of :mod:`.architecture`.

Values (deploy, sample and straight-through models): max pooling (:func:`max_pool`) and
``F.avg_pool2d`` with kernel = stride = size.

Moments (the stochastic model's mean-field pass). The units of a window are
treated as independent, the assumption of the whole moment propagation:

* average of n = size² units:  mean = <mu>,  var = <v> / n  (exact).
* max of ±1 units (sign activations). max = −1 only when every unit is −1, so
  with q = Π_i P(s_i = −1) = Π_i (1 − mu_i)/2:
  mean = 1 − 2q,  var = 4 q (1 − q)  (exact for independent units; the OR of
  the bits, which is what the packed engine computes).
* sign then max of Gaussian pre-activations z_i ~ N(mu_i, v_i): the same rule with
  P(sign z_i = −1) = Φ(−mu_i/√v_i) = erfc(mu_i/√(2 v_i))/2 read off the
  pre-activations directly. Equal to the two steps in exact arithmetic; one pass
  instead of two (the sign step's 1 − erf and the pool's (1 − mean)/2 cancel) and
  no cancellation in 1 − erf(u) for large u.
* max of Gaussian units (before a ReLU; relu(max z) = max relu(z)): the
  pairwise rule of Clark (Operations Research 9, 145 (1961)). For independent
  X ~ N(mu1, v1), Y ~ N(mu2, v2), with theta = sqrt(v1 + v2), a = (mu1 − mu2)/theta,
      E max    = mu1 Phi(a) + mu2 Phi(−a) + theta phi(a)
      E max²   = (mu1² + v1) Phi(a) + (mu2² + v2) Phi(−a) + (mu1 + mu2) theta phi(a),
  exact for two units; a window of n units is reduced as a balanced tree of
  pairs, each intermediate maximum replaced by the Gaussian of its two moments.

The other end of the dependence (``max_pool="comonotone"`` of the stochastic model):
in one network the units of a window share their kernel and overlapping inputs, so
their fluctuations are strongly correlated — the deployed network takes the max of
units that move together. For units driven by one common noise, z_i = mu_i + √v ε
(comonotone), the max is exact and simple:

* max of ±1 units: P(max = +1) = max_i P(s_i = +1), so mean = max_i mu_i and
  var = 1 − mean² (the lower Fréchet bound of the OR; the independent rule is its
  upper end for independent bits);
* sign then max of Gaussian pre-activations: the same with mu_i = erf(mu_i/√(2 v_i));
* max of Gaussian units of equal variance: the unit with the largest mean, its mean
  and variance (a ReLU after it as usual).

Both rules are max pools of values on the mean path, like the deployed network's
pooling, and route the gradient through the winning unit only.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from .activations import VAR_FLOOR

__all__ = [
    "pool_values",
    "avg_pool_moments",
    "max_pool_sign_moments",
    "sign_max_pool_moments",
    "max_pool_gauss_moments",
    "clark_max",
    "comonotone_max_pool_sign_moments",
    "comonotone_sign_max_pool_moments",
    "comonotone_max_pool_gauss_moments",
    "MAX_POOL_RULES",
]

#: Dependence assumed between the units of a max-pooling window (the stochastic model's option).
MAX_POOL_RULES = ("independent", "comonotone")

_SQRT2 = math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
# Keeps log((1 - mu)/2) finite when a unit is certainly +1.
_Q_FLOOR = 1e-12


def max_pool(x: torch.Tensor, size: int) -> torch.Tensor:
    """``F.max_pool2d(x, size)`` (kernel = stride = size, the remainder rows and columns
    dropped). Where no gradient is needed it is taken as elementwise maxima of strided
    views, first across columns and then across rows of the narrowed map (each pass reads
    whole cache lines): the same values, 4–6× faster on CPU than the library kernel,
    which also computes the argmax indices its backward needs."""
    if torch.is_grad_enabled() and x.requires_grad:
        return F.max_pool2d(x, size)
    h, w = x.shape[-2] - x.shape[-2] % size, x.shape[-1] - x.shape[-1] % size
    x = x[..., :h, :w]
    if size == 1:
        return x
    cols = torch.maximum(x[..., 0::size], x[..., 1::size])
    for j in range(2, size):
        torch.maximum(cols, x[..., j::size], out=cols)
    rows = torch.maximum(cols[..., 0::size, :], cols[..., 1::size, :])
    for i in range(2, size):
        torch.maximum(rows, cols[..., i::size, :], out=rows)
    return rows


def pool_values(x: torch.Tensor, kind: str, size: int) -> torch.Tensor:
    """Max ("max") or average ("avg") pooling of values over size×size windows, stride size."""
    return max_pool(x, size) if kind == "max" else F.avg_pool2d(x, size)


def avg_pool_moments(mean: torch.Tensor, var: torch.Tensor, size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Moments of the average of size² independent units: (<mean>, <var>/size²)."""
    return F.avg_pool2d(mean, size), F.avg_pool2d(var, size) / float(size * size)


def max_pool_sign_moments(mean: torch.Tensor, size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Moments of the max of size² independent ±1 units with means ``mean``.

    q = Π (1 − mu_i)/2 (all units −1), mean = 1 − 2q, var = 4q(1 − q).
    """
    n = float(size * size)
    log_q = F.avg_pool2d(torch.log(((1.0 - mean) * 0.5).clamp_min(_Q_FLOOR)), size) * n
    q = torch.exp(log_q)
    return 1.0 - 2.0 * q, (4.0 * q * (1.0 - q)).clamp_min(0.0)


def sign_max_pool_moments(mean: torch.Tensor, var: torch.Tensor, size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Moments of the max over size×size windows of sign(z_i), z_i ~ N(mean_i, var_i) independent.

    q = Π_i erfc(mean_i / √(2 var_i)) / 2 (every unit −1), mean = 1 − 2q, var = 4q(1 − q);
    equal to :func:`~stochsyn.deep.activations.sign_moments` followed by
    :func:`max_pool_sign_moments` (``var`` floored at 1e-8 as there).
    """
    n = float(size * size)
    p_minus = 0.5 * torch.erfc(mean * torch.rsqrt(2.0 * var.clamp_min(VAR_FLOOR)))
    q = torch.exp(F.avg_pool2d(torch.log(p_minus.clamp_min(_Q_FLOOR)), size) * n)
    return 1.0 - 2.0 * q, (4.0 * q * (1.0 - q)).clamp_min(0.0)


def clark_max(
    mu1: torch.Tensor, v1: torch.Tensor, mu2: torch.Tensor, v2: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean and variance of max(X, Y) for independent Gaussians X ~ N(mu1, v1), Y ~ N(mu2, v2) (Clark 1961)."""
    theta = torch.sqrt((v1 + v2).clamp_min(VAR_FLOOR))
    a = (mu1 - mu2) / theta
    cdf = 0.5 * (1.0 + torch.erf(a / _SQRT2))
    pdf = _INV_SQRT_2PI * torch.exp(-0.5 * a * a)
    e1 = mu1 * cdf + mu2 * (1.0 - cdf) + theta * pdf
    e2 = (mu1 * mu1 + v1) * cdf + (mu2 * mu2 + v2) * (1.0 - cdf) + (mu1 + mu2) * theta * pdf
    return e1, (e2 - e1 * e1).clamp_min(VAR_FLOOR)


def max_pool_gauss_moments(mean: torch.Tensor, var: torch.Tensor, size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Moments of the max over size×size windows of independent Gaussian units (pairwise Clark tree)."""
    h, w = (mean.shape[-2] // size) * size, (mean.shape[-1] // size) * size
    parts = [(mean[..., i:h:size, j:w:size], var[..., i:h:size, j:w:size]) for i in range(size) for j in range(size)]
    while len(parts) > 1:
        nxt = [clark_max(*parts[k], *parts[k + 1]) for k in range(0, len(parts) - 1, 2)]
        if len(parts) % 2:
            nxt.append(parts[-1])
        parts = nxt
    return parts[0]


def comonotone_max_pool_sign_moments(mean: torch.Tensor, size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Moments of the max of size² comonotone ±1 units with means ``mean``: max_i mu_i, 1 − (max_i mu_i)²."""
    m = max_pool(mean, size)
    return m, (1.0 - m * m).clamp_min(0.0)


def comonotone_sign_max_pool_moments(mean: torch.Tensor, var: torch.Tensor,
                                     size: int) -> tuple[torch.Tensor, torch.Tensor]:  # fmt: skip
    """Moments of the max of sign(z_i), z_i ~ N(mean_i, var_i) driven by one common noise:
    the window's largest E[sign z_i] = erf(mean_i/√(2 var_i)) and 1 − its square.

    erf is increasing, so the window's largest erf(u_i) is erf(max_i u_i): the pool is taken on
    u_i = mean_i/√(2 var_i) and erf (forward and backward) runs on the pooled map only."""
    m = torch.erf(max_pool(mean * torch.rsqrt(2.0 * var.clamp_min(VAR_FLOOR)), size))
    return m, (1.0 - m * m).clamp_min(0.0)


def comonotone_max_pool_gauss_moments(mean: torch.Tensor, var: torch.Tensor,
                                      size: int) -> tuple[torch.Tensor, torch.Tensor]:  # fmt: skip
    """Moments of the max of Gaussian units sharing one noise (equal variances): the mean and
    variance of the unit with the largest mean in each window."""
    m, idx = F.max_pool2d(mean, size, return_indices=True)
    v = var.flatten(2).gather(2, idx.flatten(2)).view_as(m)
    return m, v
