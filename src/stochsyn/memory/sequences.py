"""Sequence memory in a McCulloch–Pitts network (MPN) and the asymmetric-Hebb baseline.

MPN (Liu, Chotibut, Hillar & Lin, "Biologically plausible sequence learning with
spiking neural networks", AAAI 2020, arXiv:1911.10943). N binary units
x_i ∈ {0, 1} evolve as a continuous-time Markov jump process: unit i flips its
state with rate

    λ_i(x) = exp(s_i z_i / τ),   s_i = 1 − 2 x_i,   z_i = Σ_j W_ij x_j + b_i,

so an off unit switches on when its input z_i is large and an on unit switches
off when z_i is very negative; τ is a temperature. W need not be symmetric.

Frame-step approximation used here (our discretisation; the exact continuous-time
process, with its path likelihood and local rule, is :mod:`.mpn_continuous`): over a step of duration dt with the state
held fixed, unit i flips with probability p_i = 1 − exp(−λ_i dt), independently
of the others. A stored sequence ξ^0 → ξ^1 → … is one step of duration dt per
frame. Learning maximises the exact log-likelihood of the stored transitions
under this process,

    ℓ = Σ_{transitions} Σ_i [ f_i log(1 − e^{−u_i}) − (1 − f_i) u_i ],   u_i = λ_i dt,  f_i = ξ_i^{l+1} ⊕ ξ_i^l,

by gradient ascent (Adam, full batch). The gradient

    ∂ℓ/∂W_ij = Σ_transitions (s_i/τ) [ f_i u_i/(e^{u_i} − 1) − (1 − f_i) u_i ] ξ_j^l

is local: it uses only the presynaptic state ξ_j, the postsynaptic state s_i, whether
the postsynaptic unit flipped (f_i, its "spike") and its own rate u_i. It is
STDP-like: a presynaptic unit active just before a postsynaptic switch-on is
potentiated, one active before a missing switch is depressed.

Recall from a cue runs the process: ``stochastic=False`` applies the most probable
transition (flip iff p_i > 1/2, the τ → 0 limit of sampling); ``stochastic=True``
samples it, optionally with ``substeps`` > 1 finer steps per frame (towards the
continuous-time limit).

Baseline: the classic asymmetric Hebbian sequence rule (Sompolinsky & Kanter 1986;
Kleinfeld 1986) with ±1 units s = 2x − 1, J = (1/N) Σ_l s^{l+1} (s^l)ᵀ and
synchronous recall s(t+1) = sign(J s(t)).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np

__all__ = [
    "random_sequences",
    "MPN",
    "train_mpn",
    "AsymmetricHebb",
    "train_asymmetric_hebb",
    "recall",
    "recall_accuracy",
    "capacity_curve",
    "random_mpn",
    "sample_trajectory",
    "generative_check",
]

_LN_LN2 = math.log(math.log(2.0))


def _check_sequences(sequences: object) -> np.ndarray:
    arr = np.asarray(sequences)
    if arr.ndim == 2:
        arr = arr[None]
    if arr.ndim != 3:
        raise ValueError(f"sequences must have shape (K, L, N) or (L, N), got shape {np.shape(sequences)}")
    if arr.shape[1] < 2:
        raise ValueError(f"each sequence needs at least 2 frames, got length {arr.shape[1]}")
    if not np.all((arr == 0) | (arr == 1)):
        raise ValueError("sequences must contain only 0/1 values")
    return arr.astype(np.uint8)


def random_sequences(n_sequences: int, length: int, n: int, *, density: float = 0.5, seed: int = 0) -> np.ndarray:
    """K = ``n_sequences`` random sequences of ``length`` frames of N = ``n`` i.i.d. bits, P(1) = ``density``.

    Returns a uint8 array of shape (K, L, N).
    """
    for name, v, lo in (("n_sequences", n_sequences, 1), ("length", length, 2), ("n", n, 2)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < lo:
            raise ValueError(f"{name} must be an integer >= {lo}, got {v!r}")
    if not (0.0 < density < 1.0):
        raise ValueError(f"density must lie in (0, 1), got {density!r}")
    rng = np.random.default_rng(seed)
    return (rng.random((n_sequences, length, n)) < density).astype(np.uint8)


@dataclass
class MPN:
    """A McCulloch–Pitts network: weights W (N×N, W[i, j] from j to i), biases b, temperature τ, step dt."""

    weights: np.ndarray
    bias: np.ndarray
    tau: float = 1.0
    dt: float = 1.0
    history: list[dict[str, float]] = field(default_factory=list)

    @property
    def n(self) -> int:
        return int(self.bias.shape[0])

    def log_rates(self, x: np.ndarray) -> np.ndarray:
        """log λ_i(x) = s_i z_i / τ for states ``x`` (…, N)."""
        z = x.astype(np.float64) @ self.weights.T + self.bias
        return (1.0 - 2.0 * x) * z / self.tau

    def flip_probabilities(self, x: np.ndarray, dt: float | None = None) -> np.ndarray:
        """p_i = 1 − exp(−λ_i dt) for a step of length ``dt`` (default the frame step)."""
        dt = self.dt if dt is None else dt
        u = np.exp(np.minimum(self.log_rates(x), 700.0)) * dt
        return -np.expm1(-u)

    def step(self, x: np.ndarray, rng: np.random.Generator | None = None, *, substeps: int = 1,
             temperature: float = 1.0) -> np.ndarray:
        """Advance one frame. ``rng=None``: most probable transition; else sample ``substeps`` sub-steps.

        ``temperature`` multiplies τ during recall (lower = less noisy sampling).
        """
        if rng is None:
            # flip iff 1 − exp(−λ dt) > 1/2  ⇔  s z/τ > ln(ln 2 / dt)
            return np.where(self.log_rates(x) > _LN_LN2 - math.log(self.dt), 1 - x, x).astype(np.uint8)
        x = x.copy()
        h = self.dt / substeps
        for _ in range(substeps):
            lr = self.log_rates(x) / temperature
            p = -np.expm1(-np.exp(np.minimum(lr, 700.0)) * h)
            flip = rng.random(x.shape) < p
            x = np.where(flip, 1 - x, x).astype(np.uint8)
        return x

    def log_likelihood(self, sequences: np.ndarray) -> float:
        """ℓ of all stored transitions (natural log); see the module docstring."""
        seqs = _check_sequences(sequences)
        x = seqs[:, :-1].reshape(-1, seqs.shape[2])
        f = (seqs[:, 1:].reshape(-1, seqs.shape[2]) != x)
        lr = self.log_rates(x) + math.log(self.dt)
        return float(_loglik_terms(lr, f).sum())

    def save(self, path) -> None:
        """Write weights, bias, τ, dt to ``path`` (.npz, atomic)."""
        from ..problems import atomic_savez

        atomic_savez(path, weights=self.weights, bias=self.bias, tau=np.float64(self.tau), dt=np.float64(self.dt))

    @classmethod
    def load(cls, path) -> "MPN":
        """Read a network written by :meth:`save`."""
        with np.load(path, allow_pickle=False) as z:
            return cls(z["weights"], z["bias"], float(z["tau"]), float(z["dt"]))


def _log1mexp(x: np.ndarray) -> np.ndarray:
    """log(1 − e^{−x}) for x > 0, stable at both ends."""
    with np.errstate(divide="ignore"):
        return np.where(x > math.log(2.0), np.log1p(-np.exp(-x)), np.log(-np.expm1(-x)))


def _loglik_terms(log_u: np.ndarray, flip: np.ndarray) -> np.ndarray:
    u = np.exp(np.minimum(log_u, 700.0))
    return np.where(flip, _log1mexp(np.maximum(u, 1e-300)), -u)


def _dl_dlogu(log_u: np.ndarray, flip: np.ndarray) -> np.ndarray:
    """∂ℓ/∂(log u): f·u/(e^u − 1) − (1 − f)·u."""
    u = np.exp(np.minimum(log_u, 700.0))
    with np.errstate(over="ignore"):
        ratio = np.where(u < 1e-8, 1.0 - 0.5 * u, u / np.expm1(np.minimum(u, 700.0)))
    return np.where(flip, ratio, -u)


def train_mpn(
    sequences: np.ndarray,
    *,
    tau: float = 1.0,
    dt: float = 1.0,
    epochs: int = 2000,
    lr: float = 2.0,
    l2: float = 1e-6,
    tol: float = 0.05,
    method: str = "lbfgs",
    seed: int = 0,
    callback: Callable[[int, dict[str, float]], bool | None] | None = None,
) -> MPN:
    """Fit an MPN to ``sequences`` (K, L, N) by maximum likelihood with the local rule.

    Parameters
    ----------
    tau : temperature τ of the rates (default 1).
    dt : duration of one frame (default 1).
    epochs : maximum number of full-batch iterations (default 2000).
    lr : Adam only: step size times N (default 2.0, i.e. a step of 2/N per weight, so
        that a field moves by O(1) per step whatever the network size).
    l2 : weight decay on W, as (l2/2)·ΣW² added to the mean negative log-likelihood per bit
        (default 1e-6). It keeps the maximum-likelihood weights finite and, in our runs,
        makes recall from corrupted cues far more robust than l2 = 0 (which lets the
        optimiser blow up the weight scale instead of spreading them).
    tol : stop once every stored bit's wrong outcome has probability below ``tol``
        (default 0.05): the most probable transition then reproduces every stored
        transition, with margin. Checked every 10 epochs.
    seed : accepted for a uniform interface; training starts from W = 0, b = 0 and is
        deterministic, so the seed does not change the result.
    callback : ``callback(epoch, info)`` at every check; returning True stops training.
        ``info`` has ``nll_per_bit`` (mean −ℓ per bit and transition) and ``worst_error``.
    """
    seqs = _check_sequences(sequences)
    if tau <= 0 or dt <= 0:
        raise ValueError(f"tau and dt must be > 0, got tau={tau!r}, dt={dt!r}")
    if not isinstance(epochs, (int, np.integer)) or epochs < 1:
        raise ValueError(f"epochs must be an integer >= 1, got {epochs!r}")
    if lr <= 0:
        raise ValueError(f"lr must be > 0, got {lr!r}")
    if method not in ("lbfgs", "adam"):
        raise ValueError(f"method={method!r} is not valid; expected 'lbfgs' or 'adam'")
    n = seqs.shape[2]
    x = seqs[:, :-1].reshape(-1, n).astype(np.float64)
    f = seqs[:, 1:].reshape(-1, n) != seqs[:, :-1].reshape(-1, n)
    s = 1.0 - 2.0 * x
    t_count = x.shape[0]
    if method == "lbfgs":
        return _train_lbfgs(x, f, s, tau, dt, epochs, l2, tol, callback)
    step = lr / n
    w = np.zeros((n, n))
    b = np.zeros(n)
    mw, vw, mb, vb = np.zeros_like(w), np.zeros_like(w), np.zeros_like(b), np.zeros_like(b)
    beta1, beta2, eps = 0.9, 0.999, 1e-8
    model = MPN(w, b, tau, dt)
    log_dt = math.log(dt)
    for epoch in range(1, epochs + 1):
        log_u = s * (x @ w.T + b) / tau + log_dt
        u = np.exp(np.minimum(log_u, 700.0))
        # ∂ℓ/∂log u: u/(e^u − 1) where the unit flipped, −u where it did not
        g = -u
        uf = u[f]
        g[f] = np.where(uf < 1e-8, 1.0 - 0.5 * uf, uf / np.expm1(np.minimum(uf, 700.0)))
        if epoch % 10 == 0 or epoch == epochs:
            p_flip = -np.expm1(-u)
            worst = float(max(np.max(1.0 - p_flip[f], initial=0.0), np.max(p_flip[~f], initial=0.0)))
            nll = -float(_loglik_terms(log_u, f).sum()) / (t_count * n)
            info = {"epoch": float(epoch), "nll_per_bit": nll, "worst_error": worst}
            model.history.append(info)
            stop = callback(epoch, info) if callback is not None else None
            if worst < tol or stop:
                break
        g *= s / tau  # ∂ℓ/∂z_i per transition
        gw = g.T @ x / t_count - l2 * w
        gb = g.mean(axis=0)
        # Adam ascent on ℓ
        mw = beta1 * mw + (1 - beta1) * gw
        vw = beta2 * vw + (1 - beta2) * gw * gw
        mb = beta1 * mb + (1 - beta1) * gb
        vb = beta2 * vb + (1 - beta2) * gb * gb
        c1, c2 = 1 - beta1**epoch, 1 - beta2**epoch
        w += step * (mw / c1) / (np.sqrt(vw / c2) + eps)
        b += step * (mb / c1) / (np.sqrt(vb / c2) + eps)
    model.weights, model.bias = w, b
    return model


def _grad_terms(log_u: np.ndarray, f: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(u, ∂ℓ/∂log u) with ∂ℓ/∂log u = u/(e^u − 1) where flipped, −u elsewhere."""
    u = np.exp(np.minimum(log_u, 700.0))
    g = -u
    uf = u[f]
    g[f] = np.where(uf < 1e-8, 1.0 - 0.5 * uf, uf / np.expm1(np.minimum(uf, 700.0)))
    return u, g


