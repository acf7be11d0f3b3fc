"""The cell claims that let several benchmark processes share one results file (benchmarks/_peer.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from _peer import CellClaim  # noqa: E402


def test_a_cell_is_claimed_once_and_released(tmp_path):
    with CellClaim(tmp_path, "peer_k3_a0.5_s1") as first:
        with CellClaim(tmp_path, "peer_k3_a0.5_s1") as second:
            assert first and not second  # a live owner keeps it
        with CellClaim(tmp_path, "peer_k3_a0.5_s2") as other:
            assert other  # another cell is free
    assert not list(tmp_path.iterdir())  # released on exit
    with CellClaim(tmp_path, "peer_k3_a0.5_s1") as again:
        assert again


def test_the_claim_of_a_dead_process_is_taken_over(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    (tmp_path / "cell.claim").write_text(dead.stdout.strip())  # its owner has exited
    with CellClaim(tmp_path, "cell") as mine:
        assert mine
