"""Teacher–student Gibbs (version-space) learning with binary teacher and student.

Labels σ^μ = sign(T·ξ^μ) from a binary teacher T; the student is drawn
uniformly from the version space (all W ∈ {±1}^N consistent with the P = αN
examples). On the Nishimori line the student–teacher overlap R equals the
student–student overlap q, and with the teacher gauged to all +1 the RS entropy
of the version space is (Györgyi 1990; Seung, Sompolinsky & Tishby 1992)

    s(q, q̂) = −q̂(1+q)/2 + ∫Dz ln 2cosh(√q̂ z + q̂)
              + 2α ∫Dz H(−a z) ln H(−a z),        a = √(q/(1−q)),

extremized at

    q  = ∫Dz tanh(√q̂ z + q̂),
    q̂ = α/(π √(1−q)) ∫Dz exp(−q z²/2) / H(−√q z)

(the second from ∂s/∂q = 0 by Gaussian integration by parts, see
docs/theory.md). Generalization error ε = arccos(R)/π.

The poorly-generalizing RS branch (reached by iterating from q = 0) has an
entropy that decreases with α; it vanishes at α ≈ 1.245, where the system
jumps (first order) to perfect generalization R = 1 (zero entropy).
Small-α limit: q̂ ≈ 2α/π, R ≈ 2α/π.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq

from .. import validation as V
from .gaussian import H, gauss_hermite, log_2cosh, log_H
from .saddle import SaddleReport, fixed_point

__all__ = [
    "TeacherStudentState",
    "teacher_student_free_entropy",
    "teacher_student_gibbs",
    "perfect_generalization_threshold",
]


@dataclass(frozen=True)
class TeacherStudentState:
    """RS saddle point of Gibbs learning at load ``alpha`` (poorly-generalizing branch).

    ``R``: student–teacher overlap (= q); ``qhat``: conjugate; ``gen_error``:
    arccos(R)/π; ``entropy``: version-space entropy per synapse.
    """

    alpha: float
    R: float
    qhat: float
    gen_error: float
    entropy: float
    report: SaddleReport | None

    def as_dict(self) -> dict:
        """JSON-friendly summary."""
        d: dict[str, object] = {"alpha": self.alpha, "R": self.R, "qhat": self.qhat,
                                "gen_error": self.gen_error, "entropy": self.entropy}
        if self.report is not None:
            d["saddle"] = self.report.as_dict()
        return d


def teacher_student_free_entropy(q: float, qhat: float, alpha: float, *, n_quad: int = 201) -> float:
    """The RS functional s(q, q̂) of the module docstring, not extremized.

    ``n_quad`` (default 201): Gauss–Hermite nodes per ∫Dz.
    """
    z, w = gauss_hermite(n_quad)
    ent = -0.5 * qhat * (1.0 + q) + float(np.dot(w, log_2cosh(np.sqrt(qhat) * z + qhat)))
    a = np.sqrt(q / (1.0 - q))
    en = H(-a * z) * log_H(-a * z)
    return ent + 2.0 * alpha * float(np.dot(w, en))


def _qhat(q: float, alpha: float, z, w) -> float:
    # exp(-q z^2/2)/H(-√q z), with the division done in log space.
    s = np.sqrt(q)
    integrand = np.exp(-0.5 * q * z * z - log_H(-s * z))
    return alpha / (np.pi * np.sqrt(1.0 - q)) * float(np.dot(w, integrand))


def teacher_student_gibbs(
    alpha: float,
    *,
    n_quad: int = 201,
    tol: float = 1e-13,
    damping: float = 0.5,
    max_iter: int = 50000,
) -> TeacherStudentState:
    """Overlap R, generalization error and entropy of Gibbs learning (RS, binary/binary).

    Iterates the saddle-point equations of the module docstring from q = 0,
    which follows the poorly-generalizing branch; beyond its spinodal
    (α ≈ 1.49) the iteration runs to q → 1 and a ``SaddlePointError`` or an
    R ≈ 1 state results.

    Parameters
    ----------
    alpha : load P/N, >= 0.
    n_quad : Gauss–Hermite nodes (default 201).
    tol, damping, max_iter : fixed-point settings (defaults 1e-13, 0.5, 50000).
    """
    alpha = V.real("alpha", alpha, lo=0.0)
    n_quad = V.count("n_quad", n_quad, lo=8)
    z, w = gauss_hermite(n_quad)
    if alpha == 0.0:
        return TeacherStudentState(0.0, 0.0, 0.0, 0.5, float(np.log(2.0)), None)

    def update(v: np.ndarray) -> np.ndarray:
        q = min(max(v[0], 0.0), 1.0 - 1e-12)
        qh = _qhat(q, alpha, z, w)
        return np.array([float(np.dot(w, np.tanh(np.sqrt(qh) * z + qh)))])

    rep = fixed_point(update, [0.0], damping=damping, tol=tol, max_iter=max_iter,
                      name=f"teacher_student_gibbs(alpha={alpha})")
    q = float(rep.x[0])
    qh = _qhat(q, alpha, z, w)
    s = teacher_student_free_entropy(q, qh, alpha, n_quad=n_quad)
    return TeacherStudentState(alpha, q, qh, float(np.arccos(q) / np.pi), s, rep)


def perfect_generalization_threshold(*, n_quad: int = 201, xtol: float = 1e-10) -> float:
    """α of the first-order transition to perfect generalization (Györgyi: ≈ 1.245).

    Root, by Brent's method on [1.0, 1.4], of the entropy of the
    poorly-generalizing RS branch (the perfect-generalization state has zero
    entropy). ``n_quad`` (default 201), ``xtol`` (default 1e-10).
    """
    def f(a: float) -> float:
        return teacher_student_gibbs(a, n_quad=n_quad).entropy

    return float(brentq(f, 1.0, 1.4, xtol=xtol, rtol=4 * np.finfo(float).eps))
