"""The paper's method: gradient descent on the parameters of stochastic binary synapses.

Baldassi, Gerace, Kappen, Lucibello, Saglietti, Tartaglione, Zecchina, "On the
role of synaptic stochasticity in training low-precision neural networks",
PRL 120, 268103 (2018), arXiv:1710.09825.

Each synapse is a ±1 random variable with mean m_i = tanh(h_i). The loss is the
central-limit negative log-likelihood E(m) = −Σ_μ log Φ(u^μ) of
:mod:`stochsyn.clt`; we descend on the real fields h and deploy W = sign(m)
(sign(0) := +1). The run stops at the first epoch where sign(m) classifies every
pattern, or when the epoch budget ends.

Entropic annealing, in units that do not depend on N. Plain descent on E
polarizes the synapses quickly and then freezes with a few errors (at N = 1001,
α = 0.7 it solved 0 of 10 instances). We descend instead on the variational free
energy of the synapse distribution, per pattern and per synapse,

    F_τ(m) = E(m)/P − τ s̄(m),   s̄(m) = (1/N) Σ_i s(m_i),   s(m) = −Σ_± (1 ± m)/2 · log((1 ± m)/2),

whose entropy term (∂s/∂m = −atanh m = −h) keeps the synapses from polarizing
before the loss has found a good direction, and anneal τ_t = τ₀ (1 − d)^t.
Both terms of F_τ are intensive (E/P and s̄ are O(1)), and with τ so defined the
whole trajectory — overlap q(τ) = mean m², errors(τ), and the collapse onto a
solution at τ ≈ 0.45–0.5 — is the same at N = 1001 and N = 10001 (docs/core.md).
The first version of this solver put an absolute temperature T on Σ_i s(m_i),
i.e. τ = T·N: tuned at N = 1001 (T = 1e-3), it was 10x too hot at N = 10001 and
spent thousands of epochs cooling down, which is why it failed there.

q-state synapses (``levels=3`` for −1, 0, +1, or −L…L): each synapse is a categorical
distribution p_i = softmax(θ_i) over the levels (:mod:`stochsyn.synapses`, shared with
the deep layers); the CLT loss takes the exact mean Σ m_i ξ_i and variance
Σ (r_i − m_i²) ξ_i², the entropy is the categorical one in the same per-synapse units
(so the same τ schedule applies), and a constant field λ on the zero level
(``zero_bias``) sets the sparsity. The deployed weight is the most probable level.

Cost of a full-batch epoch: two passes over the pattern matrix, one for the
means μ^μ together with the stabilities of sign(m), one transposed for the
gradient. Large ±1 instances are read as packed bits (:mod:`stochsyn.packed`,
one bit per entry; a dense int8 instance is packed once); otherwise the matrix
is cast once to ``dtype`` for BLAS. For ±1 patterns v^μ = Σ_i (1 − m_i²) is the
same for every μ; real patterns need one more product with ξ².
"""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from ..clt import DEFAULT_VAR_FLOOR, clt_coefficients, clt_loss_grad_folded
from ..packed import cols_dot, pack_signs, rows_dot
from ..problems import Instance
from ..resources import require_memory
from .. import synapses as syn
from .. import validation as V
from ._checks import check_instance
from .base import Callback, Result, register

__all__ = ["stochastic_gd", "DEFAULTS", "tau_schedule", "levels_gradient"]

# Below this many matrix entries a BLAS product takes microseconds: the packed
# kernels' thread start-up would dominate, and extra BLAS threads only add
# synchronization cost (10x slower on a loaded 2-core machine).
_SMALL_PRODUCT = 1 << 22

_OPTIMIZERS = ("gd", "adam")
_KERNELS = ("auto", "blas", "packed")


def tau_schedule(epoch: int, tau: float, tau_decay: float) -> float:
    """Entropic temperature of epoch ``epoch`` (1-based): τ_t = τ₀ (1 − d)^(t−1)."""
    return tau * (1.0 - tau_decay) ** (epoch - 1)


