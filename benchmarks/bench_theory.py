"""Benchmark of stochsyn.theory: accuracy and cost of Gauss–Hermite quadrature.

Reference in the same run: the same saddle points computed by adaptive
quadrature (scipy.integrate.quad, tolerance 1e-12) and Brent root-finding on q.
Prints (1) Gardner entropy error vs number of Gauss–Hermite nodes,
(2) time ratio adaptive/Gauss–Hermite, (3) Franz–Parisi cost per distance and
its change under a finer quadrature. Run: make bench BENCH=theory
"""

from __future__ import annotations

import math
import time

import numpy as np
from scipy import integrate, optimize, special

from stochsyn.theory.franz_parisi import franz_parisi
from stochsyn.theory.gardner import gardner_entropy


def _dz(f):
    return integrate.quad(lambda z: math.exp(-z * z / 2) / math.sqrt(2 * math.pi) * f(z), -12, 12,
                          epsabs=1e-13, epsrel=1e-12, limit=200)[0]


def _logH(x):
    return float(special.log_ndtr(-x))


def _GH(x):
    return math.exp(-x * x / 2 - 0.5 * math.log(2 * math.pi) - _logH(x))


def gardner_adaptive(alpha, kappa):
    def qhat_of(q):
        return alpha / (1 - q) * _dz(lambda z: _GH((kappa - math.sqrt(q) * z) / math.sqrt(1 - q)) ** 2)

    def resid(q):
        return _dz(lambda z: math.tanh(math.sqrt(qhat_of(q)) * z) ** 2) - q

    q = optimize.brentq(resid, 1e-9, 0.97, xtol=1e-14)
    qh = qhat_of(q)
    return (-qh * (1 - q) / 2 + _dz(lambda z: math.log(2 * math.cosh(math.sqrt(qh) * z)))
            + alpha * _dz(lambda z: _logH((kappa - math.sqrt(q) * z) / math.sqrt(1 - q))))


def main() -> None:
    import warnings

    warnings.simplefilter("ignore", integrate.IntegrationWarning)
    points = [(0.3, 0.5), (0.6, -0.3), (0.8, 0.0), (0.5, 0.0), (1.2, -0.5)]
    t0 = time.perf_counter()
    ref = [gardner_adaptive(a, k) for a, k in points]
    t_ad = time.perf_counter() - t0
    print("Gardner RS entropy: max |error| over 5 (alpha, kappa) points vs adaptive quadrature")
    print(f"{'GH nodes':>9} {'max |err|':>12} {'time [s]':>10} {'adaptive/GH time':>17}")
    for n in (21, 41, 81, 201, 300):
        t0 = time.perf_counter()
        vals = [gardner_entropy(a, k, n_quad=n).entropy for a, k in points]
        t = time.perf_counter() - t0
        err = max(abs(v - r) for v, r in zip(vals, ref))
        print(f"{n:>9} {err:>12.2e} {t:>10.4f} {t_ad / t:>17.1f}")
    print(f"adaptive-quadrature reference: {t_ad:.3f} s")

    print("\nFranz–Parisi (alpha=0.5): cost per distance and quadrature sensitivity at d=0.05")
    print(f"{'n_quad/n_panel':>15} {'V(0.05)':>14} {'time [s]':>10} {'s per req. d':>12}")
    base = None
    for nq, npn in ((31, 6), (41, 8), (61, 12)):
        d = np.array([0.05, 0.2])
        t0 = time.perf_counter()
        c = franz_parisi(0.5, d, n_quad=nq, n_panel=npn)
        t = time.perf_counter() - t0
        npts = len(c.reports)
        base = c.entropy[0] if base is None else base
        print(f"{nq:>7}/{npn:<7} {c.entropy[0]:>14.10f} {t:>10.2f} {t / max(npts, 1):>12.2f}"
              f"   (Δ vs 31/6: {c.entropy[0] - base:+.1e})")


if __name__ == "__main__":
    main()
