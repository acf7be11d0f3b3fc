"""Perceptron learning problems: the :class:`Instance` type, generators, npz I/O.

An instance is a set of P patterns ξ^μ ∈ R^N with labels σ^μ ∈ {±1}. Binary
weights W ∈ {±1}^N *solve* it when every stability σ^μ Σ_i W_i ξ_i^μ is strictly
positive; a tie (stability 0) counts as an error. With ±1 patterns and odd N no
tie can occur.

Storage. ±1 patterns live either dense (int8, one byte per entry) or packed (one
bit per entry, the layout of :mod:`stochsyn.packed`, i.e. ``numpy.packbits``);
real-valued patterns are float64. The two ±1 storages describe the same
instance: generators give bit-identical patterns for the same seed whichever
storage is asked for, :meth:`Instance.errors` is exact in both, and the solvers
that read packed bits (``stochastic``, ``sbpi``, ``cp``, ``cpr``, ``annealing``)
accept both. Everything is done in row blocks, so that no temporary is as large
as the dense matrix, and every large allocation is checked first by
:func:`stochsyn.resources.require_memory`.

Number of patterns. Generators take a load α = P/N and round
P = floor(α·N + 1/2) (round half up), so ``random_patterns(1001, 0.6)`` has
P = 601 patterns. :func:`n_patterns` exposes that rule.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import numpy as np

from . import validation as V
from .atomic import atomic_savez
from .packed import check_packbits, pack_signs, packed_width, rows_dot, sign_dot, unpack_rows
from .packed.layout import block_rows, pack_rows
from .resources import require_memory

__all__ = [
    "Instance",
    "as_instance",
    "n_patterns",
    "random_patterns",
    "teacher_student",
    "count_errors",
    "FORMAT_VERSION",
]

#: Version written by :meth:`Instance.save`: 1 = dense arrays, 2 = packed bits.
FORMAT_VERSION = 2


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
    V.count("n", n)


def _check_alpha(alpha: object) -> None:
    V.real("alpha", alpha, lo=0.0, lo_open=True)


def _is_pm1(x: np.ndarray) -> bool:
    """True when every entry of ``x`` is ±1, checked in row blocks (no full-size temporaries)."""
    if x.ndim == 1:
        return bool(np.all((x == 1) | (x == -1)))
    step = block_rows(x.shape[1])
    for r0 in range(0, x.shape[0], step):
        blk = x[r0 : r0 + step]
        if not np.all((blk == 1) | (blk == -1)):
            return False
    return True


def _as_pm1_int8(x: np.ndarray, name: str) -> np.ndarray:
    """``x`` as int8 if every entry is ±1, else raise naming ``name``."""
    if not _is_pm1(x):
        bad = x[(x != 1) & (x != -1)].ravel()[:3]
        raise ValueError(f"{name} must contain only +1 and -1, found values such as {bad.tolist()}")
    return x.astype(np.int8, copy=False)


def _readonly(a: np.ndarray) -> np.ndarray:
    """A read-only view of ``a``; the caller's own array keeps its flags."""
    v = a.view()
    v.setflags(write=False)
    return v


def as_instance(value: object, name: str = "instance") -> "Instance":
    """``value`` if it is an :class:`Instance`, else TypeError naming ``name``."""
    if not isinstance(value, Instance):
        raise TypeError(f"{name} must be a stochsyn.problems.Instance, got {type(value).__name__}")
    return value


def count_errors(patterns: np.ndarray, labels: np.ndarray, weights: np.ndarray) -> int:
    """Number of patterns with stability σ^μ Σ_i W_i ξ_i^μ ≤ 0 (ties are errors).

    Computed in exact integer arithmetic for integer patterns and weights (int64
    accumulation), in float64 otherwise, in row blocks so that the cast never
    copies the whole matrix. This is the independent re-check applied to every
    solver's output (packed instances use :meth:`Instance.errors`).
    """
    w = np.asarray(weights)
    x = np.asarray(patterns)
    y = np.asarray(labels, dtype=np.int64)
    exact = x.dtype.kind in "iub" and w.dtype.kind in "iub"
    dt = np.int64 if exact else np.float64
    wv = w.astype(dt)
    step = block_rows(8 * max(1, x.shape[-1]))
    errors = 0
    for r0 in range(0, x.shape[0], step):
        fields = x[r0 : r0 + step].astype(dt) @ wv
        errors += int(np.count_nonzero(y[r0 : r0 + step] * fields <= 0))
    return errors