def _validate(opts: dict[str, Any]) -> None:
    V.integer("max_epochs", opts["max_epochs"], lo=1)
    V.choice("optimizer", opts["optimizer"], _OPTIMIZERS)
    for name in ("lr", "beta", "h_max"):
        V.real(name, opts[name], lo=0.0, lo_open=True)
    for name in ("beta_growth", "margin_growth", "init_scale", "var_floor", "tau"):
        V.real(name, opts[name], lo=0.0)
    V.real("margin", opts["margin"])
    V.real("tau_decay", opts["tau_decay"], lo=0.0, hi=1.0, hi_open=True)
    V.real("momentum", opts["momentum"], lo=0.0, hi=1.0, hi_open=True)
    bt = opts["blas_threads"]
    if bt != "auto":
        V.integer("blas_threads", bt, lo=1)
    bs = opts["batch_size"]
    if bs is not None:
        V.integer("batch_size", bs, lo=1)
    V.choice("kernel", opts["kernel"], _KERNELS)
    V.choice("dtype", opts["dtype"], ("float32", "float64"))
    V.flag("history", opts["history"])
    V.real("zero_bias", opts["zero_bias"])


@register("stochastic", "Gradient descent on stochastic binary synapses, CLT loss (Baldassi et al. PRL 2018)")
def stochastic_gd(
    instance: Instance,
    *,
    seed: int | None = 0,
    callback: Callback | None = None,
    max_epochs: int = 2000,
    optimizer: str = "adam",
    lr: float = 0.1,
    momentum: float = 0.0,
    batch_size: int | None = None,
    tau: float = 0.6,
    tau_decay: float = 1e-3,
    levels: int | tuple[int, ...] = 2,
    zero_bias: float = 0.0,
    beta: float = 1.0,
    beta_growth: float = 0.0,
    margin: float = 0.0,
    margin_growth: float = 0.0,
    init_scale: float = 0.01,
    h_max: float = 10.0,
    var_floor: float = DEFAULT_VAR_FLOOR,
    dtype: str = "float32",
    history: bool = True,
    blas_threads: int | str = "auto",
    kernel: str = "auto",
) -> Result:
    """Train a binary perceptron through stochastic synapses m = tanh(h).

    Descends on F_τ(m) = E(m)/P − τ_t (1/N) Σ_i s(m_i), with E the CLT loss
    −Σ_μ log Φ(β_t(σ^μ μ^μ/√v^μ − κ_t)) of :mod:`stochsyn.clt` and s the entropy
    of a ±1 synapse of mean m_i, and returns W = sign(m) at the first epoch
    where it solves the instance. If the budget ends first, the weights of the
    epoch with the fewest errors are returned.

    Keyword Args:
        max_epochs (int, 2000): epoch budget (an epoch is one pass over all patterns).
            The default holds at every N: the trajectory in epochs does not depend on N.
        optimizer (str, "adam"): "adam" (Kingma & Ba; 0.9, 0.999, 1e-8) or "gd"
            (gradient descent with optional heavy-ball momentum).
        lr (float, 0.1): step size on h.
        momentum (float, 0.0): heavy-ball momentum, "gd" only.
        batch_size (int | None, None): None = full batch; else minibatches of this
            many patterns in a fresh random order each epoch.
        tau (float, 0.6): initial entropic temperature τ₀ per synapse (0 = plain CLT
            loss). Solutions appear when τ has come down to about 0.45–0.5, at every N
            and α ≥ 0.5; starting higher only adds epochs, starting at 0.5 or below loses
            instances at α = 0.7 (docs/core.md).
        tau_decay (float, 1e-3): d in τ_t = τ₀ (1 − d)^t.
        levels (int | tuple, 2): synaptic levels (:func:`stochsyn.synapses.levels_for`):
            2 = binary ±1 (m = tanh h), 3 = ternary −1, 0, +1, 2L+1 = −L…L, or the levels
            themselves. With more than two levels each synapse is a categorical
            distribution p_i = softmax(θ_i) over the levels (see "q-state synapses").
        zero_bias (float, 0.0): λ in the term −λ p̄(0) of F, p̄(0) = (1/N) Σ_i p_i(0): a
            constant field on the zero level that tunes the fraction of zero weights
            (λ > 0 sparser, λ < 0 denser). Needs a zero level.
        beta (float, 1.0): initial inverse temperature β inside Φ.
        beta_growth (float, 0.0): β_t = β (1 + beta_growth)^t.
        margin (float, 0.0): initial margin κ on the normalized stability.
        margin_growth (float, 0.0): κ_t = κ + margin_growth · t.
        init_scale (float, 0.01): h_i drawn from N(0, init_scale²) with the seed.
        h_max (float, 10.0): |h| is clipped here so 1 − m² ≥ ~8e-9 and v stays > 0.
        var_floor (float, 1e-8): variance floor per unit squared pattern norm.
        dtype (str, "float32"): precision of the BLAS products ("blas" kernel).
        history (bool, True): record the loss E/P and the errors of sign(m) per epoch.
        kernel (str, "auto"): "packed" reads ±1 patterns as bits with the kernels of
            :mod:`stochsyn.packed` (a dense int8 instance is packed once, P·N/8 bytes;
            minibatches are unpacked per batch); "blas" casts the matrix once to
            ``dtype`` (P·N·4 bytes for float32); "auto" picks "packed" for ±1 patterns
            with P·N ≥ 2²², or stored packed, and "blas" otherwise.
        blas_threads (int | "auto", "auto"): BLAS threads during the run; "auto"
            uses 1 thread when P·N < 2²² (tiny products) and the library default otherwise.

    q-state synapses: with fields θ_i(w) and p_i = softmax(θ_i) the pre-activation has
    mean Σ_i m_i ξ_i and variance Σ_i (r_i − m_i²) ξ_i² (m, r the first two moments of
    p_i), the entropy is the categorical S(p_i), and the run descends on
    F = E/P − τ_t s̄ − λ p̄(0) in θ, deploying each synapse at its most probable level
    (ties: smaller |w|, then +). Binary is the same formula with θ(±1) = ±h; it runs on
    the two-parameter path m = tanh h. ``info["levels"]`` and ``info["zero_fraction"]``
    describe the returned weights.

    ``callback(epoch, {"errors", "loss", "tau"})`` is called after each
    epoch and may return True to stop.

    Raises:
        stochsyn.resources.MemoryBudgetError: the working set would not fit in memory.
    """
    check_instance(instance, "stochastic")
    opts = {name: value for name, value in locals().items() if name in DEFAULTS}
    _validate(opts)
    threads = opts["blas_threads"]
    if threads == "auto":
        threads = 1 if instance.p * instance.n < _SMALL_PRODUCT else None
    lv = syn.levels_for(opts["levels"])
    binary = lv.tolist() == [-1, 1]
    if opts["zero_bias"] != 0 and 0 not in lv:
        raise ValueError(f"zero_bias={opts['zero_bias']}: needs a zero level, got levels {lv.tolist()}")
    with threadpool_limits(limits=threads, user_api="blas"):
        if binary:
            return _run(instance, seed, callback, opts)
        return _run_levels(instance, seed, callback, opts, lv)


