"""Local entropy around a reference configuration by belief propagation (large N).

The measure over binary weights, tilted towards a reference W̃,

    P_λ(W) ∝ ∏_μ Θ(σ^μ Σ_i ξ_i^μ W_i) · exp(λ Σ_i W̃_i W_i),

has partition function Z(λ) = Σ_k 𝒩(k) e^{λ(N − 2k)}, with 𝒩(k) the number of
solutions at Hamming distance k from W̃. BP gives the Bethe estimate of the free
entropy φ(λ) = ln Z(λ)/N and of the overlap q(λ) = (1/N) Σ_i W̃_i ⟨W_i⟩_λ = ∂φ/∂λ.
The Legendre transform gives the local entropy per weight at distance
d(λ) = (1 − q(λ))/2:

    S(d) = φ(λ) − λ q(λ)          (Franz & Parisi 1995; Huang & Kabashima,
                                    arXiv:1408.1784; Baldassi et al., arXiv:1509.05753).

Messages (fields): u_{μ→i} from factor to weight, h_{i→μ} = λW̃_i + Σ_{ν≠μ} u_{ν→i},
m_{i→μ} = tanh h_{i→μ}. Writing a_{μi} = σ^μ ξ_i^μ, the factor message is

    u_{μ→i} = ½ ln P(Σ_{j≠i} a_{μj}W_j + a_{μi} > 0) − ½ ln P(Σ_{j≠i} a_{μj}W_j − a_{μi} > 0),

with W_j ~ m_{j→μ} independent. Two ways of evaluating that probability:

* ``factor="exact"`` (±1 patterns only): the cavity sum is a Poisson-binomial
  variable, computed exactly with prefix/suffix convolutions, O(N²) per factor.
  Then the only approximation is BP itself (the Bethe approximation on a dense
  loopy graph).
* ``factor="gaussian"``: central-limit approximation, P(S > 0) = Φ(M/√V) with the
  cavity mean M and variance V (the standard treatment at large N, as in
  Braunstein & Zecchina, PRL 2006, arXiv:cond-mat/0511159). O(1) per edge.

Bethe free entropy (fields form):
    N φ = Σ_μ ln Z_μ + Σ_i [ ln 2cosh H_i − Σ_μ (ln cosh H_i − ln cosh h_{i→μ}) ],
    H_i = λW̃_i + Σ_μ u_{μ→i},   Z_μ = P(Σ_j a_{μj} W_j > 0) under the m_{j→μ}.

λ is swept from large to small values with warm starts, so the fixed point
followed is the one connected to the reference (the local branch). A point
where BP does not converge is reported with ``converged=False``; a converged
fixed point whose hard (frozen) messages violate a pattern — some Z_μ below
e^{-15}, so φ is meaningless — is reported with ``contradiction=True``. Both are
kept in the arrays and excluded from :meth:`LocalEntropyBP.entropy_at`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
from numba import njit
from scipy.special import log_ndtr

from ..problems import Instance
from .. import validation as V
from ..problems import as_instance

__all__ = ["LocalEntropyBP", "local_entropy_bp", "DEFAULT_LAMBDAS", "EXACT_FACTOR_MAX_N"]

DEFAULT_LAMBDAS = np.round(np.concatenate([np.arange(4.0, 1.0, -0.25), np.arange(1.0, -1e-9, -0.1)]), 6)
# beyond this N the exact factor update (O(P·N²) per sweep) costs more than it teaches
EXACT_FACTOR_MAX_N = 101
# cap on |u|: a field of 30 is a hard constraint in double precision (tanh(30) == 1.0)
_U_MAX = 30.0
# a factor satisfied with probability below e^-15 (3e-7) at a fixed point: its hard incoming
# messages contradict it (legitimate fixed points of the solution measure stay far above)
_LOGZ_CONTRADICTION = -15.0


@dataclass(frozen=True)
class LocalEntropyBP:
    """BP local-entropy curve around one reference, one entry per λ.

    Attributes:
        n: number of weights N.
        lambdas: coupling values λ, in the order they were run (decreasing).
        phi: Bethe free entropy per weight φ(λ).
        overlap: q(λ) = (1/N) Σ_i W̃_i tanh(H_i).
        distance: d(λ) = (1 − q)/2.
        entropy: S(d(λ)) = φ(λ) − λ q(λ), per weight.
        converged: whether BP reached ``tol`` within ``max_iter`` at that λ.
        contradiction: the fixed point violates a pattern (some ln Z_μ < −15).
        iterations: BP sweeps used at each λ.
        max_change: last change of the messages (max |Δ tanh u|).
        factor: ``"exact"`` or ``"gaussian"``.
        branch: ``"local"`` or ``"dominant"`` (see :func:`local_entropy_bp`).
        from_cold_start: (dominant branch) the kept fixed point came from a fresh start.
    """

    n: int
    lambdas: np.ndarray
    phi: np.ndarray
    overlap: np.ndarray
    distance: np.ndarray
    entropy: np.ndarray
    converged: np.ndarray
    contradiction: np.ndarray
    iterations: np.ndarray
    max_change: np.ndarray
    factor: str
    branch: str = "local"
    from_cold_start: np.ndarray | None = None

    @property
    def all_converged(self) -> bool:
        """True when BP converged at every λ."""
        return bool(np.all(self.converged))

    @property
    def valid(self) -> np.ndarray:
        """Points usable for S(d): converged, no contradiction, finite values."""
        return self.converged & ~self.contradiction & np.isfinite(self.entropy) & np.isfinite(self.distance)

    def entropy_at(self, d: float | np.ndarray, max_gap: float | None = None) -> np.ndarray:
        """S at distance(s) ``d`` by linear interpolation between valid λ points.

        NaN where ``d`` lies outside the range of distances reached by valid points,
        and, when ``max_gap`` is given (default None: no check), where the two valid
        points bracketing ``d`` are more than ``max_gap`` apart in distance — a jump
        of BP between branches then shows as NaN instead of an interpolated guess.
        """
        dd = np.atleast_1d(np.asarray(d, dtype=np.float64))
        ok = self.valid
        x, y = self.distance[ok], self.entropy[ok]
        if x.size == 0:
            return np.full(dd.shape, np.nan)
        order = np.argsort(x, kind="stable")
        x, y = x[order], y[order]
        out = np.interp(dd, x, y)
        out[(dd < x[0]) | (dd > x[-1])] = np.nan
        if max_gap is not None:
            hi = np.clip(np.searchsorted(x, dd, side="left"), 1, max(1, x.size - 1))
            gap = x[np.minimum(hi, x.size - 1)] - x[hi - 1]
            exact_hit = np.isin(dd, x)
            out[(gap > max_gap) & ~exact_hit] = np.nan
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly record."""
        return {
            "n": self.n,
            "factor": self.factor,
            "branch": self.branch,
            "all_converged": self.all_converged,
            **{
                k: np.asarray(getattr(self, k)).tolist()
                for k in (
                    "lambdas", "phi", "overlap", "distance", "entropy",
                    "converged", "contradiction", "iterations", "max_change",
                )
            },
        }