class Instance:
    """A perceptron classification problem.

    Args:
        patterns: (P, N) array. ±1 patterns are stored as int8 (a read-only view when
            the input already is int8, so no copy is made: changing that array later
            changes the instance); anything else as float64 (a binary perceptron then
            acts on real inputs).
        labels: (P,) array of ±1 (stored as int8).
        teacher: optional (N,) ±1 array (int8) that generated the labels.

    For ±1 patterns that are already packed, use :meth:`from_packbits`.

    Raises:
        ValueError: labels not ±1, mismatched shapes, NaN/inf, empty instance.
        stochsyn.resources.MemoryBudgetError: a conversion that would not fit in memory.

    Examples:
        >>> inst = random_patterns(101, 0.5, seed=0)
        >>> inst.p, inst.n, inst.alpha
        (51, 101, 0.504950495049505)
    """

    __slots__ = ("_dense", "_bits", "_n", "_labels", "_teacher")
    _dense: np.ndarray | None
    _bits: np.ndarray | None
    _n: int
    _labels: np.ndarray
    _teacher: np.ndarray | None

    def __init__(self, patterns: np.ndarray, labels: np.ndarray, teacher: np.ndarray | None = None) -> None:
        x = np.asarray(patterns)
        if x.ndim != 2:
            raise ValueError(f"patterns must be a 2-D (P, N) array, got shape {x.shape}")
        if x.size == 0:
            raise ValueError(f"patterns must be non-empty, got shape {x.shape} (an empty instance)")
        if x.dtype.kind not in "iufb":
            raise TypeError(f"patterns must be numeric, got dtype {x.dtype}")
        if x.dtype.kind == "f" and not _all_finite(x):
            raise ValueError("patterns contain NaN or inf")
        if x.dtype.kind in "iuf" and _is_pm1(x):
            if x.dtype != np.int8:
                require_memory(x.size, f"the int8 copy of the ±1 patterns (P={x.shape[0]}, N={x.shape[1]})")
            x = x.astype(np.int8, copy=False)
        elif x.dtype != np.float64:
            require_memory(8 * x.size, f"the float64 copy of the patterns (P={x.shape[0]}, N={x.shape[1]})")
            x = x.astype(np.float64)
        self._init(x.shape[0], x.shape[1], labels, teacher)
        object.__setattr__(self, "_dense", _readonly(x))
        object.__setattr__(self, "_bits", None)

    @classmethod
    def from_packbits(cls, bits: np.ndarray, labels: np.ndarray, n: int, teacher: np.ndarray | None = None) -> "Instance":
        """An instance whose ±1 patterns are given packed, one bit per entry.

        Args:
            bits: (P, ⌈n/8⌉) uint8 array, exactly ``numpy.packbits(x > 0, axis=1)`` for a
                ±1 matrix x of shape (P, n): big bit order, bit 1 ↔ +1, padding bits 0.
                The instance keeps a read-only view (no copy when ``bits`` is C-contiguous).
            labels: (P,) ±1 labels.
            n: number of entries per pattern N.
            teacher: optional (n,) ±1 teacher.

        Example:
            >>> x = np.where(np.random.default_rng(0).random((5, 11)) < 0.5, -1, 1)
            >>> inst = Instance.from_packbits(np.packbits(x > 0, axis=1), np.ones(5), 11)
            >>> inst.storage, inst.errors(np.ones(11, dtype=np.int8)) == Instance(x, np.ones(5)).errors(np.ones(11))
            ('bits', True)
        """
        _check_n(n)
        bits = check_packbits(bits, int(n))
        self = cls.__new__(cls)
        self._init(bits.shape[0], int(n), labels, teacher)
        object.__setattr__(self, "_dense", None)
        object.__setattr__(self, "_bits", _readonly(bits))
        return self

    def _init(self, p: int, n: int, labels: np.ndarray, teacher: np.ndarray | None) -> None:
        y = np.asarray(labels)
        if y.ndim != 1 or y.shape[0] != p:
            raise ValueError(f"labels must have shape ({p},) to match patterns ({p}, {n}), got {y.shape}")
        if y.dtype.kind == "f" and not np.all(np.isfinite(y)):
            raise ValueError("labels contain NaN or inf")
        y = _as_pm1_int8(y, "labels")
        t = teacher
        if t is not None:
            t = np.asarray(t)
            if t.shape != (n,):
                raise ValueError(f"teacher must have shape ({n},), got {t.shape}")
            t = _readonly(_as_pm1_int8(t, "teacher"))
        object.__setattr__(self, "_n", int(n))
        object.__setattr__(self, "_labels", _readonly(y))
        object.__setattr__(self, "_teacher", t)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"Instance is immutable; cannot set {name!r}")

    def __reduce__(self):
        # pickling (e.g. to a Dask worker) rebuilds through the validating constructors
        if self._dense is None:
            return (Instance.from_packbits, (np.asarray(self._bits), self._labels, self._n, self._teacher))
        return (Instance, (np.asarray(self._dense), self._labels, self._teacher))

    # -- contents -----------------------------------------------------------
    @property
    def labels(self) -> np.ndarray:
        """(P,) int8 labels σ^μ ∈ {±1} (read-only)."""
        return self._labels

    @property
    def teacher(self) -> np.ndarray | None:
        """(N,) int8 ±1 teacher that generated the labels, or None."""
        return self._teacher

    @property
    def storage(self) -> str:
        """How the patterns are held: ``"int8"`` (dense ±1), ``"bits"`` (packed ±1) or ``"float64"``."""
        if self._dense is None:
            return "bits"
        return "int8" if self._dense.dtype == np.int8 else "float64"

    @property
    def patterns(self) -> np.ndarray:
        """(P, N) dense patterns: int8 for ±1, float64 otherwise (read-only).

        For a packed instance this unpacks a new int8 copy on every access (P·N bytes,
        checked against the available memory first); code that can work on the bits
        should use :attr:`bits` instead.
        """
        if self._dense is not None:
            return self._dense
        require_memory(self.p * self.n, f"the dense int8 copy of the packed patterns (P={self.p}, N={self.n})")
        return _readonly(unpack_rows(self.bits, self.n))

    @property
    def bits(self) -> np.ndarray:
        """(P, ⌈N/8⌉) uint8 packed ±1 patterns (``numpy.packbits`` layout, read-only).

        A dense ±1 instance packs itself once, on first access (P·⌈N/8⌉ more bytes).

        Raises:
            ValueError: for real-valued patterns.
        """
        if self._bits is None:
            if self._dense is None or self._dense.dtype != np.int8:
                raise ValueError("bits: this instance has real-valued patterns; only ±1 patterns can be packed")
            require_memory(self.p * packed_width(self.n), f"the packed copy of the patterns (P={self.p}, N={self.n})")
            object.__setattr__(self, "_bits", _readonly(pack_rows(self._dense)))
        assert self._bits is not None
        return self._bits

    def rows(self, index: slice | np.ndarray, dtype=np.float64) -> np.ndarray:
        """Dense copy of the patterns ``index`` (a slice or an index array) as ``dtype``, from either storage."""
        if self._dense is not None:
            return self._dense[index].astype(dtype)
        return unpack_rows(self.bits, self.n, index, dtype=dtype)

    # -- shape ------------------------------------------------------------
    @property
    def p(self) -> int:
        """Number of patterns P."""
        return int(self._labels.shape[0])

    @property
    def n(self) -> int:
        """Number of synapses N."""
        return self._n

    @property
    def alpha(self) -> float:
        """Load α = P/N."""
        return self.p / self.n

    @property
    def binary_patterns(self) -> bool:
        """True when every pattern entry is ±1 (stored as int8 or as bits)."""
        return self.storage != "float64"

    @property
    def nbytes(self) -> int:
        """Bytes held by the patterns, labels and teacher."""
        arrays = [a for a in (self._dense, self._bits, self._labels, self._teacher) if a is not None]
        return int(sum(a.nbytes for a in arrays))

    def __repr__(self) -> str:
        kind = {"int8": "±1", "bits": "packed ±1", "float64": "real"}[self.storage]
        t = ", teacher" if self.teacher is not None else ""
        return f"Instance(N={self.n}, P={self.p}, alpha={self.alpha:.4g}, {kind} patterns{t})"

    # -- evaluation -------------------------------------------------------
    def _check_weights(self, weights: np.ndarray) -> np.ndarray:
        w = np.asarray(weights)
        if w.shape != (self.n,):
            raise ValueError(f"weights must have shape ({self.n},), got {w.shape}")
        return w

    def _packed_fields(self, w: np.ndarray) -> np.ndarray:
        """Σ_i W_i ξ_i^μ from the bits: exact integers for ±1 weights, float64 otherwise."""
        if w.dtype.kind in "iub" and _is_pm1(w):
            return sign_dot(self.bits, self.n, pack_signs(w)).astype(np.float64)
        return rows_dot(self.bits, self.n, w.astype(np.float64))[0]

    def stabilities(self, weights: np.ndarray) -> np.ndarray:
        """Stabilities σ^μ Σ_i W_i ξ_i^μ (float64, unnormalized) for weights W."""
        w = self._check_weights(weights)
        if self._dense is None:
            return self.labels * self._packed_fields(w)
        wf = w.astype(np.float64)
        out = np.empty(self.p)
        step = block_rows(8 * self.n)
        for r0 in range(0, self.p, step):
            out[r0 : r0 + step] = self._dense[r0 : r0 + step].astype(np.float64) @ wf
        return self.labels * out

    def errors(self, weights: np.ndarray) -> int:
        """Training errors of ``weights`` (ties count as errors), exact for ±1 patterns and integer weights."""
        w = self._check_weights(weights)
        if self._dense is None:
            if w.dtype.kind in "iub" and _is_pm1(w):
                fields = sign_dot(self.bits, self.n, pack_signs(w))
                return int(np.count_nonzero(self.labels.astype(np.int64) * fields <= 0))
            return int(np.count_nonzero(self.stabilities(w) <= 0))
        return count_errors(self._dense, self.labels, w)

    def is_solution(self, weights: np.ndarray) -> bool:
        """True when ``weights`` classifies every pattern with positive stability."""
        return self.errors(weights) == 0

    # -- teacher-student ----------------------------------------------------
    def test_set(self, n_test: int, seed: int | None = 0, packed: bool = False) -> "Instance":
        """Fresh ±1 patterns labelled by this instance's teacher (ties redrawn).

        Args:
            n_test: number of test patterns (>= 1).
            seed: seed of ``numpy.random.default_rng``.
            packed: store the test patterns as bits (same patterns as dense).

        Raises:
            ValueError: if the instance has no teacher, or ``n_test < 1``.
        """
        if self.teacher is None:
            raise ValueError("test_set needs an instance with a teacher (use teacher_student)")
        if isinstance(n_test, bool) or not isinstance(n_test, (int, np.integer)) or n_test < 1:
            raise ValueError(f"n_test must be an integer >= 1, got {n_test!r}")
        rng = np.random.default_rng(seed)
        return _teacher_instance(rng, self.teacher, int(n_test), packed)

    # -- I/O --------------------------------------------------------------
    def save(self, path: str | os.PathLike) -> Path:
        """Write to ``path`` as a ``.npz`` (no pickle), atomically. Returns the path.

        Dense instances write arrays ``patterns`` and ``labels`` (format 1); packed ones
        write ``bits``, ``n`` and ``labels`` (format 2). Both may add ``teacher``.
        """
        path = Path(path)
        arrays: dict[str, np.ndarray] = {"labels": self.labels}
        if self._dense is not None:
            arrays.update(format_version=np.array(1), patterns=self._dense)
        else:
            arrays.update(format_version=np.array(2), bits=self.bits, n=np.array(self.n))
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
        if path.is_dir():
            raise ValueError(f"cannot read instance file {path}: it is a directory")
        if not zipfile.is_zipfile(path):
            raise ValueError(f"cannot read instance file {path}: not an .npz archive (write one with Instance.save "
                             "or `stochsyn instance`)")
        try:
            with np.load(path, allow_pickle=False) as f:
                if not isinstance(f, np.lib.npyio.NpzFile):
                    raise ValueError("not an .npz archive")
                arrays = {k: f[k] for k in f.files}
        except (OSError, EOFError, ValueError, zipfile.BadZipFile) as exc:
            raise ValueError(f"cannot read instance file {path}: {exc}") from exc
        if {"bits", "n", "labels"} <= set(arrays):
            n = arrays["n"]
            if n.shape != () or n.dtype.kind not in "iu":
                raise ValueError(f"{path}: array 'n' must be an integer scalar, got {n!r}")
            return cls.from_packbits(arrays["bits"], arrays["labels"], int(n), arrays.get("teacher"))
        if not {"patterns", "labels"} <= set(arrays):
            raise ValueError(
                f"{path} is not a stochsyn instance: expected arrays 'patterns' and "
                f"'labels' (or 'bits', 'n' and 'labels'), found {sorted(arrays)}"
            )
        return cls(arrays["patterns"], arrays["labels"], arrays.get("teacher"))