#: Default options of :func:`stochastic_gd`, read off its signature (chosen by measurement; docs/core.md).
DEFAULTS: dict[str, Any] = {
    name: p.default for name, p in inspect.signature(stochastic_gd).parameters.items()
    if p.kind is inspect.Parameter.KEYWORD_ONLY and name not in ("seed", "callback")
}

# The options that replaced the absolute temperature of the first version (solve() adds
# this hint to its unknown-option error).
stochastic_gd.renamed_options = {  # type: ignore[attr-defined]
    "temperature": "tau (per-synapse units: T = tau/N, so tau = 1e-3*N gives the old temperature=1e-3)",
    "temperature_decay": "tau_decay",
}


class _PackedProducts:
    """The two products of an epoch read from packed bits; labels are folded into the vectors."""

    kind = "packed"

    def __init__(self, instance: Instance) -> None:
        self.bits = instance.bits
        self.n = instance.n
        self.y = instance.labels.astype(np.float64)

    def forward(self, m: np.ndarray) -> tuple[np.ndarray, int]:
        """Folded means σ^μ Σ_i m_i ξ_i^μ and the errors of sign(m) (exact), in one pass."""
        mean, fields = rows_dot(self.bits, self.n, m, pack_signs(m))
        assert fields is not None  # asked for with pack_signs(m)
        return self.y * mean, int(np.count_nonzero(self.y * fields <= 0))

    def backward(self, a: np.ndarray) -> np.ndarray:
        """Σ_μ a_μ σ^μ ξ_i^μ."""
        return cols_dot(self.bits, self.n, self.y * a)

    def forward_levels(self, m: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, int]:
        """Folded means and the errors of integer weights w (float32 sums of integers below 2²⁴: exact)."""
        mean, _ = rows_dot(self.bits, self.n, m)
        fields, _ = rows_dot(self.bits, self.n, w.astype(np.float64))
        return self.y * mean, int(np.count_nonzero(self.y * fields <= 0))


