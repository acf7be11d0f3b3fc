"""The paper's method: gradient descent on the parameters of stochastic binary synapses.

Baldassi, Gerace, Kappen, Lucibello, Saglietti, Tartaglione, Zecchina, "On the
role of synaptic stochasticity in training low-precision neural networks",
PRL 120, 268103 (2018), arXiv:1710.09825.

Each synapse is a ±1 random variable with mean m_i = tanh(h_i). The loss is the
central-limit negative log-likelihood E(m) = −Σ_μ log Φ(u^μ) of
:mod:`stochsyn.clt`; we descend on the real fields h and deploy W = sign(m)
(sign(0) := +1). The run stops at the first epoch where sign(m) classifies every
pattern, or when the epoch budget ends.

Entropic annealing. Plain descent on E polarizes the synapses quickly and then
freezes in a configuration with a few errors (at N = 1001, α = 0.7 it solved 0
of 10 instances in our measurements). We therefore descend on the variational
free energy of the synapse distribution,

    F_T(m) = E(m)/P − T Σ_i s(m_i),   s(m) = −Σ_± (1 ± m)/2 · log((1 ± m)/2),

whose entropy term (∂s/∂m = −atanh m = −h) keeps the synapses from polarizing
before the loss has found a good direction, and anneal T_t = T₀ (1 − d)^t.
The defaults (T₀ = 1e-3, d = 1e-3, Adam with lr 0.1, full batch) were chosen by
measurement; see docs/core.md for the tables.

Cost of a full-batch epoch: the pattern matrix (labels folded in) is read
twice — once for the means μ^μ together with the stabilities of sign(m), once by
the transposed product for the gradient. Large ±1 instances keep it as int8 and
use the fused numba kernels of ``_fused``; otherwise it is cast once to
``dtype`` for BLAS. For ±1 patterns v^μ = Σ_i (1 − m_i²) is the same for every μ; real
patterns need one more product with ξ².
"""

from __future__ import annotations

from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits
from ..clt import DEFAULT_VAR_FLOOR, clt_coefficients, clt_loss_grad_folded
from ..problems import Instance
from ._fused import cols_dot, rows_dot2
from .base import Callback, Result, register

__all__ = ["stochastic_gd", "DEFAULTS"]

#: Default options of :func:`stochastic_gd` (chosen by measurement; see docs/core.md).
DEFAULTS: dict[str, Any] = {
    "max_epochs": 2000,
    "optimizer": "adam",
    "lr": 0.1,
    "momentum": 0.0,
    "batch_size": None,
    "beta": 1.0,
    "beta_growth": 0.0,
    "margin": 0.0,
    "margin_growth": 0.0,
    "init_scale": 0.01,
    "h_max": 10.0,
    "var_floor": DEFAULT_VAR_FLOOR,
    "dtype": "float32",
    "history": True,
    "temperature": 1e-3,
    "temperature_decay": 1e-3,
    "blas_threads": "auto",
    "kernel": "auto",
}

# Below this many matrix entries a BLAS product takes microseconds and extra
# threads only add synchronization cost (10x slower on a loaded 2-core machine).
_SMALL_PRODUCT = 1 << 22


_OPTIMIZERS = ("gd", "adam")


def _validate(opts: dict[str, Any]) -> None:
    def positive(name: str, allow_zero: bool = False) -> None:
        v = opts[name]
        if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)) or not np.isfinite(v):
            raise TypeError(f"{name} must be a finite number, got {v!r}")
        if v < 0 or (v == 0 and not allow_zero):
            raise ValueError(f"{name} must be {'>= 0' if allow_zero else '> 0'}, got {name}={v!r}")

    me = opts["max_epochs"]
    if isinstance(me, bool) or not isinstance(me, (int, np.integer)) or me < 1:
        raise ValueError(f"max_epochs must be an integer >= 1, got max_epochs={me!r}")
    if opts["optimizer"] not in _OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {_OPTIMIZERS}, got optimizer={opts['optimizer']!r}")
    for name in ("lr", "beta", "h_max"):
        positive(name)
    for name in ("momentum", "beta_growth", "margin_growth", "init_scale", "var_floor", "temperature"):
        positive(name, allow_zero=True)
    positive("temperature_decay", allow_zero=True)
    if opts["temperature_decay"] >= 1:
        raise ValueError(f"temperature_decay must be < 1, got temperature_decay={opts['temperature_decay']!r}")
    if opts["momentum"] >= 1:
        raise ValueError(f"momentum must be < 1, got momentum={opts['momentum']!r}")
    if not np.isfinite(opts["margin"]):
        raise ValueError(f"margin must be finite, got margin={opts['margin']!r}")
    bt = opts["blas_threads"]
    if bt != "auto" and (isinstance(bt, bool) or not isinstance(bt, (int, np.integer)) or bt < 1):
        raise ValueError(f"blas_threads must be 'auto' or an integer >= 1, got blas_threads={bt!r}")
    bs = opts["batch_size"]
    if bs is not None and (isinstance(bs, bool) or not isinstance(bs, (int, np.integer)) or bs < 1):
        raise ValueError(f"batch_size must be None (full batch) or an integer >= 1, got batch_size={bs!r}")
    if opts["kernel"] not in ("auto", "blas", "int8"):
        raise ValueError(f"kernel must be 'auto', 'blas' or 'int8', got kernel={opts['kernel']!r}")
    if opts["dtype"] not in ("float32", "float64"):
        raise ValueError(f"dtype must be 'float32' or 'float64', got dtype={opts['dtype']!r}")


