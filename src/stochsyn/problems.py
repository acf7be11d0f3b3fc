"""Perceptron learning problems: the :class:`Instance` type, generators, npz I/O.

An instance is a set of P patterns ξ^μ ∈ R^N with labels σ^μ ∈ {±1}. Binary
weights W ∈ {±1}^N *solve* it when every stability σ^μ Σ_i W_i ξ_i^μ is strictly
positive; a tie (stability 0) counts as an error. With ±1 patterns and odd N no
tie can occur.

Number of patterns. Generators take a load α = P/N and round
P = floor(α·N + 1/2) (round half up), so ``random_patterns(1001, 0.6)`` has
P = 601 patterns. :func:`n_patterns` exposes that rule.
"""

from __future__ import annotations

import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .atomic import atomic_savez

__all__ = [
    "Instance",
    "n_patterns",
    "random_patterns",
    "teacher_student",
    "count_errors",
    "FORMAT_VERSION",
]

FORMAT_VERSION = 1


def n_patterns(n: int, alpha: float) -> int:
    """Number of patterns P = floor(α·N + 1/2) for N = ``n`` synapses at load ``alpha``."""
    _check_n(n)
    _check_alpha(alpha)
    p = int(np.floor(alpha * n + 0.5))
    if p < 1:
        raise ValueError(
            f"alpha={alpha!r} with n={n} gives P = floor(alpha*n + 1/2) = 0 patterns; "
            "expected alpha*n >= 0.5 (an instance needs at least one pattern)"
        )
    return p


def _check_n(n: object) -> None:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise TypeError(f"n must be an integer, got {n!r} of type {type(n).__name__}")
    if n < 1:
        raise ValueError(f"n must be >= 1, got n={n}")


def _check_alpha(alpha: object) -> None:
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float, np.integer, np.floating)):
        raise TypeError(f"alpha must be a real number, got {alpha!r}")
    if not np.isfinite(alpha) or alpha <= 0:
        raise ValueError(f"alpha must be a finite number > 0, got alpha={alpha!r}")


def _as_pm1_int8(x: np.ndarray, name: str) -> np.ndarray:
    """Return ``x`` as int8 if every entry is ±1, else raise naming ``name``."""
    if not np.all((x == 1) | (x == -1)):
        bad = x[(x != 1) & (x != -1)].ravel()[:3]
        raise ValueError(f"{name} must contain only +1 and -1, found values such as {bad.tolist()}")
    return x.astype(np.int8, copy=False)


def count_errors(patterns: np.ndarray, labels: np.ndarray, weights: np.ndarray) -> int:
    """Number of patterns with stability σ^μ Σ_i W_i ξ_i^μ ≤ 0 (ties are errors).

    Computed in exact integer arithmetic for ±1 patterns (int64 accumulation),
    in float64 otherwise. This is the independent re-check applied to every
    solver's output.
    """
    w = np.asarray(weights)
    x = np.asarray(patterns)
    if x.dtype.kind in "iub" and w.dtype.kind in "iub":
        fields = x.astype(np.int64) @ w.astype(np.int64)
    else:
        fields = x.astype(np.float64) @ w.astype(np.float64)
    return int(np.count_nonzero(np.asarray(labels, dtype=np.int64) * fields <= 0))