class _BlasProducts:
    """The two products on the folded matrix X_μi = σ^μ ξ_i^μ, cast once to a float type."""

    kind = "blas"

    def __init__(self, instance: Instance, dt: np.dtype) -> None:
        p, n = instance.p, instance.n
        copies = 1 if instance.binary_patterns else 2
        require_memory(copies * p * n * dt.itemsize, f"the {dt} pattern matrix of the 'blas' kernel (P={p}, N={n})")
        self.dt = dt
        self.instance = instance
        self.x = instance.rows(slice(None), dtype=dt)
        self.x *= instance.labels[:, None].astype(dt)
        self.x2: np.ndarray | None = None if instance.binary_patterns else np.square(self.x)

    def forward(self, m: np.ndarray) -> tuple[np.ndarray, int]:
        w = np.where(m >= 0, 1, -1).astype(self.dt)
        return (self.x @ m.astype(self.dt)).astype(np.float64), int(np.count_nonzero(self.x @ w <= 0))

    def forward_levels(self, m: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, int]:
        """Folded means and the errors of integer weights w (re-checked exactly for real patterns)."""
        mean = (self.x @ m.astype(self.dt)).astype(np.float64)
        if self.x2 is None:  # integer sums below 2²⁴: exact in float32
            return mean, int(np.count_nonzero(self.x @ w.astype(self.dt) <= 0))
        return mean, self.instance.errors(w)

    def backward(self, a: np.ndarray) -> np.ndarray:
        return (self.x.T @ a.astype(self.dt)).astype(np.float64)


def _products(instance: Instance, opts: dict[str, Any]) -> _PackedProducts | _BlasProducts:
    """The product kernel the options ask for ("auto": packed for large or packed ±1 instances)."""
    kernel = opts["kernel"]
    if kernel == "auto":
        large = instance.p * instance.n >= _SMALL_PRODUCT or instance.storage == "bits"
        kernel = "packed" if instance.binary_patterns and large else "blas"
    if kernel == "packed" and not instance.binary_patterns:
        raise ValueError("kernel='packed' needs ±1 patterns; this instance has real-valued patterns")
    if kernel == "packed":
        return _PackedProducts(instance)
    return _BlasProducts(instance, np.dtype(opts["dtype"]))