@register("stochastic", "Gradient descent on stochastic binary synapses, CLT loss (Baldassi et al. PRL 2018)")
def stochastic_gd(
    instance: Instance,
    *,
    seed: int | None = 0,
    callback: Callback | None = None,
    **options: Any,
) -> Result:
    """Train a binary perceptron through stochastic synapses m = tanh(h).

    Descends on F_T(m) = E(m)/P − T_t Σ_i s(m_i), with E the CLT loss
    −Σ_μ log Φ(β_t(σ^μ μ^μ/√v^μ − κ_t)) of :mod:`stochsyn.clt` and s the entropy
    of a ±1 synapse of mean m_i, and returns W = sign(m) at the first epoch
    where it solves the instance. If the budget ends first, the weights of the
    epoch with the fewest errors are returned.

    Keyword Args:
        max_epochs (int, 2000): epoch budget (an epoch is one pass over all patterns).
        optimizer (str, "adam"): "adam" (Kingma & Ba; 0.9, 0.999, 1e-8) or "gd"
            (gradient descent with optional heavy-ball momentum).
        lr (float, 0.1): step size on h.
        momentum (float, 0.0): heavy-ball momentum, "gd" only.
        batch_size (int | None, None): None = full batch; else minibatches of this
            many patterns in a fresh random order each epoch.
        temperature (float, 1e-3): initial entropic temperature T₀ (0 = plain CLT loss).
        temperature_decay (float, 1e-3): T_t = T₀ (1 − d)^t.
        beta (float, 1.0): initial inverse temperature β inside Φ.
        beta_growth (float, 0.0): β_t = β (1 + beta_growth)^t.
        margin (float, 0.0): initial margin κ on the normalized stability.
        margin_growth (float, 0.0): κ_t = κ + margin_growth · t.
        init_scale (float, 0.01): h_i drawn from N(0, init_scale²) with the seed.
        h_max (float, 10.0): |h| is clipped here so 1 − m² ≥ ~8e-9 and v stays > 0.
        var_floor (float, 1e-8): variance floor per unit squared pattern norm.
        dtype (str, "float32"): precision of the pattern-matrix products.
        history (bool, True): record the loss E/P and the errors of sign(m) per epoch.
        kernel (str, "auto"): "blas" keeps X as a float matrix and uses BLAS;
            "int8" keeps ±1 patterns as int8 and uses fused numba kernels (4x less
            memory traffic); "auto" picks "int8" for ±1 patterns with P·N ≥ 2²².
        blas_threads (int | "auto", "auto"): BLAS threads during the run; "auto"
            uses 1 thread when P·N < 2²² (tiny products) and the library default otherwise.

    ``callback(epoch, {"errors", "loss", "temperature"})`` is called after each
    epoch and may return True to stop.
    """
    opts = dict(DEFAULTS)
    unknown = set(options) - set(opts)
    if unknown:
        raise TypeError(f"unknown option(s) for method 'stochastic': {sorted(unknown)}; expected some of {sorted(opts)}")
    opts.update(options)
    _validate(opts)
    threads = opts["blas_threads"]
    if threads == "auto":
        threads = 1 if instance.p * instance.n < _SMALL_PRODUCT else None
    with threadpool_limits(limits=threads, user_api="blas"):
        return _run(instance, seed, callback, opts)


