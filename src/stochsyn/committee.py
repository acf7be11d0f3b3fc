"""Committee machines with binary synapses: instances, generators and the exact error count.

A committee machine has K (odd) hidden binary perceptrons and a fixed majority output,

    σ(ξ) = sign( Σ_k sign(u_k) ),   u_k = Σ_{i ∈ R_k} W_ki ξ_i,   W_ki = ±1,

with receptive fields R_k = {0, …, N−1} for every unit (fully connected, as in the
public focusing-BP package's ``hidden=K``) or disjoint blocks of N/K inputs (tree:
R_k = {k·N/K, …, (k+1)·N/K − 1}). Weights are always an int8 (K, N) array; in a tree
only the entries of each row's own block are read (the others must still be ±1 and are
ignored). As for the perceptron, a hidden field exactly 0 makes the pattern an error
(it cannot happen when every receptive field has an odd size).

Load per synapse: α = P/(K·N) fully connected, α = P/N in a tree (K·N/K synapses);
:func:`committee_patterns` and every table state which convention they use.

References: Barkai, Hansel & Sompolinsky, PRA 45, 4146 (1992) (committee capacity);
Baldassi, Ingrosso, Lucibello, Saglietti & Zecchina, PNAS 113, E7655 (2016)
(focusing BP on committee machines).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from . import validation as V
from .problems import _as_pm1_int8, _is_pm1, _readonly, atomic_savez
from .resources import require_memory

__all__ = ["CommitteeInstance", "committee_patterns", "committee_teacher_student", "committee_outputs",
           "n_committee_patterns"]


def _check_k(k: object) -> int:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1 or k % 2 == 0:
        raise ValueError(f"k (hidden units) must be an odd positive integer, got {k!r}")
    return int(k)


class CommitteeInstance:
    """A committee-machine classification problem with ±1 patterns.

    Args:
        patterns: (P, N) ±1 array (stored as int8; an int8 input is kept as a read-only view).
        labels: (P,) ±1 labels.
        k: number of hidden units K (odd).
        tree: disjoint receptive fields of N/K inputs (N must be a multiple of K);
            default fully connected.
        teacher: optional (K, N) ±1 weights that generated the labels.

    Raises:
        ValueError: patterns or labels not ±1, shapes that do not match, K even, a tree
            whose N is not a multiple of K.

    Examples:
        >>> inst = committee_patterns(101, 3, 0.2, seed=0)
        >>> inst.p, inst.n, inst.k, inst.alpha
        (61, 101, 3, 0.20132013201320131)
    """

    __slots__ = ("_x", "_y", "_k", "_tree", "_teacher")
    _x: np.ndarray
    _y: np.ndarray
    _k: int
    _tree: bool
    _teacher: np.ndarray | None

    def __init__(self, patterns: np.ndarray, labels: np.ndarray, k: int, tree: bool = False,
                 teacher: np.ndarray | None = None) -> None:
        x = np.asarray(patterns)
        if x.ndim != 2 or x.size == 0:
            raise ValueError(f"patterns must be a non-empty 2-D (P, N) array, got shape {x.shape}")
        if x.dtype.kind not in "iuf" or not _is_pm1(x):
            raise ValueError("committee patterns must contain only -1 and +1")
        k = _check_k(k)
        V.flag("tree", tree)
        p, n = x.shape
        if tree and n % k:
            raise ValueError(f"a tree committee needs N divisible by K; got N={n}, K={k}")
        y = np.asarray(labels)
        if y.ndim != 1 or y.shape[0] != p:
            raise ValueError(f"labels must have shape ({p},) to match patterns ({p}, {n}), got {y.shape}")
        y = _as_pm1_int8(y, "labels")
        t = None
        if teacher is not None:
            t = np.asarray(teacher)
            if t.shape != (k, n):
                raise ValueError(f"teacher must have shape ({k}, {n}), got {t.shape}")
            t = _readonly(_as_pm1_int8(t, "teacher"))
        if x.dtype != np.int8:
            require_memory(x.size, f"the int8 copy of the ±1 patterns (P={p}, N={n})")
        for name, val in (("_x", _readonly(x.astype(np.int8, copy=False))), ("_y", _readonly(y)), ("_k", k),
                          ("_tree", bool(tree)), ("_teacher", t)):
            object.__setattr__(self, name, val)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"CommitteeInstance is immutable; cannot set {name!r}")

    def __reduce__(self):
        return (CommitteeInstance, (np.asarray(self._x), self._y, self._k, self._tree, self._teacher))

    @property
    def patterns(self) -> np.ndarray:
        """(P, N) int8 ±1, read-only."""
        return self._x

    @property
    def labels(self) -> np.ndarray:
        """(P,) int8 ±1, read-only."""
        return self._y

    @property
    def k(self) -> int:
        return int(self._k)

    @property
    def tree(self) -> bool:
        return bool(self._tree)

    @property
    def teacher(self) -> np.ndarray | None:
        return self._teacher

    @property
    def p(self) -> int:
        return int(self._x.shape[0])

    @property
    def n(self) -> int:
        return int(self._x.shape[1])

    @property
    def synapses(self) -> int:
        """K·N fully connected, N in a tree."""
        return self.n if self.tree else self.k * self.n

    @property
    def alpha(self) -> float:
        """Load per synapse P/(K·N) (fully connected) or P/N (tree)."""
        return self.p / self.synapses

    def mask(self) -> np.ndarray:
        """(K, N) bool: True where row k reads input i (all True when fully connected)."""
        m = np.ones((self.k, self.n), dtype=bool)
        if self.tree:
            m[:] = False
            b = self.n // self.k
            for j in range(self.k):
                m[j, j * b:(j + 1) * b] = True
        return m

    def __repr__(self) -> str:
        kind = "tree" if self.tree else "fully connected"
        return f"CommitteeInstance(P={self.p}, N={self.n}, K={self.k}, {kind}, alpha={self.alpha:.4g})"

    def check_weights(self, weights: np.ndarray) -> np.ndarray:
        """``weights`` as int8 (K, N) ±1, or ValueError."""
        w = np.asarray(weights)
        if w.shape != (self.k, self.n):
            raise ValueError(f"weights must have shape ({self.k}, {self.n}), got {w.shape}")
        if not _is_pm1(w):
            raise ValueError("committee weights must be ±1")
        return w.astype(np.int8, copy=False)

    def hidden_fields(self, weights: np.ndarray) -> np.ndarray:
        """(P, K) int64 u_k = Σ_{i∈R_k} W_ki ξ_i, exact integer arithmetic."""
        w = self.check_weights(weights).astype(np.int64) * self.mask()
        out = np.empty((self.p, self.k), dtype=np.int64)
        step = max(1, (1 << 24) // max(1, self.n))
        for r0 in range(0, self.p, step):
            out[r0:r0 + step] = self._x[r0:r0 + step].astype(np.int64) @ w.T
        return out

    def outputs(self, weights: np.ndarray) -> np.ndarray:
        """(P,) int8 committee outputs, 0 where a hidden field is exactly 0 (an error)."""
        return committee_outputs(self.hidden_fields(weights))

    def errors(self, weights: np.ndarray) -> int:
        """Patterns with output ≠ label (a zero hidden field counts as an error)."""
        return int(np.count_nonzero(self.outputs(weights) != self._y))

    def is_solution(self, weights: np.ndarray) -> bool:
        return self.errors(weights) == 0

    def duplicate_pairs(self, weights: np.ndarray, threshold: float = 0.9) -> int:
        """Pairs of hidden units (k < l) with |W_k · W_l| / |R| > ``threshold`` (fully connected only:
        tree units see different inputs and cannot be duplicates)."""
        if self.tree:
            return 0
        w = self.check_weights(weights).astype(np.int64)
        ov = np.abs(w @ w.T) / self.n
        iu = np.triu_indices(self.k, 1)
        return int(np.count_nonzero(ov[iu] > threshold))

    def save(self, path: str | os.PathLike) -> Path:
        """Write to ``path`` (.npz, atomic): patterns, labels, k, tree, teacher if any."""
        arrays: dict[str, np.ndarray] = {"patterns": np.asarray(self._x), "labels": np.asarray(self._y),
                                         "k": np.asarray(self.k, dtype=np.int64), "tree": np.asarray(self.tree)}
        if self._teacher is not None:
            arrays["teacher"] = np.asarray(self._teacher)
        return atomic_savez(path, **arrays)

    @classmethod
    def load(cls, path: str | os.PathLike) -> "CommitteeInstance":
        """Read an instance written by :meth:`save`."""
        with np.load(path, allow_pickle=False) as z:
            if "k" not in z.files:
                raise ValueError(f"{path}: not a committee instance (no 'k' entry)")
            return cls(z["patterns"], z["labels"], int(z["k"]), bool(z["tree"]),
                       z["teacher"] if "teacher" in z.files else None)


def committee_outputs(fields: np.ndarray) -> np.ndarray:
    """sign(Σ_k sign(u_k)) of (P, K) hidden fields; 0 where any field is 0 (counted as an error)."""
    u = np.asarray(fields)
    s = np.sign(u).astype(np.int64)
    out = np.sign(s.sum(1)).astype(np.int8)
    out[np.any(u == 0, axis=1)] = 0
    return out


def n_committee_patterns(n: int, k: int, alpha: float, tree: bool = False) -> int:
    """P = round(α · synapses), synapses = K·N fully connected or N in a tree (at least 1)."""
    V.integer("n", n, lo=1)
    k = _check_k(k)
    alpha = V.real("alpha", alpha, lo=0.0, lo_open=True)
    return max(1, int(round(alpha * (n if tree else k * n))))


def _random_pm1(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return np.where(rng.random(shape) < 0.5, -1, 1).astype(np.int8)


def committee_patterns(n: int, k: int, alpha: float, seed: int | None = 0, tree: bool = False) -> CommitteeInstance:
    """Storage problem: P = α·K·N (tree: α·N) random ±1 patterns with random ±1 labels."""
    p = n_committee_patterns(n, k, alpha, tree)
    require_memory(2 * p * n, f"the committee patterns (P={p}, N={n})")
    rng = np.random.default_rng(seed)
    x = _random_pm1(rng, (p, n))
    return CommitteeInstance(x, _random_pm1(rng, (p,)), k, tree)


def committee_teacher_student(n: int, k: int, alpha: float, seed: int | None = 0, tree: bool = False) -> CommitteeInstance:
    """Teacher–student problem: labels from a random ±1 teacher committee of the same architecture.

    In a tree with an even block size a teacher field can be 0; such patterns are redrawn.
    """
    p = n_committee_patterns(n, k, alpha, tree)
    require_memory(3 * p * n, f"the committee patterns (P={p}, N={n})")
    rng = np.random.default_rng(seed)
    teacher = _random_pm1(rng, (k, n))
    xs, ys, have = [], [], 0
    while have < p:
        x = _random_pm1(rng, (p - have, n))
        inst = CommitteeInstance(x, np.ones(x.shape[0]), k, tree)
        out = committee_outputs(inst.hidden_fields(teacher))
        keep = out != 0
        xs.append(x[keep])
        ys.append(out[keep])
        have += int(keep.sum())
    return CommitteeInstance(np.concatenate(xs), np.concatenate(ys), k, tree, teacher)