def _run(instance: Instance, seed: int | None, callback: Callback | None, opts: dict[str, Any]) -> Result:
    rng = np.random.default_rng(seed)
    dt = np.dtype(opts["dtype"])
    p, n = instance.p, instance.n
    bs = opts["batch_size"]
    full_batch = bs is None or bs >= p
    prod = _products(instance, opts)
    var_floor_total = float(opts["var_floor"]) * n
    y = instance.labels.astype(np.float64)

    h = opts["init_scale"] * rng.standard_normal(n)
    opt = _Optimizer(opts["optimizer"], float(opts["lr"]), float(opts["momentum"]), n, float(opts["h_max"]))
    hist_loss: list[float] = []
    hist_err: list[int] = []
    best_err, best_w = p + 1, np.ones(n, dtype=np.int8)
    solved = False
    epoch = 0
    tau = float(opts["tau"])
    for epoch in range(1, opts["max_epochs"] + 1):
        t = epoch - 1
        beta = opts["beta"] * (1.0 + opts["beta_growth"]) ** t
        margin = opts["margin"] + opts["margin_growth"] * t
        tau = tau_schedule(epoch, opts["tau"], opts["tau_decay"])
        # the h-gradient of F_τ: (1 − m²) (∂E/∂m / P + (τ/N) h)
        t_h = tau / n
        m = np.tanh(h)
        w = np.where(m >= 0, 1, -1).astype(np.int8)
        if full_batch:
            mean_f, err = prod.forward(m)
        else:
            err = instance.errors(w) if isinstance(prod, _PackedProducts) else prod.forward(m)[1]
        if err < best_err:
            best_err, best_w = err, w
        if err == 0:
            solved = True
            break
        if full_batch and isinstance(prod, _PackedProducts):
            var = np.full(p, max(float(np.sum(1.0 - m * m)), 0.0) + var_floor_total)
            loss, a, b = clt_coefficients(mean_f, var, beta=beta, margin=margin)
            gm = -prod.backward(a) - m * b.sum()
            opt.step(h, (1.0 - m * m) * (gm / p + t_h * h))
        elif full_batch:
            assert isinstance(prod, _BlasProducts)
            loss, gm = clt_loss_grad_folded(prod.x, prod.x2, m, mean_f, beta=beta, margin=margin,
                                            var_floor=float(opts["var_floor"]))
            opt.step(h, (1.0 - m * m) * (gm / p + t_h * h))
        else:
            loss = 0.0
            order = rng.permutation(p)
            for start in range(0, p, bs):
                idx = order[start : start + bs]
                if isinstance(prod, _PackedProducts):
                    xb = instance.rows(idx, dtype=dt) * y[idx, None].astype(dt)
                    x2b = None
                else:
                    xb = prod.x[idx]
                    x2b = None if prod.x2 is None else prod.x2[idx]
                mb = np.tanh(h)
                meanb = (xb @ mb.astype(dt)).astype(np.float64)
                lb, gm = clt_loss_grad_folded(xb, x2b, mb, meanb, beta=beta, margin=margin,
                                              var_floor=float(opts["var_floor"]))
                loss += lb
                opt.step(h, (1.0 - mb * mb) * (gm / idx.size + t_h * h))
        if opts["history"]:
            hist_loss.append(loss / p)
            hist_err.append(err)
        if callback is not None and callback(epoch, {"errors": err, "loss": loss / p, "tau": tau}):
            break

    if opts["history"] and solved:
        hist_err.append(0)
        hist_loss.append(hist_loss[-1] if hist_loss else float("nan"))
    m = np.tanh(h)
    return Result(
        weights=w if solved else best_w,
        solved=solved,
        errors=0 if solved else best_err,
        epochs=epoch,
        history={"loss": hist_loss, "errors": hist_err} if opts["history"] else None,
        info={"mean_abs_m": float(np.mean(np.abs(m))), "q0": float(np.mean(m * m)), "tau_final": tau,
              "kernel": prod.kind},
    )


