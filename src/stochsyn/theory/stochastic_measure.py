"""RS theory of the stochastic-synapse loss at zero temperature (β → ∞).

The paper's loss (Baldassi et al. PRL 2018, arXiv:1710.09825; docs/core.md) for
synapse means m ∈ [−1, 1]^N and ±1 patterns is

    E(m) = Σ_μ ℓ(λ^μ),   λ^μ = σ^μ Σ_i m_i ξ_i^μ / √N,
    ℓ(λ) = −ln H(−λ/√(1−q0)),   q0 = Σ_i m_i² / N

(the CLT variance Σ_i (1 − m_i²) = N(1 − q0) for ±1 patterns). We study the
measure P(m) ∝ exp(−β E(m)) at fixed polarization q0 (a spherical constraint
|m|² = N q0 on top of the box) in the limit β → ∞, i.e. the minimizers m*.

RS, β → ∞ with q0 − q = χ/β, conjugates q̂ = β² ĥ and Â + q̂ = β A:

    e(q0) = −extr_{A, ĥ, χ} { A q0/2 − ĥ χ/2 + ∫Dz max_{|m|≤1} (√ĥ z m − A m²/2)
                              − α ∫Dz min_λ [ ℓ(λ) + (λ − √q0 z)²/(2χ) ] },

so that m*(z) = clip(√ĥ z / A, −1, 1), and λ*(z) solves
λ = √q0 z − χ ℓ'(λ). Saddle-point equations:

    q0 = E[m*²],   χ = P(|√ĥ z| < A)/A,   ĥ = α E[(λ* − √q0 z)²]/χ²,

and e(q0) = α E[ℓ(λ*)] (energy per synapse).

Training error of the deployed binary network W = sign(m*) (cavity argument,
docs/theory.md): with ρ = E|m*| = (1/N) Σ_i |m_i|, the cavity fields of m and
of sign(m) on a pattern are jointly Gaussian (variances q0, 1; covariance ρ);
adding the pattern shifts the local fields h_i by −ℓ'(λ) σ ξ_i/√N, which flips
the signs of the synapses with h_i near 0 (density 1/√(2πĥ)) and adds
Δ(z) = −2 ℓ'(λ*(z))/√(2πĥ) to the stability of sign(m). Hence

    ε_train = ∫Dz H( (ρ z/√q0 + Δ(z)) / √(1 − ρ²/q0) ).

The Franz–Parisi local entropy of binary configurations around sign(m*) is
:func:`stochsyn.theory.stochastic_franz_parisi.sign_reference_local_entropy`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq

from .. import validation as V
from .gaussian import G, H, dgh_from_gh, gauss_hermite, gh_from_log_h, log_H
from .saddle import SaddleReport, fixed_point

__all__ = ["StochasticState", "stochastic_ground_state", "stochastic_energy_curve", "stochastic_functional", "clt_loss"]


def clt_loss(lam: np.ndarray, q0: float) -> np.ndarray:
    """ℓ(λ) = −ln H(−λ/√(1−q0)) = −ln Φ(λ/√(1−q0)), the per-pattern CLT loss."""
    return -log_H(-np.asarray(lam, dtype=float) / np.sqrt(1.0 - q0))


@dataclass(frozen=True)
class StochasticState:
    """Zero-temperature RS saddle point of the stochastic-synapse loss at fixed q0.

    ``energy``: e = E(m*)/N; ``loss_per_pattern``: e/α; ``train_error_sign``:
    predicted training error of sign(m*); ``train_error_mean``: fraction of
    patterns with λ* < 0 (misclassified by the mean m* itself);
    ``rho``: (1/N)Σ|m_i|; ``frac_polarized``: fraction of |m_i| = 1;
    ``chi``, ``hhat``, ``A``: order parameters; ``report``: convergence.
    """

    alpha: float
    q0: float
    energy: float
    loss_per_pattern: float
    train_error_sign: float
    train_error_mean: float
    rho: float
    frac_polarized: float
    chi: float
    hhat: float
    A: float
    report: SaddleReport | None

    def as_dict(self) -> dict:
        """JSON-friendly summary."""
        d = {k: getattr(self, k) for k in (
            "alpha", "q0", "energy", "loss_per_pattern", "train_error_sign", "train_error_mean",
            "rho", "frac_polarized", "chi", "hhat", "A")}
        if self.report is not None:
            d["saddle"] = self.report.as_dict()
        return d


def _box_moments(c: float) -> tuple[float, float, float]:
    """For m = clip(c z, −1, 1), z ~ N(0,1): (E[m²], P(|cz| < 1), E|m|), in closed form."""
    zc = 1.0 / c
    Hc = float(H(zc))
    g0 = float(G(0.0))
    inner = 1.0 - 2.0 * Hc
    if zc < 0.1:  # E[z²; |z| < a] by its series: the closed form cancels badly for small a
        z2 = 2.0 * g0 * (zc**3 / 3.0 - zc**5 / 10.0 + zc**7 / 56.0 - zc**9 / 432.0)
    else:
        z2 = inner - 2.0 * zc * float(G(zc))
    m2 = c * c * z2 + 2.0 * Hc
    absm = 2.0 * c * g0 * float(-np.expm1(-0.5 * zc * zc)) + 2.0 * Hc
    return m2, inner, absm


def _slope_for_q0(q0: float) -> float:
    """c = √ĥ/A such that E[clip(c z, −1, 1)²] = q0 (monotone in c)."""
    f = lambda lc: _box_moments(np.exp(lc))[0] - q0  # noqa: E731
    return float(np.exp(brentq(f, np.log(1e-8), np.log(1e12), xtol=1e-15, rtol=1e-15)))


def _lambda_star(omega: np.ndarray, chi: float, s: float) -> np.ndarray:
    """Solve λ = ω + χ GH(−λ/s)/s (minimizer of ℓ(λ) + (λ−ω)²/(2χ)) by safeguarded Newton."""
    lam = omega.copy()
    for _ in range(100):
        x = -lam / s
        g = gh_from_log_h(x, log_H(x))
        F = lam - omega - chi * g / s
        dF = 1.0 + chi * dgh_from_gh(x, g) / (s * s)
        step = F / dF
        lam = lam - step
        if np.max(np.abs(step)) < 1e-14 * (1.0 + np.max(np.abs(lam))):
            break
    return lam


def stochastic_ground_state(
    alpha: float,
    q0: float,
    *,
    n_quad: int = 201,
    tol: float = 1e-10,
    damping: float = 0.5,
    max_iter: int = 50000,
) -> StochasticState:
    """Minimizers of the CLT loss at polarization q0 (RS, β → ∞) and the error of sign(m*).

    Parameters
    ----------
    alpha : load P/N, > 0.
    q0 : polarization Σ m_i²/N, in (0, 1).
    n_quad : Gauss–Hermite nodes (default 201); the box integrals are closed-form.
    tol, damping, max_iter : fixed-point settings on (log ĥ, log χ) (defaults 1e-10, 0.5, 50000).
    """
    alpha = V.real("alpha", alpha, lo=0.0, lo_open=True)
    q0 = V.real("q0", q0, lo=0.0, hi=1.0, lo_open=True, hi_open=True)
    n_quad = V.count("n_quad", n_quad, lo=8)
    z, w = gauss_hermite(n_quad)
    s = np.sqrt(1.0 - q0)
    omega = np.sqrt(q0) * z
    c = _slope_for_q0(q0)  # the norm constraint fixes √ĥ/A alone
    _, inner, absm = _box_moments(c)

    # Iterate on (log ĥ, log χ): both range over many decades as q0 → 1.
    def update(v: np.ndarray) -> np.ndarray:
        hh, chi = np.exp(v[0]), np.exp(v[1])
        A = np.sqrt(hh) / c
        lam = _lambda_star(omega, chi, s)
        hh_new = alpha * float(np.dot(w, (lam - omega) ** 2)) / chi**2
        chi_new = inner / A
        return np.log([hh_new, chi_new])

    hh0 = alpha
    rep = fixed_point(update, np.log([hh0, inner * c / np.sqrt(hh0)]), damping=damping, tol=tol,
                      max_iter=max_iter, name=f"stochastic_ground_state(alpha={alpha}, q0={q0})")
    rep_x = np.exp(rep.x)
    hh, chi = float(rep_x[0]), float(rep_x[1])
    A = np.sqrt(hh) / c
    lam = _lambda_star(omega, chi, s)
    energy = alpha * float(np.dot(w, clt_loss(lam, q0)))
    x = -lam / s
    lprime = -gh_from_log_h(x, log_H(x)) / s
    delta = -2.0 * lprime / np.sqrt(2.0 * np.pi * hh)
    r2 = absm**2 / q0
    err_sign = float(np.dot(w, H((absm * z / np.sqrt(q0) + delta) / np.sqrt(max(1.0 - r2, 1e-300)))))
    # λ*(z) is increasing in z and λ*(z0) = 0 at √q0 z0 = −χ GH(0)/s: P(λ* < 0) = H(−z0).
    z0 = -chi * float(G(0.0) / H(0.0)) / (s * np.sqrt(q0))
    err_mean = float(H(-z0))
    return StochasticState(alpha, q0, energy, energy / alpha, err_sign, err_mean, absm,
                           1.0 - inner, chi, hh, A, rep)


def stochastic_functional(alpha: float, q0: float, A: float, hhat: float, chi: float,
                          *, n_quad: int = 201) -> float:
    """The β → ∞ RS functional −e(A, ĥ, χ) of the module docstring, not extremized.

    ``A q0/2 − ĥχ/2 + ∫Dz max_{|m|≤1}(√ĥ z m − A m²/2) − α ∫Dz min_λ[ℓ(λ) + (λ − √q0 z)²/(2χ)]``;
    the box maximum is integrated in closed form, so this serves as an
    independent check of the saddle-point equations (finite differences).
    """
    z, w = gauss_hermite(n_quad)
    # Box term in closed form: h²/(2A) for |h| < A, |h| − A/2 outside (h = √ĥ z).
    zc = A / np.sqrt(hhat)
    Hc, Gc = float(H(zc)), float(G(zc))
    z2 = (1.0 - 2.0 * Hc) - 2.0 * zc * Gc
    box = hhat / (2.0 * A) * z2 + 2.0 * (np.sqrt(hhat) * Gc - 0.5 * A * Hc)
    s = np.sqrt(1.0 - q0)
    omega = np.sqrt(q0) * z
    lam = _lambda_star(omega, chi, s)
    en = float(np.dot(w, clt_loss(lam, q0) + (lam - omega) ** 2 / (2.0 * chi)))
    return 0.5 * A * q0 - 0.5 * hhat * chi + box - alpha * en


def stochastic_energy_curve(alpha: float, q0s, **options) -> list[StochasticState]:
    """:func:`stochastic_ground_state` for each polarization in ``q0s`` (options passed on)."""
    vals = np.atleast_1d(np.asarray(q0s, dtype=float))
    if vals.ndim != 1 or vals.size == 0:
        raise ValueError(f"q0s={q0s!r}: expected a non-empty 1-D sequence of polarizations in (0, 1)")
    return [stochastic_ground_state(alpha, float(q), **options) for q in vals]