def _worst_error(u: np.ndarray, f: np.ndarray) -> float:
    p_flip = -np.expm1(-u)
    return float(max(np.max(1.0 - p_flip[f], initial=0.0), np.max(p_flip[~f], initial=0.0)))


def _train_lbfgs(x, f, s, tau, dt, epochs, l2, tol, callback) -> MPN:
    from scipy.optimize import minimize

    t_count, n = x.shape
    scale = 1.0 / (t_count * n)
    log_dt = math.log(dt)
    model = MPN(np.zeros((n, n)), np.zeros(n), tau, dt)
    last: dict[str, Any] = {}

    def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
        w = theta[: n * n].reshape(n, n)
        b = theta[n * n:]
        log_u = s * (x @ w.T + b) / tau + log_dt
        u, g = _grad_terms(log_u, f)
        last["u"] = u
        nll = -float(_loglik_terms(log_u, f).sum()) * scale + 0.5 * l2 * float(np.sum(w * w))
        gz = g * s / tau
        gw = -(gz.T @ x) * scale + l2 * w
        gb = -gz.sum(axis=0) * scale
        return nll, np.concatenate([gw.ravel(), gb])

    it = [0]

    def check(intermediate_result) -> None:
        it[0] += 1
        worst = _worst_error(last["u"], f)
        info = {"epoch": float(it[0]), "nll_per_bit": float(intermediate_result.fun), "worst_error": worst}
        model.history.append(info)
        stop = callback(it[0], info) if callback is not None else None
        if worst < tol or stop:
            raise StopIteration

    res = minimize(objective, np.zeros(n * n + n), jac=True, method="L-BFGS-B", callback=check,
                   options={"maxiter": int(epochs), "maxcor": 20, "ftol": 0.0, "gtol": 1e-12})
    model.weights = res.x[: n * n].reshape(n, n).copy()
    model.bias = res.x[n * n:].copy()
    return model