@dataclass(frozen=True, eq=False)
class Instance:
    """A perceptron classification problem.

    Args:
        patterns: (P, N) array. ±1 patterns are stored as int8; anything else
            as float64 (a binary perceptron then acts on real inputs).
        labels: (P,) array of ±1 (stored as int8).
        teacher: optional (N,) ±1 array (int8) that generated the labels.

    Raises:
        ValueError: labels not ±1, mismatched shapes, NaN/inf, empty instance.

    Examples:
        >>> inst = random_patterns(101, 0.5, seed=0)
        >>> inst.p, inst.n, inst.alpha
        (51, 101, 0.504950495049505)
    """

    patterns: np.ndarray
    labels: np.ndarray
    teacher: np.ndarray | None = None

    def __post_init__(self) -> None:
        x = np.asarray(self.patterns)
        if x.ndim != 2:
            raise ValueError(f"patterns must be a 2-D (P, N) array, got shape {x.shape}")
        if x.size == 0:
            raise ValueError(f"patterns must be non-empty, got shape {x.shape} (an empty instance)")
        if x.dtype.kind not in "iufb":
            raise TypeError(f"patterns must be numeric, got dtype {x.dtype}")
        if x.dtype.kind == "f" and not np.all(np.isfinite(x)):
            raise ValueError("patterns contain NaN or inf")
        if x.dtype.kind in "iub" and np.all((x == 1) | (x == -1)):
            x = x.astype(np.int8, copy=False)
        elif x.dtype.kind == "f" and np.all((x == 1) | (x == -1)):
            x = x.astype(np.int8)
        else:
            x = x.astype(np.float64, copy=False)
        y = np.asarray(self.labels)
        if y.ndim != 1 or y.shape[0] != x.shape[0]:
            raise ValueError(
                f"labels must have shape ({x.shape[0]},) to match patterns {x.shape}, got {y.shape}"
            )
        if y.dtype.kind == "f" and not np.all(np.isfinite(y)):
            raise ValueError("labels contain NaN or inf")
        y = _as_pm1_int8(y, "labels")
        t = self.teacher
        if t is not None:
            t = np.asarray(t)
            if t.shape != (x.shape[1],):
                raise ValueError(f"teacher must have shape ({x.shape[1]},), got {t.shape}")
            t = _as_pm1_int8(t, "teacher")
            t.setflags(write=False)
        x.setflags(write=False)
        y.setflags(write=False)
        object.__setattr__(self, "patterns", x)
        object.__setattr__(self, "labels", y)
        object.__setattr__(self, "teacher", t)

    # -- shape ------------------------------------------------------------
    @property
    def p(self) -> int:
        """Number of patterns P."""
        return int(self.patterns.shape[0])

    @property
    def n(self) -> int:
        """Number of synapses N."""
        return int(self.patterns.shape[1])

    @property
    def alpha(self) -> float:
        """Load α = P/N."""
        return self.p / self.n

    @property
    def binary_patterns(self) -> bool:
        """True when every pattern entry is ±1 (stored as int8)."""
        return self.patterns.dtype == np.int8

    def __repr__(self) -> str:
        kind = "±1" if self.binary_patterns else "real"
        t = ", teacher" if self.teacher is not None else ""
        return f"Instance(N={self.n}, P={self.p}, alpha={self.alpha:.4g}, {kind} patterns{t})"

    # -- evaluation -------------------------------------------------------
    def _check_weights(self, weights: np.ndarray) -> np.ndarray:
        w = np.asarray(weights)
        if w.shape != (self.n,):
            raise ValueError(f"weights must have shape ({self.n},), got {w.shape}")
        return w

    def stabilities(self, weights: np.ndarray) -> np.ndarray:
        """Stabilities σ^μ Σ_i W_i ξ_i^μ (float64, unnormalized) for weights W."""
        w = self._check_weights(weights).astype(np.float64)
        return self.labels * (self.patterns.astype(np.float64) @ w)

    def errors(self, weights: np.ndarray) -> int:
        """Training errors of ``weights`` (ties count as errors); see :func:`count_errors`."""
        return count_errors(self.patterns, self.labels, self._check_weights(weights))

    def is_solution(self, weights: np.ndarray) -> bool:
        """True when ``weights`` classifies every pattern with positive stability."""
        return self.errors(weights) == 0

    # -- teacher-student ----------------------------------------------------
    def test_set(self, n_test: int, seed: int | None = 0) -> "Instance":
        """Fresh ±1 patterns labelled by this instance's teacher (ties redrawn).

        Raises:
            ValueError: if the instance has no teacher, or ``n_test < 1``.
        """
        if self.teacher is None:
            raise ValueError("test_set needs an instance with a teacher (use teacher_student)")
        if n_test < 1:
            raise ValueError(f"n_test must be >= 1, got {n_test}")
        rng = np.random.default_rng(seed)
        x, y = _teacher_labelled_patterns(rng, self.teacher, n_test)
        return Instance(x, y, self.teacher)

    # -- I/O --------------------------------------------------------------
    def save(self, path: str | os.PathLike) -> Path:
        """Write to ``path`` as a ``.npz`` (no pickle), atomically. Returns the path."""
        path = Path(path)
        arrays = {
            "format_version": np.array(FORMAT_VERSION),
            "patterns": self.patterns,
            "labels": self.labels,
        }
        if self.teacher is not None:
            arrays["teacher"] = self.teacher
        atomic_savez(path, **arrays)
        return path

    @classmethod
    def load(cls, path: str | os.PathLike) -> "Instance":
        """Read an instance written by :meth:`save` (validated like any new instance)."""
        path = Path(path)
        if not path.exists():
            raise FileNotFoundError(f"no instance file at {path}")
        try:
            with np.load(path, allow_pickle=False) as f:
                if not isinstance(f, np.lib.npyio.NpzFile):
                    raise ValueError("not an .npz archive")
                arrays = {k: f[k] for k in f.files}
        except (OSError, EOFError, ValueError, zipfile.BadZipFile) as exc:
            raise ValueError(f"cannot read instance file {path}: {exc}") from exc
        if not {"patterns", "labels"} <= set(arrays):
            raise ValueError(
                f"{path} is not a stochsyn instance: expected arrays 'patterns' and "
                f"'labels', found {sorted(arrays)}"
            )
        patterns, labels, teacher = arrays["patterns"], arrays["labels"], arrays.get("teacher")
        return cls(patterns, labels, teacher)


