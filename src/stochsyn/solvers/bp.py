"""Reinforced belief propagation for the binary perceptron.

Braunstein & Zecchina, "Learning by message passing in networks of discrete
synapses", PRL 96, 030201 (2006), arXiv:cond-mat/0511159. BP with Gaussian
cavity fields (see :mod:`stochsyn.solvers._gaussbp`) plus a reinforcement: each
variable receives an external field equal to a fraction ρ_t of its own total
field at the previous sweep,

    F_i(t+1) = ρ_t · h_i(t),     ρ_t = min(1, ρ_0 + t·ρ_step),

the deterministic (mean) form of the paper's stochastic reinforcement, in
which the external field is replaced by the local field with a probability
that grows to 1. As ρ_t → 1 the fields grow and BP polarizes onto one
configuration; the run stops as soon as sign(h) solves the instance.
"""

from __future__ import annotations

import numpy as np

from ..problems import Instance
from ._checks import check_instance
from ._gaussbp import run_bp
from .. import validation as V
from .base import Callback, Result, register


def check_rbp_options(max_epochs: int, rho0: float, rho_step: float, damping: float, init_scale: float,
                      update: str, patience: int, min_var: float) -> tuple:
    """The reinforced-BP options (perceptron and committee machine) after validation, in the same order."""
    max_epochs = V.integer("max_epochs", max_epochs, lo=0)
    rho0 = V.real("rho0", rho0, lo=0.0, hi=1.0)
    rho_step = V.real("rho_step", rho_step, lo=0.0)
    damping = V.real("damping", damping, lo=0.0, hi=1.0, hi_open=True)
    init_scale = V.real("init_scale", init_scale, lo=0.0)
    update = V.choice("update", update, ("parallel", "sequential"))
    patience = V.integer("patience", patience, lo=0)
    min_var = V.real("min_var", min_var, lo=0.0, lo_open=True)
    return (max_epochs, rho0, rho_step, damping, init_scale, update, patience, min_var)


@register("rbp", "reinforced belief propagation (Gaussian cavity fields, O(PN) per sweep)")
def rbp(
    instance: Instance,
    *,
    seed: int | None = 0,
    callback: Callback | None = None,
    max_epochs: int = 1000,
    rho0: float = 0.0,
    rho_step: float = 1e-2,
    damping: float = 0.0,
    init_scale: float = 1.0,
    update: str = "sequential",
    patience: int = 200,
    min_var: float = 1.0,
) -> Result:
    """Reinforced BP (Braunstein & Zecchina 2006) with F_i(t+1) = ρ_t h_i(t),
    ρ_t = min(1, ρ_0 + t·ρ_step). Works for ±1 and real patterns.

    Args:
        instance: the problem.
        seed: seeds the small random initial messages.
        callback: ``callback(epoch, {"errors", "max_delta", "rho"})``; True stops.
        max_epochs: budget of parallel BP sweeps (default 1000).
        rho0: initial reinforcement ρ_0 in [0, 1] (default 0.0).
        rho_step: growth of ρ per sweep, >= 0 (default 1e-2).
        damping: weight of the old message in u ← d·u_old + (1−d)·u_new, in [0, 1) (default 0.0).
        init_scale: standard deviation × √N of the initial messages, >= 0 (default 1.0).
        update: "sequential" (factor by factor in a seeded random order, the fields
            absorbing each factor's messages at once) or "parallel" (default "sequential").
        patience: stop when the fewest training errors seen has not improved for
            this many sweeps; 0 disables (default 200).
        min_var: floor on the Gaussian cavity variance v_{μi}, > 0 (default 1.0, the
            variance of one unpolarized ±1 synapse; see :mod:`._gaussbp`).

    Returns:
        Result whose weights are the sign of the total fields with the fewest
        training errors seen; ``history`` has per-sweep "errors", "max_delta"
        (largest message change), "mean_abs_m" and "rho".
    """
    check_instance(instance, "rbp")
    (max_epochs, rho0, rho_step, damping, init_scale, update, patience, min_var) = check_rbp_options(max_epochs, rho0, rho_step, damping, init_scale, update, patience, min_var)

    def reinforcement(t: int, H: np.ndarray, h_prev: np.ndarray):
        rho = min(1.0, rho0 + t * rho_step)
        return rho * h_prev, {"rho": rho}

    w, epochs, history, info = run_bp(
        instance, seed=seed, callback=callback, max_epochs=max_epochs,
        damping=damping, init_scale=init_scale, external_field=reinforcement,
        sequential=update == "sequential", patience=patience, min_var=min_var,
    )
    errors = info["best_errors"]
    return Result(w, errors == 0, errors, epochs, history=history, info=info)