@njit(cache=True)
def _exact_factor_kernel(a, m, u_out, logz_out):
    """Exact factor messages for ±1 couplings a (P, N) and cavity magnetizations m (P, N)."""
    p, n = a.shape
    pre = np.zeros((n + 1, n + 1))
    suf = np.zeros((n + 2, n + 2))
    k1 = n // 2  # s_i = +1 needs cavity count K >= k1; s_i = -1 needs K >= k1 + 1
    for mu in range(p):
        # pre[k, c]: P(c of the first k signed weights s_j = a_j W_j are +1)
        pre[0, :] = 0.0
        pre[0, 0] = 1.0
        for k in range(n):
            q = 0.5 * (1.0 + a[mu, k] * m[mu, k])
            pre[k + 1, 0] = pre[k, 0] * (1.0 - q)
            for c in range(1, k + 2):
                pre[k + 1, c] = pre[k, c] * (1.0 - q) + pre[k, c - 1] * q
        # suf[k, c]: P(c of the weights k..n-1 are +1); stored as tails T[k, b] = P(count >= b)
        suf[n, :] = 0.0
        suf[n, 0] = 1.0
        for k in range(n - 1, -1, -1):
            q = 0.5 * (1.0 + a[mu, k] * m[mu, k])
            suf[k, 0] = suf[k + 1, 0] * (1.0 - q)
            for c in range(1, n - k + 1):
                suf[k, c] = suf[k + 1, c] * (1.0 - q) + suf[k + 1, c - 1] * q
            for c in range(n - k + 1, n + 2):
                suf[k, c] = 0.0
        # log Z_mu: P(total count >= n//2 + 1), i.e. sum_j s_j > 0
        tot = 0.0
        for c in range(k1 + 1, n + 1):
            tot += pre[n, c]
        logz_out[mu] = np.log(max(tot, 1e-300))
        tails = np.zeros(n + 2)
        for i in range(n):
            # tails of the suffix distribution starting at i+1
            acc = 0.0
            for b in range(n - i, -1, -1):
                acc += suf[i + 1, b] if b <= n - i - 1 else 0.0
                tails[b] = acc
            p_a = 0.0  # P(K >= k1)
            p_b = 0.0  # P(K >= k1 + 1)
            for c in range(0, i + 1):
                w = pre[i, c]
                if w == 0.0:
                    continue
                t1 = k1 - c
                t2 = k1 + 1 - c
                p_a += w * (1.0 if t1 <= 0 else (tails[t1] if t1 <= n - i - 1 else 0.0))
                p_b += w * (1.0 if t2 <= 0 else (tails[t2] if t2 <= n - i - 1 else 0.0))
            val = 0.5 * a[mu, i] * (np.log(max(p_a, 1e-300)) - np.log(max(p_b, 1e-300)))
            u_out[mu, i] = val


