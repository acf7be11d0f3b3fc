"""Memory guard: estimate a large allocation before making it, and refuse cleanly.

Every place that is about to allocate memory proportional to a user-chosen size
(instances, solver working sets, theory grids, memory-model simulations) calls
:func:`require_memory` with its estimate first. When the estimate exceeds what
the machine can give, it raises :class:`MemoryBudgetError` with one line saying
what needs how much and how much there is, instead of letting numpy end the
process in a ``MemoryError`` traceback (or the kernel kill it) minutes later.

Available memory is the smaller of the kernel's ``MemAvailable`` (``/proc/meminfo``)
and, inside a container, the cgroup limit minus the cgroup's current usage
(cgroup v2 ``memory.max``/``memory.current``, or v1 ``memory.limit_in_bytes``/
``memory.usage_in_bytes``). Where none of these can be read (not Linux), the guard
lets the allocation through.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["MemoryBudgetError", "available_memory", "require_memory", "format_bytes"]


class MemoryBudgetError(MemoryError):
    """An allocation was refused before it was made: it would not fit into the available memory.

    A subclass of :class:`MemoryError`, so code that already handles running out of
    memory handles this too; the command line prints its message as one line.
    """


def format_bytes(nbytes: float) -> str:
    """``nbytes`` in the largest binary unit that keeps the number ≥ 1 (e.g. ``'1.5 GiB'``)."""
    value = float(nbytes)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(value) < 1024 or unit == "TiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def _read_int(path: Path) -> int | None:
    try:
        text = path.read_text().strip()
    except OSError:
        return None
    if not text or text == "max":
        return None
    try:
        return int(text)
    except ValueError:
        return None


def _meminfo_available() -> int | None:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def _cgroup_headroom() -> int | None:
    root = Path("/sys/fs/cgroup")
    for limit_file, usage_file in (("memory.max", "memory.current"),
                                   ("memory/memory.limit_in_bytes", "memory/memory.usage_in_bytes")):
        limit = _read_int(root / limit_file)
        usage = _read_int(root / usage_file)
        # cgroup v1 reports "no limit" as a huge number (about 2**63)
        if limit is not None and usage is not None and limit < (1 << 60):
            return max(limit - usage, 0)
    return None


def available_memory() -> int | None:
    """Bytes that a new allocation can use now, or None when the platform does not say."""
    values = [v for v in (_meminfo_available(), _cgroup_headroom()) if v is not None]
    return min(values) if values else None


def require_memory(nbytes: float, what: str, *, fraction: float = 0.9) -> None:
    """Raise :class:`MemoryBudgetError` unless ``nbytes`` fits into ``fraction`` of the available memory.

    Args:
        nbytes: estimated size of the allocation (or of the whole working set) in bytes.
        what: what needs the memory, for the message (e.g. ``"the int8 pattern matrix (P=..., N=...)"``).
        fraction: share of the available memory the allocation may take (default 0.9, so the
            process keeps some headroom for the interpreter and temporaries).

    Example of the message: ``the packed pattern matrix (P=900001, N=1000001) needs 104.8 GiB;
    21.3 GiB of memory is available``.
    """
    need = float(nbytes)
    have = available_memory()
    if have is None or need <= fraction * have:
        return
    raise MemoryBudgetError(f"{what} needs {format_bytes(need)}; {format_bytes(have)} of memory is available")
