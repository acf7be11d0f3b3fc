"""Shared helpers for the command-line modules: console, JSON output, plots."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from rich.console import Console

from ..atomic import atomic_save_figure as save_figure  # noqa: F401  (re-exported for the CLI modules)
from ..atomic import atomic_write_text  # noqa: F401

# stdout for results, stderr for progress so that --json output stays clean. Rich
# wraps or cuts tables at 80 columns when the stream is not a terminal; a pipe or a
# file gets the whole table instead (nothing lost), a terminal its own width.
_WIDE = 10_000
console = Console(width=None if sys.stdout.isatty() else _WIDE)
err_console = Console(stderr=True, width=None if sys.stderr.isatty() else _WIDE)


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


def use_agg() -> None:
    """Select the non-interactive matplotlib backend (no screen on these machines)."""
    import matplotlib

    matplotlib.use("Agg", force=True)
