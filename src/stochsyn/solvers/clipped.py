"""The clipped perceptron (CP) and the clipped perceptron with reinforcement (CP+R).

CP: the perceptron rule acting on hidden discrete states whose sign is the
binary weight (the R1 rule of SBPI alone). CP+R (Baldassi, J. Stat. Phys. 136,
902 (2009), arXiv:1211.3024): CP plus a stochastic, unsupervised metaplastic
reinforcement h_i ← h_i + 2 sign(h_i), applied with probability p_r, which the
mean-field analysis of that paper shows to be what makes SBPI work; its rate
must stay below about sqrt(2/(πN)). The kernel is :mod:`stochsyn.solvers._online`.
"""

from __future__ import annotations

from ..problems import Instance
from ._checks import check_instance
from ._online import run_online
from .. import validation as V
from .base import Callback, Result, register


def _check_common(instance: Instance, method: str, max_epochs: int, states: int) -> tuple[int, int]:
    check_instance(instance, method, binary_patterns=True)
    max_epochs = V.integer("max_epochs", max_epochs, lo=0)
    states = V.integer("states", states, lo=2)
    if states % 2:
        raise ValueError(f"states must be even (odd hidden values -(K-1)..K-1), got states={states}")
    return max_epochs, states


@register("cp", "clipped perceptron: perceptron rule on hidden discrete states, w = sign(h)")
def cp(
    instance: Instance,
    *,
    seed: int | None = 0,
    callback: Callback | None = None,
    max_epochs: int = 5000,
    states: int = 200,
) -> Result:
    """Clipped perceptron: hidden odd integer states h_i ∈ [-(K-1), K-1], w_i = sign(h_i);
    on each error (σ Σ_i w_i ξ_i ≤ 0) every h_i ← h_i + 2σξ_i (clipped). Nothing
    happens on correct patterns. Needs ±1 patterns.

    Args:
        instance: the problem (±1 patterns).
        seed: seeds initial hidden states (±1) and presentation orders.
        callback: ``callback(epoch, {"errors", "mistakes"})``; True stops the run.
        max_epochs: budget of sweeps over the training set (default 5000).
        states: K, number of hidden states per synapse, even, >= 2 (default 200; at N ≈ 1000 values
            below ~100 let the states saturate and the rule stall).

    Returns:
        Result with ``history = {"errors", "mistakes"}`` per epoch.
    """
    max_epochs, states = _check_common(instance, "cp", max_epochs, states)
    w, epochs, history, info = run_online(
        instance, seed=seed, callback=callback, max_epochs=max_epochs,
        states=states, theta_m=0, p_s=0.0, p_r=0.0,
    )
    errors = history["errors"][-1] if history["errors"] else instance.errors(w)
    return Result(w, errors == 0, errors, epochs, history=history, info=info)


@register("cpr", "CP+R: clipped perceptron + stochastic unsupervised metaplastic reinforcement")
def cpr(
    instance: Instance,
    *,
    seed: int | None = 0,
    callback: Callback | None = None,
    max_epochs: int = 5000,
    states: int = 200,
    p_r: float | None = None,
) -> Result:
    """CP+R (Baldassi 2009): the clipped perceptron step on errors, and on every
    correctly classified presentation, with probability p_r, the reinforcement
    h_i ← h_i + 2 sign(h_i) for all i (clipped; weights unchanged). Needs ±1 patterns.

    Args:
        instance: the problem (±1 patterns).
        seed: seeds initial hidden states (±1), presentation orders and coins.
        callback: ``callback(epoch, {"errors", "mistakes"})``; True stops the run.
        max_epochs: budget of sweeps over the training set (default 5000).
        states: K, number of hidden states per synapse, even, >= 2 (default 200; at N ≈ 1000 values
            below ~100 let the states saturate and the rule stall).
        p_r: reinforcement probability per correct presentation; default None
            means 0.06·sqrt(2/(πN)) (≈ 0.0015 at N = 1001), tuned on random
            instances at N = 1001, α = 0.5–0.6; the paper's analysis bounds the
            useful rate by sqrt(2/(πN)), and rates near that bound freeze the
            states before a solution is found.

    Returns:
        Result with ``history = {"errors", "mistakes"}`` per epoch and
        ``info["p_r"]`` the probability used.
    """
    max_epochs, states = _check_common(instance, "cpr", max_epochs, states)
    if p_r is None:
        import math

        p_r = 0.06 * math.sqrt(2.0 / (math.pi * instance.n))
    p_r = V.real("p_r", p_r, lo=0.0, hi=1.0)
    w, epochs, history, info = run_online(
        instance, seed=seed, callback=callback, max_epochs=max_epochs,
        states=states, theta_m=0, p_s=0.0, p_r=p_r,
    )
    info["p_r"] = p_r
    errors = history["errors"][-1] if history["errors"] else instance.errors(w)
    return Result(w, errors == 0, errors, epochs, history=history, info=info)