def levels_gradient(p: np.ndarray, levels: np.ndarray, back_a: np.ndarray, back_b: np.ndarray, count: int,
                    *, tau: float, zero_bias: float = 0.0) -> np.ndarray:
    """∂F/∂θ (N, q) of F = E/count − τ s̄ − λ p̄(0) for categorical synapses p = softmax(θ).

    With the CLT pieces (a, b) of :func:`stochsyn.clt.clt_coefficients`, ``back_a`` = Σ_μ a_μ X_μi
    and ``back_b`` = Σ_μ b_μ (ξ_i^μ)². The variance v = Σ_i (r_i − m_i²) ξ_i² gives
    ∂E/∂m_i = −back_a − m_i back_b and ∂E/∂r_i = back_b / 2; the chain rule through the
    softmax is :func:`stochsyn.synapses.grad_fields`, the entropy term
    :func:`stochsyn.synapses.entropy_grad`, and ∂p_i(0)/∂θ_i(w) = p_i(0)(δ_w0 − p_i(w)).
    """
    n = p.shape[0]
    m, _ = syn.moments(p, levels)
    grad = syn.grad_fields(p, levels, (-back_a - m * back_b) / count, 0.5 * back_b / count)
    grad -= (tau / n) * syn.entropy_grad(p)
    if zero_bias != 0.0:
        z = int(np.flatnonzero(np.asarray(levels) == 0)[0])
        dz = -p[:, z : z + 1] * p
        dz[:, z] += p[:, z]
        grad -= (zero_bias / n) * dz
    return grad