def _gaussian_factor(a: np.ndarray, m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    am = a * m
    var = a * a * (1.0 - m * m)
    mean_all = am.sum(axis=1)
    var_all = var.sum(axis=1)
    mc = mean_all[:, None] - am
    # the guard keeps the ratio finite when every other weight is fully polarized
    sc = np.sqrt(np.maximum(var_all[:, None] - var, 1e-12))
    u = 0.5 * (log_ndtr((mc + a) / sc) - log_ndtr((mc - a) / sc))
    logz = log_ndtr(mean_all / np.sqrt(np.maximum(var_all, 1e-12)))
    return u, logz


def _log_cosh(x: np.ndarray) -> np.ndarray:
    ax = np.abs(x)
    return ax + np.log1p(np.exp(-2.0 * ax)) - np.log(2.0)


def _factor_update(a: np.ndarray, m: np.ndarray, factor: str) -> tuple[np.ndarray, np.ndarray]:
    if factor == "exact":
        u = np.empty_like(m)
        logz = np.empty(m.shape[0])
        _exact_factor_kernel(a, m, u, logz)
        return u, logz
    return _gaussian_factor(a, m)


def _iterate(
    a: np.ndarray, ref: np.ndarray, lam: float, u: np.ndarray, factor: str,
    damping: float, tol: float, max_iter: int,
) -> tuple[np.ndarray, bool, int, float]:
    """Damped parallel BP sweeps from messages ``u``; returns (u, converged, sweeps, last change)."""
    change = np.inf
    it = 0
    for it in range(1, max_iter + 1):
        big_h = lam * ref + u.sum(axis=0)
        m = np.tanh(big_h[None, :] - u)
        u_new, _ = _factor_update(a, m, factor)
        np.clip(u_new, -_U_MAX, _U_MAX, out=u_new)
        change = float(np.max(np.abs(np.tanh(u_new) - np.tanh(u))))
        u = damping * u + (1.0 - damping) * u_new
        if change < tol:
            return u, True, it, change
    return u, False, it, change


def _observables(a: np.ndarray, ref: np.ndarray, lam: float, u: np.ndarray, factor: str) -> dict[str, Any]:
    """Bethe free entropy per weight, overlap with the reference, contradiction flag."""
    n, p = a.shape[1], a.shape[0]
    big_h = lam * ref + u.sum(axis=0)
    h = big_h[None, :] - u
    _, logz = _factor_update(a, np.tanh(h), factor)
    log_cosh_big = _log_cosh(big_h)
    f = logz.sum() + np.sum(log_cosh_big + np.log(2.0) - p * log_cosh_big) + np.sum(_log_cosh(h))
    phi = float(f / n)
    return {
        "phi": phi,
        "overlap": float(np.mean(ref * np.tanh(big_h))),
        "contradiction": bool(logz.min() < _LOGZ_CONTRADICTION) or not np.isfinite(phi),
    }


def local_entropy_bp(
    instance: Instance,
    reference: np.ndarray,
    lambdas: np.ndarray | list[float] | None = None,
    *,
    factor: str = "auto",
    damping: float = 0.5,
    tol: float = 1e-6,
    max_iter: int = 1000,
    seed: int | None = 0,
    init_scale: float = 1e-3,
    branch: str = "local",
    progress: Callable[[int, float], None] | None = None,
) -> LocalEntropyBP:
    """Local entropy S(d) around ``reference`` from BP with a coupling λ to it.

    Args:
        instance: the problem (±1 patterns for ``factor="exact"``).
        reference: (N,) ±1 vector W̃ (normally a solution).
        lambdas: coupling values; run in decreasing order with warm starts.
            Default :data:`DEFAULT_LAMBDAS` (4.0 down to 1.0 in steps of 0.25, then to 0 in
            steps of 0.1).
        factor: ``"exact"`` (Poisson-binomial factor messages, ±1 patterns), ``"gaussian"``
            (central-limit approximation) or ``"auto"`` (default: exact when the patterns
            are ±1 and N ≤ :data:`EXACT_FACTOR_MAX_N` = 101, else gaussian).
        damping: weight of the old message in each update, in [0, 1) (default 0.5).
        tol: convergence threshold on max |Δ tanh u| (default 1e-6).
        max_iter: BP sweeps allowed per λ (default 1000).
        seed: seed of the small random initial messages (default 0).
        init_scale: standard deviation of the initial messages (default 1e-3).
        branch: ``"local"`` (default) follows the fixed point connected to the reference
            by warm starts from large λ; ``"dominant"`` also runs BP from a fresh start at
            every λ and keeps the valid fixed point with the larger Bethe φ (the one that
            dominates Z(λ); twice the cost). For an isolated reference the local branch can
            stay frozen at d = 0 while the dominant one jumps to far-away solutions.
        progress: optional ``progress(index, lambda)`` called after each λ.

    Returns:
        :class:`LocalEntropyBP` with φ, q, d, S, and a convergence flag per λ.
    """
    as_instance(instance)
    ref = V.pm1_vector(reference, instance.n, "reference").astype(np.float64)
    if factor not in ("auto", "exact", "gaussian"):
        raise ValueError(f"factor must be 'auto', 'exact' or 'gaussian', got factor={factor!r}")
    if factor == "auto":
        factor = "exact" if instance.binary_patterns and instance.n <= EXACT_FACTOR_MAX_N else "gaussian"
    if factor == "exact" and not instance.binary_patterns:
        raise ValueError("factor='exact' needs ±1 patterns; use factor='gaussian' for real-valued patterns")
    if not (isinstance(damping, (int, float)) and 0.0 <= damping < 1.0):
        raise ValueError(f"damping must be a number in [0, 1), got damping={damping!r}")
    if not (isinstance(tol, (int, float)) and tol > 0):
        raise ValueError(f"tol must be a number > 0, got tol={tol!r}")
    max_iter = V.count("max_iter", max_iter)
    if branch not in ("local", "dominant"):
        raise ValueError(f"branch must be 'local' or 'dominant', got branch={branch!r}")
    lam = DEFAULT_LAMBDAS if lambdas is None else np.atleast_1d(np.asarray(lambdas, dtype=np.float64))
    if lam.ndim != 1 or lam.size == 0 or not np.all(np.isfinite(lam)):
        raise ValueError(f"lambdas must be a non-empty 1-D sequence of finite numbers, got {lambdas!r}")
    lam = np.sort(lam)[::-1]
    rng = np.random.default_rng(V.seed(seed))

    a = instance.labels.astype(np.float64)[:, None] * instance.patterns.astype(np.float64)
    n, p = instance.n, instance.p
    u = init_scale * rng.standard_normal((p, n))
    out = {k: np.empty(lam.size) for k in ("phi", "overlap", "entropy", "max_change")}
    conv = np.zeros(lam.size, dtype=bool)
    contra = np.zeros(lam.size, dtype=bool)
    iters = np.zeros(lam.size, dtype=np.int64)
    from_cold = np.zeros(lam.size, dtype=bool)
    for j, lj in enumerate(lam):
        u, c, it, change = _iterate(a, ref, float(lj), u, factor, damping, tol, max_iter)
        obs = _observables(a, ref, float(lj), u, factor)
        if branch == "dominant":
            # a fresh start may find another state; the one with larger Bethe φ dominates Z(λ)
            u_c = init_scale * rng.standard_normal((p, n))
            u_c, c_c, it_c, change_c = _iterate(a, ref, float(lj), u_c, factor, damping, tol, max_iter)
            obs_c = _observables(a, ref, float(lj), u_c, factor)
            usable = c and not obs["contradiction"]
            usable_c = c_c and not obs_c["contradiction"]
            if (usable_c and not usable) or (usable_c == usable and obs_c["phi"] > obs["phi"]):
                u, c, it, change, obs = u_c, c_c, it + it_c, change_c, obs_c
                from_cold[j] = True
        conv[j] = c
        contra[j] = obs["contradiction"]
        out["phi"][j] = obs["phi"]
        out["overlap"][j] = obs["overlap"]
        out["entropy"][j] = obs["phi"] - lj * obs["overlap"]
        out["max_change"][j] = change
        iters[j] = it
        if progress is not None:
            progress(j, float(lj))
    return LocalEntropyBP(
        n=n,
        lambdas=lam.copy(),
        phi=out["phi"],
        overlap=out["overlap"],
        distance=(1.0 - out["overlap"]) / 2.0,
        entropy=out["entropy"],
        converged=conv,
        contradiction=contra,
        iterations=iters,
        max_change=out["max_change"],
        factor=factor,
        branch=branch,
        from_cold_start=from_cold,
    )