@dataclass
class AsymmetricHebb:
    """Asymmetric Hebbian sequence network: J = (1/N) Σ s^{l+1}(s^l)ᵀ, s = 2x − 1, recall sign(J s)."""

    couplings: np.ndarray

    def step(self, x: np.ndarray, rng: np.random.Generator | None = None, **_: Any) -> np.ndarray:
        """One synchronous update; a zero field keeps the unit's state."""
        h = (2.0 * x.astype(np.float64) - 1.0) @ self.couplings.T
        return np.where(h > 0, 1, np.where(h < 0, 0, x)).astype(np.uint8)


def train_asymmetric_hebb(sequences: np.ndarray) -> AsymmetricHebb:
    """Build the asymmetric Hebbian couplings from (K, L, N) sequences (one shot, no randomness)."""
    seqs = _check_sequences(sequences)
    n = seqs.shape[2]
    s = 2.0 * seqs.astype(np.float64) - 1.0
    post = s[:, 1:].reshape(-1, n)
    pre = s[:, :-1].reshape(-1, n)
    return AsymmetricHebb(post.T @ pre / n)


def recall(net: MPN | AsymmetricHebb, cue: np.ndarray, frames: int, *, rng: np.random.Generator | None = None,
           substeps: int = 1, temperature: float = 1.0) -> np.ndarray:
    """Run ``frames`` steps from ``cue`` (…, N); returns (frames+1, …, N) with the cue first."""
    out = [np.asarray(cue, dtype=np.uint8)]
    for _ in range(frames):
        out.append(net.step(out[-1], rng, substeps=substeps, temperature=temperature))
    return np.stack(out)