def _run_levels(instance: Instance, seed: int | None, callback: Callback | None, opts: dict[str, Any],
                lv: np.ndarray) -> Result:
    """The q-state run: categorical synapses p_i = softmax(θ_i) over the levels ``lv``."""
    if int(np.max(np.abs(lv))) > 127:
        raise ValueError(f"levels must fit in int8 (|w| <= 127), got {lv.tolist()}")
    rng = np.random.default_rng(seed)
    p, n, q = instance.p, instance.n, lv.size
    bs = opts["batch_size"]
    full_batch = bs is None or bs >= p
    prod = _products(instance, opts)
    dt = np.dtype(opts["dtype"])
    y = instance.labels.astype(np.float64)
    zero_bias = float(opts["zero_bias"])
    var_floor = float(opts["var_floor"])
    require_memory(8 * n * q * 8, f"the fields of {n} synapses with {q} levels")

    theta = opts["init_scale"] * rng.standard_normal((n, q))
    opt = _Optimizer(opts["optimizer"], float(opts["lr"]), float(opts["momentum"]), (n, q), float(opts["h_max"]))
    hist_loss: list[float] = []
    hist_err: list[int] = []
    hist_zero: list[float] = []
    best_err, best_w = p + 1, syn.deploy(np.full((n, q), 1.0 / q), lv)
    solved = False
    epoch = 0
    tau = float(opts["tau"])

    def step(pr: np.ndarray, xs: np.ndarray | None, x2: np.ndarray | None, mean: np.ndarray | None,
             count: int, beta: float, margin: float) -> float:
        """One descent step on θ from the patterns of a batch (None: the whole instance, packed or BLAS)."""
        m, r = syn.moments(pr, lv)
        var_i = np.maximum(r - m * m, 0.0)
        if xs is None:  # full batch through the product kernel
            assert mean is not None
            if prod.kind == "packed" or getattr(prod, "x2", None) is None:
                var = np.full(count, float(var_i.sum()) + var_floor * n)
            else:
                assert isinstance(prod, _BlasProducts) and prod.x2 is not None
                var = (prod.x2 @ var_i.astype(dt)).astype(np.float64) + var_floor * prod.x2.sum(axis=1, dtype=np.float64)
            loss, a, b = clt_coefficients(mean, var, beta=beta, margin=margin)
            back_a = prod.backward(a)
            if prod.kind == "packed" or getattr(prod, "x2", None) is None:
                back_b = np.full(n, float(b.sum()))
            else:
                back_b = (prod.x2.T @ b.astype(dt)).astype(np.float64)  # type: ignore[union-attr]
        else:
            mean_b = (xs @ m.astype(dt)).astype(np.float64)
            if x2 is None:
                var = np.full(count, float(var_i.sum()) + var_floor * n)
            else:
                var = (x2 @ var_i.astype(dt)).astype(np.float64) + var_floor * x2.sum(axis=1, dtype=np.float64)
            loss, a, b = clt_coefficients(mean_b, var, beta=beta, margin=margin)
            back_a = (xs.T @ a.astype(dt)).astype(np.float64)
            back_b = np.full(n, float(b.sum())) if x2 is None else (x2.T @ b.astype(dt)).astype(np.float64)
        opt.step(theta, levels_gradient(pr, lv, back_a, back_b, count, tau=tau, zero_bias=zero_bias))
        return loss

    for epoch in range(1, opts["max_epochs"] + 1):
        t = epoch - 1
        beta = opts["beta"] * (1.0 + opts["beta_growth"]) ** t
        margin = opts["margin"] + opts["margin_growth"] * t
        tau = tau_schedule(epoch, opts["tau"], opts["tau_decay"])
        pr = syn.softmax(theta)
        m, _ = syn.moments(pr, lv)
        w = syn.deploy(pr, lv)
        if full_batch:
            mean_f, err = prod.forward_levels(m, w)
        else:
            err = instance.errors(w)
        if err < best_err:
            best_err, best_w = err, w
        if err == 0:
            solved = True
            break
        if full_batch:
            loss = step(pr, None, None, mean_f, p, beta, margin)
        else:
            loss = 0.0
            order = rng.permutation(p)
            for start in range(0, p, bs):
                idx = order[start : start + bs]
                xb = instance.rows(idx, dtype=dt) * y[idx, None].astype(dt)
                x2b = None if instance.binary_patterns else np.square(xb)
                loss += step(syn.softmax(theta), xb, x2b, None, idx.size, beta, margin)
        if opts["history"]:
            hist_loss.append(loss / p)
            hist_err.append(err)
            hist_zero.append(syn.zero_fraction(w))
        if callback is not None and callback(epoch, {"errors": err, "loss": loss / p, "tau": tau}):
            break

    w_out = w if solved else best_w
    if opts["history"] and solved:
        hist_err.append(0)
        hist_loss.append(hist_loss[-1] if hist_loss else float("nan"))
        hist_zero.append(syn.zero_fraction(w_out))
    pr = syn.softmax(theta)
    m, r = syn.moments(pr, lv)
    return Result(
        weights=w_out,
        solved=solved,
        errors=0 if solved else best_err,
        epochs=epoch,
        history={"loss": hist_loss, "errors": hist_err, "zero_fraction": hist_zero} if opts["history"] else None,
        info={"levels": lv.tolist(), "zero_fraction": syn.zero_fraction(w_out),
              "mean_entropy": float(np.mean(syn.entropy(pr))), "q0": float(np.mean(m * m)),
              "tau_final": tau, "kernel": prod.kind},
    )


class _Optimizer:
    """In-place update of the fields h (Adam or heavy-ball GD), then |h| ≤ h_max."""

    def __init__(self, kind: str, lr: float, momentum: float, n: int | tuple[int, int], h_max: float) -> None:
        self.kind, self.lr, self.momentum, self.h_max = kind, lr, momentum, h_max
        self.m1 = np.zeros(n)
        self.m2 = np.zeros(n)
        self.t = 0

    def step(self, h: np.ndarray, grad: np.ndarray) -> None:
        if self.kind == "adam":
            self.t += 1
            self.m1 *= 0.9
            self.m1 += 0.1 * grad
            self.m2 *= 0.999
            self.m2 += 0.001 * grad * grad
            h -= self.lr * (self.m1 / (1 - 0.9**self.t)) / (np.sqrt(self.m2 / (1 - 0.999**self.t)) + 1e-8)
        else:  # heavy-ball momentum; m1 holds the velocity
            self.m1 *= self.momentum
            self.m1 -= self.lr * grad
            h += self.m1
        np.clip(h, -self.h_max, self.h_max, out=h)
