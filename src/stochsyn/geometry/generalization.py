"""Generalization error of a student perceptron in the teacher–student scenario.

With i.i.d. uniform inputs, a binary student W and binary teacher T disagree on
a fresh pattern with probability ε = arccos(R)/π, R = W·T/N (Gardner & Derrida
1989; Engel & Van den Broeck, *Statistical Mechanics of Learning*, ch. 2), up to
O(1/√N) corrections for ±1 inputs. Both the Monte-Carlo test error on fresh
patterns and that overlap formula are provided.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..problems import Instance
from .. import validation as V

__all__ = ["GeneralizationResult", "generalization_error", "overlap_generalization_error"]


@dataclass(frozen=True)
class GeneralizationResult:
    """Test error of a student.

    Attributes:
        error: fraction of the ``n_test`` fresh teacher-labelled patterns misclassified.
        sem: binomial standard error of ``error``.
        overlap: R = W·T/N.
        error_overlap: arccos(R)/π, the large-N prediction from the overlap.
        n_test: number of test patterns.
    """

    error: float
    sem: float
    overlap: float
    error_overlap: float
    n_test: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly record."""
        return dict(self.__dict__)


def _teacher_vector(teacher: Instance | np.ndarray) -> np.ndarray:
    if isinstance(teacher, Instance):
        if teacher.teacher is None:
            raise ValueError("teacher: the instance has no teacher (build it with teacher_student)")
        return teacher.teacher
    arr = np.asarray(teacher)
    if arr.ndim != 1:
        raise ValueError(f"teacher must be a teacher-student Instance or a 1-D ±1 vector, got shape {arr.shape}")
    return V.pm1_vector(arr, arr.shape[0], "teacher")


def overlap_generalization_error(teacher: Instance | np.ndarray, weights: np.ndarray) -> float:
    """ε = arccos(R)/π with R = W·T/N: the exact generalization error for Gaussian
    (spherical) inputs and the large-N limit for ±1 inputs."""
    t = _teacher_vector(teacher)
    w = V.pm1_vector(weights, t.shape[0], "weights")
    r = float(np.dot(w.astype(np.int64), t.astype(np.int64))) / t.shape[0]
    return float(np.arccos(np.clip(r, -1.0, 1.0)) / np.pi)


def generalization_error(
    teacher: Instance | np.ndarray,
    weights: np.ndarray,
    n_test: int = 100_000,
    seed: int | None = 0,
) -> GeneralizationResult:
    """Test error of student ``weights`` on fresh patterns labelled by the teacher.

    Test patterns are i.i.d. uniform ±1 vectors labelled σ = sign(T·ξ); patterns with
    T·ξ = 0 (possible for even N) are redrawn, as in :meth:`Instance.test_set`. A
    student tie W·ξ = 0 counts as an error.

    Args:
        teacher: a teacher–student :class:`Instance` or the (N,) ±1 teacher vector.
        weights: (N,) ±1 student weights.
        n_test: number of fresh test patterns (default 100000), drawn in chunks.
        seed: seed of ``numpy.random.default_rng`` (default 0).

    Returns:
        :class:`GeneralizationResult` with the Monte-Carlo error and arccos(R)/π.
    """
    t = _teacher_vector(teacher)
    n = t.shape[0]
    w = V.pm1_vector(weights, n, "weights")
    n_test = V.count("n_test", n_test)
    rng = np.random.default_rng(V.seed(seed))
    tt, ww = t.astype(np.float32), w.astype(np.float32)
    chunk = max(1, min(n_test, 4_000_000 // n))
    wrong = 0
    done = 0
    while done < n_test:
        m = min(chunk, n_test - done)
        x = (rng.integers(0, 2, size=(m, n), dtype=np.int8) * 2 - 1).astype(np.float32)
        ft = x @ tt
        ties = np.flatnonzero(ft == 0)
        while ties.size:
            x[ties] = (rng.integers(0, 2, size=(ties.size, n), dtype=np.int8) * 2 - 1).astype(np.float32)
            ft[ties] = x[ties] @ tt
            ties = ties[ft[ties] == 0]
        # float32 sums of ±1 are exact integers up to 2^24 ≫ N
        wrong += int(np.count_nonzero(np.sign(ft) * (x @ ww) <= 0))
        done += m
    err = wrong / n_test
    r = float(np.dot(w.astype(np.int64), t.astype(np.int64))) / n
    return GeneralizationResult(
        error=err,
        sem=float(np.sqrt(max(err * (1 - err), 1e-300) / n_test)),
        overlap=r,
        error_overlap=float(np.arccos(np.clip(r, -1.0, 1.0)) / np.pi),
        n_test=n_test,
    )
