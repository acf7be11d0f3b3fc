"""Geometry of the solution space: where does each solver's solution live?

* :func:`local_entropy_exact` — number of solutions at each Hamming distance from a
  reference, by enumeration of all 2^N configurations (N ≤ 25).
* :func:`sample_typical_solution` — a solution drawn uniformly (an equilibrium,
  "typical" solution), exact for N ≤ 25.
* :func:`local_entropy_bp` — BP estimate of the local entropy S(d) for large N.
* :func:`flip_robustness`, :func:`noise_robustness` — training error under weight
  flips / multiplicative input noise.
* :func:`generalization_error` — teacher–student test error (Monte Carlo and arccos(R)/π).

None of this imports :mod:`stochsyn.theory`; only the figure code overlays theory curves.
"""

from .bp_local_entropy import DEFAULT_LAMBDAS, LocalEntropyBP, local_entropy_bp
from .exact import (
    MAX_EXACT_N,
    count_solutions,
    entropy_from_counts,
    free_entropy_from_counts,
    local_entropy_exact,
    solutions_from_indices,
)
from .generalization import GeneralizationResult, generalization_error, overlap_generalization_error
from .robustness import RobustnessCurve, flip_robustness, noise_robustness
from .sampling import sample_typical_solution, sample_typical_solutions

__all__ = [
    "DEFAULT_LAMBDAS",
    "MAX_EXACT_N",
    "GeneralizationResult",
    "LocalEntropyBP",
    "RobustnessCurve",
    "count_solutions",
    "entropy_from_counts",
    "flip_robustness",
    "free_entropy_from_counts",
    "generalization_error",
    "local_entropy_bp",
    "local_entropy_exact",
    "noise_robustness",
    "overlap_generalization_error",
    "sample_typical_solution",
    "sample_typical_solutions",
    "solutions_from_indices",
]
