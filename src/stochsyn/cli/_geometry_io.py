"""Shared option handling for ``stochsyn geometry`` and ``stochsyn figure``:
where the instance and the weights come from."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np


def parse_floats(text: str | None, name: str) -> list[float] | None:
    """'0.1,0.2' → [0.1, 0.2]; None stays None. ValueError naming ``name`` otherwise."""
    if text is None:
        return None
    try:
        vals = [float(t) for t in text.replace(" ", "").split(",") if t]
    except ValueError as exc:
        raise ValueError(f"{name} must be a comma-separated list of numbers, got {text!r}") from exc
    if not vals:
        raise ValueError(f"{name} must list at least one number, got {text!r}")
    return vals


def parse_names(text: str, name: str) -> list[str]:
    """'a,b' → ['a', 'b']."""
    vals = [t.strip() for t in text.split(",") if t.strip()]
    if not vals:
        raise ValueError(f"{name} must list at least one name, got {text!r}")
    return vals


def load_instance(path: Path | None, n: int | None, alpha: float | None, seed: int, teacher: bool) -> Any:
    """The instance from ``path`` (an ``Instance.save`` file), or a generated one."""
    from ..problems import Instance, random_patterns, teacher_student

    if path is not None:
        return Instance.load(path)
    if n is None or alpha is None:
        raise ValueError("give either --instance PATH or both --n and --alpha")
    return teacher_student(n, alpha, seed) if teacher else random_patterns(n, alpha, seed)


def load_weights(spec: str, instance: Any, seed: int, solver_options: dict[str, Any] | None = None
                 ) -> tuple[np.ndarray, dict[str, Any]]:
    """Weights from SPEC: a ``.npz``/``.npy`` file (array ``weights``), ``teacher``,
    ``typical`` (uniform solution, N ≤ 25), or a solver name (solved with ``seed`` and
    ``solver_options``)."""
    from ..geometry.figures import TYPICAL, solution_for

    if spec.endswith((".npz", ".npy")):
        p = Path(spec)
        if not p.is_file():
            raise FileNotFoundError(f"no weights file at {p}")
        if spec.endswith(".npy"):
            w = np.load(p, allow_pickle=False)
        else:
            with np.load(p, allow_pickle=False) as f:
                if "weights" not in f.files:
                    raise ValueError(f"{p} has no array 'weights' (found {sorted(f.files)})")
                w = f["weights"]
        return np.asarray(w), {"source": str(p)}
    if spec == "teacher":
        if instance.teacher is None:
            raise ValueError("--solver teacher needs a teacher-student instance (--problem teacher, or a saved one)")
        return instance.teacher, {"source": "teacher"}
    w, solved, info = solution_for(instance, spec, seed, solver_options)
    return w, {"source": spec if spec != TYPICAL else "typical (uniform)", "solved": solved, **info}