def recall_accuracy(net: MPN | AsymmetricHebb, sequences: np.ndarray, *, cue_noise: float = 0.0, stochastic: bool = False,
                    substeps: int = 1, temperature: float = 1.0, seed: int = 0) -> dict[str, float]:
    """Free-running recall of every stored sequence from its (optionally corrupted) first frame.

    ``cue_noise`` is the fraction of cue bits flipped at random. Returns ``bits_correct``
    (fraction of correct bits over frames 1…L−1 of all sequences), ``sequences_perfect``
    (fraction recalled without a single wrong bit) and ``final_frame_bits_correct``.
    """
    seqs = _check_sequences(sequences)
    if not (0.0 <= cue_noise <= 1.0):
        raise ValueError(f"cue_noise must lie in [0, 1], got {cue_noise!r}")
    rng = np.random.default_rng(seed)
    cue = seqs[:, 0].copy()
    if cue_noise > 0:
        cue = np.where(rng.random(cue.shape) < cue_noise, 1 - cue, cue).astype(np.uint8)
    traj = recall(net, cue, seqs.shape[1] - 1, rng=rng if stochastic else None, substeps=substeps, temperature=temperature)
    traj = np.moveaxis(traj, 0, 1)  # (K, L, N)
    correct = traj[:, 1:] == seqs[:, 1:]
    return {
        "bits_correct": float(correct.mean()),
        "sequences_perfect": float(np.all(correct, axis=(1, 2)).mean()),
        "final_frame_bits_correct": float(correct[:, -1].mean()),
    }


