"""Replica-symmetric theory of the binary perceptron and of stochastic synapses.

Pure functions of the control parameters (load α, margin κ, distance d, …);
Gaussian integrals by Gauss–Hermite quadrature (or composite Gauss–Legendre for
truncated or kinked integrands), saddle points by damped fixed-point iteration
with a convergence report. See docs/theory.md for the derivations.
"""

from .dense_limit import (BreakupResult, ClusterState, cluster_onset_alpha, cluster_state, local_entropy_breakup_alpha,
                          local_entropy_max, local_entropy_max_curve)
from .franz_parisi import LocalEntropyCurve, franz_parisi
from .gardner import GardnerState, capacity, gardner_entropy
from .local_entropy import DenseLocalEntropy, local_entropy_dense
from .saddle import SaddlePointError, SaddleReport, fixed_point
from .sigma_zero import SigmaZeroBreakup, SigmaZeroPoint, sigma_zero_breakup_alpha, sigma_zero_curve, sigma_zero_point
from .stability import Replicon, gardner_at_line, gardner_replicon
from .stochastic_franz_parisi import SignReferenceCurve, sign_reference_local_entropy
from .stochastic_measure import StochasticState, stochastic_energy_curve, stochastic_ground_state
from .teacher_student import TeacherStudentState, perfect_generalization_threshold, teacher_student_gibbs
from .ternary import TernaryState, ternary_capacity, ternary_entropy

__all__ = [
    "BreakupResult",
    "ClusterState",
    "cluster_onset_alpha",
    "cluster_state",
    "local_entropy_breakup_alpha",
    "local_entropy_max",
    "local_entropy_max_curve",
    "DenseLocalEntropy",
    "GardnerState",
    "LocalEntropyCurve",
    "Replicon",
    "SaddlePointError",
    "SaddleReport",
    "SigmaZeroBreakup",
    "SigmaZeroPoint",
    "SignReferenceCurve",
    "StochasticState",
    "TeacherStudentState",
    "TernaryState",
    "ternary_capacity",
    "ternary_entropy",
    "capacity",
    "fixed_point",
    "franz_parisi",
    "gardner_at_line",
    "gardner_entropy",
    "gardner_replicon",
    "local_entropy_dense",
    "perfect_generalization_threshold",
    "sigma_zero_breakup_alpha",
    "sigma_zero_curve",
    "sigma_zero_point",
    "sign_reference_local_entropy",
    "stochastic_energy_curve",
    "stochastic_ground_state",
    "teacher_student_gibbs",
]