def _run(instance: Instance, seed: int | None, callback: Callback | None, opts: dict[str, Any]) -> Result:

    rng = np.random.default_rng(seed)
    dt = np.dtype(opts["dtype"])
    p, n = instance.p, instance.n
    kernel = opts["kernel"]
    if kernel == "auto":
        kernel = "int8" if instance.binary_patterns and p * n >= _SMALL_PRODUCT else "blas"
    if kernel == "int8" and not instance.binary_patterns:
        raise ValueError("kernel='int8' needs ±1 patterns; this instance has real-valued patterns")
    if kernel == "int8" and opts["batch_size"] is not None and opts["batch_size"] < p:
        raise ValueError("kernel='int8' supports full-batch training only (batch_size=None)")
    # Labels folded into the patterns once: X_μi = σ^μ ξ_i^μ, int8 for the numba
    # kernels, else cast once to the working float type for BLAS.
    if kernel == "int8":
        x = np.ascontiguousarray(instance.patterns * instance.labels[:, None], dtype=np.int8)
    else:
        x = np.multiply(instance.patterns, instance.labels[:, None], dtype=dt)
    x2 = None if instance.binary_patterns else np.square(x)
    kernel_opts = {"margin": 0.0, "var_floor": float(opts["var_floor"])}

    h = opts["init_scale"] * rng.standard_normal(n)
    opt = _Optimizer(opts["optimizer"], float(opts["lr"]), float(opts["momentum"]), n, float(opts["h_max"]))
    bs = opts["batch_size"]
    full_batch = bs is None or bs >= p
    var_floor_total = float(opts["var_floor"]) * n
    hist_loss: list[float] = []
    hist_err: list[int] = []
    best_err, best_w = p + 1, np.ones(n, dtype=np.int8)
    solved = False
    epoch = 0
    for epoch in range(1, opts["max_epochs"] + 1):
        t = epoch - 1
        beta = opts["beta"] * (1.0 + opts["beta_growth"]) ** t
        kernel_opts["margin"] = opts["margin"] + opts["margin_growth"] * t
        temp = opts["temperature"] * (1.0 - opts["temperature_decay"]) ** t
        m = np.tanh(h)
        w = np.where(m >= 0, 1, -1).astype(np.int8)
        if kernel == "int8":
            mean_f, stab = rows_dot2(x, m.astype(dt), w)
            err = int(np.count_nonzero(stab <= 0))
        elif full_batch:
            mean_f, stab = x @ m.astype(dt), x @ w.astype(dt)
            err = int(np.count_nonzero(stab <= 0))
        else:
            err = int(np.count_nonzero(x @ w.astype(dt) <= 0))
        if err < best_err:
            best_err, best_w = err, w
        if err == 0:
            solved = True
            break
        if kernel == "int8":
            var = np.full(p, max(float(np.sum(1.0 - m * m)), 0.0) + var_floor_total)
            loss, a, b = clt_coefficients(mean_f.astype(np.float64), var, beta=beta, margin=kernel_opts["margin"])
            gm = -cols_dot(x, a.astype(dt)).astype(np.float64) - m * b.sum()
            opt.step(h, (1.0 - m * m) * (gm / p + temp * h))
        elif full_batch:
            loss, gm = clt_loss_grad_folded(x, x2, m, mean_f.astype(np.float64), beta=beta, **kernel_opts)
            opt.step(h, (1.0 - m * m) * (gm / p + temp * h))
        else:
            loss = 0.0
            order = rng.permutation(p)
            for start in range(0, p, bs):
                idx = order[start : start + bs]
                xb = x[idx]
                x2b = None if x2 is None else x2[idx]
                mb = np.tanh(h)
                meanb = (xb @ mb.astype(dt)).astype(np.float64)
                lb, gm = clt_loss_grad_folded(xb, x2b, mb, meanb, beta=beta, **kernel_opts)
                loss += lb
                opt.step(h, (1.0 - mb * mb) * (gm / idx.size + temp * h))
        if opts["history"]:
            hist_loss.append(loss / p)
            hist_err.append(err)
        if callback is not None and callback(epoch, {"errors": err, "loss": loss / p, "temperature": temp}):
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
        info={"mean_abs_m": float(np.mean(np.abs(m))), "q0": float(np.mean(m * m))},
    )


class _Optimizer:
    """In-place update of the fields h (Adam or heavy-ball GD), then |h| ≤ h_max."""

    def __init__(self, kind: str, lr: float, momentum: float, n: int, h_max: float) -> None:
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