def _all_finite(x: np.ndarray) -> bool:
    step = block_rows(x.shape[1])
    return all(np.isfinite(x[r0 : r0 + step]).all() for r0 in range(0, x.shape[0], step))


# -- generation ---------------------------------------------------------------
#
# Patterns are drawn in row blocks with ``rng.integers(0, 2, dtype=int8)``. Numpy fills
# 8-bit draws from 32-bit words, 4 per word, and drops the unused rest of a word at the
# end of each call; with blocks of a multiple of 4 entries nothing is dropped, so the
# stream (hence the instance) is the same as one draw of the whole matrix, whatever the
# block size and whichever storage is filled.


def _pm1_block(rng: np.random.Generator, rows: int, n: int) -> np.ndarray:
    x = rng.integers(0, 2, size=(rows, n), dtype=np.int8)
    x *= 2
    x -= 1
    return x


def _random_pm1(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    x = rng.integers(0, 2, size=shape, dtype=np.int8)
    x *= 2
    x -= 1
    return x


def _gen_block_rows(n: int) -> int:
    # dense block ≈ BLOCK_BYTES, rounded down to a multiple of 4 rows (see above)
    return max(4, block_rows(n) // 4 * 4)


def _storage_bytes(p: int, n: int, packed: bool) -> int:
    return p * (packed_width(n) if packed else n)


def _fill_patterns(rng: np.random.Generator, p: int, n: int, packed: bool, on_block=None) -> np.ndarray:
    """P uniform ±1 rows, dense int8 or packed, drawn block by block; ``on_block(r0, dense_block)``
    sees each dense block (e.g. to compute teacher fields) before it is packed."""
    out = np.empty((p, packed_width(n) if packed else n), dtype=np.uint8 if packed else np.int8)
    step = _gen_block_rows(n)
    for r0 in range(0, p, step):
        blk = _pm1_block(rng, min(step, p - r0), n)
        if on_block is not None:
            on_block(r0, blk)
        out[r0 : r0 + blk.shape[0]] = np.packbits(blk > 0, axis=1) if packed else blk
    return out


def _make(x: np.ndarray, y: np.ndarray, n: int, packed: bool, teacher: np.ndarray | None = None) -> Instance:
    if packed:
        return Instance.from_packbits(x, y, n, teacher)
    return Instance(x, y, teacher)


def random_patterns(n: int, alpha: float, seed: int | None = 0, packed: bool = False) -> Instance:
    """The storage problem: P = floor(αN + 1/2) i.i.d. uniform ±1 patterns and ±1 labels.

    Args:
        n: number of synapses N (use odd N so that ties cannot occur).
        alpha: load α = P/N, > 0.
        seed: seed of ``numpy.random.default_rng``.
        packed: store the patterns as bits (P·⌈N/8⌉ bytes instead of P·N); the
            instance is the same as with ``packed=False``.

    Raises:
        stochsyn.resources.MemoryBudgetError: the patterns would not fit in memory.
    """
    p = n_patterns(n, alpha)
    kind = "packed" if packed else "int8"
    require_memory(_storage_bytes(p, n, packed), f"the {kind} pattern matrix (P={p}, N={n})")
    rng = np.random.default_rng(seed)
    x = _fill_patterns(rng, p, n, packed)
    y = _random_pm1(rng, (p,))
    return _make(x, y, n, packed)


def _teacher_instance(rng: np.random.Generator, teacher: np.ndarray, p: int, packed: bool) -> Instance:
    """P random ±1 patterns with labels sign(ξ·teacher); patterns with a tie are redrawn
    (after the whole matrix, in index order) so the teacher always has positive stabilities."""
    n = teacher.shape[0]
    require_memory(_storage_bytes(p, n, packed), f"the {'packed' if packed else 'int8'} pattern matrix (P={p}, N={n})")
    t = teacher.astype(np.int64)
    fields = np.empty(p, dtype=np.int64)

    def record(r0: int, blk: np.ndarray) -> None:
        fields[r0 : r0 + blk.shape[0]] = blk.astype(np.int64) @ t

    x = _fill_patterns(rng, p, n, packed, on_block=record)
    ties = np.flatnonzero(fields == 0)
    while ties.size:
        redraw = _random_pm1(rng, (ties.size, n))
        x[ties] = np.packbits(redraw > 0, axis=1) if packed else redraw
        fields[ties] = redraw.astype(np.int64) @ t
        ties = ties[fields[ties] == 0]
    return _make(x, np.sign(fields).astype(np.int8), n, packed, teacher)


def teacher_student(n: int, alpha: float, seed: int | None = 0, packed: bool = False) -> Instance:
    """Teacher–student problem: a uniform random ±1 teacher labels P = floor(αN + 1/2)
    random ±1 patterns by σ^μ = sign(Σ_i T_i ξ_i^μ). For even N, patterns orthogonal to
    the teacher are redrawn, so the teacher is always a solution. Fresh test patterns
    come from :meth:`Instance.test_set`. ``packed`` as in :func:`random_patterns`.
    """
    p = n_patterns(n, alpha)
    rng = np.random.default_rng(seed)
    teacher = _random_pm1(rng, (n,))
    return _teacher_instance(rng, teacher, p, packed)
