"""The McCulloch–Pitts network (MPN) as the paper's continuous-time jump process.

MPN (Liu, Chotibut, Hillar & Lin, AAAI 2020, arXiv:1911.10943). N binary units
x_i ∈ {0, 1}; unit i flips with rate

    λ_i(x) = exp(s_i z_i / τ),   s_i = 1 − 2 x_i,   z_i = Σ_j W_ij x_j + b_i,

one flip at a time, with exponentially distributed holding times: in state x the
process waits Exp(Λ(x)), Λ = Σ_i λ_i, then flips unit i with probability λ_i/Λ.
:func:`simulate` samples it exactly (Gillespie's direct method; the fields are updated
incrementally, O(N) per flip). :mod:`.sequences` keeps the frame-step model (every unit
flips independently over a step dt), a named approximation of this process.

Path likelihood. A path x⁰ →(i_1, t_1) x¹ →(i_2, t_2) … x^K, observed on [0, T], has
the density

    log L = Σ_k log λ_{i_k}(x^{k−1}) − Σ_{k=0}^{K} Δ_k Λ(x^k),   Δ_k = t_{k+1} − t_k  (t_0 = 0, t_{K+1} = T),

the last holding interval being censored at T. It is a sum over units, and each term is
concave in (W_i·, b_i) (log λ is linear in z, −Δλ is −Δ·exp(linear)).

Local learning rule. Its gradient,

    ∂ log L / ∂W_ij = (s_i / τ) Σ_k x_j^k [ 1{i_{k+1} = i} − Δ_k λ_i(x^k) ],   (∂/∂b_i: x_j → 1)

uses only what the synapse j → i sees: the presynaptic state x_j, the postsynaptic
state s_i and rate λ_i (a function of its own input z_i), and whether the postsynaptic
unit flipped. It is STDP-like: a presynaptic unit active when the postsynaptic unit
switches on is potentiated, and every moment the postsynaptic unit *could* have
switched on but did not depresses it in proportion to the rate. :func:`fit` ascends
this gradient (per-synapse Adam step sizes: each synapse keeps its own two running
averages, so the rule stays local).

Sequence memory. A stored sequence of frames ξ⁰ → ξ¹ → … → ξ^{L−1} becomes a target
path (:func:`sequence_path`): each frame-to-frame transition flips the units that
differ one at a time, in a random order drawn once, every holding time ``dt``; the
last frame is held for ``dt`` more (censored). Recall (:func:`recall_frames`) runs the
process from ξ⁰ and checks that it visits ξ¹, ξ², … in order (a visit: a state
within Hamming distance ``tol``·N of the frame). The baseline is the asymmetric-Hebb
rule J = (1/N) Σ_l s^{l+1} (s^l)ᵀ (s = 2x − 1) run through the same process
(:func:`hebbian_mpn`: z_i = g Σ_j J_ij s_j, i.e. W = 2gJ, b_i = −g Σ_j J_ij).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from .sequences import MPN, _check_sequences

__all__ = [
    "JumpPath",
    "simulate",
    "path_log_likelihood",
    "path_gradient",
    "fit",
    "generator_matrix",
    "flip_sequences",
    "sequence_path",
    "hebbian_mpn",
    "recall_frames",
    "sequence_capacity",
    "coupling_recovery",
]

_MAX_LOG_RATE = 700.0


@dataclass(frozen=True)
class JumpPath:
    """A path of the jump process: start state, flip times and units, observation end T.

    ``times`` (K,) strictly increasing in (0, T]; ``units`` (K,) the unit flipped at each
    time; the last holding interval [t_K, T] is censored (no flip observed in it).
    """

    x0: np.ndarray
    times: np.ndarray
    units: np.ndarray
    t_end: float

    def __post_init__(self) -> None:
        x0 = np.asarray(self.x0)
        if x0.ndim != 1 or not np.all((x0 == 0) | (x0 == 1)):
            raise ValueError("x0 must be a 1-D array of 0/1 values")
        t = np.asarray(self.times, dtype=np.float64)
        u = np.asarray(self.units)
        if t.shape != u.shape or t.ndim != 1:
            raise ValueError(f"times and units must be 1-D of equal length, got {t.shape} and {u.shape}")
        if t.size and (np.any(np.diff(t) < 0) or t[0] < 0 or t[-1] > self.t_end):
            raise ValueError("times must be non-decreasing in [0, t_end]")
        if u.size and (u.min() < 0 or u.max() >= x0.size):
            raise ValueError(f"units must index the {x0.size} units")
        object.__setattr__(self, "x0", x0.astype(np.uint8))
        object.__setattr__(self, "times", t)
        object.__setattr__(self, "units", u.astype(np.int64))
        object.__setattr__(self, "t_end", float(self.t_end))

    @property
    def n(self) -> int:
        return int(self.x0.size)

    @property
    def n_jumps(self) -> int:
        return int(self.times.size)

    def states(self) -> np.ndarray:
        """(K+1, N) uint8: the state during each holding interval (x⁰ … x^K)."""
        k = self.n_jumps
        flips = np.zeros((k + 1, self.n), dtype=np.uint8)
        flips[np.arange(1, k + 1), self.units] = 1
        return (self.x0[None, :] ^ (np.cumsum(flips, axis=0) % 2).astype(np.uint8)).astype(np.uint8)

    def holding_times(self) -> np.ndarray:
        """(K+1,) Δ_k = t_{k+1} − t_k with t_0 = 0 and t_{K+1} = T."""
        return np.diff(np.concatenate([[0.0], self.times, [self.t_end]]))


def _log_rates(net: MPN, x: np.ndarray) -> np.ndarray:
    z = x.astype(np.float64) @ net.weights.T + net.bias
    return np.minimum((1.0 - 2.0 * x) * z / net.tau, _MAX_LOG_RATE)


def simulate(net: MPN, *, t_end: float | None = None, max_jumps: int | None = None,
             x0: np.ndarray | None = None, seed: int = 0) -> JumpPath:
    """Exact sample of the MPN jump process (Gillespie's direct method).

    Runs until time ``t_end`` or until ``max_jumps`` flips (whichever comes first; at
    least one must be given). With ``t_end`` the last interval is censored at ``t_end``;
    when it stops on ``max_jumps`` the path ends at the last flip.

    Args:
        net: the network (weights W[i, j] from j to i, bias b, temperature τ).
        t_end: observation time T.
        max_jumps: flip budget.
        x0: start state (default all off).
        seed: random seed.
    """
    if t_end is None and max_jumps is None:
        raise ValueError("give t_end, max_jumps or both")
    if t_end is not None and not (math.isfinite(t_end) and t_end > 0):
        raise ValueError(f"t_end must be a positive finite time, got {t_end!r}")
    if max_jumps is not None and (isinstance(max_jumps, bool) or int(max_jumps) != max_jumps or max_jumps < 0):
        raise ValueError(f"max_jumps must be a non-negative integer, got {max_jumps!r}")
    n = net.n
    from ..resources import require_memory

    require_memory(8.0 * 2 * n * n, f"the MPN couplings of N={n} units")
    rng = np.random.default_rng(seed)
    x = np.zeros(n, dtype=np.uint8) if x0 is None else np.asarray(x0, dtype=np.uint8).copy()
    if x.shape != (n,):
        raise ValueError(f"x0 must have shape ({n},), got {x.shape}")
    start = x.copy()
    z = x.astype(np.float64) @ net.weights.T + net.bias
    w_cols = np.ascontiguousarray(net.weights.T)  # row j = column j of W: the fields unit j feeds
    budget = np.inf if max_jumps is None else int(max_jumps)
    horizon = np.inf if t_end is None else float(t_end)
    times: list[float] = []
    units: list[int] = []
    t = 0.0
    while len(units) < budget:
        rates = np.exp(np.minimum((1.0 - 2.0 * x) * z / net.tau, _MAX_LOG_RATE))
        total = float(rates.sum())
        t += rng.exponential(1.0 / total)
        if t > horizon:
            break
        i = int(np.searchsorted(np.cumsum(rates), rng.random() * total, side="right"))
        i = min(i, n - 1)
        z += w_cols[i] * (1.0 if x[i] == 0 else -1.0)
        x[i] ^= 1
        times.append(t)
        units.append(i)
    end = horizon if math.isfinite(horizon) and len(units) < budget else (times[-1] if times else 0.0)
    return JumpPath(start, np.array(times), np.array(units, dtype=np.int64), end)


def _path_arrays(path: JumpPath) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x = path.states()
    dt = path.holding_times()
    jump = np.zeros(x.shape, dtype=np.float64)  # jump[k, i] = 1 if unit i flips at the end of interval k
    jump[np.arange(path.n_jumps), path.units] = 1.0
    return x, dt, jump


def path_log_likelihood(net: MPN, path: JumpPath | Sequence[JumpPath]) -> float:
    """log L = Σ_k log λ_{i_k}(x^{k−1}) − Σ_k Δ_k Λ(x^k) (module docstring), summed over paths."""
    paths = [path] if isinstance(path, JumpPath) else list(path)
    total = 0.0
    for p in paths:
        x, dt, jump = _path_arrays(p)
        lr = _log_rates(net, x)
        total += float((jump * lr).sum() - (dt[:, None] * np.exp(lr)).sum())
    return total


def path_gradient(net: MPN, path: JumpPath | Sequence[JumpPath]) -> tuple[np.ndarray, np.ndarray]:
    """(∂ log L/∂W, ∂ log L/∂b) of :func:`path_log_likelihood`: the local rule of the module docstring."""
    paths = [path] if isinstance(path, JumpPath) else list(path)
    gw = np.zeros_like(net.weights, dtype=np.float64)
    gb = np.zeros_like(net.bias, dtype=np.float64)
    for p in paths:
        x, dt, jump = _path_arrays(p)
        s = 1.0 - 2.0 * x
        a = s * (jump - dt[:, None] * np.exp(_log_rates(net, x))) / net.tau  # per (interval, post unit)
        gw += a.T @ x.astype(np.float64)
        gb += a.sum(0)
    return gw, gb


def fit(paths: JumpPath | Sequence[JumpPath], *, tau: float = 1.0, epochs: int = 500, lr: float = 0.05,
        l2: float = 0.0, tol: float = 1e-6, init: MPN | None = None,
        callback: Callable[[int, float], None] | None = None) -> MPN:
    """Maximum-likelihood MPN for observed paths by gradient ascent with the local rule.

    Each epoch is one full pass: the gradient of (log L)/K − (l2/2)·‖W‖² (K = flips in
    the data) by :func:`path_gradient`, then an Adam step per synapse and bias. The
    objective is concave, so the result does not depend on the start beyond ``tol``.

    Args:
        paths: one or several observed paths on the same N units.
        tau: temperature τ of the fitted model (the likelihood fixes W/τ, b/τ).
        epochs: maximal number of passes.
        lr: Adam step size.
        l2: weight decay on W.
        tol: stop when the largest gradient entry (per flip) falls below it.
        init: start network (default W = 0, b = 0).
        callback: ``callback(epoch, log_likelihood_per_flip)`` every 10 epochs.
    """
    ps = [paths] if isinstance(paths, JumpPath) else list(paths)
    if not ps:
        raise ValueError("paths must hold at least one path")
    n = ps[0].n
    if any(p.n != n for p in ps):
        raise ValueError("all paths must have the same number of units")
    k = max(sum(p.n_jumps for p in ps), 1)
    from ..resources import require_memory

    # W, two Adam moments, the gradient, and the (interval × unit) arrays of the passes
    require_memory(8.0 * (4 * n * n + 4 * (k + len(ps)) * n), f"fitting an MPN on N={n} units and {k} flips")
    net = MPN(np.zeros((n, n)), np.zeros(n), float(tau), 1.0) if init is None else \
        MPN(init.weights.astype(np.float64).copy(), init.bias.astype(np.float64).copy(), float(tau), init.dt)
    m = [np.zeros((n, n)), np.zeros(n)]
    v = [np.zeros((n, n)), np.zeros(n)]
    b1, b2, eps = 0.9, 0.999, 1e-8
    for epoch in range(1, int(epochs) + 1):
        gw, gb = path_gradient(net, ps)
        gw = gw / k - l2 * net.weights
        gb = gb / k
        for idx, (g, param) in enumerate(((gw, net.weights), (gb, net.bias))):
            m[idx] = b1 * m[idx] + (1 - b1) * g
            v[idx] = b2 * v[idx] + (1 - b2) * g * g
            param += lr * (m[idx] / (1 - b1**epoch)) / (np.sqrt(v[idx] / (1 - b2**epoch)) + eps)
        worst = max(float(np.abs(gw).max()), float(np.abs(gb).max()))
        if callback is not None and (epoch % 10 == 0 or worst < tol):
            callback(epoch, path_log_likelihood(net, ps) / k)
        if worst < tol:
            break
    net.history.append({"epoch": float(epoch), "log_likelihood_per_flip": path_log_likelihood(net, ps) / k})
    return net


def generator_matrix(net: MPN) -> np.ndarray:
    """The 2^N × 2^N rate matrix Q of the process (rows: from-state, state index Σ_i x_i 2^i).

    For exact checks at small N (N ≤ 12): the stationary law solves πQ = 0, the law at
    time t is p₀ exp(Qt).
    """
    n = net.n
    if n > 12:
        raise ValueError(f"generator_matrix enumerates 2^N states; N = {n} > 12")
    states = ((np.arange(2**n)[:, None] >> np.arange(n)) & 1).astype(np.uint8)
    rates = np.exp(_log_rates(net, states))
    q = np.zeros((2**n, 2**n))
    idx = np.arange(2**n)
    for i in range(n):
        q[idx, idx ^ (1 << i)] = rates[:, i]
    q[idx, idx] = -rates.sum(1)
    return q


def flip_sequences(n_sequences: int, length: int, n: int, flips: int, *, seed: int = 0) -> np.ndarray:
    """(K, L, N) uint8 sequences: a random first frame, then each frame flips ``flips`` distinct
    random units of the previous one (``flips`` = N/2 on average gives i.i.d. random frames)."""
    for name, v, lo in (("n_sequences", n_sequences, 1), ("length", length, 2), ("n", n, 2), ("flips", flips, 1)):
        if isinstance(v, bool) or int(v) != v or v < lo:
            raise ValueError(f"{name} must be an integer >= {lo}, got {v!r}")
    if flips > n:
        raise ValueError(f"flips must be at most n = {n}, got {flips}")
    rng = np.random.default_rng(seed)
    out = np.empty((int(n_sequences), int(length), int(n)), dtype=np.uint8)
    for k in range(int(n_sequences)):
        out[k, 0] = rng.integers(0, 2, size=n)
        for t in range(1, int(length)):
            out[k, t] = out[k, t - 1]
            out[k, t, rng.choice(n, size=int(flips), replace=False)] ^= 1
    return out


def sequence_path(frames: np.ndarray, *, dt: float = 1.0, seed: int = 0) -> JumpPath:
    """The target path of a sequence of frames (L, N): each transition's differing units flip
    one at a time in a random order, every holding time ``dt``; the last frame held ``dt``."""
    seq = _check_sequences(frames)
    if seq.shape[0] != 1:
        raise ValueError("sequence_path takes one sequence of shape (L, N)")
    f = seq[0]
    rng = np.random.default_rng(seed)
    units: list[int] = []
    for a, b in zip(f[:-1], f[1:]):
        diff = np.flatnonzero(a != b)
        units.extend(rng.permutation(diff).tolist())
    times = dt * np.arange(1, len(units) + 1, dtype=np.float64)
    return JumpPath(f[0], times, np.array(units, dtype=np.int64), dt * (len(units) + 1))


def hebbian_mpn(frames: np.ndarray, *, gain: float = 5.0, tau: float = 1.0) -> MPN:
    """Asymmetric-Hebb couplings J = (1/N) Σ_l s^{l+1}(s^l)ᵀ over (K, L, N) sequences, as an MPN.

    z_i = gain · Σ_j J_ij s_j with s = 2x − 1, i.e. W = 2·gain·J and b_i = −gain·Σ_j J_ij.
    """
    seqs = _check_sequences(frames)
    n = seqs.shape[2]
    s = 2.0 * seqs.astype(np.float64) - 1.0
    j = s[:, 1:].reshape(-1, n).T @ s[:, :-1].reshape(-1, n) / n
    return MPN(2.0 * gain * j, -gain * j.sum(1), float(tau), 1.0)


def recall_frames(net: MPN, frames: np.ndarray, *, t_end: float, tol: float = 0.05, seed: int = 0,
                  max_jumps: int | None = None) -> dict[str, float]:
    """Run the process from frame 0 for ``t_end`` and score the frames visited in order.

    A frame l ≥ 1 is reached when, after frame l − 1 was reached, the path visits a state
    within Hamming distance ``tol``·N of it. Returns ``frames_reached`` (fraction of the
    L − 1 frames), ``perfect`` (1.0 if all), ``jumps`` (flips simulated).
    """
    seq = _check_sequences(frames)[0]
    path = simulate(net, t_end=t_end, x0=seq[0], seed=seed,
                    max_jumps=max_jumps if max_jumps is not None else 50 * seq.shape[1] * seq.shape[1] * 4)
    states = path.states()
    limit = tol * seq.shape[1]
    nxt = 1
    for st in states:
        if nxt >= seq.shape[0]:
            break
        if np.count_nonzero(st != seq[nxt]) <= limit:
            nxt += 1
    reached = (nxt - 1) / (seq.shape[0] - 1)
    return {"frames_reached": float(reached), "perfect": float(nxt == seq.shape[0]), "jumps": float(path.n_jumps)}


def sequence_capacity(n: int, length: int, counts: Sequence[int], *, flips: int | None = None, seeds: int | Sequence[int] = 3, seed: int = 0,
                      dt: float = 1.0, epochs: int = 2000, lr: float = 0.1, recall_time: float = 2.0, hebb_gains: Sequence[float] = (2.0, 5.0, 10.0),
                      tol: float = 0.05,
                      progress: Callable[[dict], None] | None = None) -> list[dict]:
    """Continuous-time recall of K random sequences (N units, L frames) against K, MPN vs Hebb.

    Sequences: i.i.d. random frames (``flips=None``) or :func:`flip_sequences` with
    ``flips`` units changing per transition. For each K and data seed: the MPN is fitted by :func:`fit` to the K target paths of
    :func:`sequence_path`; every sequence is recalled from its first frame over
    ``recall_time`` times the duration of its target path (:func:`recall_frames`; a
    sampled path is slower or faster than the target, and only the order of the frames
    reached is scored). The asymmetric-Hebb network runs
    through the same process at each gain of ``hebb_gains`` and the best gain is kept
    (so the baseline is not handicapped by a badly chosen scale). One row per (K, seed, rule).
    """
    from .layered import realisation_seeds
    from .sequences import random_sequences

    rows: list[dict] = []
    for k in counts:
        for data_seed in realisation_seeds(seeds, seed):
            seqs = random_sequences(int(k), length, n, seed=data_seed) if flips is None else \
                flip_sequences(int(k), length, n, flips, seed=data_seed)
            targets = [sequence_path(seqs[i], dt=dt, seed=data_seed + 7919 * i) for i in range(int(k))]
            mpn = fit(targets, epochs=epochs, lr=lr)
            scored = {"mpn": [recall_frames(mpn, seqs[i], t_end=recall_time * targets[i].t_end, tol=tol, seed=data_seed + i)
                              for i in range(int(k))]}
            best: list[dict] | None = None
            best_gain = float("nan")
            for g in hebb_gains:
                h = hebbian_mpn(seqs, gain=g)
                res = [recall_frames(h, seqs[i], t_end=recall_time * targets[i].t_end, tol=tol, seed=data_seed + i) for i in range(int(k))]
                if best is None or np.mean([x["frames_reached"] for x in res]) > np.mean([x["frames_reached"] for x in best]):
                    best, best_gain = res, g
            scored["asymmetric-hebb"] = best if best is not None else []
            for rule, res in scored.items():
                row = {"rule": rule, "n": n, "length": length, "sequences": int(k), "flips": flips,
                       "load": k * (length - 1) / n,
                       "seed": data_seed, "frames_reached": float(np.mean([x["frames_reached"] for x in res])),
                       "sequences_perfect": float(np.mean([x["perfect"] for x in res])),
                       "hebb_gain": best_gain if rule == "asymmetric-hebb" else None}
                rows.append(row)
                if progress is not None:
                    progress(row)
    return rows


def coupling_recovery(n: int = 10, jumps: Sequence[int] = (1000, 10000, 100000), *, gain: float = 1.5,
                      bias: float = -0.5, seed: int = 0, epochs: int = 2000, lr: float = 0.05) -> list[dict]:
    """Fit an MPN to spike trains of a known random network and compare the couplings.

    The ground truth is :func:`~stochsyn.memory.sequences.random_mpn` (W_ij ~ N(0, gain²/N),
    W_ii = 0, b_i = ``bias``); for each budget K in ``jumps`` one path of K flips is
    simulated exactly and fitted by :func:`fit`. Reports the relative error
    ‖W_fit − W‖/‖W‖ and the correlation over the off-diagonal couplings, and the bias error.
    """
    from .sequences import random_mpn

    truth = random_mpn(n, gain=gain, bias=bias, seed=seed)
    mask = ~np.eye(n, dtype=bool)
    rows = []
    for kj in jumps:
        path = simulate(truth, max_jumps=int(kj), seed=seed + 1)
        est = fit(path, epochs=epochs, lr=lr, tol=1e-7)
        dw = est.weights[mask] - truth.weights[mask]
        rows.append({"n": n, "jumps": int(kj),
                     "relative_error": float(np.linalg.norm(dw) / np.linalg.norm(truth.weights[mask])),
                     "correlation": float(np.corrcoef(est.weights[mask], truth.weights[mask])[0, 1]),
                     "bias_rmse": float(np.sqrt(np.mean((est.bias - truth.bias) ** 2))),
                     "self_coupling_rms": float(np.sqrt(np.mean(np.diag(est.weights) ** 2))),
                     "epochs": int(est.history[-1]["epoch"])})
    return rows
