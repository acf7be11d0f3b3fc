"""Entropic temperature driven by the synapses' self-overlap: a rising target for q = ⟨m²⟩.

The stochastic solvers descend on F_τ = E/P − τ s̄ (:mod:`.stochastic`). With the plain
schedule τ_t = τ₀(1 − d)^t the polarization of the synapse distribution is left to the
loss: in a committee machine the hidden units stay copies of one perceptron while q is
small and then specialize and polarize together, q going from 0.3 to 0.99 in about 100
epochs while τ barely moves, and the run freezes a few patterns short of a solution
(K = 3, N = 1001, α = 0.6: 0 of 3 solved, docs/committee.md).

Here the self-overlap q_t = (1/|R|) Σ m² is given a target that approaches 1
exponentially in the epoch count,

    q*_t = 1 − (1 − q₀) · ((1 − q₁)/(1 − q₀))^min(1, t/T),

and τ is raised whenever the distribution is more polarized than the target:

    τ_t = τ₀(1 − d)^t · c_t,   c_{t+1} = max(1, c_t · exp(g (q_t − q*_t))).

τ is the Lagrange multiplier conjugate to q in F_τ, so c_t is a one-sided thermostat
on it. Raising q along a fixed protocol is the stochastic-synapse form of the scoping
protocols of focusing BP and replicated SGD (Baldassi et al., PNAS 113, E7655 (2016),
arXiv:1605.06444), where a coupling γ grows along a schedule and drives the overlap
of the replicas with their centre to 1.
"""

from __future__ import annotations

import math

from .. import validation as V

__all__ = ["OverlapRamp"]


class OverlapRamp:
    """One-sided thermostat that keeps q = ⟨m²⟩ at or below the target q*_t (module docstring).

    Args:
        tau: τ₀, the entropic temperature of the base schedule.
        tau_decay: d in τ₀(1 − d)^t.
        epochs: T, the epochs over which 1 − q* falls from 1 − q₀ to 1 − q₁ (0: no
            thermostat, τ is the base schedule).
        q_start: q₀.
        q_final: q₁ (> q₀).
        gain: g, the thermostat's gain per epoch and unit of q − q*.

    Examples:
        >>> ramp = OverlapRamp(0.15, 1e-3, epochs=3000, q_start=0.3, q_final=0.999, gain=2.0)
        >>> round(ramp.target(1500), 4)
        0.9735
        >>> ramp.tau(1, 0.0), ramp.tau(2, 1.0) > ramp.tau(2, 0.0)
        (0.15, True)
    """

    def __init__(
        self, tau: float, tau_decay: float, *, epochs: int, q_start: float, q_final: float, gain: float
    ) -> None:
        V.real("tau", tau, lo=0.0)
        V.real("tau_decay", tau_decay, lo=0.0, hi=1.0, hi_open=True)
        V.integer("overlap_epochs", epochs, lo=0)
        V.real("q_start", q_start, lo=0.0, hi=1.0, hi_open=True)
        V.real("q_final", q_final, lo=0.0, lo_open=True, hi=1.0, hi_open=True)
        if epochs and not q_final > q_start:
            raise ValueError(f"q_final must exceed q_start, got q_start={q_start}, q_final={q_final}")
        V.real("overlap_gain", gain, lo=0.0)
        self.tau0, self.decay, self.epochs = float(tau), float(tau_decay), int(epochs)
        self.q_start, self.q_final, self.gain = float(q_start), float(q_final), float(gain)
        self.factor = 1.0

    def target(self, epoch: int) -> float:
        """q*_t of epoch ``epoch`` (1-based)."""
        frac = min(1.0, epoch / self.epochs) if self.epochs else 1.0
        return 1.0 - (1.0 - self.q_start) * ((1.0 - self.q_final) / (1.0 - self.q_start)) ** frac

    def tau(self, epoch: int, q: float) -> float:
        """τ_t of epoch ``epoch`` (1-based) given the overlap q of the current synapses; updates c_t."""
        base = self.tau0 * (1.0 - self.decay) ** (epoch - 1)
        if self.epochs and epoch > 1:
            self.factor = max(1.0, self.factor * math.exp(self.gain * (q - self.target(epoch))))
        return base * self.factor
