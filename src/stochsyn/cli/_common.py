"""Shared helpers for the command-line modules: console, JSON output, plots."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from rich.console import Console

from ..atomic import atomic_path, atomic_write_text  # noqa: F401  (re-exported for the CLI modules)

# stdout for results, stderr for progress so that --json output stays clean.
console = Console()
err_console = Console(stderr=True)


def print_json(obj: Any) -> None:
    """Write ``obj`` as one JSON document to stdout."""
    sys.stdout.write(json.dumps(obj, indent=None, sort_keys=False, default=_default) + "\n")
    sys.stdout.flush()


def _default(obj: Any) -> Any:
    import numpy as np

    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serializable: {type(obj).__name__}")


def save_figure(fig: Any, path: str | os.PathLike) -> Path:
    """Save a matplotlib figure as PNG atomically and close it."""
    import matplotlib.pyplot as plt

    try:
        with atomic_path(path, suffix=".png") as tmp:
            fig.savefig(tmp, dpi=120, bbox_inches="tight")
    finally:
        plt.close(fig)
    return Path(path)


def use_agg() -> None:
    """Select the non-interactive matplotlib backend (no screen on these machines)."""
    import matplotlib

    matplotlib.use("Agg", force=True)