def capacity_curve(n: int, length: int, counts: list[int], *, seeds: int | Sequence[int] = 1, seed: int = 0,
                   cue_noise: float = 0.0,
                   train_kwargs: dict[str, Any] | None = None,
                   progress: Callable[[dict[str, Any]], None] | None = None) -> list[dict[str, Any]]:
    """Recall accuracy of MPN and asymmetric Hebb against the number of stored sequences.

    For each K in ``counts`` and each data set — one per seed of ``seeds``, or, when
    ``seeds`` is a count, data seeds ``seed*1000 + r`` (:func:`~stochsyn.memory.layered.realisation_seeds`) —
    it stores K random sequences of ``length`` frames in N = ``n`` units and measures
    deterministic recall from the clean (or ``cue_noise``-corrupted) first frame.
    Load = K(L−1)/N transitions per unit. One row per (K, seed, rule); ``progress(row)``
    is called after each MPN/Hebb pair.
    """
    from .layered import realisation_seeds

    rows: list[dict[str, Any]] = []
    kw = dict(train_kwargs or {})
    data_seeds = realisation_seeds(seeds, seed)
    for k in counts:
        for data_seed in data_seeds:
            seqs = random_sequences(int(k), length, n, seed=data_seed)
            mpn = train_mpn(seqs, **kw)
            hebb = train_asymmetric_hebb(seqs)
            load = k * (length - 1) / n
            for rule, net, extra in (("mpn", mpn, {"epochs_run": mpn.history[-1]["epoch"] if mpn.history else 0.0}),
                                     ("asymmetric-hebb", hebb, {})):
                acc = recall_accuracy(net, seqs, cue_noise=cue_noise, seed=data_seed)
                row = dict(rule=rule, n=n, length=length, sequences=int(k), load=load, seed=data_seed, cue_noise=cue_noise, **acc, **extra)
                rows.append(row)
                if progress is not None:
                    progress(row)
    return rows