def _random_pm1(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return (rng.integers(0, 2, size=shape, dtype=np.int8) * 2 - 1).astype(np.int8)


def _teacher_labelled_patterns(
    rng: np.random.Generator, teacher: np.ndarray, p: int
) -> tuple[np.ndarray, np.ndarray]:
    """P random ±1 patterns with labels sign(ξ·teacher); patterns with a tie are redrawn
    so that the teacher itself always has strictly positive stabilities."""
    n = teacher.shape[0]
    x = _random_pm1(rng, (p, n))
    t = teacher.astype(np.int64)
    fields = x.astype(np.int64) @ t
    ties = np.flatnonzero(fields == 0)
    while ties.size:
        x[ties] = _random_pm1(rng, (ties.size, n))
        fields[ties] = x[ties].astype(np.int64) @ t
        ties = ties[fields[ties] == 0]
    return x, np.sign(fields).astype(np.int8)


def random_patterns(n: int, alpha: float, seed: int | None = 0) -> Instance:
    """The storage problem: P = floor(αN + 1/2) i.i.d. uniform ±1 patterns and ±1 labels.

    Args:
        n: number of synapses N (use odd N so that ties cannot occur).
        alpha: load α = P/N, > 0.
        seed: seed of ``numpy.random.default_rng``.
    """
    p = n_patterns(n, alpha)
    rng = np.random.default_rng(seed)
    x = _random_pm1(rng, (p, n))
    y = _random_pm1(rng, (p,))
    return Instance(x, y)


def teacher_student(n: int, alpha: float, seed: int | None = 0) -> Instance:
    """Teacher–student problem: a uniform random ±1 teacher labels P = floor(αN + 1/2)
    random ±1 patterns by σ^μ = sign(Σ_i T_i ξ_i^μ). For even N, patterns orthogonal to
    the teacher are redrawn, so the teacher is always a solution. Fresh test patterns
    come from :meth:`Instance.test_set`.
    """
    p = n_patterns(n, alpha)
    rng = np.random.default_rng(seed)
    teacher = _random_pm1(rng, (n,))
    x, y = _teacher_labelled_patterns(rng, teacher, p)
    return Instance(x, y, teacher)
