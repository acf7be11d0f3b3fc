"""SBPI: the stochastic belief-propagation-inspired online rule for binary synapses.

Baldassi, Braunstein, Brunel, Zecchina, "Efficient supervised learning in
networks with binary synapses", PNAS 104, 11079 (2007), arXiv:0707.1295; the
±1-input form as in Baldassi, J. Stat. Phys. 136, 902 (2009), arXiv:1211.3024.
The kernel is :mod:`stochsyn.solvers._online`.
"""

from __future__ import annotations

from ..problems import Instance
from ._checks import check_instance
from ._online import run_online
from .. import validation as V
from .base import Callback, Result, register


@register("sbpi", "SBPI: perceptron rule + metaplastic 'barely correct' rule on hidden discrete states")
def sbpi(
    instance: Instance,
    *,
    seed: int | None = 0,
    callback: Callback | None = None,
    max_epochs: int = 5000,
    states: int = 200,
    theta_m: int = 1,
    p_s: float = 0.3,
) -> Result:
    """SBPI (Baldassi et al. PNAS 2007). Each synapse has a hidden odd integer state
    h_i ∈ [-(K-1), K-1] and weight w_i = sign(h_i). Patterns are presented one at a
    time in a fresh random order each epoch; with Δ = σ Σ_i w_i ξ_i:

    * Δ ≤ 0 (error): h_i ← h_i + 2σξ_i for all i (clipped perceptron step);
    * 0 < Δ ≤ θ_m (barely correct): with probability p_s, h_i ← h_i + 2σξ_i only
      where σξ_i h_i > 0 (synapses that already help are made more stable).

    Needs ±1 patterns. Stops at the first epoch after which w solves the instance.

    Args:
        instance: the problem (±1 patterns).
        seed: seeds initial hidden states (±1), presentation orders and coins.
        callback: ``callback(epoch, {"errors", "mistakes"})``; True stops the run.
        max_epochs: budget of sweeps over the training set (default 5000).
        states: K, the number of hidden states per synapse, even, >= 2 (default 200; at N ≈ 1000 values
            below ~100 let the states saturate and the rule stall);
            K = 2 makes R2 inert and gives the plain clipped perceptron.
        theta_m: θ_m, largest stability counted as "barely correct" (default 1,
            i.e. Δ = 1 with odd N); 0 disables R2.
        p_s: probability of applying R2 to a barely correct pattern (default 0.3).

    Returns:
        Result with ``history = {"errors": training errors after each epoch,
        "mistakes": R1 applications during each epoch}``.
    """
    check_instance(instance, "sbpi", binary_patterns=True)
    max_epochs = V.integer("max_epochs", max_epochs, lo=0)
    states = V.integer("states", states, lo=2)
    if states % 2:
        raise ValueError(f"states must be even (odd hidden values -(K-1)..K-1), got states={states}")
    theta_m = V.integer("theta_m", theta_m, lo=0)
    p_s = V.real("p_s", p_s, lo=0.0, hi=1.0)
    w, epochs, history, info = run_online(
        instance, seed=seed, callback=callback, max_epochs=max_epochs,
        states=states, theta_m=theta_m, p_s=p_s, p_r=0.0,
    )
    errors = history["errors"][-1] if history["errors"] else instance.errors(w)
    return Result(w, errors == 0, errors, epochs, history=history, info=info)