def random_mpn(n: int, *, gain: float = 1.5, bias: float = -1.5, tau: float = 1.0, seed: int = 0) -> MPN:
    """A random 'teacher' MPN: W_ij ~ N(0, gain²/N) (asymmetric, W_ii = 0), b_i = ``bias``.

    With the default negative bias an off unit switches on rarely and an on unit
    switches off quickly, so samples look like sparse spike trains.
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 2:
        raise ValueError(f"n must be an integer >= 2, got {n!r}")
    rng = np.random.default_rng(seed)
    w = rng.normal(scale=gain / math.sqrt(n), size=(n, n))
    np.fill_diagonal(w, 0.0)
    return MPN(w, np.full(n, float(bias)), tau, 1.0)


def sample_trajectory(net: MPN, frames: int, *, x0: np.ndarray | None = None, seed: int = 0) -> np.ndarray:
    """Sample ``frames`` steps of the MPN process from ``x0`` (default all off); returns (frames+1, N) uint8."""
    rng = np.random.default_rng(seed)
    x = np.zeros(net.n, dtype=np.uint8) if x0 is None else np.asarray(x0, dtype=np.uint8)
    return recall(net, x, frames, rng=rng)


def generative_check(n: int = 40, frames: int = 4000, *, seed: int = 0, l2: float = 1e-4, epochs: int = 500) -> dict[str, float]:
    """Generative mode on a generated spike-train data set.

    A random teacher MPN (:func:`random_mpn`) produces ``frames`` training frames and as
    many held-out frames; an MPN is fitted to the training train by the same
    likelihood rule; we report the held-out log-likelihood per unit and frame (nats) of
    the fitted model, of the teacher and of an independent-flip baseline (each unit flips
    with its empirical probability, separately for on and off), the correlation between
    fitted and teacher weights, and how well samples of the fitted model reproduce the
    firing rates and lag-1 cross-correlations of held-out data. ``l2`` (default 1e-4) is the
    weight decay of the fit; without it a few thousand frames over-fit N² weights.
    """
    teacher = random_mpn(n, seed=seed)
    data = sample_trajectory(teacher, 2 * frames, seed=seed + 1)
    train, test = data[: frames + 1], data[frames:]
    model = train_mpn(train[None], l2=l2, epochs=epochs, tol=0.0)
    steps = test.shape[0] - 1

    def per_bit(m: MPN) -> float:
        return m.log_likelihood(test[None]) / (steps * n)

    x = train[:-1].astype(bool)
    f = train[1:] != train[:-1]
    p_on = np.clip((f & ~x).sum(0) / np.maximum((~x).sum(0), 1), 1e-6, 1 - 1e-6)  # off → on
    p_off = np.clip((f & x).sum(0) / np.maximum(x.sum(0), 1), 1e-6, 1 - 1e-6)  # on → off
    xt = test[:-1].astype(bool)
    ft = test[1:] != test[:-1]
    p = np.where(xt, p_off, p_on)
    ll_indep = float(np.where(ft, np.log(p), np.log1p(-p)).sum()) / (steps * n)
    sample = sample_trajectory(model, frames, x0=test[0], seed=seed + 2)

    def lag1(d: np.ndarray) -> np.ndarray:
        z = d.astype(np.float64) - d.mean(0)
        return z[1:].T @ z[:-1] / (d.shape[0] - 1)

    mask = ~np.eye(n, dtype=bool)
    return {
        "n": float(n), "frames": float(frames),
        "heldout_ll_fitted": per_bit(model), "heldout_ll_teacher": per_bit(teacher), "heldout_ll_independent": ll_indep,
        "weight_correlation": float(np.corrcoef(model.weights[mask], teacher.weights[mask])[0, 1]),
        "rate_data": float(test.mean()), "rate_sampled": float(sample.mean()),
        "rate_correlation": float(np.corrcoef(test.mean(0), sample.mean(0))[0, 1]),
        "lag1_correlation": float(np.corrcoef(lag1(test)[mask], lag1(sample)[mask])[0, 1]),
    }
