"""Robust ensemble of stochastic-synapse distributions: y coupled replicas (issue 12, part 4).

A research script, not a solver: it measured whether coupling replicas of the paper's
synapse distribution pushes the algorithmic threshold at N = 1001 beyond the plain
solver's (docs/core.md, "Beyond the breakdown window"). Each replica a = 1…y has fields
h^a and means m^a = tanh(h^a) and descends, with Adam, on

    F = Σ_a [ E(m^a)/P − τ_t s̄(m^a) ] + (γ_t / 2N) Σ_a Σ_i (m^a_i − m̄_i)²,

E the CLT loss of stochsyn.clt, s̄ the mean synaptic entropy, τ_t = τ₀(1 − d)^t as in
the solver, m̄ = the replicas' mean (the centre; ∂/∂m^a of the coupling is
(γ_t/N)(m^a − m̄) because Σ_a (m^a − m̄) = 0) and γ_t = γ₀(1 + g)^t. This is the elastic
coupling of replicated SGD (Baldassi et al., PNAS 117, 161 (2020)) written on the
distribution's means; γ = 0 is y independent restarts. A run stops when sign(m^a) for
some a, or sign(m̄), has no errors.

    python scripts/experiments/robust_ensemble.py '{"y": 3, "gamma0": 1}' 0.74 900 910
    (config JSON, loads, first and last-plus-one instance seed; one JSON line per load)
"""

from __future__ import annotations

import json
import sys
import time

import numpy as np

from stochsyn.clt import clt_coefficients
from stochsyn.problems import Instance, random_patterns


def run(inst: Instance, seed: int, *, y: int = 3, gamma0: float = 0.0, gamma_growth: float = 0.0,
        tau0: float = 0.6, tau_decay: float = 1e-3, lr: float = 0.1, max_epochs: int = 2000,
        init_scale: float = 0.01, h_max: float = 10.0) -> tuple[bool, int, int, int]:
    """(solved, epochs, fewest errors seen, index of the solving replica: y = the centre, −1 = none)."""
    rng = np.random.default_rng(seed)
    p, n = inst.p, inst.n
    x = inst.rows(slice(None), dtype=np.float32) * inst.labels[:, None].astype(np.float32)
    h = init_scale * rng.standard_normal((n, y))
    m1, m2 = np.zeros_like(h), np.zeros_like(h)
    best = p + 1
    for epoch in range(1, max_epochs + 1):
        tau = tau0 * (1 - tau_decay) ** (epoch - 1)
        gamma = gamma0 * (1 + gamma_growth) ** (epoch - 1)
        m = np.tanh(h)
        centre = m.mean(axis=1, keepdims=True)
        signs = np.where(np.concatenate([m, centre], axis=1) >= 0, 1, -1).astype(np.float32)
        err = np.count_nonzero(x @ signs <= 0, axis=0)
        best = min(best, int(err.min()))
        if err.min() == 0:
            return True, epoch, 0, int(np.argmin(err))
        mean = (x @ m.astype(np.float32)).astype(np.float64)
        var = np.maximum((1 - m * m).sum(axis=0), 0) + 1e-8 * n
        a_coef = np.empty_like(mean)
        b_sum = np.empty(y)
        for r in range(y):
            _, a_coef[:, r], b = clt_coefficients(mean[:, r], np.full(p, var[r]))
            b_sum[r] = b.sum()
        grad_m = -(x.T @ a_coef.astype(np.float32)).astype(np.float64) - m * b_sum
        grad = (1 - m * m) * (grad_m / p + (tau / n) * h + (gamma / n) * (m - centre))
        m1 = 0.9 * m1 + 0.1 * grad
        m2 = 0.999 * m2 + 0.001 * grad * grad
        h -= lr * (m1 / (1 - 0.9**epoch)) / (np.sqrt(m2 / (1 - 0.999**epoch)) + 1e-8)
        np.clip(h, -h_max, h_max, out=h)
    return False, max_epochs, best, -1


def main() -> None:
    cfg = json.loads(sys.argv[1])
    loads = [float(a) for a in sys.argv[2].split(",")]
    seeds = range(int(sys.argv[3]), int(sys.argv[4]))
    for alpha in loads:
        t0 = time.perf_counter()
        res = [run(random_patterns(1001, alpha, seed=s), s, **cfg) for s in seeds]
        print(json.dumps({"cfg": cfg, "alpha": alpha, "solved": sum(r[0] for r in res), "of": len(res),
                          "epochs": [r[1] for r in res], "errors_left": [r[2] for r in res],
                          "solving_replica": [r[3] for r in res], "seconds": round(time.perf_counter() - t0, 1)}),
              flush=True)


if __name__ == "__main__":
    main()
