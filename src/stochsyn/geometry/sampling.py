"""Uniform sampling of solutions ("typical" solutions) by exact enumeration, N ≤ 25.

A solution drawn uniformly from the whole solution space is what replica theory
calls an equilibrium (typical) solution; the Franz–Parisi potential predicts
that such solutions are isolated (Huang & Kabashima, arXiv:1408.1784). Here the
draw is exact: count all Z solutions, draw ranks uniformly in [0, Z), and
enumerate again to pick the solutions with those ranks.
"""

from __future__ import annotations

import numpy as np

from ..problems import Instance
from .. import validation as V
from ..problems import as_instance
from .exact import MAX_EXACT_N, count_solutions, solutions_from_indices

__all__ = ["sample_typical_solution", "sample_typical_solutions"]


def sample_typical_solutions(
    instance: Instance,
    n_samples: int,
    seed: int | None = 0,
    *,
    replace: bool = True,
    max_n: int = MAX_EXACT_N,
) -> np.ndarray:
    """Draw ``n_samples`` solutions uniformly at random from all solutions of ``instance``.

    Args:
        instance: the problem, N ≤ ``max_n``.
        n_samples: how many solutions (≥ 1).
        seed: seed of ``numpy.random.default_rng`` (default 0).
        replace: draw with replacement (default True, i.i.d. uniform draws); with
            False the draws are distinct and ``n_samples`` must not exceed the
            number of solutions.
        max_n: largest N accepted (default 25).

    Returns:
        (n_samples, N) int8 array of ±1 solutions.

    Raises:
        ValueError: the instance has no solution, N too large, or too many distinct samples asked.
    """
    as_instance(instance)
    n_samples = V.count("n_samples", n_samples)
    seed = V.seed(seed)
    total = count_solutions(instance, max_n=max_n)
    if total == 0:
        raise ValueError(f"instance {instance!r} has no binary solution, nothing to sample")
    if not replace and n_samples > total:
        raise ValueError(f"n_samples={n_samples} distinct solutions requested but the instance has only {total}")
    rng = np.random.default_rng(seed)
    ranks = rng.choice(total, size=n_samples, replace=replace)
    return solutions_from_indices(instance, ranks, max_n=max_n)


def sample_typical_solution(instance: Instance, seed: int | None = 0, *, max_n: int = MAX_EXACT_N) -> np.ndarray:
    """One solution drawn uniformly at random among all solutions of ``instance`` (exact; N ≤ 25).

    Returns an (N,) int8 ±1 vector. Same seed ⇒ same solution.
    """
    return sample_typical_solutions(instance, 1, seed, max_n=max_n)[0]
