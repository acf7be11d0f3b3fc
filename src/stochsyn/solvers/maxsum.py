"""Max-Sum (zero-temperature BP) for perceptrons with q-state weights and concave priors.

Baldassi & Braunstein, "A max-sum algorithm for training discrete neural
networks", J. Stat. Mech. P08008 (2015), arXiv:1505.05401.

Weights W_i take q evenly spaced, symmetric integer levels: binary (−1, +1), ternary
(−1, 0, +1), or −L…L. Messages are functions of the level (log-likelihoods up to a
constant). Variable to factor: the cavity function

    h_{i→μ}(w) = Σ_{ν≠μ} u_{ν→i}(w) + prior(w) + F_i(w) + ε r_i w,

with a concave prior (the l0 prior −λ·[w ≠ 0] for sparsity), a reinforcement F and a
fixed random tie-breaking term. Factor μ demands Δ_μ = Σ_i s_{μi} W_i ≥ κ
(s_{μi} = σ^μ ξ_i^μ ∈ {±1}); its max-sum message is

    u_{μ→i}(w) = Φ_{μ\\i}(κ − s_{μi} w),   Φ_{μ\\i}(T) = max { Σ_{j≠i} h_{j→μ}(W_j) : Σ_{j≠i} s_{μj} W_j ≥ T }.

Max-convolution of concave functions (the paper's point). Each h_{j→μ} is concave
in the level (a sum of concave functions: every message is concave, being a
non-increasing concave Φ composed with an affine map), and so is g_j(c) = h_{j→μ}
as a function of the contribution c = s_{μj} W_j. Start every j at its best level
(contribution sum S*); raising the sum by one level spacing δ through j costs
g_j(c) − g_j(c + δ) ≥ 0, and these costs increase along j's levels. The maximum
under Σ c_j ≥ T is therefore S*'s value minus the m cheapest steps over all j,
m = ⌈(T − S*)/δ⌉⁺, taken greedily from one sorted list of all steps: O(Nq log(Nq))
per factor for all its messages, plus O(q) per (i, w) to leave i's own steps out
(the cavity) by shifting along the sorted list. Binary weights are the q = 2 case
of the same kernel (one step of size 2 per variable; the field form
½[u(+1) − u(−1)] is the s_{μi} c_(k) of the binary papers).

Reinforcement as in rBP: F_i(t+1) = ρ_t H_i(t), ρ_t = min(1, ρ_0 + t·ρ_step), with
damping on u. The deployed weight is the level maximizing H_i (ties toward small
|w|, then +).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from .. import validation as V
from ..problems import Instance
from ..synapses import deploy as deploy_levels
from ..synapses import levels_for
from ._checks import check_instance, require_pattern_memory
from .base import Callback, Result, register

__all__ = ["maxsum", "maxsum_messages", "maxsum_factor_fields"]

# Stand-in for an infinite cost (a level that makes the factor unsatisfiable): finite so
# that sums and differences stay defined.
_FORCED = 1e12


@njit(parallel=True, cache=True, boundscheck=False)
def _messages_kernel(s, hcav, lv, kappa, out):  # pragma: no cover - compiled
    # s (P, N) ±1; hcav (P, N, q) cavity functions by weight level; lv (q,) sorted levels
    # (symmetric, spacing lv[1] - lv[0]); out (P, N, q) messages by weight level
    p, n, q = hcav.shape
    delta = lv[1] - lv[0]
    for mu in prange(p):
        kstar = np.empty(n, dtype=np.int64)
        first = np.empty(n, dtype=np.int64)
        nsteps = np.empty(n, dtype=np.int64)
        cost = np.empty(n * (q - 1))
        sstar = 0
        m_tot = 0
        for j in range(n):
            # g_j(c) over contribution index c: weight index c when s = +1, q-1-c when s = -1
            best = 0
            bv = -np.inf
            for c in range(q):
                k = c if s[mu, j] > 0 else q - 1 - c
                v = hcav[mu, j, k]
                if v > bv:
                    bv = v
                    best = c
            kstar[j] = best
            sstar += lv[best]
            first[j] = m_tot
            for c in range(best + 1, q):
                k0 = c - 1 if s[mu, j] > 0 else q - c
                k1 = c if s[mu, j] > 0 else q - 1 - c
                cost[m_tot] = hcav[mu, j, k0] - hcav[mu, j, k1]
                m_tot += 1
            nsteps[j] = m_tot - first[j]
        order = np.argsort(cost[:m_tot], kind="mergesort")
        rank = np.empty(m_tot, dtype=np.int64)
        prefix = np.zeros(m_tot + 1)
        for r in range(m_tot):
            rank[order[r]] = r
            prefix[r + 1] = prefix[r] + cost[order[r]]
        for i in range(n):
            s_cav = sstar - lv[kstar[i]]
            a = first[i]
            b = a + nsteps[i]
            for kw in range(q):
                t = kappa - s[mu, i] * lv[kw]
                if t <= s_cav:
                    out[mu, i, kw] = 0.0
                    continue
                m = (t - s_cav + delta - 1) // delta
                # the m cheapest steps of the others: skip i's own steps among them
                c = 0
                own = 0.0
                while a + c < b and rank[a + c] < m + c:
                    own += cost[a + c]
                    c += 1
                if m + c > m_tot:
                    out[mu, i, kw] = -_FORCED
                else:
                    out[mu, i, kw] = -(prefix[m + c] - own)


def _check_levels(levels) -> np.ndarray:
    lv = levels_for(levels)
    steps = np.diff(lv)
    if not (np.all(steps == steps[0]) and np.array_equal(lv, -lv[::-1])):
        raise ValueError(f"maxsum needs evenly spaced levels symmetric about 0 (±1, −L…L), got {lv.tolist()}")
    return lv


def maxsum_messages(s: np.ndarray, hcav: np.ndarray, kappa: int, levels=2) -> np.ndarray:
    """Exact max-sum messages u_{μ→i}(w) (P, N, q) for q-state weights and ±1 patterns.

    Args:
        s: (P, N) s_{μi} = σ^μ ξ_i^μ ∈ {±1}.
        hcav: (P, N, q) cavity functions h_{i→μ}(w), w over the sorted levels, concave in w.
        kappa: the stability each factor demands (an integer).
        levels: the weight levels (see :func:`stochsyn.synapses.levels_for`; default binary).

    Returns:
        u with u[μ, i, k] = Φ_{μ\\i}(κ − s_{μi} w_k) − Σ_{j≠i} max_w h_{j→μ}(w) (≤ 0; −1e12 when
        the factor cannot be satisfied with W_i = w_k).
    """
    lv = _check_levels(levels)
    s8 = np.ascontiguousarray(s, dtype=np.int8)
    hc = np.ascontiguousarray(hcav, dtype=np.float64)
    if hc.shape != s8.shape + (lv.size,):
        raise ValueError(f"hcav must have shape {s8.shape + (lv.size,)}, got {hc.shape}")
    out = np.empty_like(hc)
    _messages_kernel(s8, hc, lv, int(kappa), out)
    return out


def maxsum_factor_fields(s: np.ndarray, hcav: np.ndarray, kappa: int) -> np.ndarray:
    """Binary messages in field form, ½[u(+1) − u(−1)] (P, N), for scalar cavity fields
    h_{i→μ} (i.e. h(w) = h·w): the q = 2 case of :func:`maxsum_messages`."""
    h = np.asarray(hcav, dtype=np.float64)
    u = maxsum_messages(s, np.stack([-h, h], axis=-1), kappa, levels=2)
    return 0.5 * (u[..., 1] - u[..., 0])


def _default_kappa(n: int, binary: bool) -> int:
    k = max(1, int(round(0.35 * np.sqrt(n))))
    if binary:  # stabilities of ±1 weights on ±1 patterns with odd N are odd
        k = max(1, 2 * int(round((0.35 * np.sqrt(n) - 1) / 2)) + 1)
    return k


@register("maxsum", "Max-Sum (zero-temperature BP) with reinforcement, q-state weights (binary by default)")
def maxsum(
    instance: Instance,
    *,
    seed: int | None = 0,
    callback: Callback | None = None,
    max_epochs: int = 1000,
    levels: int | tuple = 2,
    l0: float = 0.0,
    kappa: int | None = None,
    rho0: float = 0.0,
    rho_step: float = 1e-2,
    damping: float = 0.5,
    noise: float = 1e-3,
    patience: int = 200,
) -> Result:
    """Max-Sum for q-state synapses (Baldassi & Braunstein 2015) with reinforcement
    F_i(t+1) = ρ_t H_i(t), ρ_t = min(1, ρ_0 + t·ρ_step). Needs ±1 patterns.

    Args:
        instance: the problem (±1 patterns).
        seed: seeds the tie-breaking random fields ε r_i w.
        callback: ``callback(epoch, {"errors", "max_delta", "rho", "zero_fraction"})``; True stops.
        max_epochs: budget of parallel sweeps (default 1000).
        levels: weight levels: 2 (binary ±1, default), 3 (−1, 0, +1), 2L+1 (−L…L), or the
            levels themselves (evenly spaced, symmetric about 0).
        l0: strength λ ≥ 0 of the l0 prior −λ·[w ≠ 0], a cost per non-zero weight that
            raises the fraction of zeros (default 0; needs a zero level).
        kappa: stability each factor demands, an integer >= 1 (odd for binary weights);
            κ = 1 is plain Δ > 0. Default None: the odd integer nearest 0.35·√N for binary
            weights (11 at N = 1001; it measured far better than κ = 1: N = 201, α = 0.5: 6/6
            solved with κ = 5 vs 4/6 with κ = 1), the nearest integer to 0.35·√N otherwise.
        rho0: initial reinforcement in [0, 1] (default 0.0).
        rho_step: reinforcement growth per sweep, >= 0 (default 1e-2).
        damping: weight of the old message, in [0, 1) (default 0.5).
        noise: ε, amplitude of the fixed random tie-breaking fields, > 0 (default 1e-3).
        patience: stop when the fewest errors seen has not improved for this many
            sweeps; 0 disables (default 200).

    Returns:
        Result whose weights (int8 levels) maximize the total fields at the sweep with the
        fewest training errors; ``history`` of "errors", "max_delta", "rho", "zero_fraction";
        ``info["levels"]`` the level set.
    """
    check_instance(instance, "maxsum", binary_patterns=True)
    max_epochs = V.integer("max_epochs", max_epochs, lo=0)
    lv = _check_levels(levels)
    q = lv.size
    binary = q == 2
    if kappa is None:
        kappa = _default_kappa(instance.n, binary)
    kappa = V.integer("kappa", kappa, lo=1)
    if binary and kappa % 2 == 0:
        raise ValueError(f"kappa must be odd (stabilities of ±1 patterns with odd N are odd), got kappa={kappa}")
    l0 = V.real("l0", l0, lo=0.0)
    if l0 > 0 and 0 not in lv:
        raise ValueError(f"l0={l0}: the l0 prior needs a zero level, got levels {lv.tolist()}")
    rho0 = V.real("rho0", rho0, lo=0.0, hi=1.0)
    rho_step = V.real("rho_step", rho_step, lo=0.0)
    damping = V.real("damping", damping, lo=0.0, hi=1.0, hi_open=True)
    noise = V.real("noise", noise, lo=0.0, lo_open=True)
    patience = V.integer("patience", patience, lo=0)

    # messages, new messages and cavity functions: three float64 P×N×q arrays
    require_pattern_memory(instance, "maxsum", 3 * 8 * q + 1, f"three float64 P×N×{q} message arrays")
    rng = np.random.default_rng(seed)
    s = instance.rows(slice(None), dtype=np.int8)
    s *= instance.labels[:, None]
    p, n = s.shape
    # ε r_i w: linear in w, so every cavity function stays concave (the greedy kernel is
    # exact only for concave functions); for binary weights it is the usual field ε r_i
    r = np.asarray(rng.uniform(-1.0, 1.0, size=n))
    tie_break = noise * r[:, None] * lv[None, :].astype(np.float64)
    prior = np.where(lv == 0, 0.0, -l0)[None, :]
    u = np.zeros((p, n, q))
    reinf = np.zeros((n, q))
    h = prior + tie_break
    best_w = deploy_levels(h, lv)
    best_err = instance.errors(best_w)
    hist: dict[str, list] = {"errors": [], "max_delta": [], "rho": [], "zero_fraction": []}
    epochs = 0
    stopped = False
    stalled = False
    best_at = 0
    while best_err > 0 and epochs < max_epochs:
        rho = min(1.0, rho0 + epochs * rho_step)
        reinf = rho * h
        fixed = reinf + tie_break + prior
        hcav = (u.sum(axis=0) + fixed)[None, :, :] - u
        u_new = np.empty_like(u)
        _messages_kernel(s, hcav, lv, kappa, u_new)
        delta = float(np.max(np.abs(u_new - u)))
        u = damping * u + (1.0 - damping) * u_new
        epochs += 1
        h = u.sum(axis=0) + fixed
        # Max-sum messages are homogeneous of degree one in (u, F, prior, ε r), and the
        # reinforcement makes them grow geometrically: rescale all together so that
        # nothing overflows (the argmax and the dynamics are unchanged).
        scale = float(np.max(np.abs(h)))
        if scale > 1e50:
            u /= scale
            h /= scale
            tie_break = tie_break / scale
            prior = prior / scale
        w = deploy_levels(h, lv)
        err = instance.errors(w)
        if err < best_err:
            best_err, best_w, best_at = err, w, epochs
        zf = float(np.mean(w == 0))
        hist["errors"].append(err)
        hist["max_delta"].append(delta)
        hist["rho"].append(rho)
        hist["zero_fraction"].append(zf)
        if callback is not None and callback(epochs, {"errors": err, "max_delta": delta, "rho": rho,
                                                      "zero_fraction": zf}):
            stopped = True
            break
        if patience and epochs - best_at >= patience:
            stalled = True
            break
    info = {"stopped_by_callback": stopped, "best_errors": int(best_err), "stalled": stalled, "kappa": kappa,
            "levels": lv.tolist(), "zero_fraction": float(np.mean(best_w == 0))}
    return Result(best_w, best_err == 0, best_err, epochs, history=hist, info=info)
